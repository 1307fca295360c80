/**
 * Exact re-ranking for shards scored approximately: the tensor scorer turns f16 rows into i8 codes
 * and f32 rows into two i8 digits while staging them (src/gpu/tensor/hook.ts). Here: the
 * per-dimension steps of those codes from the rows' ranges (shaders/row_range.wgsl),
 * the pass that rewrites each query's final k' keys with the exact inner products
 * (shaders/approx_rerank.wgsl), after which the host orders each list again, and for f32 the
 * certificate that the re-ranked list holds the exact top k (certifyF32).
 */
import rangeWgsl from '../../shaders/row_range.wgsl';
import rerankWgsl from '../../shaders/approx_rerank.wgsl';

/** Workgroups of row_range along rows at most (each takes ceil(rows / this) rows). */
const RANGE_ROW_GROUPS = 1024;

/** The shader with its row format fixed: packed f16 (true) or f32. */
const variant = (src: string, f16: boolean) => `const F16: bool = ${f16};\n${src}`;

export function rerankPipeline(device: GPUDevice, f16: boolean): GPUComputePipeline {
  return device.createComputePipeline({ label: 'approx_rerank', layout: 'auto', compute: { module: device.createShaderModule({ label: 'approx_rerank', code: variant(rerankWgsl, f16) }), entryPoint: 'main' } });
}

export function rangePipeline(device: GPUDevice, f16: boolean): GPUComputePipeline {
  return device.createComputePipeline({ label: 'row_range', layout: 'auto', compute: { module: device.createShaderModule({ label: 'row_range', code: variant(rangeWgsl, f16) }), entryPoint: 'main' } });
}

/** approx_rerank's params for one tile: (nq, k, rows, rowWords, q4, idBase, at, floorAt); dispatch (k, nq). */
export function rerankParams(nq: number, k: number, rows: number, rowWords: number, q4: number, idBase: number, at: number, floorAt = 0): number[] {
  return [nq, k, rows, rowWords, q4, idBase, at, floorAt];
}

/** row_range's params and dispatch for a tile of `rows` rows of `words` u32 words. */
export function rangePlan(rows: number, words: number): { params: Uint32Array<ArrayBuffer>; groups: [number, number] } {
  const y = Math.max(1, Math.min(RANGE_ROW_GROUPS, rows));
  const rowsPer = Math.ceil(rows / y);
  return { params: new Uint32Array([rows, words, rowsPer, 0]), groups: [Math.ceil(words / 64), Math.ceil(rows / rowsPer)] };
}

/** Each dimension's smallest and largest value over a shard's rows (row_range.wgsl), and the largest magnitude. */
export interface RowRanges {
  low: Float32Array;
  high: Float32Array;
  maxima: Float32Array;
}

/** The float whose order key (row_range.wgsl orderKey) is `key`; key 0 (no row wrote one): NaN. */
export function fromOrderKey(key: number): number {
  const bits = key & 0x80000000 ? key & 0x7fffffff : ~key >>> 0;
  return key === 0 ? NaN : new Float32Array(new Uint32Array([bits]).buffer)[0]!;
}

/** RowRanges from row_range's output: dp order keys of the maxima, then dp of the negated minima. */
export function rowRangesOf(keys: Uint32Array, dp: number): RowRanges {
  const low = new Float32Array(dp);
  const high = new Float32Array(dp);
  const maxima = new Float32Array(dp);
  for (let j = 0; j < dp; j++) {
    const hi = fromOrderKey(keys[j]!);
    const lo = -fromOrderKey(keys[dp + j]!);
    // No rows: an empty range at 0.
    high[j] = Number.isNaN(hi) ? 0 : hi;
    low[j] = Number.isNaN(lo) ? 0 : lo;
    maxima[j] = Math.max(Math.abs(high[j]!), Math.abs(low[j]!));
  }
  return { low, high, maxima };
}

/**
 * The tensor hook's decode parameters (dp dims): vmin, then step, then the inverse steps the
 * staging multiplies by (0 for a dimension whose codes are all 0). vmin_j is the middle of the
 * dimension's range (as float32 holds it) and step_j the half width about it / 127, so code c
 * stands for vmin_j + c step_j (`uniform`: vmin 0 and one step, the largest magnitude over all /
 * 127). A dimension offset from 0 (BERT-style encoders' outlier dimensions, a common direction
 * every row shares) then keeps all 255 codes for the spread its rows really have: on such rows f16
 * codes scaled from 0 left the candidates' recall at 0.29 (bench/gpu-flat/scan-key-recall.ts, data
 * 'outliers'), and f32 digits certified no query. A dimension equal in every row has step 0 and
 * code 0: vmin_j carries it (the pre-pass adds q . vmin to every key).
 */
