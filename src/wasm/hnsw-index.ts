/**
 * HNSW on the CPU in WebAssembly with FAISS IndexHNSWFlat semantics (native/hnsw.c does the graph
 * work): M neighbours per upper level and 2M on level 0, efConstruction at build, efSearch per call,
 * FAISS's level assignment (mt19937 seeded 12345, mL = 1/ln M) and insertion order, IP and L2.
 *
 * The graph lives in the module's memory in FAISS's own arrays (levels, offsets, neighbors), so
 * `graph()` hands src/io/faiss/hnsw.ts exactly what an "IHNf" file holds and `fromGraph` maps a file
 * back without reshaping. Adds run across worker threads when memory can be shared (one level
 * bucket at a time, as FAISS's OpenMP loop); with threads: 1 a build is deterministic for a seed.
 */
import { orderCalls } from '../core/call-order.js';
import { TesseraError } from '../core/errors.js';
import type { IndexOptions } from '../core/factory.js';
import { concatResults } from '../core/topk.js';
import type { ByteSink, ByteSource, Index, Metric, SearchOptions, SearchResult } from '../core/types.js';
import { MAX_K, checkFileRows, checkScoreRange, checkSearch, checkVectors, describeArg, raiseDimMaxima } from '../core/validate.js';
import { ByteReader, sourceLabel } from '../io/byte-reader.js';
import { streamFlatRows } from '../io/faiss/flat.js';
import { checkHnswGraph, HNSW_FLAT_FOURCC, type HnswGraph, readHnswLayout, readHnswNeighbors, writeHnswFlatTo } from '../io/faiss/hnsw.js';
import { openSink } from '../platform.js';
import { WasmHeap } from './module.js';
import { type DedicatedOptions, type WorkerPool, abortableBatch, acquirePool, checkAbort, threadPlan } from './worker-pool.js';

/** FAISS defaults (IndexHNSW: efConstruction 40, efSearch 16; HNSW rng seed 12345, insertion shuffle seed 789). */
export const HNSW_DEFAULTS = { efConstruction: 40, efSearch: 16, seed: 12345 } as const;
/** Largest efSearch / efConstruction taken (beam scratch is sized by it). */
const EF_MAX = 1 << 16;
const PERMUTATION_SEED = 789;
/** Queries per native call: bounds the result buffers and lets a long search be aborted between calls. */
const SEARCH_BATCH = 4096;
/** FAISS parallelises a level bucket only above 100 nodes (omp parallel if (i1 > i0 + 100)). */
const PARALLEL_MIN = 100;
/**
 * Work per native call: V8 first runs WebAssembly in its baseline tier and swaps in optimised code
 * only at the next call of a function (no on-stack replacement), so one long call would run
 * unoptimised to the end. Short calls (tens of queries, a few hundred inserts) reach optimised code
 * within milliseconds; each call costs well under a microsecond (a round trip for a worker).
 */
const SEARCH_CALL = 32;
const ADD_CALL = 256;

// Word offsets of the C struct hnsw_t (native/hnsw.c; its _Static_asserts pin the layout).
const W = { d: 0, M: 1, metric: 2, ntotal: 3, maxLevel: 4, entryPoint: 5, efConstruction: 6, nlevels: 7, vectors: 8, levels: 9, offsets: 10, neighbors: 11, locks: 12, globalLock: 13, counter: 14, cum: 16 } as const;
const PROBAS_BYTE = 192;
/** Byte offset of the level-0 slot array pointer (2M slots per node at a fixed stride). */
const L0_BYTE = 2944;
/** Entries of the C struct's cum array: levels 0..MAX_LEVELS-1 need MAX_LEVELS + 1 of them, so at most 31 levels. */
const MAX_LEVELS = 32;

export interface HnswIndexOptions extends IndexOptions, DedicatedOptions {
  efConstruction?: number;
  efSearch?: number;
}

/**
 * FAISS HNSW::set_default_probas(M, 1/ln M), with FAISS's mix of float and double arithmetic: level l gets
 * probability exp(-l/mL)(1 - exp(-1/mL)) while that is >= 1e-9; cum holds the slot offsets per level.
 */
