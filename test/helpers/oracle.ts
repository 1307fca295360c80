/** Brute-force float64 oracle for exact search, and comparisons that tolerate float32 rounding. */
import { expect } from 'vitest';
import type { Metric, SearchResult } from '../../src/core/types.js';

export interface OracleResult {
  nq: number;
  k: number;
  /** float64 distances, nq x k, best first, -1 labels padded with +-Infinity. */
  distances: Float64Array;
  labels: Int32Array;
}

/** Exact top-k in float64: ip descending, l2 (squared) ascending, ties to the lower id. */
export function bruteForce(base: Float32Array, queries: Float32Array, d: number, k: number, metric: Metric): OracleResult {
  const n = base.length / d;
  const nq = queries.length / d;
  const distances = new Float64Array(nq * k).fill(metric === 'ip' ? -Infinity : Infinity);
  const labels = new Int32Array(nq * k).fill(-1);
  const scores = new Float64Array(n);
  const order = new Int32Array(n);
  const m = Math.min(k, n);
  const topS = new Float64Array(m);
  const topI = new Int32Array(m);
  for (let q = 0; q < nq; q++) {
    let finite = true;
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) {
        const a = queries[q * d + j]!;
        const b = base[i * d + j]!;
        s += metric === 'ip' ? a * b : (a - b) * (a - b);
      }
      scores[i] = s;
      order[i] = i;
      finite &&= Number.isFinite(s);
    }
    if (finite && m > 0 && m <= 128) {
      // The best m by insertion in id order (a row enters only ahead of strictly worse ones, so ties
      // keep the lower id first): the same lists as the sort below, which took most of an oracle's
      // time for small k (4200 queries x 700 rows: 650 ms). Large k sorts: rows in rising order would
      // cost n x k moves here.
      let len = 0;
      for (let i = 0; i < n; i++) {
        const s = scores[i]!;
        if (len === m && !(metric === 'ip' ? s > topS[m - 1]! : s < topS[m - 1]!)) continue;
        let at = len < m ? len++ : m - 1;
        while (at > 0 && (metric === 'ip' ? s > topS[at - 1]! : s < topS[at - 1]!)) {
          topS[at] = topS[at - 1]!;
          topI[at] = topI[at - 1]!;
          at--;
        }
        topS[at] = s;
        topI[at] = i;
      }
      labels.set(topI, q * k);
      distances.set(topS, q * k);
      continue;
    }
    const sign = metric === 'ip' ? -1 : 1;
    const sorted = Array.from(order).sort((a, b) => sign * (scores[a]! - scores[b]!) || a - b);
    for (let j = 0; j < m; j++) {
      labels[q * k + j] = sorted[j]!;
      distances[q * k + j] = scores[sorted[j]!]!;
    }
  }
  return { nq, k, distances, labels };
}

/** Tolerance for a float32 distance of vectors with the given norms. */
export function distanceTolerance(d: number, scale: number): number {
  return 1e-5 * Math.sqrt(d) * scale + 1e-6;
}

/** float64 distance between query row q and base row i. */
export function trueDistance(base: Float32Array, queries: Float32Array, d: number, q: number, i: number, metric: Metric): number {
  let s = 0;
  for (let j = 0; j < d; j++) {
    const a = queries[q * d + j]!;
    const b = base[i * d + j]!;
    s += metric === 'ip' ? a * b : (a - b) * (a - b);
  }
  return s;
}

/**
 * Asserts an exact search result equals the float64 oracle: at every rank the distance matches
 * within `tol`; each returned label is distinct in its row and its true distance matches the
 * returned one; where the oracle's distance at a rank has no neighbour within `tol` (no near-tie a
 * float32 kernel may order differently) the label is exactly the oracle's. Exact ties (duplicate
 * vectors) therefore must come lower id first, as the oracle orders them.
 */
