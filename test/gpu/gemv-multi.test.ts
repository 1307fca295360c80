/**
 * flat_gemv_multi (2-16 queries, each row read once for the batch): f32 exact ids and f16 exact over
 * the half-rounded rows against the float64 oracle, candidate lists poisoned before every search.
 * lavapipe's subgroups have 8 lanes, so RU x NQ values a lane (8..64) reduce to 1..8 totals a lane:
 * the vec4, vec2 and scalar levels of the transposed reduction all run here.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import { type FlatShard, kernelTuning } from '../../src/gpu/flat-shard.js';
import { planGemvMulti, splitQueryHalves } from '../../src/gpu/gemv-multi.js';
import { randomVectors } from '../helpers/data.js';
import { bruteForce, distanceTolerance, expectMatchesOracle } from '../helpers/oracle.js';
import { gpuForTests } from '../helpers/gpu.js';
import { fromHalfBits, toHalfBits } from '../../src/gpu/half.js';

const hasGpu = await gpuForTests('GPU flat_gemv_multi');
const defaults = { ...kernelTuning };
const shardsOf = (index: GpuFlatIndex): FlatShard[] => (index as unknown as { shards: FlatShard[] }).shards;
let seed = 9100;

describe('planGemvMulti', () => {
  const facts = { rowWords: 192, q4: 192, subgroupSize: 32, maxWorkgroupStorage: 49152 };
  const knobs = { ru: 4, uw: 2, sp: 0, ci: 0, qw: 0, split: 0 };
  it('classes of 8 and 16 (or blocks of 8), buffers and staged queries within workgroup memory, RU halved for large k, none without a fixed subgroup size', () => {
    expect(planGemvMulti(facts, 5, 16, knobs)).toEqual({ NQ: 8, SG: 32, RU: 4, UW: 2, SP: 256, CI: 1, CF: 1, QWG: 0, QN: 0, QS: 1, FMAC: 0, QP: 0, LPR: 32, DYN: 0, FIRST: 0, QX: 0, QB: 8, NG: 2, NQR: 4 });
    expect(planGemvMulti(facts, 16, 16, knobs)).toEqual({ NQ: 16, SG: 32, RU: 4, UW: 2, SP: 256, CI: 1, CF: 2, QWG: 0, QN: 0, QS: 1, FMAC: 0, QP: 0, LPR: 32, DYN: 0, FIRST: 0, QX: 0, QB: 16, NG: 4, NQR: 4 });
    expect(planGemvMulti(facts, 16, 16, { ...knobs, split: 1 })?.NQ).toBe(8);
    // Blocks of 4 (mq4) for 2-4 queries only: 16 values a lane at RU 4 end on every other lane.
    expect(planGemvMulti(facts, 3, 16, { ...knobs, four: 1 })).toEqual({ NQ: 4, SG: 32, RU: 4, UW: 2, SP: 256, CI: 1, CF: 1, QWG: 0, QN: 0, QS: 1, FMAC: 0, QP: 0, LPR: 32, DYN: 0, FIRST: 0, QX: 0, QB: 4, NG: 1, NQR: 4 });
    expect(planGemvMulti(facts, 4, 16, knobs)?.NQ).toBe(8);
    expect(planGemvMulti(facts, 5, 16, { ...knobs, four: 1 })?.NQ).toBe(8);
    expect(planGemvMulti(facts, 4, 16, { ...knobs, four: 1, qw: 1 })).toMatchObject({ NQ: 4, QWG: 1, QN: 4, QS: 768 });
    // 8 queries of 768 f32 (24 KiB) staged beside 8 buffers of 256 slots; of 16 (48 KiB) the first 8, beside 16 of 128.
    expect(planGemvMulti(facts, 8, 16, { ...knobs, qw: 1 })).toMatchObject({ NQ: 8, SP: 256, QWG: 1, QN: 8, QS: 1536 });
    expect(planGemvMulti(facts, 16, 16, { ...knobs, qw: 1 })).toMatchObject({ NQ: 16, SP: 128, QWG: 1, QN: 8, QS: 1536 });
    // 16 buffers of 256 slots: 32 KiB + counts and thresholds.
    for (const [nq, qw] of [[5, 1], [9, 0], [16, 1], [8, 1]]) {
      const p = planGemvMulti(facts, nq!, 16, { ...knobs, qw: qw! })!;
      expect(8 * p.NQ * p.SP + 12 * p.NQ + 4 + 16 * p.QS).toBeLessThanOrEqual(facts.maxWorkgroupStorage);
      expect(p.SP).toBeGreaterThanOrEqual(16 + p.CI * (256 / p.SG) * p.RU);
    }
    expect(planGemvMulti(facts, 16, 240, knobs)?.RU).toBe(2);
    expect(planGemvMulti(facts, 16, 248, knobs)?.RU).toBe(1);
    expect(planGemvMulti(facts, 16, 256, knobs)).toBeUndefined();
    expect(planGemvMulti({ ...facts, subgroupSize: undefined }, 16, 16, knobs)).toBeUndefined();
    expect(planGemvMulti(facts, 17, 16, knobs)).toBeUndefined();
    // Only the real queries' groups multiplied (part): 5 of a block of 8, 3 of 4, 9 of 16; all of a batch of several blocks.
    expect(planGemvMulti(facts, 5, 16, { ...knobs, part: 1 })).toMatchObject({ NQ: 8, NG: 2, NQR: 1 });
    expect(planGemvMulti(facts, 3, 16, { ...knobs, part: 1, four: 1 })).toMatchObject({ NQ: 4, NG: 1, NQR: 3 });
    expect(planGemvMulti(facts, 9, 16, { ...knobs, part: 1 })).toMatchObject({ NQ: 16, NG: 3, NQR: 1 });
    expect(planGemvMulti(facts, 12, 16, { ...knobs, part: 1 })).toMatchObject({ NQ: 16, NG: 3, NQR: 4 });
    expect(planGemvMulti(facts, 13, 16, { ...knobs, part: 1, split: 1 })).toMatchObject({ NQ: 8, NG: 2, NQR: 4 });
    // Split query halves (QP) only where the queries are two vec4 a word (f16 rows: q4 = 2 rowWords).
    expect(planGemvMulti({ ...facts, rowWords: 96 }, 5, 16, { ...knobs, qp: 1 })?.QP).toBe(1);
    expect(planGemvMulti(facts, 5, 16, { ...knobs, qp: 1 })?.QP).toBe(0);
    // Lanes a row (lpr): a power of two up to SG, at least RU NQ / 8 (a lane's totals <= 8); the
    // workgroup's rows an iteration (and so the buffers) grow as SG / LPR.
    expect(planGemvMulti(facts, 5, 16, { ...knobs, lpr: 8 })).toMatchObject({ NQ: 8, RU: 4, LPR: 8, CF: 4, SP: 256, CI: 1 });
    expect(planGemvMulti(facts, 5, 16, { ...knobs, lpr: 16 })).toMatchObject({ LPR: 16, CF: 2, SP: 256, CI: 1 });
    expect(planGemvMulti(facts, 5, 16, { ...knobs, lpr: 2 })).toMatchObject({ LPR: 4, CF: 8 });
    expect(planGemvMulti(facts, 16, 16, { ...knobs, lpr: 6 })).toMatchObject({ NQ: 16, RU: 4, LPR: 8, CF: 8 });
    expect(planGemvMulti(facts, 5, 16, { ...knobs, lpr: 64 })?.LPR).toBe(32);
  });
  it('free slots (free x kf a query past a check\'s room) lower the check interval for large k, to 1 at least, and leave small k as it was', () => {
    const h100 = { rowWords: 384, q4: 192, subgroupSize: 32, maxWorkgroupStorage: 49152 };
    const f16 = { ru: 4, uw: 2, sp: 0, ci: 6, qw: 0, split: 0, lpr: 16 };
    // k = 100 (kf 104), 8 queries: 512 slots, 64 rows an iteration; checks every 6 iterations left 24 slots past kf.
    expect(planGemvMulti(h100, 8, 104, f16)).toMatchObject({ SP: 512, CI: 6 });
    for (const [free, ci] of [[1, 4], [2, 3], [3, 1], [9, 1]] as const) {
      const p = planGemvMulti(h100, 8, 104, { ...f16, free })!;
      expect(p.CI).toBe(ci);
      if (ci > 1) expect(p.SP - 104 - p.CI * 64).toBeGreaterThanOrEqual(free * 104);
    }
    // k = 10 (kf 16): the blocks of 8 keep 3 (room-bound); the f16 block of 16 (128 slots, 32 rows) keeps 3 at free 1.
    expect(planGemvMulti(h100, 8, 16, { ...f16, free: 2 })?.CI).toBe(3);
    expect(planGemvMulti(h100, 12, 16, { ...f16, ru: 2, free: 1 })).toMatchObject({ SP: 128, CI: 3 });
    expect(planGemvMulti(h100, 12, 16, { ...f16, ru: 2, free: 2 })).toMatchObject({ SP: 128, CI: 2 });
    // kernelTuning's mfree 3 (blocks of 4 and 8) keeps k = 10's intervals: f16 3, f32 6 (32 rows an iteration).
    expect(planGemvMulti(h100, 8, 16, { ...f16, free: 3 })?.CI).toBe(3);
    expect(planGemvMulti({ ...h100, rowWords: 768 }, 8, 16, { ...f16, lpr: 0, free: 3 })).toMatchObject({ SP: 256, CI: 6 });
  });
});

describe('splitQueryHalves', () => {
  it('writes each query row as two half rows (vec4 2w + h at h * q4 / 2 + w), rows apart, the values unchanged', () => {
    // Two queries of q4 = 6 vec4 (f16 rows of 3 words): value = query * 100 + vec4 * 4 + component.
    const q4 = 6;
    const queries = Float32Array.from({ length: 2 * q4 * 4 }, (_, i) => Math.floor(i / (q4 * 4)) * 100 + (i % (q4 * 4)));
    const out = splitQueryHalves(queries, q4);
    const vec4At = (a: Float32Array, row: number, v: number) => Array.from(a.subarray((row * q4 + v) * 4, (row * q4 + v) * 4 + 4));
    for (let row = 0; row < 2; row++) {
      for (let w = 0; w < q4 / 2; w++) {
        for (let h = 0; h < 2; h++) expect(vec4At(out, row, h * (q4 / 2) + w)).toEqual(vec4At(queries, row, 2 * w + h));
      }
    }
    expect([...out].sort((x, y) => x - y)).toEqual([...queries].sort((x, y) => x - y));
  });
});

describe.skipIf(!hasGpu)('gpu flat_gemv_multi', () => {
  afterEach(() => void Object.assign(kernelTuning, defaults));

  // [nq, d, metric, k, knobs, target]: odd nq pad to the class (8 or 16); d not a multiple of 4 (f16:
  // of 8); segments of several hundred rows (many iterations and buffer sorts) or of about k rows;
  // mq16: 9-16 queries as two blocks of 8 (the second starts at query 8); mqw: queries staged in workgroup memory.
  it.each([
    [16, 768, 'ip', 10, { mru: 2, muw: 0, hmru: 2, hmuw: 0, mqw: 1, mfma: 1 }, 3], // lavapipe's 32 KiB: 4 of 16 staged
    [5, 61, 'l2', 10, { mru: 4, muw: 1, hmru: 4, hmuw: 1, mqw: 1, hqp: 1 }, 3],
    [8, 30, 'ip', 1, { mru: 1, muw: 2, hmru: 1, hmuw: 0, mfma: 0 }, 5],
    [9, 133, 'l2', 10, { mru: 1, muw: 1, hmru: 2, hmuw: 2, mqw: 1 }, 3],
    [13, 200, 'ip', 10, { mru: 2, muw: 2, hmru: 1, hmuw: 0, mci: 1, msp: 128, mq16: 1, mqw: 1, mpart: 0 }, 128],
    [7, 45, 'ip', 100, { mru: 4, muw: 0, hmru: 4, hmuw: 0, mfma: 1, hqp: 1, mpart: 0 }, 12],
    [6, 77, 'l2', 10, { mru: 2, muw: 1, hmru: 4, hmuw: 2, hqp: 0 }, 50], // segments of 12 rows for k = 10
    [12, 300, 'l2', 7, { mru: 2, muw: 1, hmru: 2, hmuw: 3, mq16: 1 }, 2048],
    // The f32 block of 16's own knobs (m16*) in place of mru / muw / mci; f16 keeps hmru.
    [11, 95, 'ip', 10, { mru: 4, muw: 2, hmru: 2, hmuw: 0, m16ru: 1, m16uw: 1, m16ci: 2, mfma: 0 }, 3],
    [14, 768, 'ip', 10, { mru: 1, muw: 1, hmru: 2, hmuw: 0, m16ru: 2, m16uw: 1, m16ci: 6 }, 3],
    // Below 5 queries (gemvMultiFrom): most of the block of 8 empty, or (mq4) a block of 4, whose RU x 4
    // values a lane (4..16) leave lanes holding copies at RU 1 on 8 lanes.
    [3, 50, 'ip', 10, { gemvMultiFrom: 2, mq4: 0, mru: 2, muw: 1, hmru: 2, hmuw: 0, mfma: 0, mpart: 0 }, 3],
    [2, 72, 'l2', 5, { gemvMultiFrom: 2, mq4: 0, mru: 4, muw: 0, hmru: 1, hmuw: 2, mqw: 1 }, 5],
    [4, 768, 'ip', 10, { gemvMultiFrom: 2, mq4: 1, mru: 4, muw: 2, hmru: 4, hmuw: 0, mfma: 1 }, 3],
    [8, 200, 'ip', 10, { mru: 4, muw: 1, hmru: 4, hmuw: 2, mfma: 1, hqp: 0 }, 5],
    // hqp 1 (the default; 0 above): f16 queries split into half rows on the host (splitQueryHalves),
    // over tile groups and (gemvMultiTiles 1) a dispatch a tile; the block of 4 ignores it.
    [8, 200, 'ip', 10, { mru: 4, muw: 1, hmru: 4, hmuw: 1, mfma: 1, hqp: 1 }, 5],
    [6, 136, 'l2', 10, { mru: 2, muw: 1, hmru: 2, hmuw: 2, hqp: 1, gemvMultiTiles: 1 }, 7],
    [4, 768, 'ip', 10, { gemvMultiFrom: 2, mq4: 1, mru: 4, muw: 2, hmru: 4, hmuw: 0, mfma: 1, hqp: 1 }, 3],
    // mpart (1, the default; 0 in three rows above): only the batch's own queries multiplied (ip with
    // fma chains, and l2 / dot): 5 and 7 of 8, 3 of 4 (f16; f32's block of 4 keeps the padding), 9 and 14 of 16.
    [5, 200, 'ip', 10, { mru: 4, muw: 1, hmru: 4, hmuw: 1, mfma: 1, mpart: 1 }, 5],
    [7, 61, 'l2', 10, { mru: 2, muw: 2, hmru: 4, hmuw: 2, mpart: 1 }, 3],
    [3, 136, 'ip', 10, { gemvMultiFrom: 2, mq4: 1, mru: 4, muw: 1, hmru: 4, hmuw: 1, mfma: 1, mpart: 1, mqw: 1 }, 7],
    [9, 95, 'ip', 10, { mru: 4, muw: 2, hmru: 2, hmuw: 1, m16ru: 2, m16uw: 1, m16ci: 6, mfma: 1, mpart: 1 }, 3],
    [14, 133, 'l2', 10, { mru: 4, muw: 2, hmru: 2, hmuw: 1, m16ru: 1, m16uw: 1, m16ci: 2, mfma: 0, mpart: 1 }, 5],
    [3, 61, 'l2', 10, { gemvMultiFrom: 2, mq4: 1, mru: 1, muw: 1, hmru: 2, hmuw: 2, mqw: 1 }, 50],
    [2, 130, 'ip', 1, { gemvMultiFrom: 2, mq4: 1, mru: 2, muw: 0, hmru: 1, hmuw: 1, h4uw: 0 }, 5],
    [4, 45, 'ip', 100, { gemvMultiFrom: 2, mq4: 1, mru: 1, muw: 2, hmru: 4, hmuw: 2, mqw: 1 }, 12],
    // Fewer lanes a row than the subgroup's 8 (mlpr / hlpr): 2 or 4 rows' groups a subgroup, over tile
    // groups and a dispatch a tile, blocks of 4, 8 (partial) and 16, one and two words in flight.
    [8, 200, 'ip', 10, { mru: 4, muw: 1, hmru: 4, hmuw: 1, mfma: 1, mlpr: 4, hlpr: 4 }, 5],
    [6, 136, 'l2', 10, { mru: 2, muw: 2, hmru: 4, hmuw: 2, mlpr: 2, hlpr: 4, gemvMultiTiles: 1 }, 7],
    [3, 61, 'ip', 10, { gemvMultiFrom: 2, mq4: 1, mru: 4, muw: 2, hmru: 2, hmuw: 1, mlpr: 4, hlpr: 2, mpart: 1 }, 50],
    [13, 95, 'ip', 10, { mru: 4, muw: 2, hmru: 2, hmuw: 1, m16ru: 2, m16uw: 2, mfma: 1, mlpr: 4, hlpr: 4 }, 3],
    [5, 768, 'ip', 10, { mru: 4, muw: 1, hmru: 4, hmuw: 1, mfma: 1, mlpr: 4, hlpr: 4 }, 3],
  ] as const)('nq=%i d=%i %s k=%i %o target %i: f32 and f16 exact ids vs float64, several tiles', async (nq, d, metric, k, knobs, target) => {
    // h16split / m16split 0: the block of 16 up to 16 queries here, and mq16's blocks of 8 as 8 + the rest
    // (meven 0; gemv-multi-qx tests the blocks of 8 first and the even split).
    Object.assign(kernelTuning, { gemvMulti: 15, mtarget: 0, targetWorkgroups: target, m16ru: 0, m16uw: 0, m16sp: 0, m16ci: 0, h16split: 0, m16split: 0, meven: 0 }, knobs);
    const n = 1537; // 3 tiles of 600 / 600 / 337 rows: segment ends inside an iteration's rows
    const base = randomVectors(n, d, seed++);
    const q = randomVectors(nq, d, seed++);
    const halves = base.map((x) => fromHalfBits(toHalfBits(x)));
    for (const [precision, rows] of [['f32', base], ['f16', halves]] as const) {
      const index = await GpuFlatIndex.create(d, metric, { precision, noShaderF16: true, maxTileBytes: Math.ceil(d / 4) * 16 * 600, debugPoison: true });
      try {
        await index.add(base);
        const shard = shardsOf(index)[0]!;
        const own = precision === 'f32' && nq > 8 && !('mq16' in knobs) && 'm16ru' in knobs ? knobs.m16ru : undefined;
        const ru = own ?? (precision === 'f32' ? knobs.mru : knobs.hmru);
        const block = nq <= 4 && 'mq4' in knobs && knobs.mq4 ? 4 : nq <= 8 || 'mq16' in knobs ? 8 : 16;
        // Fewer lanes a row (lpr) widen an iteration's rows: the planner may halve RU to fit their buffers.
        const ruAt = 'mlpr' in knobs ? '[124]' : ru;
        expect(shard.scorerFor(nq, k).key, precision).toMatch(new RegExp(`^gemvm:${precision === 'f32' ? 0 : 1}:${metric === 'ip' ? 0 : 1}:p:\\d+:${block}:\\d+:${ruAt}:`));
        // The queries staged in workgroup memory where asked (QS > 1 vec4), else read from storage.
        const key = shard.scorerFor(nq, k).key.split(':');
        expect(key[11] === '1', precision).toBe(!('mqw' in knobs));
        // Inner products as fma chains (mfma 1, the default; ip only, l2 keeps its differences) or dot then add (mfma 0).
        expect(key[12] === 'fma', precision).toBe(kernelTuning.mfma === 1);
        // Split query halves (hqp, on by default) for f16 blocks of 8 and 16: the block of 4 keeps the row order.
        expect(key.includes('qp'), precision).toBe(precision === 'f16' && block !== 4 && kernelTuning.hqp === 1);
        // With mpart a batch short of its block multiplies only its own groups (g<groups>r<last group's queries>).
        expect(key.some((f) => /^g\d+r\d$/.test(f)), precision).toBe(kernelTuning.mpart === 1 && nq < block && (precision === 'f16' || block > 4));
        // Lanes a row below the subgroup's size where asked (l<lanes>).
        const lpr = (precision === 'f32' ? kernelTuning.mlpr : kernelTuning.hlpr) ?? 0;
        expect(key.some((f) => /^l\d+$/.test(f)), precision).toBe(lpr > 0 && lpr < 8);
        const got = await index.search(q, k);
        expectMatchesOracle(got, bruteForce(rows, q, d, k, metric), distanceTolerance(d, metric === 'l2' ? 8 * d : 4 * d), rows, q, d, metric);
      } finally {
        await index.dispose();
      }
    }
  });

  it('defaults: 2-16 f32 queries run flat_gemv_multi at min(mtarget, targetWorkgroups) workgroups (9-16 as two blocks, blocks first, split evenly; the block of 16 at m16ru rows without m16split), f16 2-16 too (h16split, h16ru), each class its chunks, 1 flat_gemv', async () => {
    const index = await GpuFlatIndex.create(64, 'ip', { debugPoison: true });
    const half = await GpuFlatIndex.create(256, 'ip', { precision: 'f16', debugPoison: true });
    try {
      await index.add(randomVectors(100, 64, seed++));
      await half.add(randomVectors(100, 256, seed++));
      const shard = shardsOf(index)[0]!;
      for (const nq of [5, 8]) expect(shard.scorerFor(nq, 10)).toMatchObject({ key: expect.stringMatching(/^gemvm:0:0:p:16:8:/), BQ: 8, target: Math.min(kernelTuning.mtarget, kernelTuning.targetWorkgroups) });
      // f32 9-16 (m16split 9, H100 h59-h60, h64-h65): two blocks of 8, blocks first, split evenly (meven: 9 = 5 + 4, 16 = 8 + 8).
      expect([defaults.m16split, defaults.meven]).toEqual([9, 1]);
      for (const [nq, QB] of [[9, 5], [12, 6], [13, 7], [16, 8]] as const) expect(shard.scorerFor(nq, 10)).toMatchObject({ key: expect.stringMatching(QB < 8 ? new RegExp(`^gemvm:0:0:p:16:8:.*:qx:b${QB}$`) : /^gemvm:0:0:p:16:8:.*:qx$/), BQ: QB, blocksFirst: true });
      // With m16split 0, the block of 16 at m16ru rows.
      kernelTuning.m16split = 0;
      for (const nq of [9, 12]) expect(shard.scorerFor(nq, 10)).toMatchObject({ key: expect.stringMatching(new RegExp(`^gemvm:0:0:p:16:16:\\d+:${kernelTuning.m16ru}:1:`)), BQ: 16 });
      kernelTuning.m16split = defaults.m16split;
      for (const nq of [2, 5, 8]) expect(shardsOf(half)[0]!.scorerFor(nq, 10).key).toMatch(/^gemvm:1:0:/);
      // f16: the block of 4 with its own words in flight and workgroups (h4uw, h4target), the block of 8 with hmuw and mtarget.
      const t = kernelTuning;
      const uw = (nq: number) => Number(shardsOf(half)[0]!.scorerFor(nq, 10).key.split(':')[8]);
      // 256 dims of f16 are 32 words a row, 4 a lane of lavapipe's 8: room for two in flight.
      expect([uw(3), uw(6)]).toEqual([t.h4uw || t.hmuw || 2, t.hmuw || 2]);
      // Each block its own: one word in flight for the block of 8 leaves the block of 4's two.
      t.hmuw = 1;
      expect([uw(3), uw(6)]).toEqual([t.h4uw || 2, 1]);
      // Chunks claimed from a counter a tile, each class its own size (H100 calls h42-h48): the f16
      // block of 4 one iteration, the blocks of 8 two (split batches too), the f16 block of 16 three;
      // the f32 block of 16 keeps its fixed segments (no dyn in the key).
      expect([defaults.h4dyn, defaults.hdyn, defaults.h16dyn, defaults.mdyn, defaults.m16dyn]).toEqual([1, 2, 3, 2, 0]);
      const dyn = (s: FlatShard, nq: number) => Number(/:dyn(\d+)(:|$)/.exec(s.scorerFor(nq, 10).key)?.[1] ?? 0);
      expect([3, 6, 12].map((nq) => dyn(shardsOf(half)[0]!, nq))).toEqual([t.h4dyn, t.hdyn, t.hdyn]);
      expect([3, 6, 12].map((nq) => dyn(shard, nq))).toEqual([t.mdyn, t.mdyn, t.mdyn]);
      t.h16split = 0;
      t.m16split = 0;
      expect([dyn(shardsOf(half)[0]!, 12), dyn(shard, 12)]).toEqual([t.h16dyn, t.m16dyn]);
      t.h16split = defaults.h16split;
      t.m16split = defaults.m16split;
      // The first iteration's sort for f16 only (hfirst; f32's first iteration is a quarter of f16's rows, H100 h51).
      expect([defaults.mfree, defaults.m16free, defaults.mfirst, defaults.hfirst]).toEqual([3, 1, 0, 1]);
      const first = (s: FlatShard, nq: number) => /:f1(:|$)/.test(s.scorerFor(nq, 10).key);
      expect([3, 6, 12].map((nq) => first(shardsOf(half)[0]!, nq))).toEqual([true, true, true]);
      expect([3, 6, 12].map((nq) => first(shard, nq))).toEqual([false, false, false]);
      expect(shardsOf(half)[0]!.scorerFor(3, 10)).toMatchObject({ BQ: 4, target: Math.min(t.h4target, t.targetWorkgroups) });
      expect(shardsOf(half)[0]!.scorerFor(6, 10)).toMatchObject({ BQ: 8, target: Math.min(t.mtarget, t.targetWorkgroups) });
      expect(shard.scorerFor(3, 10).target).toBe(Math.min(t.mtarget, t.targetWorkgroups));
      // f16 9-16 (gemvMulti bit 8): from h16split (9; H100 h57, h64-h65) two blocks of 8, blocks first,
      // split evenly; with h16split 0 one block of 16 at h16ru rows an iteration; without the bit, flat_fused.
      expect(defaults.h16split).toBe(9);
      for (const [nq, QB] of [[9, 5], [14, 7], [15, 8], [16, 8]] as const) expect(shardsOf(half)[0]!.scorerFor(nq, 10)).toMatchObject({ key: expect.stringMatching(QB < 8 ? new RegExp(`^gemvm:1:0:[ph]:16:8:.*:qx:b${QB}$`) : /^gemvm:1:0:[ph]:16:8:.*:qx$/), BQ: QB, blocksFirst: true });
      t.h16split = 0;
      for (const nq of [9, 14]) expect(shardsOf(half)[0]!.scorerFor(nq, 10)).toMatchObject({ key: expect.stringMatching(new RegExp(`^gemvm:1:0:[ph]:16:16:\\d+:${t.h16ru}:`)), BQ: 16 });
      t.h16split = defaults.h16split;
      t.gemvMulti &= ~8;
      for (const nq of [9, 16]) expect(shardsOf(half)[0]!.scorerFor(nq, 10).key).toMatch(/^fused:/);
      t.gemvMulti |= 8;
      const block4 = kernelTuning.mq4 ? 4 : 8;
      for (const nq of [2, 3, 4]) expect(shard.scorerFor(nq, 10)).toMatchObject({ key: expect.stringMatching(new RegExp(`^gemvm:0:0:p:16:${block4}:`)), BQ: block4 });
      expect(shard.scorerFor(1, 10).key).toMatch(/^gemv:/);
      kernelTuning.gemvMultiFrom = 3;
      expect(shard.scorerFor(2, 10).key).toMatch(/^gemv:/);
      expect(shard.scorerFor(3, 10).key).toMatch(/^gemvm:0:0:p:16:/);
      kernelTuning.gemvMultiFrom = 5;
      expect(shard.scorerFor(4, 10).key).toMatch(/^gemv:/);
      kernelTuning.targetWorkgroups = 7;
      expect(shard.scorerFor(6, 10).target).toBe(7);
    } finally {
      await index.dispose();
      await half.dispose();
    }
  });

  it('exact ties (duplicate rows) come lower id first; k past the buffers falls back to flat_fused; native f16 decode', async () => {
    // The block of 16 at 11 queries (h16split / m16split 0), whose buffers k = 200 overflows.
    Object.assign(kernelTuning, { gemvMulti: 15, targetWorkgroups: 4, h16split: 0, m16split: 0 });
    const d = 40;
    const half = randomVectors(400, d, seed++);
    const base = new Float32Array(800 * d);
    base.set(half, 0);
    base.set(half, 400 * d); // row i + 400 = row i
    const q = randomVectors(11, d, seed++);
    for (const [precision, k] of [['f32', 10], ['f32', 200], ['f16', 10]] as const) {
      const rows = precision === 'f16' ? base.map((x) => fromHalfBits(toHalfBits(x))) : base;
      const index = await GpuFlatIndex.create(d, 'ip', { precision, maxTileBytes: 1 << 14, debugPoison: true });
      try {
        await index.add(base);
        // k = 200: 16 buffers of 200 + one iteration's rows do not fit 32 KiB.
        expect(shardsOf(index)[0]!.scorerFor(11, k).key.split(':')[0]).toBe(k > 100 ? 'fused' : 'gemvm');
        const got = await index.search(q, k);
        expectMatchesOracle(got, bruteForce(rows, q, d, k, 'ip'), distanceTolerance(d, 4 * d), rows, q, d, 'ip');
        // Each pair of copies: the lower id ranks first.
        for (let i = 0; i < 11; i++) {
          const ids = Array.from(got.labels.subarray(i * k, i * k + Math.min(k, 20)), Number);
          for (let j = 0; j + 1 < ids.length; j += 2) expect(ids[j]! + 400, `query ${i} rank ${j}`).toBe(ids[j + 1]);
        }
      } finally {
        await index.dispose();
      }
    }
  });
});
