/**
 * flat_gemv_multi's query blocks first (kernelTuning.mqx, and f16 from h16split queries; the
 * shader's QX): a batch of 9-16 queries as blocks of 8 (mq16) dispatched as (blocks, segments), so
 * a segment's blocks are launched together and the second reads the rows from L2; and such a batch
 * split evenly (meven; the shader's QB: 13 = 7 + 6). Against the float64 oracle (exact ids; f16 over
 * the half-rounded rows) with the lists poisoned, and the same lists bit for bit as the blocks of 8
 * on the grid's y (mqx 0), over one tile and tile groups, fixed segments and dynamic chunks.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { kernelTuning } from '../../src/gpu/flat-shard.js';
import { gemvMultiKey, planGemvMulti } from '../../src/gpu/gemv-multi.js';
import { clusteredVectors, randomVectors } from '../helpers/data.js';
import { expectOracle, forEachPrecision } from '../helpers/gemv-multi-case.js';
import { gpuForTests } from '../helpers/gpu.js';
import { expectSameSearch } from '../helpers/shard-lists.js';

const hasGpu = await gpuForTests('GPU flat_gemv_multi query blocks first');
const defaults = { ...kernelTuning };
let seed = 99000;

describe('planGemvMulti: query blocks first (qx)', () => {
  const facts = { rowWords: 48, q4: 96, subgroupSize: 32, maxWorkgroupStorage: 32768 };
  const knobs = { ru: 4, uw: 2, sp: 0, ci: 6, qw: 0, split: 1, part: 1 };
  it('applies to batches of several blocks only (each block full, the last padded)', () => {
    for (const nq of [9, 12, 16]) {
      const p = planGemvMulti(facts, nq, 16, { ...knobs, qx: 1 })!;
      expect([p.NQ, p.QX, p.NG, p.NQR]).toEqual([8, 1, 2, 4]);
      expect(gemvMultiKey(p, 1, 0, false, 16)).toMatch(/:qx$/);
    }
    // One block (or no split): nothing to launch together.
    expect(planGemvMulti(facts, 7, 16, { ...knobs, qx: 1 })!.QX).toBe(0);
    expect(planGemvMulti(facts, 12, 16, { ...knobs, split: 0, qx: 1 })!.QX).toBe(0);
    expect(planGemvMulti(facts, 12, 16, knobs)!.QX).toBe(0);
  });
  it('splits a batch of two blocks evenly with meven (each block multiplying only its own, the odd one padded)', () => {
    for (const [nq, QB, NG, NQR] of [[9, 5, 2, 1], [12, 6, 2, 2], [13, 7, 2, 3], [16, 8, 2, 4]] as const) {
      const p = planGemvMulti(facts, nq, 16, { ...knobs, qx: 1, even: 1 })!;
      expect([p.NQ, p.QX, p.QB, p.NG, p.NQR]).toEqual([8, 1, QB, NG, NQR]);
      expect(gemvMultiKey(p, 1, 0, false, 16)).toMatch(QB < 8 ? new RegExp(`:g${NG}r${NQR}:qx:b${QB}$`) : /:qx$/);
    }
    // One block: nothing to split.
    expect(planGemvMulti(facts, 7, 16, { ...knobs, even: 1 })!.QB).toBe(8);
  });
});

describe.skipIf(!hasGpu)('flat_gemv_multi query blocks first (mqx)', () => {
  afterEach(() => void Object.assign(kernelTuning, defaults));

  // nq (blocks of 8 + 1, 8 + 4, 8 + 5, 8 + 8: the second padded to 8), d, metric, k, workgroups (targetWorkgroups), tiles a
  // dispatch, iterations a chunk (0: fixed segments), clustered. Tiles of 400 / 400 / 217 rows.
  it.each([
    [9, 61, 'ip', 10, 6, 1, 0, false],
    [12, 136, 'l2', 10, 4, 3, 2, true], // one dispatch over the three tiles, a counter a (block, tile)
    [13, 45, 'ip', 7, 8, 2, 1, false],
    [16, 72, 'l2', 20, 2, 1, 0, true],
  ] as const)('nq=%i d=%i %s k=%i, %i workgroups, %i tiles a dispatch, chunks of %i, clustered=%s: the oracle and the same lists as blocks on y', async (nq, d, metric, k, target, tiles, dyn, clustered) => {
    const n = 1017;
    const base = clustered ? clusteredVectors(n, d, 5, seed++) : randomVectors(n, d, seed++);
    const q = clustered ? clusteredVectors(nq, d, 5, seed++) : randomVectors(nq, d, seed++);
    await forEachPrecision(d, metric, base, 400, async ({ precision, rows, index, shard, lists }) => {
      Object.assign(kernelTuning, defaults, { gemvMulti: 15, mq16: 1, mqx: 0, h16split: 0, m16split: 0, meven: 0, mtarget: 0, targetWorkgroups: target, gemvMultiTiles: tiles, mdyn: dyn, hdyn: dyn });
      const onY = await index.search(q, k);
      expect(shard.scorerFor(nq, k).key, precision).not.toMatch(/:qx$/);
      kernelTuning.mqx = 1;
      const key = shard.scorerFor(nq, k).key;
      expect(key, precision).toMatch(new RegExp(`^gemvm:\\d:\\d:p:\\d+:8:.*${dyn ? `:dyn${dyn}` : ''}.*:qx$`));
      lists.splice(0, lists.length - 1);
      const got = await index.search(q, k);
      expectOracle(got, rows, q, d, k, metric);
      expectSameSearch(got, onY, lists);
    });
  });

  // nq (even blocks 5 + 4, 7 + 6, 6 + 6), d, metric, k, tiles a dispatch, chunks, blocks first, queries staged in workgroup memory.
  it.each([
    [9, 61, 'ip', 10, 1, 0, 1, 0],
    [13, 136, 'l2', 7, 3, 2, 1, 0],
    [12, 45, 'ip', 20, 2, 1, 0, 1], // a block stages 8 queries: the next block's first is staged, never multiplied
  ] as const)('nq=%i d=%i %s k=%i, %i tiles a dispatch, chunks of %i, blocks first %i, staged %i, split evenly: the oracle and the same lists as 8 + the rest', async (nq, d, metric, k, tiles, dyn, qx, qw) => {
    const base = randomVectors(1017, d, seed++);
    const q = clusteredVectors(nq, d, 5, seed++);
    await forEachPrecision(d, metric, base, 400, async ({ precision, rows, index, shard, lists }) => {
      Object.assign(kernelTuning, defaults, { gemvMulti: 15, mq16: 1, mqx: qx, mqw: qw, h16split: 0, m16split: 0, meven: 0, mtarget: 0, targetWorkgroups: 6, gemvMultiTiles: tiles, mdyn: dyn, hdyn: dyn });
      const padded = await index.search(q, k);
      kernelTuning.meven = 1;
      const QB = Math.ceil(nq / 2);
      expect(shard.scorerFor(nq, k).key, precision).toMatch(new RegExp(`^gemvm:\\d:\\d:p:\\d+:8:.*:g2r${QB - 4}${dyn ? `:dyn${dyn}` : ''}(:f1)?${qx ? ':qx' : ''}:b${QB}$`));
      lists.splice(0, lists.length - 1);
      const got = await index.search(q, k);
      expectOracle(got, rows, q, d, k, metric);
      expectSameSearch(got, padded, lists);
    });
  });
});
