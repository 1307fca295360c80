/**
 * HNSW on the CPU in WebAssembly with FAISS IndexHNSWFlat semantics (native/hnsw.c does the graph
 * work): M neighbours per upper level and 2M on level 0, efConstruction at build, efSearch per call,
 * FAISS's level assignment (mt19937 seeded 12345, mL = 1/ln M) and insertion order, IP and L2.
 *
 * The graph lives in the module's memory in FAISS's arrays (levels, offsets, and neighbors split in
 * a level-0 array of 2M slots per node and one of the upper levels: see slots() in native/hnsw.c),
 * so `graph()` hands src/io/faiss/hnsw.ts what an "IHNf" file holds and `fromGraph` maps a file back
 * with one copy per node. Every per-node array shares one allocation (blockLayout), the highest in
 * the memory, so growing it moves the small arrays up in place and never copies the vectors. Adds
 * run across worker threads when memory can be shared (one level bucket at a time, as FAISS's
 * OpenMP loop); with threads: 1 a build is deterministic for a seed.
 */
import { orderCalls } from '../core/call-order.js';
import { TesseraError, formatBytes } from '../core/errors.js';
import type { IndexOptions } from '../core/factory.js';
import { concatResults } from '../core/topk.js';
import type { ByteSink, ByteSource, Index, Metric, SearchOptions, SearchResult } from '../core/types.js';
import { MAX_K, checkDimension, checkFileRows, checkMetric, checkScoreRange, checkSearch, checkVectors, describeArg, raiseDimMaxima } from '../core/validate.js';
import { ByteReader, sourceLabel } from '../io/byte-reader.js';
import { streamFlatRows } from '../io/faiss/flat.js';
import { checkHnswGraph, HNSW_FLAT_FOURCC, type HnswGraph, type HnswLayout, readHnswLayout, readHnswNeighbors, writeHnswFlatTo } from '../io/faiss/hnsw.js';
import { writeToTarget } from '../platform.js';
import { instanceHeadroom, MAX_MEMORY_BYTES, WasmHeap } from './module.js';
import { BREATHE_MS, type DedicatedOptions, type WorkerPool, abortableBatch, acquirePool, breather, checkAbort, threadPlan } from './worker-pool.js';

/** FAISS defaults (IndexHNSW: efConstruction 40, efSearch 16; HNSW rng seed 12345, insertion shuffle seed 789). */
export const HNSW_DEFAULTS = { efConstruction: 40, efSearch: 16, seed: 12345 } as const;
/** Largest efSearch / efConstruction taken (beam scratch is sized by it). */
export const EF_MAX = 1 << 16;
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
/**
 * Inserts per native call on the calling thread, which pauses between calls (breather): an insert
 * is milliseconds at d = 768 and efConstruction 200, so ADD_CALL of them held timers for over a second.
 */
const CALLING_THREAD_ADD_CALL = 8;

// Word offsets of the C struct hnsw_t (native/hnsw.c; its _Static_asserts pin the layout).
const W = { d: 0, M: 1, metric: 2, ntotal: 3, maxLevel: 4, entryPoint: 5, efConstruction: 6, nlevels: 7, vectors: 8, levels: 9, offsets: 10, neighbors: 11, locks: 12, globalLock: 13, counter: 14, mti: 15, cum: 16 } as const;
const PROBAS_BYTE = 192;
/** Byte offset of the level rng's mt19937 state (624 words; its index is word W.mti). */
const MT_BYTE = 448;
/** Byte offset of the level-0 slot array pointer (2M slots per node at a fixed stride). */
const L0_BYTE = 2944;
/** Entries of the C struct's cum array: levels 0..MAX_LEVELS-1 need MAX_LEVELS + 1 of them, so at most 31 levels. */
const MAX_LEVELS = 32;

