/**
 * The ChunkScorer hook (registerChunkScorer in src/gpu/flat-shard.ts): a registered scorer that
 * writes per-workgroup candidate lists in the documented format replaces the built-in kernels and
 * the shard's merge gives exact results, whether the tiles' lists share one buffer (merged once) or
 * are merged tile by tile. The scorer here is flat_fused.wgsl compiled with a block shape the
 * built-in choice never uses for nq = 3.
 */
import { describe, expect, it } from 'vitest';
import fusedWgsl from '../../shaders/flat_fused.wgsl';
import { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import { type ChunkScorer, fusedLayout, fusedStagingFits, heapSlots, registerChunkScorer, wgslVariant } from '../../src/gpu/flat-shard.js';
import { randomVectors } from '../helpers/data.js';
import { bruteForce, distanceTolerance, expectMatchesOracle } from '../helpers/oracle.js';
import { gpuForTests } from '../helpers/gpu.js';

const hasGpu = await gpuForTests('GPU scorer hook');

describe.skipIf(!hasGpu)('ChunkScorer hook', () => {
  it('a registered fused scorer is used for the batches it accepts and its lists merge exactly', async () => {
    const shape = { WX: 64, WY: 1, TR: 2, TQ: 4 }; // within the prefetch limits (fusedStagingFits)
    let compiled = 0;
    const scorer: ChunkScorer = {
      name: 'test-fused',
      accepts: (shard, nq) => shard.precision === 'f32' && shard.metric === 'ip' && nq === 3,
      shape: (_shard, _nq, k) => ({ BR: shape.WX * shape.TR, BQ: shape.WY * shape.TQ, key: `64x1x2x4:${heapSlots(k)}` }),
      pipeline: (device, _shard, _nq, k) => {
        compiled++;
        const kf = heapSlots(k);
        const { smv } = fusedLayout(shape, 4, kf, 1);
        return device.createComputePipeline({
          layout: 'auto',
          compute: { module: device.createShaderModule({ code: wgslVariant(fusedWgsl, false) }), entryPoint: 'main', constants: { ...shape, KC: 4, KF: kf, SELP: 1, SMV: smv } },
        });
      },
    };
    expect(fusedStagingFits(shape, 4)).toBe(true);
    registerChunkScorer(scorer);
    const d = 19;
    const base = randomVectors(2100, d, 9101);
    const q = randomVectors(3, d, 9102);
    const want = bruteForce(base, q, d, 10, 'ip');
    for (const scratchBytes of [256 << 20, 3 * 10 * 8 * 4]) {
      const index = await GpuFlatIndex.create(d, 'ip', { maxTileBytes: 80 * 700, scratchBytes, debugPoison: true });
      try {
        await index.add(base);
        expect(index.tilesPerShard[0]).toBeGreaterThan(2);
        expectMatchesOracle(await index.search(q, 10), want, distanceTolerance(d, d), base, q, d, 'ip');
      } finally {
        await index.dispose();
      }
    }
    expect(compiled).toBe(2); // once per index (pipelines are cached per shard), never for other batches
    // Batches it does not accept take the built-in kernels.
    const other = await GpuFlatIndex.create(d, 'ip', { debugPoison: true });
    try {
      await other.add(base);
      const q5 = randomVectors(5, d, 9103);
      expectMatchesOracle(await other.search(q5, 10), bruteForce(base, q5, d, 10, 'ip'), distanceTolerance(d, d), base, q5, d, 'ip');
      expect(compiled).toBe(2);
    } finally {
      await other.dispose();
    }
  });

  it('a scorer whose shape reads digit planes must give the pass that writes them (digitsSource): a clear error otherwise', async () => {
    const d = 23;
    registerChunkScorer({
      name: 'test-digits',
      accepts: (shard, nq) => shard.precision === 'f32' && shard.d === d && nq === 7,
      shape: (_shard, _nq, k) => ({ BR: 64, BQ: 8, key: `digits:${heapSlots(k)}`, approximate: 'dims', digits: true }),
      pipeline: () => {
        throw new Error('not reached: the shape is refused first');
      },
    });
    const index = await GpuFlatIndex.create(d, 'ip', { precision: 'f32', digitPlanes: true, debugPoison: true });
    try {
      await index.add(randomVectors(300, d, 9104));
      await expect(index.search(randomVectors(7, d, 9105), 5)).rejects.toThrow(/ChunkScorer test-digits: a shape with digits must give digitsSource, the pass that writes the planes/);
    } finally {
      await index.dispose();
    }
  });
});
