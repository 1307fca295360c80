/**
 * FAISS IndexIVFFlat ("IVF<nlist>,Flat") and IndexIVFScalarQuantizer ("IVF<nlist>,SQ8") on the WASM
 * backend. Training is FAISS's k-means (kmeans.ts; spherical for inner product, as index_factory
 * sets it); each vector goes to the list of its nearest centroid; a search visits the `nprobe`
 * nearest lists (per call) and scans them exactly (Flat) or on SQ8 codes. SQ8 lists encode the
 * residual x - centroid (FAISS's by_residual default), with FAISS's codec, so files interoperate.
 * Lists live in one WebAssembly memory (at most 4 GiB: shards.ts splits larger indexes).
 */
import { TesseraError } from '../core/errors.js';
import { type IndexOptions, type IndexSpec, registerIndexType } from '../core/factory.js';
import { emptyResult } from '../core/topk.js';
import type { ByteSink, ByteSource, Index, Metric, ProgressCallback, SearchOptions, SearchResult } from '../core/types.js';
import { checkSearch, checkVectors } from '../core/validate.js';
import { openSink } from '../platform.js';
import { ByteReader } from '../io/byte-reader.js';
import { encodeIvfHead, IVF_FLAT_FOURCC, IVF_SQ_FOURCC, readIvfLayout } from '../io/faiss/ivf.js';
import { dotRows, kmeans, nearestCentroids, rowNorms } from './kmeans.js';
import { type CodeHeap, readSourceInto, scanSq8, Sq8Codec, TopKHeap, WasmArena } from './sq-index.js';

export type IvfStorage = 'flat' | 'sq8';

/** Inverted lists in a CodeHeap: per list a codes block and an int32 ids block, grown x1.5. */
export class InvertedLists {
  readonly sizes: Float64Array;
  readonly caps: Float64Array;
  readonly codePtr: Float64Array;
  readonly idPtr: Float64Array;

  constructor(
    readonly nlist: number,
    readonly codeSize: number,
    readonly heap: CodeHeap,
  ) {
    this.sizes = new Float64Array(nlist);
    this.caps = new Float64Array(nlist);
    this.codePtr = new Float64Array(nlist);
    this.idPtr = new Float64Array(nlist);
  }

  /** Makes room for extra[i] more entries in list i. */
  reserve(extra: ArrayLike<number>, exact = false): void {
    for (let l = 0; l < this.nlist; l++) {
      const need = this.sizes[l]! + extra[l]!;
      if (need <= this.caps[l]!) continue;
      const cap = exact || this.caps[l] === 0 ? need : Math.max(need, Math.ceil(this.caps[l]! * 1.5));
      const size = this.sizes[l]!;
      this.codePtr[l] = this.caps[l] === 0 ? this.heap.alloc(cap * this.codeSize) : this.heap.realloc(this.codePtr[l]!, size * this.codeSize, cap * this.codeSize);
      this.idPtr[l] = this.caps[l] === 0 ? this.heap.alloc(cap * 4) : this.heap.realloc(this.idPtr[l]!, size * 4, cap * 4);
      this.caps[l] = cap;
    }
  }

  get bytes(): Uint8Array {
    return new Uint8Array(this.heap.memory.buffer);
  }

  /** Bytes reserved for codes and ids. */
  get reservedBytes(): number {
    let s = 0;
    for (let l = 0; l < this.nlist; l++) s += this.caps[l]! * (this.codeSize + 4);
    return s;
  }

  release(): void {
    for (let l = 0; l < this.nlist; l++) {
      if (this.caps[l] === 0) continue;
      this.heap.release(this.codePtr[l]!);
      this.heap.release(this.idPtr[l]!);
      this.caps[l] = 0;
      this.sizes[l] = 0;
    }
  }
}

export interface IvfIndexOptions extends IndexOptions {
  /** k-means iterations (FAISS IVF default 10). */
  niter?: number;
  /** Where the lists live; default a fresh WebAssembly memory. */
  heap?: CodeHeap;
}

