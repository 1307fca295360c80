/**
 * FAISS IndexIVFFlat ("IVF<nlist>,Flat") and IndexIVFScalarQuantizer ("IVF<nlist>,SQ8") on the WASM
 * backend. Training is FAISS's k-means (kmeans.ts; spherical for inner product, as index_factory
 * sets it); each vector goes to the list of its nearest centroid; a search visits the `nprobe`
 * nearest lists (per call) and scans them exactly (Flat) or on SQ8 codes. SQ8 lists encode the
 * residual x - centroid (FAISS's by_residual default), with FAISS's codec, so files interoperate.
 * Lists live in one WebAssembly memory (at most 4 GiB: shards.ts splits larger indexes).
 */
import { orderCalls } from '../core/call-order.js';
import { formatBytes, TesseraError } from '../core/errors.js';
import type { IndexOptions, IndexSpec } from '../core/factory.js';
import { emptyResult } from '../core/topk.js';
import type { ByteSink, ByteSource, Index, Metric, ProgressCallback, SearchOptions, SearchResult } from '../core/types.js';
import { checkFileRows, checkScoreRange, checkSearch, checkVectors, checkVectorShape, describeArg, raiseDimMaxima } from '../core/validate.js';
import { writeToTarget } from '../platform.js';
import { ByteReader, sourceLabel } from '../io/byte-reader.js';
import { DIRECT_MAP_NONE, type DirectMapType, directMapChunks, ivfHeadChunks, IVF_FLAT_FOURCC, IVF_SQ_FOURCC, type IvfLayout, readIvfLayout } from '../io/faiss/ivf.js';
import { DEFAULT_RANGESTAT, type SqRangeStat } from '../io/faiss/sq.js';
import { assignInPieces, kmeans, NativeAssigner, randomPermutation, seededRandom } from './kmeans.js';
import { type CodeHeap, nativeListSearch, readSourceInto, retrainError, Sq8Codec, WASM_MEMORY_LIMIT, WasmArena } from './sq-index.js';
import { instanceHeadroom } from './module.js';
import { breather, type DedicatedOptions, forRowPieces, rowPiece } from './worker-pool.js';

export type IvfStorage = 'flat' | 'sq8';

/**
 * Inverted lists in one block of a CodeHeap: per list its codes then its int32 ids, lists in list
 * order. The block is the heap's highest allocation, so it grows in place; a list outgrowing its
 * capacity moves the lists after it up within the block (an exact layout after one with slack may
 * move some down); lists move in place, in an order where no move overwrites a list not yet moved,
 * so no list ever needs a second copy (reserve). Separate allocations per list copied on growth
 * and left holes, so one instance held about half of what its memory allows. Each list stays
 * contiguous, so a search scans it as before.
 */
export class InvertedLists {
  readonly sizes: Float64Array;
  readonly caps: Float64Array;
  readonly codePtr: Float64Array;
  readonly idPtr: Float64Array;
  /** The block (0 until the first reserve) and its bytes. */
  private block = 0;
  private blockBytes = 0;

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

  /** Bytes of a list of `cap` entries in the block: codes and ids, each 4-byte aligned (ids are read as int32). */
  private listBytes(cap: number): number {
    return align4(cap * this.codeSize) + cap * 4;
  }

