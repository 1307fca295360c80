/**
 * Past 4 GiB: a 32-bit WebAssembly memory holds at most 4 GiB, so an index larger than that is split
 * into shards, each its own memory whose native code runs in workers of its own (a dedicated pool:
 * one module instance per worker, none on the calling thread), so all shards search at the same
 * time and the host only copies queries in, results out, and merges (core/topk.ts mergeResults;
 * ties to the lower id, so the merge equals one instance's answer). Where the runtime has no shared
 * memory or workers (a browser page that is not cross-origin isolated) the shards run one after
 * another on the calling thread. IVF shards share one coarse quantizer and SQ codec (trained once),
 * so every shard probes the same lists and scores with the same codes as a single instance would.
 * HNSW shards are independent graphs over consecutive row ranges (a graph cannot be cut): a FAISS
 * HNSW file too large for one instance is rebuilt shard by shard from its vectors on load.
 *
 * `planShards` says how an index of a given type and size is laid out (`tessera info` prints it);
 * `shardBytes` is configurable so tests exercise the merge at kilobyte sizes.
 */
import { TesseraError, formatBytes } from '../core/errors.js';
import { factoryDescription, type IndexOptions, parseFactoryString } from '../core/factory.js';
import { emptyResult, mergeResults, offsetLabels } from '../core/topk.js';
import type { ByteSink, ByteSource, Index, Metric, SearchOptions, SearchResult } from '../core/types.js';
import { checkDimension, checkMetric, checkSearch, checkVectors, checkVectorShape, describeArg } from '../core/validate.js';
import { writeToTarget } from '../platform.js';
import { ByteReader, sourceLabel } from '../io/byte-reader.js';
import { DIRECT_MAP_NONE, type DirectMapType, directMapChunks, ivfHeadChunks, IVF_FLAT_FOURCC, IVF_SQ_FOURCC, type IvfLayout } from '../io/faiss/ivf.js';
import { DEFAULT_RANGESTAT, encodeSqFileHeader, type SqLayout, type SqRangeStat } from '../io/faiss/sq.js';
import type { HnswLayout } from '../io/faiss/hnsw.js';
import { type FlatLayout, readFlatLayout, streamFlatRows, writeFlatIndex } from '../io/faiss/flat.js';
import { WasmFlatIndex } from './flat-index.js';
import { checkEfSearch, HNSW_DEFAULTS, type HnswIndexOptions, hnswNodeBytes, readHnswFlatHeader, storedEfs, WasmHnswIndex } from './hnsw-index.js';
import { checkAddIds, checkNprobe, FileIds, loadIvfIndex, loadIvfList, readIvfFile, WasmIvfIndex } from './ivf-index.js';
import { instanceHeadroom } from './module.js';
import { loadSqIndex, readSourceInto, readSqFile, retrainError, Sq8Codec, WASM_MEMORY_LIMIT, WasmSqIndex } from './sq-index.js';
import { breather, dedicatedWorkersAvailable, forRowPieces, resolveThreads } from './worker-pool.js';

export interface ShardOptions {
  /** Bytes one shard may use (default and most: 4 GiB, one WebAssembly memory). */
  shardBytes?: number;
  /**
   * Each shard on workers of its own, all searched at once (default: where the runtime has shared
   * memory and workers); false: every shard on the calling thread (with `threads` as usual).
   */
  shardWorkers?: boolean;
  /** Search the shards one after another instead of together (to measure what concurrency gives). */
  sequentialShards?: boolean;
  /** Vectors the index will hold, when known before adding: sizes each shard's pool (threads / shards). */
  expectedVectors?: number;
}

/**
 * Threads of one shard's dedicated pool: the `threads` budget (default: all cores) split over the
 * shards, at least one worker each; undefined where shards run on the calling thread.
 */
function shardThreads(opts: IndexOptions & ShardOptions, shards: number): { threads?: number; dedicated: boolean } {
  if (opts.shardWorkers === false || !dedicatedWorkersAvailable()) return { threads: opts.threads, dedicated: false };
  const total = resolveThreads(opts.threads);
  return { threads: Math.max(1, Math.floor(total / Math.max(1, shards))), dedicated: true };
}

/** How an index is laid out over module instances. */
export interface ShardPlan {
  description: string;
  d: number;
  ntotal: number;
  /** Bytes per stored vector in memory (codes + int32 id for IVF). */
  bytesPerVector: number;
  /** Bytes every shard holds besides vectors (centroids, tables, search buffers). */
  fixedBytes: number;
  /** Allowance for growth while adding: 1 (every type's arrays grow in place). */
  growth: number;
  shardBytes: number;
  rowsPerShard: number;
  /** Rows [firstRow, firstRow + rows) per shard and the bytes its data takes (search buffers, up to 64 MiB, come on top). */
  shards: { firstRow: number; rows: number; bytes: number }[];
  /** False for types tessera cannot shard, which then must fit one instance (every type shards now). */
  shardable: boolean;
  /** HNSW: each shard is its own graph over its rows; a FAISS file's single graph is rebuilt per shard on load. */
  rebuildsGraph?: boolean;
  /** HNSW: threads searching each instance, each keeping a visited byte per vector (counted in bytesPerVector). */
  threads?: number;
}

