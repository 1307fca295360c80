/** IVF-Flat / IVF-SQ8 on the WASM backend against the float64 oracle (recall floors at documented nprobe). */
import { describe, expect, it } from 'vitest';
import '../../src/wasm/register.js';
import { indexFactory } from '../../src/core/factory.js';
import { WasmIvfIndex } from '../../src/wasm/ivf-index.js';
import { shardedIndex } from '../../src/wasm/shards.js';
import { memorySink } from '../../src/io/byte-reader.js';
import { clusteredVectors, normalizeRows, randomVectors } from '../helpers/data.js';

function noisy(x: Float32Array, scale: number, seed: number): Float32Array {
  const r = randomVectors(x.length, 1, seed);
  for (let i = 0; i < x.length; i++) x[i]! += scale * r[i]!;
  return x;
}
import { bruteForce, distanceTolerance, expectMatchesOracle, recallAtK } from '../helpers/oracle.js';
import { pauseEveryBreathe } from '../helpers/timer-gap.js';

const d = 32;
const n = 3000;
const nq = 40;
const k = 10;
// clusters with noise comparable to their spread: tight clusters make IP ranks fragile under SQ8
const all = normalizeRows(noisy(clusteredVectors(n + nq, d, 30, 11), 0.5, 12), d);
const base = all.subarray(0, n * d);
const queries = all.subarray(n * d);

describe.each(['ip', 'l2'] as const)('IVF %s', (metric) => {
  const truth = bruteForce(base, queries, d, k, metric);

  it.each([1, 2])('IVF16,Flat with nprobe = nlist is exact (%i thread(s))', async (threads) => {
    const index = await indexFactory(d, 'IVF16,Flat', metric, { backend: 'wasm', threads });
    expect(index.isTrained).toBe(false);
    await expect(index.add(base)).rejects.toMatchObject({ code: 'NOT_TRAINED' });
    await index.train(base);
    await index.add(base.subarray(0, 1000 * d));
    await index.add(base.subarray(1000 * d));
    expect(index.ntotal).toBe(n);
    const got = await index.search(queries, k, { nprobe: 16 });
    expectMatchesOracle(got, truth, distanceTolerance(d, metric === 'l2' ? 4 * d : d), base, queries, d, metric);
    await index.dispose();
  });

  it('IVF32,Flat and IVF32,SQ8: recall grows with nprobe and meets floors', async () => {
    for (const [factory, floor] of [
      ['IVF32,Flat', 0.99],
      ['IVF32,SQ8', 0.9],
    ] as const) {
      const index = await indexFactory(d, factory, metric, { backend: 'wasm', seed: 3 });
      await index.train(base);
      await index.add(base);
      const r1 = recallAtK(await index.search(queries, k, { nprobe: 1 }), truth);
      const r8 = recallAtK(await index.search(queries, k, { nprobe: 8 }), truth);
      const r32 = recallAtK(await index.search(queries, k, { nprobe: 32 }), truth);
      expect(r8).toBeGreaterThanOrEqual(r1);
      expect(r32, `${factory} nprobe 32`).toBeGreaterThanOrEqual(floor);
      await index.dispose();
    }
  });

  it('is deterministic for a seed and pads with -1 when k > ntotal reachable', async () => {
    const a = (await indexFactory(d, 'IVF8,SQ8', metric, { backend: 'wasm', seed: 5, threads: 1 })) as WasmIvfIndex;
    const b = (await indexFactory(d, 'IVF8,SQ8', metric, { backend: 'wasm', seed: 5, threads: 2 })) as WasmIvfIndex;
    for (const x of [a, b]) {
      await x.train(base);
      await x.add(base);
    }
    expect(Array.from(a.centroids!)).toEqual(Array.from(b.centroids!));
    const ra = await a.search(queries, k, { nprobe: 2 });
    const rb = await b.search(queries, k, { nprobe: 2 });
    expect(Array.from(ra.labels)).toEqual(Array.from(rb.labels));
    // one list, huge k: the rest is padding
    const r = await a.search(queries.subarray(0, d), 2000, { nprobe: 1 });
    const sizes = a.listSizes();
    const labels = Array.from(r.labels);
    const found = labels.filter((l) => l >= 0n).length;
    expect(found).toBeLessThanOrEqual(Math.max(...sizes));
    expect(labels.slice(found).every((l) => l === -1n)).toBe(true);
    expect(r.distances[found]).toBe(metric === 'ip' ? -Infinity : Infinity);
    await a.dispose();
    await b.dispose();
  });

  it.each(['IVF1,SQ8', 'IVF1,Flat', 'IVF4,SQ8'])('%s: one list (or all probed) scores as the oracle within SQ8 error (IP by residual adds q . c)', async (factory) => {
    const index = await indexFactory(d, factory, metric, { backend: 'wasm', threads: 1 });
    await index.train(base);
    await index.add(base);
    const got = await index.search(queries, k, { nprobe: 4 });
    // SQ8 steps of the residuals: about 1/255 of each dimension's range.
    const tol = factory.endsWith('SQ8') ? 0.05 : distanceTolerance(d, metric === 'l2' ? 4 * d : d);
    for (let i = 0; i < nq * k; i++) {
      const l = Number(got.labels[i]!);
      let want = 0;
      for (let j = 0; j < d; j++) {
        const a = queries[Math.floor(i / k) * d + j]!;
        const b = base[l * d + j]!;
        want += metric === 'ip' ? a * b : (a - b) * (a - b);
      }
      expect(Math.abs(got.distances[i]! - want), `query ${Math.floor(i / k)} rank ${i % k}: ${got.distances[i]} vs ${want}`).toBeLessThan(tol);
    }
    expect(recallAtK(got, truth)).toBeGreaterThanOrEqual(factory === 'IVF4,SQ8' ? 0.5 : 0.9);
    await index.dispose();
  });
});