  /**
   * Makes room for extra[i] more entries in list i: growing lists get x1.5 slack while the block
   * then still leaves the instance's search headroom free, else exactly what they need (`exact`:
   * always). OUT_OF_MEMORY, nothing changed, when even that leaves less than the headroom.
   */
  reserve(extra: ArrayLike<number>, exact = false): void {
    const need = new Float64Array(this.nlist);
    let grows = false;
    for (let l = 0; l < this.nlist; l++) {
      need[l] = this.sizes[l]! + extra[l]!;
      if (need[l]! > this.caps[l]!) grows = true;
    }
    if (!grows) return;
    // Growing lists get x1.5 slack; where that does not fit, every list gets exactly its size
    // (the slack of lists that do not grow is given back too).
    const capsFor = (slack: boolean): { caps: Float64Array; bytes: number } => {
      const caps = new Float64Array(this.nlist);
      let bytes = 0;
      for (let l = 0; l < this.nlist; l++) {
        const c = this.caps[l]!;
        caps[l] = !slack ? need[l]! : need[l]! <= c ? c : c > 0 ? Math.max(need[l]!, Math.ceil(c * 1.5)) : need[l]!;
        bytes += this.listBytes(caps[l]!);
      }
      return { caps, bytes };
    };
    const limit = this.heap.limit;
    // the instance keeps what shard plans keep free for searches (query batches, probes, results)
    const room = limit - instanceHeadroom(limit) - (this.block || this.heap.used);
    let next = capsFor(!exact);
    if (next.bytes > room && !exact) next = capsFor(false);
    if (next.bytes > room) {
      let have = 0;
      let more = 0;
      for (let l = 0; l < this.nlist; l++) {
        have += this.sizes[l]!;
        more += extra[l]!;
      }
      const perVector = this.codeSize + 4;
      throw new TesseraError(
        'OUT_OF_MEMORY',
        `inverted lists of ${have + more} vectors need ${formatBytes(next.bytes)} (${perVector} bytes a vector), but one WebAssembly memory of ${formatBytes(limit)} ` +
          `has ${formatBytes(Math.max(0, room))} for them beside the centroids and ${formatBytes(instanceHeadroom(limit))} kept for searches ` +
          `(about ${Math.max(0, Math.floor(room / perVector))} vectors fit): ${limit < WASM_MEMORY_LIMIT ? 'raise memoryLimit (bytes, at most 4 GiB), ' : ''}split the vectors into shards (shardedIndex(d, factory, metric) from 'tessera'; readIndex does it by itself), or use "IVF<nlist>,SQ8"`,
      );
    }
    const old = this.block;
    // Never shrinks (an exact layout after a slack one may need less): the old bytes fit the room.
    const blockBytes = Math.max(next.bytes, this.blockBytes);
    // grows in place when the block is the highest allocation (else the heap copies it once)
    this.block = old === 0 ? this.heap.alloc(blockBytes) : this.heap.realloc(old, this.blockBytes, blockBytes);
    this.blockBytes = blockBytes;
    // Codes and ids blocks in list order, old and new places (relative to the block as it is now):
    // both orders agree, so blocks moving down are moved first from the first one up, then blocks
    // moving up from the last one down; no move then overwrites a block not yet moved.
    const moves: { from: number; to: number; bytes: number }[] = [];
    for (let l = 0, o = 0; l < this.nlist; l++) {
      const size = this.sizes[l]!;
      const codes = this.block + o;
      const ids = codes + align4(next.caps[l]! * this.codeSize);
      if (size > 0) {
        moves.push({ from: this.codePtr[l]! - old + this.block, to: codes, bytes: size * this.codeSize });
        moves.push({ from: this.idPtr[l]! - old + this.block, to: ids, bytes: size * 4 });
      }
      this.codePtr[l] = codes;
      this.idPtr[l] = ids;
      this.caps[l] = next.caps[l]!;
      o += this.listBytes(next.caps[l]!);
    }
    const bytes = new Uint8Array(this.heap.memory.buffer);
    for (const m of moves) if (m.to < m.from) bytes.copyWithin(m.to, m.from, m.from + m.bytes);
    for (let i = moves.length - 1; i >= 0; i--) {
      const m = moves[i]!;
      if (m.to > m.from) bytes.copyWithin(m.to, m.from, m.from + m.bytes);
    }
  }

  get bytes(): Uint8Array {
    return new Uint8Array(this.heap.memory.buffer);
  }

  /** Bytes reserved for codes and ids. */
  get reservedBytes(): number {
    return this.blockBytes;
  }

  release(): void {
    if (this.block !== 0) this.heap.release(this.block);
    this.block = 0;
    this.blockBytes = 0;
    this.caps.fill(0);
    this.sizes.fill(0);
  }
}

function align4(n: number): number {
  return Math.ceil(n / 4) * 4;
}

/**
 * The lowest id of an IVF file at or past its ntotal (FAISS add_with_ids can store any), or
 * undefined: add numbers new vectors from ntotal (as FAISS's add), contiguously, so no add may reach
 * it, and ntotal never passes it; the file's other ids need no keeping.
 */
export class FileIds {
  lowestAbove: number | undefined;

  constructor(readonly ntotal: number) {}

  note(id: number): void {
    if (id >= this.ntotal && !(id >= this.lowestAbove!)) this.lowestAbove = id;
  }
}

/**
 * UNSUPPORTED when adding n vectors, numbered ntotal..ntotal+n-1, would give one of them an id past
 * the lists' int32 ids, or an id the file the index was read from holds (its add_with_ids ids):
 * results would then name two vectors by one id.
 */
