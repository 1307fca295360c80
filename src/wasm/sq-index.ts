/**
 * FAISS "SQ8" (IndexScalarQuantizer, QT_8bit): one byte per dimension with per-dimension ranges
 * trained by min-max, searched exhaustively. Also home of what IVF-SQ8 shares with it: the codec
 * (FAISS's exact encode/decode formulas, so files interoperate), the scan kernels, a bounded top-k
 * heap, and the WebAssembly.Memory that holds codes (a 32-bit memory: at most 4 GiB per instance,
 * beyond which shards.ts splits the index).
 */
import { orderCalls } from '../core/call-order.js';
import { TesseraError, formatBytes } from '../core/errors.js';
import type { IndexOptions, IndexSpec } from '../core/factory.js';
import { concatResults, emptyResult, mergeResults } from '../core/topk.js';
import type { ByteSink, ByteSource, Index, Metric, ProgressCallback, SearchOptions, SearchResult } from '../core/types.js';
import { checkSearch, checkVectors, checkVectorShape } from '../core/validate.js';
import { writeToTarget } from '../platform.js';
import { ByteReader, sourceLabel } from '../io/byte-reader.js';
import { DEFAULT_RANGESTAT, encodeSqFileHeader, RANGESTAT_NAMES, readSqLayout, RS_MINMAX, SQ_FOURCC, type SqLayout, type SqRangeStat } from '../io/faiss/sq.js';
import { checkMemoryLimit, compiledModule, growWithSlack, SpanAllocator, type WasmHeap } from './module.js';
import { QUERY_GROUP, abortableBatch, acquirePool, breather, checkAbort, groupedBatch, type DedicatedOptions, forRowPieces, type NativeCall, rowPiece, threadPlan, type WorkerPool } from './worker-pool.js';

/** Bytes one WebAssembly memory (wasm32) can hold: 65536 pages of 64 KiB. */
export const WASM_MEMORY_LIMIT = 65536 * 65536;
const PAGE = 65536;

/** The native exports this file and ivf-index.ts call (native/ivf.c, native/flat.c). */
export interface ListExports {
  ivf_search(...args: number[]): void;
  sq8_encode(...args: number[]): void;
  flat_search(...args: number[]): void;
  readonly __heap_base: WebAssembly.Global;
}

/**
 * Memory for codes: alloc/realloc/release over one WebAssembly.Memory, the interface of the module's
 * heap (module.ts WasmHeap). Views must be taken afresh after an allocation (the memory may have grown).
 */
export interface CodeHeap {
  readonly memory: WebAssembly.Memory;
  /** Bytes the memory may grow to. */
  readonly limit: number;
  /** Bytes up to the highest allocation. */
  readonly used: number;
  alloc(bytes: number): number;
  realloc(ptr: number, oldBytes: number, newBytes: number): number;
  release(ptr: number): void;
}

/**
 * One instance of tessera's WebAssembly module with a first-fit allocator (module.ts SpanAllocator)
 * over its memory (at most 4 GiB; `limit` lowers that, e.g. for tests of sharding). Unlike WasmHeap, the highest
 * allocation grows in place: a code array that grows to 3 GiB never needs a second copy, which is
 * what lets one instance fill most of its 4 GiB.
 */
export class WasmArena implements CodeHeap {
  private readonly spans: SpanAllocator;
  private pool: WorkerPool | undefined;

  private constructor(
    readonly module: WebAssembly.Module,
    readonly memory: WebAssembly.Memory,
    readonly exports: ListExports,
    readonly shared: boolean,
    /** Names the data in the out-of-memory message. */
    readonly what: string,
    readonly limit: number,
  ) {
    this.spans = new SpanAllocator(exports.__heap_base.value as number, (end) => this.ensure(end));
  }

  /**
   * A fresh instance; with threads > 1 (and shared memory available) a pool of workers shares its
   * memory; `dedicated` puts all native work on workers of its own (shards).
   */
  static async create(what = 'index', opts: { threads?: number; limit?: number } & DedicatedOptions = {}): Promise<WasmArena> {
    const { threads, shared, dedicated } = threadPlan(opts);
    if (opts.limit !== undefined) checkMemoryLimit(opts.limit);
    const module = await compiledModule(shared);
    const limit = Math.min(opts.limit ?? WASM_MEMORY_LIMIT, WASM_MEMORY_LIMIT);
    const memory = new WebAssembly.Memory({ initial: 4, maximum: 65536, shared });
    const instance = await WebAssembly.instantiate(module, { env: { memory } });
    const exports = instance.exports as unknown as ListExports;
    // as WasmHeap: a limit too small for any index is refused now, not at the first train or add
    checkMemoryLimit(limit, exports.__heap_base.value as number);
    const arena = new WasmArena(module, memory, exports, shared, what, limit);
    // WorkerPool only uses the WasmHeap members this class also has (module, memory, shared, alloc, release).
    if (shared) arena.pool = await acquirePool(arena as unknown as WasmHeap, threads, dedicated);
    return arena;
  }

  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  /** Bytes up to the highest allocation. */
  get used(): number {
    return this.spans.top;
  }

