/**
 * Writes a BERT-shaped model folder with random weights, for encoder speed benchmarks where Python is
 * not at hand (the device machine exports the same shape from PyTorch instead:
 * scripts/fixtures/make_encoder_fixtures.py --bench-model). Default shape = e5-base-v2 / bert-base:
 * 12 layers, 768 hidden, 12 heads, 3072 intermediate, 30522 vocabulary, 512 positions (~440 MB).
 *
 *   node out/make-bert-onnx.mjs OUT_DIR [--layers 12 --hidden 768 --heads 12 --intermediate 3072]
 *
 * The graph is the standard post-LayerNorm BERT encoder (word + position + token-type embeddings,
 * LayerNorm, then per layer: self-attention with an additive -10000 mask, residual + LayerNorm,
 * GELU (erf) feed-forward, residual + LayerNorm), written with scripts/demo/onnx-proto.ts. The
 * tokenizer is bert-base-uncased's (the fixture folder's tokenizer.json). The folder name decides
 * the e5 conventions: name it e.g. e5-base-shaped.
 */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataType, f32Bytes, writeOnnxModel, type NodeSpec, type TensorSpec } from '../../scripts/demo/onnx-proto.js';

const argv = process.argv.slice(2);
const out = argv[0];
if (!out) {
  console.error('usage: make-bert-onnx OUT_DIR [--layers N] [--hidden N] [--heads N] [--intermediate N]');
  process.exit(2);
}
const opt = (name: string, def: number) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : def;
};
const L = opt('layers', 12);
const H = opt('hidden', 768);
const NH = opt('heads', 12);
const FF = opt('intermediate', 3072);
const V = 30522;
const P = 512;
const DH = H / NH;

// xorshift32: deterministic uniform weights with std 0.02 (BERT's init scale).
let seed = 0x9e3779b9;
function random(n: number): Float32Array {
  const a = new Float32Array(n);
  const scale = 0.02 * Math.sqrt(3);
  for (let i = 0; i < n; i++) {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    a[i] = ((seed >>> 0) / 4294967296 * 2 - 1) * scale;
  }
  return a;
}

const inits: TensorSpec[] = [];
const nodes: NodeSpec[] = [];
const f32 = (name: string, dims: number[], data: Float32Array) => {
  inits.push({ name, dataType: DataType.FLOAT, dims, raw: f32Bytes(data) });
  return name;
};
const i64 = (name: string, dims: number[], values: number[]) => {
  inits.push({ name, dataType: DataType.INT64, dims, raw: new Uint8Array(BigInt64Array.from(values.map(BigInt)).buffer) });
  return name;
};
let n = 0;
const op = (type: string, inputs: string[], attrs?: NodeSpec['attrs']) => {
  const y = `${type.toLowerCase()}_${n++}`;
  nodes.push({ op: type, inputs, outputs: [y], attrs });
  return y;
};
const ones = (k: number) => new Float32Array(k).fill(1);
const zeros = (k: number) => new Float32Array(k);
const layerNorm = (x: string, p: string) => op('LayerNormalization', [x, f32(`${p}.gamma`, [H], ones(H)), f32(`${p}.beta`, [H], zeros(H))], { axis: -1, epsilon: { float: 1e-12 } });
const linear = (x: string, p: string, fin: number, fout: number) => op('Add', [op('MatMul', [x, f32(`${p}.weight`, [fin, fout], random(fin * fout))]), f32(`${p}.bias`, [fout], zeros(fout))]);

// Constants.
f32('c.one', [], Float32Array.of(1));
f32('c.neg', [], Float32Array.of(-10000));
f32('c.scale', [], Float32Array.of(1 / Math.sqrt(DH)));
f32('c.half', [], Float32Array.of(0.5));
f32('c.sqrt2', [], Float32Array.of(Math.SQRT2));
i64('c.i0', [], [0]);
i64('c.i1', [], [1]);
i64('c.heads', [4], [0, 0, NH, DH]);
i64('c.hidden', [3], [0, 0, H]);
i64('c.axes12', [2], [1, 2]);