export function checkAddIds(lowestFileId: number | undefined, description: string, ntotal: number, n: number): void {
  if (n === 0) return;
  // A file's ntotal counts rows FAISS put in no list, so it may lie near 2^31 with few vectors
  // stored: the ids past it wrapped negative, and the saved file could not be read back.
  if (ntotal + n > 2 ** 31) {
    throw new TesseraError(
      'UNSUPPORTED',
      `this ${description} index has ntotal = ${ntotal}: add numbers its ${n} vectors ${ntotal}..${ntotal + n - 1}, from ntotal as FAISS's add does, past the ids tessera serves ([0, 2^31)); it took none`,
    );
  }
  if (lowestFileId === undefined || ntotal + n <= lowestFileId) return;
  throw new TesseraError(
    'UNSUPPORTED',
    `this ${description} index was read from a file whose ids are its own (FAISS add_with_ids), and id ${lowestFileId} is one of them: add numbers its ${n} vectors ` +
      `${ntotal}..${ntotal + n - 1}, from ntotal as FAISS's add does, so it would name two vectors by one id; it took none. ` +
      `Keep new vectors in a second index and merge the two results, or rebuild the file with ids that leave room`,
  );
}

export interface IvfIndexOptions extends IndexOptions, DedicatedOptions {
  /** k-means iterations (FAISS IVF default 10). */
  niter?: number;
  /** Bytes this index's WebAssembly memory may grow to (default and most: 4 GiB); shards.ts lowers it in tests. */
  memoryLimit?: number;
}

/** Training points FAISS keeps for the scalar quantizer of an IVF-SQ index (ScalarQuantizer::train_residual). */
const SQ_TRAIN_MAX = 100_000;
/** Vectors assigned and encoded per native call in add. */
const ADD_BATCH_BYTES = 4 << 20;

export class WasmIvfIndex implements Index {
  readonly backend = 'wasm' as const;
  ntotal = 0;
  /** nlist x d coarse centroids, once trained. */
  centroids: Float32Array | undefined;
  codec: Sq8Codec | undefined;
  /** SQ8: how train learns the ranges, and what save writes (FAISS's default, or a loaded file's). */
  rangeStat: SqRangeStat = DEFAULT_RANGESTAT;
  /** The direct map a loaded FAISS file had (DirectMap::Type), rebuilt from the lists by save. */
  directMap: DirectMapType = DIRECT_MAP_NONE;
  /** SQ8 lists hold x - centroid (FAISS IndexIVFScalarQuantizer's default); Flat lists hold x. */
  byResidual: boolean;
  /**
   * The coarse quantizer's metric, which picks the lists a vector goes to and a query probes: the
   * index's, or a FAISS file's own (IndexIVFFlat(IndexFlatL2(d), d, nlist, METRIC_INNER_PRODUCT)).
   */
  coarseMetric: Metric;
  nprobe: number;
  /**
   * The lowest id at or past ntotal of the file this index was read from (add_with_ids), which no add
   * may reach (FileIds); search returns the file's ids as stored (a repeated one in each place, as FAISS).
   */
  lowestFileId: number | undefined;
  private readonly lists: InvertedLists;
  private disposed = false;
  private readonly seed: number;
  private readonly niter: number;
  private readonly threads: number | undefined;
  private readonly onProgress: ProgressCallback | undefined;
  /** In the arena: centroids (nlist x d), vmin/vdiff (2d), list tables (3 x nlist int32). */
  private readonly centPtr: number;
  private readonly sqPtr: number;
  private readonly tablePtr: number;
  /** Each dimension's largest magnitude over the stored rows (Flat lists), the centroids, the SQ8 ranges: see scoreBounds. */
  private readonly rowMax: Float64Array;
  private readonly centMax: Float64Array;
  private readonly sqMax: Float64Array;

  private constructor(
    readonly d: number,
    readonly nlist: number,
    readonly storage: IvfStorage,
    readonly metric: Metric,
    readonly arena: WasmArena,
    opts: IvfIndexOptions,
  ) {
    this.byResidual = storage === 'sq8';
    this.coarseMetric = metric;
    this.nprobe = opts.nprobe ?? 1;
    this.seed = opts.seed ?? 1234;
    this.niter = opts.niter ?? 10;
    this.threads = opts.threads;
    this.onProgress = opts.onProgress;
    this.centPtr = arena.alloc(nlist * d * 4);
    this.sqPtr = arena.alloc(8 * d);
    this.tablePtr = arena.alloc(12 * nlist);
    this.lists = new InvertedLists(nlist, storage === 'flat' ? 4 * d : d, arena);
    this.rowMax = new Float64Array(d);
    this.centMax = new Float64Array(d);
    this.sqMax = new Float64Array(d);
  }

