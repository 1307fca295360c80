/**
 * flat_gemv over several tiles a dispatch (kernelTuning.gemvTiles) in a mixed batch: f32 digit
 * planes cut part way (the emulated tensor hook scores the tiles with planes, the f32 kernels the
 * rest, FlatShard candLayout). The exact tiles write their own lists of the caller's k (region X)
 * and are widened to k' (list_widen.wgsl), so gemvRun keeps them one a dispatch although they are
 * equal tiles of one flat_gemv scorer; the f32 re-search of uncertified queries (all exact, no
 * digits) does group them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { resolveGpu } from '../../src/gpu/device.js';
import { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import { kernelTuning, registerChunkScorer } from '../../src/gpu/flat-shard.js';
import { tensorTuning } from '../../src/gpu/tensor/tuning.js';
import { clusteredVectors, normalizeRows } from '../helpers/data.js';
import { emulatedHookScorer } from '../helpers/emulate-matrices.js';
import { gpuForTests, wrapGpu } from '../helpers/gpu.js';
import { bruteForce, distanceTolerance, expectMatchesOracle } from '../helpers/oracle.js';

const hasGpu = await gpuForTests('flat_gemv over several tiles a dispatch in a mixed batch');
const defaults = { ...kernelTuning };
const tensorDefaults = { ...tensorTuning };

type Shard = {
  digitTilesPlanned: number;
  uncertifiedQueries: number;
  pipelines: Map<string, unknown>;
  submitBatch(q: Float32Array, nqb: number, k: number, scorer: { key: string }, ...rest: unknown[]): Promise<unknown>;
};

describe.skipIf(!hasGpu)('flat_gemv tiles a dispatch beside the tensor hook (digit planes cut part way)', () => {
  let on = false;
  registerChunkScorer(emulatedHookScorer({ active: () => on }));
  afterEach(() => {
    on = false;
    Object.assign(kernelTuning, defaults);
    Object.assign(tensorTuning, tensorDefaults);
  });

  it('the exact tiles past the cut keep a dispatch each (their own lists of k, widened to k\'); the oracle\'s ids at 1-4 queries', async () => {
    const d = 64, n = 1000, k = 4;
    const base = normalizeRows(clusteredVectors(n, d, 10, 95001), d);
    const q = normalizeRows(clusteredVectors(4, d, 10, 95002), d);
    on = true;
    // The hook from one query, so the f32 kernels of the tiles past the cut are flat_gemv's.
    Object.assign(tensorTuning, { minBatch: 1, f32MinBatch: 1 });
    Object.assign(kernelTuning, defaults, { gemvTiles: 4 });
    // 5 tiles of 200 rows; planes for tiles 0-1 only (the others fail to allocate): the f32 kernels score tiles 2-4, equal tiles.
    const index = await GpuFlatIndex.create(d, 'ip', { precision: 'f32', digitPlanes: true, maxTileBytes: 200 * d * 4, gpu: wrapGpu((await resolveGpu())!, { buffers: [], oomLabel: /f32 digits [3-9]/ }), debugPoison: true });
    try {
      await index.add(base);
      expect(index.plan!.shards[0]!.tiles).toEqual([200, 200, 200, 200, 200]);
      const shard = (index as unknown as { shards: Shard[] }).shards[0]!;
      const scorers: string[] = [];
      const submit = shard.submitBatch.bind(shard);
      shard.submitBatch = (qs, nqb, kk, scorer, ...rest) => (scorers.push(scorer.key), submit(qs, nqb, kk, scorer, ...rest));
      for (const nq of [1, 2, 4]) {
        const qs = q.subarray(0, nq * d);
        expectMatchesOracle(await index.search(qs, k), bruteForce(base, qs, d, k, 'ip'), distanceTolerance(d, 4 * d), base, qs, d, 'ip');
      }
      expect(index.digitsCut).toMatch(/digit planes for 2 of the 5 planned tiles fit/);
      expect(shard.digitTilesPlanned).toBe(2);
      // Each batch went through the hook (a mixed batch), and flat_gemv scored the exact tiles.
      expect(scorers.filter((key) => key.startsWith('ext:')).length).toBeGreaterThanOrEqual(3);
      expect([...shard.pipelines.keys()].some((key) => key.startsWith('gemv:0:'))).toBe(true);
      // Not grouped: a group would write lists of k' from a kernel whose heaps hold the caller's k
      // (KF 8 for k 4, k' 20), over its neighbours' heap slots, and skip the widening.
      expect([...shard.pipelines.keys()].filter((key) => /^gemv:.*:x\d$/.test(key))).toEqual([]);
      // Every list certified: none was searched again (which would mask wrong lists).
      expect(shard.uncertifiedQueries).toBe(0);
    } finally {
      await index.dispose();
    }
  }, 300_000);
});
