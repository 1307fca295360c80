import { describe, expect, it } from 'vitest';
import { concatResults, emptyResult, mergeRankedIds, mergeResults, offsetLabels } from '../../src/core/topk.js';
import type { SearchResult } from '../../src/core/types.js';

const result = (d: number[], l: number[], k = d.length): SearchResult => ({
  nq: d.length / k,
  k,
  distances: Float32Array.from(d),
  labels: BigInt64Array.from(l.map(BigInt)),
});

describe('host top-k merge', () => {
  it('merges shards best first with ties to the lower label (ip)', () => {
    const a = result([0.9, 0.5, 0.1], [4, 2, 0]);
    const b = result([0.9, 0.7, -Infinity], [1, 9, -1]);
    const m = mergeResults([a, b], 4, 'ip');
    expect(Array.from(m.labels)).toEqual([1n, 4n, 9n, 2n]);
    expect(Array.from(m.distances)).toEqual([0.9, 0.9, 0.7, 0.5].map(Math.fround));
  });
  it('merges l2 ascending and pads with -1 and +Infinity', () => {
    const a = result([1, 2], [3, 5]);
    const m = mergeResults([a], 4, 'l2');
    expect(Array.from(m.labels)).toEqual([3n, 5n, -1n, -1n]);
    expect(m.distances[3]).toBe(Infinity);
  });
  it('refuses parts of different queries, and a bad k or metric', () => {
    const one = result([1, 2], [3, 5]);
    const two = result([1, 2, 3, 4], [3, 5, 7, 9], 2);
    expect(() => mergeResults([one, two], 2, 'l2')).toThrow(/part 1 holds 2 queries x k=2 .*part 0 1 queries: merge results of the same queries/);
    expect(() => mergeResults([{ ...one, nq: 2 }], 2, 'l2')).toThrow(/part 0 holds 2 queries x k=2 \(2 labels\)/);
    expect(() => mergeResults([one], 0, 'l2')).toThrow(/k must be an integer >= 1/);
    expect(() => mergeResults([one], 2, 'cos' as 'ip')).toThrow(/metric must be 'ip' or 'l2'/);
  });
  it('offsets shard-local labels, keeping -1', () => {
    const r = offsetLabels(result([1, 0], [0, -1]), 100);
    expect(Array.from(r.labels)).toEqual([100n, -1n]);
  });
  it('concatenates query batches', () => {
    const c = concatResults([result([1, 2], [1, 2], 2), result([3, 4, 5, 6], [3, 4, 5, 6], 2)], 2);
    expect(c.nq).toBe(3);
    expect(Array.from(c.labels)).toEqual([1n, 2n, 3n, 4n, 5n, 6n]);
  });
  it('merges number labels (GPU int8 candidates) exactly as bigint labels, ties and padding included', () => {
    let seed = 7;
    const rand = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    for (const metric of ['ip', 'l2'] as const) {
      const nq = 5;
      // Parts of different k, coarse distances (many ties), some lists cut short by -1.
      const parts = [3, 6, 4].map((pk, p) => {
        const distances = new Float32Array(nq * pk);
        const labels = new BigInt64Array(nq * pk);
        for (let q = 0; q < nq; q++) {
          const row = Array.from({ length: pk }, () => Math.round(rand() * 4) / 4).sort((x, y) => (metric === 'ip' ? y - x : x - y));
          const filled = q === p ? 1 : pk;
          for (let j = 0; j < pk; j++) {
            distances[q * pk + j] = j < filled ? row[j]! : metric === 'ip' ? -Infinity : Infinity;
            labels[q * pk + j] = j < filled ? BigInt(p * 1000 + (row.length - j) * 10 + q) : -1n;
          }
        }
        return { nq, k: pk, distances, labels };
      });
      const expected = mergeResults(parts, 12, metric);
      const got = mergeRankedIds(parts.map((r) => ({ ...r, labels: Float64Array.from(r.labels, Number) })), 12, metric);
      expect(Array.from(got.labels)).toEqual(Array.from(expected.labels, Number));
      expect(got.distances).toEqual(expected.distances);
      expect(got.labels.includes(-1)).toBe(true);
    }
  });
  it('makes empty padded results', () => {
    const e = emptyResult(2, 3, 'ip');
    expect(Array.from(e.labels)).toEqual(Array(6).fill(-1n));
    expect(e.distances.every((x) => x === -Infinity)).toBe(true);
  });
});
