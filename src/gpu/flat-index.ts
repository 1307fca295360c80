/**
 * GpuFlatIndex: exact (f32) or compressed (f16, int8 + exact re-rank) flat search on one or more
 * WebGPU devices. Rows are sharded across devices in contiguous runs; each shard searches its own
 * tiles and the host merges the shards' top-k (core/topk mergeResults).
 */
import { orderCalls } from '../core/call-order.js';
import { TesseraError, formatBytes } from '../core/errors.js';
import { InFlight } from '../core/in-flight.js';
import { lazyChunk, SERVE_CHUNKS } from '../core/lazy.js';
import type { IndexOptions, IndexSpec } from '../core/factory.js';
import { describePlan, type FlatPlan, planeRowBytes, planFlat, type PrecisionChoice, rowBytes, storedDims, tempBytes } from '../core/planner.js';
import { concatResults, emptyResult, mergeRankedIds, mergeResults, worstDistance } from '../core/topk.js';
import type { ByteSink, ByteSource, Index, Metric, SearchOptions, SearchResult } from '../core/types.js';
import { checkDimension, checkK, checkMetric, checkSearch, checkVectors, MAX_K } from '../core/validate.js';
import { type FlatLayout, readFlatLayout, writeFlatIndex } from '../io/faiss/flat.js';
import { FileRows, FunctionRows, type RandomAccessSource, readInto, RowStore } from '../io/row-source.js';
import { WasmHeap } from '../wasm/module.js';
import { dedicatedWorkersAvailable, hardwareThreads } from '../wasm/worker-pool.js';
import { acquireDevice, checkGpuObjects, type GpuContext } from './device.js';
import { DIMS_PER_WORD, EMPTY_ID, FlatShard, MAX_BATCH, type Precision, searchTuning } from './flat-shard.js';
import { fromHalfBits, toHalfBits } from './half.js';
import { type QueryBlocksJob, type RerankJob, RerankWorkers, rerankTuning, scoreQueryBlocks, type SharedRowChunks } from './rerank-workers.js';
import { trainSq } from './tensor/quantize.js';
import { halfMatrixConfig, halfScanDeviceRefusal, halfScanNotAsked, tensorTuning } from './tensor/tuning.js';
import { matrixConfigsOf, SUBGROUP_MATRIX_FEATURE } from './tensor/choose.js';

/** Options of the GPU flat index beyond IndexOptions: tile and buffer sizes (tests and benchmarks shrink them) and test switches. */
export interface GpuFlatOptions extends IndexOptions {
  /** Largest tile in bytes (default: the device's maxStorageBufferBindingSize). */
  maxTileBytes?: number;
  /**
   * int8, and f16 batches of 9+ queries: score on the tensor cores through Dawn's experimental
   * subgroup matrices where the adapter has them (src/gpu/tensor/hook.ts; Node opens Dawn with
   * allow_unsafe_apis). Off by default.
   */
  allowExperimental?: boolean;
  /** Bytes per chunk read from the file while loading (default 64 MiB). */
  loadChunkBytes?: number;
  /**
   * (IndexOptions) int8 loaded from a file: where re-ranking reads the float32 rows. 'file' (the
   * default when readIndex opened the file from a path) reads each candidate's row from the file by
   * offset, so host memory stays bounded; 'memory' keeps every row in host memory (4 x d bytes a
   * row). With a ByteSource of your own the default is 'memory'; 'file' reads from it: keep it open
   * until the index is disposed. Indexes built by add() always keep their rows in memory.
   */
  rerankFrom?: 'file' | 'memory';
  /**
   * int8: bytes of float32 candidate rows copied or read and scored at once: rows in memory, per
   * worker (blocks of whole queries, at least one; default 1 MiB); rows from a file or generator,
   * per run (default 1 MiB; 4 MiB, twice, with rerankThreads).
   */
  rerankBufferBytes?: number;
  /** Tests: fill scratch buffers with a poison pattern before every search, so unwritten output shows. */
  debugPoison?: boolean;
  /** Tests: use the kernels for adapters without subgroups even where the adapter has them. */
  noSubgroups?: boolean;
  /** Tests: decode f16 rows with unpack2x16float even where the device has shader-f16. */
  noShaderF16?: boolean;
}

const DEFAULT_SCRATCH = 256 * 1024 * 1024;

/** A run of consecutive global ids stored at consecutive local rows of one shard. */
interface Run {
  shard: number;
  local: number;
  global: number;
  count: number;
}

export class GpuFlatIndex implements Index {
  readonly backend = 'gpu' as const;
  readonly description = 'Flat';
  readonly isTrained = true;
  private shards: FlatShard[];
  private runs: Run[] = [];
  private total = 0;
  private disposed = false;
  /** int8: per-dimension decode parameters, fixed by the first add. */
  private sq: { vmin: Float32Array; step: Float32Array } | undefined;
  /** int8: each dimension's largest magnitude over the host rows the re-rank scores (f32, f16: the shards measure theirs). */
  private int8RowMax: Float32Array;
  /** int8: where exact re-ranking reads float32 rows (host memory, the index file, a generator), by id. */
  private rowStore: RowStore;
  /** While loading from a file that re-ranking reads later: addRows keeps no host copy. */
  private rowsInFile = false;

  private constructor(
    readonly d: number,
    readonly metric: Metric,
    readonly precision: Precision,
    private readonly contexts: GpuContext[],
    private readonly opts: GpuFlatOptions,
  ) {
    this.rowStore = new RowStore(d);
    this.int8RowMax = new Float32Array(d);
    this.shards = contexts.map(
      (ctx) => new FlatShard(ctx, { d, metric, precision, maxTileBytes: opts.maxTileBytes, scratchBytes: opts.scratchBytes, debugPoison: opts.debugPoison, noSubgroups: opts.noSubgroups, noShaderF16: opts.noShaderF16, f16TensorCores: opts.f16TensorCores, f16TwoPass: f16TwoPassOf(opts), f32TensorCores: opts.f32TensorCores }),
    );
    for (const shard of this.shards) {
      shard.profile = (name, from, to) => this.addProfile(name, from, to);
      shard.onNotice = opts.onNotice;
    }
  }

  /** Opens the devices (opts.gpus, else opts.gpu, else the runtime's) and makes an empty index. */
  static async create(d: number, metric: Metric, opts: GpuFlatOptions = {}, n = 0, hostRows = n): Promise<GpuFlatIndex> {
    checkDimension(d);
    checkMetric(metric);
    checkPlanOptions(opts);
    checkRerankOptions(opts);
    checkSizeOptions(opts);
    const contexts = await openDevices(opts);
    try {
      const plan = planFor(contexts, d, metric, n, opts.precision ?? 'f32', opts, hostRows);
      if (opts.maxTileBytes !== undefined && opts.maxTileBytes < plan.rowBytes) {
        throw new TesseraError('INVALID_ARGUMENT', `maxTileBytes ${opts.maxTileBytes} is smaller than one row (${plan.rowBytes} bytes for d=${d} as ${plan.precision}): pass at least ${plan.rowBytes}, or leave it out for the device's binding limit`);
      }
      const index = new GpuFlatIndex(d, metric, plan.precision, contexts, opts);
      index.plan = plan;
      const notice = opts.allowExperimental ? tensorNotice(contexts, plan, metric, opts) : experimentalHint(contexts, metric);
      if (notice) opts.onNotice?.(notice);
      // Public (the package exports the class): its calls wait for each other as the factory's do;
      // unordered, a search issued after an add read rows still being written (int8: wrong
      // neighbours) and a dispose issued after a search freed the buffers under it.
      return orderCalls(index);
    } catch (e) {
      for (const c of contexts) c.destroy();
      throw e;
    }
  }

  /** The plan of the last create/add/load: each adapter's rows, tiles, temporary bytes and planes (f32's digit planes, f16's code plane); a load says it through onNotice (planner describePlan). */
  get plan(): FlatPlan | undefined {
    return this.lastPlan;
  }

  set plan(plan: FlatPlan | undefined) {
    this.lastPlan = plan;
    // f32 shards take the tensor path only for the tiles whose digit planes the plan holds.
    this.shards.forEach((shard, i) => (shard.digitTilesPlanned = plan?.shards[i]?.digitTiles ?? 0));
    // Searches of any k keep each temporary buffer within the plan's share (FlatShard.candCap).
    this.shards.forEach((shard, i) => {
      shard.candCap = plan?.shards[i]?.candBytes;
      shard.readCap = plan?.shards[i]?.readBytes;
    });
  }

  private lastPlan: FlatPlan | undefined;

  /**
   * Why a shard's planned digit planes could not be allocated (each such adapter's message, said
   * once through onNotice too): its f32 rows then run the f32 kernels, f16 converts its rows as it
   * reads them. Undefined while every plan holds.
   */
  get digitsRefused(): string | undefined {
    const refused = this.shards.map((s) => s.digitsRefused).filter((m): m is string => m !== undefined);
    return refused.length ? refused.join('; ') : undefined;
  }

  /**
   * Where only some of a shard's planned f32 digit planes could be allocated (each such adapter's
   * message, said once through onNotice too): its first tiles keep theirs, the f32 kernels score
   * the others in the same searches. Undefined while every plan holds.
   */
  get digitsCut(): string | undefined {
    const cut = this.shards.map((s) => s.digitsCut).filter((m): m is string => m !== undefined);
    return cut.length ? cut.join('; ') : undefined;
  }

  get ntotal(): number {
    return this.total;
  }

  /** Devices holding shards, in shard order. */
  get deviceCount(): number {
    return this.shards.length;
  }

  /** Tiles per shard (for tests and reports). */
  get tilesPerShard(): number[] {
    return this.shards.map((s) => s.tileCount);
  }

  /** Benchmarks: GPU timestamps around each search; false when the adapter lacks timestamp-query. */
  enableTimestamps(): boolean {
    return this.shards.every((s) => s.enableTimestamps());
  }

  /**
   * Benchmarks: GPU timestamps around each dispatch of a search (a compute pass each), summed by the
   * pipeline's label (takeStepMs); false when an adapter lacks timestamp-query.
   */
  enableStepTimestamps(): boolean {
    return this.shards.every((s) => s.enableStepTimestamps());
  }

  /** Milliseconds of GPU time per pipeline label since the last call, summed over shards, with enableStepTimestamps. */
  takeStepMs(): Record<string, number> {
    const ms: Record<string, number> = {};
    for (const s of this.shards) {
      for (const [label, ns] of s.stepNs) ms[label] = (ms[label] ?? 0) + ns / 1e6;
      s.stepNs.clear();
    }
    return ms;
  }

