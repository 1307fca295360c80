/** Host helpers of the f16 tensor-core path (src/gpu/f16-rerank.ts): list order and code steps. */
import { describe, expect, it } from 'vitest';
import { f16AbsmaxPlan, f16StepParams, sortLists } from '../../src/gpu/f16-rerank.js';

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

describe('f16StepParams', () => {
  it('vmin 0, step max / 127 and its inverse per dimension; 0 for an all-zero dimension; uniform: the largest for all', () => {
    const maxima = new Float32Array([0.5, 0, 2, 1]);
    const dims = f16StepParams(maxima, 4);
    expect(Array.from(dims.subarray(0, 4))).toEqual([0, 0, 0, 0]);
    expect(Array.from(dims.subarray(4, 8))).toEqual([0.5 / 127, 0, 2 / 127, 1 / 127].map(Math.fround));
    expect(Array.from(dims.subarray(8, 12))).toEqual([127 / 0.5, 0, 127 / 2, 127].map(Math.fround));
    const uniform = f16StepParams(maxima, 4, true);
    expect(Array.from(uniform.subarray(4, 8))).toEqual([2 / 127, 2 / 127, 2 / 127, 2 / 127].map(Math.fround));
    expect(Array.from(uniform.subarray(8, 12))).toEqual([63.5, 63.5, 63.5, 63.5]);
  });
});

describe('f16AbsmaxPlan', () => {
  it('covers every row and word with at most 1024 workgroup rows', () => {
    for (const rows of [1, 1000, 1025, 21_015_324]) {
      const { params, groups } = f16AbsmaxPlan(rows, 384);
      expect(groups[0]).toBe(6);
      expect(groups[1]).toBeLessThanOrEqual(1024);
      expect(groups[1] * params[2]!).toBeGreaterThanOrEqual(rows);
      expect((groups[1] - 1) * params[2]!).toBeLessThan(rows);
    }
  });
});