  /** Threads taking part in `parallel` (1 without workers). */
  get threads(): number {
    return this.pool?.size ?? 1;
  }

  /**
   * True when the calling thread runs native calls, all of them (no pool) or its share of each
   * (a pool that is not dedicated): long work must pause itself (breather).
   */
  get callingThreadWorks(): boolean {
    return !this.pool?.dedicated;
  }

  /** Runs fn over [0, n) split across the pool's threads (here only without one); part numbers 0..threads-1; `align` as WorkerPool.parallelFor. */
  async parallel(n: number, make: (from: number, to: number, part: number) => NativeCall, align = 1): Promise<void> {
    if (this.pool && (n > 1 || this.pool.dedicated)) return this.pool.parallelFor(Math.max(n, 1), make, align);
    const c = make(0, n, 0);
    (this.exports as unknown as Record<string, (...a: number[]) => void>)[c.fn]!(...c.args);
  }

  alloc(bytes: number): number {
    return this.spans.alloc(bytes);
  }

  release(ptr: number): void {
    this.spans.release(ptr);
  }

  /** Grows an allocation, in place when it is the last one (the common case of one growing array): SpanAllocator.realloc. */
  realloc(ptr: number, oldBytes: number, newBytes: number): number {
    return this.spans.realloc(this.memory, ptr, oldBytes, newBytes);
  }

  /** Grows the memory to at least `bytes`; OUT_OF_MEMORY past the 4 GiB of one instance. */
  private ensure(bytes: number): void {
    if (bytes <= this.byteLength) return;
    if (bytes > this.limit) {
      throw new TesseraError(
        'OUT_OF_MEMORY',
        `${this.what} needs ${formatBytes(bytes)} in one WebAssembly memory, which holds at most ${formatBytes(this.limit)}` +
          // a limit below 4 GiB is the caller's memoryLimit, which the message did not name
          `${this.limit < WASM_MEMORY_LIMIT ? ' (its memoryLimit): raise memoryLimit (bytes, at most 4 GiB), or' : ':'} split it into shards (shardedIndex(d, factory, metric) from 'tessera'; readIndex does it by itself), or use a smaller index type (e.g. "IVF4096,SQ8")`,
      );
    }
    // Grow in steps of at least 1 MiB, not geometrically: engines reserve the whole 4 GiB address
    // range of a wasm32 memory up front, so growing never copies, and slack would be paid for in RSS.
    const want = Math.min(this.limit, Math.max(bytes, this.byteLength + (1 << 20)));
    try {
      this.memory.grow(Math.ceil((want - this.byteLength) / PAGE));
    } catch (e) {
      try {
        this.memory.grow(Math.ceil((bytes - this.byteLength) / PAGE));
      } catch {
        throw new TesseraError('OUT_OF_MEMORY', `cannot grow the WebAssembly memory of ${this.what} to ${formatBytes(bytes)}: the host refused (${(e as Error).message}); free memory or use shards`, { cause: e });
      }
    }
  }

  f32(ptr: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, length);
  }
  i32(ptr: number, length: number): Int32Array {
    return new Int32Array(this.memory.buffer, ptr, length);
  }
  u8(ptr: number, length: number): Uint8Array {
    return new Uint8Array(this.memory.buffer, ptr, length);
  }

  async dispose(): Promise<void> {
    await this.pool?.release();
    this.pool = undefined;
  }
}

/** Parameters of one native list search (native/ivf.c ivf_search); pointers into `arena`. */
export interface ListSearch {
  d: number;
  metric: Metric;
  /** The coarse quantizer's metric, which picks the probed lists (default: metric). */
  coarseMetric?: Metric;
  storage: 'flat' | 'sq8';
  byResidual: boolean;
  /** nlist x d coarse centroids (0 without IVF). */
  centroidsPtr: number;
  nlist: number;
  /** Three int32 tables of nlist entries: code pointers, id pointers (0: position), sizes. */
  tablesPtr: number;
  /** 2d floats vmin, vdiff (0 for flat). */
  sqPtr: number;
  /** Vectors in all lists (sizes a search's batches when it can be aborted). */
  ntotal: number;
}

