/** Input checks shared by every backend: each throws INVALID_ARGUMENT naming the problem and the fix. */
import { TesseraError, formatBytes } from './errors.js';
import type { Metric } from './types.js';

/** Largest k any index accepts; backends may state lower limits of their own. */
export const MAX_K = 1 << 20;
/** Largest dimension accepted; FAISS has no hard limit, but beyond this something is surely wrong. */
export const MAX_DIMENSION = 1 << 16;

/** A bad option value for messages, as the WASM indexes name them: `the string "16"`, not 16. */
export function describeArg(v: unknown): string {
  return typeof v === 'string' ? `the string ${JSON.stringify(v)}` : String(v);
}

/** A bad number argument for messages: a string "10" or a bigint 10n must not read as the number 10. */
function shown(v: unknown): string {
  if (typeof v === 'string') return `${JSON.stringify(v)} (a string; pass a number)`;
  if (typeof v === 'bigint') return `${v}n (a bigint; pass a number)`;
  return String(v);
}

export function checkDimension(d: unknown): number {
  if (typeof d !== 'number' || !Number.isInteger(d) || d < 1 || d > MAX_DIMENSION) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `dimension must be an integer in [1, ${MAX_DIMENSION}], got ${shown(d)}`,
    );
  }
  return d;
}

/** The fix for metrics users bring from elsewhere: FAISS's names, other casing, cosine (which FAISS also lacks). */
function metricHint(metric: unknown): string {
  if (typeof metric !== 'string') return '';
  const m = metric.toLowerCase().replace(/^metric_/, '');
  if (m === 'ip' || m === 'inner_product' || m === 'dot') return " (inner product is 'ip', lower-case)";
  if (m === 'l2' || m === 'euclidean') return " (squared L2 distance, as FAISS's, is 'l2', lower-case)";
  if (m === 'cos' || m === 'cosine') return ": for cosine similarity normalise the vectors and queries to unit length and use 'ip', as with FAISS";
  return '';
}

export function checkMetric(metric: unknown): Metric {
  if (metric !== 'ip' && metric !== 'l2') {
    throw new TesseraError('INVALID_ARGUMENT', `metric must be 'ip' or 'l2', got ${JSON.stringify(metric)}${metricHint(metric)}`);
  }
  return metric;
}

/**
 * Checks a row-major n x d matrix of vectors and returns n.
 * `what` names the input in messages ("queries", "vectors to add", "training vectors"); `firstRow`
 * numbers the rows in them where x is a piece of a larger matrix checked in pieces.
 */
export function checkVectors(x: unknown, d: number, what: string, firstRow = 0): number {
  return checkVectorsWithin(x, d, what, FLOAT32_MAX, firstRow).n;
}

/** checkVectors without the pass over the values, for callers that make that pass themselves. */
export function checkVectorShape(x: unknown, d: number, what: string): asserts x is Float32Array {
  if (!(x instanceof Float32Array)) {
    const got = x === null ? 'null' : Array.isArray(x) ? 'Array' : (x as object)?.constructor?.name ?? typeof x;
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${what} must be a Float32Array (n x ${d}, row-major), got ${got}: convert with Float32Array.from(...)`,
    );
  }
  if (x.length % d !== 0) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `dimension mismatch: ${what} have length ${x.length}, not a multiple of the index dimension d=${d}` +
        (x.length > 0 && x.length < d ? ` (one vector of ${x.length} values? the index expects ${d})` : ''),
    );
  }
}

/**
 * checkVectors that also says whether every value is within `safe` (<= FLOAT32_MAX) in magnitude,
 * in the same single pass: a search's score-range check then needs no pass of its own.
 */
function checkVectorsWithin(x: unknown, d: number, what: string, safe: number, firstRow = 0): { n: number; within: boolean } {
  checkVectorShape(x, d, what);
  const beyond = firstBeyond(x, safe, 0);
  // Values before the first one past `safe` are finite: only the rest can hold a NaN or Infinity.
  const bad = beyond < 0 || safe === FLOAT32_MAX ? beyond : firstBeyond(x, FLOAT32_MAX, beyond);
  if (bad >= 0) {
    const row = Math.floor(bad / d);
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${what} contain ${String(x[bad])} at row ${firstRow + row}, dimension ${bad - row * d}: every value must be finite`,
    );
  }
  return { n: x.length / d, within: beyond < 0 };
}