/**
 * Lays out `ntotal` vectors of the FAISS type `description` over shards of at most `shardBytes`.
 * `building`: the index is filled by add rather than loaded (planned alike: arrays grow in place).
 * `threads`: HNSW, the threads searching each instance, as an instance resolves them (default all
 * cores; 1 where memory cannot be shared).
 */
export function planShards(input: { description: string; d: number; ntotal: number; building?: boolean; threads?: number } & ShardOptions): ShardPlan {
  const { d, ntotal } = input;
  const spec = parseFactoryString(input.description);
  // Exported: d = 0 or ntotal = -1 made a plan of NaN rows a shard and one shard of -1 rows.
  checkDimension(d);
  if (!(Number.isSafeInteger(ntotal) && ntotal >= 0)) throw new TesseraError('INVALID_ARGUMENT', `ntotal must be an integer >= 0 (the vectors to lay out), got ${describeArg(ntotal)}`);
  const shardBytes = Math.min(input.shardBytes ?? WASM_MEMORY_LIMIT, WASM_MEMORY_LIMIT);
  if (!(shardBytes > 0)) throw new TesseraError('INVALID_ARGUMENT', `shardBytes must be > 0, got ${String(input.shardBytes)}`);
  let bytesPerVector: number;
  let fixed = 0;
  let shardable = true;
  let threads: number | undefined;
  switch (spec.kind) {
    case 'flat':
      // WasmFlatIndex grows its rows in place, its x1.5 slack falling back to the exact size near
      // the limit: a shard filled by add holds what a loaded one does (planning 2.5x for a copy on
      // growth made shards of 1.6 GiB, 2.5x as many instances as needed)
      bytesPerVector = 4 * d;
      break;
    case 'sq':
      bytesPerVector = d;
      fixed = 8 * d;
      break;
    case 'ivf':
      bytesPerVector = (spec.storage === 'flat' ? 4 * d : d) + 4;
      // centroids, list tables, SQ8 ranges, each list's 4-byte alignment, and the module's own data
      // and its threads' stacks (256 KiB each; at most 1/64 of a small shard); the lists grow in
      // place (InvertedLists), so a shard filled by add holds what a loaded one does (planning 2x
      // for a copy on growth made twice the shards needed)
      fixed = spec.nlist * (4 * d + 16) + 8 * d + Math.min((1 << 20) + resolveThreads(input.threads) * (256 << 10), Math.floor(shardBytes / 64));
      break;
    case 'hnsw':
      // the bytes WasmHnswIndex itself stops at, so a graph one instance built loads as one instance
      threads = resolveThreads(input.threads);
      bytesPerVector = hnswNodeBytes(d, spec.M, threads);
      break;
  }
  const headroom = instanceHeadroom(shardBytes);
  const usable = shardBytes - headroom - fixed;
  const rowsPerShard = Math.floor(usable / bytesPerVector);
  if (rowsPerShard < 1) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `a shard of ${formatBytes(shardBytes)} cannot hold one ${input.description} vector of d=${d} (${formatBytes(fixed)} fixed + ${formatBytes(bytesPerVector)} per vector): raise shardBytes or lower nlist`,
    );
  }
  // As few shards as fit, with rows spread evenly: shards searched at the same time finish together.
  const shards: ShardPlan['shards'] = [];
  const even = Math.ceil(ntotal / Math.max(1, Math.ceil(ntotal / rowsPerShard)));
  for (let first = 0; first < ntotal || shards.length === 0; first += even) {
    const rows = Math.min(even, ntotal - first);
    shards.push({ firstRow: first, rows, bytes: fixed + Math.ceil(rows * bytesPerVector) });
    if (ntotal === 0) break;
  }
  return { description: input.description, d, ntotal, bytesPerVector, fixedBytes: fixed, growth: 1, shardBytes, rowsPerShard, shards, shardable, rebuildsGraph: spec.kind === 'hnsw' || undefined, threads };
}

/** The plan as lines for `tessera info`. */
export function formatShardPlan(plan: ShardPlan): string {
  const total = plan.shards.reduce((s, x) => s + x.bytes, 0);
  const perVector = plan.threads === undefined ? '' : `, a visited byte each for ${plan.threads} search thread${plan.threads === 1 ? '' : 's'}`;
  const lines = [
    `WASM memory: ${formatBytes(total)} (${formatBytes(plan.bytesPerVector)} per vector${perVector} + ${formatBytes(plan.fixedBytes)} fixed per shard, plus search buffers); one instance holds at most ${formatBytes(plan.shardBytes)}`,
  ];
  if (plan.shards.length === 1) {
    lines.push(`shards: 1 (fits one WebAssembly instance)`);
  } else if (!plan.shardable) {
    lines.push(`shards: does not fit one WebAssembly instance and ${plan.description} cannot be sharded: serve it on the GPU backend or convert it (tessera convert --index-type IVF4096,SQ8)`);
  } else {
    lines.push(`shards: ${plan.shards.length} module instances of up to ${plan.rowsPerShard} vectors, each on workers of its own, searched together and merged`);
    if (plan.rebuildsGraph) {
      lines.push(`  each shard is its own HNSW graph over its rows: a FAISS HNSW file this large loads by rebuilding each shard's graph from its vectors (as slow as a build); IVF/SQ8 files load without a rebuild`);
    }
    const shown = plan.shards.length > 12 ? [...plan.shards.slice(0, 5).map((s, i) => [s, i] as const), ...plan.shards.slice(-2).map((s, i) => [s, plan.shards.length - 2 + i] as const)] : plan.shards.map((s, i) => [s, i] as const);
    shown.forEach(([s, i], j) => {
      if (j > 0 && shown[j - 1]![1] !== i - 1) lines.push(`  ... (${i - shown[j - 1]![1] - 1} more alike)`);
      lines.push(`  shard ${i}: rows ${s.firstRow}..${s.firstRow + s.rows - 1} (${s.rows} vectors, ${formatBytes(s.bytes)})`);
    });
  }
  return lines.join('\n');
}

