/**
 * k-means as FAISS trains IVF coarse quantizers (faiss/Clustering.cpp, impl/ClusteringHelpers.cpp):
 * at most `maxPointsPerCentroid` x k training points (a seeded random subsample), centroids
 * initialised from a random permutation of the points, `niter` Lloyd iterations (FAISS's IVF
 * default is 10), empty clusters split from a large one chosen with probability proportional
 * to its size (with FAISS's symmetric 1/1024 perturbation), and spherical centroids for inner
 * product (FAISS's index_factory sets `cp.spherical` for IP).
 */
import { TesseraError } from '../core/errors.js';
import type { Metric, ProgressCallback } from '../core/types.js';
import { WasmArena } from './sq-index.js';
import { type NativeCall, QUERY_GROUP, breather, rowPiece } from './worker-pool.js';

export interface KmeansOptions {
  /** Lloyd iterations (FAISS ClusteringParameters.niter; IndexIVF sets 10). */
  niter?: number;
  /** Seed of the subsample, the initialisation and the splits (FAISS default 1234). */
  seed?: number;
  /** Training points kept per centroid (FAISS default 256). */
  maxPointsPerCentroid?: number;
  /** Normalise centroids after each iteration (FAISS does for IP IVF indexes). */
  spherical?: boolean;
  /** Worker threads for the assignment step (default: all cores). */
  threads?: number;
  onProgress?: ProgressCallback;
  /**
   * The pauses of the long operation k-means is part of (breather): with one of its own, the work
   * since the caller's last pause went uncounted and the event loop waited up to twice as long.
   */
  breathe?: () => Promise<void>;
}

/** Multiply-adds each thread does in one piece of an assignment pass (tens of milliseconds). */
const ASSIGN_PIECE = 64 << 20;

/**
 * arena.parallel(n, make, QUERY_GROUP) for an assignment of n rows to centroids, `rowWork`
 * multiply-adds a row. Where the calling thread works (arena.callingThreadWorks: alone, or its share
 * beside workers) it runs in pieces giving each thread about ASSIGN_PIECE, with breathe() between
 * them; each piece starts at a multiple of QUERY_GROUP, so the results are those of one call.
 */
export async function assignInPieces(arena: WasmArena, n: number, rowWork: number, breathe: () => Promise<void>, make: (from: number, to: number) => NativeCall): Promise<void> {
  const piece = arena.callingThreadWorks ? Math.max(QUERY_GROUP, Math.floor((ASSIGN_PIECE * arena.threads) / (rowWork * QUERY_GROUP)) * QUERY_GROUP) : n;
  for (let from = 0; from < n; from += piece) {
    const to = Math.min(n, from + piece);
    await arena.parallel(to - from, (f, t) => make(from + f, from + t), QUERY_GROUP);
    if (to < n) await breathe();
  }
}

/** splitmix32-style seeded generator of uint32s (the sampling only needs to be reproducible, not FAISS's mt19937). */
export function seededRandom(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * A random permutation of 0..n-1 (Fisher-Yates), in pieces of rowPiece(1) values with breathe()
 * between (breather): over 21M training rows the shuffle held the event loop for about a second on
 * the calling thread. The same draws in the same order as one loop, so the same permutation.
 */
export async function randomPermutation(n: number, random: () => number, breathe: () => Promise<void>): Promise<Int32Array> {
  const perm = new Int32Array(n);
  const piece = rowPiece(1);
  for (let i0 = 0; i0 < n; i0 += piece) {
    for (let i = i0, e = Math.min(n, i0 + piece); i < e; i++) perm[i] = i;
    await breathe();
  }
  for (let i1 = n - 1; i1 > 0; i1 -= piece) {
    for (let i = i1, e = Math.max(0, i1 - piece); i > e; i--) {
      const j = random() % (i + 1);
      const t = perm[i]!;
      perm[i] = perm[j]!;
      perm[j] = t;
    }
    await breathe();
  }
  return perm;
}

/** Squared L2 norms of the rows of an n x d matrix. */
export function rowNorms(x: Float32Array, d: number): Float32Array {
  const n = x.length / d;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = i * d, e = j + d; j < e; j++) s += x[j]! * x[j]!;
    out[i] = s;
  }
  return out;
}

/** Inner product of row a of x and row b of y (both width d), unrolled by 4. */
export function dotRows(x: Float32Array, a: number, y: Float32Array, b: number, d: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = a;
  let j = b;
  const end4 = a + (d & ~3);
  for (; i < end4; i += 4, j += 4) {
    s0 += x[i]! * y[j]!;
    s1 += x[i + 1]! * y[j + 1]!;
    s2 += x[i + 2]! * y[j + 2]!;
    s3 += x[i + 3]! * y[j + 3]!;
  }
  for (; i < a + d; i++, j++) s0 += x[i]! * y[j]!;
  return s0 + s1 + (s2 + s3);
}