// Embeddings.
const word = op('Gather', [f32('emb.word', [V, H], random(V * H)), 'input_ids'], { axis: 0 });
const seqLen = op('Gather', [op('Shape', ['input_ids']), 'c.i1'], { axis: 0 });
const positions = op('Range', ['c.i0', seqLen, 'c.i1']);
const pos = op('Gather', [f32('emb.position', [P, H], random(P * H)), positions], { axis: 0 });
const type = op('Gather', [f32('emb.token_type', [2, H], random(2 * H)), 'token_type_ids'], { axis: 0 });
let x = layerNorm(op('Add', [op('Add', [word, pos]), type]), 'emb.ln');

// Additive attention mask: 0 where attended, -10000 at padding; [B, 1, 1, S].
const maskF = op('Cast', ['attention_mask'], { to: DataType.FLOAT });
const bias = op('Unsqueeze', [op('Mul', [op('Sub', ['c.one', maskF]), 'c.neg']), 'c.axes12']);

for (let l = 0; l < L; l++) {
  const p = `layer.${l}`;
  const heads = (t: string, perm: number[]) => op('Transpose', [op('Reshape', [t, 'c.heads'])], { perm });
  const q = heads(linear(x, `${p}.q`, H, H), [0, 2, 1, 3]);
  const k = heads(linear(x, `${p}.k`, H, H), [0, 2, 3, 1]);
  const v = heads(linear(x, `${p}.v`, H, H), [0, 2, 1, 3]);
  const scores = op('Add', [op('Mul', [op('MatMul', [q, k]), 'c.scale']), bias]);
  const ctx = op('MatMul', [op('Softmax', [scores], { axis: -1 }), v]);
  const merged = op('Reshape', [op('Transpose', [ctx], { perm: [0, 2, 1, 3] }), 'c.hidden']);
  const x1 = layerNorm(op('Add', [linear(merged, `${p}.o`, H, H), x]), `${p}.ln1`);
  const h = linear(x1, `${p}.ff1`, H, FF);
  const gelu = op('Mul', [op('Mul', [h, 'c.half']), op('Add', ['c.one', op('Erf', [op('Div', [h, 'c.sqrt2'])])])]);
  x = layerNorm(op('Add', [linear(gelu, `${p}.ff2`, FF, H), x1]), `${p}.ln2`);
}
nodes.push({ op: 'Identity', inputs: [x], outputs: ['last_hidden_state'] });

const ids = (name: string) => ({ name, dataType: DataType.INT64, shape: ['batch', 'sequence'] });
const model = writeOnnxModel({
  name: `bert-random-${L}x${H}`,
  docString: 'random-weight BERT encoder for speed benchmarks (bench/encoder/make-bert-onnx.ts)',
  nodes,
  initializers: inits,
  inputs: [ids('input_ids'), ids('attention_mask'), ids('token_type_ids')],
  outputs: [{ name: 'last_hidden_state', dataType: DataType.FLOAT, shape: ['batch', 'sequence', H] }],
});
mkdirSync(join(out, 'onnx'), { recursive: true });
writeFileSync(join(out, 'onnx', 'model.onnx'), model);
const fixture = join(process.cwd(), 'test', 'fixtures', 'encoder', 'hf-bert-tiny');
copyFileSync(join(process.env.TOKENIZER_DIR ?? fixture, 'tokenizer.json'), join(out, 'tokenizer.json'));
writeFileSync(join(out, 'config.json'), JSON.stringify({ model_type: 'bert', hidden_size: H, num_hidden_layers: L, num_attention_heads: NH, intermediate_size: FF, vocab_size: V, max_position_embeddings: P }, null, 2) + '\n');
console.error(`wrote ${out}: ${L} layers, ${H} hidden, ${(model.length / 1e6).toFixed(0)} MB`);
