/**
 * TensorInt8Flat: inner-product flat search with int8 codes on the GPU and exact float32 re-rank,
 * scored on the tensor cores where the adapter offers 8-bit subgroup matrices and the caller opted
 * in (`allowExperimental`), else with dot4I8Packed on any WebGPU adapter. Standalone: it opens its
 * own device. Rows are kept in float32 on the host for the re-rank; the GPU holds 1 byte a dimension.
 *
 *   const index = await TensorInt8Flat.create({ d: 768, allowExperimental: true });
 *   await index.add(vectors);                       // n x 768 Float32Array
 *   const { labels, distances } = await index.search(queries, 10);
 *   index.kernel.kind;                              // 'mma' (tensor cores) or 'dot4', with .reason
 */
import { TesseraError } from '../../core/errors.js';
import { InFlight } from '../../core/in-flight.js';
import { lazyChunk } from '../../core/lazy.js';
import { checkDimension, checkSearch, checkVectors } from '../../core/validate.js';
import { platform } from '../../platform.js';
import { checkGpuObjects, noAdapter, noWebGpu, resolveGpu } from '../device.js';
import { chooseKernel, type KernelChoice, matrixConfigsOf, ROW_ALIGN, SUBGROUP_MATRIX_FEATURE, UNSAFE_APIS_FLAG } from './choose.js';
import type { Int8TensorScorer, rerankExact } from './int8-scorer.js';
import { encodeRows, paddedDim, quantizeQueries, type SqParams, trainSq } from './quantize.js';

export interface TensorFlatOptions {
  d: number;
  /** Candidates re-ranked exactly per query (k'); k may not exceed it. Default 32 (recall@10 1.000 on the H100 run). */
  kPrime?: number;
  /**
   * Use Dawn's experimental subgroup matrices (the tensor cores). In Node this opens Dawn with
   * `enable-dawn-features=allow_unsafe_apis`, which also unlocks other unsafe APIs for that Dawn
   * instance. Off by default; without it (or on adapters that lack a fitting 8-bit config) the
   * dot4 kernel runs.
   */
  allowExperimental?: boolean;
  /** A GPU object to use instead (e.g. Dawn's `create([...flags])`, or navigator.gpu). */
  gpu?: GPU;
  /** Largest tile in bytes (default: the device's maxStorageBufferBindingSize). */
  maxTileBytes?: number;
}

const MAX_QUERY_BATCH = 1024;

/**
 * The scorer and its kernel text: a chunk of its own (see create). GPU_UNAVAILABLE, as GpuFlatIndex's
 * tensor scorer (flat-index.ts): the device's code did not come.
 */
const scorerChunk = lazyChunk("TensorInt8Flat's scorer", () => import('./int8-scorer.js'), undefined, 'GPU_UNAVAILABLE');

export class TensorInt8Flat {
  readonly d: number;
  readonly kPrime: number;
  private sq: SqParams | undefined;
  private host: Float32Array[] = [];
  private hostStart: number[] = [];
  private disposed = false;
  /** Searches under way: dispose frees the device only after them. */
  private readonly inflight = new InFlight();

  private constructor(
    private readonly device: GPUDevice,
    private readonly scorer: Int8TensorScorer,
    private readonly rerank: typeof rerankExact,
    readonly kernel: KernelChoice,
    private readonly maxTileRows: number,
    d: number,
    kPrime: number,
    // Held so Dawn's instance outlives the device (a collected instance takes its devices down).
    readonly gpu: GPU,
  ) {
    this.d = d;
    this.kPrime = kPrime;
  }

