/**
 * flat_gemv_multi over several tiles a dispatch (kernelTuning.gemvMultiTiles) against a dispatch a tile:
 * the check of test/gpu/gemv-tiles-multi*.test.ts (one file a precision, to keep each file short on
 * lavapipe, which compiles each kernel slowly). Tiles of 240 rows and a smaller last one (it joins
 * the last group where that has room), several segments a tile with a partial last one: exact ids
 * against the float64 oracle (over the half-rounded rows for f16), candidate lists poisoned before
 * every search, the same lists bit for bit as a dispatch a tile, and the scoring dispatches counted
 * as they are encoded.
 */
import { expect } from 'vitest';
import { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import { kernelTuning } from '../../src/gpu/flat-shard.js';
import { fromHalfBits, toHalfBits } from '../../src/gpu/half.js';
import { clusteredVectors, randomVectors } from './data.js';
import { countDispatches } from './dispatches.js';
import { bruteForce, distanceTolerance, expectMatchesOracle } from './oracle.js';
import { expectSameSearch, recordShardLists } from './shard-lists.js';

/** kernelTuning as the tests found it. */
export const tuningDefaults = { ...kernelTuning };

/** The index's tiles: `full` of 240 rows, then one of `last` rows; `groups`: the tiles each scoring dispatch takes, in order. */
export interface TileLayout {
  full: number;
  last: number;
  groups: readonly number[];
}

/** One case: d, metric, tiles a dispatch (2 or 3), precision ('f16 native': shader-f16), clustered rows, nq (5-16), k, a seed, the tiles. */
export async function checkGemvMultiTiles(d: number, metric: 'ip' | 'l2', tiles: 2 | 3, kind: 'f32' | 'f16' | 'f16 native', clustered: boolean, nq: number, k: number, seed: number, layout: TileLayout): Promise<void> {
  const tileRows = 240;
  const n = layout.full * tileRows + layout.last;
  const precision = kind === 'f16 native' ? 'f16' : kind;
  // l2: rows away from the origin, so a slot read past the last tile's rows (zeros) would rank first.
  const base = (clustered ? clusteredVectors(n, d, 5, seed) : randomVectors(n, d, seed)).map((x) => (metric === 'l2' ? x + 2 : x));
  const q = clustered ? clusteredVectors(nq, d, 5, seed + 1) : randomVectors(nq, d, seed + 1);
  const rows = precision === 'f16' ? base.map((x) => fromHalfBits(toHalfBits(x))) : base;
  const rowBytes = Math.ceil(d / (precision === 'f32' ? 4 : 8)) * 16;
  const index = await GpuFlatIndex.create(d, metric, { precision, noShaderF16: kind !== 'f16 native', maxTileBytes: rowBytes * tileRows, debugPoison: true });
  const { shard, lists } = recordShardLists(index);
  const dispatches = countDispatches(shard.ctx.device);
  try {
    await index.add(base);
    expect(index.plan!.shards[0]!.tiles).toEqual([...Array<number>(layout.full).fill(tileRows), layout.last]);
    if (kind === 'f16 native') expect(shard.ctx.hasF16).toBe(true);
    // flat_gemv_multi for every class here (f16 9-16 too), several segments a tile, the last one partial.
    // flat_gemv's knob does not group flat_gemv_multi: with its own knob at 1, a dispatch a tile.
    Object.assign(kernelTuning, tuningDefaults, { gemvMulti: 15, mtarget: 0, targetWorkgroups: 3, gemvTiles: tiles, gemvMultiTiles: 1 });
    // From h16split / m16split queries two blocks of 8, blocks first (QX; split evenly with meven, :b): the grid turned round over the tile groups too.
    const split = precision === 'f32' ? kernelTuning.m16split : kernelTuning.h16split;
    const blocksFirst = nq > 8 && split > 0 && nq >= split;
    const block = nq <= 4 && kernelTuning.mq4 ? 4 : nq <= 8 || blocksFirst ? 8 : 16;
    expect(shard.scorerFor(nq, k).key).toMatch(new RegExp(`^gemvm:${precision === 'f32' ? 0 : 1}:${metric === 'ip' ? 0 : 1}:${kind === 'f16 native' ? 'h' : 'p'}:\\d+:${block}:.*${blocksFirst ? ':qx(:b\\d+)?' : ''}$`));
    dispatches.labels.length = 0;
    const one = await index.search(q, k);
    const scoredOne = dispatches.labels.filter((l) => l.startsWith('flat_gemv_multi '));
    Object.assign(kernelTuning, { gemvMultiTiles: tiles });
    dispatches.labels.length = 0;
    const got = await index.search(q, k);
    const scored = dispatches.labels.filter((l) => l.startsWith('flat_gemv_multi '));
    expectMatchesOracle(got, bruteForce(rows, q, d, k, metric), distanceTolerance(d, metric === 'l2' ? 8 * d : 4 * d), rows, q, d, metric);
    expectSameSearch(got, one, lists);
    // A dispatch a tile, then the groups (a group of one: the one-tile kernel).
    expect(scoredOne).toHaveLength(layout.full + 1);
    expect(scoredOne.every((l) => !l.includes(' tiles'))).toBe(true);
    expect(scored.map((l) => /x(\d) tiles$/.exec(l)?.[1] ?? '1')).toEqual(layout.groups.map(String));
  } finally {
    dispatches.restore();
    await index.dispose();
  }
}