/** Index of the first value from `from` whose magnitude is not <= limit (NaN never is), or -1. */
function firstBeyond(x: Float32Array, limit: number, from: number): number {
  for (let i = from; i < x.length; i++) {
    if (!(Math.abs(x[i]!) <= limit)) return i;
  }
  return -1;
}

/** Index of the first NaN or +-Infinity, or -1 (every finite float32 is within FLOAT32_MAX). */
function firstNonFinite(x: Float32Array): number {
  return firstBeyond(x, FLOAT32_MAX, 0);
}

/** `otherFix`: what else lifts the limit, e.g. "or use backend 'wasm'" where a backend's own limit is lower. */
export function checkK(k: unknown, limit = MAX_K, otherFix = ''): number {
  if (typeof k !== 'number' || !Number.isInteger(k) || k < 1) {
    throw new TesseraError('INVALID_ARGUMENT', `k must be an integer >= 1, got ${shown(k)}`);
  }
  if (k > limit) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `k=${k} is larger than this index supports (${limit}): ask for fewer neighbours${otherFix ? `, ${otherFix}` : ''}`,
    );
  }
  return k;
}

export function checkNotEmpty(ntotal: number): void {
  if (ntotal === 0) {
    throw new TesseraError('INVALID_ARGUMENT', 'the index is empty: add vectors (index.add) before searching');
  }
}

/** Most (query, neighbour) slots one search returns: 12 bytes each, so 3 GiB of results. */
export const MAX_RESULTS = 1 << 28;

/** Stored rows within dimMax[j] in each dimension j, scored by metric: what a query's scores are bounded by. */
export interface ScoreRange {
  metric: Metric;
  dimMax: ArrayLike<number>;
}

/**
 * All checks of `search` in one place: returns nq. `ranges`: the index's score ranges, for
 * checkScoreRange; the common case (every query value small enough for any row in range) is told
 * by the finiteness pass itself, so a large batch pays no second pass over its queries.
 */