/**
 * The nearest centroid of each of the n rows of x: the largest inner product (ip) or the smallest
 * squared L2 distance (l2), ties to the lower centroid id. Writes ids into `assign` and the
 * distances (ip: x.c; l2: ||x - c||^2) into `dist` when given.
 */
export function nearestCentroids(
  x: Float32Array,
  d: number,
  centroids: Float32Array,
  metric: Metric,
  assign: Int32Array,
  dist?: Float32Array,
  centroidNorms: Float32Array = rowNorms(centroids, d),
): void {
  const n = x.length / d;
  const k = centroids.length / d;
  for (let i = 0; i < n; i++) {
    const xo = i * d;
    let best = 0;
    let bestScore = -Infinity;
    for (let c = 0; c < k; c++) {
      const ip = dotRows(x, xo, centroids, c * d, d);
      // l2: argmin ||x-c||^2 = argmax (2 x.c - ||c||^2)
      const score = metric === 'ip' ? ip : 2 * ip - centroidNorms[c]!;
      if (score > bestScore) {
        bestScore = score;
        best = c;
      }
    }
    assign[i] = best;
    if (dist) {
      if (metric === 'ip') dist[i] = bestScore;
      else {
        let xn = 0;
        for (let j = xo; j < xo + d; j++) xn += x[j]! * x[j]!;
        dist[i] = Math.max(0, xn - bestScore);
      }
    }
  }
}

/**
 * Nearest centroids of many points in WebAssembly: the points are copied into a module instance once,
 * and each call scores them against the given centroids with flat_search (k = 1), the same exact
 * kernel as Flat search (ties to the lower centroid id), spread over worker threads.
 */
export class NativeAssigner {
  private constructor(
    private readonly arena: WasmArena,
    readonly n: number,
    readonly d: number,
    readonly k: number,
    private readonly xp: number,
    private readonly cp: number,
    private readonly dp: number,
    private readonly ip: number,
    private readonly fp: number,
  ) {}

  static async create(x: Float32Array, d: number, k: number, threads?: number, breathe = breather()): Promise<NativeAssigner> {
    const n = x.length / d;
    const arena = await WasmArena.create('k-means training sample', { threads });
    try {
      const xp = arena.alloc(x.length * 4);
      const piece = rowPiece(d) * d;
      for (let o = 0; o < x.length; o += piece) {
        const e = Math.min(x.length, o + piece);
        arena.f32(xp + o * 4, e - o).set(x.subarray(o, e));
        await breathe();
      }
      const cp = arena.alloc(k * d * 4);
      const dp = arena.alloc(n * 4);
      const ip = arena.alloc(n * 4);
      const fp = arena.alloc(n * 4);
      return new NativeAssigner(arena, n, d, k, xp, cp, dp, ip, fp);
    } catch (e) {
      await arena.dispose();
      throw e;
    }
  }

  /** Writes each point's nearest centroid into assign and its distance (ip: x.c; l2: |x - c|^2) into dist. */
  async assign(centroids: Float32Array, metric: Metric, assign: Int32Array, dist?: Float32Array, breathe = breather()): Promise<void> {
    const { arena, d } = this;
    arena.f32(this.cp, this.k * d).set(centroids);
    const m = metric === 'ip' ? 0 : 1;
    // one pass of 256 x 4096 points over 4096 centroids at d = 768 is minutes
    await assignInPieces(arena, this.n, this.k * d, breathe, (from, to) => ({
      fn: 'flat_search',
      args: [this.cp, this.k, d, this.xp + from * d * 4, to - from, 1, m, 0, this.dp + from * 4, this.ip + from * 4, this.fp + from * 4],
    }));
    assign.set(arena.i32(this.ip, this.n));
    if (dist) dist.set(arena.f32(this.dp, this.n));
  }

  async dispose(): Promise<void> {
    await this.arena.dispose();
  }
}

/**
 * Trains k centroids on the n x d rows of x; returns them (k x d, row-major).
 * Throws INVALID_ARGUMENT when there are fewer points than centroids, as FAISS does.
 */