/**
 * The shard plan readIndex follows for a FAISS file as `inspectIndex` describes it (type
 * description, d, ntotal), with the `threads` the load is given (default all cores): one instance
 * searches on all of them; an HNSW file too large for one is rebuilt over shards, each sized for
 * its own share of the threads (as ShardedIndex lays them out).
 */
export function shardPlanForFile(info: { description: string; d: number; ntotal: number }, opts: ShardOptions & { threads?: number } = {}): ShardPlan {
  const one = planShards({ description: info.description, d: info.d, ntotal: info.ntotal, shardBytes: opts.shardBytes, threads: opts.threads });
  if (one.shards.length === 1 || parseFactoryString(info.description).kind !== 'hnsw') return one;
  return shardedLayout(info.description, info.d, { ...opts, expectedVectors: info.ntotal }).plan;
}

/**
 * How a ShardedIndex lays out its vectors and runs its shards: with the final size known the shards
 * get even row counts and the threads are split over them; otherwise each fills up before the next
 * starts and may use all threads. HNSW shards are sized for the threads each one searches with.
 */
function shardedLayout(description: string, d: number, opts: IndexOptions & ShardOptions): { plan: ShardPlan; perShard: { threads?: number; dedicated: boolean } } {
  const hnsw = parseFactoryString(description).kind === 'hnsw';
  const ntotal = opts.expectedVectors ?? 0;
  const all = resolveThreads(opts.threads);
  let plan = planShards({ description, d, ntotal, building: true, shardBytes: opts.shardBytes, threads: all });
  const perShard = shardThreads(opts, opts.expectedVectors ? plan.shards.length : 1);
  if (hnsw) {
    const searching = perShard.dedicated ? (perShard.threads ?? 1) : all;
    plan = planShards({ description, d, ntotal, building: true, shardBytes: opts.shardBytes, threads: searching });
  }
  return { plan, perShard };
}

type Shard = WasmFlatIndex | WasmSqIndex | WasmIvfIndex | WasmHnswIndex;

/**
 * One logical index over several module instances. Vectors fill shards in add order (ids stay
 * 0..ntotal-1); a shard holds `plan.rowsPerShard` vectors, or whole inverted lists when loaded from
 * an IVF file (then its ids are the file's).
 */
export class ShardedIndex implements Index {
  readonly backend = 'wasm' as const;
  readonly isTrainedInit: boolean;
  ntotal = 0;
  /** sealed: takes no adds (an IVF file's lists: its ids are the file's, global, so a shard-local next id would collide). */
  private readonly shards: { index: Shard; idOffset: number; sealed?: boolean }[] = [];
  private centroids: Float32Array | undefined;
  private codec: Sq8Codec | undefined;
  /** SQ8: how train learns the ranges, and what save writes (FAISS's default, or a loaded file's). */
  rangeStat: SqRangeStat = DEFAULT_RANGESTAT;
  /** IVF: the direct map type a loaded FAISS file had, rebuilt from the lists by save. */
  directMap: DirectMapType = DIRECT_MAP_NONE;
  /** IVF-SQ8 codes of residuals to the list's centroid (FAISS by_residual): the default, or what a loaded file says. */
  private byResidual: boolean;
  /** The coarse quantizer's metric (a FAISS file's may differ from the index's). */
  private coarseMetric: Metric;
  private disposed = false;
  private readonly spec: ReturnType<typeof parseFactoryString>;
  private readonly rowsPerShard: number;
  /** How each shard runs: threads of its own pool and whether that pool is dedicated (workers only). */
  private readonly perShard: { threads?: number; dedicated: boolean };
  /** Search the shards one after another (ShardOptions.sequentialShards; settable, e.g. to measure). */
  sequentialShards: boolean;
  /** The lowest id at or past ntotal of the IVF file this was read from, which no add may reach (WasmIvfIndex.lowestFileId). */
  lowestFileId: number | undefined;

  /** The factory string as the single-instance indexes give it ("HNSW32,Flat" -> "HNSW32"). */
  readonly description: string;

  /** The options given, copied: the nprobe / efSearch setters change this copy, never the caller's object. */
  private readonly opts: IndexOptions & ShardOptions & HnswIndexOptions;