export class WasmIvfIndex implements Index {
  readonly backend = 'wasm' as const;
  ntotal = 0;
  /** nlist x d coarse centroids, once trained. */
  centroids: Float32Array | undefined;
  codec: Sq8Codec | undefined;
  /** SQ8 lists hold x - centroid (FAISS IndexIVFScalarQuantizer's default); Flat lists hold x. */
  byResidual: boolean;
  nprobe: number;
  private centroidNorms: Float32Array | undefined;
  private lists: InvertedLists;
  private disposed = false;
  private readonly seed: number;
  private readonly niter: number;
  private readonly onProgress: ProgressCallback | undefined;

  constructor(
    readonly d: number,
    readonly nlist: number,
    readonly storage: IvfStorage,
    readonly metric: Metric,
    opts: IvfIndexOptions = {},
  ) {
    this.byResidual = storage === 'sq8';
    this.nprobe = opts.nprobe ?? 1;
    this.seed = opts.seed ?? 1234;
    this.niter = opts.niter ?? 10;
    this.onProgress = opts.onProgress;
    this.lists = new InvertedLists(nlist, storage === 'flat' ? 4 * d : d, opts.heap ?? new WasmArena(`IVF${nlist},${storage === 'flat' ? 'Flat' : 'SQ8'} index`));
  }

  get description(): string {
    return `IVF${this.nlist},${this.storage === 'flat' ? 'Flat' : 'SQ8'}`;
  }

  get isTrained(): boolean {
    return this.centroids !== undefined && (this.storage === 'flat' || this.codec !== undefined);
  }

  /** Bytes of WebAssembly memory reserved for lists plus the centroids. */
  get memoryBytes(): number {
    return this.lists.reservedBytes + (this.centroids?.byteLength ?? 0);
  }

  /** Vectors in each list (a copy). */
  listSizes(): Float64Array {
    return this.lists.sizes.slice();
  }

  private live(): void {
    if (this.disposed) throw new TesseraError('INVALID_ARGUMENT', 'this index was disposed: create or load it again');
  }

  /** Sets trained parameters (from a file, or another shard's training). */
  setTrained(centroids: Float32Array, codec?: Sq8Codec, byResidual = this.byResidual): void {
    if (centroids.length !== this.nlist * this.d) {
      throw new TesseraError('INVALID_ARGUMENT', `centroids must be nlist x d = ${this.nlist} x ${this.d}, got ${centroids.length} values`);
    }
    this.centroids = centroids;
    this.centroidNorms = rowNorms(centroids, this.d);
    this.codec = codec;
    this.byResidual = byResidual;
  }