/** Overwrites the probes' coarse scores (m x np at pdp) with q . c, each query's dot with the probed centroid. */
function probeDots(arena: WasmArena, p: ListSearch, qp: number, m: number, np: number, pip: number, pdp: number): void {
  const d = p.d;
  const q = arena.f32(qp, m * d);
  const probes = arena.i32(pip, m * np);
  const scores = arena.f32(pdp, m * np);
  const c = arena.f32(p.centroidsPtr, p.nlist * d);
  for (let i = 0; i < m * np; i++) {
    const l = probes[i]!;
    if (l < 0) continue;
    const qo = Math.floor(i / np) * d;
    let s = 0;
    for (let j = 0; j < d; j++) s += q[qo + j]! * c[l * d + j]!;
    scores[i] = s;
  }
}

/** Bytes of queries + probes + results handled per native call: bounds temporary memory for any nq. */
const BATCH_BYTES = 16 << 20;

/**
 * Searches nq queries: the nprobe nearest centroids (flat_search over them; with nlist 1, only
 * where IP by residual needs q . c), then the probed lists (ivf_search), in query batches spread
 * over the arena's threads.
 */
export async function nativeListSearch(arena: WasmArena, p: ListSearch, q: Float32Array, k: number, nprobe: number, signal?: AbortSignal): Promise<SearchResult> {
  const d = p.d;
  const nq = q.length / d;
  const metric = p.metric === 'ip' ? 0 : 1;
  const coarse = (p.coarseMetric ?? p.metric) === 'ip' ? 0 : 1;
  // IP by residual scores q . c + q . residual; an L2 quantizer's coarse scores are distances, so
  // q . c is computed here (FAISS 1.7 adds the L2 distance instead: its scores mix the two metrics).
  const dotBias = p.storage === 'sq8' && p.byResidual && metric === 0 && coarse === 1;
  const np = Math.min(nprobe, p.nlist);
  const perQuery = d * 4 + np * 8 + k * 8 + 4;
  const threads = arena.threads;
  let batch = Math.max(1, Math.min(nq, Math.floor(BATCH_BYTES / perQuery)));
  // Near a full memory (an index filled by add to its limit keeps less than 16 MiB free where its
  // memoryLimit is small), the batch shrinks to the room left: seven buffers, each 64-byte aligned.
  const room = arena.limit - arena.used - threads * 2 * d * 4 - 8 * 64;
  batch = Math.max(1, Math.min(batch, Math.floor(room / perQuery)));
  // A signal is looked at between batches: keep each short (a query scans the centroids and, on
  // average, np / nlist of the vectors; the threads split a batch by queries).
  if (signal) batch = Math.min(batch, abortableBatch((p.nlist + Math.ceil((p.ntotal * np) / p.nlist)) * d) * threads);
  batch = groupedBatch(batch, nq);
  const qp = arena.alloc(batch * d * 4);
  const pip = arena.alloc(batch * np * 4);
  const pdp = arena.alloc(batch * np * 4);
  const fp = arena.alloc(batch * 4);
  const dp = arena.alloc(batch * k * 4);
  const ip = arena.alloc(batch * k * 4);
  const sp = arena.alloc(threads * 2 * d * 4);
  const out = { nq, k, distances: new Float32Array(nq * k), labels: new BigInt64Array(nq * k) };
  try {
    for (let q0 = 0; q0 < nq; q0 += batch) {
      await checkAbort(signal, q0 > 0);
      const m = Math.min(batch, nq - q0);
      arena.f32(qp, m * d).set(q.subarray(q0 * d, (q0 + m) * d));
      // One list needs no choosing, but IP by residual adds q . c to every score: score it too.
      if (p.nlist > 1 || (p.byResidual && metric === 0 && p.centroidsPtr !== 0)) {
        await arena.parallel(m, (from, to) => ({
          fn: 'flat_search',
          args: [p.centroidsPtr, p.nlist, d, qp + from * d * 4, to - from, np, coarse, 0, pdp + from * np * 4, pip + from * np * 4, fp + from * 4],
        }), QUERY_GROUP);
        if (dotBias) probeDots(arena, p, qp, m, np, pip, pdp);
      } else {
        arena.i32(pip, m).fill(0);
        arena.f32(pdp, m).fill(0);
      }
      const t = p.tablesPtr;
      await arena.parallel(m, (from, to, part) => ({
        fn: 'ivf_search',
        args: [
          d, metric, p.storage === 'flat' ? 0 : 1, p.byResidual ? 1 : 0, p.centroidsPtr, t, t + p.nlist * 4, t + p.nlist * 8,
          p.sqPtr, p.sqPtr + d * 4, qp + from * d * 4, to - from, k, np, pip + from * np * 4, pdp + from * np * 4,
          dp + from * k * 4, ip + from * k * 4, sp + part * 2 * d * 4,
        ],
      }));
      out.distances.set(arena.f32(dp, m * k), q0 * k);
      const ids = arena.i32(ip, m * k);
      for (let i = 0; i < m * k; i++) out.labels[q0 * k + i] = BigInt(ids[i]!);
    }
  } finally {
    for (const ptr of [sp, ip, dp, fp, pdp, pip, qp]) arena.release(ptr);
  }
  await checkAbort(signal, false);
  return out;
}