  constructor(
    readonly d: number,
    description: string,
    readonly metric: Metric,
    opts: IndexOptions & ShardOptions & HnswIndexOptions = {},
  ) {
    this.opts = { ...opts };
    this.spec = parseFactoryString(description);
    this.description = factoryDescription(this.spec);
    this.isTrainedInit = this.spec.kind === 'flat' || this.spec.kind === 'hnsw';
    this.byResidual = this.spec.kind === 'ivf' && this.spec.storage === 'sq8';
    this.coarseMetric = metric;
    const { plan, perShard } = shardedLayout(description, d, opts);
    this.perShard = perShard;
    this.rowsPerShard = opts.expectedVectors ? plan.shards[0]!.rows : plan.rowsPerShard;
    this.sequentialShards = opts.sequentialShards ?? false;
  }

  /**
   * An IVF index's default nprobe (FAISS index.nprobe), as on one instance: `index.nprobe = 32` sets
   * every shard's, the shards made later and what save writes. A sharded index (what readIndex gives
   * for a file past one WebAssembly memory) had no such property, so the assignment did nothing.
   */
  get nprobe(): number | undefined {
    return this.spec.kind === 'ivf' ? (this.opts.nprobe ?? 1) : undefined;
  }
  set nprobe(nprobe: number | undefined) {
    if (this.spec.kind !== 'ivf') throw new TesseraError('INVALID_ARGUMENT', `nprobe is an IVF index's setting; this index is "${this.description}"`);
    const n = checkNprobe(nprobe);
    this.opts.nprobe = n;
    for (const s of this.shards) (s.index as WasmIvfIndex).nprobe = n;
  }

  /** An HNSW index's default efSearch (FAISS hnsw.efSearch), every shard's, as nprobe is for IVF. */
  get efSearch(): number | undefined {
    return this.spec.kind === 'hnsw' ? (this.opts.efSearch ?? HNSW_DEFAULTS.efSearch) : undefined;
  }
  set efSearch(ef: number | undefined) {
    if (this.spec.kind !== 'hnsw') throw new TesseraError('INVALID_ARGUMENT', `efSearch is an HNSW index's setting; this index is "${this.description}"`);
    const checked = checkEfSearch(ef);
    this.opts.efSearch = checked;
    for (const s of this.shards) (s.index as WasmHnswIndex).efSearch = checked;
  }

  /** True when each shard runs on workers of its own (so shards search at the same time). */
  get dedicatedWorkers(): boolean {
    return this.perShard.dedicated;
  }

  get isTrained(): boolean {
    if (this.spec.kind === 'flat' || this.spec.kind === 'hnsw') return true;
    if (this.spec.kind === 'sq') return this.codec !== undefined;
    return this.centroids !== undefined && (this.spec.kind === 'ivf' && this.spec.storage === 'flat' ? true : this.codec !== undefined);
  }

  /** Number of module instances in use. */
  get shardCount(): number {
    return this.shards.length;
  }

  /** Vectors per shard. */
  shardSizes(): number[] {
    return this.shards.map((s) => s.index.ntotal);
  }

  /** Bytes the shards' WebAssembly memories have grown to. */
  get wasmMemoryBytes(): number {
    return this.shards.reduce((s, x) => s + ('wasmMemoryBytes' in x.index ? x.index.wasmMemoryBytes : 0), 0);
  }

  private live(): void {
    if (this.disposed) throw new TesseraError('INVALID_ARGUMENT', 'this index was disposed: create or load it again');
  }

  /** Trained parameters from elsewhere (a file, a trained single index); every shard encodes alike. */
  setTrained(centroids: Float32Array | undefined, codec: Sq8Codec | undefined, byResidual = this.byResidual, coarseMetric = this.coarseMetric): void {
    this.centroids = centroids;
    this.codec = codec;
    this.byResidual = byResidual;
    this.coarseMetric = coarseMetric;
    for (const s of this.shards) this.applyTraining(s.index);
  }

  private applyTraining(index: Shard): void {
    if (index instanceof WasmSqIndex && this.codec) index.setCodec(this.codec);
    if (index instanceof WasmIvfIndex) index.coarseMetric = this.coarseMetric;
    if (index instanceof WasmIvfIndex && this.centroids) index.setTrained(this.centroids, this.codec, this.byResidual);
  }

  private async newShard(idOffset: number): Promise<Shard> {
    const o = { ...this.opts, ...this.perShard };
    const s = this.spec;
    let index: Shard;
    if (s.kind === 'flat') index = await WasmFlatIndex.create(this.d, this.metric, o);
    else if (s.kind === 'sq') index = await WasmSqIndex.create(this.d, this.metric, o);
    else if (s.kind === 'ivf') index = await WasmIvfIndex.create(this.d, s.nlist, s.storage, this.metric, o);
    else {
      // Every shard its own graph, built with the same parameters and seed as one instance would be.
      index = await WasmHnswIndex.create(this.d, s.M, this.metric, o);
      // With the final size known each shard takes its share exactly; otherwise its arrays grow in
      // place as adds come (reserving a whole shard grew the memory of 1000 vectors to 4 GiB).
      if (this.opts.expectedVectors) index.reserveNodes(this.rowsPerShard);
    }
    this.applyTraining(index);
    this.shards.push({ index, idOffset });
    return index;
  }

  /**
   * checkVectors in pieces with pauses (breather), as one instance's train and add check: one pass
   * over a large input held the event loop (a progress bar, Ctrl-C's handler) before any shard's
   * work. Returns the row count.
   */
  private async checkRows(x: Float32Array, what: string): Promise<number> {
    checkVectorShape(x, this.d, what);
    await forRowPieces(x, this.d, breather(), (p, row) => checkVectors(p, this.d, what, row));
    return x.length / this.d;
  }

