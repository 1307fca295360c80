/** SQ8 (FAISS QT_8bit, min-max ranges) on the WASM backend: codec formulas, native encode, recall against the oracle. */
import { describe, expect, it } from 'vitest';
import '../../src/wasm/register.js';
import { indexFactory } from '../../src/core/factory.js';
import { Sq8Codec, WasmSqIndex } from '../../src/wasm/sq-index.js';
import { clusteredVectors, normalizeRows, randomVectors } from '../helpers/data.js';
import { bruteForce, recallAtK } from '../helpers/oracle.js';
import { turnsDuring } from '../helpers/timer-gap.js';
import type { SearchResult } from '../../src/core/types.js';

describe('SQ8 codec', () => {
  it('trains min/max per dimension; decode is within half a step; native encode equals the reference', async () => {
    const d = 19;
    const x = randomVectors(500, d, 4);
    const codec = Sq8Codec.train(x, d);
    for (let j = 0; j < d; j++) {
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = 0; i < 500; i++) {
        lo = Math.min(lo, x[i * d + j]!);
        hi = Math.max(hi, x[i * d + j]!);
      }
      expect(codec.vmin[j]).toBe(lo);
      expect(codec.vdiff[j]).toBeCloseTo(hi - lo, 6);
    }
    const ref = new Uint8Array(500 * d);
    for (let i = 0; i < 500; i++) codec.encode(x, i, ref, i * d);
    const index = await WasmSqIndex.create(d, 'l2', { threads: 1 });
    index.setCodec(codec);
    await index.add(x);
    expect(Array.from(index.codes())).toEqual(Array.from(ref));
    const out = new Float32Array(d);
    for (let i = 0; i < 500; i += 37) {
      codec.decode(ref, i * d, out);
      for (let j = 0; j < d; j++) expect(Math.abs(out[j]! - x[i * d + j]!)).toBeLessThanOrEqual(codec.vdiff[j]! / 255 / 2 + 1e-6);
    }
    await index.dispose();
  });
});

describe.each(['ip', 'l2'] as const)('SQ8 %s', (metric) => {
  it.each([1, 2])('recall@10 >= 0.9 against the float64 oracle (%i thread(s)); NOT_TRAINED before train', async (threads) => {
    const d = 48;
    const n = 2000;
    const nq = 30;
    const all = clusteredVectors(n + nq, d, 20, 8);
    const noise = randomVectors(n + nq, d, 9);
    for (let i = 0; i < all.length; i++) all[i]! += 0.5 * noise[i]!;
    normalizeRows(all, d);
    const base = all.subarray(0, n * d);
    const q = all.subarray(n * d);
    const index = await indexFactory(d, 'SQ8', metric, { backend: 'wasm', threads });
    await expect(index.add(base)).rejects.toMatchObject({ code: 'NOT_TRAINED' });
    await index.train(base);
    await index.add(base.subarray(0, 700 * d));
    await index.add(base.subarray(700 * d));
    const got = await index.search(q, 10);
    expect(recallAtK(got, bruteForce(base, q, d, 10, metric))).toBeGreaterThanOrEqual(0.9);
    // k > ntotal pads
    const small = await indexFactory(d, 'SQ8', metric, { backend: 'wasm', threads });
    await small.train(base);
    await small.add(base.subarray(0, 3 * d));
    const r = await small.search(q.subarray(0, d), 5);
    expect(Array.from(r.labels.subarray(3))).toEqual([-1n, -1n]);
    await small.dispose();
    await index.dispose();
  });
});

describe('SQ8 near the memory limit', () => {
  it('fills most of a small memory, then OUT_OF_MEMORY', async () => {
    const d = 16;
    const index = await WasmSqIndex.create(d, 'l2', { threads: 1, memoryLimit: 3 << 19 });
    const x = randomVectors(5000, d, 3);
    await index.train(x);
    for (let i = 0; i < 10; i++) await index.add(x);
    expect(index.ntotal).toBe(50000);
    expect(index.wasmMemoryBytes).toBeLessThanOrEqual(3 << 19);
    const r = await index.search(x.subarray(0, d), 10);
    expect(r.labels.filter((l) => l >= 0n && l % 5000n === 0n).length).toBe(10);
    await expect(index.add(randomVectors(20000, d, 4))).rejects.toMatchObject({ code: 'OUT_OF_MEMORY' });
    await index.dispose();
  });
});

