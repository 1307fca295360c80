/**
 * flat_gemv over several tiles a dispatch (kernelTuning.gemvTiles) where the index's last tile is
 * smaller (an index's usual layout: 1M x 768 f32 is 699,051 + 300,949 rows): the smaller tile joins
 * the last group where it has room, scored with its own rows and segment plan (params.lastRows /
 * lastSegLen), so 1-4 tiles of a 1M index are one dispatch. Against a dispatch a tile: the oracle's
 * ids, the same lists bit for bit (candidate lists poisoned first), and the scoring dispatches
 * counted as they are encoded (test/helpers/dispatches.ts). Several segments a tile (targetWorkgroups
 * 3: 80-row segments of the 240-row tiles); a last tile of 97 rows, of 12 with k = 12 (fewer rows than
 * one of the others' segments), and of 4 rows with more segments than the others (5-row tiles in 3
 * segments, 4 rows in 4). The l2 cases' rows sit away from the origin, so a slot read past the last
 * tile's rows (zeros) would rank first. Small d, groups of 2 and 3 (lavapipe compiles each kernel slowly).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import { kernelTuning } from '../../src/gpu/flat-shard.js';
import { randomVectors } from '../helpers/data.js';
import { countDispatches } from '../helpers/dispatches.js';
import { gpuForTests } from '../helpers/gpu.js';
import { bruteForce, distanceTolerance, expectMatchesOracle } from '../helpers/oracle.js';
import { expectSameSearch, recordShardLists } from '../helpers/shard-lists.js';

const hasGpu = await gpuForTests('GPU flat_gemv over several tiles a dispatch, a smaller last tile');
const defaults = { ...kernelTuning };
let seed = 96000;

describe.skipIf(!hasGpu)('flat_gemv, a smaller last tile in the last group', () => {
  afterEach(() => void Object.assign(kernelTuning, defaults));

  it.each([
    // metric, tiles a dispatch, rows of the full tiles, how many, the last tile's rows, segments a tile (targetWorkgroups), query counts, k, the tiles each scoring dispatch takes
    ['ip', 3, 240, 2, 97, 3, [1, 3], 10, [3]],
    ['l2', 3, 240, 4, 12, 3, [1], 12, [3, 2]],
    ['l2', 2, 5, 1, 4, 4, [1, 2], 4, [2]],
  ] as const)('%s gemvTiles=%i, tiles of %i rows x%i and one of %i, %i segments a tile, nq=%j k=%i: dispatches of %j tiles; the oracle\'s ids, the lists of a dispatch a tile bit for bit', async (metric, tiles, tileRows, full, last, target, nqs, k, groups) => {
    const d = 40;
    const n = full * tileRows + last;
    const base = randomVectors(n, d, seed++).map((x) => (metric === 'l2' ? x + 2 : x));
    const q = randomVectors(3, d, seed++);
    const index = await GpuFlatIndex.create(d, metric, { precision: 'f32', maxTileBytes: 16 * (d / 4) * tileRows, debugPoison: true });
    const { shard, lists } = recordShardLists(index);
    const dispatches = countDispatches(shard.ctx.device);
    try {
      await index.add(base);
      expect(index.plan!.shards[0]!.tiles).toEqual([...Array<number>(full).fill(tileRows), last]);
      for (const nq of nqs) {
        const qs = q.subarray(0, nq * d);
        Object.assign(kernelTuning, defaults, { targetWorkgroups: target, gemvTiles: 1, gemvMultiFrom: 5 }); // 2-4 queries on flat_gemv
        lists.length = 0;
        dispatches.labels.length = 0;
        const one = await index.search(qs, k);
        const scoredOne = dispatches.labels.filter((l) => l.startsWith('flat_gemv '));
        Object.assign(kernelTuning, { gemvTiles: tiles });
        dispatches.labels.length = 0;
        const got = await index.search(qs, k);
        const scored = dispatches.labels.filter((l) => l.startsWith('flat_gemv '));
        expectMatchesOracle(got, bruteForce(base, qs, d, k, metric), distanceTolerance(d, (metric === 'l2' ? 8 : 4) * d), base, qs, d, metric);
        expectSameSearch(got, one, lists);
        // A dispatch a tile, then the groups (a group of one: the one-tile kernel).
        expect(scoredOne).toHaveLength(full + 1);
        expect(scoredOne.every((l) => !l.includes(' tiles'))).toBe(true);
        expect(scored.map((l) => /x(\d) tiles$/.exec(l)?.[1] ?? '1')).toEqual(groups.map(String));
      }
    } finally {
      dispatches.restore();
      await index.dispose();
    }
  });
});