  /**
   * Raises the rows' magnitudes by rows stored in Flat lists; `where` names rows read from a file
   * (the loaders), whose NaN or Infinity is FORMAT.
   */
  noteRows(x: Float32Array, where?: string, file?: { ids: Int32Array; at: number }): void {
    if (raiseDimMaxima(this.rowMax, x, this.d) || !where) return;
    if (!file) return checkFileRows(x, this.d, 0, where);
    // A file's list: the vector's id, not its slot in the list (the slot read as a label, another vector)
    const bad = x.findIndex((v) => !Number.isFinite(v));
    const row = Math.floor(bad / this.d);
    throw new TesseraError(
      'FORMAT',
      `${where}: the vector of id ${file.ids[row]} holds ${String(x[bad])} in dimension ${bad - row * this.d} (byte offset ${file.at + 4 * bad}): ` +
        'every value must be finite (its scores would be NaN and reorder the other rows); rebuild the index from finite vectors',
    );
  }

  /**
   * Per dimension, the largest magnitude a scan multiplies a query by: the centroids (coarse step)
   * and the stored rows (Flat), or the centroid plus the decoded residual (SQ8 by residual).
   */
  private scoreBounds(): Float64Array {
    const out = new Float64Array(this.d);
    for (let j = 0; j < this.d; j++) {
      out[j] = this.storage === 'flat' ? Math.max(this.centMax[j]!, this.rowMax[j]!) : (this.byResidual ? this.centMax[j]! : 0) + Math.max(this.sqMax[j]!, this.byResidual ? 0 : this.centMax[j]!);
    }
    return out;
  }

  static async create(d: number, nlist: number, storage: IvfStorage, metric: Metric, opts: IvfIndexOptions = {}): Promise<WasmIvfIndex> {
    const what = `IVF${nlist},${storage === 'flat' ? 'Flat' : 'SQ8'} index`;
    checkIvfOptions(opts);
    const arena = await WasmArena.create(what, { threads: opts.threads, limit: opts.memoryLimit, dedicated: opts.dedicated });
    try {
      // Its calls wait for each other (core/call-order.ts), as the factory's do: an add pauses
      // (breather) while it writes into the lists it reserved, and shards, a sharded index's
      // shard(i) and direct callers reach this class without the factory's wrapper: a search or
      // save then read half-added lists, and dispose freed the memory under the add. No method
      // here calls another of train/add/search/save/dispose on itself, which would wait for itself.
      return orderCalls(new WasmIvfIndex(d, nlist, storage, metric, arena, opts));
    } catch (e) {
      await arena.dispose();
      throw e;
    }
  }

  get description(): string {
    return `IVF${this.nlist},${this.storage === 'flat' ? 'Flat' : 'SQ8'}`;
  }

  get isTrained(): boolean {
    return this.centroids !== undefined && (this.storage === 'flat' || this.codec !== undefined);
  }

  /** Bytes reserved for lists (codes + int32 ids) plus the centroids. */
  get memoryBytes(): number {
    return this.lists.reservedBytes + this.nlist * this.d * 4;
  }

  /** Bytes the stored data needs: codes and int32 ids of every vector, plus the centroids (growth slack excluded). */
  get usedBytes(): number {
    let n = 0;
    for (let l = 0; l < this.nlist; l++) n += this.lists.sizes[l]!;
    return n * (this.lists.codeSize + 4) + this.nlist * this.d * 4;
  }

  /** Bytes the WebAssembly memory of this index has grown to (what the process pays). */
  get wasmMemoryBytes(): number {
    return this.arena.byteLength;
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
    this.arena.f32(this.centPtr, centroids.length).set(centroids);
    this.centMax.fill(0);
    raiseDimMaxima(this.centMax, centroids, this.d);
    this.sqMax.fill(0);
    if (codec) for (let j = 0; j < this.d; j++) this.sqMax[j] = Math.abs(codec.vmin[j]!) + Math.abs(codec.vdiff[j]!);
    this.codec = codec;
    if (codec) this.arena.f32(this.sqPtr, 2 * this.d).set(codec.trained);
    this.byResidual = byResidual;
  }

