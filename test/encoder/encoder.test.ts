/** Encoder on toy model folders: pooling, normalisation, prefixes, batching, folder errors, dimension check. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/node.js';
import { Encoder, checkEncoderDim } from '../../src/encoder/index.js';
import { isTesseraError } from '../../src/core/errors.js';
import { TOY_WORDS, toyModelBytes, toyTable, toyVocab, writeToyFolder } from './toy-model.js';
import { bertTokenizerJson } from '../../src/encoder/tokenizer.js';
import { DataType, f32Bytes, writeOnnxModel } from '../../scripts/demo/onnx-proto.js';

const root = mkdtempSync(join(tmpdir(), 'tessera-enc-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const DIM = 6;
const table = toyTable(TOY_WORDS.length, DIM);
const id = (w: string) => TOY_WORDS.indexOf(w);

/** float64 reference: mean (or first) of table rows of ids, optionally L2-normalised. */
function reference(ids: number[], mode: 'mean' | 'cls', normalize: boolean): Float64Array {
  const v = new Float64Array(DIM);
  const use = mode === 'cls' ? ids.slice(0, 1) : ids;
  for (const i of use) for (let k = 0; k < DIM; k++) v[k]! += table[i * DIM + k]!;
  for (let k = 0; k < DIM; k++) v[k]! /= use.length;
  if (normalize) {
    const n = Math.hypot(...v);
    for (let k = 0; k < DIM; k++) v[k]! /= n;
  }
  return v;
}

function expectRow(out: Float32Array, row: number, ref: Float64Array, tol = 1e-6): void {
  for (let k = 0; k < DIM; k++) expect(Math.abs(out[row * DIM + k]! - ref[k]!)).toBeLessThan(tol);
}

const ids = (...words: string[]) => ['[CLS]', ...words, '[SEP]'].map(id);

async function poisonedEncode(enc: Encoder, texts: string[], prefix?: 'query' | 'passage' | 'none'): Promise<Float32Array> {
  const out = await enc.encode(texts, prefix ? { prefix } : {});
  expect(out.length).toBe(texts.length * enc.dim);
  expect(out.every(Number.isFinite)).toBe(true);
  return out;
}

