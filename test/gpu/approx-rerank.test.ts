/** Host helpers of the approximate tensor-core paths (src/gpu/approx-rerank.ts): list order, code steps, the f32 certificate. */
import { describe, expect, it } from 'vitest';
import { f32KeyBound, f32KeyBoundQuick, fromOrderKey, rangePlan, rowRangesOf, stepParams, sortLists, uncertifiedF32 } from '../../src/gpu/approx-rerank.js';

const EMPTY = 0xffffffff;

describe('sortLists', () => {
  it('orders each list by key descending, ties by lower id, empty slots last, in place', () => {
    const keys = new Float32Array([0.5, 0.9, -3e38, 0.5, 0.7, /* q1 */ 1, 1, 2, -3e38, 1]);
    const ids = new Uint32Array([7, 3, EMPTY, 2, 9, /* q1 */ 5, 4, 8, EMPTY, 1]);
    sortLists(keys, ids, 2, 5);
    expect(Array.from(ids)).toEqual([3, 9, 2, 7, EMPTY, 8, 1, 4, 5, EMPTY]);
    expect(Array.from(keys.subarray(0, 4))).toEqual([Math.fround(0.9), Math.fround(0.7), 0.5, 0.5]);
  });

  it('matches a reference sort on random lists with many ties', () => {
    const nq = 50, k = 40;
    let seed = 3;
    const rand = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
    const keys = new Float32Array(nq * k).map(() => Math.floor(rand() * 8) / 8);
    const ids = new Uint32Array(nq * k).map(() => (rand() < 0.1 ? EMPTY : Math.floor(rand() * 1e6)));
    const want = Array.from({ length: nq }, (_, q) =>
      Array.from({ length: k }, (_, i) => ({ key: keys[q * k + i]!, id: ids[q * k + i]! })).sort((a, b) => (a.id === EMPTY ? 1 : 0) - (b.id === EMPTY ? 1 : 0) || b.key - a.key || a.id - b.id),
    );
    sortLists(keys, ids, nq, k);
    for (let q = 0; q < nq; q++) {
      const real = want[q]!.filter((e) => e.id !== EMPTY);
      expect(Array.from(ids.subarray(q * k, q * k + real.length))).toEqual(real.map((e) => e.id));
      expect(Array.from(keys.subarray(q * k, q * k + real.length))).toEqual(real.map((e) => e.key));
      expect(Array.from(ids.subarray(q * k + real.length, (q + 1) * k)).every((id) => id === EMPTY)).toBe(true);
    }
  });
});

/** Ranges with low = -high (symmetric rows): stepParams' symmetric cases. */
const symmetric = (maxima: Float32Array) => ({ low: maxima.map((m) => -m), high: maxima, maxima });

describe('stepParams', () => {
  it('vmin 0, step max / 127 and its inverse per dimension; 0 for an all-zero dimension; uniform: the largest for all', () => {
    const maxima = new Float32Array([0.5, 0, 2, 1]);
    const dims = stepParams(symmetric(maxima), 4);
    expect(Array.from(dims.subarray(0, 4))).toEqual([0, 0, 0, 0]);
    expect(Array.from(dims.subarray(4, 8))).toEqual([0.5 / 127, 0, 2 / 127, 1 / 127].map(Math.fround));
    expect(Array.from(dims.subarray(8, 12))).toEqual([127 / 0.5, 0, 127 / 2, 127].map(Math.fround));
    const uniform = stepParams(symmetric(maxima), 4, true);
    expect(Array.from(uniform.subarray(4, 8))).toEqual([2 / 127, 2 / 127, 2 / 127, 2 / 127].map(Math.fround));
    expect(Array.from(uniform.subarray(8, 12))).toEqual([63.5, 63.5, 63.5, 63.5]);
  });

  it('centred: vmin the middle of each dimension\'s range, step its half width / 127; a constant dimension has step 0 and vmin its value; uniform stays on 0', () => {
    // Dims: offset [0.55, 0.65] (an outlier dimension), symmetric [-1, 1], constant 0.3, all negative [-2, -1].
    const ranges = { low: new Float32Array([0.55, -1, 0.3, -2]), high: new Float32Array([0.65, 1, 0.3, -1]), maxima: new Float32Array([0.65, 1, 0.3, 2]) };
    const p = stepParams(ranges, 4);
    expect(Array.from(p.subarray(0, 4))).toEqual([0.6, 0, 0.3, -1.5].map(Math.fround));
    expect(Array.from(p.subarray(4, 8))).toEqual([0.05 / 127, 1 / 127, 0, 0.5 / 127].map((v, j) => Math.fround(j === 0 ? Math.max(Math.fround(0.65) - Math.fround(0.6), Math.fround(0.6) - Math.fround(0.55)) / 127 : v)));
    expect(p[8 + 2]).toBe(0);
    // Every value of a dimension codes within [-127, 127].
    for (const [j, x] of [[0, 0.55], [0, 0.65], [1, -1], [3, -2], [3, -1]] as const) expect(Math.abs(Math.round((Math.fround(x) - p[j]!) * p[8 + j]!))).toBeLessThanOrEqual(127);
    expect(Array.from(stepParams(ranges, 4, true).subarray(0, 4))).toEqual([0, 0, 0, 0]);
  });

  it('centred on a range narrower than float32 can centre (adjacent floats 1 and 1 + 2^-23): every value still codes within [-127, 127]', () => {
    // The middle 1 + 2^-24 rounds to 1 in float32: a step from the half width put the high end at
    // code 254, which the staging's byte wraps to -2.
    const ranges = { low: new Float32Array([1, -3]), high: new Float32Array([1 + 2 ** -23, -3 + 2 ** -22]), maxima: new Float32Array([1 + 2 ** -23, 3]) };
    const p = stepParams(ranges, 2);
    for (let j = 0; j < 2; j++) {
      for (const x of [ranges.low[j]!, ranges.high[j]!]) expect(Math.abs(Math.round(Math.fround(x - p[j]!) * p[4 + j]!))).toBeLessThanOrEqual(127);
    }
  });
});

