/**
 * GpuFlatOptions.maxBatch: the plan's temporary bytes are counted for batches of that many queries
 * (they were always counted for 4096: the browser demo's 8000 x 100 f32 planned 27.4 MiB for a page
 * that searches one query at a time, the server 4096 where its micro-batches hold at most
 * --max-batch), and searches of more queries go to the shards in batches of at most that many,
 * with the same results.
 */
import { describe, expect, it, vi } from 'vitest';
import '../../src/node.js';
import { describePlan, MAX_GPU_BATCH, planFlat } from '../../src/core/planner.js';
import { resolveGpu } from '../../src/gpu/device.js';
import { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import { randomVectors } from '../helpers/data.js';
import { gpuForTests, wrapGpu, type GpuSpy } from '../helpers/gpu.js';
import { bruteForce, distanceTolerance, expectMatchesOracle, expectSameResult } from '../helpers/oracle.js';

const hasGpu = await gpuForTests('planner maxBatch');
const MiB = 2 ** 20;

interface ShardView {
  tempBytes: number;
  candCap: number | undefined;
  scratchBytes: number;
  search(queries: Float32Array, nq: number, k: number, ...rest: unknown[]): Promise<unknown>;
  batchLimit(most: number, k: number, certifyK: number): number;
  scorerFor(nq: number, k: number): object;
  candLayout(nqb: number, k: number, scorer: object, certifyK: number, floors: boolean, lists: number): { total: number };
}
const shardOf = (index: GpuFlatIndex): ShardView => (index as unknown as { shards: ShardView[] }).shards[0]!;

describe('planner: maxBatch', () => {
  it("the demo's temporary bytes shrink with the batch planned for (8000 x 100 f32 at k = 100)", () => {
    const at = (maxBatch: number) => planFlat({ n: 8000, d: 100, k: 100, maxBatch, precision: 'f32', scratchBytes: 256 * MiB, adapters: [{ label: 'adapter 0', maxBinding: 128 * MiB, maxBuffer: 256 * MiB }] });
    const temp = [1, 16, 512, MAX_GPU_BATCH].map((b) => at(b).tempBytes);
    for (let i = 1; i < temp.length; i++) expect(temp[i]!).toBeGreaterThan(temp[i - 1]!);
    // One query: the temporary bytes of one query's lists, not 27.4 MiB.
    expect(temp[0]!).toBeLessThan(MiB);
    expect(temp[3]! / MiB).toBeCloseTo(27.4, 1);
    // The plan says the batch it counts where it is below the default (the server passes its --max-batch).
    expect(describePlan(at(512), 'f32')).toMatch(/; temporary bytes for batches of up to 512 queries \(maxBatch, CLI --max-batch; larger searches go in such batches\)$/);
    expect(describePlan(at(MAX_GPU_BATCH), 'f32')).not.toMatch(/batches of up to/);
  });

  it.each([0, -1, 1.5, MAX_GPU_BATCH + 1, Number.NaN, '16'])('maxBatch %o is refused, naming the option and what it takes', async (maxBatch) => {
    // Checked before a device is opened (no GPU needed).
    await expect(GpuFlatIndex.create(8, 'ip', { maxBatch } as never)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/^maxBatch must be an integer in \[1, 4096\] .*got .*: pass such an integer .* or leave it out for 4096$/),
    });
  });
});

