import { describe, expect, it } from 'vitest';
import { TesseraError } from '../../src/core/errors.js';
import { checkDimension, checkK, checkMetric, checkNotEmpty, checkScoreRange, checkSearch, checkVectors, MAX_K } from '../../src/core/validate.js';

function expectError(fn: () => unknown, code: string, message: RegExp) {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(TesseraError);
    expect((e as TesseraError).code).toBe(code);
    expect((e as TesseraError).message).toMatch(message);
    return;
  }
  throw new Error('expected an error');
}

describe('input checks', () => {
  it('rejects a dimension mismatch, naming both sizes', () => {
    expectError(() => checkVectors(new Float32Array(10), 4, 'queries'), 'INVALID_ARGUMENT', /length 10, not a multiple of .*d=4/);
    expectError(() => checkVectors(new Float32Array(3), 4, 'queries'), 'INVALID_ARGUMENT', /one vector of 3 values\? the index expects 4/);
  });
  it('rejects NaN and Infinity with their position', () => {
    const x = new Float32Array(8);
    x[6] = NaN;
    expectError(() => checkVectors(x, 4, 'vectors to add'), 'INVALID_ARGUMENT', /NaN at row 1, dimension 2/);
    x[6] = -Infinity;
    expectError(() => checkVectors(x, 4, 'queries'), 'INVALID_ARGUMENT', /-Infinity at row 1, dimension 2/);
  });
  it('rejects arrays that are not Float32Array, saying how to convert', () => {
    expectError(() => checkVectors(new Float64Array(4), 4, 'queries'), 'INVALID_ARGUMENT', /Float32Array .*got Float64Array.*Float32Array\.from/);
    expectError(() => checkVectors([1, 2, 3, 4], 4, 'queries'), 'INVALID_ARGUMENT', /got Array/);
    expectError(() => checkVectors(null, 4, 'queries'), 'INVALID_ARGUMENT', /got null/);
  });
  it('returns the row count of valid input, zero rows included', () => {
    expect(checkVectors(new Float32Array(12), 4, 'queries')).toBe(3);
    expect(checkVectors(new Float32Array(0), 4, 'queries')).toBe(0);
  });
  it('rejects k < 1, non-integers and absurdly large k', () => {
    expectError(() => checkK(0), 'INVALID_ARGUMENT', /k must be an integer >= 1, got 0/);
    expectError(() => checkK(-3), 'INVALID_ARGUMENT', /got -3/);
    expectError(() => checkK(2.5), 'INVALID_ARGUMENT', /got 2.5/);
    expectError(() => checkK(MAX_K + 1), 'INVALID_ARGUMENT', /larger than this index supports/);
    expectError(() => checkK(2000, 1024), 'INVALID_ARGUMENT', /k=2000 .*\(1024\)/);
    expectError(() => checkK('10'), 'INVALID_ARGUMENT', /got "10" \(a string; pass a number\)/);
    expectError(() => checkK(10n), 'INVALID_ARGUMENT', /got 10n \(a bigint; pass a number\)/);
    expect(checkK(MAX_K)).toBe(MAX_K);
  });
  it('rejects searching an empty index', () => {
    expectError(() => checkNotEmpty(0), 'INVALID_ARGUMENT', /index is empty: add vectors/);
    expectError(() => checkSearch(new Float32Array(4), 1, 4, 0), 'INVALID_ARGUMENT', /index is empty/);
  });
  it('rejects bad dimensions and metrics', () => {
    expectError(() => checkDimension(0), 'INVALID_ARGUMENT', /dimension must be an integer/);
    expectError(() => checkDimension(3.5), 'INVALID_ARGUMENT', /got 3.5/);
    expectError(() => checkDimension('768'), 'INVALID_ARGUMENT', /got "768" \(a string; pass a number\)/);
    expectError(() => checkMetric('cosine'), 'INVALID_ARGUMENT', /metric must be 'ip' or 'l2', got "cosine": for cosine similarity normalise the vectors and queries to unit length and use 'ip'/);
    expectError(() => checkMetric('IP'), 'INVALID_ARGUMENT', /got "IP" \(inner product is 'ip', lower-case\)$/);
    expectError(() => checkMetric('METRIC_INNER_PRODUCT'), 'INVALID_ARGUMENT', /got "METRIC_INNER_PRODUCT" \(inner product is 'ip', lower-case\)$/);
    expectError(() => checkMetric('L2'), 'INVALID_ARGUMENT', /got "L2" \(squared L2 distance, as FAISS's, is 'l2', lower-case\)$/);
    expectError(() => checkMetric('hamming'), 'INVALID_ARGUMENT', /^metric must be 'ip' or 'l2', got "hamming"$/);
  });
});

describe("checkSearch's score ranges: the finiteness pass tells when no query needs the exact bound", () => {
  const d = 4;
  const refused = (q: Float32Array, metric: 'ip' | 'l2', dimMax: number[]) => {
    try {
      checkScoreRange(q, d, metric, dimMax);
      return false;
    } catch {
      return true;
    }
  };
  it('agrees with checkScoreRange on random magnitudes, both metrics, with a NaN still named first', () => {
    let seed = 5;
    const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) / 2 ** 31;
    for (let t = 0; t < 400; t++) {
      const metric = t % 2 ? 'ip' : 'l2';
      const dimMax = Array.from({ length: d }, () => (rand() < 0.2 ? 0 : 10 ** (rand() * 40 - 2)));
      const q = Float32Array.from({ length: 3 * d }, () => (rand() - 0.5) * 10 ** (rand() * 40 - 2));
      const want = refused(q, metric, dimMax);
      const call = () => checkSearch(q, 1, d, 10, MAX_K, '', [{ metric, dimMax }]);
      if (want) expect(call).toThrow(/could score .* beyond float32's range/);
      else expect(call()).toBe(3);
    }
    // a large value first, a NaN after it: the NaN is what is named
    const q = Float32Array.from([1e30, 0, 0, 0, 0, Number.NaN, 0, 0]);
    expect(() => checkSearch(q, 1, d, 10, MAX_K, '', [{ metric: 'ip', dimMax: [1e10, 1, 1, 1] }])).toThrow(/queries contain NaN at row 1, dimension 1/);
  });
});