describe('Encoder on a toy model folder', () => {
  const dir = writeToyFolder(join(root, 'toy'), DIM);

  it('mean-pools over [CLS] text [SEP] and L2-normalises (matches a float64 reference)', async () => {
    const enc = await Encoder.fromDirectory(dir, { threads: 1 });
    expect(enc.dim).toBe(DIM);
    expect(enc.pooling).toBe('mean');
    const out = await poisonedEncode(enc, ['The cat sat on the mat.', 'dogs', '', 'Café!'], 'none');
    expectRow(out, 0, reference(ids('the', 'cat', 'sat', 'on', 'the', 'mat', '[UNK]'), 'mean', true));
    expectRow(out, 1, reference(ids('dog', '##s'), 'mean', true));
    expectRow(out, 2, reference(ids(), 'mean', true));
    expectRow(out, 3, reference(ids('cafe', '[UNK]'), 'mean', true));
    await enc.dispose();
    await enc.dispose();
    await expect(enc.encode(['x'])).rejects.toThrow(/disposed/);
  });

  it('cls pooling and normalize=false', async () => {
    const enc = await Encoder.fromDirectory(dir, { pooling: 'cls', normalize: false });
    const out = await enc.encode(['a cat'], { prefix: 'none' });
    expectRow(out, 0, reference(ids('a', 'cat'), 'cls', false));
    const mean = await Encoder.fromDirectory(dir, { normalize: false });
    expectRow(await mean.encode(['a cat'], { prefix: 'none' }), 0, reference(ids('a', 'cat'), 'mean', false));
    await enc.dispose();
    await mean.dispose();
  });

  it('reads the pooling mode from 1_Pooling/config.json', async () => {
    const enc = await Encoder.fromDirectory(writeToyFolder(join(root, 'pool-cls'), DIM, { pooling: 'cls' }));
    expect(enc.pooling).toBe('cls');
    await enc.dispose();
  });

  it('adds e5 prefixes ("query: ", "passage: ") when told, and for folders named e5', async () => {
    const enc = await Encoder.fromDirectory(dir, { prefixes: 'e5' });
    const out = await enc.encode(['cat', 'cat', 'cat'].slice(0, 1), { prefix: 'query' });
    expectRow(out, 0, reference(ids('query', ':', 'cat'), 'mean', true));
    const p = await enc.encode(['cat'], { prefix: 'passage' });
    expectRow(p, 0, reference(ids('passage', ':', 'cat'), 'mean', true));
    expectRow(await enc.encode(['cat'], { prefix: 'none' }), 0, reference(ids('cat'), 'mean', true));
    expect(enc.tokenize('cat', 'query')).toEqual(ids('query', ':', 'cat'));
    await enc.dispose();
    const named = await Encoder.fromDirectory(writeToyFolder(join(root, 'e5-small-toy'), DIM));
    expect(named.prefixes).toEqual({ query: 'query: ', passage: 'passage: ' });
    expect(named.maxLength).toBe(256);
    await named.dispose();
    const plain = await Encoder.fromDirectory(dir);
    expect(plain.prefixes).toEqual({ query: '', passage: '' });
    await expect(plain.encode(['x'], { prefix: 'doc' as never })).rejects.toThrow(/prefix must be/);
    await plain.dispose();
  });

  it('cuts long texts to maxLength tokens including [CLS]/[SEP]', async () => {
    const enc = await Encoder.fromDirectory(dir, { maxLength: 4 });
    expect(enc.tokenize('the cat sat on the mat')).toEqual(ids('the', 'cat'));
    expectRow(await enc.encode(['the cat sat on the mat'], { prefix: 'none' }), 0, reference(ids('the', 'cat'), 'mean', true));
    await enc.dispose();
  });

  it('batched encoding equals one-by-one encoding (padding to the longest is masked out)', async () => {
    const texts = ['cat', 'the dog ran on a mat', '', 'dogs sat', 'a a a a a a a a a a a a', 'mat'];
    const enc = await Encoder.fromDirectory(dir, { batchSize: 4 });
    const batched = await enc.encode(texts);
    for (let i = 0; i < texts.length; i++) {
      const one = await enc.encode([texts[i]!]);
      for (let k = 0; k < DIM; k++) expect(Math.abs(batched[i * DIM + k]! - one[k]!)).toBeLessThan(1e-6);
    }
    expect((await enc.encode([])).length).toBe(0);
    await expect(enc.encode([3 as unknown as string])).rejects.toThrow(/texts\[0\] must be a string/);
    await enc.dispose();
  });

  it('dispose while an encode runs: the encode finishes, later ones are refused', async () => {
    const enc = await Encoder.fromDirectory(dir, { batchSize: 1 });
    const texts = ['the cat', 'a dog', 'the mat', 'dogs sat'];
    const want = await enc.encode(texts, { prefix: 'none' });
    const running = enc.encode(texts, { prefix: 'none' });
    const disposed = enc.dispose();
    expect(Array.from(await running)).toEqual(Array.from(want));
    await disposed;
    await expect(enc.encode(['x'])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/was disposed: load it again/) });
  });

  it('reads vocab.txt folders, model.onnx at the root, int32 inputs, and in-memory files', async () => {
    const enc = await Encoder.fromDirectory(writeToyFolder(join(root, 'vocab'), DIM, { vocabTxt: true, rootModel: true, int32: true }));
    expectRow(await enc.encode(['The CAT'], { prefix: 'none' }), 0, reference(ids('the', 'cat'), 'mean', true));
    await enc.dispose();
    const mem = await Encoder.fromDirectory({ 'tokenizer.json': JSON.stringify(bertTokenizerJson(toyVocab(), true)), 'model.onnx': toyModelBytes(DIM) });
    expectRow(await mem.encode(['mat'], { prefix: 'none' }), 0, reference(ids('mat'), 'mean', true));
    expect(mem.name).toBe('(files in memory)');
    await mem.dispose();
    // README: "a map of names to bytes". A Map was read as a record with no keys: NOT_FOUND.
    const map = new Map<string, Uint8Array | string>([['tokenizer.json', JSON.stringify(bertTokenizerJson(toyVocab(), true))], ['model.onnx', toyModelBytes(DIM)]]);
    const fromMap = await Encoder.fromDirectory(map);
    expectRow(await fromMap.encode(['mat'], { prefix: 'none' }), 0, reference(ids('mat'), 'mean', true));
    await fromMap.dispose();
  });
});

