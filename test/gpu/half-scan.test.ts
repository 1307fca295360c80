/**
 * src/gpu/tensor/half-scan.ts, the f16 two-pass scan, on the software adapter (no subgroup
 * matrices: the matrix calls emulated in scalar WGSL, test/helpers/emulate-matrices.ts
 * emulateRowScan) against float64 sums of the same halves: the sample's bests over its spread,
 * bounded blocks; the thresholds; the scan's candidates (every row at or above its query's
 * threshold and no other, ids offset, none past the tile's rows though the last block is loaded
 * from rows - 16); the selection's lists, its overflow flags and the counts it resets. Outputs are
 * poisoned first, so a kernel that writes nothing fails.
 */
import { describe, expect, it } from 'vitest';
import { BufferUsage } from '../../src/gpu/device.js';
import { type TwoPassShape, twoPassSamples } from '../../src/gpu/flat-shard.js';
import { fromHalfBits, toHalfBits } from '../../src/gpu/half.js';
import { SUBGROUP_MATRIX_FEATURE } from '../../src/gpu/tensor/choose.js';
import { HALF_SCAN_COUNT_STRIDE, type HalfScanShape, halfSampleSplitBytes, halfSampleSplitSource, SPLIT_SAMPLE_MARGIN, halfScanBytes, halfScanRefusal, halfScanSource, halfSelectSource } from '../../src/gpu/tensor/half-scan.js';
import { type HookFacts, halfScanShape, planHalfScan } from '../../src/gpu/tensor/hook.js';
import { tensorTuning } from '../../src/gpu/tensor/tuning.js';
import { dispatchOnce } from '../helpers/dispatch-once.js';
import { EMULATED_HALF_CONFIG, emulateRowScan } from '../helpers/emulate-matrices.js';
import { gpuForTests } from '../helpers/gpu.js';

const hasGpu = await gpuForTests('the f16 two-pass scan, emulated');

const bitsF32 = (b: number) => new Float32Array(new Uint32Array([b]).buffer)[0]!;
const POISON = 0x7fc00000;