  /** Milliseconds of GPU time since the last call (the slowest shard), with enableTimestamps. */
  takeGpuMs(): number {
    const ms = Math.max(...this.shards.map((s) => s.gpuNs)) / 1e6;
    for (const s of this.shards) s.gpuNs = 0;
    return ms;
  }

  /** Largest k one search accepts. */
  get kLimit(): number {
    return Math.min(...this.shards.map((s) => s.kLimit));
  }

  private check(): void {
    if (this.disposed) throw new TesseraError('INVALID_ARGUMENT', 'this GPU index was disposed: create or load a new one');
    for (const c of this.contexts) c.check();
  }

  async train(x: Float32Array): Promise<void> {
    this.check();
    checkVectors(x, this.d, 'training vectors');
  }

  async add(x: Float32Array): Promise<void> {
    this.check();
    const n = checkVectors(x, this.d, 'vectors to add');
    // An aborted search rejected at once, but its batches may still be preparing, on the GPU or
    // re-ranking: rows must not move under them (orderCalls saw that search settle already).
    if (this.inflight.size) await this.inflight.settled();
    await this.addRows(x, n);
  }

  /**
   * Appends n rows without the finiteness checks (the loader's path: FAISS files hold what FAISS
   * wrote); f16 rows are still checked against float16's range, which float32 files may exceed.
   */
  async addRows(x: Float32Array, n: number): Promise<void> {
    if (n === 0) return;
    if (this.precision === 'f16') checkHalfRange(x.subarray(0, n * this.d), this.d);
    // Refuse before allocating: the planner checks the grown index against stated memory.
    const hostRows = this.rowStore.hostBytes / (this.d * 4) + (this.rowsInFile ? 0 : n);
    const planBefore = this.plan;
    try {
      this.plan = planFor(this.contexts, this.d, this.metric, this.total + n, this.precision, this.opts, hostRows);
    } catch (e) {
      // 'auto' chose when the index was created, from the rows it had then (none, for indexFactory):
      // the refusal names precisions that fit, which 'auto' can no longer switch to.
      if (e instanceof TesseraError && e.code === 'OUT_OF_MEMORY' && this.opts.precision === 'auto') {
        throw new TesseraError('OUT_OF_MEMORY', `${e.message} (precision 'auto' chose '${this.precision}' when the index was created, for the ${this.total} rows it had then; a precision is fixed once chosen: create the index with the precision that fits, or load the file with readIndex, where 'auto' sees every row)`, { cause: e });
      }
      throw e;
    }
    const trainedHere = this.precision === 'int8' && !this.sq;
    // encode raises it for values the codes clamp: a failed add's values must not bound later searches.
    const rowMaxBefore = this.int8RowMax.slice();
    // Contiguous runs, topping shards up towards an even share of the new total; a load fills them
    // to their final rows (expectedRows), so an early chunk's share gives the last shard none ahead.
    const share = Math.ceil((this.total + n) / this.shards.length);
    const runs: Run[] = [];
    // Each device as it was, so one that took its rows can give them back with the tiles it made.
    const marks = this.shards.map((s) => s.mark());
    let done = 0;
    try {
      if (trainedHere) {
        this.sq = trainSq(x, n, this.d);
        await Promise.all(this.shards.map((s) => s.setSq(this.sq!.vmin, this.sq!.step)));
      }
      for (let s = 0; s < this.shards.length && done < n; s++) {
        const shard = this.shards[s]!;
        const take = s === this.shards.length - 1 ? n - done : Math.min(n - done, Math.max(0, (shard.expectedRows ?? share) - shard.ntotal));
        if (take === 0) continue;
        const rows = this.encode(x.subarray(done * this.d, (done + take) * this.d), take);
        const local = shard.ntotal;
        await shard.add(rows);
        runs.push({ shard: s, local, global: this.total + done, count: take });
        done += take;
      }
    } catch (e) {
      // All or nothing: a shard that fails (a device out of memory) after others took their rows
      // would leave those rows numbered again by the next add. Devices that took theirs give them
      // back, and the tiles they made or grew for them (the failing one did so itself).
      await Promise.all(runs.map((r) => this.shards[r.shard]!.rollback(marks[r.shard]!))).catch(() => undefined);
      this.plan = planBefore;
      this.int8RowMax = rowMaxBefore;
      if (trainedHere) this.sq = undefined;
      throw e;
    }
    this.runs.push(...runs);
    // int8's host rows for the re-rank, by global id: only once every device holds its rows.
    if (this.precision === 'int8' && !this.rowsInFile) this.rowStore.memory().append(x, n);
    this.total += n;
  }