  static async create(opts: TensorFlatOptions): Promise<TensorInt8Flat> {
    const d = checkDimension(opts.d);
    const kPrime = opts.kPrime ?? 32;
    if (!Number.isInteger(kPrime) || kPrime < 1 || kPrime > 128) {
      throw new TesseraError('INVALID_ARGUMENT', `kPrime must be an integer 1..128, got ${String(kPrime)}`);
    }
    checkGpuObjects(opts);
    const allow = opts.allowExperimental ?? false;
    let gpu = opts.gpu;
    if (!gpu && allow && platform().loadGpu) gpu = await platform().loadGpu!([UNSAFE_APIS_FLAG]);
    gpu ??= await resolveGpu();
    if (!gpu) throw new TesseraError('GPU_UNAVAILABLE', noWebGpu());
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) throw new TesseraError('GPU_UNAVAILABLE', noAdapter());
    const wanted = ['subgroups', 'timestamp-query', ...(allow ? [SUBGROUP_MATRIX_FEATURE] : [])];
    const a = adapter.limits;
    const device = await adapter.requestDevice({
      label: 'tessera int8 tensor',
      requiredFeatures: wanted.filter((f) => adapter.features.has(f)) as GPUFeatureName[],
      requiredLimits: {
        maxStorageBufferBindingSize: a.maxStorageBufferBindingSize,
        maxBufferSize: a.maxBufferSize,
        maxComputeWorkgroupStorageSize: a.maxComputeWorkgroupStorageSize,
      },
    });
    // The scorer and its kernel text come in a chunk of their own, which pages download only when
    // they create a TensorInt8Flat (GpuFlatIndex's scorer likewise: flat-index.ts loadTensorScorer).
    let scorerModule: typeof import('./int8-scorer.js');
    try {
      scorerModule = await scorerChunk();
    } catch (e) {
      device.destroy();
      throw e;
    }
    const { detectMatrixSyntax, Int8TensorScorer } = scorerModule;
    const configs = matrixConfigsOf(adapter.info);
    let kernel = chooseKernel({ allowExperimental: allow, deviceFeatures: device.features, configs, signed: true });
    let syntax;
    if (kernel.kind === 'mma') {
      const errors: string[] = [];
      syntax = await detectMatrixSyntax(device, 'i8', kernel.config!.M, kernel.config!.N, kernel.config!.K, errors);
      if (!syntax) kernel = { kind: 'dot4', reason: `the subgroup-matrix kernel does not compile here: ${errors[0] ?? 'unknown'}` };
    }
    const dPad = paddedDim(d);
    const subgroupSize = (adapter.info as GPUAdapterInfo & { subgroupMaxSize?: number }).subgroupMaxSize ?? 32;
    // Tensor kernel: rows and queries staged through workgroup memory, 64 dims a chunk, unrolled (the
    // fastest variant on the H200, 2.5-3x the direct fragment loads; bench/gpu-tensor/NOTES.md), with
    // the GpuFlatIndex hook's 'mask' selection (survivors marked, then inserted; the same lists) and
    // prefetch. H200 run 6 (1M rows, k' = 40, best layout, ms at 64 / 256 / 1024 queries): 'row'
    // 3.96 / 6.61 / 19.01, mask 3.29 / 3.99 / 11.06, mask + prefetch 3.19 / 3.86 / 10.61; keys and
    // ids equal to the CPU int32 reference.
    const stage = kernel.kind === 'mma' && dPad % 64 === 0 ? ({ kc: 64, padWords: 4, queries: 'wg', unroll: true, select: 'mask', prefetch: true } as const) : undefined;
    const scorer = new Int8TensorScorer(device, { dPad, kPrime, signed: true, kernel, subgroupSize, syntax, stage });
    const tileBytes = Math.min(Number(device.limits.maxStorageBufferBindingSize), opts.maxTileBytes ?? Infinity);
    const maxTileRows = Math.floor(tileBytes / dPad / ROW_ALIGN) * ROW_ALIGN;
    if (maxTileRows < ROW_ALIGN) {
      throw new TesseraError('INVALID_ARGUMENT', `a tile of ${tileBytes} bytes holds fewer than ${ROW_ALIGN} rows of ${dPad} bytes: raise maxTileBytes`);
    }
    return new TensorInt8Flat(device, scorer, scorerModule.rerankExact, kernel, maxTileRows, d, kPrime, gpu);
  }

  get ntotal(): number {
    return this.scorer.ntotal;
  }

  private check(): void {
    if (this.disposed) throw new TesseraError('INVALID_ARGUMENT', 'this index was disposed: create a new one');
  }

  /** Adds n x d rows. The SQ8 ranges come from the first add (later rows are clamped to them). */
  async add(x: Float32Array): Promise<void> {
    this.check();
    const n = checkVectors(x, this.d, 'vectors to add');
    if (n === 0) return;
    this.sq ??= trainSq(x, n, this.d);
    const dPad = paddedDim(this.d);
    for (let s = 0; s < n; s += this.maxTileRows) {
      const rows = Math.min(this.maxTileRows, n - s);
      const part = x.slice(s * this.d, (s + rows) * this.d);
      this.hostStart.push(this.ntotal);
      this.host.push(part);
      this.scorer.addTile(rows, encodeRows(part, rows, this.d, this.sq, true, dPad));
    }
  }

  private row(id: number): Float32Array {
    let lo = 0;
    let hi = this.hostStart.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.hostStart[mid]! <= id) lo = mid;
      else hi = mid - 1;
    }
    const at = id - this.hostStart[lo]!;
    return this.host[lo]!.subarray(at * this.d, (at + 1) * this.d);
  }

  /** Best k by exact float32 inner product among the k' best int8 candidates of each query. */
  search(q: Float32Array, k: number): Promise<{ distances: Float32Array; labels: Int32Array }> {
    return this.inflight.track(this.searchNow(q, k));
  }

  private async searchNow(q: Float32Array, k: number): Promise<{ distances: Float32Array; labels: Int32Array }> {
    this.check();
    const nq = checkSearch(q, k, this.d, this.ntotal, this.kPrime);
    const distances = new Float32Array(nq * k).fill(-Infinity);
    const labels = new Int32Array(nq * k).fill(-1);
    const dPad = paddedDim(this.d);
    for (let q0 = 0; q0 < nq; q0 += MAX_QUERY_BATCH) {
      const nb = Math.min(MAX_QUERY_BATCH, nq - q0);
      const qs = q.subarray(q0 * this.d, (q0 + nb) * this.d);
      const codes = quantizeQueries(qs, nb, this.d, this.sq!, true, dPad).codes;
      const found = await this.scorer.search(codes, nb);
      // kPrime slots per query; with fewer rows than k' the rest are empty (-1) and skipped.
      const r = this.rerank(qs, nb, this.d, found.ids, this.kPrime, k, (id) => this.row(id));
      distances.set(r.distances, q0 * k);
      labels.set(r.labels, q0 * k);
    }
    return { distances, labels };
  }

  /** Refuses later calls at once; the device goes when the searches under way have ended (it went under them). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    void this.inflight.settled().then(() => {
      this.scorer.destroy();
      this.device.destroy();
    });
  }
}
