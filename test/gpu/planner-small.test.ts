/**
 * The plan of a small index (the browser demo's 8,000 x 100 f32) against what its searches
 * allocate: never less (the planner refuses before allocating, so its figure must hold every
 * search), and no longer 65.6 MiB for 3.1 MiB of rows: the built-in kernels' batches of 17+ queries
 * aim for 132 workgroups a tile, not the 512 (x 128-query blocks) the bound assumed for every batch.
 * Also region B under merge_one, whose first level holds about sqrt(lists) lists, not lists / 32.
 */
import { describe, expect, it } from 'vitest';
import '../../src/node.js';
import { BUILTIN_TARGETS, planFlat, tempBytes } from '../../src/core/planner.js';
import { resolveGpu } from '../../src/gpu/device.js';
import { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import { kernelTuning, LARGE_MIN_BATCH, MAX_BATCH, targetsBeyondPlan } from '../../src/gpu/flat-shard.js';
import { randomVectors } from '../helpers/data.js';
import { gpuForTests, wrapGpu, type GpuSpy } from '../helpers/gpu.js';

const hasGpu = await gpuForTests('planner temp bytes of a small index');

const MiB = 2 ** 20;
const n = 8000;
const d = 100;

describe('planner: a small index', () => {
  it("the demo's plan (8000 x 100 f32, 4096-query batches at k = 100) is within 2 x the least such a batch holds", () => {
    const plan = planFlat({ n, d, k: 100, maxBatch: MAX_BATCH, precision: 'f32', scratchBytes: 256 * MiB, adapters: [{ label: 'adapter 0', maxBinding: 128 * MiB, maxBuffer: 256 * MiB }] });
    expect(plan.shards[0]!.tiles).toEqual([n]);
    // Whatever its kernel, a batch of 4096 queries at k = 100 holds one list of 100 pairs a query
    // (8 bytes each) in region A, the running list and two readbacks of as many, and the queries.
    const list = 4096 * 100 * 8;
    const least = 4 * list + 4096 * d * 4;
    expect(plan.tempBytes).toBeGreaterThan(least);
    // 65.6 MiB before (16 segments of 4096 queries: 50 MiB of lists alone), 27.4 MiB now.
    expect(plan.tempBytes).toBeLessThan(2 * least);
  });

  it("the built-in kernels' targets by batch size hold kernelTuning's defaults (the plan counts these)", () => {
    const [small, big] = BUILTIN_TARGETS.f32;
    expect(small).toEqual([16, 512]);
    // Up to 16 queries: flat_gemv, flat_gemv_multi, flat_fused.
    expect(kernelTuning.targetWorkgroups).toBeLessThanOrEqual(small![1]);
    expect(kernelTuning.mtarget).toBeLessThanOrEqual(small![1]);
    expect(kernelTuning.gemvTargetF16).toBeLessThanOrEqual(BUILTIN_TARGETS.f16[0]![1]);
    // From 17 queries flat_fused's targets; f16 takes f32's (f16Cls), not gemmTargetF16.
    expect(kernelTuning.gemmTargetM).toBeGreaterThan(0);
    expect(Math.max(kernelTuning.gemmTargetM, kernelTuning.gemmTarget, kernelTuning.gemmTargetL)).toBeLessThanOrEqual(big![1]);
    expect(kernelTuning.f16Cls).toBe(1);
    expect(BUILTIN_TARGETS.f16.at(-1)).toEqual(big);
    expect(targetsBeyondPlan()).toEqual([]);
  });

  it('targetsBeyondPlan names the knobs of a variant past the targets the plan counts (bench/gpu-flat --variants warns of them)', () => {
    expect(targetsBeyondPlan({ ...kernelTuning, gemmTarget: 264 })).toEqual(['gemmTarget 264 > 132 (48+ queries)']);
    expect(targetsBeyondPlan({ ...kernelTuning, targetWorkgroups: 1024 })).toEqual(['targetWorkgroups 1024 > 512 (up to 16 queries)']);
    // gemmTargetM 0 falls back to targetWorkgroups (512) for 17-47 queries, and gemmTarget 0 to that.
    expect(targetsBeyondPlan({ ...kernelTuning, gemmTargetM: 0, gemmTarget: 0 })).toEqual(['targetWorkgroups (gemmTargetM 0) 512 > 132 (17-47 queries)', 'gemmTargetM / targetWorkgroups (gemmTarget 0) 512 > 132 (48+ queries)']);
    expect(targetsBeyondPlan({ ...kernelTuning, gemmTarget: 100, gemmTargetL: 264 })).toEqual([`gemmTargetL 264 > 132 (${LARGE_MIN_BATCH}+ queries)`]);
  });

  it("large indexes keep the scratch budget's bound: 21M x 768 f32's lists are 256 MiB either way", () => {
    const wiki = { n: 21_015_324, d: 768, k: 100, maxBatch: 4096, scratchBytes: 256 * MiB, precision: 'f32' as const, adapters: [{ label: 'adapter 0', maxBinding: 2 ** 31, maxBuffer: 2 ** 40 }] };
    const tiles = planFlat(wiki).shards[0]!.tiles;
    expect(tempBytes(768, 100, 4096, 256 * MiB, 2 ** 31, tiles, 'f32', 'builtin')).toBe(tempBytes(768, 100, 4096, 256 * MiB, 2 ** 31, tiles, 'f32', 'any'));
  });
});

describe.skipIf(!hasGpu)('planner: a small index on the GPU', () => {
  // Each class of batch (flat_gemv 1-4, flat_gemv_multi 5-16, flat_fused's targets from 17 and 48 on)
  // and the plan's own batch of 4096 queries at its k of 100.
  it.each([
    [10, [1, 4, 16, 17, 48, 128, 512]],
    [100, [1, 17, 48, 4096]],
  ] as const)("every batch size's search allocates at most the plan (8000 x 100 f32, k = %i, batches %j)", async (k, sizes) => {
    const spy: GpuSpy = { buffers: [] };
    const gpu = wrapGpu((await resolveGpu())!, spy);
    const index = await GpuFlatIndex.create(d, 'ip', { gpu, backend: 'gpu', precision: 'f32' } as never);
    try {
      await index.add(randomVectors(n, d, 1));
      const planned = index.plan!.tempBytes;
      const shard = (index as unknown as { shards: { tempBytes: number }[] }).shards[0]!;
      for (const nq of sizes) {
        const before = spy.buffers.length;
        // Two searches: the shard's ring then holds both readback buffers.
        await index.search(randomVectors(nq, d, 2), k);
        await index.search(randomVectors(nq, d, 3), k);
        const made = spy.buffers.slice(before).reduce((s, b) => s + b, 0);
        expect(made, `buffers made by searches of ${nq}`).toBeLessThanOrEqual(planned);
        expect(shard.tempBytes, `temporary bytes held after searches of ${nq}`).toBeLessThanOrEqual(planned);
        // A single query's search follows its batch: tens of KiB, not the 4096-query figure.
        if (nq === 1) expect(made).toBeLessThan(MiB);
      }
    } finally {
      await index.dispose();
    }
  }, 120_000);

  it('region B under merge_one: 64 lists of 100 pairs merge into 8, not 64 / 32 + 1', async () => {
    // One query over 8192 rows with room for 64 lists: 64 segments of 128 rows (flat_fused's block
    // at k = 100; flat_gemv's one row a workgroup makes 64 too), merged 8 a workgroup
    // (pow2Ceil(sqrt 64)) since 64 x 100 pairs exceed merge_one's 4096: 61168 bytes held, where
    // the bound of 64 / 32 + 1 lists in region B said 58960.
    const rows = 64 * 128;
    const k = 100;
    const scratchBytes = 64 * k * 8;
    const index = await GpuFlatIndex.create(d, 'ip', { backend: 'gpu', precision: 'f32', scratchBytes } as never);
    try {
      await index.add(randomVectors(rows, d, 4));
      await index.search(randomVectors(1, d, 5), k);
      await index.search(randomVectors(1, d, 6), k);
      const shard = (index as unknown as { shards: { tempBytes: number }[] }).shards[0]!;
      const tiles = index.plan!.shards[0]!.tiles;
      expect(shard.tempBytes).toBeLessThanOrEqual(tempBytes(d, k, 1, scratchBytes, 128 * MiB, tiles, 'f32', 'builtin'));
      expect(shard.tempBytes).toBeLessThanOrEqual(tempBytes(d, k, 1, scratchBytes, 128 * MiB, tiles, 'f32', 'any'));
    } finally {
      await index.dispose();
    }
  });
});
