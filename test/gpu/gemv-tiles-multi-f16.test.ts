/**
 * flat_gemv_multi (2-16 queries) over several tiles a dispatch (kernelTuning.gemvMultiTiles, tilesSource),
 * f16 rows, packed and on shader-f16 (lavapipe has it): consecutive tiles of equal rows scored by one dispatch, each workgroup reading its own
 * tile's binding, against a dispatch a tile (test/helpers/gemv-tiles-multi.ts: the oracle's ids, the
 * same lists bit for bit, fewer scoring dispatches; a smaller last tile joins the last group where it has room). nq at the
 * ends of the kernel's classes (3 in the block of 4, 5, 16), groups of 2 and 3 tiles. Each case compiles its own kernels,
 * slowly on lavapipe: small d, 2-3 tiles.
 */
import { afterEach, describe, it } from 'vitest';
import { kernelTuning } from '../../src/gpu/flat-shard.js';
import { gpuForTests } from '../helpers/gpu.js';
import { checkGemvMultiTiles, tuningDefaults } from '../helpers/gemv-tiles-multi.js';

const hasGpu = await gpuForTests('GPU flat_gemv_multi over several tiles a dispatch (f16)');
let seed = 94100;

describe.skipIf(!hasGpu)('flat_gemv_multi f16, several tiles a dispatch', () => {
  afterEach(() => void Object.assign(kernelTuning, tuningDefaults));

  it.each([
    // d, metric, tiles a dispatch, precision, clustered, nq, k, the tiles (checkGemvMultiTiles' TileLayout)
    // the last group full: the smaller tile goes alone
    [72, 'l2', 2, 'f16', true, 5, 10, { full: 2, last: 97, groups: [2, 1] }],
    // k near the last tile's rows, fewer than one of the others' segments (80 rows)
    [48, 'ip', 2, 'f16 native', false, 16, 7, { full: 1, last: 9, groups: [2] }],
    // the block of 4 (2-4 queries), with its own words in flight and workgroups
    [64, 'ip', 3, 'f16', false, 3, 10, { full: 2, last: 97, groups: [3] }],
  ] as const)('d=%i %s gemvMultiTiles=%i %s clustered=%s nq=%i k=%i tiles %j: the oracle\'s ids, the lists of a dispatch a tile bit for bit, fewer dispatches', async (d, metric, tiles, kind, clustered, nq, k, layout) => {
    await checkGemvMultiTiles(d, metric, tiles, kind, clustered, nq, k, (seed += 2), layout);
  });
});