  async train(x: Float32Array): Promise<void> {
    this.live();
    checkVectorShape(x, this.d, 'training vectors');
    const n = x.length / this.d;
    if (this.ntotal > 0) throw retrainError(this.description, this.ntotal);
    // Before k-means (minutes at nlist 4096), not after it: the ranges come last.
    if (this.storage === 'sq8') Sq8Codec.checkTrainable(this.rangeStat);
    if (n < this.nlist) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `IVF${this.nlist} needs at least nlist = ${this.nlist} training vectors (FAISS recommends 39 x nlist or more), got ${n}: train on more vectors or use a smaller nlist`,
      );
    }
    // k-means scores rows against centroids within the rows' range: past float32's it assigns at random.
    // Each pass in pieces with pauses, as k-means: the three passes held the event loop for about
    // 2 s at 200k x 768 on a loaded machine (12 s at 1M rows), before the k-means bar even showed.
    const d = this.d;
    const breathe = breather();
    await forRowPieces(x, d, breathe, (p, row) => checkVectors(p, d, 'training vectors', row));
    const rowMax = new Float64Array(d);
    await forRowPieces(x, d, breathe, (p) => raiseDimMaxima(rowMax, p, d));
    await forRowPieces(x, d, breathe, (p, row) => checkScoreRange(p, d, this.coarseMetric, rowMax, 'training vector', row));
    // As FAISS: k-means assigns by the quantizer's metric (Clustering::train with the quantizer),
    // and is spherical when the index's is inner product (IndexIVF's constructor sets cp.spherical)
    const centroids = await kmeans(x, this.d, this.nlist, this.coarseMetric, {
      niter: this.niter,
      seed: this.seed,
      spherical: this.metric === 'ip',
      threads: this.threads,
      onProgress: this.onProgress,
      breathe,
    });
    let codec: Sq8Codec | undefined;
    if (this.storage === 'sq8') {
      // As FAISS: the codec learns the ranges of what the lists store (residuals to the assigned
      // centroid, or the vectors when a file set by_residual off), on a seeded subsample of at most
      // 100k training vectors.
      let xs = x;
      if (n > SQ_TRAIN_MAX) {
        const perm = await randomPermutation(n, seededRandom(this.seed + 1), breathe);
        xs = new Float32Array(SQ_TRAIN_MAX * this.d);
        for (let i0 = 0; i0 < SQ_TRAIN_MAX; i0 += rowPiece(d)) {
          for (let i = i0, e = Math.min(SQ_TRAIN_MAX, i0 + rowPiece(d)); i < e; i++) xs.set(x.subarray(perm[i]! * d, (perm[i]! + 1) * d), i * d);
          await breathe();
        }
      }
      codec = await Sq8Codec.trainInPieces(this.byResidual ? await this.residuals(xs, centroids, breathe) : xs, d, this.rangeStat, breathe);
    }
    this.setTrained(centroids, codec);
  }

  /** Each row of xs minus its nearest centroid. */
  private async residuals(xs: Float32Array, centroids: Float32Array, breathe: () => Promise<void>): Promise<Float32Array> {
    const d = this.d;
    const m = xs.length / d;
    const assign = new Int32Array(m);
    const assigner = await NativeAssigner.create(xs, d, this.nlist, this.threads, breathe);
    try {
      await assigner.assign(centroids, this.coarseMetric, assign, undefined, breathe);
    } finally {
      await assigner.dispose();
    }
    const res = new Float32Array(xs.length);
    for (let i0 = 0; i0 < m; i0 += rowPiece(d)) {
      for (let i = i0, e = Math.min(m, i0 + rowPiece(d)); i < e; i++) {
        const c = assign[i]! * d;
        for (let j = 0; j < d; j++) res[i * d + j] = xs[i * d + j]! - centroids[c + j]!;
      }
      await breathe();
    }
    return res;
  }

  /**
   * Adds run one at a time (orderCalls, see create): an add pauses while it writes into the lists it
   * reserved, and a second add reserving meanwhile counted the first's rows as stored already.
   */
  async add(x: Float32Array): Promise<void> {
    this.live();
    checkVectorShape(x, this.d, 'vectors to add');
    const n = x.length / this.d;
    // The passes over the rows go in pieces with pauses, as training's: at 300k x 32 the checks, the
    // dimension maxima and the writes into the lists held the event loop for 0.5 s on this loaded
    // machine (seconds for a million rows at d = 768).
    const breathe = breather();
    await forRowPieces(x, this.d, breathe, (p, row) => checkVectors(p, this.d, 'vectors to add', row));
    if (!this.isTrained) throw new TesseraError('NOT_TRAINED', `${this.description} is not trained: call train(x) with representative vectors (>= nlist) before add`);
    checkAddIds(this.lowestFileId, this.description, this.ntotal, n);
    const d = this.d;
    const A = this.arena;
    const cs = this.lists.codeSize;
    // batches' buffers sit above the lists: keep them within the headroom the lists leave free
    const batchBytes = Math.min(ADD_BATCH_BYTES, Math.floor(instanceHeadroom(A.limit) / 4));
    const batch = Math.max(1, Math.floor(batchBytes / (4 * d + 12)));
    const bm = Math.min(n, batch);
    const coarse = this.coarseMetric === 'ip' ? 0 : 1;
    // The coarse step scores rows against the centroids: past float32's range they go to a random list.
    await forRowPieces(x, d, breathe, (p, row) => checkScoreRange(p, d, this.coarseMetric, this.centMax, 'vector to add', row));
    // Two passes: every vector's list first, so the lists grow once, to their sizes (in place, see
    // InvertedLists), before any code is written; an add that does not fit changes nothing.
    const assign = new Int32Array(n);
    let xp = A.alloc(bm * d * 4);
    let ap = A.alloc(bm * 4);
    try {
      const dp = A.alloc(bm * 4);
      const fp = A.alloc(bm * 4);
      try {
        // From 0: a large add's first batch was not shown, nor counted in the phase's time.
        this.onProgress?.({ phase: 'adding', done: 0, total: n, unit: 'vectors' });
        // In pieces with pauses, as k-means: the calling thread's part of a batch is seconds at
        // IVF4096 and d = 768, and an add of a million vectors held timers, Ctrl-C and a page for minutes.
        for (let i0 = 0; i0 < n; i0 += batch) {
          const m = Math.min(batch, n - i0);
          A.f32(xp, m * d).set(x.subarray(i0 * d, (i0 + m) * d));
          await assignInPieces(A, m, this.nlist * d, breathe, (from, to) => ({
            fn: 'flat_search',
            args: [this.centPtr, this.nlist, d, xp + from * d * 4, to - from, 1, coarse, 0, dp + from * 4, ap + from * 4, fp + from * 4],
          }));
          assign.set(A.i32(ap, m), i0);
          await breathe();
          if (i0 + m < n) this.onProgress?.({ phase: 'adding', done: i0 + m, total: n, unit: 'vectors' });
        }
      } finally {
        A.release(fp);
        A.release(dp);
      }
    } finally {
      A.release(ap);
      A.release(xp);
    }
    const counts = new Float64Array(this.nlist);
    for (let i = 0; i < n; i++) counts[assign[i]!]!++;
    const L = this.lists;
    L.reserve(counts);
    // The rows' maxima (IVF-Flat's score bounds) are raised as each batch is copied in below, and
    // set once every row is in.
    const rowMax = this.rowMax.slice();
    xp = A.alloc(bm * d * 4);
    ap = A.alloc(bm * 4);
    const cp = this.storage === 'sq8' ? A.alloc(bm * d) : xp;
    const before = L.sizes.slice();
    try {
      for (let i0 = 0; i0 < n; i0 += batch) {
        const m = Math.min(batch, n - i0);
        const rows = A.f32(xp, m * d);
        rows.set(x.subarray(i0 * d, (i0 + m) * d));
        // Checked again as copied, these being the rows stored: the caller may have changed x in
        // the pauses since the first check, and a NaN row went into the lists unchecked.
        if (!raiseDimMaxima(rowMax, rows, d)) checkVectors(rows, d, 'vectors to add', i0);
        if (this.storage === 'sq8') {
          A.i32(ap, m).set(assign.subarray(i0, i0 + m));
          await A.parallel(m, (from, to) => ({
            fn: 'sq8_encode',
            args: [xp + from * d * 4, to - from, d, this.sqPtr, this.sqPtr + 4 * d, this.byResidual ? this.centPtr : 0, ap + from * 4, cp + from * d],
          }));
        }
        for (let r0 = 0; r0 < m; r0 += rowPiece(d)) {
          // views taken after each pause: memory grown meanwhile detaches the old ones
          const bytes = new Uint8Array(A.memory.buffer);
          const i32 = new Int32Array(A.memory.buffer);
          for (let i = r0, e = Math.min(m, r0 + rowPiece(d)); i < e; i++) {
            const l = assign[i0 + i]!;
            const slot = L.sizes[l]!;
            bytes.copyWithin(L.codePtr[l]! + slot * cs, cp + i * cs, cp + (i + 1) * cs);
            i32[(L.idPtr[l]! >> 2) + slot] = this.ntotal + i0 + i;
            L.sizes[l] = slot + 1;
          }
          await breathe();
        }
      }
    } catch (e) {
      // as it was: no list keeps part of this add
      L.sizes.set(before);
      throw e;
    } finally {
      if (cp !== xp) A.release(cp);
      A.release(ap);
      A.release(xp);
    }
    if (this.storage === 'flat') this.rowMax.set(rowMax);
    this.ntotal += n;
    this.onProgress?.({ phase: 'adding', done: n, total: n, unit: 'vectors' });
  }

  async search(q: Float32Array, k: number, opts: SearchOptions = {}): Promise<SearchResult> {
    this.live();
    // Scores by the index's metric, and the probes by the quantizer's where that differs.
    const ranges = [{ metric: this.metric, dimMax: this.scoreBounds() }, ...(this.coarseMetric !== this.metric ? [{ metric: this.coarseMetric, dimMax: this.centMax }] : [])];
    const nq = checkSearch(q, k, this.d, this.ntotal, undefined, '', ranges);
    const nprobe = checkNprobe(opts.nprobe ?? this.nprobe);
    if (!this.isTrained) throw new TesseraError('NOT_TRAINED', `${this.description} is not trained: call train(x) before search`);
    if (nq === 0 || this.ntotal === 0) return emptyResult(nq, k, this.metric);
    const L = this.lists;
    const t = this.arena.i32(this.tablePtr, 3 * this.nlist);
    for (let l = 0; l < this.nlist; l++) {
      t[l] = L.caps[l] ? L.codePtr[l]! : 0;
      t[this.nlist + l] = L.caps[l] ? L.idPtr[l]! : 0;
      t[2 * this.nlist + l] = L.sizes[l]!;
    }
    return nativeListSearch(
      this.arena,
      {
        d: this.d,
        metric: this.metric,
        coarseMetric: this.coarseMetric,
        storage: this.storage,
        byResidual: this.byResidual,
        centroidsPtr: this.centPtr,
        nlist: this.nlist,
        tablesPtr: this.tablePtr,
        sqPtr: this.sqPtr,
        ntotal: this.ntotal,
      },
      q,
      k,
      nprobe,
      opts.signal,
    );
  }

  async save(target: string | ByteSink): Promise<void> {
    this.live();
    await writeToTarget(target, async (sink) => {
      const L = this.lists;
      // the head in chunks: a hashtable direct map is made a chunk at a time as the sink takes it
      for (const chunk of ivfHeadChunks({
        d: this.d,
        metric: this.metric,
        quantizerMetric: this.coarseMetric,
        ntotal: this.ntotal,
        nprobe: this.nprobe,
        centroids: this.centroids ?? new Float32Array(0),
        sqTrained: this.storage === 'sq8' ? (this.codec?.trained ?? new Float32Array(0)) : undefined,
        sqRange: this.rangeStat,
        byResidual: this.byResidual,
        isTrained: this.isTrained,
        listSizes: L.sizes,
        // A view made afresh at each call (directMapChunks asks again after each write): a search
        // running beside the save may grow a non-shared memory, which detaches older views (their ids read as 0).
        directMap: directMapChunks(this.directMap, this.ntotal, L.sizes, (l) => new Int32Array(L.bytes.buffer, L.idPtr[l]!, L.sizes[l]!)),
      })) {
        await sink.write(chunk);
      }
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
    });
  }

  /** Internal: the lists (for loaders and shards). */
  invertedLists(): InvertedLists {
    return this.lists;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.arena.dispose();
  }
}