/**
 * Bytes one node takes, as this index and shard plans (src/wasm/shards.ts) both count them: the
 * vector, 2M level-0 slots, level, offset and lock, room for its upper-level slots (about
 * M / (M - 1), grown x1.5), and a visited byte for each searching thread. An index takes no more
 * nodes than a plan gives one memory, so a graph one instance built loads as one instance.
 */
export function hnswNodeBytes(d: number, M: number, threads: number): number {
  return 4 * d + 4 * (2 * M + 2 * Math.ceil(M / Math.max(1, M - 1))) + 12 + threads;
}

/** Byte offsets, in an index's one block of memory, of its per-node arrays for `cap` nodes and `upper` upper-level slots. */
interface BlockLayout {
  vectors: number;
  l0: number;
  levels: number;
  offsets: number;
  locks: number;
  upper: number;
  bytes: number;
}

/**
 * The vectors first (they never move when the block grows), then level-0 slots, levels, offsets
 * (cap + 1), locks, and the upper-level slots last (they grow alone without moving anything).
 */
function blockLayout(d: number, M: number, cap: number, upper: number): BlockLayout {
  const a = (bytes: number) => Math.ceil(bytes / 64) * 64;
  const l0 = a(cap * d * 4);
  const levels = l0 + a(cap * 2 * M * 4);
  const offsets = levels + a(cap * 4);
  const locks = offsets + a((cap + 1) * 4);
  const up = locks + a(cap * 4);
  return { vectors: 0, l0, levels, offsets, locks, upper: up, bytes: up + upper * 4 };
}

