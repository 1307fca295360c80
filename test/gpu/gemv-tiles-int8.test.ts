/**
 * int8_gemv (int8 inner products, 1-4 queries) over several tiles a dispatch (kernelTuning.int8GemvTiles,
 * tilesSource): consecutive tiles of equal rows scored by one dispatch, each workgroup reading its
 * own tile's binding. The shard's merged lists against the float64 oracle of the quantised keys
 * (test/helpers/int8-keys.ts), candidate lists poisoned first, the same lists bit for bit as a
 * dispatch a tile, and the scoring dispatches counted as they are encoded: tiles of 240 rows and a
 * smaller last one, which joins the last group where it has room (its own segments, shorter: 97
 * rows, or 20 with k = 17, fewer rows than one of the others' segments) and goes alone where not,
 * several segments a tile; one query and four (the kernel's classes' ends), groups of 2 and 3,
 * shared bounds on (their buckets and bound words span the batch's tiles, the smaller tile's
 * segments publishing by their own lists) and off; and warmUp compiling the grouped kernels searches use.
 * Each case compiles its own kernels (lavapipe is slow).
 */
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { acquireDevice, type GpuContext } from '../../src/gpu/device.js';
import { FlatShard, kernelTuning } from '../../src/gpu/flat-shard.js';
import { int8GemvTuning } from '../../src/gpu/int8-gemv.js';
import { encodeRows, trainSq } from '../../src/gpu/tensor/quantize.js';
import { clusteredVectors, normalizeRows, randomVectors } from '../helpers/data.js';
import { countDispatches } from '../helpers/dispatches.js';
import { gpuForTests } from '../helpers/gpu.js';
import { expectInt8KeysMatchOracle } from '../helpers/int8-keys.js';

const hasGpu = await gpuForTests('GPU int8_gemv over several tiles a dispatch');
const defaults = { ...kernelTuning };
const int8Defaults = { ...int8GemvTuning };
let seed = 95000;

