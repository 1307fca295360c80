/**
 * FAISS "SQ8" (IndexScalarQuantizer, QT_8bit): one byte per dimension with per-dimension ranges
 * trained by min-max, searched exhaustively. Also home of what IVF-SQ8 shares with it: the codec
 * (FAISS's exact encode/decode formulas, so files interoperate), the scan kernels, a bounded top-k
 * heap, and the WebAssembly.Memory that holds codes (a 32-bit memory: at most 4 GiB per instance,
 * beyond which shards.ts splits the index).
 */
import { TesseraError, formatBytes } from '../core/errors.js';
import { type IndexOptions, type IndexSpec, registerIndexType } from '../core/factory.js';
import { emptyResult } from '../core/topk.js';
import type { ByteSink, ByteSource, Index, Metric, ProgressCallback, SearchOptions, SearchResult } from '../core/types.js';
import { checkSearch, checkVectors } from '../core/validate.js';
import { openSink } from '../platform.js';
import { ByteReader } from '../io/byte-reader.js';
import { encodeSqFileHeader, readSqLayout, SQ_FOURCC } from '../io/faiss/sq.js';

/** Bytes one WebAssembly memory (wasm32) can hold: 65536 pages of 64 KiB. */
export const WASM_MEMORY_LIMIT = 65536 * 65536;
const PAGE = 65536;

/**
 * Memory for codes: alloc/realloc/release over one WebAssembly.Memory, the interface of the module's
 * heap (module.ts WasmHeap), so kernels can run on the same bytes. Views must be taken afresh after
 * an allocation (the memory may have grown).
 */
export interface CodeHeap {
  readonly memory: WebAssembly.Memory;
  alloc(bytes: number): number;
  realloc(ptr: number, oldBytes: number, newBytes: number): number;
  release(ptr: number): void;
}

/** A CodeHeap without a module: a first-fit allocator over a fresh WebAssembly.Memory (<= 4 GiB). */
export class WasmArena implements CodeHeap {
  readonly memory: WebAssembly.Memory;
  private top = 64;
  private free: { at: number; size: number }[] = [];
  private readonly sizes = new Map<number, number>();

  constructor(
    /** Names the data in the out-of-memory message. */
    readonly what = 'index',
    readonly limit = WASM_MEMORY_LIMIT,
  ) {
    this.memory = new WebAssembly.Memory({ initial: 1, maximum: limit / PAGE });
  }

  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  /** Bytes up to the highest allocation. */
  get used(): number {
    return this.top;
  }

  alloc(bytes: number): number {
    const size = Math.ceil(Math.max(bytes, 1) / 64) * 64;
    for (let i = 0; i < this.free.length; i++) {
      const f = this.free[i]!;
      if (f.size < size) continue;
      const at = f.at;
      if (f.size === size) this.free.splice(i, 1);
      else {
        f.at += size;
        f.size -= size;
      }
      this.sizes.set(at, size);
      return at;
    }
    const at = this.top;
    this.ensure(at + size);
    this.top = at + size;
    this.sizes.set(at, size);
    return at;
  }

  release(ptr: number): void {
    const size = this.sizes.get(ptr);
    if (size === undefined) return;
    this.sizes.delete(ptr);
    this.free.push({ at: ptr, size });
    this.free.sort((a, b) => a.at - b.at);
    const merged: { at: number; size: number }[] = [];
    for (const f of this.free) {
      const last = merged[merged.length - 1];
      if (last && last.at + last.size === f.at) last.size += f.size;
      else merged.push({ ...f });
    }
    const last = merged[merged.length - 1];
    if (last && last.at + last.size === this.top) {
      this.top = last.at;
      merged.pop();
    }
    this.free = merged;
  }

  realloc(ptr: number, oldBytes: number, newBytes: number): number {
    // The last allocation grows in place: the common case of one growing array.
    const size = this.sizes.get(ptr);
    if (size !== undefined && ptr + size === this.top) {
      const want = Math.ceil(Math.max(newBytes, 1) / 64) * 64;
      this.ensure(ptr + want);
      this.top = ptr + want;
      this.sizes.set(ptr, want);
      return ptr;
    }
    const next = this.alloc(newBytes);
    if (oldBytes > 0) new Uint8Array(this.memory.buffer).copyWithin(next, ptr, ptr + Math.min(oldBytes, newBytes));
    this.release(ptr);
    return next;
  }

