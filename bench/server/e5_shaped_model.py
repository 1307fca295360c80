#!/usr/bin/env python3
"""Writes a randomly initialised e5-base-shaped model folder for the Search-R1-scale serve test
(bench/server/scale.ts): BERT with 12 layers, hidden 768, 12 heads, intermediate 3072, exported to
ONNX (input_ids, attention_mask, token_type_ids -> last_hidden_state), with the WordPiece vocabulary
of the bundled demo model (assets/demo/model/tokenizer.json) so tokenization is realistic. Its vectors
mean nothing; only its shape and cost matter. Needs torch + transformers (the device machine has them).

  python3 e5_shaped_model.py DEMO_TOKENIZER_JSON OUT_DIR
"""
import json, os, sys, time

import torch
from transformers import BertConfig, BertModel

tok_path, out = sys.argv[1], sys.argv[2]
t0 = time.time()
os.makedirs(os.path.join(out, "onnx"), exist_ok=True)
tok = json.load(open(tok_path, encoding="utf-8"))
vocab = tok["model"]["vocab"]
config = BertConfig(vocab_size=len(vocab), hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                    intermediate_size=3072, max_position_embeddings=512)
torch.manual_seed(0)
model = BertModel(config, add_pooling_layer=False).eval()


class Wrap(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids, attention_mask, token_type_ids):
        return self.m(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).last_hidden_state


ids = torch.ones(2, 16, dtype=torch.long)
args = (ids, torch.ones_like(ids), torch.zeros_like(ids))
names = dict(input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["last_hidden_state"],
             dynamic_axes={n: {0: "batch", 1: "seq"} for n in ["input_ids", "attention_mask", "token_type_ids", "last_hidden_state"]})
path = os.path.join(out, "onnx", "model.onnx")
try:
    torch.onnx.export(Wrap(model), args, path, opset_version=17, dynamo=False, **names)
except Exception as e:  # exporters differ across torch versions
    print(f"TorchScript export failed ({e}); trying the dynamo exporter", flush=True)
    torch.onnx.export(Wrap(model), args, path, opset_version=18, dynamo=True, external_data=False, **names)
data = path + ".data"
if os.path.exists(data):  # the exporter may put weights beside the graph: the encoder reads one file
    import onnx
    onnx.save(onnx.load(path), path, save_as_external_data=False)
    os.remove(data)
json.dump({"model_type": "bert", "_name_or_path": "e5-base-shaped-random", "hidden_size": 768, "num_hidden_layers": 12,
           "vocab_size": len(vocab), "max_position_embeddings": 512}, open(os.path.join(out, "config.json"), "w"))
json.dump(tok, open(os.path.join(out, "tokenizer.json"), "w"))
os.makedirs(os.path.join(out, "1_Pooling"), exist_ok=True)
json.dump({"word_embedding_dimension": 768, "pooling_mode_mean_tokens": True}, open(os.path.join(out, "1_Pooling", "config.json"), "w"))
print(f"e5-base-shaped model ({len(vocab)} pieces, {os.path.getsize(path) / 1e6:.0f} MB) written to {out} in {time.time() - t0:.1f} s", flush=True)
