/**
 * GpuFlatIndex's f16 two-pass scan (src/gpu/tensor/half-scan.ts, tensorTuning.f16Scan) through the
 * index on the software adapter, its matrix calls emulated (test/helpers/emulate-matrices.ts
 * emulatedHalfScanScorer): the sample over the first tile, the thresholds, each tile's scan and
 * selection, the shard's merges and exact re-rank. Results against the float64 oracle over the
 * f16-rounded rows; queries whose candidates overflow are searched again exactly.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { tempBytes, tensorExtraBytes } from '../../src/core/planner.js';
import type { SearchResult } from '../../src/core/types.js';
import { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import { DIRECT_LIST_MOST, registerChunkScorer, type TwoPassShape, twoPassSamples } from '../../src/gpu/flat-shard.js';
import { fromHalfBits, toHalfBits } from '../../src/gpu/half.js';
import { tensorTuning } from '../../src/gpu/tensor/hook.js';
import { clusteredVectors, normalizeRows } from '../helpers/data.js';
import { countDispatches } from '../helpers/dispatches.js';
import { emulatedHalfScanScorer } from '../helpers/emulate-matrices.js';
import { gpuForTests } from '../helpers/gpu.js';
import { bruteForce, recallAtK, trueDistance } from '../helpers/oracle.js';

const hasGpu = await gpuForTests('the f16 two-pass scan through the index, emulated');

/** The emulated scan takes batches only while this is set (other test files share the registry). */
let on = false;

const toF16 = (x: Float32Array) => x.map((v) => fromHalfBits(toHalfBits(v)));

type ShardView = { uncertifiedQueries: number; tileCount: number; tempBytes: number; scorerFor(nq: number, k: number): { key: string; approximate?: string; twoPass?: unknown } };
const shardsOf = (index: GpuFlatIndex): ShardView[] => (index as unknown as { shards: ShardView[] }).shards;
/** The first shard's tiles' rows. */
const tileRowsOf = (index: GpuFlatIndex): number[] => (index as unknown as { shards: { tiles: { rows: number }[] }[] }).shards[0]!.tiles.map((t) => t.rows);

/** The knobs these tests scan with: few workgroups (a software adapter), a sample of a quarter of the first tile. */
const SMALL_SCAN = { f16Scan: true, f16ScanWorkgroups: 3, f16ScanGroupWorkgroups: 3, f16ScanSampleWorkgroups: 2, f16ScanSampleDiv: 4 };

/** The f16 rows' exact best: ids against the float64 oracle, every id a row, every distance exact, best first. */
function expectF16Exact(got: SearchResult, rows: Float32Array, q: Float32Array, d: number, k: number, what = ''): void {
  expect(recallAtK(got, bruteForce(rows, q, d, k, 'ip')), what).toBeGreaterThanOrEqual(0.99);
  for (let i = 0; i < got.labels.length; i++) {
    expect(got.labels[i]).toBeGreaterThanOrEqual(0n);
    const exact = trueDistance(rows, q, d, Math.floor(i / k), Number(got.labels[i]!), 'ip');
    expect(Math.abs(got.distances[i]! - exact)).toBeLessThanOrEqual(1e-5 * Math.max(1, Math.abs(exact)));
    if (i % k > 0) expect(got.distances[i]!).toBeLessThanOrEqual(got.distances[i - 1]!);
  }
}