describe('SQ8 train and add on the calling thread (threads: 1)', () => {
  // The checks, the min-max pass and the encoding ran whole: over millions of rows they held the
  // event loop (a progress bar, Ctrl-C's handler) for seconds. Every breathe() here pauses (the clock
  // moves 1 s a read), so each piece boundary lets a macrotask run.
  const d = 32;
  const rows = randomVectors(100_000, d, 9);

  it('pause between pieces, with the ranges and codes of one pass', async () => {
    const index = await WasmSqIndex.create(d, 'l2', { threads: 1 });
    try {
      // 3.2M values: 4 pieces of checks and of min-max, 4 batches to encode
      expect(await turnsDuring(() => index.train(rows))).toBeGreaterThanOrEqual(4);
      const codec = Sq8Codec.train(rows, d);
      expect(Array.from(index.codec!.trained)).toEqual(Array.from(codec.trained));
      expect(await turnsDuring(() => index.add(rows))).toBeGreaterThanOrEqual(4);
      const want = new Uint8Array(100_000 * d);
      for (let i = 0; i < 100_000; i++) codec.encode(rows, i, want, i * d);
      expect(Buffer.from(index.codes()).equals(Buffer.from(want))).toBe(true);
    } finally {
      await index.dispose();
    }
  });

  it('a bad value is named by its row in the whole input', async () => {
    const index = await WasmSqIndex.create(d, 'l2', { threads: 1 });
    try {
      const bad = rows.slice();
      bad[70_000 * d + 3] = NaN;
      await expect(index.train(bad)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/70000/) });
      await index.train(rows);
      await expect(index.add(bad)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/70000/) });
      expect(index.ntotal).toBe(0);
    } finally {
      await index.dispose();
    }
  });

  it('a row the caller changes during the add is checked as it is copied in: a NaN put in after the first batch is refused, not encoded', async () => {
    // Before, the rows were checked, then copied batch by batch, pauses apart: a row changed between
    // them was encoded unchecked (a NaN codes as the range's minimum, silently).
    const x = rows.slice();
    const index = await WasmSqIndex.create(d, 'l2', {
      threads: 1,
      // after the first of 4 batches: the last row is not copied yet
      onProgress: (p) => {
        if (p.phase === 'encoding' && p.done < 100_000) x[99_999 * d + 4] = Number.NaN;
      },
    });
    try {
      await index.train(rows);
      await expect(index.add(x)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/row 99999, dimension 4/) });
      expect(index.ntotal).toBe(0);
    } finally {
      await index.dispose();
    }
  });

  it('adds started together, and a search during them, run in turn', async () => {
    // An add pauses between batches while writing codes from ntotal: a second add wrote over them.
    const index = await WasmSqIndex.create(d, 'l2', { threads: 1 });
    try {
      await index.train(rows);
      const half = 50_000 * d;
      let got: SearchResult | undefined;
      await turnsDuring(async () => {
        [, , got] = await Promise.all([index.add(rows.subarray(0, half)), index.add(rows.subarray(half)), index.search(rows.subarray(60_000 * d, 60_010 * d), 1)]);
      });
      expect(index.ntotal).toBe(100_000);
      const want = new Uint8Array(100_000 * d);
      for (let i = 0; i < 100_000; i++) index.codec!.encode(rows, i, want, i * d);
      expect(Buffer.from(index.codes()).equals(Buffer.from(want))).toBe(true);
      expect(Array.from(got!.labels, Number)).toEqual(Array.from({ length: 10 }, (_, i) => 60_000 + i));
    } finally {
      await index.dispose();
    }
  });
});