  private encode(x: Float32Array, n: number): Uint32Array {
    const d = this.d;
    const words = Math.ceil(d / DIMS_PER_WORD[this.precision]) * 4;
    // f32 rows that need no padding go to the GPU as they are: no copy (the loader's hot path);
    // not views of shared memory, which writeBuffer refuses.
    if (this.precision === 'f32' && words === d && x.byteOffset % 4 === 0 && x.buffer instanceof ArrayBuffer) return new Uint32Array(x.buffer, x.byteOffset, n * d);
    const out = new Uint32Array(n * words);
    if (this.precision === 'f32') {
      const f = new Float32Array(out.buffer);
      if (words === d) f.set(x.subarray(0, n * d));
      else for (let i = 0; i < n; i++) f.set(x.subarray(i * d, (i + 1) * d), i * words);
    } else if (this.precision === 'f16') {
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < d; j++) {
          const h = toHalfBits(x[i * d + j]!);
          out[i * words + (j >>> 1)]! |= (j & 1 ? h << 16 : h) >>> 0;
        }
      }
    } else {
      const bytes = new Uint8Array(out.buffer);
      const { vmin, step } = this.sq!;
      const rowMax = this.int8RowMax;
      const rb = words * 4;
      // round((v - vmin) / step) clamped to 0..255, as floor(t + 0.5) on the clamped value: 3x
      // faster than Math.round plus compares in V8 (int8 loads are bound by this loop). Only a
      // clamped value can pass the codes' range, which bounds the rest: rowMax sees just those.
      for (let i = 0; i < n; i++) {
        const xo = i * d;
        const bo = i * rb;
        for (let j = 0; j < d; j++) {
          const s = step[j]!;
          const v = x[xo + j]!;
          const t = s > 0 ? (v - vmin[j]!) / s + 0.5 : 0;
          if (t > 0 && t < 255) {
            bytes[bo + j] = t | 0;
          } else {
            bytes[bo + j] = t >= 255 ? 255 : 0;
            const a = Math.abs(v);
            if (a > rowMax[j]!) rowMax[j] = a;
          }
        }
      }
    }
    return out;
  }

  /** Most queries the shards search at once (GpuFlatOptions.maxBatch): the batch the plan counts. */
  private get maxBatch(): number {
    return this.opts.maxBatch ?? MAX_BATCH;
  }

  /** Most queries one search sends to the shards at once: maxBatch, for int8 its sub-batch (rerankSubBatch) where smaller. */
  private get shardBatch(): number {
    const sub = this.precision === 'int8' ? this.opts.rerankSubBatch ?? DEFAULT_RERANK_SUB_BATCH : 0;
    return Math.min(sub > 0 ? sub : MAX_BATCH, this.maxBatch);
  }

  /**
   * Neighbours the GPU selects per query for k: int8, the candidates re-ranked on the host (k');
   * f16 and f32, k' too where a batch of nq queries goes through the tensor cores (the shards
   * re-rank them exactly from their rows, FlatShard.approximateFor; f32 at most the tensor lists'
   * maxK when that still exceeds k by 8), else k.
   */
  gpuK(k: number, nq = this.maxBatch): number {
    const kp = Math.min(this.kLimit, this.total, rerankCandidates(k, this.opts));
    if (this.precision === 'int8') return kp;
    // f32 lists are certified (a list that is not goes to the f32 kernels), so f32 may take fewer
    // candidates than the rule when the tensor scorer's lists cannot hold them: at least k + 8.
    const kpF32 = Math.min(kp, Math.max(k + 8, tensorTuning.maxK));
    const want = this.precision === 'f32' ? kpF32 : kp;
    if ((this.precision === 'f16' || this.precision === 'f32') && want > k) {
      const nqb = Math.min(nq, this.maxBatch);
      if (this.shards.some((s) => s.ntotal > 0 && s.approximateFor(nqb, Math.min(want, s.ntotal)))) return want;
    }
    return k;
  }

  /**
   * Compiles now the GPU pipelines that searches for k neighbours will use (every batch size's
   * kernel, and the merge), so the first search does not pay for them: on the
   * H200 a fresh process's first search took 0.1-0.2 s more per new kernel (BENCHMARKS gpu-flat).
   * Call it after adding or loading the rows, e.g. before serving.
   */
  warmUp(k = 10): void {
    this.check();
    // As search checks it: a k of 'x' or NaN was refused as not fitting workgroup memory, 0 or 2.5 taken.
    checkK(k);
    // Batch classes up to what a search sends at once (int8: its sub-batch), not those no batch reaches,
    // each for the k a search of that size asks the shards (gpuK: k' where the batch is scored
    // approximately, as the f16 two-pass scan's 9-64 queries and not its 1-8, else k).
    const most = this.shardBatch;
    for (const shard of this.shards) if (shard.ntotal > 0) shard.warmUp((nq) => Math.min(this.gpuK(k, nq), shard.ntotal), most, Math.min(k, shard.ntotal));
  }

  async search(q: Float32Array, k: number, opts: SearchOptions = {}): Promise<SearchResult> {
    this.check();
    // The rows' magnitudes first (measured on the device once per version of the rows), so the
    // queries' score-range check rides on checkSearch's one pass over them.
    const dimMax = await this.scoreDimMax();
    // k beyond ntotal only pads with -1, so the GPU's selection limit applies to min(k, ntotal).
    const nq = checkSearch(q, k, this.d, this.total, this.total <= this.kLimit ? MAX_K : this.kLimit, `or search on backend 'wasm' (exact too, k up to ${MAX_K})`, [{ metric: this.metric, dimMax }]);
    // No queries, no dispatch: a zero-sized query binding is a validation error that breaks the device.
    if (nq === 0) return emptyResult(0, k, this.metric);
    const want = this.gpuK(k, nq);
    // Larger query sets go through in batches so temporary memory stays what the planner counted;
    // int8 ones in sub-batches whose GPU search runs while the host re-ranks the one before.
    const step = this.shardBatch;
    const start = (q0: number) => {
      const nqb = Math.min(step, nq - q0);
      const batch = q.subarray(q0 * this.d, (q0 + nqb) * this.d);
      let submitted!: () => void;
      const onQueue = new Promise<void>((resolve) => (submitted = resolve));
      const found = this.precision === 'int8' ? this.searchCandidates(batch, nqb, Math.min(want, this.total), submitted) : this.searchShards(batch, nqb, Math.min(want, this.total), submitted, k);
      found.catch(() => undefined).finally(submitted); // awaited below; must not go unhandled while a re-rank runs
      this.inflight.track(found);
      return { q0, nqb, batch, found, onQueue };
    };
    // null as none, as the WASM backends take it.
    const signal = opts.signal ?? undefined;
    if (signal !== undefined && (typeof signal !== 'object' || typeof signal.addEventListener !== 'function')) {
      throw new TesseraError('INVALID_ARGUMENT', `signal must be an AbortSignal (e.g. new AbortController().signal or AbortSignal.timeout(ms)), got ${typeof signal}`);
    }
    if (signal?.aborted) throw signal.reason ?? new Error('aborted');
    // An abort rejects at once, not when the batch's GPU work and readback end (seconds on a large
    // batch): the work still in flight finishes unobserved (its rejections are handled) and the
    // index stays usable.
    let onAbort: (() => void) | undefined;
    const aborted = signal && new Promise<never>((_, reject) => signal.addEventListener('abort', (onAbort = () => reject(signal.reason ?? new Error('aborted'))), { once: true }));
    aborted?.catch(() => undefined);
    const until = <T>(p: Promise<T>): Promise<T> => (aborted ? Promise.race([p, aborted]) : p);
    try {
      return await this.searchBatches(q, nq, k, start, until, signal);
    } finally {
      if (onAbort) signal!.removeEventListener('abort', onAbort);
    }
  }

  /** search's batches in order: each queued before the one before is read back or re-ranked. */
  private async searchBatches(
    q: Float32Array,
    nq: number,
    k: number,
    start: (q0: number) => { q0: number; nqb: number; batch: Float32Array; found: Promise<SearchResult | Candidates>; onQueue: Promise<void> },
    until: <T>(p: Promise<T>) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<SearchResult> {
    const parts: SearchResult[] = [];
    // With two readback slots a shard takes the next sub-batch while this one is still read back:
    // queue it as soon as this one is on the queue (the GPU needn't idle over the readback).
    const early = searchTuning.readbackSlots >= 2;
    for (let cur = start(0); ; ) {
      let next: ReturnType<typeof start> | undefined;
      if (early && cur.q0 + cur.nqb < nq) {
        await until(cur.onQueue);
        if (!signal?.aborted) next = start(cur.q0 + cur.nqb);
      }
      const found = await until(cur.found);
      if (signal?.aborted) throw signal.reason ?? new Error('aborted');
      if (!early && cur.q0 + cur.nqb < nq) next = start(cur.q0 + cur.nqb);
      // The next sub-batch's commands reach the queue before the re-rank takes the thread (its
      // preparation would otherwise wait behind the re-rank's synchronous stretches).
      if (next) await until(next.onQueue);
      if (this.precision === 'int8') {
        const reranked = this.rerank(cur.batch, cur.nqb, found as Candidates, k);
        this.inflight.track(reranked);
        reranked.catch(() => undefined); // an abort stops waiting for it; its failure then goes unobserved
        parts.push(await until(reranked));
      } else parts.push(pad(found as SearchResult, k, this.metric));
      if (!next) break;
      cur = next;
    }
    if (parts.length === 1) return parts[0]!;
    const t = performance.now();
    const all = concatResults(parts, k);
    this.addProfile('concat', t);
    return all;
  }

  /**
   * Each dimension's largest stored magnitude, for refusing queries whose scores could pass float32's
   * range (core/validate checkScoreRange): the kernels would score Infinity or NaN, and such rows tie
   * at random or drop out of the lists. f32 and f16: the stored rows' (measured on the device once per
   * version of the rows); int8: the largest the codes decode to and the host rows re-ranked.
   */
  private async scoreDimMax(): Promise<Float64Array> {
    const d = this.d;
    const dimMax = new Float64Array(d);
    if (this.precision === 'int8') {
      const sq = this.sq;
      for (let j = 0; j < d; j++) dimMax[j] = Math.max(this.int8RowMax[j]!, sq ? Math.abs(sq.vmin[j]!) + 255 * sq.step[j]! : 0);
    } else {
      for (const m of await Promise.all(this.shards.filter((s) => s.ntotal > 0).map((s) => s.rowMagnitudes()))) {
        for (let j = 0; j < d; j++) dimMax[j] = Math.max(dimMax[j]!, m[j]!);
      }
      // Only rows read from a file go unchecked (addRows): one that holds Infinity scores NaN or Infinity.
      const bad = dimMax.findIndex((m) => !Number.isFinite(m));
      if (bad >= 0) throw new TesseraError('FORMAT', `the index's vectors hold ${dimMax[bad]} in dimension ${bad} (read from a file that holds it): every score against that vector is Infinity or NaN; rebuild the index from finite vectors`);
    }
    return dimMax;
  }

  /**
   * onSubmitted: called once every shard has its (first batch's) work on the queue. keep: the k the
   * caller returns, when the shards select more (f16 on the tensor cores: their k' lists re-ranked
   * and sorted, so each shard's first `keep` hold the merged best `keep`).
   */
  private async searchShards(q: Float32Array, nq: number, k: number, onSubmitted?: () => void, keep = k): Promise<SearchResult> {
    const parts = await this.searchParts(q, nq, k, onSubmitted, keep);
    const t = performance.now();
    const kk = Math.min(k, keep);
    const results = parts.map((r) => toResult(r, kk));
    const out = results.length === 1 ? results[0]! : mergeResults(results, kk, this.metric);
    this.addProfile('ids', t);
    return out;
  }

  /**
   * int8: the candidates to re-rank as numbers (global ids, -1 for none): no BigInt per candidate
   * on the way from the GPU to the re-rank. Several shards merge as searchShards does.
   */
  private async searchCandidates(q: Float32Array, nq: number, k: number, onSubmitted?: () => void): Promise<Candidates> {
    const parts = await this.searchParts(q, nq, k, onSubmitted);
    if (parts.length === 1) return parts[0]!;
    const t = performance.now();
    const merged = mergeRankedIds(parts.map((r) => ({ nq: r.nq, k: r.k, distances: r.distances, labels: r.ids })), k, this.metric);
    const out = { nq: merged.nq, k: merged.k, ids: merged.labels };
    this.addProfile('ids', t);
    return out;
  }

  /** Each shard's best k, as global ids; profile: prepare+submit, GPU+readback, id conversion. */
  /** keep: the caller's k, which f32 lists scored approximately must hold exactly (FlatShard.search certifyK). */
  private async searchParts(q: Float32Array, nq: number, k: number, onSubmitted?: () => void, keep = k): Promise<GlobalPart[]> {
    const t0 = performance.now();
    let t1 = t0;
    const q4 = this.shards[0]!.q4;
    // Rows of d floats already are the shards' layout when d is a multiple of 4: no copy (unless they
    // lie in shared memory: writeBuffer refuses those views). The shards never write into it.
    let padded = q.subarray(0, nq * this.d);
    if (q4 * 4 !== this.d || !(q.buffer instanceof ArrayBuffer)) {
      padded = new Float32Array(nq * q4 * 4);
      for (let i = 0; i < nq; i++) padded.set(q.subarray(i * this.d, (i + 1) * this.d), i * q4 * 4);
    }
    let waiting = this.shards.filter((s) => s.ntotal > 0).length;
    const one = () => {
      if (--waiting === 0) {
        t1 = performance.now();
        onSubmitted?.();
      }
    };
    const raw = await Promise.all(this.shards.map((shard) => (shard.ntotal === 0 ? undefined : shard.search(padded, nq, Math.min(k, shard.ntotal), one, Math.min(keep, k, shard.ntotal)))));
    const t2 = performance.now();
    this.check();
    const parts: GlobalPart[] = [];
    raw.forEach((r, s) => {
      if (r) parts.push(this.toGlobal(s, r));
    });
    this.addProfile('submit', t0, t1);
    this.addProfile('gpu_wait', t1, t2);
    this.addProfile('ids', t2);
    return parts;
  }

  /** Benchmarks: host milliseconds by phase since the last call (summed over sub-batches, which overlap). */
  takeProfile(): Record<string, number> {
    const p = this.profile;
    this.profile = {};
    return p;
  }
  private profile: Record<string, number> = {};
  private addProfile(name: string, from: number, to = performance.now()): void {
    this.profile[name] = (this.profile[name] ?? 0) + (to - from);
  }

  /** Shard-local keys/ids -> distances and global ids (-1: none). */
  private toGlobal(s: number, r: { nq: number; k: number; keys: Float32Array; ids: Uint32Array }): GlobalPart {
    const runs = this.runs.filter((x) => x.shard === s);
    const distances = new Float32Array(r.nq * r.k);
    const labels = new Float64Array(r.nq * r.k);
    const worst = worstDistance(this.metric);
    for (let i = 0; i < r.ids.length; i++) {
      const id = r.ids[i]!;
      if (id === EMPTY_ID) {
        labels[i] = -1;
        distances[i] = worst;
        continue;
      }
      let lo = 0;
      let hi = runs.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (runs[mid]!.local <= id) lo = mid;
        else hi = mid - 1;
      }
      const run = runs[lo]!;
      labels[i] = run.global + (id - run.local);
      // l2 keys are -|q - x|^2: 0 - key, not -key, so an exact match is +0 as on WASM and in FAISS (not -0).
      distances[i] = this.metric === 'ip' ? r.keys[i]! : 0 - r.keys[i]!;
    }
    return { nq: r.nq, k: r.k, distances, ids: labels };
  }

  /** Host bytes of float32 rows kept for int8 re-ranking (0 when they are read from the file). */
  get rerankHostBytes(): number {
    return this.rowStore.hostBytes;
  }

  /** The WebAssembly module that scores the candidates, and its worker pool where threads are used (one per index). */
  private heap: Promise<RerankHost> | undefined;
  /** With workers: a private module for searches too small to pay for them (rerankThreadsMinPairs). */
  private soloHeap: Promise<WasmHeap> | undefined;
  /** Re-ranks run one at a time: they share the module's memory, which may grow (detaching views). */
  private rerankQueue: Promise<unknown> = Promise.resolve();
  /** Search batches and re-ranks not yet settled (add waits for those an abort left running). */
  private readonly inflight = new InFlight();

  /** Host time of int8 re-ranking since the last call, and the float32 rows it read (benchmarks). */
  takeRerankStats(): { ms: number; rows: number } {
    const r = this.rerankStats;
    this.rerankStats = { ms: 0, rows: 0 };
    return r;
  }
  private rerankStats = { ms: 0, rows: 0 };

  /** Exact distances of the int8 candidates from the float32 rows; best k, ties to the lower id. */
  private rerank(q: Float32Array, nq: number, found: Candidates, k: number): Promise<SearchResult> {
    const run = this.rerankQueue.then(async () => {
      const t = performance.now();
      const r = await this.rerankNow(q, nq, found, k);
      this.rerankStats.ms += performance.now() - t;
      return r;
    });
    this.rerankQueue = run.catch(() => undefined);
    return run;
  }

  /** Re-rank workers to use: rerankThreads (checked at create), 0 where memory cannot be shared with workers. */
  private rerankWorkerCount(): number {
    const want = this.opts.rerankThreads ?? Math.min(DEFAULT_RERANK_THREADS, hardwareThreads() - 1);
    return dedicatedWorkersAvailable() ? want : 0;
  }

  /**
   * The module for a search of `pairs` (row, query) pairs: the workers' host when there are workers
   * and the search has at least rerankThreadsMinPairs pairs, else a private one on this thread (the
   * same module and scores as rerankThreads 0).
   */
  private async rerankHostFor(pairs: number): Promise<RerankHost> {
    const min = this.opts.rerankThreadsMinPairs ?? RERANK_THREADS_MIN_PAIRS;
    if (this.rerankWorkerCount() === 0 || pairs >= min) {
      const host = await this.rerankHost();
      // A worker stopped earlier: fail before allocating (see releaseRerankBuffers).
      const lost = host.workers?.lost;
      if (lost) throw lost;
      return host;
    }
    return { heap: await (this.soloHeap ??= WasmHeap.create(false)) };
  }

  /**
   * Returns a re-rank's buffers to the heap, unless a worker stopped during it: the other workers
   * may still be writing into them (the search failed as soon as the stopped one's job did), so
   * they are left allocated; the index answers DEVICE_LOST from then on and must be created again anyway.
   */
  private releaseRerankBuffers(host: RerankHost, ptrs: readonly number[]): void {
    if (host.workers?.lost) return;
    for (const p of ptrs) host.heap.release(p);
  }

  /** The re-rank's module: on a shared memory with `rerankThreads` workers where it can, else private. */
  private rerankHost(): Promise<RerankHost> {
    return (this.heap ??= (async () => {
      const want = this.rerankWorkerCount();
      if (want === 0) return { heap: await WasmHeap.create(false) };
      const heap = await WasmHeap.create(true);
      return { heap, workers: await RerankWorkers.start(heap, want) };
    })());
  }

  /**
   * Exact best k of each query's candidates (numeric ids, or a SearchResult's labels: tests and
   * tools). Rows kept in memory (SharedArrayBuffer chunks): rerankMemory, in candidate order.
   * Rows from a file or a generator: rerankSorted, one pass in row order.
   */
  private async rerankNow(q: Float32Array, nq: number, found: Candidates | SearchResult, k: number): Promise<SearchResult> {
    const cand = 'ids' in found ? found : { nq: found.nq, k: found.k, ids: Float64Array.from(found.labels, Number) };
    const W = cand.k;
    if (W === 0 || nq === 0) return { nq, k, distances: new Float32Array(nq * k).fill(worstDistance(this.metric)), labels: new BigInt64Array(nq * k).fill(-1n) };
    const rows = this.rowStore.sharedChunks();
    return rows ? this.rerankMemory(q, nq, cand, k, rows) : this.rerankSorted(q, nq, cand, k);
  }

  /**
   * Rows in memory: no sort by row id (that only makes file reads sequential). The queries and the
   * candidate ids go into WebAssembly memory once; each part of the queries (one per worker, or
   * all of them on this thread for searches under rerankThreadsMinPairs) copies each query's
   * candidate rows from the chunks into its own buffer, scores them (rerank_pairs: the same dot
   * product flat_search gives one row, so the split never changes a score) and keeps the best k
   * (rerank_topk). With workers the search goes to them through shared memory where they can
   * (RerankWorkers.runShared: blocks of queries claimed by this thread and the workers, no message),
   * else one message a worker. A row that is a candidate of several queries is copied once for each.
   */
  private async rerankMemory(q: Float32Array, nq: number, cand: Candidates, k: number, rows: SharedRowChunks): Promise<SearchResult> {
    const t0 = performance.now();
    const d = this.d;
    const W = cand.k;
    const rowBytes = d * 4;
    const host = await this.rerankHostFor(nq * W);
    const { heap, workers } = host;
    if (workers) await workers.setRows(rows);
    const bufferBytes = this.opts.rerankBufferBytes ?? RERANK_BUFFER_BYTES;
    // Shared jobs: blocks claimed one at a time by this thread and the workers, about two a thread
    // (rerankTuning.blocksPerThread; a late worker does less); messages: one part of the queries a worker.
    const shared = workers?.shared === true;
    const parts = shared ? workers!.size + 1 : workers ? Math.max(1, Math.min(workers.size, nq)) : 1;
    const per = shared ? Math.max(1, Math.floor(nq / (rerankTuning.blocksPerThread * parts))) : Math.ceil(nq / parts);
    const block = Math.max(1, Math.min(per, Math.floor(bufferBytes / (W * rowBytes))));
    const count = this.rowStore.count;
    const qPtr = heap.alloc(nq * rowBytes);
    const idsPtr = heap.alloc(nq * W * 4);
    const topDPtr = heap.alloc(nq * k * 4);
    const topIPtr = heap.alloc(nq * k * 4);
    const pairRowPtr = heap.alloc(block * W * 4);
    const pairQPtr = heap.alloc(block * W * 4);
    const partRows: number[] = [];
    const partScores: number[] = [];
    let pending: Promise<void> | undefined;
    try {
      // Shared jobs: each thread's buffers at a fixed stride in one allocation (slot t at t x stride).
      if (shared) {
        partRows.push(heap.alloc(parts * block * W * rowBytes));
        partScores.push(heap.alloc(parts * block * W * 4));
      } else {
        for (let t = 0; t < parts; t++) {
          partRows.push(heap.alloc(block * W * rowBytes));
          partScores.push(heap.alloc(block * W * 4));
        }
      }
      // Views after the last alloc (growing the memory detaches them).
      heap.f32(qPtr, nq * d).set(q.subarray(0, nq * d));
      const ids = heap.i32(idsPtr, nq * W);
      let used = 0;
      for (let p = 0; p < nq * W; p++) {
        const id = cand.ids[p]!;
        if (id >= count) throw new TesseraError('INVALID_ARGUMENT', `row ${id} has no float32 copy for re-ranking (${count} rows kept)`);
        ids[p] = id >= 0 ? id : -1;
        if (id >= 0) used++;
      }
      this.rerankStats.rows += used;
      const pairRow = heap.i32(pairRowPtr, block * W);
      const pairQ = heap.i32(pairQPtr, block * W);
      for (let i = 0; i < block * W; i++) {
        pairRow[i] = i;
        pairQ[i] = Math.floor(i / W);
      }
      const jobs: QueryBlocksJob[] = [];
      for (let t = 0; t < (shared ? 0 : parts); t++) {
        const q0 = t * per;
        const q1 = Math.min(nq, q0 + per);
        if (q0 >= q1) break;
        jobs.push({ d, w: W, k, metric: this.metric === 'ip' ? 0 : 1, q0, q1, block, queries: qPtr, ids: idsPtr, rows: partRows[t]!, pairRow: pairRowPtr, pairQ: pairQPtr, scores: partScores[t]!, topD: topDPtr, topI: topIPtr });
      }
      const t1 = performance.now();
      this.addProfile('rerank_setup', t0, t1);
      if (shared) {
        await workers!.runShared({ d, w: W, k, metric: this.metric === 'ip' ? 0 : 1, nq, block, queries: qPtr, ids: idsPtr, pairRow: pairRowPtr, pairQ: pairQPtr, topD: topDPtr, topI: topIPtr, rows: partRows[0]!, rowsStride: block * W * rowBytes, scores: partScores[0]!, scoresStride: block * W * 4 }, rows);
      } else if (workers) {
        pending = workers.runBlocks(jobs);
        await pending;
        pending = undefined;
      } else {
        for (const job of jobs) scoreQueryBlocks(heap.exports, heap.memory.buffer, rows.chunks, rows.starts, job);
      }
      const t2 = performance.now();
      this.addProfile('rerank_score', t1, t2);
      this.check();
      const distances = heap.f32(topDPtr, nq * k).slice();
      const top = heap.i32(topIPtr, nq * k);
      const labels = new BigInt64Array(nq * k);
      for (let j = 0; j < nq * k; j++) labels[j] = BigInt(top[j]!);
      this.addProfile('rerank_out', t2);
      return { nq, k, distances, labels };
    } finally {
      // Workers may still be scoring out of these buffers (a failure elsewhere meanwhile): wait for them.
      if (pending) await pending.catch(() => undefined);
      this.releaseRerankBuffers(host, [...partScores, ...partRows, pairQPtr, pairRowPtr, topIPtr, topDPtr, idsPtr, qPtr]);
    }
  }

  /**
   * One pass over the candidate rows, each read once: the (row, query) pairs of a group of queries
   * are sorted by row id and taken in runs of up to the buffer's rows; each run's rows are copied
   * into WebAssembly memory and its pairs scored by one native call (rerank_pairs: the same dot
   * product flat_search gives a single row, so the split never changes a score). With workers
   * (rerankThreads; shared memory), each worker copies and scores its share of the run when the
   * rows are kept in SharedArrayBuffers (memory rows), else this thread reads the rows (file,
   * generator) and the workers score; two buffers alternate, so run i + 1 is prepared while run i
   * is scored. Then the best k a query (rerank_topk). Host memory: the buffers, the group's queries
   * and ~40 bytes a pair; no per-candidate allocation.
   */
  private async rerankSorted(q: Float32Array, nq: number, found: Candidates, k: number): Promise<SearchResult> {
    const d = this.d;
    const W = found.k;
    const rowBytes = d * 4;
    const ip = this.metric === 'ip';
    const distances = new Float32Array(nq * k).fill(worstDistance(this.metric));
    const labels = new BigInt64Array(nq * k).fill(-1n);
    const host = await this.rerankHostFor(nq * W);
    const { heap, workers } = host;
    const shared = workers ? this.rowStore.sharedChunks() : undefined;
    if (shared) workers!.setRows(shared);
    // Sort keys are id * PAIR_SPAN + pair: exact in a double while ids stay below 2^53 / PAIR_SPAN.
    const groupQ = Math.max(1, Math.min(nq, Math.floor(PAIR_SPAN / W)));
    const bufferBytes = this.opts.rerankBufferBytes ?? (workers ? RERANK_BUFFER_BYTES_THREADS : RERANK_BUFFER_BYTES);
    const chunkRows = Math.max(1, Math.floor(bufferBytes / rowBytes));
    const nBuf = workers ? 2 : 1;
    const rowsPtr = heap.alloc(nBuf * chunkRows * rowBytes);
    const idsPtr = heap.alloc(nBuf * chunkRows * 4);
    const qPtr = heap.alloc(groupQ * rowBytes);
    // Per pair in sorted order: row slot, query slot (int32) and score (f32).
    const slotPtr = heap.alloc(groupQ * W * 4);
    const qslotPtr = heap.alloc(groupQ * W * 4);
    const scorePtr = heap.alloc(groupQ * W * 4);
    const keys = new Float64Array(groupQ * W);
    const ids = new Int32Array(groupQ * W);
    const order = new Int32Array(groupQ * W);
    const scores = new Float32Array(groupQ * W);
    const uniq = new Uint32Array(chunkRows);
    /** First pair (relative to the run) of each row slot, and the end. */
    const rowFirst = new Int32Array(chunkRows + 1);
    const topDPtr = heap.alloc(groupQ * k * 4);
    const topIPtr = heap.alloc(groupQ * k * 4);
    const metricCode = ip ? 0 : 1;
    const scorePairs = heap.exports.rerank_pairs as (...a: number[]) => void;
    let pending: Promise<void> | undefined;
    try {
      for (let q0 = 0; q0 < nq; q0 += groupQ) {
        const gq = Math.min(groupQ, nq - q0);
        let m = 0;
        for (let p = 0; p < gq * W; p++) {
          const g = q0 * W + p;
          const id = found.ids[g]! >= 0 ? found.ids[g]! : -1;
          ids[p] = id;
          if (id >= 0) keys[m++] = id * PAIR_SPAN + p;
        }
        const sorted = keys.subarray(0, m).sort();
        // The previous group's last run may still read the queries.
        if (pending) await pending;
        pending = undefined;
        heap.f32(qPtr, gq * d).set(q.subarray(q0 * d, (q0 + gq) * d));
        for (let t0 = 0, run = 0; t0 < m; run++) {
          // The next run of up to chunkRows distinct rows, into buffer run % nBuf (last used by run - 2,
          // which finished before run - 1 started).
          const b = run % nBuf;
          const buf = rowsPtr + b * chunkRows * rowBytes;
          const bufIds = idsPtr + b * chunkRows * 4;
          let u = 0;
          let t1 = t0;
          for (; t1 < m; t1++) {
            const id = Math.floor(sorted[t1]! / PAIR_SPAN);
            if (u > 0 && id === uniq[u - 1]) continue;
            if (u === chunkRows) break;
            uniq[u++] = id;
          }
          const n = t1 - t0;
          const threaded = workers !== undefined && n >= RERANK_MIN_THREADED_PAIRS;
          if (threaded && shared) {
            for (let i = 0; i < u; i++) {
              if (uniq[i]! >= this.rowStore.count) {
                throw new TesseraError('INVALID_ARGUMENT', `row ${uniq[i]} has no float32 copy for re-ranking (${this.rowStore.count} rows kept)`);
              }
            }
            new Uint32Array(heap.memory.buffer, bufIds, u).set(uniq.subarray(0, u));
          } else {
            await this.rowStore.read(uniq, u, heap.f32(buf, u * d));
          }
          this.rerankStats.rows += u;
          this.check();
          // Views are taken after the await: nothing grows the memory until the next one.
          const slot = heap.i32(slotPtr, m);
          const qslot = heap.i32(qslotPtr, m);
          let r = -1;
          let prev = -1;
          for (let t = t0; t < t1; t++) {
            const key = sorted[t]!;
            const id = Math.floor(key / PAIR_SPAN);
            const p = key - id * PAIR_SPAN;
            if (id !== prev) {
              r++;
              prev = id;
              rowFirst[r] = t - t0;
            }
            slot[t] = r;
            qslot[t] = Math.floor(p / W);
            order[t] = p;
          }
          rowFirst[u] = n;
          if (pending) await pending;
          pending = undefined;
          const args = (from: number, to: number) => [buf, d, qPtr, slotPtr + (t0 + from) * 4, qslotPtr + (t0 + from) * 4, to - from, metricCode, scorePtr + (t0 + from) * 4];
          if (threaded) {
            // Parts of whole rows (a row's pairs stay with the worker that copies it), ~equal in rows.
            const parts = Math.max(1, Math.min(workers.size, u, Math.floor(n / (RERANK_MIN_THREADED_PAIRS / 4))));
            const jobs: RerankJob[] = [];
            for (let j = 0; j < parts; j++) {
              const ra = Math.floor((u * j) / parts);
              const rb = Math.floor((u * (j + 1)) / parts);
              jobs.push({
                gather: shared ? { ids: bufIds, rows: buf, from: ra, to: rb, d } : undefined,
                args: args(rowFirst[ra]!, rowFirst[rb]!),
              });
            }
            pending = workers.run(jobs);
          } else scorePairs(...args(0, n));
          t0 = t1;
        }
        if (pending) await pending;
        pending = undefined;
        const sc = heap.f32(scorePtr, m);
        for (let t = 0; t < m; t++) scores[order[t]!] = sc[t]!;
        // Best k a query (native rerank_topk: better distance first, equal distances by lower id).
        heap.f32(scorePtr, gq * W).set(scores.subarray(0, gq * W));
        heap.i32(slotPtr, gq * W).set(ids.subarray(0, gq * W));
        (heap.exports.rerank_topk as (...a: number[]) => void)(scorePtr, slotPtr, gq, W, k, metricCode, topDPtr, topIPtr);
        distances.set(heap.f32(topDPtr, gq * k), q0 * k);
        const top = heap.i32(topIPtr, gq * k);
        for (let j = 0; j < gq * k; j++) {
          const id = top[j]!;
          if (id >= 0) labels[q0 * k + j] = BigInt(id);
        }
      }
    } finally {
      // Workers may still be scoring out of these buffers (a read failed meanwhile): wait for them.
      if (pending) await pending.catch(() => undefined);
      this.releaseRerankBuffers(host, [topIPtr, topDPtr, scorePtr, qslotPtr, slotPtr, qPtr, idsPtr, rowsPtr]);
    }
    return { nq, k, distances, labels };
  }

  /**
   * Benchmarks: appends n synthetic unit-norm rows generated on the GPU (no upload). `hostRow`
   * regenerates row i on the host for int8 re-ranking (or is the n rows themselves: kept in memory,
   * as add() keeps them); int8 codes use a fixed range of +-range.
   */
  async addGenerated(n: number, seed: number, hostRow: ((id: number, out: Float32Array) => void) | Float32Array, range = 1): Promise<void> {
    this.check();
    this.plan = planFor(this.contexts, this.d, this.metric, this.total + n, this.precision, this.opts, this.rowStore.hostBytes / (this.d * 4));
    if (this.precision === 'int8' && !this.sq) {
      this.sq = { vmin: new Float32Array(this.d).fill(-range), step: new Float32Array(this.d).fill((2 * range) / 255) };
      await Promise.all(this.shards.map((s) => s.setSq(this.sq!.vmin, this.sq!.step)));
    }
    if (this.precision === 'int8') {
      // Unit-norm rows: no value past 1.
      for (let j = 0; j < this.d; j++) this.int8RowMax[j] = Math.max(this.int8RowMax[j]!, 1);
      if (hostRow instanceof Float32Array) this.rowStore.memory().append(hostRow, n);
      else this.rowStore.push(new FunctionRows(this.d, n, hostRow));
    }
    const share = Math.ceil(n / this.shards.length);
    let done = 0;
    for (let s = 0; s < this.shards.length && done < n; s++) {
      const take = Math.min(share, n - done);
      const shard = this.shards[s]!;
      this.runs.push({ shard: s, local: shard.ntotal, global: this.total + done, count: take });
      await shard.addGenerated(take, seed, this.total + done);
      done += take;
    }
    this.total += n;
  }

  /** Rows [start, start + count) in float32 (f16: decoded; int8: the host copy). */
  private async rows(start: number, count: number): Promise<Float32Array> {
    const d = this.d;
    const out = new Float32Array(count * d);
    if (this.precision === 'int8') {
      const ids = new Uint32Array(count);
      for (let i = 0; i < count; i++) ids[i] = start + i;
      await this.rowStore.read(ids, count, out);
      return out;
    }
    for (const run of this.runs) {
      const lo = Math.max(start, run.global);
      const hi = Math.min(start + count, run.global + run.count);
      if (lo >= hi) continue;
      const shard = this.shards[run.shard]!;
      const words = await shard.readRows(run.local + (lo - run.global), hi - lo);
      const wpr = shard.rowWords * 4;
      if (this.precision === 'f32') {
        const f = new Float32Array(words.buffer);
        for (let i = 0; i < hi - lo; i++) out.set(f.subarray(i * wpr, i * wpr + d), (lo - start + i) * d);
      } else {
        for (let i = 0; i < hi - lo; i++) {
          for (let j = 0; j < d; j++) {
            const w = words[i * wpr + (j >>> 1)]!;
            out[(lo - start + i) * d + j] = fromHalfBits(j & 1 ? w >>> 16 : w & 0xffff);
          }
        }
      }
    }
    return out;
  }

  /** Writes a FAISS IndexFlatIP / IndexFlatL2 file (f16 storage writes the decoded halves). */
  async save(target: string | ByteSink): Promise<void> {
    this.check();
    const chunkRows = Math.max(1, Math.floor((16 << 20) / (this.d * 4)));
    const self = this;
    async function* chunks(): AsyncGenerator<Float32Array> {
      for (let r = 0; r < self.total; r += chunkRows) yield await self.rows(r, Math.min(chunkRows, self.total - r));
    }
    await writeFlatIndex(target, this.d, this.metric, this.total, chunks(), { onProgress: this.opts.onProgress });
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    for (const s of this.shards) s.destroy();
    for (const c of this.contexts) c.destroy();
    this.shards = [];
    const host = this.heap;
    this.heap = undefined;
    this.soloHeap = undefined;
    await this.rowStore.close();
    // Lets an in-flight re-rank finish before its workers stop.
    await this.rerankQueue;
    await (await host?.catch(() => undefined))?.workers?.release();
  }

  /**
   * Streams a FAISS flat file into GPU tiles chunk by chunk; reports bytes through opts.onProgress.
   * Host memory stays bounded: LOAD_READ_AHEAD reads are in flight while one chunk uploads (a ring
   * of LOAD_READ_AHEAD + 1 reused buffers, read into directly), and every UPLOAD_FENCE_BYTES the
   * loader waits for the queue so Dawn's staging copies cannot pile up. int8 re-ranks from the file
   * (see rerankFrom) unless told to keep the rows in memory.
   */
  static async load(source: ByteSource, opts: GpuFlatOptions = {}, layout?: FlatLayout): Promise<GpuFlatIndex> {
    // `layout`: the header as readIndex already read it
    layout ??= await readFlatLayout(source, 0, (source as RandomAccessSource).label);
    const retainable = typeof (source as RandomAccessSource).retain === 'function';
    const fromFile = (opts.rerankFrom ?? (retainable ? 'file' : 'memory')) === 'file';
    const index = await GpuFlatIndex.create(layout.d, layout.metric, { ...opts, precision: opts.precision ?? 'auto' }, layout.ntotal, fromFile ? 0 : undefined);
    try {
      if (index.precision === 'int8' && fromFile) {
        index.rowsInFile = true;
        index.rowStore.push(FileRows.open(source, layout.dataOffset, layout.d, layout.ntotal));
      }
      const total = layout.ntotal * layout.rowBytes;
      const started = performance.now();
      const report = (done: number) => opts.onProgress?.({ phase: 'loading index to GPU', done, total, unit: 'bytes' });
      report(0);
      // Each shard's rows at the end (the plan's even shares): addRows fills each shard to them and
      // its tiles are sized for them (the plan's bytes) instead of doubling past them.
      const share = Math.ceil(layout.ntotal / index.shards.length);
      index.shards.forEach((shard, s) => {
        const after = Math.max(0, layout.ntotal - s * share);
        shard.expectedRows = s === index.shards.length - 1 ? after : Math.min(share, after);
      });
      let sinceFence = 0;
      for await (const chunk of readAhead(source, layout, opts.loadChunkBytes ?? 64 << 20)) {
        await index.addRows(chunk.data, chunk.count);
        sinceFence += chunk.count * layout.rowBytes;
        if (sinceFence >= UPLOAD_FENCE_BYTES) {
          sinceFence = 0;
          await Promise.all(index.contexts.map((c) => c.device.queue.onSubmittedWorkDone()));
        }
        report((chunk.start + chunk.count) * layout.rowBytes);
      }
      index.rowsInFile = false;
      for (const shard of index.shards) shard.expectedRows = undefined;
      // Wait for the uploads so the reported time is the time to serve.
      await Promise.all(index.contexts.map((c) => c.device.queue.onSubmittedWorkDone()));
      await Promise.all(index.shards.map((sh) => sh.releaseStaging()));
      const seconds = (performance.now() - started) / 1000;
      index.loadStats = { bytes: total, seconds, gbPerSecond: total / 1e9 / Math.max(seconds, 1e-9) };
      index.check();
      // What the load holds where: 'auto' may have picked f16 or int8, and planes add to the rows.
      if (index.plan) opts.onNotice?.(describePlan(index.plan, opts.precision ?? 'auto'));
      return index;
    } catch (e) {
      await index.dispose();
      throw e;
    }
  }

  /** Bytes, seconds and GB/s of the last load (streaming + upload), for start-up reports. */
  loadStats: { bytes: number; seconds: number; gbPerSecond: number } | undefined;
}

