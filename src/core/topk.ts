/** Result ordering and host-side top-k merging shared by all backends (shards, tiles, batches). */
import { TesseraError } from './errors.js';
import type { Metric, SearchResult } from './types.js';
import { checkK, checkMetric } from './validate.js';

/** Distance that pads missing results: worst possible for the metric. */
export function worstDistance(metric: Metric): number {
  return metric === 'ip' ? -Infinity : Infinity;
}

/** True when (da, la) ranks strictly before (db, lb): better distance, ties to the lower label. */
export function ranksBefore(metric: Metric, da: number, la: bigint | number, db: number, lb: bigint | number): boolean {
  if (da !== db) return metric === 'ip' ? da > db : da < db;
  return la < lb;
}

export function emptyResult(nq: number, k: number, metric: Metric): SearchResult {
  const distances = new Float32Array(nq * k).fill(worstDistance(metric));
  const labels = new BigInt64Array(nq * k).fill(-1n);
  return { nq, k, distances, labels };
}

/** Ranked lists of nq queries x k, best first; labels bigint (SearchResult) or number (GPU ids, -1: none). */
export interface RankedLists<L extends bigint | number> {
  readonly nq: number;
  readonly k: number;
  readonly distances: Float32Array;
  readonly labels: { readonly length: number; [i: number]: L };
}

/**
 * Merges per-part results (each nq x k_i, best first, labels already global) into nq x k.
 * Used for shards across adapters, WASM instances and query batches. Ties go to the lower label.
 */
export function mergeResults(parts: readonly SearchResult[], k: number, metric: Metric): SearchResult {
  checkK(k);
  checkMetric(metric);
  const nq = parts[0]?.nq ?? 0;
  parts.forEach((p, i) => {
    if (p.nq !== nq || p.labels.length < p.nq * p.k || p.distances.length < p.nq * p.k) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `mergeResults: part ${i} holds ${p.nq} queries x k=${p.k} (${p.labels.length} labels), part 0 ${nq} queries: merge results of the same queries, each nq x k`,
      );
    }
  });
  const out = emptyResult(nq, k, metric);
  mergeRankedInto(parts, k, metric, out);
  return out;
}

/**
 * mergeResults over number labels (negative: none): the GPU int8 shards' candidates stay numbers on
 * their way to the re-rank instead of a BigInt each. `out` starts as worstDistance / -1.
 */
export function mergeRankedIds(parts: readonly RankedLists<number>[], k: number, metric: Metric): { nq: number; k: number; distances: Float32Array; labels: Float64Array } {
  const nq = parts[0]?.nq ?? 0;
  const out = { nq, k, distances: new Float32Array(nq * k).fill(worstDistance(metric)), labels: new Float64Array(nq * k).fill(-1) };
  mergeRankedInto(parts, k, metric, out);
  return out;
}

/** The k-way merge of both: `out` is pre-filled with the padding (worst distance, label -1). */
function mergeRankedInto<L extends bigint | number>(parts: readonly RankedLists<L>[], k: number, metric: Metric, out: RankedLists<L>): void {
  const nq = out.nq;
  const outLabels = out.labels;
  const cursor = new Int32Array(parts.length);
  for (let q = 0; q < nq; q++) {
    cursor.fill(0);
    for (let j = 0; j < k; j++) {
      let best = -1;
      let bestD = 0;
      let bestL: L | undefined;
      for (let p = 0; p < parts.length; p++) {
        const part = parts[p]!;
        const c = cursor[p]!;
        if (c >= part.k) continue;
        const l = part.labels[q * part.k + c]!;
        if (l < 0) continue;
        const dist = part.distances[q * part.k + c]!;
        if (best < 0 || ranksBefore(metric, dist, l, bestD, bestL!)) {
          best = p;
          bestD = dist;
          bestL = l;
        }
      }
      if (best < 0) break;
      cursor[best] = cursor[best]! + 1;
      out.distances[q * k + j] = bestD;
      outLabels[q * k + j] = bestL!;
    }
  }
}

/** Adds `offset` to every non-negative label in place (a shard's local ids -> global ids). */
export function offsetLabels(result: SearchResult, offset: number): SearchResult {
  if (offset === 0) return result;
  const o = BigInt(offset);
  const labels = result.labels;
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i]!;
    if (l >= 0n) labels[i] = l + o;
  }
  return result;
}

/** Concatenates results of consecutive query batches (same k) into one. */
export function concatResults(parts: readonly SearchResult[], k: number): SearchResult {
  const nq = parts.reduce((s, p) => s + p.nq, 0);
  const distances = new Float32Array(nq * k);
  const labels = new BigInt64Array(nq * k);
  let at = 0;
  for (const p of parts) {
    distances.set(p.distances, at);
    labels.set(p.labels, at);
    at += p.nq * k;
  }
  return { nq, k, distances, labels };
}