export function expectMatchesOracle(
  got: SearchResult,
  want: OracleResult,
  tol: number,
  base: Float32Array,
  queries: Float32Array,
  d: number,
  metric: Metric,
): void {
  expect(got.nq).toBe(want.nq);
  expect(got.k).toBe(want.k);
  expect(got.labels.length).toBe(want.nq * want.k);
  expect(got.distances.length).toBe(want.nq * want.k);
  // Each check runs expect (and builds its message) only when it fails: five expects with messages
  // for each of 500 x 1000 entries took ~19 s of test/gpu/planner-large-k's 82; same assertions.
  const n = base.length / d;
  for (let q = 0; q < want.nq; q++) {
    const seen = new Set<number>();
    for (let j = 0; j < want.k; j++) {
      const i = q * want.k + j;
      const wl = want.labels[i]!;
      const gl = Number(got.labels[i]!);
      if (wl < 0) {
        if (gl !== -1) expect(gl, `query ${q} rank ${j}: expected padding -1`).toBe(-1);
        continue;
      }
      const wd = want.distances[i]!;
      const gd = got.distances[i]!;
      if (!(Math.abs(gd - wd) <= tol)) expect(Math.abs(gd - wd), `query ${q} rank ${j}: distance ${gd} vs oracle ${wd}`).toBeLessThanOrEqual(tol);
      if (!(gl >= 0 && gl < n)) expect(gl >= 0 && gl < n, `query ${q} rank ${j}: label ${gl} out of range`).toBe(true);
      if (seen.has(gl)) expect(seen.has(gl), `query ${q} rank ${j}: label ${gl} repeated`).toBe(false);
      seen.add(gl);
      const td = trueDistance(base, queries, d, q, gl, metric);
      if (!(Math.abs(td - wd) <= tol)) expect(Math.abs(td - wd), `query ${q} rank ${j}: label ${gl} has distance ${td}, oracle rank has ${wd}`).toBeLessThanOrEqual(tol);
      const nearTie =
        (j > 0 && want.labels[i - 1]! >= 0 && Math.abs(want.distances[i - 1]! - wd) <= tol && want.distances[i - 1] !== wd) ||
        (j + 1 < want.k && want.labels[i + 1]! >= 0 && Math.abs(want.distances[i + 1]! - wd) <= tol && want.distances[i + 1] !== wd);
      if (!nearTie && gl !== wl) expect(gl, `query ${q} rank ${j}: label ${gl} vs oracle ${wl}`).toBe(wl);
    }
  }
}

/**
 * An inner-product search's lists against the float64 oracle, exactly: every distance that row's
 * exact inner product (1e-5), ids the oracle's (ties within 1e-6 may swap), lists in order. For
 * searches whose keys are re-ranked exactly (the tensor hook's f32 lists, certified).
 */
export async function expectExactIp(index: { search(q: Float32Array, k: number): Promise<SearchResult> }, rows: Float32Array, q: Float32Array, d: number, k: number): Promise<void> {
  const got = await index.search(q, k);
  const want = bruteForce(rows, q, d, k, 'ip');
  for (let i = 0; i < got.labels.length; i++) {
    const qi = Math.floor(i / k);
    expect(got.labels[i]).toBeGreaterThanOrEqual(0n);
    const exact = trueDistance(rows, q, d, qi, Number(got.labels[i]!), 'ip');
    expect(Math.abs(got.distances[i]! - exact)).toBeLessThanOrEqual(1e-5);
    if (got.labels[i] !== want.labels[i]) expect(Math.abs(exact - want.distances[i]!)).toBeLessThanOrEqual(1e-6);
    if (i % k > 0) expect(got.distances[i]!).toBeLessThanOrEqual(got.distances[i - 1]!);
  }
}

/** recall@k: fraction of the oracle's top-k ids found in the result's top-k. */
export function recallAtK(got: SearchResult, want: OracleResult, k = want.k): number {
  let hit = 0;
  let total = 0;
  for (let q = 0; q < want.nq; q++) {
    const truth = new Set<number>();
    for (let j = 0; j < k; j++) {
      const l = want.labels[q * want.k + j]!;
      if (l >= 0) truth.add(l);
    }
    for (let j = 0; j < Math.min(k, got.k); j++) if (truth.has(Number(got.labels[q * got.k + j]!))) hit++;
    total += truth.size;
  }
  return total === 0 ? 1 : hit / total;
}

/** Fills a typed array with a poison value so unwritten outputs are caught. */
export const POISON_DISTANCE = 12345.678;

/** Two results bit for bit: the same labels and the same float32 distances, in order. */
export function expectSameResult(got: SearchResult, want: SearchResult, label?: string): void {
  expect(Array.from(got.labels), label).toEqual(Array.from(want.labels));
  expect(Array.from(got.distances), label).toEqual(Array.from(want.distances));
}