/** Uploads between queue fences while loading: bounds Dawn's host-side staging memory. */
const UPLOAD_FENCE_BYTES = 512 << 20;
/** File reads in flight while a chunk uploads (each into its own reused buffer). */
const LOAD_READ_AHEAD = 2;
/** int8: queries a GPU sub-batch when a search has more (see rerankSubBatch). */
const DEFAULT_RERANK_SUB_BATCH = 512;
/** int8 re-rank: bytes of float32 candidate rows read at once (about an L2 cache: scored while hot). */
const RERANK_BUFFER_BYTES = 1 << 20;
/** int8 re-rank with worker threads: bytes of each of the two buffers (fewer, larger hand-offs to the workers). */
const RERANK_BUFFER_BYTES_THREADS = 4 << 20;
/** int8 re-rank: default worker threads (at most; cores - 1 where fewer): 15 beat 8 on the 16-core H200 host (runs 3-4). */
const DEFAULT_RERANK_THREADS = 15;
/** int8 re-rank: runs of fewer pairs are scored on the calling thread (a worker round trip costs more). */
const RERANK_MIN_THREADED_PAIRS = 1024;
/** int8 re-rank: searches of fewer pairs never use the workers (see rerankThreadsMinPairs; H200 run 4). */
const RERANK_THREADS_MIN_PAIRS = 128;

