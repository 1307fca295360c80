/**
 * flat_gemv_multi with each subgroup's 4 queries in registers (kernelTuning.hqreg / mqreg; the
 * shader's QR): the block's subgroups split into groups of 4 queries over the same rows, the lane's
 * query dims loaded once. Against the float64 oracle (exact ids; f16 over the half-rounded rows) with
 * the lists poisoned, over one tile and tile groups, fixed segments and dynamic chunks, partial
 * blocks (idle query groups) and rows that end inside a lane's words.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { kernelTuning } from '../../src/gpu/flat-shard.js';
import { gemvMultiKey, planGemvMulti } from '../../src/gpu/gemv-multi.js';
import { clusteredVectors, randomVectors } from '../helpers/data.js';
import { expectOracle, forEachPrecision } from '../helpers/gemv-multi-case.js';
import { gpuForTests } from '../helpers/gpu.js';

const hasGpu = await gpuForTests('GPU flat_gemv_multi queries in registers');
const defaults = { ...kernelTuning };
let seed = 99500;

describe('planGemvMulti: queries in registers (qr)', () => {
  const knobs = { ru: 4, uw: 2, sp: 0, ci: 6, qw: 1, split: 0, part: 1, qp: 1, lpr: 16, qr: 1 };
  it('holds 4 queries a subgroup: one subgroup a group of 4, lanes a row = the subgroup, no staged or split queries', () => {
    // f16 d = 768 (96 words, 192 vec4 a query) on 32-lane subgroups: 3 words (6 vec4) a lane.
    const f16 = { rowWords: 96, q4: 192, subgroupSize: 32, maxWorkgroupStorage: 32768 };
    const p = planGemvMulti(f16, 13, 16, knobs)!;
    expect([p.NQ, p.QR, p.LPR, p.QWG, p.QP, p.CF, p.NG, p.NQR]).toEqual([16, 1, 32, 0, 0, 1, 4, 1]);
    expect(gemvMultiKey(p, 1, 0, false, 16)).toMatch(/:qr6$/);
    // f32 d = 768 (192 words) is 6 words a lane: still 6 vec4.
    expect(planGemvMulti({ ...f16, rowWords: 192 }, 6, 16, knobs)!.QR).toBe(1);
  });
  it('falls back where the rows or the subgroups do not fit', () => {
    const f16 = { rowWords: 97, q4: 194, subgroupSize: 32, maxWorkgroupStorage: 32768 };
    expect(planGemvMulti(f16, 13, 16, knobs)!.QR).toBe(0); // 776 dims: a fourth word a lane
    expect(planGemvMulti({ ...f16, rowWords: 193, q4: 193 }, 13, 16, knobs)!.QR).toBe(0);
    // 128-lane subgroups: two a workgroup, not a multiple of 16 queries' 4 groups.
    expect(planGemvMulti({ rowWords: 96, q4: 192, subgroupSize: 128, maxWorkgroupStorage: 32768 }, 16, 16, knobs)!.QR).toBe(0);
    expect(planGemvMulti({ rowWords: 96, q4: 192, subgroupSize: 32, maxWorkgroupStorage: 32768 }, 16, 16, { ...knobs, qr: 0 })!.QR).toBe(0);
  });
});

describe.skipIf(!hasGpu)('flat_gemv_multi queries in registers (hqreg / mqreg)', () => {
  afterEach(() => void Object.assign(kernelTuning, defaults));

  // nq (block of 4, 8 with 2 groups, 16 with idle groups), d, k, workgroups (targetWorkgroups),
  // tiles a dispatch, iterations a chunk (0: fixed segments), clustered, rows a subgroup. Tiles of 400 / 400 / 217 rows.
  it.each([
    [3, 61, 10, 6, 1, 0, false, 4],
    [6, 136, 10, 4, 3, 2, true, 2], // one dispatch over the three tiles, a counter a (block, tile)
    [9, 45, 7, 8, 2, 1, false, 4],
    [13, 190, 20, 2, 1, 0, true, 1],
    [16, 72, 10, 5, 1, 3, false, 4],
  ] as const)('nq=%i d=%i k=%i, %i workgroups, %i tiles a dispatch, chunks of %i, clustered=%s, %i rows a subgroup: the oracle', async (nq, d, k, target, tiles, dyn, clustered, ru) => {
    const n = 1017;
    const base = clustered ? clusteredVectors(n, d, 5, seed++) : randomVectors(n, d, seed++);
    const q = clustered ? clusteredVectors(nq, d, 5, seed++) : randomVectors(nq, d, seed++);
    await forEachPrecision(d, 'ip', base, 400, async ({ precision, rows, index, shard }) => {
      Object.assign(kernelTuning, defaults, { gemvMulti: 15, gemvMultiFrom: 2, hqreg: 2, mqreg: 2, qru: ru, mtarget: 0, targetWorkgroups: target, gemvMultiTiles: tiles, mdyn: dyn, hdyn: dyn, h4dyn: dyn, h16dyn: dyn, m16dyn: dyn });
      const key = shard.scorerFor(nq, k).key;
      expect(key, precision).toMatch(new RegExp(`^gemvm:\\d:0:p:\\d+:${nq <= 4 ? 4 : nq <= 8 ? 8 : 16}:\\d+:${ru}:.*${dyn ? `:dyn${dyn}` : ''}.*:qr\\d$`));
      const got = await index.search(q, k);
      expectOracle(got, rows, q, d, k, 'ip');
    });
  });

  it('leaves l2 on the shared query loads', async () => {
    const d = 40;
    const base = randomVectors(300, d, seed++);
    await forEachPrecision(d, 'l2', base, undefined, async ({ shard }) => {
      Object.assign(kernelTuning, defaults, { gemvMulti: 15, hqreg: 2, mqreg: 2 });
      expect(shard.scorerFor(12, 10).key).not.toMatch(/:qr/);
    });
  });
});