describe.skipIf(!hasGpu)('planner: maxBatch on the GPU', () => {
  it.each(['f32', 'int8'] as const)('%s: 100 queries with maxBatch 16 go in batches of at most 16, within the smaller plan, the ids of one batch, the results of 16-query searches and the oracle\'s', async (precision) => {
    const n = 2000;
    const d = 16;
    const k = 10;
    const base = randomVectors(n, d, 1);
    const queries = randomVectors(100, d, 2);
    const spy: GpuSpy = { buffers: [] };
    const gpu = wrapGpu((await resolveGpu())!, spy);
    const small = await GpuFlatIndex.create(d, 'l2', { gpu, backend: 'gpu', precision, maxBatch: 16, debugPoison: true } as never);
    const whole = await GpuFlatIndex.create(d, 'l2', { backend: 'gpu', precision } as never);
    try {
      await small.add(base);
      await whole.add(base);
      expect(small.plan!.maxBatch).toBe(16);
      expect(small.plan!.tempBytes).toBeLessThan(whole.plan!.tempBytes);
      const shard = shardOf(small);
      // The plan's batch at its k keeps every list the scratch budget allows (no squeezing).
      const kp = small.gpuK(100);
      expect(shard.batchLimit(16, kp, 100)).toBe(16);
      expect(shard.candLayout(16, kp, shard.scorerFor(16, kp), 100, false, shard.scratchBytes).total * 8).toBeLessThanOrEqual(shard.candCap!);
      const batches: number[] = [];
      const search = shard.search.bind(shard);
      vi.spyOn(shard, 'search').mockImplementation((q, nq, ...rest) => (batches.push(nq), search(q, nq, ...rest)));
      spy.peak = spy.live = spy.live!; // the rows are not temporary
      const before = spy.live;
      const got = await small.search(queries, k);
      expect(Math.max(...batches)).toBeLessThanOrEqual(16);
      expect(batches.reduce((s, b) => s + b, 0)).toBe(100);
      expect(spy.peak! - before, 'most bytes held by the search').toBeLessThanOrEqual(small.plan!.tempBytes);
      // What a caller splitting the queries in 16s gets, bit for bit (a batch's kernel follows its
      // size, so one batch of 100 may round its distances otherwise: same ids).
      const parts = [];
      for (let q0 = 0; q0 < 100; q0 += 16) parts.push(await whole.search(queries.subarray(q0 * d, Math.min(100, q0 + 16) * d), k));
      expectSameResult(got, { nq: 100, k, labels: BigInt64Array.from(parts.flatMap((p) => [...p.labels])), distances: Float32Array.from(parts.flatMap((p) => [...p.distances])) });
      expect(got.labels).toEqual((await whole.search(queries, k)).labels);
      if (precision === 'f32') expectMatchesOracle(got, bruteForce(base, queries, d, k, 'l2'), distanceTolerance(d, 8 * d), base, queries, d, 'l2');
    } finally {
      await small.dispose();
      await whole.dispose();
    }
  }, 120_000);

  it('int8 plans for its sub-batches (rerankSubBatch, 512 by default), the most it sends to the GPU at once', async () => {
    const d = 16;
    const base = randomVectors(3000, d, 1);
    const queries = randomVectors(600, d, 2);
    const spy: GpuSpy = { buffers: [] };
    const gpu = wrapGpu((await resolveGpu())!, spy);
    const sub = await GpuFlatIndex.create(d, 'ip', { gpu, backend: 'gpu', precision: 'int8' } as never);
    const whole = await GpuFlatIndex.create(d, 'ip', { backend: 'gpu', precision: 'int8', rerankSubBatch: 0 } as never);
    try {
      await sub.add(base);
      await whole.add(base);
      expect(sub.plan!.maxBatch).toBe(512);
      expect(whole.plan!.maxBatch).toBe(MAX_GPU_BATCH);
      expect(sub.plan!.tempBytes).toBeLessThan(whole.plan!.tempBytes);
      const shard = shardOf(sub);
      const batches: number[] = [];
      const search = shard.search.bind(shard);
      vi.spyOn(shard, 'search').mockImplementation((q, nq, ...rest) => (batches.push(nq), search(q, nq, ...rest)));
      spy.peak = spy.live = spy.live!;
      const before = spy.live;
      const got = await sub.search(queries, 10);
      expect(batches).toEqual([512, 88]);
      expect(spy.peak! - before, 'most bytes held by the search').toBeLessThanOrEqual(sub.plan!.tempBytes);
      expect(got.labels).toEqual((await whole.search(queries, 10)).labels);
    } finally {
      await sub.dispose();
      await whole.dispose();
    }
  }, 120_000);

  it('warmUp compiles the batch classes up to maxBatch only, and they cover every search', async () => {
    const d = 16;
    const pipelines = (index: GpuFlatIndex) => (index as unknown as { shards: { pipelines: Map<string, unknown> }[] }).shards[0]!.pipelines;
    const four = await GpuFlatIndex.create(d, 'ip', { backend: 'gpu', precision: 'f32', maxBatch: 4 } as never);
    const all = await GpuFlatIndex.create(d, 'ip', { backend: 'gpu', precision: 'f32' } as never);
    try {
      for (const index of [four, all]) {
        await index.add(randomVectors(500, d, 5));
        index.warmUp(10);
      }
      expect(pipelines(four).size).toBeLessThan(pipelines(all).size);
      const warmed = [...pipelines(four).keys()];
      for (const nq of [1, 2, 3, 4, 50]) await four.search(randomVectors(nq, d, 6 + nq), 10);
      expect([...pipelines(four).keys()]).toEqual(warmed);
    } finally {
      await four.dispose();
      await all.dispose();
    }
  });
});