/**
 * FAISS ScalarQuantizer QT_8bit with RS_minmax ranges: trained = [vmin (d), vdiff (d)];
 * encode: floor(255 * clamp((x - vmin) / vdiff, 0, 1)) (0 where vdiff is 0); decode: vmin + (c + 0.5) / 255 * vdiff.
 */
export class Sq8Codec {
  readonly vmin: Float32Array;
  readonly vdiff: Float32Array;
  constructor(
    readonly d: number,
    readonly trained: Float32Array,
  ) {
    this.vmin = trained.subarray(0, d);
    this.vdiff = trained.subarray(d, 2 * d);
  }

  /**
   * Min-max ranges per dimension over the n x d rows of x, widened by rangestat_arg x (max - min) on
   * each side (FAISS train_NonUniform, RS_minmax, in float32 as FAISS computes them). The other
   * statistics (a FAISS file's RS_meanstd, RS_quantiles, RS_optim) are UNSUPPORTED: FAISS 1.7's
   * versions of them read the first training vector as zeros, a quirk tessera will not copy.
   */
  static train(x: Float32Array, d: number, range: SqRangeStat = DEFAULT_RANGESTAT): Sq8Codec {
    const trained = Sq8Codec.minMaxStart(x, d, range);
    Sq8Codec.widenMinMax(x, d, trained, 1, x.length / d);
    return Sq8Codec.fromMinMax(trained, d, range);
  }

  /**
   * train, a few thousand rows at a time with breathe() between (breather): the pass over IVF-SQ8's
   * 100k training residuals at d = 768 held the event loop for about a second on a loaded machine.
   */
  static async trainInPieces(x: Float32Array, d: number, range: SqRangeStat, breathe: () => Promise<void>): Promise<Sq8Codec> {
    const trained = Sq8Codec.minMaxStart(x, d, range);
    const n = x.length / d;
    const piece = rowPiece(d);
    for (let i0 = 1; i0 < n; i0 += piece) {
      Sq8Codec.widenMinMax(x, d, trained, i0, Math.min(n, i0 + piece));
      await breathe();
    }
    return Sq8Codec.fromMinMax(trained, d, range);
  }

  /** Throws UNSUPPORTED unless `range` is a statistic tessera trains (RS_minmax, any rangestat_arg). */
  static checkTrainable(range: SqRangeStat): void {
    if (range.rangestat !== RS_MINMAX) {
      const name = RANGESTAT_NAMES[range.rangestat] ?? `rangestat ${range.rangestat}`;
      throw new TesseraError(
        'UNSUPPORTED',
        `this SQ8 quantizer asks for ranges by ${name} (rangestat_arg ${range.rangestatArg}), and tessera trains RS_minmax only: train the index in FAISS (index.train(x); faiss.write_index(index, path)) and read it here, ` +
          'or set sq.rangestat = faiss.ScalarQuantizer.RS_minmax before writing it untrained',
      );
    }
  }

  /** vmin and vmax (2 x d) set to x's first row, once the statistic is known to be one tessera trains. */
  private static minMaxStart(x: Float32Array, d: number, range: SqRangeStat): Float32Array {
    Sq8Codec.checkTrainable(range);
    const trained = new Float32Array(2 * d);
    trained.set(x.subarray(0, d));
    trained.set(x.subarray(0, d), d);
    return trained;
  }

  /** Widens vmin / vmax (minMaxStart's 2 x d) to rows [from, to) of x. */
  private static widenMinMax(x: Float32Array, d: number, trained: Float32Array, from: number, to: number): void {
    const vmin = trained.subarray(0, d);
    const vmax = trained.subarray(d);
    for (let i = from; i < to; i++) {
      for (let j = 0, o = i * d; j < d; j++, o++) {
        const v = x[o]!;
        if (v < vmin[j]!) vmin[j] = v;
        if (v > vmax[j]!) vmax[j] = v;
      }
    }
  }

