/**
 * shaders/int8_gemv.wgsl (int8 inner products of a few queries through dot4I8Packed): the shard's
 * keys and ids against a float64 oracle of the same quantised scores (key = s * sum_j t_j c_j +
 * q . vmin, src/gpu/int8-gemv.ts quantizeQuery), with the candidate buffers poisoned first; then the
 * index's re-ranked results against exact float64 search and against the f32-decoding kernels.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireDevice, type GpuContext } from '../../src/gpu/device.js';
import { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import { FlatShard } from '../../src/gpu/flat-shard.js';
import { int8GemvTuning } from '../../src/gpu/int8-gemv.js';
import { encodeRows, trainSq } from '../../src/gpu/tensor/quantize.js';
import { clusteredVectors, normalizeRows, randomVectors } from '../helpers/data.js';
import { gpuForTests } from '../helpers/gpu.js';
import { expectInt8KeysMatchOracle } from '../helpers/int8-keys.js';
import { bruteForce, recallAtK } from '../helpers/oracle.js';

const hasGpu = await gpuForTests('int8_gemv');

interface Case {
  name: string;
  n: number;
  d: number;
  nq: number;
  k: number;
  clustered: boolean;
  /** Rows a tile (several tiles: the lists of every tile merged). */
  tileRows: number;
  qbits: 8 | 16;
  lanes?: number;
  uw?: number;
  /** int8GemvTuning.em: bitonic end merge (1) or one lane a query (0). */
  em?: number;
}

function dataFor(c: Case, seed: number): { base: Float32Array; queries: Float32Array } {
  if (c.clustered) {
    return { base: normalizeRows(clusteredVectors(c.n, c.d, 12, seed), c.d), queries: normalizeRows(clusteredVectors(c.nq, c.d, 12, seed + 1), c.d) };
  }
  return { base: randomVectors(c.n, c.d, seed), queries: randomVectors(c.nq, c.d, seed + 1) };
}