  async train(x: Float32Array): Promise<void> {
    this.live();
    await this.checkRows(x, 'training vectors');
    if (this.spec.kind === 'flat') return;
    if ((this.spec.kind === 'sq' || this.spec.kind === 'ivf') && this.ntotal > 0) throw retrainError(this.description, this.ntotal);
    // Train once (in a throwaway instance for IVF) and hand the same parameters to every shard.
    if (this.spec.kind === 'sq') {
      const t = await WasmSqIndex.create(this.d, this.metric, { threads: this.opts.threads });
      t.rangeStat = this.rangeStat;
      await t.train(x);
      this.setTrained(undefined, t.codec);
      await t.dispose();
      return;
    }
    if (this.spec.kind !== 'ivf') return;
    const t = await WasmIvfIndex.create(this.d, this.spec.nlist, this.spec.storage, this.metric, this.opts);
    t.byResidual = this.byResidual;
    t.coarseMetric = this.coarseMetric;
    t.rangeStat = this.rangeStat;
    await t.train(x);
    this.setTrained(t.centroids, t.codec);
    await t.dispose();
  }

  async add(x: Float32Array): Promise<void> {
    this.live();
    const n = await this.checkRows(x, 'vectors to add');
    if (!this.isTrained) throw new TesseraError('NOT_TRAINED', `${this.description} is not trained: call train(x) before add`);
    if (this.spec.kind === 'ivf') checkAddIds(this.lowestFileId, this.description, this.ntotal, n);
    let done = 0;
    while (done < n) {
      let last = this.shards[this.shards.length - 1];
      if (!last || last.sealed || last.index.ntotal >= this.rowsPerShard) {
        await this.newShard(this.ntotal);
        last = this.shards[this.shards.length - 1]!;
      }
      const m = Math.min(n - done, this.rowsPerShard - last.index.ntotal);
      await last.index.add(x.subarray(done * this.d, (done + m) * this.d));
      done += m;
      this.ntotal += m;
    }
  }

  async search(q: Float32Array, k: number, opts: SearchOptions = {}): Promise<SearchResult> {
    this.live();
    const nq = checkSearch(q, k, this.d, this.ntotal);
    if (nq === 0 || this.ntotal === 0) return emptyResult(nq, k, this.metric);
    opts.signal?.throwIfAborted();
    // All shards at once, each on its own workers (or one after another on this thread where there
    // are none). The merge does not depend on the order the parts finish in.
    const live = this.shards.filter((s) => s.index.ntotal > 0);
    const one = async (s: (typeof live)[number]) => offsetLabels(await s.index.search(q, k, opts), s.idOffset);
    let parts: SearchResult[];
    if (this.perShard.dedicated && !this.sequentialShards) {
      // Every shard's search settled before this one does (an abort reaches each between its
      // batches): an add after a failed search must not move rows a shard's workers still read.
      const settled = await Promise.allSettled(live.map(one));
      const failed = settled.find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
      parts = settled.map((r) => (r as PromiseFulfilledResult<SearchResult>).value);
    } else {
      parts = [];
      for (const s of live) parts.push(await one(s));
    }
    return parts.length === 1 ? parts[0]! : mergeResults(parts, k, this.metric);
  }

  /** Writes one FAISS file (IxSQ, IwFl or IwSq) holding every shard, as a single instance would. */
  async save(target: string | ByteSink): Promise<void> {
    this.live();
    const s = this.spec;
    if (s.kind === 'flat') {
      // One IndexFlatIP / IndexFlatL2 file: the shards' rows in id order, as one instance writes them.
      const shards = this.shards.map((sh) => sh.index as WasmFlatIndex);
      await writeFlatIndex(target, this.d, this.metric, this.ntotal, (function* () {
        for (const sh of shards) yield* sh.rowChunks();
      })());
      return;
    }
    if (s.kind === 'hnsw') {
      throw new TesseraError('UNSUPPORTED', `a sharded ${this.description} index is ${this.shards.length} separate graphs, which one FAISS HNSW file cannot hold: save each shard (shard(i).save) or convert to IVF/SQ8`);
    }
    await writeToTarget(target, async (sink) => {
      if (s.kind === 'sq') {
        await sink.write(encodeSqFileHeader(this.d, this.ntotal, this.metric, this.codec?.trained ?? new Float32Array(0), this.rangeStat));
        for (const sh of this.shards) {
          const codes = (sh.index as WasmSqIndex).codes();
          for (let o = 0; o < codes.length; o += 16 << 20) await sink.write(codes.slice(o, Math.min(codes.length, o + (16 << 20))));
        }
      } else if (s.kind === 'ivf') {
        const lists = this.shards.map((sh) => ({ L: (sh.index as WasmIvfIndex).invertedLists(), off: sh.idOffset }));
        const sizes = new Float64Array(s.nlist);
        for (const { L } of lists) for (let l = 0; l < s.nlist; l++) sizes[l]! += L.sizes[l]!;
        // the head in chunks: a hashtable direct map is made a chunk at a time as the sink takes it
        for (const chunk of ivfHeadChunks({
          d: this.d,
          metric: this.metric,
          quantizerMetric: this.coarseMetric,
          ntotal: this.ntotal,
          nprobe: this.opts.nprobe ?? 1,
          centroids: this.centroids ?? new Float32Array(0),
          sqTrained: s.storage === 'sq8' ? (this.codec?.trained ?? new Float32Array(0)) : undefined,
          sqRange: this.rangeStat,
          byResidual: this.byResidual,
          isTrained: this.isTrained,
          listSizes: sizes,
          // each list's entries as written below: the shards' parts in shard order, views made afresh at each call
          directMap: directMapChunks(this.directMap, this.ntotal, sizes, (l) => ({
            parts: lists.map(({ L, off }) => ({ ids: new Int32Array(L.bytes.buffer, L.idPtr[l]!, L.sizes[l]!), offset: off })),
          })),
        })) {
          await sink.write(chunk);
        }
        for (let l = 0; l < s.nlist; l++) {
          if (sizes[l] === 0) continue;
          for (const { L } of lists) {
            const n = L.sizes[l]!;
            if (n > 0) await sink.write(L.bytes.slice(L.codePtr[l]!, L.codePtr[l]! + n * L.codeSize));
          }
          for (const { L, off } of lists) {
            const n = L.sizes[l]!;
            if (n === 0) continue;
            const src = new Int32Array(L.bytes.buffer, L.idPtr[l]!, n);
            const ids = new BigInt64Array(n);
            for (let i = 0; i < n; i++) ids[i] = BigInt(src[i]! + off);
            await sink.write(new Uint8Array(ids.buffer));
          }
        }
      }
    });
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    for (const s of this.shards) await s.index.dispose();
  }

