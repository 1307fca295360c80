/**
 * Every input check fed through the public API on each backend: wrong dimension, NaN/Infinity,
 * k < 1 or absurd, empty index, wrong array type, bad factory string / metric / backend. Each gives
 * INVALID_ARGUMENT (or UNSUPPORTED) with a message naming the problem and the fix.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/node.js';
import { indexFactory } from '../../src/core/factory.js';
import type { Backend, Index } from '../../src/core/types.js';
import { MAX_K, MAX_RESULTS } from '../../src/core/validate.js';
import { gpuForTests } from '../helpers/gpu.js';

async function expectCode(p: Promise<unknown>, code: string, re: RegExp): Promise<void> {
  await expect(p).rejects.toMatchObject({ name: 'TesseraError', code, message: expect.stringMatching(re) });
}

describe.each(['wasm', 'gpu'] as Backend[])('bad inputs on %s', (backend) => {
  let run = true;
  let index: Index | undefined;
  let empty: Index | undefined;
  beforeAll(async () => {
    if (backend === 'gpu') run = await gpuForTests('bad-input checks on the GPU backend');
    if (!run) return;
    index = await indexFactory(4, 'Flat', 'ip', { backend });
    await index.add(new Float32Array([1, 0, 0, 0, 0, 1, 0, 0]));
    empty = await indexFactory(4, 'Flat', 'l2', { backend });
  });
  afterAll(async () => {
    await index?.dispose();
    await empty?.dispose();
  });

  it('dimension mismatch in search and add', async () => {
    if (!run) return;
    await expectCode(index!.search(new Float32Array(3), 1), 'INVALID_ARGUMENT', /dimension mismatch: queries have length 3.*d=4.*one vector of 3 values\?/);
    await expectCode(index!.add(new Float32Array(6)), 'INVALID_ARGUMENT', /dimension mismatch: vectors to add have length 6/);
  });

  it('NaN and Infinity, with row and dimension', async () => {
    if (!run) return;
    await expectCode(index!.search(new Float32Array([0, 0, 0, 0, 1, NaN, 0, 0]), 1), 'INVALID_ARGUMENT', /queries contain NaN at row 1, dimension 1: every value must be finite/);
    await expectCode(index!.add(new Float32Array([0, 0, Infinity, 0])), 'INVALID_ARGUMENT', /vectors to add contain Infinity at row 0, dimension 2/);
    expect(index!.ntotal).toBe(2);
  });

  it('k < 1, fractional, absurdly large', async () => {
    if (!run) return;
    const q = new Float32Array(4);
    await expectCode(index!.search(q, 0), 'INVALID_ARGUMENT', /k must be an integer >= 1, got 0/);
    await expectCode(index!.search(q, 1.5), 'INVALID_ARGUMENT', /got 1\.5/);
    await expectCode(index!.search(q, MAX_K + 1), 'INVALID_ARGUMENT', /larger than this index supports .*ask for fewer/);
  });

  it('no queries: an empty result, and the index keeps answering', async () => {
    if (!run) return;
    const none = await index!.search(new Float32Array(0), 3);
    expect(none).toMatchObject({ nq: 0, k: 3 });
    expect(none.labels.length).toBe(0);
    const one = await index!.search(new Float32Array([0, 1, 0, 0]), 1);
    expect(Array.from(one.labels)).toEqual([1n]);
  });

  it('vectors and queries in shared memory (SharedArrayBuffer) answer as plain ones', async () => {
    if (!run) return;
    const shared = (v: number[]) => {
      const x = new Float32Array(new SharedArrayBuffer(v.length * 4));
      x.set(v);
      return x;
    };
    const more = await indexFactory(4, 'Flat', 'ip', { backend });
    await more.add(shared([1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 3, 0]));
    const r = await more.search(shared([0, 0, 1, 0, 0, 1, 0, 0]), 1);
    expect(Array.from(r.labels)).toEqual([2n, 1n]);
    expect(Array.from(r.distances)).toEqual([3, 2]);
    await more.dispose();
  });

  it('more results than memory can hold (nq x k) are refused before anything is allocated', async () => {
    if (!run) return;
    const small = await indexFactory(4, 'Flat', 'ip', { backend });
    await small.add(new Float32Array(8).fill(1)); // ntotal 2 <= the GPU's k limit: k up to MAX_K
    const nq = Math.floor(MAX_RESULTS / MAX_K) + 1;
    await expectCode(small.search(new Float32Array(nq * 4), MAX_K), 'INVALID_ARGUMENT', new RegExp(`${nq} queries x k=${MAX_K} is \\d+ results \\(3\\.\\d GiB\\), more than one search returns .*search the queries in batches of at most ${MAX_RESULTS / MAX_K}`));
    await small.dispose();
  });

  it('searching an empty index', async () => {
    if (!run) return;
    await expectCode(empty!.search(new Float32Array(4), 1), 'INVALID_ARGUMENT', /index is empty: add vectors \(index\.add\) before searching/);
  });

  it('wrong array types', async () => {
    if (!run) return;
    await expectCode(index!.search(new Float64Array(4) as unknown as Float32Array, 1), 'INVALID_ARGUMENT', /queries must be a Float32Array .*got Float64Array: convert with Float32Array\.from/);
    await expectCode(index!.add([1, 2, 3, 4] as unknown as Float32Array), 'INVALID_ARGUMENT', /got Array/);
  });

  it('bad factory string, metric, dimension', async () => {
    if (!run) return;
    await expectCode(indexFactory(4, 'Flatt', 'ip', { backend }), 'INVALID_ARGUMENT', /cannot parse index type "Flatt".*supported: Flat/);
    await expectCode(indexFactory(4, 'Flat', 'cosine' as 'ip', { backend }), 'INVALID_ARGUMENT', /metric must be 'ip' or 'l2', got "cosine"/);
    await expectCode(indexFactory(0, 'Flat', 'ip', { backend }), 'INVALID_ARGUMENT', /dimension must be an integer in \[1, 65536\], got 0/);
  });
});

describe('GPU options', () => {
  let run = true;
  beforeAll(async () => {
    run = await gpuForTests('GPU option checks');
  });
  it('an unknown precision or a gpuMemory that is not a positive number of bytes', async () => {
    if (!run) return;
    await expectCode(indexFactory(4, 'Flat', 'ip', { backend: 'gpu', precision: 'f8' as 'f16' }), 'INVALID_ARGUMENT', /precision must be 'auto', 'f32', 'f16' or 'int8', got "f8"/);
    await expectCode(indexFactory(4, 'Flat', 'ip', { backend: 'gpu', gpuMemory: '40GiB' as unknown as number }), 'INVALID_ARGUMENT', /gpuMemory must be a number of bytes > 0 .*got "40GiB"/);
    await expectCode(indexFactory(4, 'Flat', 'ip', { backend: 'gpu', gpuMemory: -5 }), 'INVALID_ARGUMENT', /gpuMemory must be .*got -5/);
  });
  it("k past the GPU's selection limit names the WASM backend, which takes it", async () => {
    if (!run) return;
    const index = (await indexFactory(4, 'Flat', 'ip', { backend: 'gpu' })) as Index & { kLimit: number };
    await index.add(new Float32Array(4 * (index.kLimit + 10)).fill(0.5));
    await expectCode(index.search(new Float32Array(4), index.kLimit + 1), 'INVALID_ARGUMENT', /larger than this index supports \(\d+\): ask for fewer neighbours, or search on backend 'wasm'/);
    await index.dispose();
  });
});

it('an unknown backend name', async () => {
  await expectCode(indexFactory(4, 'Flat', 'ip', { backend: 'cuda' as Backend }), 'INVALID_ARGUMENT', /backend must be 'auto', 'gpu' or 'wasm', got "cuda"/);
});