describe.skipIf(!hasGpu)('int8_gemv', () => {
  let ctx: GpuContext;
  const saved = { ...int8GemvTuning };
  beforeAll(async () => {
    ctx = await acquireDevice({ label: 'int8_gemv test' });
  });
  afterAll(() => {
    Object.assign(int8GemvTuning, saved);
    ctx?.destroy();
  });

  const cases: Case[] = [
    { name: 'random, d=768, one query, 3 tiles', n: 2500, d: 768, nq: 1, k: 10, clustered: false, tileRows: 1000, qbits: 16 },
    { name: 'clustered, odd d=100, 3 queries, 4 tiles', n: 1999, d: 100, nq: 3, k: 24, clustered: true, tileRows: 600, qbits: 16 },
    { name: 'random, d=37, 4 queries, 8-bit queries', n: 1234, d: 37, nq: 4, k: 17, clustered: false, tileRows: 500, qbits: 8 },
    { name: 'clustered, d=200, 2 queries, 4 lanes a row (2 rows a subgroup), 1 word in flight', n: 1500, d: 200, nq: 2, k: 10, clustered: true, tileRows: 700, qbits: 16, lanes: 4, uw: 1 },
    { name: 'k near N: 30 rows, k = 29 and k = 30', n: 30, d: 64, nq: 4, k: 30, clustered: false, tileRows: 7, qbits: 16 },
    { name: 'random, d=96, 13 queries in blocks of 8', n: 800, d: 96, nq: 13, k: 10, clustered: false, tileRows: 300, qbits: 16 },
    { name: 'serial end merge: clustered, d=64, 4 queries', n: 900, d: 64, nq: 4, k: 10, clustered: true, tileRows: 400, qbits: 16, em: 0 },
    { name: 'bitonic end merge: clustered, d=64, 4 queries, k=3', n: 900, d: 64, nq: 4, k: 3, clustered: true, tileRows: 400, qbits: 16, em: 1 },
  ];

  it.each(cases)('$name: keys and ids match the float64 oracle of the quantised scores', async (c) => {
    Object.assign(int8GemvTuning, saved, { qbits: c.qbits, lanes: c.lanes ?? 0, uw: c.uw ?? 0, maxBatch: Math.max(4, c.nq), em: c.em ?? saved.em });
    for (const seed of [11, 12]) {
      const { base, queries } = dataFor(c, seed * 100 + c.d);
      const shard = new FlatShard(ctx, { d: c.d, metric: 'ip', precision: 'int8', maxTileBytes: c.tileRows * Math.ceil(c.d / 16) * 16, debugPoison: true });
      try {
        const sq = trainSq(base, c.n, c.d);
        await shard.setSq(sq.vmin, sq.step);
        const dp = shard.rowWords * 16;
        const codes = encodeRows(base, c.n, c.d, sq, false, dp);
        await shard.add(new Uint32Array(codes.buffer));
        expect(shard.tileCount).toBe(Math.ceil(c.n / c.tileRows));
        const padded = new Float32Array(c.nq * dp);
        for (let q = 0; q < c.nq; q++) padded.set(queries.subarray(q * c.d, (q + 1) * c.d), q * dp);
        const sqHost = new Float32Array(2 * dp);
        sqHost.set(sq.vmin, 0);
        sqHost.set(sq.step, dp);
        for (const k of c.k === c.n ? [c.k - 1, c.k] : [c.k]) {
          const key = shard.scorerFor(c.nq, k).key;
          expect(key).toMatch(/^i8gemv:/);
          if (c.em !== undefined) expect(key.split(':')[7], 'end merge').toBe(String(c.em));
          const got = await shard.search(padded, c.nq, k);
          expectInt8KeysMatchOracle(got, { queries: padded, codes, sq: sqHost, n: c.n, dp, parts: c.qbits === 16 ? 2 : 1 }, c.nq, k);
        }
      } finally {
        shard.destroy();
      }
    }
  });

  it('the index re-ranks int8_gemv candidates to the exact answer, as the f32-decoding kernels do', async () => {
    const d = 96;
    const n = 3000;
    // k' = k + 16 = 21 candidates: heaps that fit lavapipe's 32 KiB of workgroup memory with its
    // 8-lane subgroups (32 subgroups a workgroup), so int8_gemv serves here (checked below).
    const k = 5;
    const probe = new FlatShard(ctx, { d, metric: 'ip', precision: 'int8' });
    const sq0 = trainSq(randomVectors(10, d, 5), 10, d);
    await probe.setSq(sq0.vmin, sq0.step);
    Object.assign(int8GemvTuning, saved);
    expect(probe.scorerFor(4, k + 16).key).toMatch(/^i8gemv:/);
    probe.destroy();
    for (const [base, q] of [
      [normalizeRows(clusteredVectors(n, d, 20, 71), d), normalizeRows(clusteredVectors(4, d, 20, 72), d)],
      [randomVectors(n, d, 73), randomVectors(4, d, 74)],
    ] as const) {
      const results = [];
      for (const enabled of [true, false]) {
        Object.assign(int8GemvTuning, saved, { enabled });
        const index = await GpuFlatIndex.create(d, 'ip', { precision: 'int8', maxTileBytes: 1 << 16, debugPoison: true });
        try {
          await index.add(base);
          for (const nq of [1, 4]) {
            const sub = q.subarray(0, nq * d);
            const got = await index.search(sub, k);
            const want = bruteForce(base, sub, d, k, 'ip');
            expect(recallAtK(got, want), `int8_gemv ${enabled}, nq ${nq}`).toBeGreaterThanOrEqual(0.95);
            if (nq === 4) results.push(got);
          }
        } finally {
          await index.dispose();
        }
      }
      // Same candidates up to quantisation ties: the same re-ranked answer.
      let same = 0;
      for (let i = 0; i < results[0]!.labels.length; i++) if (results[0]!.labels[i] === results[1]!.labels[i]) same++;
      expect(same / results[0]!.labels.length).toBeGreaterThanOrEqual(0.95);
    }
  });

  it('re-ranking one sub-batch while the GPU scores the next gives the same results as one batch', async () => {
    const d = 48;
    const n = 2000;
    const nq = 37;
    const k = 5;
    const base = normalizeRows(clusteredVectors(n, d, 10, 81), d);
    const q = normalizeRows(clusteredVectors(nq, d, 10, 82), d);
    const want = bruteForce(base, q, d, k, 'ip');
    const results = [];
    // 0: one batch; 8: five sub-batches (the last partial); 4: int8_gemv for every sub-batch.
    for (const rerankSubBatch of [0, 8, 4]) {
      Object.assign(int8GemvTuning, saved);
      const index = await GpuFlatIndex.create(d, 'ip', { precision: 'int8', rerankSubBatch, debugPoison: true });
      try {
        await index.add(base);
        const got = await index.search(q, k);
        expect(recallAtK(got, want), `sub-batch ${rerankSubBatch}`).toBeGreaterThanOrEqual(0.95);
        results.push(got);
      } finally {
        await index.dispose();
      }
    }
    // One batch of 37 and sub-batches of 8 run the same kernel on the same candidates: identical.
    expect(Array.from(results[1]!.labels)).toEqual(Array.from(results[0]!.labels));
    expect(Array.from(results[1]!.distances)).toEqual(Array.from(results[0]!.distances));
    // Sub-batches of 4 score with int8_gemv: the same exact distances wherever the same ids came back.
    let same = 0;
    for (let i = 0; i < results[2]!.labels.length; i++) if (results[2]!.labels[i] === results[0]!.labels[i]) same++;
    expect(same / results[0]!.labels.length).toBeGreaterThanOrEqual(0.95);
  });

  it('the next sub-batch is on the GPU queue before the host re-ranks the current one', async () => {
    const d = 32;
    const base = randomVectors(500, d, 91);
    const index = await GpuFlatIndex.create(d, 'ip', { precision: 'int8', rerankSubBatch: 8 });
    try {
      await index.add(base);
      const events: string[] = [];
      const queue = (index as unknown as { shards: { ctx: { device: GPUDevice } }[] }).shards[0]!.ctx.device.queue;
      const submit = queue.submit.bind(queue);
      queue.submit = (b: Iterable<GPUCommandBuffer>) => {
        events.push('submit');
        submit(b);
      };
      const inner = index as unknown as { rerankNow: (...a: unknown[]) => Promise<unknown> };
      const rerankNow = inner.rerankNow.bind(index);
      inner.rerankNow = async (...a: unknown[]) => {
        events.push('rerank');
        return rerankNow(...a);
      };
      await index.search(randomVectors(24, d, 92), 5);
      // Three sub-batches: scoring i + 1 is submitted before re-ranking i starts.
      expect(events).toEqual(['submit', 'submit', 'rerank', 'submit', 'rerank', 'rerank']);
    } finally {
      await index.dispose();
    }
  });

  it('falls back to the f32-decoding kernels where int8_gemv does not apply', async () => {
    const shard = new FlatShard(ctx, { d: 64, metric: 'l2', precision: 'int8' });
    const sq = trainSq(randomVectors(10, 64, 5), 10, 64);
    await shard.setSq(sq.vmin, sq.step);
    expect(shard.scorerFor(1, 10).key).not.toMatch(/^i8gemv:/);
    shard.destroy();
    const ip = new FlatShard(ctx, { d: 64, metric: 'ip', precision: 'int8' });
    await ip.setSq(sq.vmin, sq.step);
    Object.assign(int8GemvTuning, saved);
    expect(ip.scorerFor(1, 10).key).toMatch(/^i8gemv:/);
    expect(ip.scorerFor(int8GemvTuning.maxBatch + 1, 10).key).not.toMatch(/^i8gemv:/);
    ip.destroy();
  });
});