export interface HnswIndexOptions extends IndexOptions, DedicatedOptions {
  efConstruction?: number;
  efSearch?: number;
  /** Most bytes the index's WebAssembly memory may grow to (default and most 4 GiB). */
  memoryLimit?: number;
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

/** efSearch as every setter and option takes it: an integer in [1, EF_MAX]. */
export function checkEfSearch(ef: unknown): number {
  return checkPositiveInt(ef, 'efSearch', EF_MAX);
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
  /** Default efSearch when a search passes none (FAISS hnsw.efSearch); checked when set, as efConstruction is. */
  get efSearch(): number {
    return this.defaultEfSearch;
  }
  set efSearch(ef: number) {
    this.defaultEfSearch = checkEfSearch(ef);
  }
  private defaultEfSearch: number;
  private readonly h: number;
  private capacity = 0;
  /** Upper-level neighbour slots the block has room for (level 0 has its own array). */
  private slotCapacity = 0;
  /** The allocation holding every per-node array, and where in it each lies; 0 until the first reserve. */
  private block = 0;
  private layout: BlockLayout = blockLayout(0, 0, 0, 0);
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
    this.defaultEfSearch = efSearch;
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
    // Public: indexFactory checks these too, but a metric of 'IP' or 'cosine' here built an L2 index.
    checkDimension(d);
    checkMetric(metric);
    checkPositiveInt(M, 'HNSW M', 512);
    if (M < 2) throw new TesseraError('INVALID_ARGUMENT', `HNSW M must be >= 2, got ${M}`);
    const efConstruction = checkPositiveInt(opts.efConstruction ?? HNSW_DEFAULTS.efConstruction, 'efConstruction', EF_MAX);
    const efSearch = checkEfSearch(opts.efSearch ?? HNSW_DEFAULTS.efSearch);
    const seed = opts.seed ?? HNSW_DEFAULTS.seed;
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
      throw new TesseraError('INVALID_ARGUMENT', `seed must be an integer in [0, 2^32), got ${String(seed)}`);
    }
    const { threads, shared, dedicated } = threadPlan(opts);
    const heap = await WasmHeap.create(shared, opts.memoryLimit);
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
      const off = graph.offsets;
      const s0 = 2 * M;
      const upper = off[n]! - s0 * n;
      index.reserve(0, n, 0, upper);
      const heap = index.heap;
      heap.i32(index.ptr('levels'), n).set(graph.levels);
      new Uint32Array(heap.memory.buffer, index.ptr('offsets'), n + 1).set(off);
      // FAISS's neighbors split: level 0 to its fixed-stride array, the upper levels packed (see slots() in native/hnsw.c)
      const l0 = heap.i32(index.l0Ptr(), n * s0);
      const up = heap.i32(index.ptr('upper'), upper);
      for (let i = 0; i < n; i++) {
        l0.set(graph.neighbors.subarray(off[i]!, off[i]! + s0), i * s0);
        up.set(graph.neighbors.subarray(off[i]! + s0, off[i + 1]!), off[i]! - s0 * i);
      }
      if (vectors instanceof Float32Array) {
        if (vectors.length !== n * d) throw new TesseraError('INVALID_ARGUMENT', `vectors hold ${vectors.length / d} rows, the graph ${n} nodes`);
        heap.f32(index.ptr('vectors'), n * d).set(vectors);
        if (!raiseDimMaxima(index.dimMax, vectors, d)) checkVectors(vectors, d, 'graph vectors');
      } else {
        // Chunks land where they say: one outside the n rows would write over the graph's arrays.
        let rows = 0;
        for await (const chunk of vectors) {
          const m = chunk.data.length / d;
          if (!Number.isInteger(m) || !Number.isInteger(chunk.start) || chunk.start < 0 || chunk.start + m > n) {
            throw new TesseraError('INVALID_ARGUMENT', `${label}: a chunk of ${chunk.data.length} floats at row ${chunk.start} is not whole rows of d=${d} within the graph's ${n} nodes`);
          }
          heap.f32(index.ptr('vectors') + chunk.start * d * 4, chunk.data.length).set(chunk.data);
          if (!raiseDimMaxima(index.dimMax, chunk.data, d)) checkFileRows(chunk.data, d, chunk.start, label);
          rows += m;
        }
        if (rows !== n) throw new TesseraError('INVALID_ARGUMENT', `${label}: the chunks hold ${rows} rows, the graph ${n} nodes`);
      }
      heap.i32(index.ptr('locks'), n).fill(0);
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
  static async load(source: ByteSource, opts: HnswIndexOptions = {}, label = sourceLabel(source), layout?: HnswLayout): Promise<WasmHnswIndex> {
    const r = new ByteReader(source, 0, label);
    // `layout`: the file's structure as a caller already read it (loadHnswAuto), so it is not read again.
    layout ??= await readHnswFlatHeader(r);
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
    const checked = checkPositiveInt(ef, 'efConstruction', EF_MAX);
    // the add's native calls read it, with work buffers sized for the value it started with
    this.notWhileAdding('efConstruction cannot change');
    this.words()[W.efConstruction] = checked;
  }

  /** An add in progress (it pauses between pieces: see add): members that change what it works with wait for it. */
  private adding = false;