/** int8: a search's candidates for the re-rank: k global ids a query (-1: none), query-major. */
interface Candidates {
  nq: number;
  k: number;
  ids: Float64Array;
}

/** One shard's best k with global ids (numbers; -1: none). */
interface GlobalPart extends Candidates {
  distances: Float32Array;
}

/**
 * Said through onNotice when allowExperimental is off on an NVIDIA adapter: Dawn shows its
 * subgroup matrices (the tensor cores) only under allow_unsafe_apis, so the adapter cannot tell
 * whether it has them; the vendor is the hint. Inner-product indexes only (the tensor scorer's).
 */
export function experimentalHint(contexts: readonly GpuContext[], metric: Metric): string | undefined {
  const nvidia = contexts.filter((c) => c.adapter?.info.vendor?.toLowerCase() === 'nvidia').map((c) => c.label);
  if (metric !== 'ip' || nvidia.length === 0) return undefined;
  return `${nvidia.join(', ')}: NVIDIA, whose tensor cores Dawn exposes only as an experimental feature: allowExperimental (CLI --allow-experimental) lets f32, f16 and int8 batches use them (on an H200, f32 at 64-1024 queries 1.35-1.62x torch fp32 against 0.92-0.97x without, its digit planes taking up to half its rows' bytes again where gpuMemory has room; README, sections GPU memory and Tensor cores)`;
}