  /** Shard i's own index (ids local to it; its first row is shardOffset(i)). */
  shard(i: number): Shard {
    const s = this.shards[i];
    if (!s) throw new TesseraError('INVALID_ARGUMENT', `shard ${i} does not exist (${this.shards.length} shards)`);
    return s.index;
  }

  shardOffset(i: number): number {
    return this.shards[i]?.idOffset ?? 0;
  }

  /** Internal (loaders): adds a prepared shard; a sealed one takes no adds. */
  pushShard(index: Shard, idOffset: number, sealed = false): void {
    this.shards.push({ index, idOffset, sealed });
    this.ntotal += index.ntotal;
  }
}

/** An empty sharded index from a factory string ("SQ8", "IVF4096,SQ8", "IVF1024,Flat", "Flat"). */
export function shardedIndex(d: number, description: string, metric: Metric, opts: IndexOptions & ShardOptions = {}): ShardedIndex {
  // What indexFactory checks: a metric of 'IP' made L2 shards that reported 'IP', and d = 0 an index.
  checkDimension(d);
  checkMetric(metric);
  const expected = opts.expectedVectors;
  if (expected !== undefined && !(Number.isSafeInteger(expected) && expected >= 0)) {
    // it failed at the first add, naming reserveNodes (an internal step) and NaN for a string
    throw new TesseraError('INVALID_ARGUMENT', `expectedVectors must be an integer >= 0 (the vectors the index will hold), got ${describeArg(expected)}: pass such a count or leave it out`);
  }
  if (opts.backend === 'gpu') {
    throw new TesseraError('UNSUPPORTED', `shardedIndex runs on the WASM (CPU) backend, got backend 'gpu': leave backend out, or make a GPU index with indexFactory(d, 'Flat', metric, { backend: 'gpu' }), which shards across devices itself`);
  }
  return new ShardedIndex(d, description, metric, opts);
}

/**
 * Reads an IxSQ file into shards of at most `shardBytes` (rows split in order), streaming each
 * shard's codes straight into its own memory.
 */
export async function loadShardedSq(source: ByteSource, opts: IndexOptions & ShardOptions = {}, label = sourceLabel(source), layout?: SqLayout): Promise<ShardedIndex> {
  layout ??= await readSqFile(source, label);
  const plan = planShards({ description: 'SQ8', d: layout.d, ntotal: layout.ntotal, shardBytes: opts.shardBytes });
  const out = new ShardedIndex(layout.d, 'SQ8', layout.metric, { ...opts, expectedVectors: layout.ntotal });
  const each = { ...opts, ...shardThreads(opts, plan.shards.length) };
  const codec = layout.sq.trained.length === 2 * layout.d ? new Sq8Codec(layout.d, layout.sq.trained) : undefined;
  out.setTrained(undefined, codec);
  out.rangeStat = layout.sq;
  try {
    for (const s of plan.shards) {
      const index = await WasmSqIndex.create(layout.d, layout.metric, each);
      if (codec) index.setCodec(codec);
      const bytes = index.reserve(s.rows, true);
      await readSourceInto(source, layout.codesOffset + s.firstRow * layout.d, s.rows * layout.d, bytes, index.codesAt, label, (done) =>
        opts.onProgress?.({ phase: 'loading index', done: s.firstRow + done / layout.d, total: layout.ntotal, unit: 'rows' }),
      );
      index.ntotal = s.rows;
      out.pushShard(index, s.firstRow);
    }
  } catch (e) {
    await out.dispose();
    throw e;
  }
  return out;
}