describe('IVF errors', () => {
  it('bad nprobe, too few training points, disposed', async () => {
    const index = await indexFactory(d, 'IVF64,Flat', 'ip', { backend: 'wasm' });
    await expect(index.train(base.subarray(0, 10 * d))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('nlist') });
    await index.train(base);
    await index.add(base);
    await expect(index.search(queries, k, { nprobe: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(index.search(queries, k, { nprobe: '8' as unknown as number })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: 'nprobe must be an integer >= 1, got the string "8"',
    });
    await index.dispose();
    await expect(index.search(queries, k)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('disposed') });
  });

  it.each(['IVF16,Flat', 'IVF16,SQ8', 'SQ8', 'sharded IVF16,SQ8', 'sharded SQ8'])(
    '%s: train after add is refused (the stored codes would stay under the old training: wrong neighbours, silently)',
    async (name) => {
      const factory = name.replace('sharded ', '');
      const index = name.startsWith('sharded')
        ? shardedIndex(d, factory, 'l2', { backend: 'wasm', threads: 1, shardBytes: 64 << 10 })
        : await indexFactory(d, factory, 'l2', { backend: 'wasm', threads: 1 });
      await index.train(base);
      await index.train(base.subarray(0, 1000 * d)); // again before add: fine
      await index.add(base);
      const before = await index.search(queries, k, { nprobe: 16 });
      await expect(index.train(queries.map((v) => -3 * v))).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringMatching(/already holds 3000 vectors .*train before add, or build a new index/),
      });
      expect(Array.from((await index.search(queries, k, { nprobe: 16 })).labels)).toEqual(Array.from(before.labels));
      await index.dispose();
    },
  );

  it.each([
    [{ nprobe: 0 }, /nprobe must be an integer >= 1, got 0/],
    [{ seed: -5 }, /seed must be an integer in \[0, 2\^32\), got -5/],
    [{ seed: 'abc' }, /seed must be .*got the string "abc"/],
    [{ niter: 0 }, /niter \(k-means iterations\) must be an integer in \[1, 10000\], got 0/],
  ] as [Record<string, unknown>, RegExp][])('options %o are refused when the index is created, not at its first train or search', async (opts, message) => {
    await expect(indexFactory(d, 'IVF16,SQ8', 'ip', { backend: 'wasm', ...opts })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(message) });
  });

  it('a memory limit too small raises OUT_OF_MEMORY naming the fix', async () => {
    const index = await WasmIvfIndex.create(d, 8, 'flat', 'l2', { memoryLimit: 640 << 10 });
    await index.train(base);
    // the fix named is the public API, not a source file
    const twice = new Float32Array(2 * base.length);
    twice.set(base);
    twice.set(base, base.length);
    await expect(index.add(twice)).rejects.toMatchObject({ code: 'OUT_OF_MEMORY', message: expect.stringContaining("shardedIndex(d, factory, metric) from 'tessera'") });
    await index.dispose();
  });
});