/**
 * For a file whose ids (add_with_ids) do not fit: renumbering the lists' ids in place keeps every
 * vector and code as it is (IVF-SQ8 codes cannot be rebuilt from vectors FAISS only approximates).
 */
const RENUMBER_IDS =
  "renumber the file's ids 0..n-1 with FAISS and keep yours beside it (tessera's label j is then ids[j]): " +
  'inv = faiss.extract_index_ivf(index).invlists; ids = []\n' +
  'for l in range(inv.nlist): n = inv.list_size(l); a = faiss.rev_swig_ptr(inv.get_ids(l), n); ids.extend(a.tolist()); a[:] = np.arange(len(ids) - n, len(ids))\n' +
  "np.save('ids.npy', ids); faiss.write_index(index, path)";

/** UNSUPPORTED for an IVF file's id outside [0, 2^31) at byte offset `at`, saying how to renumber the file's ids. */
function unservedIdError(label: string, list: number, id: bigint, at: number): TesseraError {
  return new TesseraError(
    'UNSUPPORTED',
    `${label}: list ${list} holds id ${id} at byte offset ${at}: tessera serves ids in [0, 2^31) (sequential ids as faiss.Index.add gives); ${RENUMBER_IDS}`,
  );
}

/**
 * Reads inverted list `l` of the file into `index`, whose lists have room for it: its codes, and its
 * ids (in [0, 2^31), noted in `fileIds`); a Flat list's vectors must be finite.
 */