/** Reads an IwFl / IwSq file into shards holding whole inverted lists (consecutive lists per shard). */
export async function loadShardedIvf(source: ByteSource, opts: IndexOptions & ShardOptions = {}, label = sourceLabel(source), layout?: IvfLayout): Promise<ShardedIndex> {
  layout ??= await readIvfFile(source, label);
  const storage = layout.fourcc === IVF_SQ_FOURCC ? 'sq8' : 'flat';
  const description = `IVF${layout.nlist},${storage === 'sq8' ? 'SQ8' : 'Flat'}`;
  const plan = planShards({ description, d: layout.d, ntotal: layout.ntotal, shardBytes: opts.shardBytes });
  const out = new ShardedIndex(layout.d, description, layout.metric, { ...opts, nprobe: opts.nprobe ?? Math.max(1, layout.nprobe), expectedVectors: layout.ntotal });
  const each = { ...opts, ...shardThreads(opts, plan.shards.length) };
  const codec = layout.sq && layout.sq.trained.length === 2 * layout.d ? new Sq8Codec(layout.d, layout.sq.trained) : undefined;
  const trained = layout.centroids.length === layout.nlist * layout.d;
  out.setTrained(trained ? layout.centroids : undefined, codec, layout.byResidual, layout.quantizerMetric);
  if (layout.sq) out.rangeStat = layout.sq;
  out.directMap = layout.directMap;
  const perVector = layout.codeSize + 4;
  const fileIds = new FileIds(layout.ntotal);
  // What one instance takes, whatever shardBytes says (a list larger than a shard gets one of its own)
  const instanceBytes = Math.min((opts as { memoryLimit?: number }).memoryLimit ?? WASM_MEMORY_LIMIT, WASM_MEMORY_LIMIT);
  const instanceRows = planShards({ description, d: layout.d, ntotal: 1, shardBytes: instanceBytes, threads: each.threads }).rowsPerShard;
  let l0 = 0;
  let done = 0;
  try {
    while (l0 < layout.nlist) {
      // whole lists until the shard holds its even share of the rows (the plan's), never past a
      // full shard (a list larger than a shard gets a shard of its own)
      const share = plan.shards[0]!.rows;
      let l1 = l0;
      let rows = 0;
      while (l1 < layout.nlist && (l1 === l0 || (rows < share && rows + layout.listSizes[l1]! <= plan.rowsPerShard))) rows += layout.listSizes[l1++]!;
      if (rows > instanceRows) {
        throw new TesseraError(
          'OUT_OF_MEMORY',
          `${label}: inverted list ${l0} holds ${rows} vectors (${formatBytes(rows * perVector)}), more than one WebAssembly memory of ${formatBytes(instanceBytes)} holds (about ${instanceRows}, ` +
            `its search headroom kept free), and a list cannot be split over shards: rebuild with a larger nlist`,
        );
      }
      const index = await WasmIvfIndex.create(layout.d, layout.nlist, storage, layout.metric, { ...each, nprobe: opts.nprobe ?? Math.max(1, layout.nprobe) });
      index.coarseMetric = layout.quantizerMetric;
      if (trained && (storage === 'flat' || codec)) index.setTrained(layout.centroids, codec, layout.byResidual);
      const want = new Float64Array(layout.nlist);
      for (let l = l0; l < l1; l++) want[l] = layout.listSizes[l]!;
      index.invertedLists().reserve(want, true);
      for (let l = l0; l < l1; l++) {
        if (layout.listSizes[l] === 0) continue;
        await loadIvfList(source, layout, l, index, fileIds, label);
        done += layout.listSizes[l]!;
        opts.onProgress?.({ phase: 'loading index', done, total: layout.listed, unit: 'vectors' });
      }
      index.ntotal = rows;
      // Its ids are the file's: an add here would number from the shard's own count (FAISS: ntotal).
      out.pushShard(index, 0, true);
      l0 = l1;
    }
  } catch (e) {
    await out.dispose();
    throw e;
  }
  // The file's ntotal, not the lists' sum: FAISS counts vectors it put in no list (NaN values), and adds number from it.
  out.ntotal = layout.ntotal;
  out.lowestFileId = fileIds.lowestAbove;
  return out;
}

/**
 * Reads an IxFI / IxF2 / IxFl file into Flat shards of at most `shardBytes` (rows split in order),
 * streaming each shard's rows straight into its own memory. Ids stay the rows' positions, so adds
 * continue after the file's last row.
 */
export async function loadShardedFlat(
  source: ByteSource,
  opts: IndexOptions & ShardOptions = {},
  label = sourceLabel(source),
  layout?: FlatLayout,
): Promise<ShardedIndex> {
  // The header is read once (here or by loadFlatAuto) and handed to each shard's load.
  layout ??= await readFlatLayout(source, 0, label);
  const plan = planShards({ description: 'Flat', d: layout.d, ntotal: layout.ntotal, shardBytes: opts.shardBytes });
  const out = new ShardedIndex(layout.d, 'Flat', layout.metric, { ...opts, expectedVectors: layout.ntotal });
  const each = { ...opts, ...shardThreads(opts, plan.shards.length) };
  try {
    for (const s of plan.shards) {
      const onProgress = opts.onProgress && ((p: { done: number }) => opts.onProgress!({ phase: 'loading index', done: s.firstRow + p.done, total: layout.ntotal, unit: 'rows' }));
      const index = await WasmFlatIndex.load(source, { ...each, onProgress }, { firstRow: s.firstRow, rowCount: s.rows }, layout);
      out.pushShard(index, s.firstRow);
    }
  } catch (e) {
    await out.dispose();
    throw e;
  }
  return out;
}

