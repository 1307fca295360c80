/**
 * Scores past float32's range (3.4e38) through the public API on every backend: vectors of 1e20
 * give inner products of 1e40, which float32 kernels score as Infinity (rows then tie at random,
 * drop out of GPU lists, or turn NaN where +Inf meets -Inf; FAISS returns them as they come).
 * A search that could overflow is refused naming the query; one whose scores stay in range,
 * however large (3e38), answers as the float64 oracle does.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/node.js';
import { indexFactory } from '../../src/core/factory.js';
import type { Index, Metric } from '../../src/core/types.js';
import { readIndex } from '../../src/io/read-index.js';
import { bruteForce } from '../helpers/oracle.js';
import { gpuForTests } from '../helpers/gpu.js';

const hasGpu = await gpuForTests('float32 score range on the GPU backend');

interface Case {
  name: string;
  factory: string;
  opts: Record<string, unknown>;
  train?: boolean;
}

const cases: Case[] = [
  { name: 'wasm Flat', factory: 'Flat', opts: { backend: 'wasm', threads: 1 } },
  { name: 'wasm HNSW32', factory: 'HNSW32', opts: { backend: 'wasm', threads: 1 } },
  { name: 'wasm IVF2,Flat', factory: 'IVF2,Flat', opts: { backend: 'wasm', threads: 1 }, train: true },
  { name: 'wasm SQ8', factory: 'SQ8', opts: { backend: 'wasm', threads: 1 }, train: true },
  { name: 'wasm IVF2,SQ8', factory: 'IVF2,SQ8', opts: { backend: 'wasm', threads: 1 }, train: true },
  ...(hasGpu
    ? [
        { name: 'gpu f32', factory: 'Flat', opts: { backend: 'gpu', precision: 'f32' } },
        { name: 'gpu f32, 2 devices, tiles of 3 rows', factory: 'Flat', opts: { backend: 'gpu', precision: 'f32', devicesPerGpu: 2, maxTileBytes: 3 * 16 } },
        { name: 'gpu f16', factory: 'Flat', opts: { backend: 'gpu', precision: 'f16' } },
        { name: 'gpu int8', factory: 'Flat', opts: { backend: 'gpu', precision: 'int8' } },
      ]
    : []),
];

const d = 4;
/** Rows of norm ~1e20 along the axes; with each other or with a query of 1e20 they score ~1e40. */
const huge = new Float32Array([1e20, 0, 0, 0, 2e20, 0, 0, 0, 3e20, 0, 0, 0, 0, 1e20, 0, 0, 0, 0, 1e20, 0, 0, 0, 0, 5e19]);
const small = new Float32Array([1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0.5]);

async function build(c: Case, metric: Metric, rows: Float32Array): Promise<Index> {
  const index = await indexFactory(d, c.factory, metric, c.opts);
  if (c.train) await index.train(rows);
  await index.add(rows);
  return index;
}

describe.each(cases)('$name', (c) => {
  it.each(['ip', 'l2'] as const)('%s: a query whose scores would pass float32 is refused, naming it; in-range queries still answer', async (metric) => {
    const index = await build(c, metric, small);
    try {
      // Row 1 of the queries overflows against rows up to 3: (2e38 x 3) and (2e38 + 3)^2.
      const q = new Float32Array([1, 0, 0, 0, 2e38, 0, 0, 0]);
      const scores = metric === 'ip' ? 'inner products' : 'squared L2 distances';
      await expect(index.search(q, 3)).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(new RegExp(`^query 1 could score ${scores} up to \\d\\.\\d\\de\\+(38|76) .*beyond float32's range .*scale the vectors and queries down`)),
      });
      const r = await index.search(q.subarray(0, d), 1);
      expect(r.labels[0]).toBe(metric === 'ip' ? 2n : 0n);
    } finally {
      await index.dispose();
    }
  });

  it.each(['ip', 'l2'] as const)('%s: vectors of 1e20 are refused where their scores overflow (at add, train or search), never answered with Infinity or NaN', async (metric) => {
    const err = await (async () => {
      const index = await build(c, metric, huge);
      try {
        return await index.search(new Float32Array([1e20, 0, 0, 0]), 4).catch((e: unknown) => e);
      } finally {
        await index.dispose();
      }
    })().catch((e: unknown) => e);
    // f16 refuses the rows themselves, beyond float16's range.
    expect(err).toMatchObject({ name: 'TesseraError', code: 'INVALID_ARGUMENT', message: expect.stringMatching(/could score .* beyond float32's range|beyond float16's range/) });
  });
});

