/**
 * Several tiles a dispatch (kernelTuning.gemvTiles, gemvMultiTiles, int8GemvTiles) on an index that
 * grows by add() between searches. The last tile is made with the full tiles' capacity, so as it
 * fills its buffers, and with them a grouped step's bind-group key (tg:..., the tiles' capacities),
 * stay the same while its rows, segment plan (params.lastRows / lastSegLen) and the groups change:
 * 240 + 240 + 97 rows (the smaller tile last in a group), 240 x 3 (all equal), 240 x 3 + 50 (a new
 * tile starts), 240 x 4 + 110. Each search of the grouped index (its bind groups and uniform words
 * cached from its own grouped searches only, as a server's are) against the oracle, the scoring
 * dispatches counted, and bit for bit against a twin index given the same rows and searched a
 * dispatch a tile. Candidate lists poisoned first (debugPoison). Small d (lavapipe compiles slowly).
 */
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { acquireDevice, type GpuContext } from '../../src/gpu/device.js';
import { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import { FlatShard, kernelTuning } from '../../src/gpu/flat-shard.js';
import { int8GemvTuning } from '../../src/gpu/int8-gemv.js';
import { encodeRows, trainSq } from '../../src/gpu/tensor/quantize.js';
import { normalizeRows, clusteredVectors, randomVectors } from '../helpers/data.js';
import { countDispatches } from '../helpers/dispatches.js';
import { gpuForTests } from '../helpers/gpu.js';
import { expectInt8KeysMatchOracle } from '../helpers/int8-keys.js';
import { bruteForce, distanceTolerance, expectMatchesOracle } from '../helpers/oracle.js';

const hasGpu = await gpuForTests('GPU gemv kernels over several tiles a dispatch, an index growing between searches');
const defaults = { ...kernelTuning };
const int8Defaults = { ...int8GemvTuning };
const tileRows = 240;
/** Rows each add() appends, and the tiles after it. */
const adds = [577, 143, 50, 300];
const tilesAfter = [[240, 240, 97], [240, 240, 240], [240, 240, 240, 50], [240, 240, 240, 240, 110]];
/** Tiles each scoring dispatch takes, by the dispatch's pipeline label ('1': the one-tile kernel). */
const groupsOf = (labels: string[], kernel: string): string[] => labels.filter((l) => l.startsWith(`${kernel} `)).map((l) => /x(\d) tiles$/.exec(l)?.[1] ?? '1');

describe.skipIf(!hasGpu)('gemv kernels over several tiles a dispatch, the index growing between searches', () => {
  afterEach(() => {
    Object.assign(kernelTuning, defaults);
    Object.assign(int8GemvTuning, int8Defaults);
  });

  it.each([
    // kernel, its knob, tiles a dispatch, metric, d, nq, k, the groups after each add
    ['flat_gemv', 'gemvTiles', 3, 'l2', 40, 1, 10, [['3'], ['3'], ['3', '1'], ['3', '2']]],
    ['flat_gemv', 'gemvTiles', 2, 'ip', 24, 3, 10, [['2', '1'], ['2', '1'], ['2', '2'], ['2', '2', '1']]],
    ['flat_gemv_multi', 'gemvMultiTiles', 3, 'ip', 32, 5, 10, [['3'], ['3'], ['3', '1'], ['3', '2']]],
  ] as const)('%s %s=%i %s d=%i nq=%i k=%i: after each add the oracle\'s ids and the one-tile lists bit for bit, dispatches of %j tiles', async (kernel, knob, tiles, metric, d, nq, k, groups) => {
    const n = adds.reduce((a, b) => a + b, 0);
    // l2: rows away from the origin, so a slot read past the last tile's rows (zeros) would rank first.
    const base = clusteredVectors(n, d, 5, 97000 + d).map((x) => (metric === 'l2' ? x + 2 : x));
    const q = randomVectors(nq, d, 97100 + d);
    const opts = { precision: 'f32', maxTileBytes: 16 * Math.ceil(d / 4) * tileRows, debugPoison: true } as const;
    const grouped = await GpuFlatIndex.create(d, metric, opts);
    const single = await GpuFlatIndex.create(d, metric, opts);
    const deviceOf = (index: GpuFlatIndex) => (index as unknown as { shards: FlatShard[] }).shards[0]!.ctx.device;
    const dispatches = countDispatches(deviceOf(grouped));
    const singleDispatches = countDispatches(deviceOf(single));
    const tuning = { targetWorkgroups: 3, gemvMulti: 15, mtarget: 0, gemvMultiFrom: 5 }; // 2-4 queries on flat_gemv
    try {
      let added = 0;
      for (let step = 0; step < adds.length; step++) {
        const rows = base.subarray(added * d, (added + adds[step]!) * d);
        await grouped.add(rows);
        await single.add(rows);
        added += adds[step]!;
        expect(grouped.plan!.shards[0]!.tiles).toEqual(tilesAfter[step]);
        Object.assign(kernelTuning, defaults, tuning, { [knob]: tiles });
        dispatches.labels.length = 0;
        const got = await grouped.search(q, k);
        expect(groupsOf(dispatches.labels, kernel)).toEqual(groups[step]);
        Object.assign(kernelTuning, defaults, tuning);
        singleDispatches.labels.length = 0;
        const one = await single.search(q, k);
        expect(groupsOf(singleDispatches.labels, kernel)).toEqual(tilesAfter[step]!.map(() => '1'));
        const all = base.subarray(0, added * d);
        expectMatchesOracle(got, bruteForce(all, q, d, k, metric), distanceTolerance(d, (metric === 'l2' ? 8 : 4) * d), all, q, d, metric);
        expect([...got.labels]).toEqual([...one.labels]);
        expect([...got.distances]).toEqual([...one.distances]);
      }
    } finally {
      dispatches.restore();
      singleDispatches.restore();
      await grouped.dispose();
      await single.dispose();
    }
  });

  describe('int8_gemv', () => {
    let ctx: GpuContext;
    beforeAll(async () => {
      ctx = await acquireDevice({ label: 'int8_gemv growing tiles test' });
    });
    afterAll(() => ctx?.destroy());

    it('int8GemvTiles=3, shared bounds on, nq=2 k=10: after each add the oracle\'s keys and the one-tile lists bit for bit, dispatches of [3], [3], [3, 1], [3, 2] tiles', async () => {
      const d = 48;
      const nq = 2;
      const k = 10;
      const n = adds.reduce((a, b) => a + b, 0);
      const base = normalizeRows(clusteredVectors(n, d, 6, 97200), d);
      const queries = normalizeRows(clusteredVectors(nq, d, 6, 97201), d);
      const layout = { d, metric: 'ip', precision: 'int8', maxTileBytes: tileRows * Math.ceil(d / 16) * 16, debugPoison: true } as const;
      const grouped = new FlatShard(ctx, layout);
      const single = new FlatShard(ctx, layout);
      const dispatches = countDispatches(ctx.device);
      try {
        const sq = trainSq(base, n, d);
        await grouped.setSq(sq.vmin, sq.step);
        await single.setSq(sq.vmin, sq.step);
        const dp = grouped.rowWords * 16;
        const codes = encodeRows(base, n, d, sq, false, dp);
        const padded = new Float32Array(nq * dp);
        for (let i = 0; i < nq; i++) padded.set(queries.subarray(i * d, (i + 1) * d), i * dp);
        const sqHost = new Float32Array(2 * dp);
        sqHost.set(sq.vmin, 0);
        sqHost.set(sq.step, dp);
        const tuning = { targetWorkgroups: 3 };
        Object.assign(int8GemvTuning, int8Defaults, { share: 8, targetWorkgroups: 3 });
        const groups = [['3'], ['3'], ['3', '1'], ['3', '2']];
        let added = 0;
        for (let step = 0; step < adds.length; step++) {
          const rows = codes.slice(added * dp, (added + adds[step]!) * dp);
          await grouped.add(new Uint32Array(rows.buffer));
          await single.add(new Uint32Array(rows.buffer));
          added += adds[step]!;
          expect(grouped.tileCount).toBe(tilesAfter[step]!.length);
          Object.assign(kernelTuning, defaults, tuning, { int8GemvTiles: 3 });
          expect(grouped.scorerFor(nq, k).key).toMatch(/^i8gemv:.*:sh\d+e\d+$/);
          dispatches.labels.length = 0;
          const got = await grouped.search(padded, nq, k);
          expect(groupsOf(dispatches.labels, 'int8_gemv')).toEqual(groups[step]);
          Object.assign(kernelTuning, defaults, tuning);
          dispatches.labels.length = 0;
          const one = await single.search(padded, nq, k);
          expect(groupsOf(dispatches.labels, 'int8_gemv')).toEqual(tilesAfter[step]!.map(() => '1'));
          expectInt8KeysMatchOracle(got, { queries: padded, codes: codes.subarray(0, added * dp), sq: sqHost, n: added, dp, parts: int8GemvTuning.qbits === 16 ? 2 : 1 }, nq, k, `after ${added} rows`);
          expect([...got.ids]).toEqual([...one.ids]);
          expect([...got.keys]).toEqual([...one.keys]);
        }
      } finally {
        dispatches.restore();
        grouped.destroy();
        single.destroy();
      }
    });
  });
});