/** Loader for readIndex ('flat'): one instance when the file fits one WebAssembly memory, else shards. */
export async function loadFlatAuto(source: ByteSource, opts: IndexOptions & ShardOptions = {}, layout?: FlatLayout): Promise<Index> {
  // `layout`: the header as readIndex read it (else read here, once)
  const label = sourceLabel(source);
  layout ??= await readFlatLayout(source, 0, label);
  if (needsShards('Flat', layout.d, layout.ntotal, opts)) return loadShardedFlat(source, opts, label, layout);
  return WasmFlatIndex.load(source, opts, undefined, layout);
}

/**
 * True when a file of this type and size needs more than one instance (the loaders then shard);
 * `threads`: those the instance would get (default all cores), which HNSW counts.
 */
export function needsShards(description: string, d: number, ntotal: number, opts: ShardOptions & { threads?: number } = {}): boolean {
  return planShards({ description, d, ntotal, shardBytes: opts.shardBytes, threads: opts.threads }).shards.length > 1;
}

/** Loader for readIndex ('sq'): one instance when the file fits one WebAssembly memory, else shards. */
export async function loadSqAuto(source: ByteSource, opts: IndexOptions & ShardOptions = {}, layout?: SqLayout): Promise<Index> {
  // The header is read once (by readIndex, or here) and handed on (as loadFlatAuto does).
  const label = sourceLabel(source);
  layout ??= await readSqFile(source, label);
  if (needsShards('SQ8', layout.d, layout.ntotal, opts)) return loadShardedSq(source, opts, label, layout);
  return loadSqIndex(source, opts, label, layout);
}

/** Loader for readIndex ('ivf'): one instance when the file fits one WebAssembly memory, else shards. */
export async function loadIvfAuto(source: ByteSource, opts: IndexOptions & ShardOptions = {}, layout?: IvfLayout): Promise<Index> {
  // The header (with the centroids and list sizes) is read once (by readIndex, or here) and handed on.
  const label = sourceLabel(source);
  layout ??= await readIvfFile(source, label);
  const description = `IVF${layout.nlist},${layout.fourcc === IVF_SQ_FOURCC ? 'SQ8' : 'Flat'}`;
  if (needsShards(description, layout.d, layout.ntotal, opts)) return loadShardedIvf(source, opts, label, layout);
  return loadIvfIndex(source, opts, label, layout);
}

/**
 * Reads an IHNf file (FAISS IndexHNSWFlat) too large for one instance into HNSW shards: its one
 * graph cannot be cut into row ranges without losing the links between them, so each shard builds
 * its own graph (same M, the file's efConstruction) from the file's vectors, streamed in order.
 * Slow (a full build), hence `tessera info` says so; small files load as one instance (loadHnswAuto).
 */
export async function loadShardedHnsw(
  source: ByteSource,
  opts: IndexOptions & ShardOptions & HnswIndexOptions = {},
  label = sourceLabel(source),
  layout?: HnswLayout,
): Promise<ShardedIndex> {
  layout ??= await readHnswFlatHeader(new ByteReader(source, 0, label));
  const stored = storedEfs(opts, layout, label);
  const out = new ShardedIndex(layout.d, `HNSW${layout.M}`, layout.metric, {
    ...opts,
    onProgress: undefined,
    expectedVectors: layout.ntotal,
    efConstruction: stored.efConstruction ?? HNSW_DEFAULTS.efConstruction,
    efSearch: stored.efSearch ?? HNSW_DEFAULTS.efSearch,
  });
  try {
    let done = 0;
    // A rebuild is a full HNSW build (minutes): shown from its start, not from its first chunk's end.
    opts.onProgress?.({ phase: 'building HNSW shards', done, total: layout.ntotal, unit: 'vectors' });
    for await (const chunk of streamFlatRows(source, layout.storage, { label })) {
      await out.add(chunk.data);
      done += chunk.data.length / layout.d;
      opts.onProgress?.({ phase: 'building HNSW shards', done, total: layout.ntotal, unit: 'vectors' });
    }
  } catch (e) {
    await out.dispose();
    throw e;
  }
  return out;
}

/** Loader for readIndex ('hnsw'): the file's graph in one instance when it fits, else rebuilt as shards. */
export async function loadHnswAuto(source: ByteSource, opts: IndexOptions & ShardOptions = {}, layout?: HnswLayout): Promise<Index> {
  const label = sourceLabel(source);
  // Read once (levels and offsets: 20 bytes a node; by readIndex, or here) and handed on, as loadFlatAuto does.
  layout ??= await readHnswFlatHeader(new ByteReader(source, 0, label));
  // One instance searches on all its threads, each with a visited byte per node.
  if (needsShards(`HNSW${layout.M}`, layout.d, layout.ntotal, opts)) return loadShardedHnsw(source, opts, label, layout);
  return WasmHnswIndex.load(source, opts, label, layout);
}
