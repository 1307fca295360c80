/** GPU failure modes: planner refusals before allocating, device OOM through error scopes, device loss, dispose. */
import { describe, expect, it } from 'vitest';
import { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import { resolveGpu } from '../../src/gpu/device.js';
import { clusteredVectors, randomVectors } from '../helpers/data.js';
import { gpuForTests, wrapGpu, type GpuSpy } from '../helpers/gpu.js';
import { bruteForce, recallAtK } from '../helpers/oracle.js';

const hasGpu = await gpuForTests('GPU error handling');

describe.skipIf(!hasGpu)('gpu errors', () => {
  it('an index too big for the stated gpuMemory is refused with OUT_OF_MEMORY before any tile is allocated', async () => {
    const spy: GpuSpy = { buffers: [] };
    const gpu = wrapGpu((await resolveGpu())!, spy);
    // ~16.7 MiB of temporary memory (candidate lists, merge level, running list and two readbacks
    // for 4096 queries at k = 100, fused kernels) + 4.9 MiB of f32 rows > 20 MiB; f16 (2.4 MiB) fits.
    const index = await GpuFlatIndex.create(64, 'ip', { gpu, gpuMemory: 20 << 20, scratchBytes: 1 << 16, precision: 'f32' });
    try {
      const before = spy.buffers.length;
      const err = await index.add(randomVectors(20_000, 64, 1)).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'OUT_OF_MEMORY' });
      expect((err as Error).message).toMatch(/needs 2\d\.\d MiB .* but it holds 20\.0 MiB: use precision 'f16' .*backend 'wasm'/);
      expect(spy.buffers.length, 'no buffer allocated for the refused rows').toBe(before);
      expect(index.ntotal).toBe(0);
    } finally {
      await index.dispose();
    }
  });

  it("'auto' precision falls to what fits the stated memory", async () => {
    const n = 20_000, d = 64;
    const index = await GpuFlatIndex.create(d, 'ip', { precision: 'auto', gpuMemory: 20 << 20, scratchBytes: 1 << 16 }, n);
    try {
      expect(index.precision).toBe('f16');
      expect(index.plan!.shards[0]!.baseBytes + index.plan!.shards[0]!.tempBytes).toBeLessThanOrEqual(20 << 20);
    } finally {
      await index.dispose();
    }
  });

  it("f16 rows beyond float16's range are refused, naming the value, the range and the fix, before any row is added (add and the loader's path)", async () => {
    const d = 8;
    const index = await GpuFlatIndex.create(d, 'ip', { precision: 'f16', devicesPerGpu: 2 });
    try {
      await index.add(randomVectors(10, d, 3));
      const rows = randomVectors(20, d, 4);
      // In the second shard's share: nothing of the first may land either.
      rows[17 * d + 5] = -70000;
      for (const add of [(x: Float32Array) => index.add(x), (x: Float32Array) => index.addRows(x, 20)]) {
        const err = await add(rows).catch((e: unknown) => e);
        expect(err).toMatchObject({ code: 'INVALID_ARGUMENT' });
        expect((err as Error).message).toMatch(/-70000 at row 17, dimension 5: beyond float16's range .*precision 'f32'/);
        expect(index.ntotal).toBe(10);
      }
      // 65504 is float16's largest value (and 65519 rounds to it): accepted.
      rows[17 * d + 5] = 65519;
      await index.add(rows);
      expect(index.ntotal).toBe(30);
    } finally {
      await index.dispose();
    }
  });

  it('a device that runs out of memory answers OUT_OF_MEMORY (error scope), and the index stays usable', async () => {
    const spy: GpuSpy = { buffers: [] };
    const gpu = wrapGpu((await resolveGpu())!, spy);
    const d = 16;
    const index = await GpuFlatIndex.create(d, 'l2', { gpu, maxTileBytes: 64 * 100 });
    try {
      const base = randomVectors(250, d, 2);
      await index.add(base);
      spy.oomAbove = 1000;
      const err = await index.add(randomVectors(500, d, 3)).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'OUT_OF_MEMORY' });
      expect((err as Error).message).toMatch(/could not allocate .* bytes on adapter 0: injected/);
      // WebGPU reports no memory size: the fix is to state it, so the planner fits the plan up front.
      expect((err as Error).message).toMatch(/state gpuMemory \(CLI --gpu-memory\) as the memory this device really has free, which WebGPU does not report, so the planner fits rows, digit planes and temporary bytes before allocating/);
      spy.oomAbove = undefined;
      const r = await index.search(base.subarray(0, d), 1);
      expect(r.labels[0]).toBe(0n);
    } finally {
      await index.dispose();
    }
  });

  it('int8: an add the device refuses adds nothing (its host rows for the re-rank included): later adds keep their ids and exact re-ranked distances', async () => {
    const spy: GpuSpy = { buffers: [] };
    const gpu = wrapGpu((await resolveGpu())!, spy);
    const d = 16;
    const base = clusteredVectors(550, d, 8, 31);
    const q = clusteredVectors(6, d, 8, 32);
    const index = await GpuFlatIndex.create(d, 'ip', { gpu, precision: 'int8', maxTileBytes: 16 * 100, debugPoison: true });
    try {
      await index.add(base.subarray(0, 250 * d));
      spy.oomLabel = /base tile/;
      const err = await index.add(randomVectors(500, d, 33)).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'OUT_OF_MEMORY' });
      expect(index.ntotal).toBe(250);
      spy.oomLabel = undefined;
      await index.add(base.subarray(250 * d));
      expect(index.ntotal).toBe(550);
      const got = await index.search(q, 5);
      const want = bruteForce(base, q, d, 5, 'ip');
      expect(recallAtK(got, want)).toBeGreaterThanOrEqual(0.99);
      for (let i = 0; i < got.labels.length; i++) {
        const row = Number(got.labels[i]!);
        let dot = 0;
        for (let j = 0; j < d; j++) dot += q[Math.floor(i / 5) * d + j]! * base[row * d + j]!;
        expect(got.distances[i]!).toBeCloseTo(dot, 4);
      }
    } finally {
      await index.dispose();
    }
  });

  it('int8: an add the device refuses leaves the score bound as it was: a value out of the codes\' range in it does not refuse later searches', async () => {
    const spy: GpuSpy = { buffers: [] };
    const gpu = wrapGpu((await resolveGpu())!, spy);
    const d = 16;
    const base = clusteredVectors(150, d, 8, 41);
    const index = await GpuFlatIndex.create(d, 'ip', { gpu, precision: 'int8', maxTileBytes: 16 * 100, debugPoison: true });
    try {
      await index.add(base.subarray(0, 100 * d));
      const huge = randomVectors(50, d, 42);
      huge[0] = 1e36;
      spy.oomLabel = /base tile/;
      expect(await index.add(huge).catch((e: unknown) => e)).toMatchObject({ code: 'OUT_OF_MEMORY' });
      spy.oomLabel = undefined;
      await index.add(base.subarray(100 * d));
      const q = clusteredVectors(2, d, 8, 43);
      q[0] = 1000;
      const got = await index.search(q, 5);
      expect(Array.from(got.labels)).toEqual(Array.from(bruteForce(base, q, d, 5, 'ip').labels).map(BigInt));
    } finally {
      await index.dispose();
    }
  });

  it('int8: a first add whose SQ parameters the device refuses adds nothing: the next add trains them again', async () => {
    const spy: GpuSpy = { buffers: [] };
    const gpu = wrapGpu((await resolveGpu())!, spy);
    const d = 16;
    const base = clusteredVectors(200, d, 8, 44);
    const q = clusteredVectors(4, d, 8, 45);
    const index = await GpuFlatIndex.create(d, 'ip', { gpu, precision: 'int8', debugPoison: true });
    try {
      spy.oomLabel = /sq params/;
      expect(await index.add(randomVectors(50, d, 46).map((v) => v * 100)).catch((e: unknown) => e)).toMatchObject({ code: 'OUT_OF_MEMORY' });
      expect(index.ntotal).toBe(0);
      spy.oomLabel = undefined;
      await index.add(base);
      const got = await index.search(q, 5);
      expect(Array.from(got.labels)).toEqual(Array.from(bruteForce(base, q, d, 5, 'ip').labels).map(BigInt));
    } finally {
      await index.dispose();
    }
  });

  it('an add one device refuses after another took its rows adds nothing: the next add numbers its rows after the index\'s, not over the first device\'s', async () => {
    const spy: GpuSpy = { buffers: [] };
    const real = (await resolveGpu())!;
    const d = 8;
    const base = clusteredVectors(400, d, 6, 34);
    const q = clusteredVectors(5, d, 6, 35);
    const index = await GpuFlatIndex.create(d, 'ip', { gpus: [real, wrapGpu(real, spy)], maxTileBytes: 32 * 64, debugPoison: true });
    try {
      expect(index.deviceCount).toBe(2);
      await index.add(base.subarray(0, 200 * d));
      spy.oomLabel = /base tile/;
      const err = await index.add(randomVectors(200, d, 36)).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'OUT_OF_MEMORY' });
      expect(index.ntotal).toBe(200);
      expect(Array.from((await index.search(q, 4)).labels)).toEqual(Array.from(bruteForce(base.subarray(0, 200 * d), q, d, 4, 'ip').labels).map(BigInt));
      spy.oomLabel = undefined;
      await index.add(base.subarray(200 * d));
      const got = await index.search(q, 10);
      expect(Array.from(got.labels)).toEqual(Array.from(bruteForce(base, q, d, 10, 'ip').labels).map(BigInt));
    } finally {
      await index.dispose();
    }
  });

  it('a shard write that fails part way (its second tile) adds none of its rows: the next add\'s rows keep their ids', async () => {
    const d = 8;
    const base = clusteredVectors(150, d, 6, 37);
    const q = clusteredVectors(5, d, 6, 38);
    const index = await GpuFlatIndex.create(d, 'ip', { maxTileBytes: 32 * 64, debugPoison: true });
    try {
      await index.add(base.subarray(0, 50 * d));
      type Part = { count: number };
      const shard = (index as unknown as { shards: { ntotal: number; baseBytes: number; tiles: { rows: number }[]; appendRows(n: number, exact: boolean, write: (p: Part, done: number) => Promise<void>): Promise<void> }[] }).shards[0]!;
      // 100 rows: 14 fill the first tile, the write of the next tile's 64 fails.
      const err = await shard.appendRows(100, false, async (_p, done) => {
        if (done > 0) throw new Error('write failed');
      }).catch((e: unknown) => e);
      expect((err as Error).message).toBe('write failed');
      expect(shard.tiles.reduce((a, t) => a + t.rows, 0)).toBe(50);
      expect(shard.ntotal).toBe(50);
      // Nor does it keep the tiles it allocated for them (two fresh 64-row tiles, empty).
      expect([shard.tiles.length, shard.baseBytes]).toEqual([1, 64 * 32]);
      await index.add(base.subarray(50 * d));
      const got = await index.search(q, 10);
      expect(Array.from(got.labels)).toEqual(Array.from(bruteForce(base, q, d, 10, 'ip').labels).map(BigInt));
    } finally {
      await index.dispose();
    }
  });

  it('an add the device refuses after its last tile grew leaves the tile as it was: the shard holds the bytes it held before', async () => {
    const spy: GpuSpy = { buffers: [] };
    const gpu = wrapGpu((await resolveGpu())!, spy);
    const d = 8;
    const base = clusteredVectors(3100, d, 6, 51);
    const q = clusteredVectors(5, d, 6, 52);
    // 2048-row tiles: 100 rows take a 1024-row tile; 3000 more grow it to 2048, then need a second
    // tile, which the device refuses.
    const index = await GpuFlatIndex.create(d, 'ip', { gpu, maxTileBytes: 32 * 2048, debugPoison: true });
    try {
      await index.add(base.subarray(0, 100 * d));
      const shard = (index as unknown as { shards: { baseBytes: number; tileCount: number }[] }).shards[0]!;
      expect([shard.tileCount, shard.baseBytes]).toEqual([1, 1024 * 32]);
      spy.oomLabel = /base tile 1/;
      expect(await index.add(randomVectors(3000, d, 53)).catch((e: unknown) => e)).toMatchObject({ code: 'OUT_OF_MEMORY' });
      expect([index.ntotal, shard.tileCount, shard.baseBytes]).toEqual([100, 1, 1024 * 32]);
      expect(Array.from((await index.search(q, 4)).labels)).toEqual(Array.from(bruteForce(base.subarray(0, 100 * d), q, d, 4, 'ip').labels).map(BigInt));
      spy.oomLabel = undefined;
      await index.add(base.subarray(100 * d));
      expect(Array.from((await index.search(q, 10)).labels)).toEqual(Array.from(bruteForce(base, q, d, 10, 'ip').labels).map(BigInt));
    } finally {
      await index.dispose();
    }
  });

  it('an add one device refuses gives back what the other device allocated for it: its fresh tile, and its grown last tile shrinks back', async () => {
    const spy: GpuSpy = { buffers: [] };
    const real = (await resolveGpu())!;
    const d = 8;
    const base = clusteredVectors(4200, d, 6, 54);
    const q = clusteredVectors(5, d, 6, 55);
    const index = await GpuFlatIndex.create(d, 'ip', { gpus: [real, wrapGpu(real, spy)], maxTileBytes: 32 * 2048, debugPoison: true });
    try {
      await index.add(base.subarray(0, 200 * d));
      const shards = (index as unknown as { shards: { baseBytes: number; tileCount: number }[] }).shards;
      const before = shards.map((s) => [s.tileCount, s.baseBytes]);
      expect(before).toEqual([[1, 1024 * 32], [1, 1024 * 32]]);
      // The first device grows its tile to 2048 rows and takes a second for the rest of its 2000;
      // the second device's growth is refused.
      spy.oomLabel = /base tile/;
      expect(await index.add(randomVectors(4000, d, 56)).catch((e: unknown) => e)).toMatchObject({ code: 'OUT_OF_MEMORY' });
      expect(index.ntotal).toBe(200);
      expect(shards.map((s) => [s.tileCount, s.baseBytes])).toEqual(before);
      spy.oomLabel = undefined;
      await index.add(base.subarray(200 * d));
      expect(Array.from((await index.search(q, 10)).labels)).toEqual(Array.from(bruteForce(base, q, d, 10, 'ip').labels).map(BigInt));
    } finally {
      await index.dispose();
    }
  });

  it('device loss becomes DEVICE_LOST on the next call, naming the fix', async () => {
    const index = await GpuFlatIndex.create(8, 'ip', {});
    await index.add(randomVectors(100, 8, 4));
    (index as unknown as { contexts: { device: GPUDevice }[] }).contexts[0]!.device.destroy();
    await new Promise((r) => setTimeout(r, 50));
    const err = await index.search(randomVectors(1, 8, 5), 3).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'DEVICE_LOST' });
    expect((err as Error).message).toMatch(/was lost .* create or load it again/);
    await index.dispose();
  });

  it('dispose frees every buffer and is idempotent; use after dispose is an error', async () => {
    const index = await GpuFlatIndex.create(8, 'ip', { maxTileBytes: 32 * 40 });
    await index.add(randomVectors(300, 8, 6));
    await index.search(randomVectors(2, 8, 7), 5);
    const shards = (index as unknown as { shards: { tileCount: number }[] }).shards;
    expect(shards[0]!.tileCount).toBeGreaterThan(1);
    await index.dispose();
    await index.dispose();
    expect(shards[0]!.tileCount).toBe(0);
    await expect(index.search(randomVectors(1, 8, 8), 1)).rejects.toThrow(/disposed/);
    await expect(index.add(randomVectors(1, 8, 8))).rejects.toThrow(/disposed/);
  });
});