export function defaultLevelProbas(M: number): { assignProbas: Float64Array; cumNneighborPerLevel: Int32Array } {
  const f = Math.fround;
  const levelMult = f(1 / Math.log(M));
  const probas: number[] = [];
  const cum = [0];
  for (let level = 0; ; level++) {
    // float operands, double exp (C's exp), stored as float: as FAISS computes it
    const proba = f(Math.exp(f(-level / levelMult)) * (1 - Math.exp(f(-1 / levelMult))));
    if (proba < 1e-9) break;
    probas.push(proba);
    cum.push(cum[cum.length - 1]! + (level === 0 ? 2 * M : M));
  }
  return { assignProbas: Float64Array.from(probas), cumNneighborPerLevel: Int32Array.from(cum) };
}

function checkPositiveInt(value: unknown, name: string, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw new TesseraError('INVALID_ARGUMENT', `${name} must be an integer in [1, ${max}], got ${describeArg(value)}`);
  }
  return value;
}

interface Exports {
  hnsw_struct_bytes(): number;
  hnsw_seed(h: number, seed: number): void;
  hnsw_assign_levels(h: number, n0: number, n: number): number;
  hnsw_fill_offsets(h: number, n0: number, n: number): number;
  hnsw_make_order(h: number, n0: number, n: number, order: number, hist: number, mt2: number, seed: number): number;
  hnsw_scratch_bytes(capacity: number, ef: number, M: number): number;
  hnsw_add_range(h: number, order: number, i0: number, i1: number, level: number, scratch: number, nodes: number, shared: number): void;
  hnsw_search(h: number, queries: number, nq: number, k: number, efSearch: number, outD: number, outI: number, scratch: number, nodes: number): void;
}

/** Per-thread work memory (visited stamps and heaps); its first word carries the visited epoch. */
interface Scratch {
  ptr: number;
  bytes: number;
  /** Nodes its visited array covers: fixes the buffer's layout, so it is passed to every call. */
  nodes: number;
}

/** One work buffer per thread, shared by the calls in flight that took it (see takeScratch). */
interface ScratchSet {
  buffers: Scratch[];
  /** Calls in flight using these buffers. */
  users: number;
  /** Replaced by a larger set: freed when its last user gives it back. */
  retired: boolean;
}

export class WasmHnswIndex implements Index {
  readonly backend = 'wasm' as const;
  readonly isTrained = true;
  readonly description: string;
  /** Default efSearch when a search passes none (FAISS hnsw.efSearch). */
  efSearch: number;
  private readonly h: number;
  private capacity = 0;
  private slotCapacity = 0;
  private scratch: ScratchSet | undefined;
  private disposed = false;
  /** Each dimension's largest magnitude over the rows: searches whose scores could overflow float32 are refused. */
  private readonly dimMax: Float64Array;

  private constructor(
    readonly d: number,
    readonly M: number,
    readonly metric: Metric,
    private readonly heap: WasmHeap,
    private readonly pool: WorkerPool | undefined,
    efConstruction: number,
    efSearch: number,
    seed: number,
  ) {
    this.description = `HNSW${M}`;
    this.efSearch = efSearch;
    this.dimMax = new Float64Array(d);
    const x = heap.exports as unknown as Exports;
    this.h = heap.alloc(x.hnsw_struct_bytes());
    heap.u8(this.h, x.hnsw_struct_bytes()).fill(0);
    const w = this.words();
    w[W.d] = d;
    w[W.M] = M;
    w[W.metric] = metric === 'ip' ? 0 : 1;
    w[W.maxLevel] = -1;
    w[W.entryPoint] = -1;
    w[W.efConstruction] = efConstruction;
    const { assignProbas, cumNneighborPerLevel } = defaultLevelProbas(M);
    this.setLevelTable(assignProbas, cumNneighborPerLevel);
    x.hnsw_seed(this.h, seed >>> 0);
  }