describe('half scan kernels: shapes', () => {
  const shape: HalfScanShape = { dPad: 768, bq: 64, warps: 8, ahead: 8, queryChunk: 128, kp: 40, cap: 8192 };
  it('refuses shapes it cannot build, naming why', () => {
    expect(halfScanRefusal(shape)).toBeUndefined();
    expect(halfScanRefusal({ ...shape, dPad: 760 })).toMatch(/multiple of 16/);
    expect(halfScanRefusal({ ...shape, bq: 40 })).toMatch(/16, 32, 48 or 64/);
    expect(halfScanRefusal({ ...shape, bq: 48 })).toBeUndefined();
    expect(halfScanRefusal({ ...shape, ahead: 16 })).toMatch(/even number of chunks/);
    expect(halfScanRefusal({ ...shape, queryChunk: 192 })).toMatch(/whole chunks/);
    expect(halfScanRefusal({ ...shape, kp: 0 })).toMatch(/k' 0/);
    expect(() => halfScanSource({ ...shape, bq: 40 }, 'scan')).toThrow(/16, 32, 48 or 64/);
  });
  it("declares the workgroup memory halfScanBytes counts (the 64-query shape fits Dawn's 48 KiB)", () => {
    for (const s of [shape, { ...shape, bq: 16, queryChunk: 768 }, { ...shape, bq: 32, queryChunk: 384, warps: 4 }]) {
      const src = halfScanSource(s, 'scan');
      const sizes = [...src.matchAll(/var<workgroup> \w+: array<(f16|f32), (\d+)>/g)].map((m) => Number(m[2]) * (m[1] === 'f16' ? 2 : 4));
      const wthr = /var<workgroup> wthr: array<f32, BQ>/.test(src) ? s.bq * 4 : 0;
      expect(sizes.reduce((a, b) => a + b, 0) + wthr).toBe(halfScanBytes(s));
    }
    expect(halfScanBytes(shape)).toBeLessThanOrEqual(49152);
  });
  it('loads each block of row fragments ahead from storage, staged queries in chunks, one barrier a query tile', () => {
    const src = halfScanSource(shape, 'scan');
    const loop = src.slice(src.indexOf('for (var it = 0u;'));
    // 48 steps: 48 row fragments a block, 4 query tiles x 48 multiplies, 6 query chunks of 2 barriers, 4 store barriers.
    expect(loop.split('subgroupMatrixLoad<subgroup_matrix_left').length - 1).toBe(48);
    expect(loop.split('subgroupMatrixMultiplyAccumulate').length - 1).toBe(4 * 48);
    expect(loop.split('workgroupBarrier()').length - 1).toBe(6 * 2 + 4);
    // Two buffers: one barrier a query chunk, each chunk's multiplies reading the buffer of its parity.
    const double = halfScanSource({ ...shape, bq: 32, doubleStage: true }, 'scan');
    const doubleLoop = double.slice(double.indexOf('for (var it = 0u;'));
    expect(doubleLoop.split('workgroupBarrier()').length - 1).toBe(6 + 2);
    expect(doubleLoop.split('subgroupMatrixMultiplyAccumulate').length - 1).toBe(2 * 48);
    const rightAt = [...doubleLoop.matchAll(/subgroup_matrix_right<f16, 16, 16>>\(&wq, (\d+)u/g)].map((m) => Number(m[1]));
    for (let step = 0; step < 48; step++) expect(rightAt[2 * step], `step ${step}`).toBe((Math.floor(step / 8) % 2) * 32 * 136 + 16 * (step % 8));
    expect(halfScanRefusal({ ...shape, queryChunk: 256, doubleStage: true })).toMatch(/even number of query chunks/);
    // Two blocks a warp at a time: each right fragment (and staged chunk) serves both; the sample takes one.
    const grouped = halfScanSource({ ...shape, bq: 32, doubleStage: true, group: 2 }, 'scan');
    const groupedLoop = grouped.slice(grouped.indexOf('for (var it = 0u;'));
    expect(groupedLoop.split('subgroupMatrixLoad<subgroup_matrix_left').length - 1).toBe(2 * 48);
    expect(groupedLoop.split('subgroupMatrixLoad<subgroup_matrix_right').length - 1).toBe(2 * 48);
    expect(groupedLoop.split('subgroupMatrixMultiplyAccumulate').length - 1).toBe(2 * 2 * 48);
    expect(groupedLoop.split('workgroupBarrier()').length - 1).toBe(6 + 2 * 2);
    const sampled = halfScanSource({ ...shape, bq: 32, doubleStage: true, group: 2 }, 'sample');
    expect(sampled.slice(sampled.indexOf('for (var it = 0u;')).split('subgroupMatrixLoad<subgroup_matrix_left').length - 1).toBe(48);
    expect(halfScanRefusal({ ...shape, group: 3 })).toMatch(/1, 2 or 4/);
    expect(halfScanBytes({ ...shape, bq: 32, doubleStage: true })).toBe(2 * 32 * 136 * 2 + 2 * 8 * 256 * 4 + 32 * 4);
  });
});

describe('half scan: the plan for a batch (hook.ts planHalfScan)', () => {
  // The H100's facts through Dawn with vulkan_enable_f16_on_nvidia: 48 KiB of workgroup memory, d = 768.
  const facts: HookFacts = { precision: 'f16', metric: 'ip', rowWords: 96, features: new Set([SUBGROUP_MATRIX_FEATURE, 'subgroups', 'shader-f16']), configs: [EMULATED_HALF_CONFIG], maxWorkgroupStorage: 49152, subgroupSize: 32, f16TwoPass: true };
  const shapeOf = (f: HookFacts, nq: number) => {
    const p = planHalfScan(f, nq, 40);
    if (!('shape' in p)) throw new Error(p.reason);
    return p.shape;
  };
  it('rounds the batch up to whole query tiles; stages queries whole at 16, in two buffers of 128 dims at 32 and 48, one at 64', () => {
    expect(shapeOf(facts, 9)).toMatchObject({ bq: 16, queryChunk: 768, doubleStage: false, group: 1, ahead: 8 });
    expect(shapeOf(facts, 16)).toMatchObject({ bq: 16, group: 1, ahead: 8 });
    // From 17 queries (two query tiles) two blocks a warp at a time, 4 steps ahead each: 8 row fragments ahead as at one.
    expect(shapeOf(facts, 17)).toMatchObject({ bq: 32, group: 2, ahead: 4 });
    expect(shapeOf(facts, 24)).toMatchObject({ bq: 32, queryChunk: 128, doubleStage: true, group: 2, ahead: 4 });
    expect(shapeOf(facts, 40)).toMatchObject({ bq: 48, queryChunk: 128, doubleStage: true });
    // Two buffers of 64 queries x 128 dims do not fit beside the scores: one.
    expect(shapeOf(facts, 64)).toMatchObject({ bq: 64, queryChunk: 128, doubleStage: false });
    for (const nq of [9, 24, 40, 64]) expect(halfScanBytes(shapeOf(facts, nq))).toBeLessThanOrEqual(49152);
  });
  it('groups blocks as the knobs say: f16ScanGroup from f16ScanGroupMinBatch queries, f16ScanAhead row fragments ahead over the group', () => {
    const saved = { ...tensorTuning };
    try {
      tensorTuning.f16ScanGroup = 4;
      expect(shapeOf(facts, 24)).toMatchObject({ group: 4, ahead: 2 });
      tensorTuning.f16ScanGroup = 1;
      expect(shapeOf(facts, 64)).toMatchObject({ group: 1, ahead: 8 });
      Object.assign(tensorTuning, { f16ScanGroup: 2, f16ScanGroupMinBatch: 9, f16ScanAhead: 4 });
      expect(shapeOf(facts, 9)).toMatchObject({ bq: 16, group: 2, ahead: 2 });
      // d = 576 (36 steps): 4 / 2 = 2 steps ahead split them evenly; never more than the knob allows.
      expect(shapeOf({ ...facts, rowWords: 72 }, 24)).toMatchObject({ group: 2, ahead: 2 });
    } finally {
      Object.assign(tensorTuning, saved);
    }
  });
  it('gives a one-block scan f16ScanWorkgroups workgroups a tile and a grouped one f16ScanGroupWorkgroups; lists in place as f16ScanDirectList says', () => {
    const saved = { ...tensorTuning };
    try {
      Object.assign(tensorTuning, { f16ScanWorkgroups: 528, f16ScanGroupWorkgroups: 264, f16ScanDirectList: true });
      const twoPassOf = (nq: number) => halfScanShape(shapeOf(facts, nq), nq).twoPass!;
      expect(twoPassOf(9)).toMatchObject({ scanWorkgroups: 528, directList: true });
      expect(twoPassOf(16)).toMatchObject({ scanWorkgroups: 528 });
      expect(twoPassOf(17)).toMatchObject({ scanWorkgroups: 264 });
      expect(twoPassOf(64)).toMatchObject({ scanWorkgroups: 264 });
      Object.assign(tensorTuning, { f16ScanWorkgroups: 100, f16ScanGroupWorkgroups: 7, f16ScanDirectList: false });
      expect(twoPassOf(12)).toMatchObject({ scanWorkgroups: 100, directList: false });
      expect(twoPassOf(40)).toMatchObject({ scanWorkgroups: 7 });
    } finally {
      Object.assign(tensorTuning, saved);
    }
  });
  it('splits the sample\'s dims among its warps where f16ScanSampleSplit asks and their partial scores fit the workgroup memory; sample runs from f16ScanSampleRun', () => {
    const saved = { ...tensorTuning };
    try {
      tensorTuning.f16ScanSampleSplit = false;
      expect(shapeOf(facts, 64).sampleSplit).toBe(false);
      tensorTuning.f16ScanSampleSplit = true;
      // 8 warps x 4 query tiles x 1 KiB = 32 KiB of the H100's 48.
      for (const nq of [9, 24, 40, 64]) expect(shapeOf(facts, nq).sampleSplit, `${nq} queries`).toBe(true);
      expect(halfSampleSplitBytes(shapeOf(facts, 64))).toBe(32768);
      // 28 KiB: the scan fits (queries 64 dims at a time) but 64 queries' split partials do not; 16 queries' (8 KiB) do.
      expect(shapeOf({ ...facts, maxWorkgroupStorage: 28672 }, 64).sampleSplit).toBe(false);
      expect(shapeOf({ ...facts, maxWorkgroupStorage: 28672 }, 16).sampleSplit).toBe(true);
      // Sample runs: the knob's value in the shape; one that is not a whole number from 1 named as such.
      tensorTuning.f16ScanSampleRun = 16;
      expect(shapeOf(facts, 24).sampleRun).toBe(16);
      tensorTuning.f16ScanSampleRun = 0;
      expect(planHalfScan(facts, 24, 40)).toMatchObject({ reason: expect.stringMatching(/f16ScanSampleRun 0/) });
    } finally {
      Object.assign(tensorTuning, saved);
    }
  });
  it('declines a shard with a code plane (its route is faster) unless the knob forces the scan, and batches outside 9-64', () => {
    expect(planHalfScan({ ...facts, digitPlanes: true }, 24, 40)).toMatchObject({ reason: expect.stringMatching(/code plane/) });
    expect(planHalfScan({ ...facts, f16TwoPass: false }, 24, 40)).toMatchObject({ reason: expect.stringMatching(/off/) });
    expect(planHalfScan(facts, 8, 40)).toMatchObject({ reason: expect.stringMatching(/batch 8/) });
    expect(planHalfScan(facts, 65, 40)).toMatchObject({ reason: expect.stringMatching(/batch 65/) });
    const saved = tensorTuning.f16Scan;
    tensorTuning.f16Scan = true;
    try {
      expect(shapeOf({ ...facts, digitPlanes: true, f16TwoPass: false }, 24)).toMatchObject({ bq: 32 });
    } finally {
      tensorTuning.f16Scan = saved;
    }
  });
});

describe("half scan: the sample's spread over a shard's tiles (flat-shard.ts twoPassSamples)", () => {
  it('sampleRun: runs of consecutive blocks, each run inside the tile and disjoint from the next', () => {
    const t: TwoPassShape = { bq: 32, warps: 8, scanWorkgroups: 264, sampleDiv: 64, sampleWorkgroups: 132, sampleTiles: 64, sampleRun: 16, cap: 8192, bestsPerLane: 2, countStride: 32 };
    // 1M: 984 blocks in 62 runs of 16, 16,128 rows apart; the last block starts at 61 x 16,128 + 15 x 16.
    expect(twoPassSamples([1_000_000], t)).toEqual([{ tile: 0, workgroups: 123, stride: 16_128 }]);
    expect(61 * 16_128 + 15 * 16 + 16).toBeLessThanOrEqual(1_000_000);
    // Few rows: one run of the 8 blocks (rows 0-127); 40,000 rows: 5 workgroups' 40 blocks in 3 runs
    // (16, 16 and 8 blocks), 13,328 rows apart.
    expect(twoPassSamples([300], t)).toEqual([{ tile: 0, workgroups: 1, stride: 288 }]);
    expect(twoPassSamples([40_000], t)).toEqual([{ tile: 0, workgroups: 5, stride: 16 * 833 }]);
  });
  const tp: TwoPassShape = { bq: 32, warps: 8, scanWorkgroups: 264, sampleDiv: 64, sampleWorkgroups: 132, sampleTiles: 64, cap: 8192, bestsPerLane: 2, countStride: 32 };
  const check = (tiles: number[], t: TwoPassShape = tp) => {
    const got = twoPassSamples(tiles, t);
    // Within the bests buffer's warps, each sampled tile's blocks disjoint (stride >= 16) and inside it.
    expect(got.reduce((n, x) => n + x.workgroups, 0)).toBeLessThanOrEqual(t.sampleWorkgroups);
    for (const x of got) {
      expect(x.stride % 16).toBe(0);
      expect(x.stride).toBeGreaterThanOrEqual(16);
      expect(tiles[x.tile]).toBeGreaterThanOrEqual(16);
      // Blocks past the tile's rows are loaded from rows - 16 and skipped: at least one block lands inside.
      expect(x.stride * (x.workgroups * t.warps - 1)).toBeLessThan(tiles[x.tile]! + x.stride);
    }
    return got;
  };
  it("21M's 16 tiles (15 of 2 GiB, the last of 43,809 rows): every tile sampled, in proportion to its rows", () => {
    const tiles = [...new Array(15).fill(1_398_101), 21_015_324 - 15 * 1_398_101];
    const got = check(tiles);
    expect(got.map((x) => x.tile)).toEqual(tiles.map((_, i) => i));
    expect(got.slice(0, 15).every((x) => x.workgroups === 8)).toBe(true);
    expect(got.at(-1)!.workgroups).toBe(1);
  });
  it('one tile: as the first-tile sample was (1M: 123 workgroups, blocks 1008 rows apart); small tiles: one workgroup', () => {
    expect(check([1_000_000])).toEqual([{ tile: 0, workgroups: 123, stride: 1008 }]);
    expect(check([300])).toEqual([{ tile: 0, workgroups: 1, stride: 32 }]);
    // Tiles of fewer than 16 rows are not sampled (nor scanned: the scorer declines them).
    expect(check([50_000, 10, 70_000]).map((x) => x.tile)).toEqual([0, 2]);
    // No more tiles than workgroups: 1,200 rows take one, from the first tile.
    expect(check([500, 10, 700]).map((x) => x.tile)).toEqual([0]);
  });
  it('more tiles than it may sample: that many, evenly spaced; sampleTiles 1: the first only', () => {
    const many = check(new Array(300).fill(200_000));
    expect(many).toHaveLength(64);
    expect(many[0]!.tile).toBe(0);
    expect(many.at(-1)!.tile).toBe(295);
    expect(check(new Array(16).fill(1_000_000), { ...tp, sampleTiles: 1 })).toEqual([{ tile: 0, workgroups: 132, stride: 16 * Math.floor(1_000_000 / 16 / (132 * 8)) }]);
  });
});

describe.skipIf(!hasGpu)('half scan kernels: emulated on the software adapter against float64', () => {
  const D = 64;
  const W = 2;
  const nWg = 2;
  const blocks = 3;
  // The tile's rows: 37 short of what the segments cover, so the last warp's last block is loaded
  // from rows - 16 and part of it is another warp's; the buffer holds exactly these rows.
  const rows = nWg * W * blocks * 16 - 37;
  const nq = 20;
  const bq = 32;
  const idBase = 7000;
  let seed = 11;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) - 0.5;
  // Clustered rows (close scores and near-ties), queries as the pre-pass gives them (halves, the padding zero).
  const centres = Array.from({ length: 4 }, () => Float64Array.from({ length: D }, rnd));
  const rowsH = new Uint16Array(rows * D);
  for (let r = 0; r < rows; r++) for (let j = 0; j < D; j++) rowsH[r * D + j] = toHalfBits(0.5 * centres[r % 4]![j]! + 0.3 * rnd());
  const qH = new Uint16Array(bq * D);
  for (let i = 0; i < nq * D; i++) qH[i] = toHalfBits(rnd());
  const score = (r: number, q: number) => {
    let s = 0;
    for (let j = 0; j < D; j++) s += fromHalfBits(rowsH[r * D + j]!) * fromHalfBits(qH[q * D + j]!);
    return s;
  };
  const shapeOf = (o: Partial<HalfScanShape> = {}): HalfScanShape => ({ dPad: D, bq, warps: W, ahead: 2, queryChunk: D, kp: 6, cap: 256, ...o });
  const scanParams = (blocksA: number, segStride: number) => new Uint32Array([rows, blocksA, segStride, idBase]);

  /** The sample's bests: this tile's warps' after `warpsBefore` others' (the tiles sampled before), those left poisoned. */
  async function sample(s: HalfScanShape, segStride: number, warpsBefore = 0): Promise<Float32Array> {
    const QT = bq / 16;
    // Split (HalfScanShape.sampleSplit): a workgroup a sample warp, whatever warps split its dims.
    const code = s.sampleSplit ? halfSampleSplitSource(s) : halfScanSource(s, 'sample');
    const [raw] = await dispatchOnce(emulateRowScan(code), s.sampleSplit ? nWg * W : nWg, (upload) => {
      const bests = upload(new Uint32Array((warpsBefore + nWg * W) * 32 * QT).fill(POISON), BufferUsage.STORAGE);
      return {
        entries: [
          { binding: 0, resource: { buffer: upload(new Uint32Array([rows, 1, segStride, warpsBefore]), BufferUsage.UNIFORM) } },
          { binding: 1, resource: { buffer: upload(rowsH, BufferUsage.STORAGE) } },
          { binding: 2, resource: { buffer: upload(qH, BufferUsage.STORAGE) } },
          { binding: 3, resource: { buffer: bests } },
        ],
        outputs: [bests],
      };
    }, ['shader-f16', 'subgroups']);
    const all = new Uint32Array(raw!);
    // The warps before this tile's: untouched.
    for (let i = 0; i < warpsBefore * 32 * QT; i++) expect(all[i], `bests word ${i}, before this tile's`).toBe(POISON);
    return new Float32Array(all.buffer, warpsBefore * 32 * QT * 4);
  }

  /**
   * Each sample warp's lanes (nWg x W warps, blocks in runs of sampleRun, runs segStride rows apart):
   * the bests word `at` of the lane's query tile j, its query q, and the rows of its block it sees
   * (rows l / 16, l / 16 + 2, ... of the block, those inside the tile and at or after the block's start).
   */
  function eachSampleLane(segStride: number, sampleRun: number, check: (at: number, q: number, laneRows: number[], what: string) => void): void {
    const QT = bq / 16;
    for (let seg = 0; seg < nWg * W; seg++) {
      const t = Math.floor(seg / sampleRun) * segStride + (seg % sampleRun) * 16;
      const from = Math.min(t, rows - 16);
      for (let lane = 0; lane < 32; lane++) {
        const laneRows = Array.from({ length: 8 }, (_, i) => from + Math.floor((lane + 32 * i) / 16)).filter((row) => row >= t && row < rows);
        for (let j = 0; j < QT; j++) check((seg * 32 + lane) * QT + j, 16 * j + (lane % 16), laneRows, `seg ${seg} lane ${lane} query ${16 * j + (lane % 16)}`);
      }
    }
  }

  async function scan(s: HalfScanShape, thresholds: Float32Array, cap = s.cap): Promise<{ cand: Uint32Array; counts: Uint32Array }> {
    const [cand, counts] = await dispatchOnce(emulateRowScan(halfScanSource({ ...s, cap }, 'scan')), nWg, (upload) => {
      const c = upload(new Uint32Array(bq * cap * 2).fill(POISON), BufferUsage.STORAGE);
      // Each query's count on a line of its own (HALF_SCAN_COUNT_STRIDE words apart).
      const n = upload(new Uint32Array(bq * HALF_SCAN_COUNT_STRIDE), BufferUsage.STORAGE);
      return {
        entries: [
          { binding: 0, resource: { buffer: upload(scanParams(blocks, blocks * 16), BufferUsage.UNIFORM) } },
          { binding: 1, resource: { buffer: upload(rowsH, BufferUsage.STORAGE) } },
          { binding: 2, resource: { buffer: upload(qH, BufferUsage.STORAGE) } },
          { binding: 3, resource: { buffer: c } },
          { binding: 4, resource: { buffer: upload(thresholds, BufferUsage.STORAGE) } },
          { binding: 5, resource: { buffer: n } },
        ],
        outputs: [c, n],
      };
    }, ['shader-f16', 'subgroups']);
    const strided = new Uint32Array(counts!);
    // Nothing written between the counts.
    strided.forEach((c, i) => i % HALF_SCAN_COUNT_STRIDE !== 0 && expect(c, `word ${i} between counts`).toBe(0));
    return { cand: new Uint32Array(cand!), counts: Uint32Array.from({ length: bq }, (_, q) => strided[q * HALF_SCAN_COUNT_STRIDE]!) };
  }

  /** Thresholds: each query's 8th best over the first half of the rows (the padded queries' +inf). */
  function someThresholds(): Float32Array {
    const thr = new Float32Array(bq).fill(3.4e38);
    for (let q = 0; q < nq; q++) thr[q] = Array.from({ length: rows >> 1 }, (_, r) => score(r, q)).sort((a, b) => b - a)[7]!;
    return thr;
  }

  it("the sample: each lane's best of its rows, the blocks spread by segStride and bounded by the tile's rows", async () => {
    // Spread blocks 48 rows apart: warp 3's block starts at 144 and is loaded from rows - 16 = 139.
    // The fourth case as a later tile's sample: its bests after 3 warps of others'. The last in runs
    // of 2 blocks, runs 140 rows apart: blocks at 0, 16, 140 (loaded from 139) and 156 (past the rows).
    const cases = [[D, false, 2, 0, 1, 48], [32, false, 2, 0, 1, 48], [32, true, 2, 0, 1, 48], [16, true, 1, 3, 1, 48], [32, true, 2, 0, 2, 140]] as const;
    for (const [queryChunk, doubleStage, ahead, warpsBefore, sampleRun, segStride] of cases) {
      const got = await sample(shapeOf({ queryChunk, doubleStage, ahead, sampleRun }), segStride, warpsBefore);
      eachSampleLane(segStride, sampleRun, (at, q, laneRows, what) => {
        const v = got[at]!;
        if (!laneRows.length) expect(v, `${what}: no rows`).toBeLessThan(-1e38);
        else expect(Math.abs(v - Math.max(...laneRows.map((row) => (q < nq ? score(row, q) : 0)))), what).toBeLessThan(1e-3);
      });
    }
  }, 240_000);

  it("the split sample (a workgroup a block, its warps splitting the dims): each lane's best lowered by at most the margin, never above the whole-row sample's (the scan's keys)", async () => {
    const segStride = 48;
    // The whole-row sample sums as the scan does: its bests are the scan's keys of those rows.
    const wholeRows = await sample(shapeOf(), segStride);
    // 4 steps over 2 warps, and over 3 (the last warp's second step past the row's); the second after
    // 3 warps of others'; the third in runs of 2 blocks (against the whole-row sample's runs).
    const runs = await sample(shapeOf({ sampleRun: 2 }), segStride);
    for (const [warps, warpsBefore, sampleRun] of [[W, 0, 1], [3, 3, 1], [W, 0, 2]] as const) {
      const got = await sample(shapeOf({ sampleSplit: true, warps, sampleRun }), segStride, warpsBefore);
      const whole = sampleRun === 1 ? wholeRows : runs;
      let lowered = 0;
      eachSampleLane(segStride, sampleRun, (at, q, laneRows, where) => {
        const what = `over ${warps} warps, ${where}`;
        if (!laneRows.length) {
          expect(got[at], `${what}: no rows`).toBeLessThan(-1e38);
          return;
        }
        // The best of each row's score less the most its margin may take (the sum of its products' magnitudes).
        const size = (row: number) => Array.from({ length: q < nq ? D : 0 }, (_, d) => Math.abs(fromHalfBits(rowsH[row * D + d]!) * fromHalfBits(qH[q * D + d]!))).reduce((a, b) => a + b, 0);
        const floor = Math.max(...laneRows.map((row) => (q < nq ? score(row, q) : 0) - SPLIT_SAMPLE_MARGIN * size(row)));
        expect(got[at], what).toBeLessThanOrEqual(whole[at]!);
        expect(got[at], what).toBeGreaterThan(floor - 1e-4);
        if (got[at]! < whole[at]!) lowered++;
      });
      // Live queries' bests lowered below the scan's keys (the padded queries' are 0).
      expect(lowered).toBeGreaterThan(0);
    }
  }, 240_000);

  it("the thresholds: each query's KP-th largest best (ties, negative values), -inf with fewer than KP, +inf past nq", async () => {
    const QT = bq / 16;
    const sampleWarps = 200;
    const bests = new Float32Array(sampleWarps * 32 * QT);
    // Values sharing their top bytes (the radix's later rounds decide), negative ones and ties.
    for (let i = 0; i < bests.length; i++) bests[i] = Math.round((Math.sin(i * 12.9898) * 43758.5453) % 8) / 2 - 1 + (i % 3) * 1e-5;
    // 6, 4 and 400 values a query; none, 1 (400: 256 held, the rest read each round) or 2 held in registers.
    for (const [nqLive, warps, radixHeld] of [[nq, 3, 0], [nq, 2, 0], [nq, 200, 0], [nq, 3, 1], [nq, 200, 1], [nq, 200, 2]] as const) {
      const s = shapeOf({ kp: 5, radixHeld });
      const [raw] = await dispatchOnce(halfSelectSource(s, 'threshold'), bq, (upload) => {
        const out = upload(new Uint32Array(bq).fill(POISON), BufferUsage.STORAGE);
        return {
          entries: [
            { binding: 0, resource: { buffer: upload(new Uint32Array([nqLive, warps, 0, 0, 0]), BufferUsage.UNIFORM) } },
            { binding: 1, resource: { buffer: upload(bests, BufferUsage.STORAGE) } },
            { binding: 2, resource: { buffer: out } },
          ],
          outputs: [out],
        };
      }, ['subgroups']);
      const thr = new Float32Array(raw!);
      for (let q = 0; q < bq; q++) {
        const mine: number[] = [];
        for (let w = 0; w < warps; w++) for (const lane of [q % 16, (q % 16) + 16]) mine.push(bests[(w * 32 + lane) * QT + Math.floor(q / 16)]!);
        mine.sort((a, b) => b - a);
        // Padded queries (q >= nq) take no candidates; two warps give 4 values a query, fewer than 5.
        const want = q >= nqLive ? Infinity : mine.length < s.kp ? -Infinity : mine[s.kp - 1]!;
        expect(thr[q], `${warps} warps, ${radixHeld} held, query ${q}`).toBe(want);
      }
    }
  }, 120_000);

  it('the scan: every row at or above its query threshold is a candidate, with its id and score, and no other', async () => {
    const thresholds = someThresholds();
    // Groups of 2 and 4 blocks a warp: 3 blocks a warp (the last group's extra blocks are the next warp's rows, skipped).
    for (const [queryChunk, doubleStage, ahead, group] of [[D, false, 2, 1], [32, false, 2, 1], [32, true, 2, 1], [16, true, 1, 1], [32, true, 2, 2], [D, false, 2, 4]] as const) {
      const { cand, counts } = await scan(shapeOf({ queryChunk, doubleStage, ahead, group }), thresholds);
      const keys = new Float32Array(cand.buffer);
      for (let q = 0; q < bq; q++) {
        if (q >= nq) {
          expect(counts[q], `padded query ${q}`).toBe(0);
          continue;
        }
        const got = new Map<number, number>();
        for (let c = 0; c < counts[q]!; c++) got.set(cand[(q * 256 + c) * 2 + 1]!, keys[(q * 256 + c) * 2]!);
        expect(got.size, `query ${q}: no row twice`).toBe(counts[q]);
        for (const id of got.keys()) expect(id - idBase >= 0 && id - idBase < rows, `query ${q}: id ${id} inside the tile`).toBe(true);
        for (let r = 0; r < rows; r++) {
          const s = score(r, q);
          if (s >= thresholds[q]! + 2e-3) expect(got.has(idBase + r), `query ${q} row ${r} (${s} >= ${thresholds[q]})`).toBe(true);
          if (s < thresholds[q]! - 2e-3) expect(got.has(idBase + r), `query ${q} row ${r} below`).toBe(false);
          if (got.has(idBase + r)) expect(Math.abs(got.get(idBase + r)! - s)).toBeLessThan(2e-3);
        }
      }
    }
  }, 240_000);

  it.each([0, 1])("the selection (%i values an invocation held): each query's KP best candidates as its list, empty slots where fewer, overflow flagged, counts reset, thresholds raised", async (radixHeld) => {
    const thresholds = someThresholds();
    // 300 candidates a query at most: held, 256 of them are kept and the rest read each round.
    const s = shapeOf({ cap: 300, radixHeld });
    const { cand, counts } = await scan(s, thresholds);
    // One query with fewer candidates than KP, and one whose count says it overflowed CAP.
    const counted = counts.slice();
    counted[2] = 3;
    // Query 4's list full (CAP candidates) and more counted than stored: the rest low-scoring rows,
    // but the last 3 the best of all (past the 256 a held value an invocation covers).
    counted[4] = s.cap + 9;
    for (let c = counts[4]!; c < s.cap; c++) cand.set([new Uint32Array(new Float32Array([c >= s.cap - 3 ? 1000 + c : -1000 - c]).buffer)[0]!, 90000 + c], (4 * s.cap + c) * 2);
    // Lists of query q at pair 2 + q x 10 (listStride 10 > KP), flags after them.
    const listAt = 2;
    const listStride = 10;
    const flagsAt = listAt + bq * listStride;
    // The thresholds the scan ran with, one of them higher than its query's KP-th best candidate.
    const before = thresholds.slice();
    before[1] = 1e6;
    const [listsRaw, countsRaw, thrRaw] = await dispatchOnce(halfSelectSource(s, 'select'), nq, (upload) => {
      const lists = upload(new Uint32Array((flagsAt + bq) * 2).fill(POISON), BufferUsage.STORAGE);
      const n = upload(Uint32Array.from({ length: bq * HALF_SCAN_COUNT_STRIDE }, (_, i) => (i % HALF_SCAN_COUNT_STRIDE === 0 ? counted[i / HALF_SCAN_COUNT_STRIDE]! : 0)), BufferUsage.STORAGE);
      const thr = upload(before, BufferUsage.STORAGE);
      return {
        entries: [
          { binding: 0, resource: { buffer: upload(new Uint32Array([nq, 0, listAt, listStride, flagsAt]), BufferUsage.UNIFORM) } },
          { binding: 1, resource: { buffer: upload(cand, BufferUsage.STORAGE) } },
          { binding: 2, resource: { buffer: n } },
          { binding: 3, resource: { buffer: lists } },
          { binding: 4, resource: { buffer: thr } },
        ],
        outputs: [lists, n, thr],
      };
    }, ['subgroups']);
    const lists = new Uint32Array(listsRaw!);
    const after = new Float32Array(thrRaw!);
    // Each query's count reset (the padded queries', never dispatched, were 0).
    expect(Array.from(new Uint32Array(countsRaw!))).toEqual(new Array(bq * HALF_SCAN_COUNT_STRIDE).fill(0));
    // One workgroup a live query, as the shard dispatches it: the padded queries' lists are not written.
    for (let q = 0; q < nq; q++) {
      const n = Math.min(counted[q]!, s.cap);
      const want = Array.from({ length: n }, (_, c) => bitsF32(cand[(q * s.cap + c) * 2]!)).sort((a, b) => b - a).slice(0, s.kp);
      const got = Array.from({ length: s.kp }, (_, i) => ({ key: bitsF32(lists[(listAt + q * listStride + i) * 2]!), id: lists[(listAt + q * listStride + i) * 2 + 1]! })).sort((a, b) => b.key - a.key);
      for (let i = 0; i < s.kp; i++) {
        if (i < want.length) {
          expect(got[i]!.key, `query ${q} entry ${i}`).toBe(want[i]);
          // The id is the candidate's own.
          const c = Array.from({ length: n }, (_, c) => c).find((c) => cand[(q * s.cap + c) * 2 + 1] === got[i]!.id);
          expect(c, `query ${q}: id ${got[i]!.id} among its candidates`).toBeDefined();
          expect(bitsF32(cand[(q * s.cap + c!) * 2]!)).toBe(got[i]!.key);
        } else {
          expect(got[i]!.id, `query ${q}: empty slot`).toBe(0xffffffff);
          expect(got[i]!.key).toBe(bitsF32(0xff7fffff));
        }
      }
      expect(lists[(flagsAt + q) * 2], `query ${q}: flag`).toBe(q === 4 ? 1 : POISON);
      // The threshold raised to the KP-th best candidate where there were KP (never lowered).
      expect(after[q], `query ${q}: threshold`).toBe(want.length === s.kp ? Math.max(before[q]!, want[s.kp - 1]!) : before[q]);
    }
    // Untouched between the lists, and past the live queries'.
    expect(lists[(listAt + s.kp) * 2]).toBe(POISON);
    expect(lists[(listAt + nq * listStride) * 2]).toBe(POISON);
  }, 240_000);
});