/**
 * What allowExperimental gives this index (said through onNotice: the CLI and the server print it):
 * whether every device has the subgroup-matrix feature, and which batches the tensor scorer takes.
 */
export function tensorNotice(contexts: readonly GpuContext[], plan: FlatPlan, metric: Metric, opts: GpuFlatOptions): string {
  const precision = plan.precision;
  const planeBytes = plan.shards.reduce((s, x) => s + x.digitBytes, 0);
  // An index made empty (indexFactory) plans its planes as rows are added: none yet is no refusal.
  const later = plan.shards.every((s) => s.rows === 0) && opts.digitPlanes !== false;
  const digits = plan.digits || later;
  const size = later ? `, ${precision === 'f16' ? '1 byte' : '2 bytes'} a dimension as rows are added where gpuMemory has room,` : ` of ${formatBytes(planeBytes)}`;
  const planes =
    !digits ? ''
    : precision === 'f16' ? ` (a code plane${size} beside the rows: 0.75x f32's memory; digitPlanes: false leaves it out for exactly half, converting the rows as they are read)`
    : ` (digit planes${size} beside the rows; digitPlanes: false leaves them out)`;
  const missing = contexts.filter((c) => !c.device.features.has(SUBGROUP_MATRIX_FEATURE)).map((c) => c.label);
  if (missing.length) return `allowExperimental: ${missing.join(', ')} offer(s) no ${SUBGROUP_MATRIX_FEATURE}; the portable kernels run`;
  if (metric !== 'ip') return `allowExperimental: the tensor scorer ranks inner products only; this ${metric} index runs the portable kernels`;
  // The tensor kernel steps through a row 32 dimensions at a time (hook.ts planTensorHook's K).
  const dims = storedDims(plan.rowBytes, precision);
  if (dims % 32 !== 0) return `allowExperimental: ${precision} rows are stored as ${dims} dimensions, not a multiple of 32, which the tensor scorer needs: the portable kernels run (vectors padded with zeros to ${Math.ceil(dims / 32) * 32} dimensions would take it, with the same inner products)`;
  if (precision === 'int8') return `allowExperimental: int8 batches of ${tensorTuning.minBatch}+ queries on the tensor cores (when the adapter lists a fitting i8 config)`;
  // The f16 two-pass scan takes the batches it fits before the routes below, where asked for and
  // no code plane is planned (tuning.ts halfScanNotAsked, as hook.ts planHalfScan asks).
  const scan = precision === 'f16' && opts.f16TensorCores !== false && !halfScanNotAsked(f16TwoPassOf(opts), digits) && halfScanEverywhere(contexts) ? `f16 batches of ${tensorTuning.f16ScanMinBatch}-${tensorTuning.f16ScanMaxBatch} queries on the f16 two-pass scan (the f16 tensor cores, the rows read as they are: half of f32's memory), the others: ` : '';
  if (scan) return `allowExperimental: ${scan}${f16Route(opts, contexts, digits, planes, plan, dims)}`;
  if (precision === 'f16') return `allowExperimental: ${f16Route(opts, contexts, digits, planes, plan, dims)}`;
  if (precision === 'f32' && opts.f32TensorCores !== false && !digits) return `allowExperimental: f32 runs the f32 kernels: no digit planes planned (${noPlanesOf(opts, plan, dims, precision)})`;
  const withPlanes = plan.shards.reduce((n, x) => n + x.digitTiles, 0);
  const tiles = plan.shards.reduce((n, x) => n + x.tiles.length, 0);
  if (precision === 'f32' && opts.f32TensorCores !== false && withPlanes < tiles) return `allowExperimental: f32 batches of ${tensorTuning.f32MinBatch}+ queries on the int8 tensor cores (two digits a value) for the ${withPlanes} of ${tiles} tiles whose digit planes fit, the f32 kernels for the others in the same searches, re-ranked exactly and certified exact${planes}`;
  if (precision === 'f32' && opts.f32TensorCores !== false) return `allowExperimental: f32 batches of ${tensorTuning.f32MinBatch}+ queries on the int8 tensor cores (two digits a value), re-ranked exactly from the f32 rows and certified exact, uncertified queries searched again by the f32 kernels${planes}`;
  return `allowExperimental: ${precision} runs the portable kernels (the tensor scorer takes int8, f16 with f16TensorCores and f32 with f32TensorCores)`;
}