  async train(x: Float32Array): Promise<void> {
    this.live();
    const n = checkVectors(x, this.d, 'training vectors');
    if (n < this.nlist) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `IVF${this.nlist} needs at least nlist = ${this.nlist} training vectors (FAISS recommends 39 x nlist or more), got ${n}: train on more vectors or use a smaller nlist`,
      );
    }
    const centroids = kmeans(x, this.d, this.nlist, this.metric, {
      niter: this.niter,
      seed: this.seed,
      spherical: this.metric === 'ip',
      onProgress: this.onProgress,
    });
    let codec: Sq8Codec | undefined;
    if (this.storage === 'sq8') {
      // The codec learns the ranges of what the lists store: residuals to the assigned centroid.
      const assign = new Int32Array(n);
      nearestCentroids(x, this.d, centroids, this.metric, assign);
      const res = new Float32Array(x.length);
      for (let i = 0; i < n; i++) {
        const c = assign[i]! * this.d;
        for (let j = 0; j < this.d; j++) res[i * this.d + j] = x[i * this.d + j]! - centroids[c + j]!;
      }
      codec = Sq8Codec.train(res, this.d);
    }
    this.setTrained(centroids, codec, this.storage === 'sq8');
  }

  /** The list of each row of x (nearest centroid). */
  assign(x: Float32Array): Int32Array {
    const n = x.length / this.d;
    const out = new Int32Array(n);
    nearestCentroids(x, this.d, this.centroids!, this.metric, out, undefined, this.centroidNorms);
    return out;
  }

  async add(x: Float32Array): Promise<void> {
    this.live();
    const n = checkVectors(x, this.d, 'vectors to add');
    if (!this.isTrained) throw new TesseraError('NOT_TRAINED', `${this.description} is not trained: call train(x) with representative vectors (>= nlist) before add`);
    const assign = this.assign(x);
    this.addAssigned(x, assign, this.ntotal);
    this.ntotal += n;
  }

  /** Adds rows of x to the given lists with ids firstId, firstId + 1, ... (ntotal is the caller's to update). */
  addAssigned(x: Float32Array, assign: Int32Array, firstId: number): void {
    const d = this.d;
    const n = assign.length;
    const counts = new Float64Array(this.nlist);
    for (let i = 0; i < n; i++) counts[assign[i]!]!++;
    const L = this.lists;
    L.reserve(counts);
    const bytes = L.bytes;
    const f32 = new Float32Array(bytes.buffer);
    const i32 = new Int32Array(bytes.buffer);
    const cs = L.codeSize;
    for (let i = 0; i < n; i++) {
      const l = assign[i]!;
      const slot = L.sizes[l]!;
      const at = L.codePtr[l]! + slot * cs;
      if (this.storage === 'flat') f32.set(x.subarray(i * d, i * d + d), at >> 2);
      else this.codec!.encode(x, i, bytes, at, this.byResidual ? this.centroids : undefined, l);
      i32[(L.idPtr[l]! >> 2) + slot] = firstId + i;
      L.sizes[l] = slot + 1;
      if (this.onProgress && (i & 0xffff) === 0xffff) this.onProgress({ phase: 'adding', done: i + 1, total: n, unit: 'vectors' });
    }
  }

  /** The nprobe lists nearest q (row qi), best first, with the coarse distances (ip: q.c; l2: |q - c|^2). */
  probe(q: Float32Array, qi: number, nprobe: number, heap: TopKHeap, lists: Int32Array, dis: Float32Array): number {
    const d = this.d;
    const c = this.centroids!;
    const norms = this.centroidNorms!;
    let qn = 0;
    if (this.metric === 'l2') for (let j = qi * d; j < qi * d + d; j++) qn += q[j]! * q[j]!;
    heap.reset();
    for (let l = 0; l < this.nlist; l++) {
      const ip = dotRows(q, qi * d, c, l * d, d);
      heap.push(this.metric === 'ip' ? ip : Math.max(0, qn + norms[l]! - 2 * ip), l);
    }
    const m = heap.size;
    const order = Array.from({ length: m }, (_, i) => i);
    const s = this.metric === 'ip' ? 1 : -1;
    order.sort((a, b) => s * (heap.dist[b]! - heap.dist[a]!) || heap.label[a]! - heap.label[b]!);
    for (let i = 0; i < m; i++) {
      lists[i] = heap.label[order[i]!]!;
      dis[i] = heap.dist[order[i]!]!;
    }
    heap.reset();
    return Math.min(m, nprobe);
  }

  async search(q: Float32Array, k: number, opts: SearchOptions = {}): Promise<SearchResult> {
    this.live();
    const nq = checkSearch(q, k, this.d, this.ntotal);
    const nprobe = opts.nprobe ?? this.nprobe;
    if (!Number.isInteger(nprobe) || nprobe < 1) throw new TesseraError('INVALID_ARGUMENT', `nprobe must be an integer >= 1, got ${String(nprobe)}`);
    const np = Math.min(nprobe, this.nlist);
    const out = emptyResult(nq, k, this.metric);
    const heap = new TopKHeap(k, this.metric);
    const coarse = new TopKHeap(np, this.metric);
    const lists = new Int32Array(np);
    const dis = new Float32Array(np);
    const d = this.d;
    const L = this.lists;
    const bytes = L.bytes;
    const f32 = new Float32Array(bytes.buffer);
    const i32 = new Int32Array(bytes.buffer);
    const w = new Float32Array(d);
    const a = new Float32Array(d);
    const r = new Float32Array(d);
    for (let qi = 0; qi < nq; qi++) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('aborted');
      const m = this.probe(q, qi, np, coarse, lists, dis);
      let qbias = 0;
      if (this.storage === 'sq8' && (this.metric === 'ip' || !this.byResidual)) qbias = this.codec!.queryTables(q, qi * d, this.metric, w, a);
      for (let p = 0; p < m; p++) {
        const l = lists[p]!;
        const size = L.sizes[l]!;
        if (size === 0) continue;
        const ids = L.idPtr[l]! >> 2;
        if (this.storage === 'flat') {
          scanFlat(f32, L.codePtr[l]! >> 2, size, q, qi * d, d, this.metric, heap, i32, ids);
        } else if (this.metric === 'ip') {
          // q.(c + r) = q.c + q.r: the coarse score is the list's bias.
          scanSq8(bytes, L.codePtr[l]!, size, d, 'ip', w, a, qbias + (this.byResidual ? dis[p]! : 0), heap, i32, ids, 0);
        } else {
          if (this.byResidual) {
            const c = this.centroids!;
            for (let j = 0; j < d; j++) r[j] = q[qi * d + j]! - c[l * d + j]!;
            this.codec!.queryTables(r, 0, 'l2', w, a);
          }
          scanSq8(bytes, L.codePtr[l]!, size, d, 'l2', w, a, 0, heap, i32, ids, 0);
        }
      }
      heap.drainInto(out, qi);
    }
    return out;
  }

  async save(target: string | ByteSink): Promise<void> {
    this.live();
    const d = this.d;
    const sink = await openSink(target);
    try {
      const L = this.lists;
      await sink.write(
        encodeIvfHead({
          d,
          metric: this.metric,
          ntotal: this.ntotal,
          nprobe: this.nprobe,
          centroids: this.centroids ?? new Float32Array(0),
          sqTrained: this.storage === 'sq8' ? (this.codec?.trained ?? new Float32Array(0)) : undefined,
          byResidual: this.byResidual,
          isTrained: this.isTrained,
          listSizes: L.sizes,
        }),
      );
      for (let l = 0; l < this.nlist; l++) {
        const size = L.sizes[l]!;
        if (size === 0) continue;
        const step = Math.max(1, Math.floor((8 << 20) / L.codeSize));
        for (let o = 0; o < size; o += step) {
          const e = Math.min(size, o + step);
          await sink.write(L.bytes.slice(L.codePtr[l]! + o * L.codeSize, L.codePtr[l]! + e * L.codeSize));
        }
        const ids = new BigInt64Array(size);
        const src = new Int32Array(L.bytes.buffer, L.idPtr[l]!, size);
        for (let i = 0; i < size; i++) ids[i] = BigInt(src[i]!);
        await sink.write(new Uint8Array(ids.buffer));
      }
    } catch (e) {
      await (sink as { abort?: () => Promise<void> }).abort?.();
      throw e;
    }
    await sink.close();
  }

  /** Internal: the lists (for loaders and shards). */
  invertedLists(): InvertedLists {
    return this.lists;
  }

  async dispose(): Promise<void> {
    if (!this.disposed) this.lists.release();
    this.disposed = true;
  }
}