  /** The codec of the min-max ranges in `trained`, widened by rangestat_arg (FAISS train_NonUniform). */
  private static fromMinMax(trained: Float32Array, d: number, range: SqRangeStat): Sq8Codec {
    const arg = Math.fround(range.rangestatArg);
    const vmin = trained.subarray(0, d);
    const vmax = trained.subarray(d);
    for (let j = 0; j < d; j++) {
      let lo = vmin[j]!;
      let hi = vmax[j]!;
      if (arg !== 0) {
        const vexp = Math.fround(Math.fround(hi - lo) * arg);
        vmin[j] = lo = Math.fround(lo - vexp);
        hi = Math.fround(hi + vexp);
      }
      vmax[j] = Math.fround(hi - lo);
      // FAISS stores vmax - vmin as a float32 too: an infinite range decodes every code to NaN.
      if (!Number.isFinite(vmax[j]!)) {
        throw new TesseraError('INVALID_ARGUMENT', `training vectors span [${lo}, ${hi}] in dimension ${j}: the SQ8 range vmax - vmin is beyond float32's range (3.4e38), so every code would decode to NaN; scale the vectors down`);
      }
    }
    return new Sq8Codec(d, trained);
  }

  /** Encodes row `row` of x (minus `sub` row `subRow` when given: IVF residuals) into out[at .. at+d). */
  encode(x: Float32Array, row: number, out: Uint8Array, at: number, sub?: Float32Array, subRow = 0): void {
    const d = this.d;
    const vmin = this.vmin;
    const vdiff = this.vdiff;
    const xo = row * d;
    const so = subRow * d;
    for (let j = 0; j < d; j++) {
      let code = 0;
      const diff = vdiff[j]!;
      if (diff !== 0) {
        const v = sub ? Math.fround(x[xo + j]! - sub[so + j]!) : x[xo + j]!;
        let t = Math.fround(Math.fround(v - vmin[j]!) / diff);
        if (t < 0) t = 0;
        if (t > 1) t = 1;
        code = Math.trunc(Math.fround(255 * t));
      }
      out[at + j] = code;
    }
  }

  /** Decodes d bytes at codes[at] into out[oo .. oo+d). */
  decode(codes: Uint8Array, at: number, out: Float32Array, oo = 0): void {
    for (let j = 0; j < this.d; j++) out[oo + j] = this.vmin[j]! + ((codes[at + j]! + 0.5) / 255) * this.vdiff[j]!;
  }

  /**
   * Per-query tables for the scan kernels. ip: dist = bias + sum_j w[j] * code[j], with
   * w = q * vdiff / 255 and bias = q.vmin + 0.5 * sum w. l2: dist = sum_j (a[j] - code[j] * b[j])^2,
   * with b = vdiff / 255 and a = q - vmin - 0.5 b. `q` is the query or its residual.
   */
  queryTables(q: Float32Array, qo: number, metric: Metric, w: Float32Array, a: Float32Array): number {
    const d = this.d;
    let bias = 0;
    if (metric === 'ip') {
      let half = 0;
      for (let j = 0; j < d; j++) {
        const wj = (q[qo + j]! * this.vdiff[j]!) / 255;
        w[j] = wj;
        bias += q[qo + j]! * this.vmin[j]!;
        half += wj;
      }
      return bias + 0.5 * half;
    }
    for (let j = 0; j < d; j++) {
      const b = this.vdiff[j]! / 255;
      w[j] = b;
      a[j] = q[qo + j]! - this.vmin[j]! - 0.5 * b;
    }
    return 0;
  }
}

/** Reads `length` bytes at `offset` of `source` into dest[at..] in chunks; FORMAT on a short read. */
export async function readSourceInto(source: ByteSource, offset: number, length: number, dest: Uint8Array, at: number, label: string, onChunk?: (done: number) => void): Promise<void> {
  const step = 16 << 20;
  for (let o = 0; o < length; o += step) {
    const len = Math.min(step, length - o);
    const b = await source.read(offset + o, len);
    if (b.length !== len) {
      throw new TesseraError('FORMAT', `${label}: truncated: expected ${len} bytes at byte offset ${offset + o}, read ${b.length} (the file ends early)`);
    }
    dest.set(b, at + o);
    onChunk?.(o + len);
  }
}