export async function loadIvfList(source: ByteSource, layout: IvfLayout, l: number, index: WasmIvfIndex, fileIds: FileIds, label: string): Promise<void> {
  const L = index.invertedLists();
  const size = layout.listSizes[l]!;
  const at = layout.listOffsets[l]!;
  const cs = layout.codeSize;
  await readSourceInto(source, at, size * cs, L.bytes, L.codePtr[l]!, label);
  const raw = new Uint8Array(size * 8);
  await readSourceInto(source, at + size * cs, size * 8, raw, 0, label);
  const ids = new BigInt64Array(raw.buffer);
  const dst = new Int32Array(L.bytes.buffer, L.idPtr[l]!, size);
  for (let i = 0; i < size; i++) {
    const id = ids[i]!;
    if (id < 0n || id > 0x7fffffffn) throw unservedIdError(label, l, id, at + size * cs + 8 * i);
    dst[i] = Number(id);
    fileIds.note(dst[i]!);
  }
  if (layout.fourcc === IVF_FLAT_FOURCC) index.noteRows(new Float32Array(L.bytes.buffer, L.codePtr[l]!, size * layout.d), `${label}: list ${l}`, { ids: dst, at });
  L.sizes[l] = size;
}

/** Reads an IwFl / IwSq file into a WASM IVF index, streaming list contents into its memory. */
export async function loadIvfIndex(source: ByteSource, opts: IvfIndexOptions = {}, label = sourceLabel(source), layout?: IvfLayout): Promise<WasmIvfIndex> {
  // `layout`: the file's structure as a caller already read it (loadIvfAuto), so it is not read again.
  layout ??= await readIvfFile(source, label);
  const fourcc = layout.fourcc;
  const index = await WasmIvfIndex.create(layout.d, layout.nlist, fourcc === IVF_SQ_FOURCC ? 'sq8' : 'flat', layout.metric, { ...opts, nprobe: opts.nprobe ?? Math.max(1, layout.nprobe) });
  // Also for an untrained file: its train then encodes as the file says (FAISS: by_residual).
  index.byResidual = layout.byResidual;
  index.coarseMetric = layout.quantizerMetric;
  if (layout.sq) index.rangeStat = layout.sq;
  index.directMap = layout.directMap;
  const fileIds = new FileIds(layout.ntotal);
  try {
    if (layout.centroids.length === layout.nlist * layout.d) {
      const codec = layout.sq && layout.sq.trained.length === 2 * layout.d ? new Sq8Codec(layout.d, layout.sq.trained) : undefined;
      if (fourcc === IVF_FLAT_FOURCC || codec) index.setTrained(layout.centroids, codec, layout.byResidual);
    }
    index.invertedLists().reserve(layout.listSizes, true);
    let done = 0;
    for (let l = 0; l < layout.nlist; l++) {
      if (layout.listSizes[l] === 0) continue;
      await loadIvfList(source, layout, l, index, fileIds, label);
      done += layout.listSizes[l]!;
      opts.onProgress?.({ phase: 'loading index', done, total: layout.listed, unit: 'vectors' });
    }
  } catch (e) {
    await index.dispose();
    throw e;
  }
  index.ntotal = layout.ntotal;
  index.lowestFileId = fileIds.lowestAbove;
  return index;
}