describe.skipIf(!hasGpu)('GpuFlatIndex f16 two-pass scan, emulated subgroup matrices', () => {
  registerChunkScorer(emulatedHalfScanScorer({ active: () => on }));
  const saved = { ...tensorTuning };
  /** The emulated scan and the knobs as they were (each test's finally, and after all). */
  const scanOff = () => {
    on = false;
    Object.assign(tensorTuning, saved);
  };
  afterAll(scanOff);

  async function run(c: { n: number; nq: number; k: number; tiles: number; d?: number; tuning?: Partial<typeof tensorTuning>; ordered?: boolean; expectOverflow?: boolean | 'either'; shapeKey?: string; keyMatch?: RegExp }): Promise<number> {
    const d = c.d ?? 64;
    const base = normalizeRows(clusteredVectors(c.n, d, 10, 400 + c.n), d);
    // Ordered rows: the first tile's (the sample's) score lowest for every query, so later tiles hold many candidates.
    if (c.ordered) for (let i = 0; i < c.n; i++) for (let j = 0; j < d; j++) base[i * d + j]! += (i / c.n - 0.5) * 0.8;
    const q = normalizeRows(clusteredVectors(c.nq, d, 10, 500 + c.n), d).map((v) => (c.ordered ? Math.abs(v) : v));
    Object.assign(tensorTuning, saved, SMALL_SCAN, c.tuning);
    on = true;
    const rowBytes = d * 2;
    const index = await GpuFlatIndex.create(d, 'ip', { precision: 'f16', maxTileBytes: Math.ceil(c.n / c.tiles) * rowBytes, debugPoison: true });
    try {
      await index.add(base);
      const kp = index.gpuK(c.k, c.nq);
      expect(kp).toBeGreaterThan(c.k);
      const shard = shardsOf(index)[0]!;
      expect(shard.tileCount).toBe(c.tiles);
      const choice = shard.scorerFor(c.nq, kp);
      expect(choice.key).toContain('f16-scan-emulated');
      // The shape planned (half-scan:dPad:bq:warps:ahead:queryChunk:buffers:...) where the case names one.
      if (c.shapeKey) expect(choice.key, choice.key).toContain(c.shapeKey);
      if (c.keyMatch) expect(choice.key).toMatch(c.keyMatch);
      expect(choice.twoPass).toBeDefined();
      expect(choice.approximate).toBe('unscaled');
      const device = (index as unknown as { shards: { ctx: { device: GPUDevice } }[] }).shards[0]!.ctx.device;
      const log = countDispatches(device);
      const before = shard.uncertifiedQueries;
      const got = await index.search(q, c.k);
      log.restore();
      // A sample a sampled tile (as many tiles as its workgroups allow), the thresholds once; each
      // tile a scan and a selection.
      const sampled = twoPassSamples(tileRowsOf(index), choice.twoPass as unknown as TwoPassShape);
      expect(sampled.length).toBeGreaterThanOrEqual(Math.min(c.tiles, 2, tensorTuning.f16ScanSampleTiles));
      expect(log.labels.filter((l) => l === 'f16-scan sample').length).toBe(sampled.length);
      expect(log.labels.filter((l) => l === 'f16-scan threshold').length).toBe(1);
      expect(log.labels.filter((l) => l === 'f16-scan scan').length).toBe(c.tiles);
      expect(log.labels.filter((l) => l === 'f16-scan select').length).toBe(c.tiles);
      // f16ScanDirectList: one tile's selection writes the final lists, no merge (merge_one or merge_lists); more tiles merge.
      const merges = log.labels.filter((l) => l.startsWith('merge_')).length;
      if (tensorTuning.f16ScanDirectList && c.tiles === 1 && kp <= DIRECT_LIST_MOST) expect(merges).toBe(0);
      else expect(merges).toBeGreaterThan(0);
      // The planner's model of a tensor batch's temporary bytes covers the two-pass buffer the shard holds.
      const plan = index.plan!.shards[0]!;
      expect(shard.tempBytes).toBeLessThanOrEqual(tempBytes(d, kp, c.nq, 256 << 20, 2 ** 31, plan.tiles, 'f16') + tensorExtraBytes(d, c.k, c.nq, kp, Math.max(...plan.tiles), false, true));
      const overflowed = shard.uncertifiedQueries - before;
      if (c.expectOverflow === true) expect(overflowed).toBeGreaterThan(0);
      else if (c.expectOverflow !== 'either') expect(overflowed).toBe(0);
      expectF16Exact(got, toF16(base), q, d, c.k);
      return overflowed;
    } finally {
      scanOff();
      await index.dispose();
    }
  }

  it.each([
    // One tile; 20 queries (a 32-query block, 12 of them padding): two blocks a warp at a time
    // (the default from 17 queries, 4 steps ahead), then one.
    { n: 700, nq: 20, k: 5, tiles: 1, keyMatch: /half-scan:64:32:8:2:.*:g2$/ },
    { n: 700, nq: 20, k: 5, tiles: 1, tuning: { f16ScanGroup: 1 }, keyMatch: /half-scan:64:32:8:2:.*:8192$/ },
    // Three tiles of rows not a multiple of 16 (each last block loaded from rows - 16), 16 queries.
    { n: 1001, nq: 16, k: 5, tiles: 3 },
    // The same with two blocks a warp at a time (below f16ScanGroupMinBatch), and 24 queries at d = 256 with four.
    { n: 1001, nq: 16, k: 5, tiles: 3, tuning: { f16ScanGroup: 2, f16ScanGroupMinBatch: 9 }, shapeKey: ':g2' },
    { n: 900, nq: 24, k: 4, tiles: 2, d: 256, tuning: { f16ScanGroup: 4, f16ScanWarps: 4 }, shapeKey: ':g4' },
    // 56 queries (a 64-query block), d = 384 (too wide to stage whole): the queries staged 64 dims
    // at a time (4 steps loaded ahead), in one buffer, then in two (the next chunk's loads ahead).
    { n: 900, nq: 56, k: 4, tiles: 2, d: 384, tuning: { f16ScanQueryChunk: 64, f16ScanWarps: 4, f16ScanDoubleStage: false }, shapeKey: 'half-scan:384:64:4:4:64:1:' },
    // (4 warps: the software adapter's 32 KiB of workgroup memory, where the planner is told the H100's 48.)
    { n: 900, nq: 56, k: 4, tiles: 2, d: 384, tuning: { f16ScanQueryChunk: 64, f16ScanDoubleStage: true, f16ScanWarps: 4 }, shapeKey: 'half-scan:384:64:4:4:64:2:' },
    // 40 queries: a 48-query block (three query tiles: the scores' two halves alternate across
    // blocks), 8 warps (with 4 its queries fit whole).
    { n: 900, nq: 40, k: 4, tiles: 2, d: 384, tuning: { f16ScanQueryChunk: 64, f16ScanDoubleStage: true }, shapeKey: 'half-scan:384:48:8:4:64:2:' },
    // Two buffers asked for where the chunks a row are odd (d = 576 at 32 queries: 9 of 64): one buffer.
    { n: 300, nq: 24, k: 3, tiles: 1, d: 576, tuning: { f16ScanQueryChunk: 64, f16ScanDoubleStage: true }, shapeKey: 'half-scan:576:32:8:2:64:1:' },
    // k' as many as the rows (k near N): the sample's bests fewer than k', every row a candidate.
    { n: 45, nq: 12, k: 10, tiles: 1 },
    // The split sample (a workgroup a block, its warps splitting the dims): three tiles of 16
    // queries; 56 queries at d = 384 over 4 warps (6 steps each); 24 at d = 256 over 3 (16 steps:
    // the last warp's sixth past them).
    { n: 1001, nq: 16, k: 5, tiles: 3, tuning: { f16ScanSampleSplit: true }, keyMatch: /:ss$/ },
    { n: 900, nq: 56, k: 4, tiles: 2, d: 384, tuning: { f16ScanSampleSplit: true, f16ScanQueryChunk: 64, f16ScanWarps: 4 }, keyMatch: /:ss$/ },
    { n: 900, nq: 24, k: 4, tiles: 2, d: 256, tuning: { f16ScanSampleSplit: true, f16ScanGroup: 1, f16ScanWarps: 3 }, keyMatch: /:ss$/ },
    // One tile's lists written in place, unordered, without merge_one (the default; k' 40, and k' as
    // many as the rows, with the split sample), and merged as more tiles' are; three tiles merge theirs.
    { n: 700, nq: 12, k: 10, tiles: 1, tuning: { f16ScanDirectList: true } },
    { n: 700, nq: 12, k: 10, tiles: 1, tuning: { f16ScanDirectList: false } },
    { n: 30, nq: 20, k: 10, tiles: 1, tuning: { f16ScanDirectList: true, f16ScanSampleSplit: true } },
    { n: 1001, nq: 16, k: 5, tiles: 3, tuning: { f16ScanDirectList: true } },
    // The selections keeping 2 values an invocation in registers across their rounds, with the split sample.
    { n: 1001, nq: 16, k: 5, tiles: 3, tuning: { f16ScanRadixHeld: 2, f16ScanSampleSplit: true }, keyMatch: /:ss:rh2$/ },
    { n: 700, nq: 40, k: 10, tiles: 1, tuning: { f16ScanRadixHeld: 1, f16ScanSampleSplit: true, f16ScanDirectList: true }, keyMatch: /:ss:rh1$/ },
    // The sample's blocks in runs of 4 (whole-row and split), over three tiles of rows not a multiple of 16.
    { n: 3001, nq: 16, k: 5, tiles: 3, tuning: { f16ScanSampleRun: 4, f16ScanSampleDiv: 2 }, keyMatch: /:sr4$/ },
    { n: 3001, nq: 16, k: 5, tiles: 3, tuning: { f16ScanSampleRun: 4, f16ScanSampleDiv: 2, f16ScanSampleSplit: true }, keyMatch: /:ss:sr4$/ },
  ])('$n rows in $tiles tile(s), $nq queries, k $k: the f16 rows\' exact best', async (c) => {
    await run(c);
  }, 240_000);

  it('ordered rows (each tile scoring higher than the one before) overflow the candidates: those queries searched again exactly; the sample spread over the tiles overflows fewer than the first tile\'s alone', async () => {
    // A sample of every row's block (sampleDiv 1), 256 candidates a query a tile.
    const knobs = { f16ScanCap: 256, f16ScanSampleWorkgroups: 12, f16ScanSampleDiv: 1 };
    const firstOnly = await run({ n: 1200, nq: 12, k: 5, tiles: 3, ordered: true, tuning: { ...knobs, f16ScanSampleTiles: 1 }, expectOverflow: true });
    const spread = await run({ n: 1200, nq: 12, k: 5, tiles: 3, ordered: true, tuning: knobs, expectOverflow: 'either' });
    expect(spread).toBeLessThan(firstOnly);
  }, 240_000);

  it('two shards (devices) of two tiles each: each samples and scans its own rows, the index merges their best', async () => {
    const d = 64, n = 1300, nq = 24, k = 5;
    const base = normalizeRows(clusteredVectors(n, d, 10, 611), d);
    const q = normalizeRows(clusteredVectors(nq, d, 10, 612), d);
    Object.assign(tensorTuning, saved, SMALL_SCAN);
    on = true;
    const index = await GpuFlatIndex.create(d, 'ip', { precision: 'f16', devicesPerGpu: 2, maxTileBytes: 330 * d * 2, debugPoison: true });
    try {
      await index.add(base);
      const kp = index.gpuK(k, nq);
      const shards = shardsOf(index);
      expect(shards.length).toBe(2);
      for (const shard of shards) {
        expect(shard.tileCount).toBe(2);
        expect(shard.scorerFor(nq, kp).twoPass).toBeDefined();
      }
      expectF16Exact(await index.search(q, k), toF16(base), q, d, k);
    } finally {
      scanOff();
      await index.dispose();
    }
  }, 240_000);

  it('searches in turn (16-, 32-, 48- and 64-query blocks, k 3 and 6, rows added between): each the f16 rows\' exact best', async () => {
    const d = 64;
    Object.assign(tensorTuning, saved, SMALL_SCAN);
    on = true;
    const index = await GpuFlatIndex.create(d, 'ip', { precision: 'f16', maxTileBytes: 400 * d * 2, debugPoison: true });
    try {
      let base = normalizeRows(clusteredVectors(700, d, 10, 701), d);
      await index.add(base);
      const check = async (nq: number, k: number, seed: number) => {
        const q = normalizeRows(clusteredVectors(nq, d, 10, seed), d);
        const shard = shardsOf(index)[0]!;
        expect(shard.scorerFor(nq, index.gpuK(k, nq)).twoPass, `${nq} queries`).toBeDefined();
        expectF16Exact(await index.search(q, k), toF16(base), q, d, k, `${nq} queries, k ${k}`);
      };
      await check(20, 3, 702);
      await check(40, 6, 703);
      await check(12, 6, 704);
      const more = normalizeRows(clusteredVectors(300, d, 5, 705), d).map((v) => 2 * v);
      await index.add(more);
      const all = new Float32Array(base.length + more.length);
      all.set(base);
      all.set(more, base.length);
      base = all;
      await check(20, 3, 706);
      await check(64, 6, 707);
    } finally {
      scanOff();
      await index.dispose();
    }
  }, 240_000);

  it('per-step timestamps (benchmarks): each dispatch timed under its label, the results those of one pass', async () => {
    Object.assign(tensorTuning, saved, SMALL_SCAN);
    on = true;
    const d = 64;
    const base = normalizeRows(clusteredVectors(1001, d, 10, 31), d);
    const q = normalizeRows(clusteredVectors(16, d, 10, 32), d);
    const index = await GpuFlatIndex.create(d, 'ip', { precision: 'f16', maxTileBytes: 334 * d * 2 });
    try {
      await index.add(base);
      const whole = await index.search(q, 5);
      // The software adapter has timestamp-query (Dawn on lavapipe), as the H100 has.
      expect(index.enableTimestamps()).toBe(true);
      expect(index.enableStepTimestamps()).toBe(true);
      index.takeGpuMs();
      index.takeStepMs();
      const stepped = await index.search(q, 5);
      expect(stepped.labels).toEqual(whole.labels);
      expect(stepped.distances).toEqual(whole.distances);
      const ms = index.takeStepMs();
      for (const label of ['f16-scan sample', 'f16-scan threshold', 'f16-scan scan', 'f16-scan select']) expect(ms[label], label).toBeGreaterThanOrEqual(0);
      for (const v of Object.values(ms)) expect(v).toBeGreaterThanOrEqual(0);
      expect(Object.values(ms).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
      // The batch's time spans its steps.
      expect(index.takeGpuMs()).toBeGreaterThanOrEqual(Math.max(...Object.values(ms)));
      // Taken: nothing until the next search.
      expect(index.takeStepMs()).toEqual({});
    } finally {
      scanOff();
      await index.dispose();
    }
  }, 120_000);

  it('IndexOptions.f16TwoPass turns it on for that index (the knob off), by default where disableRobustness is on; f16TensorCores false or a code plane keeps it off', async () => {
    Object.assign(tensorTuning, saved, { f16Scan: false });
    on = true;
    const d = 64;
    const rows = normalizeRows(clusteredVectors(200, d, 4, 11), d);
    const make = async (opts: { f16TwoPass?: boolean; f16TensorCores?: boolean; disableRobustness?: boolean; digitPlanes?: boolean }) => {
      const index = await GpuFlatIndex.create(d, 'ip', { precision: 'f16', ...opts });
      await index.add(rows);
      return index;
    };
    const asked = await make({ f16TwoPass: true });
    const plain = await make({});
    const robustnessOff = await make({ disableRobustness: true });
    const declined = await make({ disableRobustness: true, f16TwoPass: false });
    const off = await make({ f16TwoPass: true, f16TensorCores: false });
    // digitPlanes true plans the code plane here too (no built-in search reads it on this adapter).
    const codePlane = await make({ f16TwoPass: true, digitPlanes: true });
    const all = [asked, plain, robustnessOff, declined, off, codePlane];
    try {
      const twoPass = (index: GpuFlatIndex) => shardsOf(index)[0]!.scorerFor(12, 20).twoPass;
      expect(twoPass(asked)).toBeDefined();
      expect(twoPass(plain)).toBeUndefined();
      expect(twoPass(robustnessOff)).toBeDefined();
      expect(twoPass(declined)).toBeUndefined();
      expect(twoPass(off)).toBeUndefined();
      await codePlane.warmUp();
      expect(codePlane.plan!.digits).toBe(true);
      expect(twoPass(codePlane)).toBeUndefined();
    } finally {
      scanOff();
      await Promise.all(all.map((i) => i.dispose()));
    }
  }, 120_000);

  it('warmUp(k) compiles the scan of every query block (16, 32 with two blocks a warp, 48, 64) for k\' and the f16 kernels of 1-8 and 65+ queries for k: searches of 1 to 100 queries compile none, each the f16 rows\' exact best', async () => {
    Object.assign(tensorTuning, saved, SMALL_SCAN);
    on = true;
    const d = 64, k = 10;
    const base = normalizeRows(clusteredVectors(400, d, 10, 431), d);
    const rows = toF16(base);
    const index = await GpuFlatIndex.create(d, 'ip', { precision: 'f16', debugPoison: true });
    try {
      await index.add(base);
      const shard = shardsOf(index)[0]! as ShardView & { pipelineCount: number };
      // Before: warmUp took k' from the largest batch (4096 queries, not scanned approximately), so
      // it compiled every class for k alone and the first search of 9-64 queries compiled the scan.
      expect(index.gpuK(k, 4096)).toBe(k);
      expect(index.gpuK(k, 12)).toBeGreaterThan(k);
      index.warmUp(k);
      const warmed = shard.pipelineCount;
      for (const nq of [1, 8, 9, 16, 17, 32, 33, 48, 49, 64, 65, 100]) {
        const q = normalizeRows(clusteredVectors(nq, d, 10, 432 + nq), d);
        const got = await index.search(q, k);
        expectF16Exact(got, rows, q, d, k, `${nq} queries`);
        expect(shard.pipelineCount, `${nq} queries`).toBe(warmed);
      }
      expect(shard.scorerFor(12, index.gpuK(k, 12)).twoPass).toBeDefined();
      expect(shard.scorerFor(24, index.gpuK(k, 24)).key).toMatch(/:g2$/);
    } finally {
      scanOff();
      await index.dispose();
    }
  }, 120_000);

  it('declines batches outside its range, tiles of fewer than 16 rows, and knob off', async () => {
    Object.assign(tensorTuning, saved, { f16Scan: true });
    on = true;
    const d = 64;
    const index = await GpuFlatIndex.create(d, 'ip', { precision: 'f16', maxTileBytes: 40 * d * 2 });
    try {
      // 50 rows: tiles of 40 and 10.
      await index.add(normalizeRows(clusteredVectors(50, d, 4, 9), d));
      const shard = shardsOf(index)[0]!;
      expect(shard.scorerFor(12, 20).twoPass).toBeUndefined();
      await index.add(normalizeRows(clusteredVectors(30, d, 4, 10), d));
      expect(shard.scorerFor(12, 20).twoPass).toBeDefined();
      expect(shard.scorerFor(8, 20).twoPass).toBeUndefined();
      expect(shard.scorerFor(65, 20).twoPass).toBeUndefined();
      expect(shard.scorerFor(12, tensorTuning.maxK + 1).twoPass).toBeUndefined();
      tensorTuning.f16Scan = false;
      expect(shard.scorerFor(12, 20).twoPass).toBeUndefined();
    } finally {
      scanOff();
      await index.dispose();
    }
  }, 120_000);
});