/** Scans n float32 rows at f32[at] (row stride d) against query q[qo..] into heap with ids i32[idsAt + i]. */
export function scanFlat(
  f32: Float32Array,
  at: number,
  n: number,
  q: Float32Array,
  qo: number,
  d: number,
  metric: Metric,
  heap: TopKHeap,
  i32: Int32Array,
  idsAt: number,
): void {
  for (let i = 0; i < n; i++) {
    const o = at + i * d;
    let s0 = 0;
    let s1 = 0;
    let j = 0;
    if (metric === 'ip') {
      for (; j + 1 < d; j += 2) {
        s0 += f32[o + j]! * q[qo + j]!;
        s1 += f32[o + j + 1]! * q[qo + j + 1]!;
      }
      if (j < d) s0 += f32[o + j]! * q[qo + j]!;
    } else {
      for (; j + 1 < d; j += 2) {
        const t0 = f32[o + j]! - q[qo + j]!;
        const t1 = f32[o + j + 1]! - q[qo + j + 1]!;
        s0 += t0 * t0;
        s1 += t1 * t1;
      }
      if (j < d) {
        const t = f32[o + j]! - q[qo + j]!;
        s0 += t * t;
      }
    }
    const dist = Math.fround(s0 + s1);
    const label = i32[idsAt + i]!;
    if (heap.accepts(dist, label)) heap.push(dist, label);
  }
}