  private notWhileAdding(what: string): void {
    if (this.adding) throw new TesseraError('INVALID_ARGUMENT', `${what} while an add is running (its beams and arrays are in use): await the add first`);
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

  /** Bytes the WebAssembly memory of this index has grown to (what the process pays). */
  get wasmMemoryBytes(): number {
    return this.heap.memory.buffer.byteLength;
  }

  async train(x: Float32Array): Promise<void> {
    this.live();
    checkVectors(x, this.d, 'training vectors');
  }

  /** Reserves room for `nodes` nodes in all (vectors, levels, level-0 links) so adds up to it move nothing. */
  reserveNodes(nodes: number): void {
    this.live();
    if (!Number.isSafeInteger(nodes) || nodes < 0) throw new TesseraError('INVALID_ARGUMENT', `reserveNodes takes a node count >= 0, got ${describeArg(nodes)}`);
    // it moves the node arrays the add's native calls are writing
    this.notWhileAdding('reserveNodes cannot run');
    const n = this.ntotal;
    const used = this.upperUsed(n);
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
    const heap = this.heap;
    const ex = heap.exports as unknown as Exports;
    const n0 = this.ntotal;
    const oldUpper = this.upperUsed(n0);
    // Everything that can fail (memory) comes before the nodes count: an add that cannot fit leaves
    // the index as it was, its level generator too (the next add draws what it would have).
    const rng = heap.u8(this.h + MT_BYTE, 624 * 4).slice();
    const mti = this.words()[W.mti]!;
    let order = 0;
    let hist = 0;
    let mt2 = 0;
    let set: ScratchSet | undefined;
    try {
      // upper-level slots are known only once levels are drawn: node arrays first, upper slots after
      this.reserve(n0, n0 + n, oldUpper, oldUpper);
      heap.f32(this.ptr('vectors') + n0 * this.d * 4, x.length).set(x);
      heap.i32(this.ptr('locks') + n0 * 4, n).fill(0);
      heap.i32(this.l0Ptr() + n0 * 2 * this.M * 4, n * 2 * this.M).fill(-1);
      ex.hnsw_assign_levels(this.h, n0, n);
      const upper = (ex.hnsw_fill_offsets(this.h, n0, n) >>> 0) - 2 * this.M * (n0 + n);
      this.reserve(n0 + n, n0 + n, oldUpper, upper);
      heap.i32(this.ptr('upper') + oldUpper * 4, upper - oldUpper).fill(-1);
      order = heap.alloc(n * 4);
      hist = heap.alloc(MAX_LEVELS * 4);
      mt2 = heap.alloc(624 * 4);
      set = this.takeScratch(this.efConstruction, 0);
    } catch (e) {
      if (set) this.giveBackScratch(set);
      for (const p of [mt2, hist, order]) if (p) heap.release(p);
      heap.u8(this.h + MT_BYTE, 624 * 4).set(rng);
      this.words()[W.mti] = mti;
      throw e;
    }
    this.dimMax.set(dimMax);
    this.words()[W.ntotal] = n0 + n;
    // The nodes are counted from here on: a progress callback that throws must not stop their
    // linking (they stayed in the graph unlinked, and searches for them found other rows). Its
    // error is thrown once every node is linked.
    let callbackError: { error: unknown } | undefined;
    const report = (done: number) => {
      if (callbackError) return;
      try {
        this.progress(done, n);
      } catch (error) {
        callbackError = { error };
      }
    };
    this.adding = true;
    try {
      const nh = ex.hnsw_make_order(this.h, n0, n, order, hist, mt2, PERMUTATION_SEED);
      const counts = Array.from(heap.i32(hist, nh));
      const scratch = set.buffers;
      let i1 = n;
      let done = 0;
      report(0);
      const breathe = breather();
      // Large buckets go in pieces so progress moves and the event loop breathes between them.
      const mostPerPiece = ADD_CALL * (this.pool?.size ?? 1);
      let piece = mostPerPiece;
      for (let level = nh - 1; level >= 0; level--) {
        const i0 = i1 - counts[level]!;
        const parallel = this.pool !== undefined && (i1 - i0 > PARALLEL_MIN || this.pool.dedicated);
        for (let a = i0, b = a; a < i1; a = b) {
          b = Math.min(i1, a + piece);
          if (this.pool && parallel) {
            this.words()[W.counter] = a;
            const bound = b;
            const started = performance.now();
            await this.pool.parallelFor(this.pool.size, (_f, _t, p) => ({
              fn: 'hnsw_add_range',
              args: [this.h, order, a, bound, level, scratch[p]!.ptr, scratch[p]!.nodes, 1],
            }));
            // The calling thread inserts its share of a piece without a pause: pieces are sized to
            // about BREATHE_MS (256 inserts a thread, milliseconds each at d = 768 and
            // efConstruction 200, held it for seconds).
            if (!this.pool.dedicated) piece = Math.min(mostPerPiece, Math.max(this.pool.size, Math.round((piece * BREATHE_MS) / Math.max(1, performance.now() - started))));
          } else {
            // the same graph as one call: nodes are inserted in order either way
            for (let c = a; c < b; c += CALLING_THREAD_ADD_CALL) {
              ex.hnsw_add_range(this.h, order, c, Math.min(b, c + CALLING_THREAD_ADD_CALL), level, scratch[0]!.ptr, scratch[0]!.nodes, 0);
              await breathe();
            }
          }
          done += b - a;
          report(done);
        }
        i1 = i0;
      }
    } finally {
      this.adding = false;
      if (set) this.giveBackScratch(set);
      heap.release(mt2);
      heap.release(hist);
      heap.release(order);
    }
    if (callbackError) throw callbackError.error;
  }

  private progress(done: number, total: number): void {
    this.onProgress?.({ phase: 'building HNSW graph', done, total, unit: 'vectors' });
  }
  /** Receives build progress (set by the factory from IndexOptions.onProgress). */
  onProgress: IndexOptions['onProgress'];

  async search(q: Float32Array, k: number, opts: SearchOptions = {}): Promise<SearchResult> {
    this.live();
    const nq = checkSearch(q, k, this.d, this.ntotal, MAX_K, '', [{ metric: this.metric, dimMax: this.dimMax }]);
    const efSearch = checkEfSearch(opts.efSearch ?? this.efSearch);
    let batch = SEARCH_BATCH;
    // A signal is looked at between batches: keep each short (a query visits about efSearch nodes'
    // 2M neighbours; the threads split a batch by queries).
    if (opts.signal) batch = Math.min(batch, abortableBatch(efSearch * 2 * this.M * this.d) * (this.pool?.size ?? 1));
    // A memory filled near its limit leaves room for fewer queries and results at once (work buffers
    // for this efSearch counted as if new, 64 KiB for alignment).
    const work = (this.pool?.size ?? 1) * this.scratchBytes(this.capacity, Math.max(efSearch, k));
    const room = this.heap.limit - this.heap.used - work - (64 << 10);
    batch = Math.max(1, Math.min(batch, Math.floor(room / (this.d * 4 + k * 8))));
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
    const bytes = this.scratchBytes(this.capacity, Math.max(ef, k));
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

  /** Bytes of one thread's work buffer for `nodes` nodes and a beam of `beam` (at least a level-0 list's 2M). */
  private scratchBytes(nodes: number, beam: number): number {
    return (this.heap.exports as unknown as Exports).hnsw_scratch_bytes(nodes, Math.max(beam, 2 * this.M), this.M) >>> 0;
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
    const off32 = new Uint32Array(this.heap.memory.buffer, this.ptr('offsets'), n + 1);
    const offsets = new Float64Array(n + 1);
    for (let i = 0; i <= n; i++) offsets[i] = n === 0 && i === 0 ? 0 : off32[i]!;
    // FAISS's one neighbors array from the level-0 and upper-level ones (see slots() in native/hnsw.c)
    const neighbors = new Int32Array(offsets[n]!);
    const s0 = 2 * this.M;
    const l0 = this.heap.i32(this.l0Ptr(), n * s0);
    const up = this.heap.i32(this.ptr('upper'), this.upperUsed(n));
    for (let i = 0; i < n; i++) {
      const o = offsets[i]!;
      neighbors.set(l0.subarray(i * s0, (i + 1) * s0), o);
      neighbors.set(up.subarray(o - s0 * i, offsets[i + 1]! - s0 * (i + 1)), o + s0);
    }
    return {
      assignProbas: new Float64Array(this.heap.memory.buffer, this.h + PROBAS_BYTE, nlevels).slice(),
      cumNneighborPerLevel: w.slice(W.cum, W.cum + nlevels + 1),
      levels: n === 0 ? new Int32Array(0) : this.heap.i32(this.ptr('levels'), n).slice(),
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
    return n === 0 ? new Float32Array(0) : this.heap.f32(this.ptr('vectors'), n * this.d).slice();
  }

  /** Writes a FAISS IndexHNSWFlat ("IHNf") file that faiss.read_index reads; atomic for paths. */
  async save(target: string | ByteSink): Promise<void> {
    this.live();
    const graph = this.graph();
    await writeToTarget(target, (sink) => writeHnswFlatTo(sink, this.d, this.metric, graph, this.heap.f32RowChunks(() => this.ptr('vectors'), this.d, graph.levels.length)));
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
    return this.ptr('l0');
  }

  /**
   * Where one of the block's arrays starts. Kept on this side: the C struct's words are int32, and a
   * pointer past 2 GiB read back from them is negative.
   */
  private ptr(part: keyof BlockLayout): number {
    return this.block + this.layout[part];
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

  /** Upper-level slots of the first n nodes: FAISS's offsets[n] less their 2M level-0 slots each. */
  private upperUsed(n: number): number {
    return n === 0 ? 0 : new Uint32Array(this.heap.memory.buffer, this.ptr('offsets'), n + 1)[n]! - 2 * this.M * n;
  }

  /**
   * Grows the block to hold `nodes` nodes (keeping the first `n`) and `upper` upper-level slots
   * (keeping the first `usedUpper`): x1.5 slack, or exactly that where the slack does not fit.
   * OUT_OF_MEMORY naming the fixes when even that does not.
   */
  private reserve(n: number, nodes: number, usedUpper: number, upper: number): void {
    if (nodes <= this.capacity && upper <= this.slotCapacity) return;
    if (nodes > this.maxNodes()) throw this.tooLarge(nodes);
    const slack = (want: number, have: number) => (want > have ? Math.max(want, Math.ceil(have * 1.5)) : have);
    const cap = slack(nodes, this.capacity);
    const slotCap = slack(upper, this.slotCapacity);
    const exactCap = Math.max(nodes, this.capacity);
    const exactSlots = Math.max(upper, this.slotCapacity);
    if (this.fits(cap, slotCap)) {
      try {
        this.regrow(n, usedUpper, cap, slotCap);
        return;
      } catch (e) {
        // the host may refuse the slack where it grants the exact size
        if (!(e instanceof TesseraError && e.code === 'OUT_OF_MEMORY') || (cap === exactCap && slotCap === exactSlots)) throw e;
      }
    }
    // Near the limit the slack may not fit where the nodes themselves do. A failure past this check
    // is the host's (it refused to grow the memory), reported as such, not as too many vectors.
    if (!this.fits(exactCap, exactSlots)) throw this.tooLarge(nodes);
    this.regrow(n, usedUpper, exactCap, exactSlots);
  }

  /** Whether the block at `cap` nodes and `slotCap` upper slots leaves the threads' work buffers and the search headroom under the limit. */
  private fits(cap: number, slotCap: number): boolean {
    const work = (this.pool?.size ?? 1) * this.scratchBytes(cap, Math.max(this.efConstruction, this.efSearch));
    return (this.block || this.heap.used) + blockLayout(this.d, this.M, cap, slotCap).bytes + work + instanceHeadroom(this.heap.limit) <= this.heap.limit;
  }

  /** Most nodes this index takes: what a shard plan gives one memory of its limit (hnswNodeBytes). */
  private maxNodes(): number {
    return Math.floor((this.heap.limit - instanceHeadroom(this.heap.limit)) / hnswNodeBytes(this.d, this.M, this.pool?.size ?? 1));
  }

  /**
   * Moves the block to `cap` nodes and `slotCap` upper slots. It is the highest allocation (idle work
   * buffers above it are freed first; they are remade for the new node count anyway), so it grows
   * where it lies and only the arrays after the vectors move up, highest first, each over its own old
   * place at most. The vectors never move: copying them into a new block needed the old and the new
   * at once, and an index built by add failed at 1.4 GiB of vectors, a third of the memory.
   */
  private regrow(n: number, usedUpper: number, cap: number, slotCap: number): void {
    const heap = this.heap;
    const next = blockLayout(this.d, this.M, cap, slotCap);
    const idle = this.scratch;
    if (idle && idle.users === 0) {
      this.freeScratch(idle);
      this.scratch = undefined;
    }
    const old = this.layout;
    const from = this.block;
    const inPlace = heap.growInPlace(from, next.bytes);
    const to = inPlace ? from : heap.alloc(next.bytes);
    if (from !== 0) {
      const mem = new Uint8Array(heap.memory.buffer);
      const parts: [keyof BlockLayout, number][] = [['upper', usedUpper * 4], ['locks', n * 4], ['offsets', (n + 1) * 4], ['levels', n * 4], ['l0', n * 2 * this.M * 4], ['vectors', n * this.d * 4]];
      for (const [part, bytes] of parts) {
        if (bytes > 0 && (to + next[part] !== from + old[part])) mem.copyWithin(to + next[part], from + old[part], from + old[part] + bytes);
      }
      if (!inPlace) heap.release(from);
    }
    this.block = to;
    this.layout = next;
    const w = this.words();
    w[W.vectors] = to + next.vectors;
    w[W.levels] = to + next.levels;
    w[W.offsets] = to + next.offsets;
    w[W.locks] = to + next.locks;
    w[W.neighbors] = to + next.upper;
    heap.i32(this.h + L0_BYTE, 1)[0] = to + next.l0;
    if (from === 0) heap.i32(to + next.offsets, 1)[0] = 0;
    this.capacity = cap;
    this.slotCapacity = slotCap;
  }

  /** OUT_OF_MEMORY for a graph of `nodes` nodes one memory cannot hold, with what does fit and the ways out. */
  private tooLarge(nodes: number): TesseraError {
    // per node as stored: the vector, 2M level-0 slots, level, offset, lock, its upper slots so far
    // (M / (M - 1) expected), a visited byte per thread; and at most what a shard plan gives
    const n = this.ntotal;
    const upper = n > 0 ? this.upperUsed(n) / n : this.M / Math.max(1, this.M - 1);
    const perNode = 4 * this.d + 8 * this.M + 12 + 4 * upper + (this.pool?.size ?? 1);
    const room = this.heap.limit - (this.block || this.heap.used) - instanceHeadroom(this.heap.limit);
    const fit = Math.max(0, Math.min(this.maxNodes(), Math.floor(room / perNode)));
    const limit = this.heap.limit < MAX_MEMORY_BYTES ? `its memoryLimit of ${formatBytes(this.heap.limit)}` : 'one 4 GiB WebAssembly memory';
    return new TesseraError(
      'OUT_OF_MEMORY',
      `HNSW${this.M} over ${nodes} vectors of d=${this.d} does not fit ${limit}: at ${formatBytes(perNode)} per vector (the vector, its links, a visited byte per thread) about ${fit} fit. ` +
        `Split it into shards (shardedIndex(d, 'HNSW${this.M}', metric, { expectedVectors }) from 'tessera': a graph in a memory of its own per shard, searched together on threads of their own; readIndex shards a large file by itself), ` +
        `or keep the vectors as a Flat index and search them on the GPU backend`,
    );
  }
}

/** The structure of an IndexHNSWFlat file from `r` at byte 0; FORMAT when it starts with another fourcc. */
export async function readHnswFlatHeader(r: ByteReader): Promise<HnswLayout> {
  const fourcc = await r.fourcc();
  if (fourcc !== HNSW_FLAT_FOURCC) throw r.error(`expected an IndexHNSWFlat ("${HNSW_FLAT_FOURCC}"), found ${JSON.stringify(fourcc)}`, 0);
  return readHnswLayout(r);
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