/** Why no planes were planned: left out, or no room for them where gpuMemory was stated. */
function noPlanesOf(opts: GpuFlatOptions, plan: FlatPlan, dims: number, precision: Precision): string {
  const planeBytesWanted = plan.shards.reduce((s, x) => s + x.rows, 0) * planeRowBytes(dims, precision);
  return opts.digitPlanes === false ? 'digitPlanes: false' : `no room in gpuMemory for their ${formatBytes(planeBytesWanted)} beside the rows`;
}

/** experimentalRoute's f16 part (a batch the f16 scan does not take goes this way). */
function f16Route(opts: GpuFlatOptions, contexts: readonly GpuContext[], digits: boolean, planes: string, plan: FlatPlan, dims: number): string {
  if (opts.f16TensorCores !== false && halfMatricesEverywhere(contexts)) return `f16 batches of ${tensorTuning.f16HalfMinBatch}+ queries on the f16 tensor cores, rows read as they are (no code plane: half of f32's memory), re-ranked exactly from the f16 rows`;
  if (opts.f16TensorCores !== false && digits) return `f16 batches of ${tensorTuning.f16CodesMinBatch}+ queries on the int8 tensor cores from the rows' i8 codes, re-ranked exactly from the f16 rows${planes}`;
  if (opts.f16TensorCores !== false) return `f16 batches of ${tensorTuning.f16MinBatch}+ queries on the int8 tensor cores, rows converted as read (no code plane: ${noPlanesOf(opts, plan, dims, 'f16')}; half of f32's memory), re-ranked exactly from the f16 rows (f16TensorCores: false keeps the f16 kernels)`;
  return 'f16 runs the portable kernels (the tensor scorer takes int8, f16 with f16TensorCores and f32 with f32TensorCores)';
}

/** A shard's part as a SearchResult (BigInt labels), cut to each query's first `keep` (<= r.k) of its sorted list. */
function toResult(r: GlobalPart, keep = r.k): SearchResult {
  if (keep >= r.k) {
    const labels = new BigInt64Array(r.ids.length);
    for (let i = 0; i < r.ids.length; i++) labels[i] = BigInt(r.ids[i]!);
    return { nq: r.nq, k: r.k, distances: r.distances, labels };
  }
  const labels = new BigInt64Array(r.nq * keep);
  const distances = new Float32Array(r.nq * keep);
  for (let q = 0; q < r.nq; q++) {
    for (let j = 0; j < keep; j++) {
      labels[q * keep + j] = BigInt(r.ids[q * r.k + j]!);
      distances[q * keep + j] = r.distances[q * r.k + j]!;
    }
  }
  return { nq: r.nq, k: keep, distances, labels };
}

/**
 * precision and gpuMemory, checked before a device is opened: past here an unknown precision takes
 * the int8 paths and a gpuMemory that is not a number reaches the planner's arithmetic.
 */
function checkPlanOptions(opts: GpuFlatOptions): void {
  const p = opts.precision;
  if (p !== undefined && p !== 'auto' && p !== 'f32' && p !== 'f16' && p !== 'int8') {
    throw new TesseraError('INVALID_ARGUMENT', `precision must be 'auto', 'f32', 'f16' or 'int8', got ${JSON.stringify(p)}`);
  }
  const m = opts.gpuMemory;
  if (m !== undefined && (typeof m !== 'number' || !Number.isFinite(m) || m <= 0)) {
    throw new TesseraError('INVALID_ARGUMENT', `gpuMemory must be a number of bytes > 0 (e.g. 40 * 2 ** 30 for 40 GiB), got ${shownOption(m)}`);
  }
}

/**
 * The int8 re-rank's thread options, checked when the index is created (not at its first search):
 * INVALID_ARGUMENT naming the option and what it accepts.
 */
function checkRerankOptions(opts: GpuFlatOptions): void {
  const from = opts.rerankFrom;
  if (from !== undefined && from !== 'file' && from !== 'memory') {
    // Anything else used to keep the rows in memory silently.
    throw new TesseraError('INVALID_ARGUMENT', `rerankFrom must be 'file' or 'memory' (where int8 re-ranking reads the float32 rows), got ${shownOption(from)}`);
  }
  const t = opts.rerankThreads;
  if (t !== undefined && (!Number.isInteger(t) || t < 0 || t > 256)) {
    throw new TesseraError('INVALID_ARGUMENT', `rerankThreads must be an integer in [0, 256] (worker threads for the int8 re-rank; 0 re-ranks on the calling thread), got ${String(t)}: pass such an integer or leave it out for min(${DEFAULT_RERANK_THREADS}, cores - 1)`);
  }
  const m = opts.rerankThreadsMinPairs;
  if (m !== undefined && (!Number.isInteger(m) || m < 0)) {
    throw new TesseraError('INVALID_ARGUMENT', `rerankThreadsMinPairs must be an integer >= 0 (searches of fewer (row, query) pairs re-rank on the calling thread), got ${String(m)}: pass such an integer (0: always use the workers) or leave it out for ${RERANK_THREADS_MIN_PAIRS}`);
  }
}

/** Most devices devicesPerGpu opens on one GPU object (more only multiplies per-device memory on one adapter). */
const MAX_DEVICES_PER_GPU = 64;

/**
 * The device count and byte sizes, checked before a device is opened: unchecked, 0 or -1 devices
 * silently became 1, 1.5 became 2, NaN none ("no GPU adapter"), 2^31 opened devices without end;
 * a NaN or string size reached createBuffer as a TypeError, a NaN load chunk never advanced.
 */
function checkSizeOptions(opts: GpuFlatOptions): void {
  const mb = opts.maxBatch;
  if (mb !== undefined && (typeof mb !== 'number' || !Number.isInteger(mb) || mb < 1 || mb > MAX_BATCH)) {
    throw new TesseraError('INVALID_ARGUMENT', `maxBatch must be an integer in [1, ${MAX_BATCH}] (most queries searched at once: the batch the plan's temporary bytes count; larger searches go in batches of it), got ${shownOption(mb)}: pass such an integer (the server passes its --max-batch, capped at ${MAX_BATCH}) or leave it out for ${MAX_BATCH}`);
  }
  const per = opts.devicesPerGpu;
  if (per !== undefined && (!Number.isInteger(per) || per < 1 || per > MAX_DEVICES_PER_GPU)) {
    throw new TesseraError('INVALID_ARGUMENT', `devicesPerGpu must be an integer in [1, ${MAX_DEVICES_PER_GPU}] (devices opened on each GPU object), got ${shownOption(per)}: pass such an integer or leave it out for 1`);
  }
  checkGpuObjects(opts);
  const sizes: [keyof GpuFlatOptions, number, string][] = [
    ['maxTileBytes', 1, "the device's maxStorageBufferBindingSize"],
    ['scratchBytes', 1, `${DEFAULT_SCRATCH} bytes`],
    ['loadChunkBytes', 1, '64 MiB'],
    ['rerankBufferBytes', 1, '1 MiB'],
    ['rerankDepth', 1, 'max(4k, k + 16)'],
    ['rerankSubBatch', 0, `${DEFAULT_RERANK_SUB_BATCH}`],
  ];
  for (const [name, min, dflt] of sizes) {
    const v = opts[name];
    if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < min)) {
      throw new TesseraError('INVALID_ARGUMENT', `${name} must be an integer >= ${min}, got ${shownOption(v)}: pass such a number or leave it out for ${dflt}`);
    }
  }
  const f = opts.rerankFactor;
  if (f !== undefined && (typeof f !== 'number' || !Number.isFinite(f) || f < 1)) {
    throw new TesseraError('INVALID_ARGUMENT', `rerankFactor must be a number >= 1 (candidates re-ranked per query, as a multiple of k), got ${shownOption(f)}: pass such a number or leave it out for 4`);
  }
}

