import { describe, expect, it } from 'vitest';
import { concatResults, emptyResult, mergeResults, offsetLabels } from '../../src/core/topk.js';
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
  it('offsets shard-local labels, keeping -1', () => {
    const r = offsetLabels(result([1, 0], [0, -1]), 100);
    expect(Array.from(r.labels)).toEqual([100n, -1n]);
  });
  it('concatenates query batches', () => {
    const c = concatResults([result([1, 2], [1, 2], 2), result([3, 4, 5, 6], [3, 4, 5, 6], 2)], 2);
    expect(c.nq).toBe(3);
    expect(Array.from(c.labels)).toEqual([1n, 2n, 3n, 4n, 5n, 6n]);
  });
  it('makes empty padded results', () => {
    const e = emptyResult(2, 3, 'ip');
    expect(Array.from(e.labels)).toEqual(Array(6).fill(-1n));
    expect(e.distances.every((x) => x === -Infinity)).toBe(true);
  });
});