describe('IVF training corner cases, as FAISS', () => {
  it('exactly nlist training vectors are the centroids, in order and not normalised (IP assigns by q . c)', async () => {
    const index = await indexFactory(4, 'IVF2,Flat', 'ip', { backend: 'wasm', threads: 1 });
    await index.train(new Float32Array([3, 0, 0, 0, 0, 1, 0, 0]));
    await index.add(new Float32Array([3, 0, 0, 0, 0, 1, 0, 0, 1, 1.5, 0, 0]));
    // [1, 1.5] scores 3 against centroid [3, 0] and 1.5 against [0, 1]: list 0, with row 0 (FAISS 1.7.3: [0, 2, -1]).
    const r = await index.search(new Float32Array([1, 0, 0, 0]), 3, { nprobe: 1 });
    expect(Array.from(r.labels)).toEqual([0n, 2n, -1n]);
    expect(Array.from(r.distances.subarray(0, 2))).toEqual([3, 1]);
    await index.dispose();
  });

  it('IVF1,SQ8 ip on rows of 1e-25 (squared norms underflow float32): the centroid stays as FAISS leaves it, scores as the oracle', async () => {
    const n = 10;
    const x = new Float32Array(n * 4).map((_, i) => Math.fround(((i + 1) % 7 + 1) * 1e-25));
    const index = await indexFactory(4, 'IVF1,SQ8', 'ip', { backend: 'wasm', threads: 1 });
    await index.train(x);
    await index.add(x);
    const q = new Float32Array([1, 2, 3, 4]);
    const r = await index.search(q, n);
    for (let j = 0; j < n; j++) {
      const l = Number(r.labels[j]!);
      const want = q.reduce((s, v, t) => s + v * x[l * 4 + t]!, 0);
      // SQ8 of residuals a few 1e-25 wide: within 1% of the scores (a unit centroid left none of them).
      expect(Math.abs(r.distances[j]! - want), `rank ${j}: ${r.distances[j]} vs ${want}`).toBeLessThan(1e-26);
    }
    await index.dispose();
  });
});

describe('IVF adds started together', () => {
  it('run one after the other, as awaited adds do', async () => {
    // An add pauses while it writes the rows into the lists it reserved (every ~50 ms of work): a
    // second add then reserved counting the first's rows as stored, and both numbered their rows
    // from the same ntotal.
    const d = 32;
    const rows = randomVectors(160_000, d, 3);
    const half = 80_000 * d;
    const together = await WasmIvfIndex.create(d, 16, 'flat', 'l2', { threads: 1, niter: 2 });
    const inTurn = await WasmIvfIndex.create(d, 16, 'flat', 'l2', { threads: 1, niter: 2 });
    try {
      await together.train(rows.subarray(0, 20_000 * d));
      await inTurn.train(rows.subarray(0, 20_000 * d));
      await Promise.all([together.add(rows.subarray(0, half)), together.add(rows.subarray(half))]);
      await inTurn.add(rows.subarray(0, half));
      await inTurn.add(rows.subarray(half));
      expect(together.ntotal).toBe(160_000);
      expect(Array.from(together.listSizes())).toEqual(Array.from(inTurn.listSizes()));
      const queries = rows.subarray(79_990 * d, 80_010 * d);
      const a = await together.search(queries, 3, { nprobe: 16 });
      const b = await inTurn.search(queries, 3, { nprobe: 16 });
      expect(Array.from(a.labels, Number)).toEqual(Array.from(b.labels, Number));
      expect(Array.from(a.labels.filter((_, i) => i % 3 === 0), Number)).toEqual(Array.from({ length: 20 }, (_, i) => 79_990 + i));
    } finally {
      await together.dispose();
      await inTurn.dispose();
    }
  });
});

describe('IVF-SQ8 train with a range statistic tessera does not train', () => {
  it('is refused before k-means runs, not after it (a loaded untrained file with RS_meanstd)', async () => {
    const phases: string[] = [];
    const index = await WasmIvfIndex.create(d, 16, 'sq8', 'l2', { threads: 1, niter: 2, onProgress: (e) => phases.push(e.phase) });
    try {
      index.rangeStat = { rangestat: 1, rangestatArg: 2.5 };
      await expect(index.train(base)).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(/RS_meanstd/) });
      expect(phases).not.toContain('k-means');
      expect(index.isTrained).toBe(false);
    } finally {
      await index.dispose();
    }
  });
});