export function stepParams(ranges: RowRanges, dp: number, uniform = false): Float32Array<ArrayBuffer> {
  const out = new Float32Array(3 * dp);
  const all = ranges.maxima.subarray(0, dp).reduce((a, b) => Math.max(a, b), 0);
  for (let j = 0; j < dp; j++) {
    // The centre as float32 holds it, and the half width about that centre: a range of a few ulps
    // has a middle float32 cannot hold, and a step from the exact half width put one end past 127
    // steps, whose code byte wraps (1 and 1 + 2^-23: the middle rounds to 1, the top coded 254).
    const centre = uniform ? 0 : Math.fround((ranges.low[j]! + ranges.high[j]!) / 2);
    const m = uniform ? all : Math.max(ranges.high[j]! - centre, centre - ranges.low[j]!);
    const ok = m > 0 && Number.isFinite(m);
    out[j] = centre;
    out[dp + j] = ok ? m / 127 : 0;
    out[2 * dp + j] = ok ? 127 / m : 0;
  }
  return out;
}

/**
 * Orders each query's k pairs by the exact keys the re-rank wrote: higher key first, then lower
 * id (flat_order's order); empty slots (id 0xffffffff) last.
 */
export function sortLists(keys: Float32Array, ids: Uint32Array, nq: number, k: number): void {
  // Insertion sort in place: k' is at most a few dozen (Array.prototype.sort with a comparator took
  // 9 ms for 1024 lists of 40 in Node, this ~1).
  const EMPTY = 0xffffffff;
  for (let q = 0; q < nq; q++) {
    const at = q * k;
    for (let i = 1; i < k; i++) {
      const key = keys[at + i]!;
      const id = ids[at + i]!;
      if (id === EMPTY) continue;
      let j = i - 1;
      for (; j >= 0; j--) {
        const oid = ids[at + j]!;
        const okey = keys[at + j]!;
        if (oid !== EMPTY && (okey > key || (okey === key && oid < id))) break;
        keys[at + j + 1] = okey;
        ids[at + j + 1] = oid;
      }
      keys[at + j + 1] = key;
      ids[at + j + 1] = id;
    }
  }
}

/** How far a float32 sum of dp products can lie from the exact one: (dp + 64) 2^-24 sum |q_j| max_j, with room for its order (f32KeyBound's gamma). */
function sumRoundingBound(dp: number, scale: number): number {
  return (dp + 64) * 2 ** -24 * 1.01 * scale;
}

/** How far the pre-pass's float32 sum q . m (the keys' offset from centred digits) can lie from its value. */
function centreSumBound(query: Float32Array, centres: Float32Array | undefined): number {
  if (!centres) return 0;
  let s = 0;
  for (let j = 0; j < centres.length; j++) s += Math.abs(query[j]! * centres[j]!);
  return sumRoundingBound(centres.length, s);
}

/** Slack on each digit's residual for the GPU's float32 arithmetic (see f32KeyBound). */
const DIGIT_SLACK = 2 ** -12;

/**
 * For one query of an f32 shard scored by two-digit keys (kernel-source.ts StageOptions.rowsF32):
 * `bound`, how far any row's approximate key can lie from its exact inner product, and `gamma`,
 * how far a float32 inner product (the re-rank's, or the exact kernels') can lie from it.
 *
 * With y_j = fl(q_j s_j), t = fl(max |y| / 127) the query's scale (int8_mma_prep.wgsl), the row
 * x = m + s (c1 + c2 / 128) + r about the centres m and y / t = a1 + a2 / 128 + rho digit by
 * digit, the key is fl(q . m) + t (a1 . c1 + (a1 . c2 + a2 . c1) / 128) rounded to a step of t, so
 * q . x - key = t (a2 . c2) / 16384 + t (rho . (c1 + c2 / 128)) + q . r, plus the rounding:
 * - |c2| <= 64 and |a2_j| <= (this host's a2_j) + 1: t sum (|a2_j| + 1) / 256;
 * - |c1 + c2 / 128| <= 127.01 (|x_j - m_j| is at most 127 steps) and |rho_j| <= (this host's
 *   rho_j) + 2^-12: t 127.01 sum (|rho_j| + 2^-12) over dims of nonzero step;
 * - |r_j| <= s_j (1 / 256 + 2^-12) (the digits come from 1 / s_j in float32), and the float32
 *   difference x_j - m_j is within 2^-24 127.01 s_j of its value: sum |q_j| s_j (...);
 * - the pre-pass's float32 sum q . m (any order): sumRoundingBound(dp, sum |q_j m_j|);
 * - the key rounding 0.5 t, and float32 products and decode within 2^-21 sum |q_j| max_j.
 * gamma: (d + 64) 2^-24 sum |q_j| max_j, a float32 sum's error bound with room for its order.
 */
