/**
 * flat_gemv_multi (5-16 queries) over several tiles a dispatch (kernelTuning.gemvMultiTiles, tilesSource),
 * f32 rows: consecutive tiles of equal rows scored by one dispatch, each workgroup reading its own
 * tile's binding, against a dispatch a tile (test/helpers/gemv-tiles-multi.ts: the oracle's ids, the
 * same lists bit for bit, fewer scoring dispatches; a smaller last tile joins the last group where it has room). nq at the
 * ends of the kernel's classes (5, 16), groups of 2 and 3 tiles. Each case compiles its own kernels,
 * slowly on lavapipe: small d, 2-3 tiles. Then the default (gemvMultiTiles 0): grouped on a GPU, not on
 * a software adapter.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import { type FlatShard, kernelTuning } from '../../src/gpu/flat-shard.js';
import { randomVectors } from '../helpers/data.js';
import { countDispatches } from '../helpers/dispatches.js';
import { gpuForTests } from '../helpers/gpu.js';
import { checkGemvMultiTiles, tuningDefaults } from '../helpers/gemv-tiles-multi.js';
import { bruteForce, distanceTolerance, expectMatchesOracle } from '../helpers/oracle.js';

const hasGpu = await gpuForTests('GPU flat_gemv_multi over several tiles a dispatch (f32)');
let seed = 94000;

describe.skipIf(!hasGpu)('flat_gemv_multi f32, several tiles a dispatch', () => {
  afterEach(() => void Object.assign(kernelTuning, tuningDefaults));

  it.each([
    // d, metric, tiles a dispatch, precision, clustered, nq, k, the tiles (checkGemvMultiTiles' TileLayout)
    [61, 'ip', 3, 'f32', false, 5, 10, { full: 2, last: 97, groups: [3] }],
    // k = the last tile's rows, fewer than one of the others' segments (80 rows)
    [40, 'l2', 2, 'f32', true, 16, 12, { full: 3, last: 12, groups: [2, 2] }],
  ] as const)('d=%i %s gemvMultiTiles=%i %s clustered=%s nq=%i k=%i tiles %j: the oracle\'s ids, the lists of a dispatch a tile bit for bit, fewer dispatches', async (d, metric, tiles, kind, clustered, nq, k, layout) => {
    await checkGemvMultiTiles(d, metric, tiles, kind, clustered, nq, k, (seed += 2), layout);
  });
});

describe.skipIf(!hasGpu)('flat_gemv_multi tiles a dispatch by default', () => {
  afterEach(() => void Object.assign(kernelTuning, tuningDefaults));

  it('gemvMultiTiles 0 (the default, H100 call h13) groups the tiles on a GPU and none on a software adapter', async () => {
    expect(tuningDefaults.gemvMultiTiles).toBe(0);
    const d = 61;
    const base = randomVectors(2 * 240 + 97, d, (seed += 2));
    const q = randomVectors(5, d, seed + 1);
    const index = await GpuFlatIndex.create(d, 'ip', { precision: 'f32', maxTileBytes: 16 * Math.ceil(d / 4) * 240, debugPoison: true });
    const ctx = (index as unknown as { shards: FlatShard[] }).shards[0]!.ctx;
    const dispatches = countDispatches(ctx.device);
    try {
      await index.add(base);
      const want = bruteForce(base, q, d, 10, 'ip');
      // Several segments a tile, as in the cases above.
      Object.assign(kernelTuning, { gemvMulti: 15, mtarget: 0, targetWorkgroups: 3 });
      // As a software adapter (CI's lavapipe) reports itself, then as a GPU would: the two tiles of
      // 240 rows and the smaller last one in one dispatch.
      for (const [software, groups] of [[true, ['1', '1', '1']], [false, ['3']]] as const) {
        Object.defineProperty(ctx, 'software', { value: software, configurable: true });
        dispatches.labels.length = 0;
        expectMatchesOracle(await index.search(q, 10), want, distanceTolerance(d, 4 * d), base, q, d, 'ip');
        const scored = dispatches.labels.filter((l) => l.startsWith('flat_gemv_multi '));
        expect(scored.map((l) => /x(\d) tiles$/.exec(l)?.[1] ?? '1')).toEqual(groups);
      }
    } finally {
      dispatches.restore();
      await index.dispose();
    }
  });
});
