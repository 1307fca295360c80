/**
 * flat_gemv_multi's two passes (kernelTuning.mpasses; the shader's PASSES): a batch of 9-16 queries
 * split into two blocks of 8 (or evenly, meven) scored by one workgroup, which multiplies, reduces
 * and appends the first block's queries over a row group and then the second's over the same rows,
 * keeping lists for both. Against the float64 oracle (exact ids; f16 over the half-rounded rows)
 * with the lists poisoned, and the same results bit for bit as the two blocks in workgroups of their
 * own, over one tile and tile groups, fixed segments and dynamic chunks.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { kernelTuning } from '../../src/gpu/flat-shard.js';
import { gemvMultiKey, planGemvMulti } from '../../src/gpu/gemv-multi.js';
import { clusteredVectors, randomVectors } from '../helpers/data.js';
import { expectOracle, forEachPrecision } from '../helpers/gemv-multi-case.js';
import { gpuForTests } from '../helpers/gpu.js';

const hasGpu = await gpuForTests('GPU flat_gemv_multi two passes');
const defaults = { ...kernelTuning };
let seed = 99500;

describe('planGemvMulti: two passes a workgroup (passes)', () => {
  const facts = { rowWords: 48, q4: 96, subgroupSize: 32, maxWorkgroupStorage: 32768 };
  const knobs = { ru: 4, uw: 2, sp: 0, ci: 6, qw: 0, split: 1, part: 1, qx: 1 };
  it('applies to batches of two blocks, in place of blocks first, with lists for both blocks', () => {
    for (const [nq, QB, NG, NQR] of [[9, 5, 2, 1], [13, 7, 2, 3], [16, 8, 2, 4]] as const) {
      const p = planGemvMulti(facts, nq, 16, { ...knobs, even: 1, passes: 1 })!;
      expect([p.NQ, p.PASSES, p.QX, p.QB, p.NG, p.NQR]).toEqual([8, 2, 0, QB, NG, NQR]);
      expect(gemvMultiKey(p, 1, 0, false, 16)).toMatch(/:p2$/);
      // Sixteen buffers of SP slots fit the workgroup memory: SP <= (32768 - 12 x 16 - 16 - 16) / (8 x 16).
      expect(p.SP * 8 * 16 + 12 * 16 + 16 + 16).toBeLessThanOrEqual(facts.maxWorkgroupStorage);
      expect(p.SP).toBeGreaterThanOrEqual(16 + (256 / p.LPR) * p.RU);
    }
    // One block: one pass; and staged queries (qw) are never planned with two.
    expect(planGemvMulti(facts, 8, 16, { ...knobs, passes: 1 })!.PASSES).toBe(1);
    const staged = planGemvMulti(facts, 12, 16, { ...knobs, qw: 1, passes: 1 })!;
    expect([staged.PASSES, staged.QWG]).toEqual([2, 0]);
    expect(planGemvMulti(facts, 12, 16, knobs)!.PASSES).toBe(1);
  });
});

describe.skipIf(!hasGpu)('flat_gemv_multi two passes a workgroup (mpasses)', () => {
  afterEach(() => void Object.assign(kernelTuning, defaults));

  // nq, d, metric, k, workgroups (targetWorkgroups), tiles a dispatch, iterations a chunk (0: fixed
  // segments), split evenly, clustered. Tiles of 400 / 400 / 217 rows.
  it.each([
    [9, 61, 'ip', 10, 6, 1, 0, 1, false],
    [12, 136, 'l2', 10, 4, 3, 2, 1, true], // one dispatch over the three tiles, a counter a (block, tile)
    [13, 45, 'ip', 7, 8, 2, 1, 0, false], // 8 + 5: the second block padded to 8
    [16, 72, 'l2', 20, 2, 1, 0, 1, true],
  ] as const)('nq=%i d=%i %s k=%i, %i workgroups, %i tiles a dispatch, chunks of %i, even %i, clustered=%s: the oracle and the same results as a workgroup a block', async (nq, d, metric, k, target, tiles, dyn, even, clustered) => {
    const n = 1017;
    const base = clustered ? clusteredVectors(n, d, 5, seed++) : randomVectors(n, d, seed++);
    const q = clustered ? clusteredVectors(nq, d, 5, seed++) : randomVectors(nq, d, seed++);
    await forEachPrecision(d, metric, base, 400, async ({ precision, rows, index, shard }) => {
      Object.assign(kernelTuning, defaults, { gemvMulti: 15, mq16: 1, mqx: 1, meven: even, h16split: 0, m16split: 0, mtarget: 0, targetWorkgroups: target, gemvMultiTiles: tiles, mdyn: dyn, hdyn: dyn });
      const apart = await index.search(q, k);
      expect(shard.scorerFor(nq, k).key, precision).toMatch(/:qx(:b\d+)?$/);
      kernelTuning.mpasses = 1;
      const key = shard.scorerFor(nq, k).key;
      expect(key, precision).toMatch(new RegExp(`^gemvm:\\d:\\d:p:\\d+:8:.*${dyn ? `:dyn${dyn}` : ''}.*:p2$`));
      expect(key, precision).not.toMatch(/:qx/);
      const got = await index.search(q, k);
      expectOracle(got, rows, q, d, k, metric);
      expect([...got.labels], precision).toEqual([...apart.labels]);
      expect([...got.distances], precision).toEqual([...apart.distances]);
    });
  });

  it('keeps each block\'s lists apart where both blocks hold the same query (a batch of one query repeated)', async () => {
    const d = 40;
    const base = randomVectors(700, d, seed++);
    const one = randomVectors(1, d, seed++);
    const q = new Float32Array(12 * d);
    for (let i = 0; i < 12; i++) q.set(one, i * d);
    await forEachPrecision(d, 'ip', base, undefined, async ({ rows, index }) => {
      Object.assign(kernelTuning, defaults, { gemvMulti: 15, mq16: 1, mpasses: 1, meven: 1, h16split: 0, m16split: 0 });
      const got = await index.search(q, 10);
      expectOracle(got, rows, q, d, 10, 'ip');
      for (let i = 1; i < 12; i++) expect([...got.labels.subarray(i * 10, i * 10 + 10)]).toEqual([...got.labels.subarray(0, 10)]);
    });
  });
});