/**
 * Exhaustive SQ8 search (native sq8_search): the rows are split over the threads, each scores all
 * queries of a batch against its rows (codes stream from memory once per batch, not once per query),
 * and the per-thread top-k are merged.
 */
async function sq8Exhaustive(arena: WasmArena, codesPtr: number, n: number, d: number, metric: Metric, sqPtr: number, q: Float32Array, k: number, signal?: AbortSignal): Promise<SearchResult> {
  const nq = q.length / d;
  const parts = Math.max(1, Math.min(arena.threads, n));
  const perQuery = d * 4 + parts * (k * 8 + 4);
  let batch = Math.max(1, Math.min(nq, Math.floor((16 << 20) / perQuery)));
  // A signal is looked at between batches: keep each short (the threads split a batch's rows).
  if (signal) batch = Math.min(batch, abortableBatch(Math.ceil(n / parts) * d));
  // sq8_search scores queries in groups of four: batches (which depend on the threads) start on one
  batch = groupedBatch(batch, nq);
  const qp = arena.alloc(batch * d * 4);
  const dp = arena.alloc(parts * batch * k * 4);
  const ip = arena.alloc(parts * batch * k * 4);
  const fp = arena.alloc(parts * batch * 4);
  const sp = arena.alloc(parts * 8 * d * 4);
  const m = metric === 'ip' ? 0 : 1;
  const results: SearchResult[] = [];
  try {
    for (let q0 = 0; q0 < nq; q0 += batch) {
      await checkAbort(signal, q0 > 0);
      const b = Math.min(batch, nq - q0);
      arena.f32(qp, b * d).set(q.subarray(q0 * d, (q0 + b) * d));
      await arena.parallel(n, (from, to, part) => ({
        fn: 'sq8_search',
        args: [codesPtr + from * d, to - from, d, m, sqPtr, sqPtr + 4 * d, qp, b, k, from, dp + part * batch * k * 4, ip + part * batch * k * 4, fp + part * batch * 4, sp + part * 8 * d * 4],
      }));
      const per: SearchResult[] = [];
      for (let p = 0; p < (arena.threads > 1 && n > 1 ? parts : 1); p++) {
        const ids = arena.i32(ip + p * batch * k * 4, b * k);
        per.push({ nq: b, k, distances: arena.f32(dp + p * batch * k * 4, b * k).slice(), labels: BigInt64Array.from(ids, (v) => BigInt(v)) });
      }
      results.push(per.length === 1 ? per[0]! : mergeResults(per, k, metric));
    }
  } finally {
    for (const ptr of [sp, fp, ip, dp, qp]) arena.release(ptr);
  }
  await checkAbort(signal, false);
  return results.length === 1 ? results[0]! : concatResults(results, k);
}

/** Rows encoded per native call in add: bounds the temporary float copy. */
const ADD_BATCH_BYTES = 4 << 20;

/** IndexScalarQuantizer (QT_8bit) on the WASM backend: codes in one module instance's memory, exhaustive native scan. */
export class WasmSqIndex implements Index {
  readonly backend = 'wasm' as const;
  readonly description = 'SQ8';
  ntotal = 0;
  codec: Sq8Codec | undefined;
  /** How train learns the ranges, and what save writes: FAISS's default, or a loaded file's. */
  rangeStat: SqRangeStat = DEFAULT_RANGESTAT;
  /** Codes: ntotal x d bytes at codesPtr, capacity rows reserved. */
  private codesPtr = 0;
  private capacity = 0;
  /** vmin, vdiff (2d floats) in the memory. */
  private readonly sqPtr: number;
  private disposed = false;
  private readonly onProgress: ProgressCallback | undefined;
  /** Per dimension, the largest magnitude a code decodes to (|vmin| + vdiff bounds it): searches that could overflow float32 are refused. */
  private readonly decodedMax: Float64Array;

  private constructor(
    readonly d: number,
    readonly metric: Metric,
    readonly arena: WasmArena,
    opts: IndexOptions,
  ) {
    this.onProgress = opts.onProgress;
    this.sqPtr = arena.alloc(8 * d);
    this.decodedMax = new Float64Array(d);
  }

  static async create(d: number, metric: Metric, opts: IndexOptions & DedicatedOptions & { memoryLimit?: number } = {}): Promise<WasmSqIndex> {
    const arena = await WasmArena.create('SQ8 index', { threads: opts.threads, limit: opts.memoryLimit, dedicated: opts.dedicated });
    // Its calls wait for each other (core/call-order.ts), as WasmIvfIndex's: an add pauses between
    // its batches, writing codes from ntotal; a second add then wrote over the first's rows, a search
    // or save read the codes as they moved (reserve), dispose freed the workers under it. Shards and
    // a sharded index's shard(i) reach this class without the factory's wrapper. No method calls
    // another of train/add/search/save/dispose on itself.
    return orderCalls(new WasmSqIndex(d, metric, arena, opts));
  }