describe('rowRangesOf', () => {
  const keyOf = (x: number) => {
    const b = new Uint32Array(new Float32Array([x]).buffer)[0]!;
    return (b & 0x80000000 ? ~b : b | 0x80000000) >>> 0;
  };
  it('decodes row_range\'s order keys of each maximum and negated minimum (any signs), 0 (no row) as an empty range at 0', () => {
    for (const x of [0, -0, 1.5, -1.5, 3e-39, -3e-39, 3.4e38, -3.4e38]) expect(fromOrderKey(keyOf(x))).toBe(Math.fround(x));
    expect(keyOf(-1)).toBeLessThan(keyOf(-0.5));
    expect(keyOf(-0.5)).toBeLessThan(keyOf(0.25));
    const keys = new Uint32Array([keyOf(0.65), keyOf(-1), 0, keyOf(-0.55), keyOf(2), 0]);
    const r = rowRangesOf(keys, 3);
    expect(Array.from(r.high)).toEqual([Math.fround(0.65), -1, 0]);
    expect(Array.from(r.low)).toEqual([Math.fround(0.55), -2, 0]);
    expect(Array.from(r.maxima)).toEqual([Math.fround(0.65), 2, 0]);
  });
});

describe('rangePlan', () => {
  it('covers every row and word with at most 1024 workgroup rows', () => {
    for (const rows of [1, 1000, 1025, 21_015_324]) {
      const { params, groups } = rangePlan(rows, 384);
      expect(groups[0]).toBe(6);
      expect(groups[1]).toBeLessThanOrEqual(1024);
      expect(groups[1] * params[2]!).toBeGreaterThanOrEqual(rows);
      expect((groups[1] - 1) * params[2]!).toBeLessThan(rows);
    }
  });
});

/**
 * The f32 tensor path's key for one row as the GPU computes it (kernel-source.ts F32_DIGITS,
 * int8_mma_prep.wgsl DIGITS 2, the hook's combine and decode), in float32 steps: fma rounds once,
 * round() ties to even.
 */
function gpuKey(query: Float32Array, row: Float32Array, steps: Float32Array, inverses: Float32Array, centres?: Float32Array): number {
  const f = Math.fround;
  const even = (x: number) => {
    const r = Math.round(x);
    return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
  };
  const d = query.length;
  let big = 0;
  for (let j = 0; j < d; j++) big = Math.max(big, Math.abs(f(query[j]! * steps[j]!)));
  const t = big > 0 ? f(big / 127) : 1;
  let acc1 = 0;
  let acc2 = 0;
  for (let j = 0; j < d; j++) {
    const v = f(f(query[j]! * steps[j]!) / t);
    const a1 = Math.max(-127, Math.min(127, even(v)));
    const a2 = Math.max(-127, Math.min(127, even(f(v - a1) * 128)));
    const y = f(row[j]! - (centres?.[j] ?? 0)) * inverses[j]!; // exact in float64: the fma's product
    const c1 = even(y);
    const c2 = even(f(y - c1) * 128);
    acc1 += a1 * c1;
    acc2 += a1 * c2 + a2 * c1;
  }
  const key = acc1 + Math.floor((acc2 + 64) / 128);
  // The pre-pass's q . m (float32, in order here) added to the scaled key.
  let qm = 0;
  for (let j = 0; j < d; j++) qm = f(qm + f(query[j]! * (centres?.[j] ?? 0)));
  return f(qm + f(t * f(key)));
}