  /** An empty index; threads default to all cores where memory can be shared with workers. */
  static async create(d: number, M: number, metric: Metric, opts: HnswIndexOptions = {}): Promise<WasmHnswIndex> {
    checkPositiveInt(M, 'HNSW M', 512);
    if (M < 2) throw new TesseraError('INVALID_ARGUMENT', `HNSW M must be >= 2, got ${M}`);
    const efConstruction = checkPositiveInt(opts.efConstruction ?? HNSW_DEFAULTS.efConstruction, 'efConstruction', EF_MAX);
    const efSearch = checkPositiveInt(opts.efSearch ?? HNSW_DEFAULTS.efSearch, 'efSearch', EF_MAX);
    const seed = opts.seed ?? HNSW_DEFAULTS.seed;
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new TesseraError('INVALID_ARGUMENT', `seed must be an integer in [0, 2^32), got ${String(seed)}`);
    }
    const { threads, shared, dedicated } = threadPlan(opts);
    const heap = await WasmHeap.create(shared);
    const pool = shared ? await acquirePool(heap, threads, dedicated) : undefined;
    const index = new WasmHnswIndex(d, M, metric, heap, pool, efConstruction, efSearch, seed);
    index.onProgress = opts.onProgress;
    // Public (the package exports the class): its calls wait for each other as the factory's do.
    return orderCalls(index);
  }

  /**
   * An index over an existing graph (e.g. read from a FAISS file): arrays as src/io/faiss/hnsw.ts
   * describes them, `vectors` ntotal x d. Further adds continue the graph.
   */
  static async fromGraph(d: number, metric: Metric, graph: HnswGraph, vectors: Float32Array | AsyncIterable<{ start: number; data: Float32Array }>, opts: HnswIndexOptions = {}): Promise<WasmHnswIndex> {
    supportedM(graph);
    checkHnswGraph(graph);
    return WasmHnswIndex.adoptGraph(d, metric, graph, vectors, opts);
  }

  /** fromGraph for a graph already checked (checkHnswGraph: by fromGraph, or by the file reader with byte offsets). */
  private static async adoptGraph(d: number, metric: Metric, graph: HnswGraph, vectors: Float32Array | AsyncIterable<{ start: number; data: Float32Array }>, opts: HnswIndexOptions, label = 'graph vectors'): Promise<WasmHnswIndex> {
    const cum = graph.cumNneighborPerLevel;
    const M = supportedM(graph);
    const index = await WasmHnswIndex.create(d, M, metric, {
      ...opts,
      ...storedEfs(opts, graph, label),
    });
    try {
      const n = graph.levels.length;
      index.setLevelTable(graph.assignProbas, cum);
      const slots = graph.offsets[n]!;
      if (slots >= 2 ** 31 / 4) throw new TesseraError('OUT_OF_MEMORY', `the HNSW graph has ${slots} neighbour slots: more than one 4 GiB WebAssembly memory holds`);
      index.reserve(0, n, 0, slots);
      const heap = index.heap;
      const w = index.words();
      heap.i32(w[W.levels]!, n).set(graph.levels);
      new Uint32Array(heap.memory.buffer, w[W.offsets]!, n + 1).set(graph.offsets);
      const off = graph.offsets;
      heap.i32(w[W.neighbors]!, slots).set(graph.neighbors);
      // level 0 moves to its fixed-stride array (see slots() in native/hnsw.c)
      const l0 = heap.i32(index.l0Ptr(), n * 2 * M);
      for (let i = 0; i < n; i++) l0.set(graph.neighbors.subarray(off[i]!, off[i]! + 2 * M), i * 2 * M);
      if (vectors instanceof Float32Array) {
        if (vectors.length !== n * d) throw new TesseraError('INVALID_ARGUMENT', `vectors hold ${vectors.length / d} rows, the graph ${n} nodes`);
        heap.f32(w[W.vectors]!, n * d).set(vectors);
        if (!raiseDimMaxima(index.dimMax, vectors, d)) checkVectors(vectors, d, 'graph vectors');
      } else {
        for await (const chunk of vectors) {
          heap.f32(index.words()[W.vectors]! + chunk.start * d * 4, chunk.data.length).set(chunk.data);
          if (!raiseDimMaxima(index.dimMax, chunk.data, d)) checkFileRows(chunk.data, d, chunk.start, label);
        }
      }
      heap.i32(w[W.locks]!, n).fill(0);
      const ww = index.words();
      ww[W.ntotal] = n;
      ww[W.entryPoint] = n > 0 ? graph.entryPoint : -1;
      ww[W.maxLevel] = n > 0 ? graph.maxLevel : -1;
    } catch (e) {
      await index.dispose();
      throw e;
    }
    return index;
  }

  /** Reads a FAISS IndexHNSWFlat ("IHNf") file, streaming the vectors into WebAssembly memory. */
  static async load(source: ByteSource, opts: HnswIndexOptions = {}, label = sourceLabel(source)): Promise<WasmHnswIndex> {
    const r = new ByteReader(source, 0, label);
    const fourcc = await r.fourcc('fourcc');
    if (fourcc !== HNSW_FLAT_FOURCC) throw r.error(`expected an IndexHNSWFlat ("${HNSW_FLAT_FOURCC}"), found ${JSON.stringify(fourcc)}`, 0);
    const layout = await readHnswLayout(r);
    const neighbors = await readHnswNeighbors(r, layout);
    const { assignProbas, cumNneighborPerLevel, levels, offsets, entryPoint, maxLevel, efConstruction, efSearch } = layout;
    const graph: HnswGraph = { assignProbas, cumNneighborPerLevel, levels, offsets, neighbors, entryPoint, maxLevel, efConstruction, efSearch };
    const rows = streamFlatRows(source, layout.storage, { label, onProgress: opts.onProgress, phase: 'loading index' });
    // readHnswLayout / readHnswNeighbors checked the graph, naming byte offsets: not checked again.
    return WasmHnswIndex.adoptGraph(layout.d, layout.metric, graph, rows, opts, label);
  }

  get ntotal(): number {
    return this.disposed ? 0 : this.words()[W.ntotal]!;
  }

  /** efConstruction of later adds (FAISS hnsw.efConstruction). */
  get efConstruction(): number {
    return this.words()[W.efConstruction]!;
  }
  set efConstruction(ef: number) {
    this.words()[W.efConstruction] = checkPositiveInt(ef, 'efConstruction', EF_MAX);
  }

  /** Highest level of the graph (-1 when empty) and its entry point (-1 when empty). */
  get maxLevel(): number {
    return this.words()[W.maxLevel]!;
  }
  get entryPoint(): number {
    return this.words()[W.entryPoint]!;
  }

  /** Worker threads taking part in adds and batched searches (1 without shared memory). */
  get threads(): number {
    return this.pool?.size ?? 1;
  }

  /** Bytes of WebAssembly memory in use (vectors, graph, work buffers). */
  get memoryBytes(): number {
    return this.heap.used;
  }

  async train(x: Float32Array): Promise<void> {
    this.live();
    checkVectors(x, this.d, 'training vectors');
  }

  /** Reserves room for `nodes` nodes in all (vectors, levels, level-0 links) so adds up to it never copy. */
  reserveNodes(nodes: number): void {
    this.live();
    const n = this.ntotal;
    const used = this.slotsUsed(n);
    this.reserve(n, Math.max(n, nodes), used, used);
  }

  /** Appends x (n x d) with ids ntotal..ntotal+n-1, linking them as FAISS hnsw_add_vertices does. */
  async add(x: Float32Array): Promise<void> {
    this.live();
    const n = checkVectors(x, this.d, 'vectors to add');
    if (n === 0) return;
    // The build scores rows against rows: distances past float32's range would link at random.
    const dimMax = this.dimMax.slice();
    raiseDimMaxima(dimMax, x, this.d);
    checkScoreRange(x, this.d, this.metric, dimMax, 'vector to add');
    this.dimMax.set(dimMax);
    const heap = this.heap;
    const ex = heap.exports as unknown as Exports;
    const n0 = this.ntotal;
    const oldSlots = this.slotsUsed(n0);
    // slots are known only once levels are drawn: grow the node arrays first, neighbours after
    this.reserve(n0, n0 + n, oldSlots, oldSlots);
    let w = this.words();
    heap.f32(w[W.vectors]! + n0 * this.d * 4, x.length).set(x);
    heap.i32(w[W.locks]! + n0 * 4, n).fill(0);
    heap.i32(this.l0Ptr() + n0 * 2 * this.M * 4, n * 2 * this.M).fill(-1);
    w[W.ntotal] = n0 + n;
    ex.hnsw_assign_levels(this.h, n0, n);
    const slots = ex.hnsw_fill_offsets(this.h, n0, n) >>> 0;
    if (slots >= 2 ** 30) throw new TesseraError('OUT_OF_MEMORY', `the HNSW graph would need ${slots} neighbour slots: more than one 4 GiB WebAssembly memory holds; split the index into shards`);
    this.reserve(n0 + n, n0 + n, oldSlots, slots);
    w = this.words();
    heap.i32(w[W.neighbors]! + oldSlots * 4, slots - oldSlots).fill(-1);

    const order = heap.alloc(n * 4);
    const hist = heap.alloc(MAX_LEVELS * 4);
    const mt2 = heap.alloc(624 * 4);
    let set: ScratchSet | undefined;
    try {
      const nh = ex.hnsw_make_order(this.h, n0, n, order, hist, mt2, PERMUTATION_SEED);
      const counts = Array.from(heap.i32(hist, nh));
      set = this.takeScratch(this.efConstruction, 0);
      const scratch = set.buffers;
      let i1 = n;
      let done = 0;
      this.progress(0, n);
      for (let level = nh - 1; level >= 0; level--) {
        const i0 = i1 - counts[level]!;
        // Large buckets go in pieces so progress moves and the event loop breathes between them.
        const piece = ADD_CALL * (this.pool?.size ?? 1);
        for (let a = i0; a < i1; a += piece) {
          const b = Math.min(i1, a + piece);
          if (this.pool && (b - a > PARALLEL_MIN || this.pool.dedicated)) {
            this.words()[W.counter] = a;
            const bound = b;
            await this.pool.parallelFor(this.pool.size, (_f, _t, p) => ({
              fn: 'hnsw_add_range',
              args: [this.h, order, a, bound, level, scratch[p]!.ptr, scratch[p]!.nodes, 1],
            }));
          } else {
            ex.hnsw_add_range(this.h, order, a, b, level, scratch[0]!.ptr, scratch[0]!.nodes, 0);
          }
          done += b - a;
          this.progress(done, n);
        }
        i1 = i0;
      }
    } finally {
      if (set) this.giveBackScratch(set);
      heap.release(mt2);
      heap.release(hist);
      heap.release(order);
    }
  }

  private progress(done: number, total: number): void {
    this.onProgress?.({ phase: 'building HNSW graph', done, total, unit: 'vectors' });
  }
  /** Receives build progress (set by the factory from IndexOptions.onProgress). */
  onProgress: IndexOptions['onProgress'];

  async search(q: Float32Array, k: number, opts: SearchOptions = {}): Promise<SearchResult> {
    this.live();
    const nq = checkSearch(q, k, this.d, this.ntotal, MAX_K, '', [{ metric: this.metric, dimMax: this.dimMax }]);
    const efSearch = checkPositiveInt(opts.efSearch ?? this.efSearch, 'efSearch', EF_MAX);
    let batch = SEARCH_BATCH;
    // A signal is looked at between batches: keep each short (a query visits about efSearch nodes'
    // 2M neighbours; the threads split a batch by queries).
    if (opts.signal) batch = Math.min(batch, abortableBatch(efSearch * 2 * this.M * this.d) * (this.pool?.size ?? 1));
    const parts: SearchResult[] = [];
    for (let q0 = 0; q0 < nq; q0 += batch) {
      await checkAbort(opts.signal, q0 > 0);
      parts.push(await this.searchBatch(q.subarray(q0 * this.d, Math.min(nq, q0 + batch) * this.d), k, efSearch));
    }
    await checkAbort(opts.signal, false);
    return parts.length === 1 ? parts[0]! : concatResults(parts, k);
  }

  private async searchBatch(q: Float32Array, k: number, efSearch: number): Promise<SearchResult> {
    const d = this.d;
    const nq = q.length / d;
    const heap = this.heap;
    const ex = heap.exports as unknown as Exports;
    const set = this.takeScratch(efSearch, k);
    const scratch = set.buffers;
    let qp = 0;
    let dp = 0;
    let ip = 0;
    try {
      qp = heap.alloc(q.length * 4);
      dp = heap.alloc(nq * k * 4);
      ip = heap.alloc(nq * k * 4);
      heap.f32(qp, q.length).set(q);
      if (this.pool && (nq > 1 || this.pool.dedicated)) {
        // a few rounds (each a message round trip per worker), no call shorter than SEARCH_CALL
        const round = Math.max(SEARCH_CALL, Math.ceil(nq / (4 * this.pool.size))) * this.pool.size;
        for (let r0 = 0; r0 < nq; r0 += round) {
          await this.pool.parallelFor(Math.min(round, nq - r0), (from, to, p) => ({
            fn: 'hnsw_search',
            args: [this.h, qp + (r0 + from) * d * 4, to - from, k, efSearch, dp + (r0 + from) * k * 4, ip + (r0 + from) * k * 4, scratch[p]!.ptr, scratch[p]!.nodes],
          }));
        }
      } else {
        for (let q0 = 0; q0 < nq; q0 += SEARCH_CALL) {
          const m = Math.min(SEARCH_CALL, nq - q0);
          ex.hnsw_search(this.h, qp + q0 * d * 4, m, k, efSearch, dp + q0 * k * 4, ip + q0 * k * 4, scratch[0]!.ptr, scratch[0]!.nodes);
        }
      }
      return heap.result(dp, ip, nq, k);
    } finally {
      heap.release(ip);
      heap.release(dp);
      heap.release(qp);
      this.giveBackScratch(set);
    }
  }

  /**
   * One work buffer per thread, large enough for the current node count and beam width; a new
   * buffer is zeroed (visited stamps start clear), a kept one carries its epoch. Searches run
   * together (core/call-order.ts), each thread's calls one after another: a set too small for this
   * call is replaced, not freed, while calls in flight still use it (freeing it let their workers
   * write visited stamps into the next call's queries and results: wrong neighbours, traps).
   */
  private takeScratch(ef: number, k: number): ScratchSet {
    const ex = this.heap.exports as unknown as Exports;
    const bytes = ex.hnsw_scratch_bytes(this.capacity, Math.max(ef, k, 2 * this.M), this.M) >>> 0;
    const threads = this.pool?.size ?? 1;
    const nodes = this.capacity;
    const old = this.scratch;
    if (!old || old.buffers.length !== threads || old.buffers.some((s) => s.bytes < bytes || s.nodes !== nodes)) {
      // Unused: freed first, so its memory serves the new set.
      if (old) {
        old.retired = true;
        if (old.users === 0) this.freeScratch(old);
        this.scratch = undefined;
      }
      const buffers: Scratch[] = [];
      try {
        for (let t = 0; t < threads; t++) {
          const ptr = this.heap.alloc(bytes);
          buffers.push({ ptr, bytes, nodes });
          this.heap.u8(ptr, bytes).fill(0);
        }
      } catch (e) {
        for (const s of buffers) this.heap.release(s.ptr);
        throw e;
      }
      this.scratch = { buffers, users: 0, retired: false };
    }
    this.scratch!.users++;
    return this.scratch!;
  }

  private giveBackScratch(set: ScratchSet): void {
    if (--set.users === 0 && set.retired) this.freeScratch(set);
  }

  private freeScratch(set: ScratchSet): void {
    for (const s of set.buffers) this.heap.release(s.ptr);
    set.buffers = [];
  }

  /** The graph in FAISS's arrays (copies), for writing an "IHNf" file or inspection. */
  graph(): HnswGraph {
    this.live();
    const w = this.words();
    const n = w[W.ntotal]!;
    const nlevels = w[W.nlevels]!;
    const off32 = new Uint32Array(this.heap.memory.buffer, w[W.offsets]!, n + 1);
    const offsets = new Float64Array(n + 1);
    for (let i = 0; i <= n; i++) offsets[i] = n === 0 && i === 0 ? 0 : off32[i]!;
    const neighbors = n === 0 ? new Int32Array(0) : this.heap.i32(w[W.neighbors]!, offsets[n]!).slice();
    // level 0 comes from its fixed-stride array into FAISS's layout
    const s0 = 2 * this.M;
    const l0 = this.heap.i32(this.l0Ptr(), n * s0);
    for (let i = 0; i < n; i++) neighbors.set(l0.subarray(i * s0, (i + 1) * s0), offsets[i]!);
    return {
      assignProbas: new Float64Array(this.heap.memory.buffer, this.h + PROBAS_BYTE, nlevels).slice(),
      cumNneighborPerLevel: w.slice(W.cum, W.cum + nlevels + 1),
      levels: n === 0 ? new Int32Array(0) : this.heap.i32(w[W.levels]!, n).slice(),
      offsets,
      neighbors,
      entryPoint: w[W.entryPoint]!,
      maxLevel: w[W.maxLevel]!,
      efConstruction: w[W.efConstruction]!,
      efSearch: this.efSearch,
    };
  }

  /** A copy of the stored vectors (ntotal x d), the index's flat storage. */
  vectors(): Float32Array {
    this.live();
    const n = this.ntotal;
    return n === 0 ? new Float32Array(0) : this.heap.f32(this.words()[W.vectors]!, n * this.d).slice();
  }

  /** Writes a FAISS IndexHNSWFlat ("IHNf") file that faiss.read_index reads; atomic for paths. */
  async save(target: string | ByteSink): Promise<void> {
    this.live();
    const graph = this.graph();
    const sink = await openSink(target);
    try {
      await writeHnswFlatTo(sink, this.d, this.metric, graph, this.heap.f32RowChunks(() => this.words()[W.vectors]!, this.d, graph.levels.length));
    } catch (e) {
      await (sink as { abort?: () => Promise<void> }).abort?.();
      throw e;
    }
    await sink.close();
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.pool?.release();
  }

  private live(): void {
    if (this.disposed) throw new TesseraError('INVALID_ARGUMENT', 'this index was disposed: create or load a new one');
  }

  private l0Ptr(): number {
    return this.heap.i32(this.h + L0_BYTE, 1)[0]!;
  }

  private words(): Int32Array {
    return this.heap.i32(this.h, W.cum + MAX_LEVELS);
  }

  private setLevelTable(probas: Float64Array, cum: Int32Array): void {
    const nlevels = probas.length;
    if (nlevels < 1 || nlevels > MAX_LEVELS - 1) throw new TesseraError('UNSUPPORTED', `HNSW with ${nlevels} levels: tessera supports 1 to ${MAX_LEVELS - 1}`);
    const w = this.words();
    w[W.nlevels] = nlevels;
    w.fill(0, W.cum, W.cum + MAX_LEVELS);
    w.set(cum.subarray(0, nlevels + 1), W.cum);
    new Float64Array(this.heap.memory.buffer, this.h + PROBAS_BYTE, MAX_LEVELS).fill(0).set(probas);
  }

  private slotsUsed(n: number): number {
    return n === 0 ? 0 : new Uint32Array(this.heap.memory.buffer, this.words()[W.offsets]!, n + 1)[n]!;
  }

  /**
   * Grows node arrays to hold `nodes` (keeping the first `n`) and the neighbour array to hold
   * `slots` (keeping the first `usedSlots`), amortised.
   */
  private reserve(n: number, nodes: number, usedSlots: number, slots: number): void {
    const heap = this.heap;
    const w = () => this.words();
    if (nodes > this.capacity) {
      const cap = Math.max(nodes, Math.ceil(this.capacity * 1.5));
      if (cap * this.d * 4 >= 2 ** 32) {
        throw new TesseraError('OUT_OF_MEMORY', `${cap} vectors of d=${this.d} exceed one 4 GiB WebAssembly memory: split the index into shards`);
      }
      const grow = (word: number, perNode: number, extra = 0) => {
        const ptr = heap.realloc(w()[word]!, (n + extra) * perNode, (cap + extra) * perNode);
        w()[word] = ptr;
      };
      grow(W.vectors, this.d * 4);
      grow(W.levels, 4);
      grow(W.offsets, 4, 1);
      grow(W.locks, 4);
      const l0 = heap.realloc(this.l0Ptr(), n * 2 * this.M * 4, cap * 2 * this.M * 4);
      heap.i32(this.h + L0_BYTE, 1)[0] = l0;
      if (this.capacity === 0) heap.i32(w()[W.offsets]!, 1)[0] = 0;
      this.capacity = cap;
    }
    if (slots > this.slotCapacity) {
      const cap = Math.max(slots, Math.ceil(this.slotCapacity * 1.5));
      // realloc may grow the memory (detaching old views): take the view after it
      const ptr = heap.realloc(w()[W.neighbors]!, usedSlots * 4, cap * 4);
      w()[W.neighbors] = ptr;
      this.slotCapacity = cap;
    }
  }
}