  get isTrained(): boolean {
    return this.codec !== undefined;
  }

  /** Byte offset of code 0 in the memory. */
  get codesAt(): number {
    return this.codesPtr;
  }

  /** Bytes of WebAssembly memory reserved for the codes. */
  get memoryBytes(): number {
    return this.capacity * this.d;
  }

  /** Bytes the stored codes need (growth slack excluded). */
  get usedBytes(): number {
    return this.ntotal * this.d;
  }

  /** Bytes the WebAssembly memory of this index has grown to. */
  get wasmMemoryBytes(): number {
    return this.arena.byteLength;
  }

  private live(): void {
    if (this.disposed) throw new TesseraError('INVALID_ARGUMENT', 'this index was disposed: create or load it again');
  }

  /** Makes room for `more` rows beyond ntotal (capacity grows x1.5 unless exact); returns the memory's bytes. */
  reserve(more: number, exact = false): Uint8Array {
    const need = this.ntotal + more;
    if (need > this.capacity) {
      const slack = this.capacity === 0 || exact ? need : Math.max(need, Math.floor(this.capacity * 1.5));
      this.capacity = growWithSlack(need, slack, (cap) => {
        this.codesPtr = this.codesPtr === 0 ? this.arena.alloc(cap * this.d) : this.arena.realloc(this.codesPtr, this.ntotal * this.d, cap * this.d);
      });
    }
    return new Uint8Array(this.arena.memory.buffer);
  }

  async train(x: Float32Array): Promise<void> {
    this.live();
    checkVectorShape(x, this.d, 'training vectors');
    const n = x.length / this.d;
    if (this.ntotal > 0) throw retrainError('SQ8', this.ntotal);
    if (n === 0) throw new TesseraError('INVALID_ARGUMENT', 'training vectors are empty: SQ8 learns per-dimension ranges from at least one vector');
    // The checks and the min-max pass in pieces with pauses, as IVF training's: whole, they held the
    // event loop (a progress bar, Ctrl-C's handler) for seconds over millions of rows.
    const breathe = breather();
    await forRowPieces(x, this.d, breathe, (p, row) => checkVectors(p, this.d, 'training vectors', row));
    this.setCodec(await Sq8Codec.trainInPieces(x, this.d, this.rangeStat, breathe));
  }

  /** Uses ranges trained elsewhere (FAISS files, another shard). */
  setCodec(codec: Sq8Codec): void {
    this.codec = codec;
    for (let j = 0; j < this.d; j++) this.decodedMax[j] = Math.abs(codec.vmin[j]!) + Math.abs(codec.vdiff[j]!);
    this.arena.f32(this.sqPtr, 2 * this.d).set(codec.trained);
  }

  async add(x: Float32Array): Promise<void> {
    this.live();
    checkVectorShape(x, this.d, 'vectors to add');
    const n = x.length / this.d;
    // In pieces with pauses, as IVF adds: the checks and the encoding (on the calling thread without
    // workers, or its share beside them) held the event loop for a whole add of millions of rows.
    const breathe = breather();
    await forRowPieces(x, this.d, breathe, (p, row) => checkVectors(p, this.d, 'vectors to add', row));
    if (!this.codec) throw new TesseraError('NOT_TRAINED', 'SQ8 index is not trained: call train(x) with representative vectors before add');
    const d = this.d;
    this.reserve(n);
    const batch = Math.max(1, Math.floor(ADD_BATCH_BYTES / (4 * d)));
    const xp = this.arena.alloc(Math.min(n, batch) * d * 4);
    try {
      for (let i = 0; i < n; i += batch) {
        const m = Math.min(batch, n - i);
        const rows = this.arena.f32(xp, m * d);
        rows.set(x.subarray(i * d, (i + m) * d));
        // Checked again as copied: the caller may have changed x in the pauses since the first
        // check, and a NaN encodes silently (as vmin). Codes past ntotal count only at the end.
        checkVectors(rows, d, 'vectors to add', i);
        await this.arena.parallel(m, (from, to) => ({
          fn: 'sq8_encode',
          args: [xp + from * d * 4, to - from, d, this.sqPtr, this.sqPtr + 4 * d, 0, 0, this.codesPtr + (this.ntotal + i + from) * d],
        }));
        this.onProgress?.({ phase: 'encoding', done: i + m, total: n, unit: 'vectors' });
        if (i + m < n) await breathe();
      }
    } finally {
      this.arena.release(xp);
    }
    this.ntotal += n;
  }