describe('scores near float32 but in range answer exactly', () => {
  const exact = cases.filter((c) => c.factory === 'Flat' && !['int8', 'f16'].includes((c.opts as { precision?: string }).precision ?? ''));
  it.each(exact)('$name: rows of 3e38 and 1e38 against a unit query rank as the float64 oracle, no refusal', async (c) => {
    const base = new Float32Array([3e38, 0, 0, 0, 1e38, 0, 0, 0, -3e38, 0, 0, 0, 0, 3e38, 0, 0]);
    const q = new Float32Array([1, 0, 0, 0]);
    const index = await build(c, 'ip', base);
    try {
      const r = await index.search(q, 4);
      expect(Array.from(r.labels, Number)).toEqual(Array.from(bruteForce(base, q, d, 4, 'ip').labels));
      expect(r.distances.every((v) => Number.isFinite(v))).toBe(true);
    } finally {
      await index.dispose();
    }
  });
});

describe('the bound follows the rows', () => {
  it.each(cases.filter((c) => !c.train))('$name: an add of larger rows makes a query refused that was answered before', async (c) => {
    const index = await build(c, 'ip', small);
    try {
      // 6e4: within float16's range too.
      const q = new Float32Array([1e35, 0, 0, 0]);
      expect((await index.search(q, 1)).labels[0]).toBe(2n);
      await index.add(new Float32Array([6e4, 0, 0, 0]));
      await expect(index.search(q, 1)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/^query 0 could score inner products up to 6\.00e\+39/) });
    } finally {
      await index.dispose();
    }
  });

  it.each(['Flat', 'HNSW32', 'IVF2,Flat'])('wasm %s read from a file knows its rows', async (factory) => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-range-'));
    const index = await indexFactory(d, factory, 'ip', { backend: 'wasm', threads: 1 });
    if (factory.startsWith('IVF')) await index.train(small);
    await index.add(small);
    await index.add(new Float32Array([1e10, 0, 0, 0]));
    await index.save(join(dir, 'x.index'));
    await index.dispose();
    const loaded = await readIndex(join(dir, 'x.index'), { backend: 'wasm', threads: 1 });
    try {
      await expect(loaded.search(new Float32Array([1e30, 0, 0, 0]), 1)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/^query 0 could score inner products up to 1\.00e\+40/) });
    } finally {
      await loaded.dispose();
    }
  });

  it.runIf(hasGpu)('gpu f32 read from a file knows its rows (measured on the device)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-range-'));
    const index = await indexFactory(d, 'Flat', 'l2', { backend: 'wasm', threads: 1 });
    await index.add(small);
    await index.add(new Float32Array([0, 0, -1e20, 0]));
    await index.save(join(dir, 'x.index'));
    await index.dispose();
    const loaded = await readIndex(join(dir, 'x.index'), { backend: 'gpu', precision: 'f32' });
    try {
      await expect(loaded.search(new Float32Array([0, 0, 1e-3, 1e19]), 1)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/^query 0 could score squared L2 distances up to 1\.01e\+40 .*values up to 1\.00e\+20 in a dimension/) });
    } finally {
      await loaded.dispose();
    }
  });
});

describe('training', () => {
  it('SQ8 refuses a range wider than float32 (vmax - vmin overflows: every code decoded to NaN)', async () => {
    const index = await indexFactory(d, 'SQ8', 'ip', { backend: 'wasm', threads: 1 });
    try {
      await expect(index.train(new Float32Array([3e38, 0, 0, 0, -3e38, 0, 0, 0]))).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(/training vectors span \[-3\.0+\d*e\+38, 3\.0+\d*e\+38\] in dimension 0: the SQ8 range vmax - vmin is beyond float32's range .*scale the vectors down/),
      });
      expect(index.isTrained).toBe(false);
    } finally {
      await index.dispose();
    }
  });

  it('IVF checks training rows and rows to add in pieces and names a bad row by its place in the whole input', async () => {
    // The checks go over a few thousand rows at a time (pauses between them, as k-means): a row
    // past the first piece must still be named by its own number, not its place in the piece.
    const wide = 768;
    const rows = new Float32Array(20_000 * wide).fill(0.5);
    const ip = await indexFactory(wide, 'IVF2,Flat', 'ip', { backend: 'wasm', threads: 1 });
    const l2 = await indexFactory(wide, 'IVF2,Flat', 'l2', { backend: 'wasm', threads: 1 });
    try {
      rows[12_345 * wide + 7] = NaN;
      await expect(ip.train(rows)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/^training vectors contain NaN at row 12345, dimension 7: every value must be finite/) });
      rows[12_345 * wide + 7] = 0.5;
      rows[17_000 * wide + 3] = 1e25;
      await expect(ip.train(rows)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/^training vector 17000 could score inner products up to 1\.00e\+50/) });
      expect(ip.isTrained).toBe(false);
      rows[17_000 * wide + 3] = 0.5;
      await l2.train(rows.subarray(0, 4000 * wide));
      rows[15_000 * wide + 9] = Infinity;
      await expect(l2.add(rows)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/^vectors to add contain Infinity at row 15000, dimension 9: every value must be finite/) });
      rows[15_000 * wide + 9] = 1e25;
      await expect(l2.add(rows)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/^vector to add 15000 could score squared L2 distances up to 1\.00e\+50/) });
      expect(l2.ntotal).toBe(0);
    } finally {
      await ip.dispose();
      await l2.dispose();
    }
  });

  it('HNSW refuses to link rows whose distances to each other overflow, and keeps what it had', async () => {
    const index = await indexFactory(d, 'HNSW32', 'l2', { backend: 'wasm', threads: 1 });
    try {
      await index.add(small);
      await expect(index.add(new Float32Array([0, 0, 0, 0, 0, 3e19, 0, 0]))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/^vector to add 0 could score squared L2 distances up to 9\.00e\+38/) });
      expect(index.ntotal).toBe(6);
      expect((await index.search(new Float32Array([2.9, 0, 0, 0]), 1)).labels[0]).toBe(2n);
    } finally {
      await index.dispose();
    }
  });
});