describe.skipIf(!hasGpu)('int8_gemv, several tiles a dispatch', () => {
  let ctx: GpuContext;
  beforeAll(async () => {
    ctx = await acquireDevice({ label: 'int8_gemv tiles test' });
  });
  afterAll(() => ctx?.destroy());
  afterEach(() => {
    Object.assign(kernelTuning, defaults);
    Object.assign(int8GemvTuning, int8Defaults);
  });

  it.each([
    // d, tiles a dispatch, nq, k, clustered, shared-bound buckets (int8GemvTuning.share; 0: off),
    // full tiles of 240 rows, the last tile's rows, the tiles each scoring dispatch takes
    [64, 3, 1, 10, true, 8, 2, 97, [3]],
    [100, 3, 4, 17, false, 8, 4, 20, [3, 2]],
    [48, 2, 3, 5, true, 0, 6, 97, [2, 2, 2, 1]],
  ] as const)('d=%i int8GemvTiles=%i nq=%i k=%i clustered=%s share=%i, %i tiles of 240 rows and one of %i: dispatches of %j tiles, the oracle\'s keys, the lists of a dispatch a tile bit for bit', async (d, tiles, nq, k, clustered, share, full, last, groups) => {
    const tileRows = 240;
    const n = full * tileRows + last;
    const base = clustered ? normalizeRows(clusteredVectors(n, d, 6, seed++), d) : randomVectors(n, d, seed++);
    const queries = clustered ? normalizeRows(clusteredVectors(nq, d, 6, seed++), d) : randomVectors(nq, d, seed++);
    Object.assign(int8GemvTuning, int8Defaults, { share });
    const shard = new FlatShard(ctx, { d, metric: 'ip', precision: 'int8', maxTileBytes: tileRows * Math.ceil(d / 16) * 16, debugPoison: true });
    const dispatches = countDispatches(ctx.device);
    try {
      const sq = trainSq(base, n, d);
      await shard.setSq(sq.vmin, sq.step);
      const dp = shard.rowWords * 16;
      const codes = encodeRows(base, n, d, sq, false, dp);
      await shard.add(new Uint32Array(codes.buffer));
      expect(shard.tileCount).toBe(full + 1);
      const padded = new Float32Array(nq * dp);
      for (let q = 0; q < nq; q++) padded.set(queries.subarray(q * d, (q + 1) * d), q * dp);
      const sqHost = new Float32Array(2 * dp);
      sqHost.set(sq.vmin, 0);
      sqHost.set(sq.step, dp);
      // Several segments a tile, the last one partial.
      // flat_gemv's knob does not group int8_gemv: its own (int8GemvTiles) is 0 by default, which
      // keeps one tile a dispatch on a software adapter (4 on a GPU, H100 call h12).
      Object.assign(kernelTuning, defaults, { targetWorkgroups: 3, gemvTiles: tiles });
      expect(kernelTuning.int8GemvTiles).toBe(0);
      Object.assign(int8GemvTuning, { targetWorkgroups: 3 });
      expect(shard.scorerFor(nq, k).key).toMatch(share ? /^i8gemv:.*:sh\d+e\d+$/ : /^i8gemv:[^h]*$/);
      dispatches.labels.length = 0;
      const one = await shard.search(padded, nq, k);
      const scoredOne = dispatches.labels.filter((l) => l.startsWith('int8_gemv '));
      Object.assign(kernelTuning, { int8GemvTiles: tiles });
      dispatches.labels.length = 0;
      const got = await shard.search(padded, nq, k);
      const scored = dispatches.labels.filter((l) => l.startsWith('int8_gemv '));
      expectInt8KeysMatchOracle(got, { queries: padded, codes, sq: sqHost, n, dp, parts: int8GemvTuning.qbits === 16 ? 2 : 1 }, nq, k);
      expect([...got.ids]).toEqual([...one.ids]);
      expect([...got.keys]).toEqual([...one.keys]);
      // A dispatch a tile, then the groups (a group of one: the one-tile kernel).
      expect(scoredOne).toHaveLength(full + 1);
      expect(scoredOne.every((l) => !l.includes(' tiles'))).toBe(true);
      expect(scored.map((l) => /x(\d) tiles$/.exec(l)?.[1] ?? '1')).toEqual(groups.map(String));
    } finally {
      dispatches.restore();
      shard.destroy();
    }
  });

  it('warmUp compiles the grouped int8_gemv pipelines searches of 1-4 queries dispatch (serve compiles them at start), and none is compiled after', async () => {
    const d = 32;
    const n = 1537;
    const base = randomVectors(n, d, seed++);
    const queries = randomVectors(4, d, seed++);
    Object.assign(kernelTuning, defaults, { int8GemvTiles: 2 });
    const shard = new FlatShard(ctx, { d, metric: 'ip', precision: 'int8', maxTileBytes: 240 * Math.ceil(d / 16) * 16 });
    const keys = () => [...(shard as unknown as { pipelines: Map<string, unknown> }).pipelines.keys()];
    try {
      const sq = trainSq(base, n, d);
      await shard.setSq(sq.vmin, sq.step);
      const dp = shard.rowWords * 16;
      await shard.add(new Uint32Array(encodeRows(base, n, d, sq, false, dp).buffer));
      shard.warmUp(10, 4);
      // Classes of 1, 2 and 4 queries: each grouped (6 tiles of 240 rows go 2 a dispatch) and alone (the 97-row tile).
      const grouped = keys().filter((key) => /^i8gemv:.*:x2$/.test(key));
      expect(grouped.map((key) => key.split(':')[1]).sort()).toEqual(['1', '2', '4']);
      for (const key of grouped) expect(keys()).toContain(key.slice(0, -':x2'.length));
      const before = keys();
      for (let nq = 1; nq <= 4; nq++) {
        const padded = new Float32Array(nq * dp);
        for (let q = 0; q < nq; q++) padded.set(queries.subarray(q * d, (q + 1) * d), q * dp);
        expect((await shard.search(padded, nq, 10)).ids).toHaveLength(nq * 10);
      }
      expect(keys()).toEqual(before);
    } finally {
      shard.destroy();
    }
  });
});