describe('Encoder errors', () => {
  const code = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (e) {
      return isTesseraError(e) ? `${e.code}: ${e.message}` : `other: ${String(e)}`;
    }
    return 'no error';
  };

  it('id inputs of mixed types (int64 input_ids, int32 attention_mask) and token_type_ids inputs', async () => {
    // The int32 choice was made for all inputs from input_ids's type: ONNX Runtime refused the int64 attention_mask.
    for (const opts of [{ maskInt32: true }, { maskInt32: true, tokenTypes: true }, { int32: true, tokenTypes: true }]) {
      const enc = await Encoder.fromDirectory({ 'tokenizer.json': JSON.stringify(bertTokenizerJson(toyVocab(), true)), 'model.onnx': toyModelBytes(DIM, TOY_WORDS.length, opts) });
      expectRow(await enc.encode(['the cat', 'a dog ran'], { prefix: 'none' }), 0, reference(ids('the', 'cat'), 'mean', true));
      await enc.dispose();
    }
  });

  it('a float16 graph (fp16 export): its half-precision outputs are read as numbers', async () => {
    // Its Uint16Array of bit patterns was pooled as if it were the values: unit vectors of garbage, silently.
    const halves = new Uint16Array(table.length);
    const f = new Float32Array(1);
    const bits = new Uint32Array(f.buffer);
    table.forEach((x, i) => {
      f[0] = x; // toy values are in (-1, 1) and not tiny: a normal half, mantissa truncated
      const b = bits[0]!;
      halves[i] = ((b >>> 16) & 0x8000) | ((((b >>> 23) & 0xff) - 112) << 10) | ((b >>> 13) & 0x3ff);
    });
    const model = writeOnnxModel({
      name: 'fp16',
      nodes: [{ op: 'Gather', inputs: ['table', 'input_ids'], outputs: ['last_hidden_state'], attrs: { axis: 0 } }],
      initializers: [{ name: 'table', dataType: DataType.FLOAT16, dims: [TOY_WORDS.length, DIM], raw: new Uint8Array(halves.buffer) }],
      inputs: [{ name: 'input_ids', dataType: DataType.INT64, shape: ['batch', 'sequence'] }],
      outputs: [{ name: 'last_hidden_state', dataType: DataType.FLOAT16, shape: ['batch', 'sequence', DIM] }],
    });
    const enc = await Encoder.fromDirectory({ 'tokenizer.json': JSON.stringify(bertTokenizerJson(toyVocab(), true)), 'model.onnx': model });
    expectRow(await enc.encode(['the cat', 'a dog'], { prefix: 'none' }), 0, reference(ids('the', 'cat'), 'mean', true), 2e-3);
    await enc.dispose();
  });

  it('modelFile picks the .onnx file to run (transformers.js model_int8.onnx, sentence-transformers model_qint8_avx512.onnx)', async () => {
    const dir = writeToyFolder(join(root, 'model-file'), DIM, { noModel: true });
    writeFileSync(join(dir, 'onnx', 'model_int8.onnx'), toyModelBytes(DIM));
    const enc = await Encoder.fromDirectory(dir, { modelFile: 'onnx/model_int8.onnx' });
    expectRow(await enc.encode(['the cat'], { prefix: 'none' }), 0, reference(ids('the', 'cat'), 'mean', true));
    await enc.dispose();
    expect(await code(Encoder.fromDirectory(dir, { modelFile: 'onnx/model_q4.onnx' }))).toMatch(/^NOT_FOUND: .*onnx\/model_q4\.onnx/);
    expect(await code(Encoder.fromDirectory(dir, { modelFile: 'onnx/model_int8' }))).toMatch(/^INVALID_ARGUMENT: modelFile must name an \.onnx file/);
  });

  it('NOT_FOUND naming the missing model file', async () => {
    const msg = await code(Encoder.fromDirectory(writeToyFolder(join(root, 'no-model'), DIM, { noModel: true })));
    expect(msg).toMatch(/^NOT_FOUND: .*no-model.*"onnx\/model\.onnx" or "model\.onnx"/);
    const q = await code(Encoder.fromDirectory(writeToyFolder(join(root, 'no-q'), DIM), { quantized: true }));
    expect(q).toMatch(/^NOT_FOUND: .*model_quantized\.onnx/);
  });

  it('NOT_FOUND naming the missing tokenizer files', async () => {
    const msg = await code(Encoder.fromDirectory(writeToyFolder(join(root, 'no-tok'), DIM, { noTokenizer: true })));
    expect(msg).toMatch(/^NOT_FOUND: .*no-tok.*"tokenizer\.json" or "vocab\.txt"/);
    expect(await code(Encoder.fromDirectory(join(root, 'does-not-exist')))).toMatch(/^NOT_FOUND: model folder .*does-not-exist does not exist: point --model/);
  });

  it('NOT_FOUND saying the folder holds no model file at all (an empty folder, a wrong URL)', async () => {
    expect(await code(Encoder.fromDirectory({}))).toMatch(/^NOT_FOUND: model folder \(files in memory\) has none of a model's files .*"tokenizer\.json" or "vocab\.txt".*check the path or URL/);
    const empty = join(root, 'empty');
    mkdirSync(empty);
    expect(await code(Encoder.fromDirectory(empty))).toMatch(/^NOT_FOUND: model folder .*empty has none of a model's files/);
  });

  it('a file: URL in Node reads the folder it names (new URL("./model/", import.meta.url))', async () => {
    const dir = writeToyFolder(join(root, 'by url'), DIM);
    const byPath = await Encoder.fromDirectory(dir);
    const byUrl = await Encoder.fromDirectory(pathToFileURL(dir));
    expect(Array.from(await byUrl.encode(['the cat']))).toEqual(Array.from(await byPath.encode(['the cat'])));
    await byPath.dispose();
    await byUrl.dispose();
    expect(await code(Encoder.fromDirectory(pathToFileURL(join(root, 'no such dir'))))).toMatch(/^NOT_FOUND: model folder file:.*no%20such%20dir\/ does not exist/);
  });

  it('NOT_FOUND naming the URL when its server does not answer', async () => {
    expect(await code(Encoder.fromDirectory(new URL('http://127.0.0.1:9/models/e5/')))).toMatch(
      /^NOT_FOUND: GET http:\/\/127\.0\.0\.1:9\/models\/e5\/config\.json failed \(fetch failed.*\): check the model URL and that its server answers/,
    );
  });

  it('NOT_FOUND when the model folder is a file, or under one', async () => {
    const file = join(root, 'a-file');
    writeFileSync(file, 'x');
    expect(await code(Encoder.fromDirectory(file))).toMatch(/^NOT_FOUND: model folder .*a-file is a file, not a folder/);
    expect(await code(Encoder.fromDirectory(join(file, 'model')))).toMatch(/^NOT_FOUND: model folder .*a-file\/model does not exist \(a part of its path is a file\)/);
  });

  it('INVALID_ARGUMENT at load when the model dimension differs from the index', async () => {
    const dir = writeToyFolder(join(root, 'dim'), DIM);
    const msg = await code(Encoder.fromDirectory(dir, { expectDim: 768 }));
    expect(msg).toMatch(/^INVALID_ARGUMENT: .*6-dimensional.*d=768/);
    const ok = await Encoder.fromDirectory(dir, { expectDim: DIM });
    expect(() => checkEncoderDim(ok, DIM)).not.toThrow();
    expect(() => checkEncoderDim(ok, 5)).toThrow(/d=5/);
    await ok.dispose();
  });

  it("a sentence-transformers export (token_embeddings + sentence_embedding) gives the model's sentence_embedding; pooling told pools the token states", async () => {
    // sentence_embedding = -(mean of token states): a stand-in for ST's Dense/Normalize modules, so it differs from pooling here.
    const stDir = writeToyFolder(join(root, 'st-export'), DIM, { noModel: true, pooling: 'mean' });
    writeFileSync(
      join(stDir, 'onnx', 'model.onnx'),
      writeOnnxModel({
        name: 'st',
        nodes: [
          { op: 'Gather', inputs: ['table', 'input_ids'], outputs: ['token_embeddings'], attrs: { axis: 0 } },
          { op: 'ReduceMean', inputs: ['token_embeddings'], outputs: ['mean'], attrs: { axes: [1], keepdims: 0 } },
          { op: 'Neg', inputs: ['mean'], outputs: ['sentence_embedding'] },
        ],
        initializers: [{ name: 'table', dataType: DataType.FLOAT, dims: [TOY_WORDS.length, DIM], raw: f32Bytes(table) }],
        inputs: [
          { name: 'input_ids', dataType: DataType.INT64, shape: ['batch', 'sequence'] },
          { name: 'attention_mask', dataType: DataType.INT64, shape: ['batch', 'sequence'] },
        ],
        outputs: [
          { name: 'token_embeddings', dataType: DataType.FLOAT, shape: ['batch', 'sequence', DIM] },
          { name: 'sentence_embedding', dataType: DataType.FLOAT, shape: ['batch', DIM] },
        ],
      }),
    );
    const ref = reference(ids('the', 'cat'), 'mean', true);
    const byModel = await Encoder.fromDirectory(stDir);
    expect(byModel.pooledByModel).toBe(true);
    expect(byModel.describe()).toMatch(/pooled by the model \(output sentence_embedding\)/);
    expectRow(await byModel.encode(['the cat']), 0, ref.map((x) => -x));
    await byModel.dispose();
    const told = await Encoder.fromDirectory(stDir, { pooling: 'mean' });
    expect(told.pooledByModel).toBe(false);
    expectRow(await told.encode(['the cat']), 0, ref);
    await told.dispose();
    // A pipeline with a Dense module loads when the graph has its sentence_embedding...
    const st = (type: string) => ({ idx: 0, name: type, path: '', type: `sentence_transformers.models.${type}` });
    writeFileSync(join(stDir, 'modules.json'), JSON.stringify([st('Transformer'), st('Pooling'), st('Dense'), st('Normalize')]));
    const dense = await Encoder.fromDirectory(stDir);
    expect(dense.normalize).toBe(true);
    await dense.dispose();
    // ...and is refused where only token states come out: they were pooled without the Dense layer, silently other vectors.
    const tokensOnly = writeToyFolder(join(root, 'st-dense-tokens'), DIM);
    writeFileSync(join(tokensOnly, 'modules.json'), JSON.stringify([st('Transformer'), st('Pooling'), st('Dense'), st('Normalize')]));
    await expect(Encoder.fromDirectory(tokensOnly)).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(/sentence_transformers\.models\.Dense after pooling .*"sentence_embedding" output/) });
    const toldTokensOnly = await Encoder.fromDirectory(tokensOnly, { pooling: 'mean' });
    expectRow(await toldTokensOnly.encode(['the cat']), 0, ref);
    await toldTokensOnly.dispose();
    // Pooling modes other than mean and cls (max, last token) were taken for mean, silently.
    const lastToken = writeToyFolder(join(root, 'st-lasttoken'), DIM, { pooling: 'mean' });
    writeFileSync(join(lastToken, '1_Pooling', 'config.json'), JSON.stringify({ word_embedding_dimension: DIM, pooling_mode_cls_token: false, pooling_mode_mean_tokens: false, pooling_mode_lasttoken: true }));
    await expect(Encoder.fromDirectory(lastToken)).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(/pools with pooling_mode_lasttoken \(1_Pooling\/config\.json\)/) });
    writeFileSync(join(lastToken, '1_Pooling', 'config.json'), JSON.stringify({ word_embedding_dimension: DIM, pooling_mode_mean_tokens: true, pooling_mode_max_tokens: true }));
    await expect(Encoder.fromDirectory(lastToken)).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(/pools with pooling_mode_mean_tokens \+ pooling_mode_max_tokens/) });
    const lastTokenTold = await Encoder.fromDirectory(lastToken, { pooling: 'cls' });
    expect(lastTokenTold.pooling).toBe('cls');
    await lastTokenTold.dispose();
    // No Normalize module (a dot-product model, e.g. msmarco-distilbert-base-tas-b): not normalised, as sentence-transformers gives them.
    const dot = writeToyFolder(join(root, 'st-dot'), DIM);
    writeFileSync(join(dot, 'modules.json'), JSON.stringify([st('Transformer'), st('Pooling')]));
    const dotEnc = await Encoder.fromDirectory(dot);
    expect(dotEnc.normalize).toBe(false);
    expectRow(await dotEnc.encode(['the cat']), 0, reference(ids('the', 'cat'), 'mean', false));
    await dotEnc.dispose();
    const dotNormalized = await Encoder.fromDirectory(dot, { normalize: true });
    expectRow(await dotNormalized.encode(['the cat']), 0, ref);
    await dotNormalized.dispose();
  });

  it('weights in ONNX external data: model.onnx_data / model.onnx.data beside the graph are read; another name, or a missing file, is named in the error', async () => {
    const raw = f32Bytes(table);
    const graph = (location: string) =>
      writeOnnxModel({
        name: 'external',
        nodes: [{ op: 'Gather', inputs: ['table', 'input_ids'], outputs: ['last_hidden_state'], attrs: { axis: 0 } }],
        initializers: [{ name: 'table', dataType: DataType.FLOAT, dims: [TOY_WORDS.length, DIM], raw, external: { location } }],
        inputs: [{ name: 'input_ids', dataType: DataType.INT64, shape: ['batch', 'sequence'] }],
        outputs: [{ name: 'last_hidden_state', dataType: DataType.FLOAT, shape: ['batch', 'sequence', DIM] }],
      });
    const folder = (name: string, location: string, model: string, dataFile?: string) => {
      const dir = writeToyFolder(join(root, name), DIM, { noModel: true });
      writeFileSync(join(dir, model), graph(location));
      if (dataFile) writeFileSync(join(dir, dataFile), raw);
      return dir;
    };
    for (const dir of [folder('ext-optimum', 'model.onnx_data', 'onnx/model.onnx', 'onnx/model.onnx_data'), folder('ext-torch', 'model.onnx.data', 'model.onnx', 'model.onnx.data')]) {
      const enc = await Encoder.fromDirectory(dir);
      expectRow(await enc.encode(['the cat']), 0, reference(ids('the', 'cat'), 'mean', true));
      await enc.dispose();
    }
    // ONNX Runtime said only "Failed to load external data file ... Module.MountedFiles is not available".
    const other = await code(Encoder.fromDirectory(folder('ext-other', 'weights.bin', 'onnx/model.onnx', 'onnx/weights.bin')));
    expect(other).toMatch(/^FORMAT: .*external data file named "weights\.bin", which is not read: only onnx\/model\.onnx\.data or onnx\/model\.onnx_data .*location="model\.onnx_data"/);
    const missing = await code(Encoder.fromDirectory(folder('ext-missing', 'model.onnx_data', 'onnx/model.onnx')));
    expect(missing).toMatch(/^NOT_FOUND: .*weights in model\.onnx_data, which is not beside it/);
  });

  it('FORMAT for a broken tokenizer.json or ONNX file; INVALID_ARGUMENT for bad options', async () => {
    const tok = await code(Encoder.fromDirectory({ 'tokenizer.json': '{not json', 'model.onnx': toyModelBytes(DIM) }));
    expect(tok).toMatch(/^FORMAT: .*tokenizer\.json is not JSON/);
    const onnx = await code(Encoder.fromDirectory({ 'tokenizer.json': JSON.stringify(bertTokenizerJson(toyVocab(), true)), 'model.onnx': new Uint8Array([1, 2, 3]) }));
    expect(onnx).toMatch(/^FORMAT: .*could not be loaded by ONNX Runtime/);
    const dir = writeToyFolder(join(root, 'opts'), DIM);
    expect(await code(Encoder.fromDirectory(dir, { batchSize: 0 }))).toMatch(/^INVALID_ARGUMENT: batchSize/);
    expect(await code(Encoder.fromDirectory(dir, { maxLength: 1 }))).toMatch(/^INVALID_ARGUMENT: maxLength/);
    // Past the position embeddings the graph failed only at the first text that long, with an ONNX Runtime broadcast error.
    expect(await code(Encoder.fromDirectory(dir, { maxLength: 600 }))).toMatch(/^INVALID_ARGUMENT: maxLength 600 is more than the 512 positions .*use maxLength <= 512/);
    const roberta = writeToyFolder(join(root, 'roberta'), DIM);
    writeFileSync(join(roberta, 'config.json'), JSON.stringify({ model_type: 'xlm-roberta', max_position_embeddings: 514, pad_token_id: 1 }));
    expect(await code(Encoder.fromDirectory(roberta, { maxLength: 513 }))).toMatch(/^INVALID_ARGUMENT: maxLength 513 is more than the 512 positions/);
    const robertaDefault = await Encoder.fromDirectory(roberta);
    expect(robertaDefault.maxLength).toBe(512);
    await robertaDefault.dispose();
    expect(await code(Encoder.fromDirectory(dir, { pooling: 'max' as never }))).toMatch(/^INVALID_ARGUMENT: pooling/);
    expect(await code(Encoder.fromDirectory(dir, { prefixes: 7 as never }))).toMatch(/^INVALID_ARGUMENT: prefixes/);
    expect(await code(Encoder.fromDirectory(dir, { executionProvider: 'cuda' as never }))).toMatch(/^INVALID_ARGUMENT: execution provider/);
  });
});