export function f32KeyBound(query: Float32Array, steps: Float32Array, maxima: Float32Array, centres?: Float32Array): { bound: number; gamma: number } {
  const dp = steps.length;
  let big = 0;
  for (let j = 0; j < dp; j++) big = Math.max(big, Math.abs(Math.fround(query[j]! * steps[j]!)));
  const t = Math.fround(big / 127);
  // Every key is 0 (t 0 stands for the pre-pass's scale 1 of a zero query); so is every inner product, up to underflow.
  let digits = big > 0 ? 0.5 : 0;
  let rows = 0;
  let scale = 0;
  for (let j = 0; j < dp; j++) {
    const q = query[j]!;
    const s = steps[j]!;
    scale += Math.abs(q) * maxima[j]!;
    if (s === 0 || big === 0) continue;
    const v = Math.fround(q * s) / t;
    const a1 = Math.max(-127, Math.min(127, Math.round(v)));
    const a2 = Math.max(-127, Math.min(127, Math.round((v - a1) * 128)));
    const rho = v - a1 - a2 / 128;
    digits += (Math.abs(a2) + 1) / 256 + 127.01 * (Math.abs(rho) + DIGIT_SLACK);
    rows += Math.abs(q) * s * (1 / 256 + DIGIT_SLACK + 127.01 * 2 ** -24);
  }
  return { bound: t * digits + rows + 2 ** -21 * scale + centreSumBound(query, centres), gamma: sumRoundingBound(dp, scale) };
}

/**
 * f32KeyBound's bound without the query's digits, in one pass (no rounding to float32): every digit
 * term at its largest (|a2| <= 64, |rho| <= 1 / 256 + 2^-17) and t from max |q_j s_j| with room for
 * its float32 rounding. At least f32KeyBound's, about twice it: the certificate tries it first.
 */
export function f32KeyBoundQuick(query: Float32Array, steps: Float32Array, maxima: Float32Array, centres?: Float32Array): { bound: number; gamma: number } {
  const dp = steps.length;
  let big = 0;
  let rows = 0;
  let scale = 0;
  let dims = 0;
  for (let j = 0; j < dp; j++) {
    const q = Math.abs(query[j]!);
    const y = q * steps[j]!;
    if (y > big) big = y;
    rows += y;
    scale += q * maxima[j]!;
    if (steps[j]! > 0) dims++;
  }
  const centred = centreSumBound(query, centres);
  if (big === 0) return { bound: 2 ** -21 * scale + centred, gamma: sumRoundingBound(dp, scale) };
  const t = (big / 127) * (1 + 2 ** -21);
  const perDim = 65 / 256 + 127.01 * (1 / 256 + 2 ** -17 + DIGIT_SLACK);
  return { bound: t * (0.5 + dims * perDim) + rows * (1 / 256 + DIGIT_SLACK + 127.01 * 2 ** -24) + 2 ** -21 * scale + centred, gamma: sumRoundingBound(dp, scale) };
}

/**
 * Which queries of an f32 batch scored by two-digit keys may miss one of their exact k best: the
 * others are certified. keys / ids: nq lists of kp, re-ranked exactly and sorted (sortLists);
 * floors: nq (key bits, written) pairs, each query's kp-th approximate key before the re-rank
 * (approx_rerank.wgsl floorAt; written 0 when the list is not full: then it holds every row).
 * Every row outside a list has an approximate key at most the floor, so an exact inner product at
 * most floor + bound; the list's k-th exact key is within gamma of its true product. A query is
 * certified when floor + bound <= (k-th key) - 2 gamma: no row outside its list can beat, by more
 * than a float32 rounding, its k-th candidate, neither here nor in the exact kernels (ties aside).
 */
export function uncertifiedF32(args: { queries: Float32Array; q4: number; nq: number; kp: number; k: number; keys: Float32Array; ids: Uint32Array; floors: Uint32Array; steps: Float32Array; maxima: Float32Array; centres?: Float32Array }): number[] {
  const { queries, q4, nq, kp, k, keys, ids, floors, steps, maxima, centres } = args;
  const floorKeys = new Float32Array(floors.buffer, floors.byteOffset, floors.length);
  const failed: number[] = [];
  for (let q = 0; q < nq; q++) {
    if (floors[2 * q + 1] !== 1) continue;
    const kth = q * kp + Math.min(k, kp) - 1;
    if (ids[kth] === 0xffffffff) continue;
    const query = queries.subarray(q * q4 * 4, (q + 1) * q4 * 4);
    // The one-pass bound first (about 1 us a query at d = 768); the digits' own only when it fails.
    const quick = f32KeyBoundQuick(query, steps, maxima, centres);
    if (floorKeys[2 * q]! + quick.bound <= keys[kth]! - 2 * quick.gamma) continue;
    const { bound, gamma } = f32KeyBound(query, steps, maxima, centres);
    if (!(floorKeys[2 * q]! + bound <= keys[kth]! - 2 * gamma)) failed.push(q);
  }
  return failed;
}