export function checkSearch(q: unknown, k: unknown, d: number, ntotal: number, kLimit = MAX_K, otherFix = '', ranges: readonly ScoreRange[] = []): number {
  const safe = Math.min(FLOAT32_MAX, ...ranges.map((r) => safeQueryMagnitude(d, r)));
  const { n: nq, within } = checkVectorsWithin(q, d, 'queries', safe);
  const kk = checkK(k, kLimit, otherFix);
  // Results are nq x k whatever ntotal is (padded with -1): past this the process runs out of memory.
  const results = nq * kk;
  if (results > MAX_RESULTS) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${nq} queries x k=${kk} is ${results} results (${formatBytes(results * 12)}), more than one search returns (${MAX_RESULTS}): search the queries in batches of at most ${Math.max(1, Math.floor(MAX_RESULTS / kk))}, or ask for fewer neighbours`,
    );
  }
  checkNotEmpty(ntotal);
  if (!within) for (const r of ranges) checkScoreRange(q as Float32Array, d, r.metric, r.dimMax);
  return nq;
}

/**
 * The largest query magnitude for which no score against rows in range can pass checkScoreRange's
 * limit, whatever the query: inner product |q . x| <= max|q_j| sum_j m_j; squared L2
 * sum_j (|q_j| + m_j)^2 <= d (max|q_j| + max_j m_j)^2. Below it the exact per-query sum is not needed.
 */
function safeQueryMagnitude(d: number, r: ScoreRange): number {
  let sum = 0;
  let largest = 0;
  for (let j = 0; j < d; j++) {
    const m = r.dimMax[j]!;
    sum += m;
    if (m > largest) largest = m;
  }
  const limit = scoreLimit(d);
  const safe = r.metric === 'ip' ? (sum > 0 ? limit / sum : Infinity) : Math.sqrt(limit / d) - largest;
  // Rounded down a little, so the float64 arithmetic here never lets a borderline query past.
  return Math.max(0, safe * (1 - 2 ** -40));
}

/** checkScoreRange's bound on a sum of d float32 terms: float32's range less (d + 2) ulps of rounding. */
function scoreLimit(d: number): number {
  return FLOAT32_MAX / (1 + (d + 2) * 2 ** -23);
}

/** Largest finite float32: a score past it is Infinity (or NaN, where two overflows meet). */
export const FLOAT32_MAX = 3.4028234663852886e38;

/**
 * Raises `into` (length d) to each dimension's largest magnitude over the n x d rows of x: the
 * bound checkScoreRange needs. Returns false when x holds a NaN or Infinity (then left out of the
 * maxima): rows from add are checked before, rows read from a file go to checkFileRows.
 */
export function raiseDimMaxima(into: Float64Array, x: Float32Array, d: number): boolean {
  const n = Math.floor(x.length / d);
  // float32 maxima while scanning: 5x faster in V8 than compares against the float64 array.
  const m = new Float32Array(d);
  let finite = 0;
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) {
      const a = Math.abs(x[o + j]!);
      finite += a * 0; // NaN from the first NaN or Infinity on
      if (a > m[j]!) m[j] = a;
    }
  }
  for (let j = 0; j < d; j++) if (m[j]! > into[j]!) into[j] = m[j]!;
  return finite === 0;
}

/**
 * Rows read from an index file (no add checked them): a NaN or Infinity is FORMAT naming the row.
 * Scored, it reorders the finite rows around it (a NaN breaks the heap's comparisons).
 */
export function checkFileRows(x: Float32Array, d: number, firstRow: number, label: string): void {
  const bad = firstNonFinite(x);
  if (bad < 0) return;
  const row = Math.floor(bad / d);
  throw new TesseraError(
    'FORMAT',
    `${label}: vector ${firstRow + row} holds ${String(x[bad])} in dimension ${bad - row * d}: every value must be finite (its scores would be NaN and reorder the other rows); rebuild the index from finite vectors`,
  );
}

/**
 * Refuses queries whose float32 scores could overflow: with every stored row within `dimMax` per
 * dimension, |q . x| <= sum_j |q_j| dimMax_j and |q - x|^2 <= sum_j (|q_j| + dimMax_j)^2, and every
 * partial sum of a float32 dot product or distance stays below the same bound (up to rounding, the
 * (d + 2) ulp margin). Past float32's range a score is Infinity or NaN: rows tie at random or drop
 * out, so the answer would be silently wrong (FAISS returns it as it comes).
 */
export function checkScoreRange(q: Float32Array, d: number, metric: Metric, dimMax: ArrayLike<number>, what = 'query', firstRow = 0): void {
  const nq = Math.floor(q.length / d);
  const limit = scoreLimit(d);
  let rowBound = -1;
  for (let r = 0; r < nq; r++) {
    let s = 0;
    const o = r * d;
    for (let j = 0; j < d; j++) {
      const a = Math.abs(q[o + j]!);
      const m = dimMax[j]!;
      s += metric === 'ip' ? a * m : (a + m) * (a + m);
    }
    if (s <= limit) continue;
    if (rowBound < 0) {
      rowBound = 0;
      for (let j = 0; j < d; j++) rowBound = Math.max(rowBound, dimMax[j]!);
    }
    const scores = metric === 'ip' ? 'inner products' : 'squared L2 distances';
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${what} ${firstRow + r} could score ${scores} up to ${s.toPrecision(3)} against the stored vectors (values up to ${rowBound.toPrecision(3)} in a dimension), beyond float32's range (${FLOAT32_MAX.toPrecision(3)}): scores would overflow to Infinity and rank at random; scale the vectors and queries down (e.g. normalise them)`,
    );
  }
}
