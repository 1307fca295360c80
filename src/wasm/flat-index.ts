/**
 * Exact flat search on the CPU in WebAssembly (SIMD128), FAISS IndexFlatIP / IndexFlatL2 semantics:
 * vectors live in the module's linear memory, queries are scored in batches by native/flat.c, and
 * the query batches are spread over worker threads when the runtime shares memory between them.
 */
import { orderCalls } from '../core/call-order.js';
import { TesseraError } from '../core/errors.js';
import type { IndexOptions } from '../core/factory.js';
import { concatResults } from '../core/topk.js';
import type { ByteSink, ByteSource, Index, Metric, SearchOptions, SearchResult } from '../core/types.js';
import { MAX_K, checkFileRows, checkSearch, checkVectorShape, checkVectors, raiseDimMaxima } from '../core/validate.js';
import { sourceLabel } from '../io/byte-reader.js';
import { type FlatLayout, readFlatLayout, streamFlatRows, writeFlatIndex } from '../io/faiss/flat.js';
import { WasmHeap, growWithSlack } from './module.js';
import { type DedicatedOptions, QUERY_GROUP, type WorkerPool, abortableBatch, acquirePool, breather, checkAbort, forRowPieces, groupedBatch, threadPlan } from './worker-pool.js';

/** Bytes of queries + results handled per native call: bounds temporary memory for any nq and k. */
const BATCH_BYTES = 32 << 20;

export class WasmFlatIndex implements Index {
  readonly backend = 'wasm' as const;
  readonly description = 'Flat';
  readonly isTrained = true;
  private n = 0;
  private capacity = 0;
  private base = 0;
  private disposed = false;
  /** Each dimension's largest magnitude over the rows: searches whose scores could overflow float32 are refused. */
  private readonly dimMax: Float64Array;

  private constructor(
    readonly d: number,
    readonly metric: Metric,
    private readonly heap: WasmHeap,
    private readonly pool: WorkerPool | undefined,
  ) {
    this.dimMax = new Float64Array(d);
  }

  /** `dedicated`: every native call runs on workers of this index's own (a shard, src/wasm/shards.ts). */
  static async create(d: number, metric: Metric, opts: IndexOptions & DedicatedOptions = {}): Promise<WasmFlatIndex> {
    const { threads, shared, dedicated } = threadPlan(opts);
    const heap = await WasmHeap.create(shared, opts.memoryLimit);
    const pool = shared ? await acquirePool(heap, threads, dedicated) : undefined;
    // Its calls wait for each other (core/call-order.ts), as WasmIvfIndex's and WasmSqIndex's: an add
    // pauses between pieces while it writes rows from ntotal, so a second add started meanwhile wrote
    // over them, and dispose returned under it. Shards, a sharded index's shard(i) and direct callers
    // reach this class without the factory's wrapper. No method calls another of
    // train/add/search/save/dispose on itself (it would wait for itself).
    return orderCalls(new WasmFlatIndex(d, metric, heap, pool));
  }

  /**
   * Reads a FAISS IndexFlatIP/L2 file, streaming rows straight into WebAssembly memory; `rows`: only
   * rows [firstRow, firstRow + rowCount) (a shard of a file larger than one memory, src/wasm/shards.ts);
   * `layout`: the file's header as a caller already read it (the shard loader), so it is not read again.
   */
  static async load(
    source: ByteSource,
    opts: IndexOptions & DedicatedOptions = {},
    rows: { firstRow: number; rowCount: number } | undefined = undefined,
    layout?: FlatLayout,
  ): Promise<WasmFlatIndex> {
    const label = sourceLabel(source);
    layout ??= await readFlatLayout(source, 0, label);
    const first = rows?.firstRow ?? 0;
    const count = rows?.rowCount ?? layout.ntotal;
    const index = await WasmFlatIndex.create(layout.d, layout.metric, opts);
    try {
      index.reserve(count);
      for await (const chunk of streamFlatRows(source, layout, { label, onProgress: opts.onProgress, phase: 'loading index', firstRow: first, rowCount: count })) {
        index.heap.f32(index.base + (chunk.start - first) * layout.d * 4, chunk.data.length).set(chunk.data);
        if (!raiseDimMaxima(index.dimMax, chunk.data, layout.d)) checkFileRows(chunk.data, layout.d, chunk.start, label);
        index.n = chunk.start - first + chunk.count;
      }
    } catch (e) {
      await index.dispose();
      throw e;
    }
    return index;
  }

  get ntotal(): number {
    return this.n;
  }

  /** Bytes the WebAssembly memory of this index has grown to (what the process pays). */
  get wasmMemoryBytes(): number {
    return this.heap.memory.buffer.byteLength;
  }

  /** Flat needs no training: the vectors are only checked, in pieces with pauses as add's. */
  async train(x: Float32Array): Promise<void> {
    this.live();
    checkVectorShape(x, this.d, 'training vectors');
    await forRowPieces(x, this.d, breather(), (p, row) => checkVectors(p, this.d, 'training vectors', row));
  }