  /** Grows the memory to at least `bytes`; OUT_OF_MEMORY past the 4 GiB of one instance. */
  private ensure(bytes: number): void {
    if (bytes <= this.byteLength) return;
    if (bytes > this.limit) {
      throw new TesseraError(
        'OUT_OF_MEMORY',
        `${this.what} needs ${formatBytes(bytes)} in one WebAssembly memory, which holds at most ${formatBytes(this.limit)}: ` +
          `shard it (shardedIndex in src/wasm/shards.ts), or use a smaller index type (e.g. "IVF4096,SQ8")`,
      );
    }
    // Grow geometrically (x1.25) so repeated adds stay amortised O(n).
    const want = Math.min(this.limit, Math.max(bytes, Math.floor(this.byteLength * 1.25)));
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

  /** Min-max ranges per dimension over the n x d rows of x (FAISS train_NonUniform, RS_minmax, rs_arg 0). */
  static train(x: Float32Array, d: number): Sq8Codec {
    const n = x.length / d;
    const trained = new Float32Array(2 * d);
    const vmin = trained.subarray(0, d);
    const vmax = trained.subarray(d);
    vmin.set(x.subarray(0, d));
    vmax.set(x.subarray(0, d));
    for (let i = 1; i < n; i++) {
      for (let j = 0, o = i * d; j < d; j++, o++) {
        const v = x[o]!;
        if (v < vmin[j]!) vmin[j] = v;
        if (v > vmax[j]!) vmax[j] = v;
      }
    }
    for (let j = 0; j < d; j++) vmax[j] = Math.fround(vmax[j]! - vmin[j]!);
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

/**
 * Bounded top-k of one query: a binary heap whose root is the worst kept result. Ties rank the
 * lower label first, so `push` order never changes the outcome.
 */
export class TopKHeap {
  readonly dist: Float32Array;
  readonly label: Float64Array;
  size = 0;
  private readonly sign: number;
  constructor(
    readonly k: number,
    readonly metric: Metric,
  ) {
    this.dist = new Float32Array(k);
    this.label = new Float64Array(k);
    this.sign = metric === 'ip' ? 1 : -1;
  }

  reset(): void {
    this.size = 0;
  }

  /** True when (d, l) would enter the heap. */
  accepts(d: number, l: number): boolean {
    if (this.size < this.k) return true;
    const wd = this.sign * this.dist[0]!;
    const sd = this.sign * d;
    return sd > wd || (sd === wd && l < this.label[0]!);
  }

  /** Offers (d, l); d as float32. */
  push(d: number, l: number): void {
    const s = this.sign;
    d = Math.fround(d);
    const dist = this.dist;
    const label = this.label;
    // worse(i, j): entry i ranks after entry j
    if (this.size < this.k) {
      let i = this.size++;
      while (i > 0) {
        const p = (i - 1) >> 1;
        const pd = s * dist[p]!;
        const cd = s * d;
        if (pd < cd || (pd === cd && label[p]! > l)) break; // parent worse than new: stop
        dist[i] = dist[p]!;
        label[i] = label[p]!;
        i = p;
      }
      dist[i] = d;
      label[i] = l;
      return;
    }
    if (!this.accepts(d, l)) return;
    // Replace the root and sift down: children worse than the new entry move up.
    let i = 0;
    const n = this.size;
    const sd = s * d;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n) {
        const a = s * dist[c]!;
        const b = s * dist[c + 1]!;
        if (b < a || (b === a && label[c + 1]! > label[c]!)) c++;
      }
      const cd = s * dist[c]!;
      if (cd > sd || (cd === sd && label[c]! < l)) break; // worst child better than new
      dist[i] = dist[c]!;
      label[i] = label[c]!;
      i = c;
    }
    dist[i] = d;
    label[i] = l;
  }

  /** Writes the kept results best first into row q of `out` (padding stays as emptyResult left it). */
  drainInto(out: SearchResult, q: number): void {
    const order = Array.from({ length: this.size }, (_, i) => i);
    const s = this.sign;
    order.sort((x, y) => s * (this.dist[y]! - this.dist[x]!) || this.label[x]! - this.label[y]!);
    for (let j = 0; j < order.length; j++) {
      out.distances[q * out.k + j] = this.dist[order[j]!]!;
      out.labels[q * out.k + j] = BigInt(this.label[order[j]!]!);
    }
    this.size = 0;
  }
}

/**
 * Scans n SQ8 codes at bytes[at] (row stride d) into `heap` with labels ids[i] (or base + i when ids is undefined).
 * ip: w, bias from queryTables; l2: a, b (= w) from queryTables.
 */
export function scanSq8(
  bytes: Uint8Array,
  at: number,
  n: number,
  d: number,
  metric: Metric,
  w: Float32Array,
  a: Float32Array,
  bias: number,
  heap: TopKHeap,
  ids: Int32Array | undefined,
  idsAt: number,
  base: number,
): void {
  const d4 = d & ~3;
  for (let i = 0; i < n; i++) {
    const o = at + i * d;
    let s0 = 0;
    let s1 = 0;
    let s2 = 0;
    let s3 = 0;
    let j = 0;
    if (metric === 'ip') {
      for (; j < d4; j += 4) {
        s0 += w[j]! * bytes[o + j]!;
        s1 += w[j + 1]! * bytes[o + j + 1]!;
        s2 += w[j + 2]! * bytes[o + j + 2]!;
        s3 += w[j + 3]! * bytes[o + j + 3]!;
      }
      for (; j < d; j++) s0 += w[j]! * bytes[o + j]!;
    } else {
      for (; j < d4; j += 4) {
        const t0 = a[j]! - bytes[o + j]! * w[j]!;
        const t1 = a[j + 1]! - bytes[o + j + 1]! * w[j + 1]!;
        const t2 = a[j + 2]! - bytes[o + j + 2]! * w[j + 2]!;
        const t3 = a[j + 3]! - bytes[o + j + 3]! * w[j + 3]!;
        s0 += t0 * t0;
        s1 += t1 * t1;
        s2 += t2 * t2;
        s3 += t3 * t3;
      }
      for (; j < d; j++) {
        const t = a[j]! - bytes[o + j]! * w[j]!;
        s0 += t * t;
      }
    }
    const dist = bias + (s0 + s1 + (s2 + s3));
    const label = ids ? ids[idsAt + i]! + base : base + i;
    if (heap.accepts(Math.fround(dist), label)) heap.push(dist, label);
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

/** IndexScalarQuantizer (QT_8bit) on the WASM backend: codes in one WebAssembly memory, exhaustive scan. */
export class WasmSqIndex implements Index {
  readonly backend = 'wasm' as const;
  readonly description = 'SQ8';
  ntotal = 0;
  codec: Sq8Codec | undefined;
  private heap: CodeHeap | undefined;
  /** Codes: ntotal x d bytes at codesPtr, capacity rows reserved. */
  private codesPtr = 0;
  private capacity = 0;
  private disposed = false;
  private readonly onProgress: ProgressCallback | undefined;

  constructor(
    readonly d: number,
    readonly metric: Metric,
    opts: IndexOptions = {},
    heap?: CodeHeap,
  ) {
    this.onProgress = opts.onProgress;
    this.heap = heap;
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

  private live(): void {
    if (this.disposed) throw new TesseraError('INVALID_ARGUMENT', 'this index was disposed: create or load it again');
  }

  /** Makes room for `more` rows beyond ntotal (capacity grows x1.5); returns the memory's bytes. */
  reserve(more: number): Uint8Array {
    this.heap ??= new WasmArena('SQ8 index');
    const need = this.ntotal + more;
    if (need > this.capacity) {
      const cap = this.capacity === 0 ? need : Math.max(need, Math.floor(this.capacity * 1.5));
      this.codesPtr = this.codesPtr === 0 ? this.heap.alloc(cap * this.d) : this.heap.realloc(this.codesPtr, this.ntotal * this.d, cap * this.d);
      this.capacity = cap;
    }
    return new Uint8Array(this.heap.memory.buffer);
  }

  async train(x: Float32Array): Promise<void> {
    this.live();
    const n = checkVectors(x, this.d, 'training vectors');
    if (n === 0) throw new TesseraError('INVALID_ARGUMENT', 'training vectors are empty: SQ8 learns per-dimension ranges from at least one vector');
    this.codec = Sq8Codec.train(x, this.d);
  }

  /** Uses ranges trained elsewhere (FAISS files). */
  setCodec(codec: Sq8Codec): void {
    this.codec = codec;
  }

  async add(x: Float32Array): Promise<void> {
    this.live();
    const n = checkVectors(x, this.d, 'vectors to add');
    if (!this.codec) throw new TesseraError('NOT_TRAINED', 'SQ8 index is not trained: call train(x) with representative vectors before add');
    const bytes = this.reserve(n);
    const at = this.codesPtr + this.ntotal * this.d;
    for (let i = 0; i < n; i++) {
      this.codec.encode(x, i, bytes, at + i * this.d);
      if (this.onProgress && (i & 0xffff) === 0xffff) this.onProgress({ phase: 'encoding', done: i + 1, total: n, unit: 'vectors' });
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
    const nq = checkSearch(q, k, this.d, this.ntotal);
    const codec = this.codec!;
    const out = emptyResult(nq, k, this.metric);
    const heap = new TopKHeap(k, this.metric);
    const w = new Float32Array(this.d);
    const a = new Float32Array(this.d);
    const bytes = this.reserve(0);
    for (let qi = 0; qi < nq; qi++) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('aborted');
      const bias = codec.queryTables(q, qi * this.d, this.metric, w, a);
      scanSq8(bytes, this.codesPtr, this.ntotal, this.d, this.metric, w, a, bias, heap, undefined, 0, 0);
      heap.drainInto(out, qi);
    }
    return out;
  }

  /** Codes of rows [start, start + count) (a view: copy before the index changes). */
  codes(start = 0, count = this.ntotal - start): Uint8Array {
    return this.reserve(0).subarray(this.codesPtr + start * this.d, this.codesPtr + (start + count) * this.d);
  }

  async save(target: string | ByteSink): Promise<void> {
    this.live();
    const trained = this.codec?.trained ?? new Float32Array(0);
    const sink = await openSink(target);
    try {
      const head = encodeSqFileHeader(this.d, this.ntotal, this.metric, trained);
      if (!this.codec) head[4 + 28] = 0; // is_trained byte of the header
      await sink.write(head);
      const step = 16 << 20;
      const total = this.ntotal * this.d;
      for (let o = 0; o < total; o += step) await sink.write(this.codes().slice(o, Math.min(total, o + step)));
    } catch (e) {
      await (sink as { abort?: () => Promise<void> }).abort?.();
      throw e;
    }
    await sink.close();
  }

  async dispose(): Promise<void> {
    if (this.heap && this.codesPtr) this.heap.release(this.codesPtr);
    this.disposed = true;
    this.heap = undefined;
    this.codesPtr = 0;
    this.capacity = 0;
  }
}

/** Reads an IxSQ file (FAISS IndexScalarQuantizer, QT_8bit) into a WASM SQ8 index, streaming the codes. */
export async function loadSqIndex(source: ByteSource, opts: IndexOptions = {}, label = 'index file'): Promise<WasmSqIndex> {
  const r = new ByteReader(source, 0, label);
  const fourcc = await r.fourcc();
  if (fourcc !== SQ_FOURCC) throw r.error(`expected an IndexScalarQuantizer ("${SQ_FOURCC}"), found ${JSON.stringify(fourcc)}`, 0);
  const layout = await readSqLayout(r);
  const index = new WasmSqIndex(layout.d, layout.metric, opts);
  if (layout.sq.trained.length === 2 * layout.d) index.setCodec(new Sq8Codec(layout.d, layout.sq.trained));
  const n = layout.ntotal * layout.d;
  const bytes = index.reserve(layout.ntotal);
  await readSourceInto(source, layout.codesOffset, n, bytes, index.codesAt, label, (done) =>
    opts.onProgress?.({ phase: 'loading index', done: done / layout.d, total: layout.ntotal, unit: 'rows' }),
  );
  index.ntotal = layout.ntotal;
  return index;
}

/** Factory entry for "SQ8". */
export async function createSqIndex(d: number, spec: IndexSpec, metric: Metric, opts: IndexOptions): Promise<Index> {
  if (spec.kind !== 'sq') throw new TesseraError('INVALID_ARGUMENT', `createSqIndex got a ${spec.kind} spec`);
  return new WasmSqIndex(d, metric, opts);
}

registerIndexType('wasm', 'sq', { create: createSqIndex, load: (source, opts) => loadSqIndex(source, opts) });
