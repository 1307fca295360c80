/**
 * Searches of k above the plan's 100 keep within the plan's temporary bytes (planner ShardPlan
 * candBytes / readBytes, FlatShard.candCap / readCap): fewer candidate lists a query and, where one
 * list a query does not fit, batches of fewer queries. Before, 4096 queries at k = 1000 held
 * 158 MiB on the demo's 8000 x 100 index, planned at 27 MiB. Results are those of the unbounded
 * search, bit for bit, and the float64 oracle's.
 * (Checked here on 3000 x 16 rows: the plan and the batches depend on k and the batch, not on d.
 * The plan's own k of 100 is test/gpu/planner-small.test.ts's.)
 */
import { describe, expect, it } from 'vitest';
import '../../src/node.js';
import { MAX_READBACK_SLOTS, planFlat } from '../../src/core/planner.js';
import { resolveGpu } from '../../src/gpu/device.js';
import { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import { MAX_BATCH } from '../../src/gpu/flat-shard.js';
import { clusteredVectors, randomVectors } from '../helpers/data.js';
import { gpuForTests, wrapGpu, type GpuSpy } from '../helpers/gpu.js';
import { bruteForce, distanceTolerance, expectMatchesOracle, expectSameResult } from '../helpers/oracle.js';

const hasGpu = await gpuForTests('planner temp bytes at large k');

const n = 3000;
const d = 16;

interface ShardView {
  tempBytes: number;
  candCap: number | undefined;
  readCap: number | undefined;
  batchLimit(most: number, k: number, certifyK: number): number;
  scorerFor(nq: number, k: number): object;
  candLayout(nqb: number, k: number, scorer: object, certifyK: number, floors: boolean, lists: number): { total: number };
  scratchBytes: number;
}
const shardOf = (index: GpuFlatIndex): ShardView => (index as unknown as { shards: ShardView[] }).shards[0]!;

describe('planner: int8 re-ranks more than 4k (rerankDepth, rerankFactor)', () => {
  const input = { n: 100_000, d: 768, k: 100, maxBatch: MAX_BATCH, precision: 'int8' as const, scratchBytes: 256 * 2 ** 20, adapters: [{ label: 'adapter 0', maxBinding: 2 ** 31, maxBuffer: 2 ** 40 }] };
  it('plans the k\' searches select where memory holds it, else 4k (searches then keep within it)', () => {
    const four = planFlat(input);
    const deep = planFlat({ ...input, rerankK: 1000 });
    expect(planFlat({ ...input, rerankK: 400 }).tempBytes).toBe(four.tempBytes);
    expect(deep.tempBytes).toBeGreaterThan(four.tempBytes);
    expect(deep.shards[0]!.readBytes).toBe(MAX_BATCH * 1000 * 8);
    // Memory for 4k's plan and not 1000's: 4k's plan, not a refusal.
    const memoryBytes = four.shards[0]!.baseBytes + four.tempBytes;
    const tight = planFlat({ ...input, rerankK: 1000, adapters: [{ ...input.adapters[0]!, memoryBytes }] });
    expect(tight.tempBytes).toBe(four.tempBytes);
  });
});

describe.skipIf(!hasGpu)('planner: searches of large k within the plan', () => {
  // k = 100 itself, the plan's own k, is test/gpu/planner-small.test.ts's (batches of 1 to 4096).
  it('k 10 then 1000 in batches of 1, 64 and 4096: the most bytes held during search <= plan.tempBytes', async () => {
    const spy: GpuSpy = { buffers: [] };
    const gpu = wrapGpu((await resolveGpu())!, spy);
    const index = await GpuFlatIndex.create(d, 'ip', { gpu, backend: 'gpu', precision: 'f32' } as never);
    try {
      await index.add(randomVectors(n, d, 1));
      const planned = index.plan!.tempBytes;
      const shard = shardOf(index);
      // The rows (and anything else made before searching) are not temporary.
      const base = spy.live!;
      spy.peak = base;
      // One index for every k: buffers grown by one k's searches stay for the next's (k = 1000's
      // grow those of k = 10: the old and new buffers count at once if both are held).
      // Two searches of the plan's batch at k = 10 fill both readback slots (one batch each); one at
      // k = 1000 does, in batches of ~409 (the slots cycle by batch: checked below).
      for (const [k, sizes] of [[10, [1, 64, MAX_BATCH, MAX_BATCH]], [Math.min(1000, index.kLimit), [1, 64, MAX_BATCH]]] as const) {
        for (const nq of sizes) {
          await index.search(randomVectors(nq, d, 2 + nq), k);
          expect(spy.peak! - base, `most bytes held by searches up to ${nq} queries at k = ${k}`).toBeLessThanOrEqual(planned);
          expect(shard.tempBytes, `temporary bytes held after ${nq} queries at k = ${k}`).toBeLessThanOrEqual(planned);
        }
      }
      // Both readbacks grew to k = 1000's batches, so the peak above counted them together.
      const slots = (shard as unknown as { slots: { buffer?: { size: number } }[] }).slots;
      expect(slots).toHaveLength(MAX_READBACK_SLOTS);
      for (const slot of slots) expect(slot.buffer!.size).toBeGreaterThan(MAX_BATCH * 10 * 8);
      // Chunking only where needed: the plan's own batch and k go in one batch.
      expect(shard.batchLimit(MAX_BATCH, 100, 100)).toBe(MAX_BATCH);
      expect(shard.batchLimit(MAX_BATCH, 1000, 1000)).toBeLessThan(MAX_BATCH);
    } finally {
      await index.dispose();
    }
  }, 600_000);

  it.each([
    ['f32', {}],
    ['f16', {}],
    ['int8', {}],
    // The k' these select for k = 100 (and for any k below, with rerankDepth): the plan counted 400.
    ['int8', { rerankDepth: 1000 }],
    ['int8', { rerankFactor: 8 }],
  ] as const)("%s %j: the plan's own batch and k keep one batch and every list the scratch budget allows", async (precision, opts) => {
    const index = await GpuFlatIndex.create(d, 'ip', { backend: 'gpu', precision, ...opts } as never);
    try {
      await index.add(randomVectors(n, d, 1));
      const shard = shardOf(index);
      // int8 selects k' = 400 candidates for k = 100 by default (rerankDepth, rerankFactor x k when set).
      const k = index.gpuK(100);
      if (precision === 'int8') expect(k).toBe(Math.min(index.kLimit, 'rerankDepth' in opts ? 1000 : 'rerankFactor' in opts ? 800 : 400));
      // The plan's batch: 4096, int8's sub-batch of 512 (rerankSubBatch, what its searches send at once).
      const batch = index.plan!.maxBatch;
      expect(batch).toBe(precision === 'int8' ? 512 : MAX_BATCH);
      expect(shard.batchLimit(batch, k, 100)).toBe(batch);
      const scorer = shard.scorerFor(batch, k);
      expect(shard.candLayout(batch, k, scorer, 100, false, shard.scratchBytes).total * 8).toBeLessThanOrEqual(shard.candCap!);
    } finally {
      await index.dispose();
    }
  });

  it('a batch planned but not dispatched compiles no pipeline: 64 queries at k = 500 within a plan for 64 at k = 100 go in 12s', async () => {
    const index = await GpuFlatIndex.create(d, 'ip', { backend: 'gpu', precision: 'f32', maxBatch: 64 } as never);
    try {
      await index.add(randomVectors(n, d, 1));
      const shard = shardOf(index) as ShardView & { pipelines: Map<string, unknown>; submitBatch(q: Float32Array, nqb: number, k: number, scorer: { key: string }, ...rest: unknown[]): Promise<unknown> };
      const used = new Set<string>();
      const submit = shard.submitBatch.bind(shard);
      shard.submitBatch = (q, nqb, k, scorer, ...rest) => (used.add(scorer.key), submit(q, nqb, k, scorer, ...rest));
      await index.search(randomVectors(64, d, 2), 500);
      expect(used.size).toBeGreaterThan(0);
      // batchLimit weighed the batch of 64 first (on lavapipe flat_fused's 48+ class, compiled for nothing before).
      const scorers = [...shard.pipelines.keys()].filter((key) => /^(fused|gemv|gemvm|i8gemv|ext):/.test(key));
      expect(scorers.sort()).toEqual([...used].sort());
    } finally {
      await index.dispose();
    }
  });

  it.each([
    ['random', randomVectors(n, d, 7)],
    ['clustered', clusteredVectors(n, d, 20, 8)],
  ] as const)('%s data: 500 queries at large k give the unbounded search\'s results and the oracle\'s (output poisoned)', async (_, base) => {
    const index = await GpuFlatIndex.create(d, 'l2', { backend: 'gpu', precision: 'f32', debugPoison: true } as never);
    try {
      await index.add(base);
      const k = Math.min(1000, index.kLimit);
      const nq = 500;
      const queries = randomVectors(nq, d, 9);
      const shard = shardOf(index);
      // The batch goes in several (the readbacks of 500 x k pairs pass the plan's).
      expect(shard.batchLimit(nq, k, k)).toBeLessThan(nq);
      const bounded = await index.search(queries, k);
      expect(shard.tempBytes).toBeLessThanOrEqual(index.plan!.tempBytes);
      const caps = [shard.candCap, shard.readCap] as const;
      shard.candCap = shard.readCap = undefined;
      const unbounded = await index.search(queries, k);
      [shard.candCap, shard.readCap] = caps;
      expectSameResult(bounded, unbounded);
      const want = bruteForce(base, queries, d, k, 'l2');
      expectMatchesOracle(bounded, want, distanceTolerance(d, 8 * d), base, queries, d, 'l2');
    } finally {
      await index.dispose();
    }
  }, 600_000);
});