describe('IVF search, save and dispose during a paused add', () => {
  // An add pauses (breather) while it writes rows into the lists it reserved. WasmIvfIndex is reached
  // without the factory's call ordering (shards, a sharded index's shard(i)): a search or save then
  // read half-added lists and the old ntotal, and dispose returned while the add still wrote.
  const d = 32;
  const rows = randomVectors(100_000, d, 21);
  const first = rows.subarray(0, 20_000 * d);
  const rest = rows.subarray(20_000 * d);
  const queries = rows.subarray(50_000 * d, 50_020 * d);

  /** Rows in the index's lists. */
  const listed = (index: WasmIvfIndex) => index.listSizes().reduce((s, v) => s + v, 0);

  /** Starts index.add(x) and resolves once it is paused with part of its rows written into the lists. */
  async function addPausedInWrites(index: WasmIvfIndex, x: Float32Array): Promise<{ add: Promise<void>; settled: () => boolean }> {
    const before = listed(index);
    let done = false;
    const add = index.add(x).finally(() => (done = true));
    while (!done && listed(index) === before) await new Promise((r) => setImmediate(r));
    // the premise: the add stopped part way through its writes
    expect(done).toBe(false);
    expect(listed(index)).toBeGreaterThan(before);
    expect(listed(index)).toBeLessThan(before + x.length / d);
    return { add, settled: () => done };
  }

  it.each(['flat', 'sq8'] as const)('IVF-%s: a row the caller changes during the pauses is checked as it is copied in: a NaN put in after the writes began is refused, and no list keeps any of the add', async (storage) => {
    // Before, the rows were checked before the assignment and copied again for the writes, pauses
    // apart: a row changed between them went into the lists unchecked (a NaN vector, IVF-Flat's
    // score bounds not covering it).
    const clock = pauseEveryBreathe();
    const index = await WasmIvfIndex.create(d, 16, storage, 'l2', { threads: 1, niter: 2 });
    try {
      await index.train(first);
      const x = rows.slice(20_000 * d); // 80k rows: 3 batches of writes
      const { add } = await addPausedInWrites(index, x);
      expect(listed(index)).toBeLessThan(40_000); // in its first batch: the last row is not copied yet
      x[79_999 * d + 7] = Number.NaN;
      await expect(add).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/row 79999, dimension 7/) });
      expect(index.ntotal).toBe(0);
      expect(listed(index)).toBe(0);
    } finally {
      clock.mockRestore();
      await index.dispose();
    }
  });

  /** An index holding `first`, adding `rest`: resolves once that add is paused with part of its rows in the lists. */
  async function pausedAdd(): Promise<{ index: WasmIvfIndex; add: Promise<void>; settled: () => boolean }> {
    const index = await WasmIvfIndex.create(d, 16, 'flat', 'l2', { threads: 1, niter: 2 });
    await index.train(first);
    await index.add(first);
    return { index, ...(await addPausedInWrites(index, rest)) };
  }

  it('search and save wait for the add and see all its rows', async () => {
    const whole = await WasmIvfIndex.create(d, 16, 'flat', 'l2', { threads: 1, niter: 2 });
    await whole.train(first);
    await whole.add(first);
    await whole.add(rest);
    const want = await whole.search(queries, 5, { nprobe: 16 });
    const wantFile = memorySink();
    await whole.save(wantFile);
    await whole.dispose();
    const clock = pauseEveryBreathe();
    let paused: Awaited<ReturnType<typeof pausedAdd>> | undefined;
    try {
      paused = await pausedAdd();
      const file = memorySink();
      const [got] = await Promise.all([paused.index.search(queries, 5, { nprobe: 16 }), paused.index.save(file), paused.add]);
      expect(Array.from(got.labels, Number)).toEqual(Array.from(want.labels, Number));
      expect(Array.from(got.labels.filter((_, i) => i % 5 === 0), Number)).toEqual(Array.from({ length: 20 }, (_, i) => 50_000 + i));
      expect(Buffer.from(file.bytes()).equals(Buffer.from(wantFile.bytes()))).toBe(true);
    } finally {
      clock.mockRestore();
      await paused?.index.dispose();
    }
  });

  it('dispose waits for the add to end, then frees the index', async () => {
    const clock = pauseEveryBreathe();
    try {
      const { index, add, settled } = await pausedAdd();
      await index.dispose();
      expect(settled()).toBe(true);
      await add;
      expect(index.ntotal).toBe(100_000);
      await expect(index.search(queries, 1)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('disposed') });
    } finally {
      clock.mockRestore();
    }
  });
});