describe('index files holding NaN or Infinity', () => {
  // A file FAISS wrote from non-finite vectors: scored, a NaN breaks the heap's comparisons and
  // reorders the finite rows around it (WASM Flat returned row 10 before row 1 where FAISS has 1 first).
  it.each(['Flat', 'HNSW32'])('wasm %s: FORMAT naming the vector and dimension', async (factory) => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-range-'));
    const rows = new Float32Array(20 * d).map((_, i) => ((i * 37) % 11) / 11);
    const index = await indexFactory(d, factory, 'ip', { backend: 'wasm', threads: 1 });
    await index.add(rows);
    await index.save(join(dir, 'x.index'));
    await index.dispose();
    for (const [bad, shown] of [[NaN, 'NaN'], [-Infinity, '-Infinity']] as const) {
      // The vectors are the file's last 20 x d floats (the flat storage comes last in both layouts).
      const bytes = readFileSync(join(dir, 'x.index'));
      const at = bytes.length - (20 * d - (5 * d + 2)) * 4;
      bytes.writeFloatLE(bad, at);
      writeFileSync(join(dir, 'bad.index'), bytes);
      await expect(readIndex(join(dir, 'bad.index'), { backend: 'wasm', threads: 1 })).rejects.toMatchObject({
        code: 'FORMAT',
        message: expect.stringMatching(new RegExp(`bad\\.index: vector 5 holds ${shown} in dimension 2: every value must be finite`)),
      });
    }
  });
});

describe.runIf(hasGpu)('a GPU f32 index read from a file holding Infinity', () => {
  it('searches are FORMAT naming the dimension (the rows are measured on the device)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-range-'));
    const flat = await indexFactory(d, 'Flat', 'l2', { backend: 'wasm', threads: 1 });
    await flat.add(small);
    await flat.save(join(dir, 'x.index'));
    await flat.dispose();
    const bytes = readFileSync(join(dir, 'x.index'));
    bytes.writeFloatLE(Infinity, bytes.length - (small.length - (4 * d + 3)) * 4);
    writeFileSync(join(dir, 'inf.index'), bytes);
    const index = await readIndex(join(dir, 'inf.index'), { backend: 'gpu', precision: 'f32' });
    try {
      await expect(index.search(new Float32Array(d), 1)).rejects.toMatchObject({ code: 'FORMAT', message: expect.stringMatching(/^the index's vectors hold Infinity in dimension 3 .*rebuild the index from finite vectors/) });
    } finally {
      await index.dispose();
    }
  });
});

describe.runIf(hasGpu)('GPU indexes read from a file holding NaN', () => {
  it.each(['f32', 'int8'] as const)('%s: the NaN row never comes back (as in FAISS); the finite rows rank as the oracle', async (precision) => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-range-'));
    const rows = new Float32Array(20 * d).map((_, i) => ((i * 37) % 11) / 11);
    const flat = await indexFactory(d, 'Flat', 'ip', { backend: 'wasm', threads: 1 });
    await flat.add(rows);
    await flat.save(join(dir, 'x.index'));
    await flat.dispose();
    const bytes = readFileSync(join(dir, 'x.index'));
    bytes.writeFloatLE(NaN, bytes.length - (rows.length - (5 * d + 2)) * 4);
    writeFileSync(join(dir, 'nan.index'), bytes);
    const index = await readIndex(join(dir, 'nan.index'), { backend: 'gpu', precision });
    try {
      const q = rows.slice(0, d);
      const got = await index.search(q, 20);
      const others = rows.slice();
      others.fill(-1e3, 5 * d, 6 * d); // row 5 last in the oracle, then dropped
      const want = Array.from(bruteForce(others, q, d, 19, 'ip').labels);
      expect(Array.from(got.labels, Number)).toEqual([...want, -1]);
    } finally {
      await index.dispose();
    }
  });
});