/** Used by readIndex through the factory registry (the reader positioned at byte 0). */
export async function loadHnsw(source: ByteSource, opts: IndexOptions): Promise<Index> {
  return WasmHnswIndex.load(source, opts);
}

/**
 * A graph's stored efConstruction / efSearch (FAISS keeps both in the file) as the defaults where the
 * caller gives none; one above tessera's limit is UNSUPPORTED naming the options that override it
 * (it failed as if the caller had passed the value).
 */
export function storedEfs(
  given: { efConstruction?: number; efSearch?: number },
  stored: { efConstruction: number; efSearch: number },
  label: string,
): { efConstruction?: number; efSearch?: number } {
  const out: { efConstruction?: number; efSearch?: number } = {};
  const over: ('efConstruction' | 'efSearch')[] = [];
  for (const name of ['efConstruction', 'efSearch'] as const) {
    out[name] = given[name] ?? (stored[name] > 0 ? stored[name] : undefined);
    if (given[name] === undefined && stored[name] > EF_MAX) over.push(name);
  }
  if (over.length) {
    const where = label === 'graph vectors' ? 'the HNSW graph' : label;
    throw new TesseraError(
      'UNSUPPORTED',
      `${where}: the graph stores ${over.map((n) => `${n} ${stored[n]}`).join(' and ')}, above tessera's limit of ${EF_MAX}: ` +
        `pass the option${over.length > 1 ? 's' : ''} to use other defaults (e.g. { ${over.map((n) => `${n}: ${EF_MAX}`).join(', ')} })`,
    );
  }
  return out;
}

/** M of a graph the native walks can take, which keep one node's slots of a level in fixed stack arrays (2M at most). */
function supportedM(graph: HnswGraph): number {
  const cum = graph.cumNneighborPerLevel;
  const M = cum.length > 2 ? cum[2]! - cum[1]! : cum[1]! / 2;
  const upperM = cum.subarray(1).every((c, l) => l === 0 || c - cum[l]! === M);
  if (!(M >= 2 && M <= 512) || cum[1] !== 2 * M || !upperM || cum.length > MAX_LEVELS || graph.assignProbas.length !== cum.length - 1) {
    throw new TesseraError('UNSUPPORTED', `HNSW graphs with cum_nneighbor_per_level [${Array.from(cum.subarray(0, 4)).join(', ')}, ...] (${cum.length} entries) are not supported: tessera reads graphs with 2M slots on level 0, M above (2 <= M <= 512), at most ${MAX_LEVELS - 1} levels`);
  }
  return M;
}