function shownOption(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

/** The re-rank's WebAssembly module and, where memory can be shared, its workers. */
interface RerankHost {
  heap: WasmHeap;
  workers?: RerankWorkers;
}
/** int8 re-rank: (row, query) pairs sorted at once; ids up to 2^53 / 2^20 = 2^33 stay exact in the sort keys. */
const PAIR_SPAN = 1 << 20;

/**
 * Rows of a flat file in chunks of about `chunkBytes`, LOAD_READ_AHEAD reads ahead of the consumer,
 * into a ring of reused buffers: a chunk's data is valid until the consumer asks for the next one
 * (addRows has copied it into staging by then). Short reads raise FORMAT.
 */
async function* readAhead(source: ByteSource, layout: FlatLayout, chunkBytes: number): AsyncGenerator<{ start: number; count: number; data: Float32Array }> {
  const perChunk = Math.max(1, Math.floor(chunkBytes / layout.rowBytes));
  const ring = Array.from({ length: LOAD_READ_AHEAD + 1 }, () => new Float32Array(Math.min(perChunk, Math.max(1, layout.ntotal)) * layout.d));
  const reads: Promise<{ start: number; count: number; data: Float32Array }>[] = [];
  let nextRow = 0;
  let slot = 0;
  const issue = () => {
    if (nextRow >= layout.ntotal) return;
    const start = nextRow;
    const count = Math.min(perChunk, layout.ntotal - start);
    nextRow += count;
    const data = ring[slot]!.subarray(0, count * layout.d);
    slot = (slot + 1) % ring.length;
    const at = layout.dataOffset + start * layout.rowBytes;
    const read = readInto(source, at, new Uint8Array(data.buffer, data.byteOffset, data.byteLength)).then((got) => {
      if (got !== data.byteLength) {
        throw new TesseraError('FORMAT', `${(source as RandomAccessSource).label ?? 'index file'}: truncated: expected ${data.byteLength} bytes of rows at byte offset ${at}, read ${got} (the file changed or ends early)`);
      }
      return { start, count, data };
    });
    read.catch(() => undefined); // awaited below; a failure after the consumer stopped must not go unhandled
    reads.push(read);
  };
  for (let i = 0; i < LOAD_READ_AHEAD; i++) issue();
  while (reads.length > 0) {
    const chunk = await reads.shift()!;
    // The buffer of the chunk handed out before this one is free again: read into it.
    issue();
    yield chunk;
  }
}

async function openDevices(opts: GpuFlatOptions): Promise<GpuContext[]> {
  const gpus: (GPU | undefined)[] = opts.gpus?.length ? [...opts.gpus] : [opts.gpu];
  const per = Math.max(1, opts.devicesPerGpu ?? 1);
  const contexts: GpuContext[] = [];
  try {
    for (const gpu of gpus) {
      for (let i = 0; i < per; i++) contexts.push(await acquireDevice({ gpu, label: `adapter ${contexts.length}`, allowExperimental: opts.allowExperimental, disableRobustness: opts.disableRobustness }));
    }
    await loadTensorScorer(contexts);
  } catch (e) {
    for (const c of contexts) c.destroy();
    throw e;
  }
  return contexts;
}

/** GPU_UNAVAILABLE: under backend 'auto' a failed load leaves the index to WASM, as a failed device does. */
const tensorScorer = lazyChunk(
  'the tensor-core scorer for devices opened with allowExperimental',
  () => import('./tensor/hook.js'),
  `leave allowExperimental off, or ${SERVE_CHUNKS}`,
  'GPU_UNAVAILABLE',
);

/**
 * Loads the tensor-core scorer (tensor/hook.ts registers it with flat-shard.ts when imported) once
 * a device offers subgroup matrices, which acquireDevice asks for only under allowExperimental: on
 * any other device it takes no batch, so a page that never opens one never downloads its code and
 * kernel text (a chunk of its own). Awaited before the index exists, so every search sees it.
 */
async function loadTensorScorer(contexts: readonly GpuContext[]): Promise<void> {
  if (!contexts.some((c) => c.device.features.has(SUBGROUP_MATRIX_FEATURE))) return;
  await tensorScorer();
}

function planFor(contexts: GpuContext[], d: number, metric: Metric, n: number, precision: PrecisionChoice, opts: GpuFlatOptions, hostRows: number): FlatPlan {
  // The tensor scorer ranks inner products only (hook.ts planTensorHook): an L2 index never makes
  // digit planes nor takes the tensor path, so its plan holds neither their bytes nor its lists.
  const tensor = metric === 'ip';
  return planFlat({
    n,
    d,
    hostRows,
    // Digit planes (IndexOptions.digitPlanes): allocated at the first tensor-core search or warmUp.
    digitPrecisions: tensor ? digitPrecisions(contexts, opts) : [],
    tensorListK: tensorTuning.maxK,
    // f16 batches reach the tensor cores without planes too (converted while staging, or f16 matrices).
    f16TensorCores: tensor && opts.f16TensorCores !== false && contexts.some((c) => c.device.features.has(SUBGROUP_MATRIX_FEATURE)),
    k: 100,
    // int8's k' for that k (rerankDepth 1000 selects 1000 at every k: planned at 400, such searches
    // took fewer lists a query and batches of 1636 queries where memory held them whole).
    rerankK: rerankCandidates(100, opts),
    // int8's sub-batches (search: 0 sends up to maxBatch at once).
    int8Batch: (opts.rerankSubBatch ?? DEFAULT_RERANK_SUB_BATCH) || undefined,
    maxBatch: opts.maxBatch ?? MAX_BATCH,
    precision,
    scratchBytes: opts.scratchBytes ?? DEFAULT_SCRATCH,
    adapters: contexts.map((c) => ({
      label: c.label,
      maxBinding: c.maxBinding,
      maxTileBytes: opts.maxTileBytes,
      maxBuffer: c.maxBuffer,
      memoryBytes: opts.gpuMemory,
    })),
  });
}

/** Candidates re-ranked exactly per query for k (int8, and the tensor paths' k'): rerankDepth, else max(k + 16, rerankFactor x k). */
function rerankCandidates(k: number, opts: GpuFlatOptions): number {
  return opts.rerankDepth ? Math.max(k, opts.rerankDepth) : Math.max(k + 16, Math.ceil(k * (opts.rerankFactor ?? 4)));
}

/**
 * The precisions whose rows get digit planes (planner digitPrecisions): digitPlanes, by default
 * where every device has the subgroup matrices (allowExperimental), for the tensor paths not turned
 * off. f16 needs no code plane where every device multiplies halves (halfMatricesEverywhere).
 */
function digitPrecisions(contexts: readonly GpuContext[], opts: GpuFlatOptions): Precision[] {
  if (!(opts.digitPlanes ?? contexts.every((c) => c.device.features.has(SUBGROUP_MATRIX_FEATURE)))) return [];
  // The tensorTuning switches that keep a precision off the planes' path (benchmarks) keep them out of the plan too.
  const on = tensorTuning.enabled;
  return [...(opts.f32TensorCores !== false && on && tensorTuning.f32 ? ['f32' as const] : []), ...(opts.f16TensorCores !== false && on && tensorTuning.f16 && tensorTuning.f16Codes && !halfMatricesEverywhere(contexts) ? ['f16' as const] : [])];
}

/** Whether the index asks for the f16 two-pass scan: f16TwoPass, by default disableRobustness (the scan's speed needs robustness off). */
function f16TwoPassOf(opts: GpuFlatOptions): boolean {
  return opts.f16TwoPass ?? opts.disableRobustness === true;
}

/** Every device could run the f16 two-pass scan (tuning.ts halfScanDeviceRefusal, as hook.ts planHalfScan asks). */
function halfScanEverywhere(contexts: readonly GpuContext[]): boolean {
  return contexts.every((c) => {
    const info = c.adapter?.info as (GPUAdapterInfo & { subgroupMaxSize?: number }) | undefined;
    return !halfScanDeviceRefusal(c.device.features, matrixConfigsOf(info), info?.subgroupMaxSize ?? 32);
  });
}

/** Whether every device takes f16 rows on f16 subgroup matrices (hook.ts halfMatrixConfig). */
function halfMatricesEverywhere(contexts: readonly GpuContext[]): boolean {
  return contexts.every((c) => c.device.features.has(SUBGROUP_MATRIX_FEATURE) && !!halfMatrixConfig(c.device.features, matrixConfigsOf(c.adapter?.info)));
}

/** The smallest magnitude float16 rounds to infinity (its largest value is 65504). */
const HALF_OVERFLOW = 65520;

/** Below this magnitude float16 is subnormal: a fixed quantum of 2^-24, so fewer bits the smaller the value. */
const HALF_MIN_NORMAL = 2 ** -14;
/** Largest relative error of a row's norm f16 storage may add through subnormals (normal halves: 2^-11 at most). */
const HALF_ROW_ERROR = 0.01;

/**
 * f16 storage: every value must round to a finite half, else the rows would score as infinities;
 * and no row may lose more than 1% of its norm to float16's subnormal range (rows of 1e-7 round to
 * a few quanta of 6e-8, rows below 3e-8 to zero: scored so, they rank at random).
 */
function checkHalfRange(x: Float32Array, d: number): void {
  // Subnormal halves round by at most 2^-25 each, so a row whose largest value reaches
  // 100 sqrt(d) 2^-25 (8e-5 at d = 768) cannot lose 1% of its norm: only smaller rows get the
  // exact sum. This loop runs over every row an f16 load streams in, so it stays one compare a value.
  const safeLargest = (Math.sqrt(d) * 2 ** -25) / HALF_ROW_ERROR;
  const n = x.length / d;
  for (let row = 0; row < n; row++) {
    const o = row * d;
    let largest = 0;
    for (let j = 0; j < d; j++) {
      const a = Math.abs(x[o + j]!);
      if (a > largest) largest = a;
    }
    if (largest >= HALF_OVERFLOW) {
      let j = 0;
      while (!(Math.abs(x[o + j]!) >= HALF_OVERFLOW)) j++;
      throw new TesseraError('INVALID_ARGUMENT', `vectors to add contain ${x[o + j]} at row ${row}, dimension ${j}: beyond float16's range (+-65504), which precision 'f16' stores; use precision 'f32' or 'int8', or scale the vectors`);
    }
    if (largest >= safeLargest) continue;
    let total = 0;
    let lost = 0;
    for (let j = 0; j < d; j++) {
      const v = x[o + j]!;
      total += v * v;
      if (Math.abs(v) < HALF_MIN_NORMAL) {
        const e = v - Math.round(v * 2 ** 24) * 2 ** -24;
        lost += e * e;
      }
    }
    if (lost > HALF_ROW_ERROR * HALF_ROW_ERROR * total) {
      throw new TesseraError('INVALID_ARGUMENT', `vectors to add: row ${row} (largest value ${largest.toPrecision(3)}) would lose ${(100 * Math.sqrt(lost / total)).toFixed(1)}% of its norm in float16, whose values below 6.1e-5 keep fewer bits and below 3e-8 become 0, so it would rank at random; use precision 'f32' or 'int8', or scale the vectors up (e.g. normalise them)`);
    }
  }
}

/** Widens a result to k columns with -1 padding. */
function pad(r: SearchResult, k: number, metric: Metric): SearchResult {
  if (r.k === k) return r;
  const distances = new Float32Array(r.nq * k).fill(worstDistance(metric));
  const labels = new BigInt64Array(r.nq * k).fill(-1n);
  for (let q = 0; q < r.nq; q++) {
    for (let j = 0; j < Math.min(k, r.k); j++) {
      distances[q * k + j] = r.distances[q * r.k + j]!;
      labels[q * k + j] = r.labels[q * r.k + j]!;
    }
  }
  return { nq: r.nq, k, distances, labels };
}

/** Factory hook: indexFactory(d, "Flat", metric, {backend: 'gpu'}). */
export async function createGpuFlat(d: number, spec: IndexSpec, metric: Metric, opts: IndexOptions): Promise<GpuFlatIndex> {
  if (spec.kind !== 'flat') throw new TesseraError('UNSUPPORTED', `the GPU backend serves Flat indexes, not ${spec.kind}`);
  return GpuFlatIndex.create(d, metric, opts);
}

export { formatBytes, rowBytes, tempBytes };