describe('f32KeyBound', () => {
  const rand = (seed: number) => () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const gauss = (r: () => number) => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());

  it.each([
    { name: 'gaussian rows', d: 96, outlier: 1, scale: 1 },
    { name: 'one dimension 40x the others', d: 64, outlier: 40, scale: 1 },
    { name: 'tiny values', d: 128, outlier: 1, scale: 1e-6 },
    // Digits centred on each dimension's range (what shards use): rows offset from 0 in some dims.
    { name: 'centred, gaussian rows', d: 96, outlier: 1, scale: 1, centred: true },
    { name: 'centred, rows offset by 30x their spread in three dims', d: 96, outlier: 1, scale: 1, centred: true, offset: 30 },
  ])('every row\'s key as the GPU computes it lies within the bound of its exact inner product ($name), and the bound is small', ({ d, outlier, scale, centred, offset }: { d: number; outlier: number; scale: number; centred?: boolean; offset?: number }) => {
    const r = rand(d + outlier + (offset ?? 0));
    const n = 3000;
    const rows = new Float32Array(n * d).map((_, i) => gauss(r) * scale * (i % d === 5 ? outlier : 1) + (offset && [7, 40, 70].includes(i % d) ? (i % d === 40 ? -offset : offset) : 0));
    const low = new Float32Array(d).fill(Infinity);
    const high = new Float32Array(d).fill(-Infinity);
    for (let i = 0; i < n * d; i++) {
      low[i % d] = Math.min(low[i % d]!, rows[i]!);
      high[i % d] = Math.max(high[i % d]!, rows[i]!);
    }
    const maxima = low.map((l, j) => Math.max(-l, high[j]!));
    const params = centred ? stepParams({ low, high, maxima }, d) : stepParams(symmetric(maxima), d);
    const centres = centred ? params.slice(0, d) : undefined;
    const steps = params.slice(d, 2 * d);
    const inverses = params.slice(2 * d, 3 * d);
    for (let qi = 0; qi < 5; qi++) {
      const query = new Float32Array(d).map(() => gauss(r));
      const { bound, gamma } = f32KeyBound(query, steps, maxima, centres);
      let scaleSum = 0;
      for (let j = 0; j < d; j++) scaleSum += Math.abs(query[j]!) * maxima[j]!;
      // Centred on offset rows the bound follows the spread, not the offset: far below max-scaled digits'.
      expect(bound).toBeLessThan((offset ? 2e-4 : 2e-3) * scaleSum);
      expect(gamma).toBeLessThan(1e-4 * scaleSum);
      let worst = 0;
      for (let i = 0; i < n; i++) {
        const row = rows.subarray(i * d, (i + 1) * d);
        let exact = 0;
        for (let j = 0; j < d; j++) exact += query[j]! * row[j]!;
        worst = Math.max(worst, Math.abs(exact - gpuKey(query, row, steps, inverses, centres)));
      }
      expect(worst).toBeLessThanOrEqual(bound);
      // The one-pass bound the certificate tries first is never below the digits' own, nor far above.
      const quick = f32KeyBoundQuick(query, steps, maxima, centres);
      expect(quick.bound).toBeGreaterThanOrEqual(bound);
      expect(quick.bound).toBeLessThan(4 * bound);
      expect(quick.gamma).toBe(gamma);
      // Not vacuous: the bound is within 40x of the largest error seen.
      expect(bound).toBeLessThan(40 * worst);
    }
  });

  it('a zero query: bound 0 and gamma 0', () => {
    const { bound, gamma } = f32KeyBound(new Float32Array(8), new Float32Array(8).fill(0.01), new Float32Array(8).fill(1.27));
    expect(bound).toBe(0);
    expect(gamma).toBe(0);
  });
});

describe('uncertifiedF32', () => {
  const d = 4;
  const steps = new Float32Array(d).fill(1 / 127);
  const maxima = new Float32Array(d).fill(1);
  const query = new Float32Array([0.5, -0.25, 0.125, 1]);
  const { bound, gamma } = f32KeyBound(query, steps, maxima);
  const floorPair = (key: number, written = 1) => {
    const out = new Uint32Array(2);
    new Float32Array(out.buffer)[0] = key;
    out[1] = written;
    return out;
  };
  const run = (kth: number, floor: Uint32Array, ids = new Uint32Array([1, 2, 3])) =>
    uncertifiedF32({ queries: query, q4: 1, nq: 1, kp: 3, k: 2, keys: new Float32Array([kth + 1, kth, kth - 1]), ids, floors: floor, steps, maxima });

  it('certifies a list whose k-th key clears the floor by the bound and twice gamma, not one that does not', () => {
    expect(run(0.5 + bound + 2 * gamma + 1e-3, floorPair(0.5))).toEqual([]);
    expect(run(0.5 + bound, floorPair(0.5))).toEqual([0]);
  });

  it('certifies a list that is not full (no floor written) or short of k', () => {
    expect(run(0.5, floorPair(10, 0))).toEqual([]);
    expect(run(0.5, floorPair(10), new Uint32Array([1, 0xffffffff, 0xffffffff]))).toEqual([]);
  });
});
