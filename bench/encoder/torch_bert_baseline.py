#!/usr/bin/env python3
"""PyTorch reference timing of a bert-base-shaped encoder (e5-base-v2's shape, random weights): the
same-run anchor beside tessera's encoder figures (bench/encoder/bench-encoder.ts).

  python3 bench/encoder/torch_bert_baseline.py --cases cuda:float16:1x32,cuda:float16:64x32,cpu:float32:64x32

Each case is device:dtype:BATCHxTOKENS; prints one JSON line per case with the median ms per batch
(forward + mean pooling + L2 normalisation, synchronised) and texts/s.
"""
import argparse, json, time
import torch
from transformers import BertConfig, BertModel

p = argparse.ArgumentParser()
p.add_argument('--cases', default='cuda:float16:1x32,cuda:float16:64x32,cuda:float16:512x32,cuda:float16:64x256,cuda:float32:64x32')
p.add_argument('--seconds', type=float, default=2.0, help='time budget per case (after warm-up)')
p.add_argument('--threads', type=int, default=0, help='CPU threads for cpu cases (0 = torch default)')
a = p.parse_args()
if a.threads:
    torch.set_num_threads(a.threads)
torch.manual_seed(0)
base = BertModel(BertConfig(), add_pooling_layer=False).eval()
models = {}


def run(model, ids, mask):
    h = model(input_ids=ids, attention_mask=mask).last_hidden_state
    m = mask.unsqueeze(-1).to(h.dtype)
    return torch.nn.functional.normalize((h * m).sum(1) / m.sum(1), dim=-1)


for case in a.cases.split(','):
    dev, dtype, shape = case.split(':')
    batch, tokens = map(int, shape.split('x'))
    key = (dev, dtype)
    if key not in models:
        models[key] = BertModel(BertConfig(), add_pooling_layer=False).eval()
        models[key].load_state_dict(base.state_dict())
        models[key].to(device=dev, dtype=getattr(torch, dtype))
    model = models[key]
    ids = torch.randint(1000, 30000, (batch, tokens), device=dev)
    mask = torch.ones_like(ids)
    sync = torch.cuda.synchronize if dev.startswith('cuda') else (lambda: None)
    times = []
    with torch.inference_mode():
        for _ in range(3):
            run(model, ids, mask)
        sync()
        t_end = time.perf_counter() + a.seconds
        while len(times) < 3 or (time.perf_counter() < t_end and len(times) < 200):
            t0 = time.perf_counter()
            run(model, ids, mask)
            sync()
            times.append((time.perf_counter() - t0) * 1e3)
    times.sort()
    ms = times[len(times) // 2]
    print(json.dumps({'impl': 'pytorch', 'device': torch.cuda.get_device_name() if dev.startswith('cuda') else f'cpu x{torch.get_num_threads()}',
                      'dtype': dtype, 'batch': batch, 'tokens': tokens, 'ms_per_batch': round(ms, 3),
                      'texts_per_s': round(batch / ms * 1e3, 1), 'reps': len(times), 'torch': torch.__version__}), flush=True)