  async add(x: Float32Array): Promise<void> {
    this.live();
    checkVectorShape(x, this.d, 'vectors to add');
    const d = this.d;
    // In pieces with pauses, as IVF and SQ8 adds: whole, an add of millions of rows held the event
    // loop for seconds (a server's /retrieve, a progress bar, Ctrl-C's handler). Each piece is
    // checked (its maxima and finiteness in one pass) and copied at once, past ntotal: a caller
    // changing x during the pauses cannot put a row in that was not checked, as a check of all the
    // rows then a copy of all did. ntotal moves at the end: the rows are searched all together or
    // not at all (a bad row leaves the index as it was, its memory grown).
    const m = x.length / d;
    this.reserve(this.n + m);
    const dimMax = this.dimMax.slice();
    await forRowPieces(x, d, breather(), (p, row) => {
      if (!raiseDimMaxima(dimMax, p, d)) checkVectors(p, d, 'vectors to add', row);
      // A view taken afresh each piece (heap.f32): a grown non-shared memory detaches older ones.
      this.heap.f32(this.base + (this.n + row) * d * 4, p.length).set(p);
    });
    this.dimMax.set(dimMax);
    this.n += m;
  }

  /** Grows the vector array to hold `rows` rows (x1.5, or exactly `rows` where the slack does not fit). */
  private reserve(rows: number): void {
    if (rows <= this.capacity) return;
    const slack = Math.max(rows, Math.min(Math.ceil(this.capacity * 1.5), Math.floor(2 ** 32 / (this.d * 4))));
    this.capacity = growWithSlack(rows, slack, (cap) => {
      this.base = this.heap.realloc(this.base, this.n * this.d * 4, cap * this.d * 4);
    });
  }

  async search(q: Float32Array, k: number, opts: SearchOptions = {}): Promise<SearchResult> {
    this.live();
    const nq = checkSearch(q, k, this.d, this.n, MAX_K, '', [{ metric: this.metric, dimMax: this.dimMax }]);
    const perQuery = this.d * 4 + k * 8 + 4;
    let batch = Math.max(1, Math.min(nq, Math.floor(BATCH_BYTES / perQuery)));
    // A signal is looked at between batches: keep each short (the pool splits a batch by queries).
    if (opts.signal) batch = Math.min(batch, abortableBatch(this.n * this.d) * (this.pool?.size ?? 1));
    batch = groupedBatch(batch, nq);
    const parts: SearchResult[] = [];
    for (let q0 = 0; q0 < nq; q0 += batch) {
      await checkAbort(opts.signal, q0 > 0);
      parts.push(await this.searchBatch(q.subarray(q0 * this.d, Math.min(nq, q0 + batch) * this.d), k));
    }
    await checkAbort(opts.signal, false);
    return parts.length === 1 ? parts[0]! : concatResults(parts, k);
  }

  private async searchBatch(q: Float32Array, k: number): Promise<SearchResult> {
    const d = this.d;
    const nq = q.length / d;
    const heap = this.heap;
    const qp = heap.alloc(q.length * 4);
    const dp = heap.alloc(nq * k * 4);
    const ip = heap.alloc(nq * k * 4);
    const fp = heap.alloc(nq * 4);
    try {
      heap.f32(qp, q.length).set(q);
      const metric = this.metric === 'ip' ? 0 : 1;
      const call = (from: number, to: number) =>
        [this.base, this.n, d, qp + from * d * 4, to - from, k, metric, 0, dp + from * k * 4, ip + from * k * 4, fp + from * 4] as const;
      if (this.pool && (nq > 1 || this.pool.dedicated)) {
        await this.pool.parallelFor(nq, (from, to) => ({ fn: 'flat_search', args: [...call(from, to)] }), QUERY_GROUP);
      } else {
        heap.exports.flat_search(...call(0, nq));
      }
      return heap.result(dp, ip, nq, k);
    } finally {
      heap.release(fp);
      heap.release(ip);
      heap.release(dp);
      heap.release(qp);
    }
  }

  /** Writes a FAISS IndexFlatIP ("IxFI") or IndexFlatL2 ("IxF2") file. */
  async save(target: string | ByteSink): Promise<void> {
    this.live();
    await writeFlatIndex(target, this.d, this.metric, this.n, this.rowChunks());
  }

  /** Copies of the rows in order, about 16 MiB at a time (a sharded save writes every shard's). */
  rowChunks(): Generator<Float32Array> {
    this.live();
    return this.heap.f32RowChunks(() => this.base, this.d, this.n);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.pool?.release();
  }

  private live(): void {
    if (this.disposed) throw new TesseraError('INVALID_ARGUMENT', 'this index was disposed: create or load a new one');
  }
}