/** Reads an IwFl / IwSq file into a WASM IVF index, streaming list contents into its memory. */
export async function loadIvfIndex(source: ByteSource, opts: IvfIndexOptions = {}, label = 'index file'): Promise<WasmIvfIndex> {
  const r = new ByteReader(source, 0, label);
  const fourcc = await r.fourcc();
  if (fourcc !== IVF_FLAT_FOURCC && fourcc !== IVF_SQ_FOURCC) {
    throw r.error(`expected an IVF index ("${IVF_FLAT_FOURCC}" or "${IVF_SQ_FOURCC}"), found ${JSON.stringify(fourcc)}`, 0);
  }
  const layout = await readIvfLayout(r, fourcc);
  const index = new WasmIvfIndex(layout.d, layout.nlist, fourcc === IVF_SQ_FOURCC ? 'sq8' : 'flat', layout.metric, { nprobe: layout.nprobe, ...opts });
  if (layout.centroids.length === layout.nlist * layout.d) {
    const codec = layout.sq && layout.sq.trained.length === 2 * layout.d ? new Sq8Codec(layout.d, layout.sq.trained) : undefined;
    if (fourcc === IVF_FLAT_FOURCC || codec) index.setTrained(layout.centroids, codec, layout.byResidual);
  }
  const L = index.invertedLists();
  L.reserve(layout.listSizes, true);
  const cs = layout.codeSize;
  let done = 0;
  for (let l = 0; l < layout.nlist; l++) {
    const size = layout.listSizes[l]!;
    if (size === 0) continue;
    const at = layout.listOffsets[l]!;
    await readSourceInto(source, at, size * cs, L.bytes, L.codePtr[l]!, label);
    const raw = new Uint8Array(size * 8);
    await readSourceInto(source, at + size * cs, size * 8, raw, 0, label);
    const ids = new BigInt64Array(raw.buffer);
    const dst = new Int32Array(L.bytes.buffer, L.idPtr[l]!, size);
    for (let i = 0; i < size; i++) {
      const id = ids[i]!;
      if (id < 0n || id > 0x7fffffffn) {
        throw new TesseraError(
          'UNSUPPORTED',
          `${label}: list ${l} holds id ${id} at byte offset ${at + size * cs + 8 * i}: tessera serves ids in [0, 2^31) (sequential ids as faiss.Index.add gives)`,
        );
      }
      dst[i] = Number(id);
    }
    L.sizes[l] = size;
    done += size;
    opts.onProgress?.({ phase: 'loading index', done, total: layout.ntotal, unit: 'vectors' });
  }
  index.ntotal = layout.ntotal;
  return index;
}

/** Factory entry for "IVF<nlist>,Flat" and "IVF<nlist>,SQ8". */
export async function createIvfIndex(d: number, spec: IndexSpec, metric: Metric, opts: IndexOptions): Promise<Index> {
  if (spec.kind !== 'ivf') throw new TesseraError('INVALID_ARGUMENT', `createIvfIndex got a ${spec.kind} spec`);
  return new WasmIvfIndex(d, spec.nlist, spec.storage, metric, opts);
}

registerIndexType('wasm', 'ivf', { create: createIvfIndex, load: (source, opts) => loadIvfIndex(source, opts) });
