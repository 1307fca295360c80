/**
 * flat_gemv_multi's half bits (kernelTuning.hbits; the shader's HB): f16 row values built from the
 * halves' bits by a shift and a mask (the value x 2^-112) with the split queries written x 2^112.
 * Against the float64 oracle over the half-rounded rows with the lists poisoned, and the same lists
 * bit for bit as unpack2x16float (hbits 0): the scaling by powers of two is exact while both stay normal.
 * Squared L2 keeps the conversion; a query component past 2^16 is refused with the fix.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { kernelTuning } from '../../src/gpu/flat-shard.js';
import { gemvMultiKey, HALF_BITS_SCALE, planGemvMulti, splitQueryHalves } from '../../src/gpu/gemv-multi.js';
import { clusteredVectors, randomVectors } from '../helpers/data.js';
import { expectOracle, forEachPrecision } from '../helpers/gemv-multi-case.js';
import { gpuForTests } from '../helpers/gpu.js';
import { expectSameSearch } from '../helpers/shard-lists.js';

const hasGpu = await gpuForTests('GPU flat_gemv_multi half bits');
const defaults = { ...kernelTuning };
let seed = 99500;

describe('planGemvMulti: half bits (hb)', () => {
  const facts = { rowWords: 48, q4: 96, subgroupSize: 32, maxWorkgroupStorage: 32768 };
  const knobs = { ru: 4, uw: 2, sp: 0, ci: 6, qw: 0, split: 1, part: 1 };
  it('applies only with the split query halves (qp), and is in the key', () => {
    const p = planGemvMulti(facts, 8, 16, { ...knobs, qp: 1, hb: 1 })!;
    expect([p.QP, p.HB]).toEqual([1, 1]);
    expect(gemvMultiKey(p, 1, 0, false, 16)).toMatch(/:qp:hb/);
    expect(planGemvMulti(facts, 8, 16, { ...knobs, qp: 0, hb: 1 })!.HB).toBe(0);
    // f32 rows (q4 = rowWords): no halves to split.
    expect(planGemvMulti({ ...facts, q4: 48 }, 8, 16, { ...knobs, qp: 1, hb: 1 })!.HB).toBe(0);
  });
  it('writes the split queries x 2^112 and refuses components of 2^16 and more', () => {
    const q = new Float32Array(16).map((_, i) => (i - 7) / 8);
    const split = splitQueryHalves(q, 4);
    expect(Array.from(splitQueryHalves(q, 4, HALF_BITS_SCALE))).toEqual(Array.from(split, (x) => x * HALF_BITS_SCALE));
    q[3] = 65536;
    expect(() => splitQueryHalves(q, 4, HALF_BITS_SCALE)).toThrow(/65536.*hbits/);
    q[3] = 65535;
    expect(() => splitQueryHalves(q, 4, HALF_BITS_SCALE)).not.toThrow();
  });
});

describe.skipIf(!hasGpu)('flat_gemv_multi half bits (hbits)', () => {
  afterEach(() => void Object.assign(kernelTuning, defaults));

  // nq (a block of 8 with 5 real, two even blocks, two of 8), d, k, tiles a dispatch, clustered.
  it.each([
    [5, 61, 10, 1, false],
    [9, 136, 7, 3, true],
    [13, 72, 20, 2, false],
    [16, 45, 10, 1, true],
  ] as const)('nq=%i d=%i ip k=%i, %i tiles a dispatch, clustered=%s: the oracle and the same lists as the conversion', async (nq, d, k, tiles, clustered) => {
    const n = 1017;
    const base = clustered ? clusteredVectors(n, d, 5, seed++) : randomVectors(n, d, seed++);
    const q = clustered ? clusteredVectors(nq, d, 5, seed++) : randomVectors(nq, d, seed++);
    await forEachPrecision(d, 'ip', base, 400, async ({ precision, rows, index, shard, lists }) => {
      if (precision !== 'f16') return;
      Object.assign(kernelTuning, defaults, { gemvMulti: 15, gemvMultiTiles: tiles, hbits: 0 });
      const converted = await index.search(q, k);
      expect(shard.scorerFor(nq, k).key).toMatch(/:qp(?!:hb)/);
      kernelTuning.hbits = 1;
      expect(shard.scorerFor(nq, k).key).toMatch(/:qp:hb/);
      lists.splice(0, lists.length - 1);
      const got = await index.search(q, k);
      expectOracle(got, rows, q, d, k, 'ip');
      expectSameSearch(got, converted, lists);
    });
  });

  it('keeps the conversion for squared L2, and refuses a query past 2^16 naming the knob', async () => {
    const d = 40;
    const base = randomVectors(300, d, seed++);
    await forEachPrecision(d, 'l2', base, undefined, async ({ precision, shard }) => {
      if (precision !== 'f16') return;
      Object.assign(kernelTuning, defaults, { gemvMulti: 15, hbits: 1 });
      expect(shard.scorerFor(8, 10).key).toMatch(/:qp(?!:hb)/);
    });
    await forEachPrecision(d, 'ip', base, undefined, async ({ precision, index }) => {
      if (precision !== 'f16') return;
      Object.assign(kernelTuning, defaults, { gemvMulti: 15, hbits: 1 });
      const q = randomVectors(8, d, seed++);
      q[5] = 70000;
      await expect(index.search(q, 10)).rejects.toThrow(/hbits/);
    });
  });
});