  /** Appends codes already encoded with this index's codec (count x d bytes). */
  addCodes(codes: Uint8Array): void {
    const n = codes.length / this.d;
    const bytes = this.reserve(n);
    bytes.set(codes, this.codesPtr + this.ntotal * this.d);
    this.ntotal += n;
  }

  async search(q: Float32Array, k: number, opts: SearchOptions = {}): Promise<SearchResult> {
    this.live();
    const nq = checkSearch(q, k, this.d, this.ntotal, undefined, '', [{ metric: this.metric, dimMax: this.decodedMax }]);
    if (!this.codec) throw new TesseraError('NOT_TRAINED', 'SQ8 index is not trained: call train(x) before search');
    if (nq === 0 || this.ntotal === 0) return emptyResult(nq, k, this.metric);
    return sq8Exhaustive(this.arena, this.codesPtr, this.ntotal, this.d, this.metric, this.sqPtr, q, k, opts.signal);
  }

  /** Codes of rows [start, start + count) (a view: copy before the index changes). */
  codes(start = 0, count = this.ntotal - start): Uint8Array {
    return new Uint8Array(this.arena.memory.buffer).subarray(this.codesPtr + start * this.d, this.codesPtr + (start + count) * this.d);
  }

  async save(target: string | ByteSink): Promise<void> {
    this.live();
    const trained = this.codec?.trained ?? new Float32Array(0);
    await writeToTarget(target, async (sink) => {
      await sink.write(encodeSqFileHeader(this.d, this.ntotal, this.metric, trained, this.rangeStat));
      const step = 16 << 20;
      const total = this.ntotal * this.d;
      for (let o = 0; o < total; o += step) await sink.write(this.codes().slice(o, Math.min(total, o + step)));
    });
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.arena.dispose();
    this.codesPtr = 0;
    this.capacity = 0;
  }
}

/**
 * Training again after add would leave the stored codes (lists) under the old ranges (centroids):
 * searches would decode and probe them with the new ones and return wrong neighbours, silently.
 */
export function retrainError(description: string, ntotal: number): TesseraError {
  return new TesseraError(
    'INVALID_ARGUMENT',
    `${description} already holds ${ntotal} vectors encoded with its training; training again would make searches return wrong neighbours: train before add, or build a new index`,
  );
}

/** The header of the IxSQ file in `source`; FORMAT when it starts with another fourcc. */
export async function readSqFile(source: ByteSource, label = sourceLabel(source)): Promise<SqLayout> {
  const r = new ByteReader(source, 0, label);
  const fourcc = await r.fourcc();
  if (fourcc !== SQ_FOURCC) throw r.error(`expected an IndexScalarQuantizer ("${SQ_FOURCC}"), found ${JSON.stringify(fourcc)}`, 0);
  return readSqLayout(r);
}

/** Reads an IxSQ file (FAISS IndexScalarQuantizer, QT_8bit) into a WASM SQ8 index, streaming the codes. */
export async function loadSqIndex(source: ByteSource, opts: IndexOptions = {}, label = sourceLabel(source), layout?: SqLayout): Promise<WasmSqIndex> {
  // `layout`: the file's header as a caller already read it (loadSqAuto), so it is not read again.
  layout ??= await readSqFile(source, label);
  const index = await WasmSqIndex.create(layout.d, layout.metric, opts);
  index.rangeStat = layout.sq;
  try {
    if (layout.sq.trained.length === 2 * layout.d) index.setCodec(new Sq8Codec(layout.d, layout.sq.trained));
    const n = layout.ntotal * layout.d;
    const bytes = index.reserve(layout.ntotal, true);
    await readSourceInto(source, layout.codesOffset, n, bytes, index.codesAt, label, (done) =>
      opts.onProgress?.({ phase: 'loading index', done: done / layout.d, total: layout.ntotal, unit: 'rows' }),
    );
  } catch (e) {
    await index.dispose();
    throw e;
  }
  index.ntotal = layout.ntotal;
  return index;
}

/** Factory entry for "SQ8". */
export async function createSqIndex(d: number, spec: IndexSpec, metric: Metric, opts: IndexOptions): Promise<Index> {
  if (spec.kind !== 'sq') throw new TesseraError('INVALID_ARGUMENT', `createSqIndex got a ${spec.kind} spec`);
  return WasmSqIndex.create(d, metric, opts);
}