/** The structure of the IwFl / IwSq file in `source`; FORMAT when it starts with another fourcc. */
export async function readIvfFile(source: ByteSource, label = sourceLabel(source)): Promise<IvfLayout> {
  const r = new ByteReader(source, 0, label);
  const fourcc = await r.fourcc();
  if (fourcc !== IVF_FLAT_FOURCC && fourcc !== IVF_SQ_FOURCC) {
    throw r.error(`expected an IVF index ("${IVF_FLAT_FOURCC}" or "${IVF_SQ_FOURCC}"), found ${JSON.stringify(fourcc)}`, 0);
  }
  return readIvfLayout(r, fourcc);
}

/** Factory entry for "IVF<nlist>,Flat" and "IVF<nlist>,SQ8". */
export async function createIvfIndex(d: number, spec: IndexSpec, metric: Metric, opts: IndexOptions): Promise<Index> {
  if (spec.kind !== 'ivf') throw new TesseraError('INVALID_ARGUMENT', `createIvfIndex got a ${spec.kind} spec`);
  return WasmIvfIndex.create(d, spec.nlist, spec.storage, metric, opts);
}

/** nprobe, seed and niter, checked when the index is created (not at the first search or train, minutes later). */
function checkIvfOptions(opts: IvfIndexOptions): void {
  const { nprobe, seed, niter } = opts;
  if (nprobe !== undefined) checkNprobe(nprobe);
  if (seed !== undefined && !(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32)) throw new TesseraError('INVALID_ARGUMENT', `seed must be an integer in [0, 2^32), got ${describeArg(seed)}`);
  if (niter !== undefined && !(Number.isInteger(niter) && niter >= 1 && niter <= 10_000)) throw new TesseraError('INVALID_ARGUMENT', `niter (k-means iterations) must be an integer in [1, 10000], got ${describeArg(niter)}`);
}

export function checkNprobe(nprobe: unknown): number {
  if (!Number.isInteger(nprobe) || (nprobe as number) < 1) throw new TesseraError('INVALID_ARGUMENT', `nprobe must be an integer >= 1, got ${describeArg(nprobe)}`);
  return nprobe as number;
}
