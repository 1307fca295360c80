/** A toy BERT-shaped model folder made in memory: last_hidden_state = embedding table rows of input_ids. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataType, f32Bytes, writeOnnxModel } from '../../scripts/demo/onnx-proto.js';
import { bertTokenizerJson } from '../../src/encoder/tokenizer.js';

export const TOY_WORDS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'query', ':', 'passage', 'the', 'cat', 'dog', 'sat', 'on', 'mat', '##s', 'a', 'ran', 'é', 'cafe'];

/** Deterministic table: row i, column k = sin(i * 7 + k * 3) (never all zero). */
export function toyTable(vocab: number, dim: number): Float32Array {
  const t = new Float32Array(vocab * dim);
  for (let i = 0; i < vocab; i++) for (let k = 0; k < dim; k++) t[i * dim + k] = Math.sin(i * 7 + k * 3 + 1);
  return t;
}

/** int32: all id inputs int32; maskInt32: only attention_mask (exports that mix the two). */
export function toyModelBytes(dim: number, vocab = TOY_WORDS.length, opts: { int32?: boolean; maskInt32?: boolean; tokenTypes?: boolean } = {}): Uint8Array {
  const idType = opts.int32 ? DataType.INT32 : DataType.INT64;
  const inputs = [
    { name: 'input_ids', dataType: idType, shape: ['batch', 'sequence'] },
    { name: 'attention_mask', dataType: opts.maskInt32 ? DataType.INT32 : idType, shape: ['batch', 'sequence'] },
  ];
  if (opts.tokenTypes) inputs.push({ name: 'token_type_ids', dataType: idType, shape: ['batch', 'sequence'] });
  return writeOnnxModel({
    name: 'toy',
    nodes: [{ op: 'Gather', inputs: ['table', 'input_ids'], outputs: ['last_hidden_state'], attrs: { axis: 0 } }],
    initializers: [{ name: 'table', dataType: DataType.FLOAT, dims: [vocab, dim], raw: f32Bytes(toyTable(vocab, dim)) }],
    inputs,
    outputs: [{ name: 'last_hidden_state', dataType: DataType.FLOAT, shape: ['batch', 'sequence', dim] }],
  });
}

export function toyVocab(): Record<string, number> {
  return Object.fromEntries(TOY_WORDS.map((w, i) => [w, i]));
}

/** Writes a folder: tokenizer.json (or vocab.txt), config.json, onnx/model.onnx (or model.onnx). */
export function writeToyFolder(dir: string, dim: number, opts: { vocabTxt?: boolean; rootModel?: boolean; pooling?: 'cls' | 'mean'; noModel?: boolean; noTokenizer?: boolean; int32?: boolean } = {}): string {
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  if (!opts.noTokenizer) {
    if (opts.vocabTxt) writeFileSync(join(dir, 'vocab.txt'), TOY_WORDS.join('\n') + '\n');
    else writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(bertTokenizerJson(toyVocab(), true)));
  }
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'bert', hidden_size: dim, max_position_embeddings: 512 }));
  if (opts.pooling) {
    mkdirSync(join(dir, '1_Pooling'), { recursive: true });
    writeFileSync(join(dir, '1_Pooling', 'config.json'), JSON.stringify({ word_embedding_dimension: dim, pooling_mode_cls_token: opts.pooling === 'cls', pooling_mode_mean_tokens: opts.pooling === 'mean' }));
  }
  if (!opts.noModel) writeFileSync(join(dir, opts.rootModel ? 'model.onnx' : 'onnx/model.onnx'), toyModelBytes(dim, TOY_WORDS.length, { int32: opts.int32 ?? false }));
  return dir;
}
