/**
 * The planner's temporary-memory figure against what the shards really allocate with the fused
 * top-k kernels: never less (the plan must be safe), and not wildly more (it is what users read).
 */
import { describe, expect, it } from 'vitest';
import '../../src/node.js';
import { tempBytes } from '../../src/core/planner.js';
import { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import { kernelTuning } from '../../src/gpu/flat-shard.js';
import { gpuForTests } from '../helpers/gpu.js';

const hasGpu = await gpuForTests('planner temp bytes');

const n = 3000;
const d = 96;

function rows(count: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: count * d }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

describe.skipIf(!hasGpu)('planner temp bytes vs the shard', () => {
  const base = rows(n, 1);
  const cases = [
    // [precision, nq, k, scratchBytes]: small budgets take the per-tile merge path, large ones the shared lists.
    ['f32', 1, 10, 256 << 20],
    ['f32', 7, 10, 64 << 10],
    ['f32', 64, 100, 256 << 20],
    ['f32', 300, 10, 32 << 10],
    ['int8', 64, 10, 256 << 20],
    ['f16', 130, 20, 128 << 10],
    // f16 flat_gemv, one query, at its own workgroup target set to the planner's f16 bound
    // (kernelTuning.gemvTargetF16 1024; the default is 528): ~730
    // segments of two rows a tile here, more than a bound of 512 a tile (fails with it); 4 queries
    // keep targetWorkgroups.
    ['f16', 1, 10, 256 << 20],
    ['f16', 4, 10, 256 << 20],
  ] as const;
  it.each(cases)('%s nq=%i k=%i scratch=%i: actual <= planned; within 4 x actual + 64 KiB where the budget binds', async (precision, nq, k, scratchBytes) => {
    const maxTileBytes = 700 * 400; // several tiles
    const index = await GpuFlatIndex.create(d, 'ip', { precision, scratchBytes, maxTileBytes });
    const target = kernelTuning.gemvTargetF16;
    kernelTuning.gemvTargetF16 = 1024;
    try {
      await index.add(base);
      await index.search(rows(nq, 2), k);
      const shards = (index as unknown as { shards: { tempBytes: number; tileCount: number }[] }).shards;
      const actual = shards[0]!.tempBytes;
      const tiles = index.plan!.shards[0]!.tiles;
      expect(tiles.length).toBe(shards[0]!.tileCount);
      expect(tiles.length).toBeGreaterThan(1);
      // int8 searches k' candidates for the re-rank (max(k + 16, 4k)).
      const kk = precision === 'int8' ? Math.max(k + 16, 4 * k) : k;
      const maxBinding = Math.min(maxTileBytes * 1000, 2 ** 31);
      const planned = tempBytes(d, kk, nq, scratchBytes, maxBinding, tiles, precision);
      expect(actual).toBeGreaterThan(0);
      expect(planned).toBeGreaterThanOrEqual(actual);
      // Where the scratch budget binds, the bound is tight; otherwise it assumes the narrowest
      // kernel (one row a workgroup), which small test tiles are far from.
      const list = nq * kk * 8;
      if (list * tiles.length * 64 > scratchBytes) expect(planned).toBeLessThanOrEqual(4 * actual + (64 << 10));
    } finally {
      kernelTuning.gemvTargetF16 = target;
      await index.dispose();
    }
  });

  it('overlapping searches (both readback buffers in use) stay within the plan', async () => {
    const maxTileBytes = 700 * 400;
    // A scratch budget that binds, so the plan's candidate-list figure is close to what is allocated.
    const nq = 300;
    const k = 100;
    const scratchBytes = 32 << 10;
    const index = await GpuFlatIndex.create(d, 'ip', { precision: 'f32', scratchBytes, maxTileBytes });
    try {
      await index.add(base);
      await Promise.all([index.search(rows(nq, 2), k), index.search(rows(nq, 3), k), index.search(rows(nq, 4), k)]);
      const shard = (index as unknown as { shards: { tempBytes: number; slots: { buffer?: GPUBuffer }[] }[] }).shards[0]!;
      expect(shard.slots.filter((x) => x.buffer).length).toBe(2);
      const planned = tempBytes(d, k, nq, scratchBytes, Math.min(maxTileBytes * 1000, 2 ** 31), index.plan!.shards[0]!.tiles, 'f32');
      expect(planned).toBeGreaterThanOrEqual(shard.tempBytes);
    } finally {
      await index.dispose();
    }
  });

  it('dropScratch frees the batch scratch; the next search allocates it again and finds the same lists', async () => {
    const index = await GpuFlatIndex.create(d, 'ip', { precision: 'f32', maxTileBytes: 700 * 400 });
    try {
      await index.add(base);
      const q = rows(9, 5);
      const before = await index.search(q, 10);
      const shard = (index as unknown as { shards: { tempBytes: number; dropScratch(): void; slots: { buffer?: GPUBuffer }[] }[] }).shards[0]!;
      const slots = () => shard.slots.reduce((sum, x) => sum + (x.buffer?.size ?? 0), 0);
      const scratch = shard.tempBytes - slots();
      expect(scratch).toBeGreaterThan(0);
      shard.dropScratch();
      expect(shard.tempBytes, 'only the readback slots stay').toBe(slots());
      const after = await index.search(q, 10);
      expect(Array.from(after.labels)).toEqual(Array.from(before.labels));
      expect(Array.from(after.distances)).toEqual(Array.from(before.distances));
      expect(shard.tempBytes - slots(), 'the same scratch again').toBe(scratch);
    } finally {
      await index.dispose();
    }
  });

  it("the index's plan reports temp bytes that cover a full batch of 4096 queries at k = 100", async () => {
    const index = await GpuFlatIndex.create(d, 'ip', { precision: 'f32', scratchBytes: 1 << 20 });
    try {
      await index.add(base);
      const plan = index.plan!;
      expect(plan.tempBytes).toBe(tempBytes(d, 100, 4096, 1 << 20, Infinity, plan.shards[0]!.tiles, 'f32'));
      // O(nq x k), not nq x N: far below the 4096 x 3000 x 4 bytes a score matrix would take... plus lists.
      // (candidate lists, first merge level, running list, two readbacks: about 5 lists of nq x k pairs)
      expect(plan.tempBytes).toBeLessThan(4096 * 100 * 8 * 6 + 4096 * d * 4 + (1 << 20) * 2);
    } finally {
      await index.dispose();
    }
  });
});