export async function kmeans(x: Float32Array, d: number, k: number, metric: Metric, opts: KmeansOptions = {}): Promise<Float32Array> {
  const niter = opts.niter ?? 10;
  const seed = opts.seed ?? 1234;
  const maxPer = opts.maxPointsPerCentroid ?? 256;
  let n = x.length / d;
  if (n < k) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `k-means needs at least as many training points as centroids: got ${n} points for ${k} centroids (nlist): train on more vectors or use a smaller nlist`,
    );
  }
  // FAISS's corner case: as many points as centroids are the centroids, in order, as given (not normalised).
  if (n === k) return x.slice(0, k * d);
  const random = seededRandom(seed);
  const breathe = opts.breathe ?? breather();
  const piece = rowPiece(d);
  // FAISS subsamples to k * max_points_per_centroid points: more barely changes the centroids.
  if (n > k * maxPer) {
    const perm = await randomPermutation(n, random, breathe);
    const m = k * maxPer;
    const sample = new Float32Array(m * d);
    for (let i0 = 0; i0 < m; i0 += piece) {
      for (let i = i0, e = Math.min(m, i0 + piece); i < e; i++) sample.set(x.subarray(perm[i]! * d, perm[i]! * d + d), i * d);
      await breathe();
    }
    x = sample;
    n = m;
  }
  const centroids = new Float32Array(k * d);
  const init = await randomPermutation(n, random, breathe);
  for (let c = 0; c < k; c++) centroids.set(x.subarray(init[c]! * d, init[c]! * d + d), c * d);
  if (opts.spherical) normalizeRowsInPlace(centroids, d);

  const assign = new Int32Array(n);
  const sums = new Float64Array(k * d);
  const counts = new Float64Array(k);
  // Reported at the start too: the first iteration (minutes at nlist 4096, d=768) had no bar, and its
  // time was left out of the phase's.
  opts.onProgress?.({ phase: 'k-means', done: 0, total: niter, unit: 'iterations' });
  const assigner = await NativeAssigner.create(x, d, k, opts.threads, breathe);
  try {
    for (let it = 0; it < niter; it++) {
      await assigner.assign(centroids, metric, assign, undefined, breathe);
      await breathe();
      sums.fill(0);
      counts.fill(0);
      // Rows in order, in pieces with pauses: each sum adds its rows in the same order as one loop.
      for (let i0 = 0; i0 < n; i0 += piece) {
        for (let i = i0, e = Math.min(n, i0 + piece); i < e; i++) {
          const c = assign[i]!;
          counts[c]!++;
          const so = c * d;
          const xo = i * d;
          for (let j = 0; j < d; j++) sums[so + j]! += x[xo + j]!;
        }
        await breathe();
      }
      for (let c = 0; c < k; c++) {
        if (counts[c] === 0) continue;
        const inv = 1 / counts[c]!;
        for (let j = 0; j < d; j++) centroids[c * d + j] = sums[c * d + j]! * inv;
      }
      splitEmptyClusters(centroids, d, k, n, counts, random);
      if (opts.spherical) normalizeRowsInPlace(centroids, d);
      opts.onProgress?.({ phase: 'k-means', done: it + 1, total: niter, unit: 'iterations' });
    }
  } finally {
    await assigner.dispose();
  }
  return centroids;
}

/**
 * FAISS split_clusters: each empty cluster takes a copy of a donor chosen with probability
 * (size - 1) / (n - k), scanning clusters round-robin; the two copies are pushed apart by a
 * relative 1/1024 in alternating directions and the donor's points are split in half.
 */
export function splitEmptyClusters(
  centroids: Float32Array,
  d: number,
  k: number,
  n: number,
  counts: Float64Array,
  random: () => number,
): number {
  const EPS = 1 / 1024;
  let nsplit = 0;
  for (let ci = 0; ci < k; ci++) {
    if (counts[ci] !== 0) continue;
    let cj = 0;
    let found = false;
    for (let tries = 0; tries < 10 * k; tries++, cj = (cj + 1) % k) {
      const p = (counts[cj]! - 1) / (n - k);
      if (random() / 4294967296 < p) {
        found = true;
        break;
      }
    }
    if (!found) {
      cj = 0;
      for (let j = 1; j < k; j++) if (counts[j]! > counts[cj]!) cj = j;
    }
    centroids.copyWithin(ci * d, cj * d, cj * d + d);
    for (let j = 0; j < d; j++) {
      const up = j % 2 === 0;
      centroids[ci * d + j]! *= up ? 1 + EPS : 1 - EPS;
      centroids[cj * d + j]! *= up ? 1 - EPS : 1 + EPS;
    }
    counts[ci] = Math.floor(counts[cj]! / 2);
    counts[cj] = counts[cj]! - counts[ci]!;
    nsplit++;
  }
  return nsplit;
}

/**
 * FAISS fvec_renorm_L2: the squared norm in float32, so a centroid whose square underflows (norms
 * below ~1e-19) stays as it is; normalising it in float64 made it a unit vector, whose residuals
 * then drowned the rows' own values (an IVF-SQ8 of such rows scored every row alike).
 */
function normalizeRowsInPlace(x: Float32Array, d: number): void {
  const f = Math.fround;
  for (let o = 0; o < x.length; o += d) {
    let s = 0;
    for (let j = o; j < o + d; j++) s = f(s + f(x[j]! * x[j]!));
    if (!(s > 0)) continue;
    const inv = f(1 / f(Math.sqrt(s)));
    for (let j = o; j < o + d; j++) x[j]! *= inv;
  }
}
