/**
 * FAISS factory strings, parsed stage by stage, and a registry of index constructors keyed by kind.
 * Backends register themselves (gpu/, wasm/); nothing here imports them, so browser bundles
 * only carry what they use.
 */
import { orderCalls } from './call-order.js';
import { TesseraError } from './errors.js';
import type { Backend, BackendChoice, ByteSource, Index, Metric, ProgressCallback } from './types.js';
import { checkDimension, checkMetric } from './validate.js';

/** A parsed factory string. */
export type IndexSpec =
  | { kind: 'flat' }
  | { kind: 'hnsw'; M: number }
  | { kind: 'ivf'; nlist: number; storage: 'flat' | 'sq8' }
  | { kind: 'sq'; bits: 8 };

export type IndexKind = IndexSpec['kind'];

const SUPPORTED = 'Flat, HNSW<M>[,Flat], IVF<nlist>,Flat, IVF<nlist>,SQ8, SQ8';

/** Why a factory string was refused, and the supported string nearest to what it asked for. */
interface Refusal {
  why: string;
  nearest?: string;
}

type Parsed = { spec: IndexSpec } | { refusal: Refusal };

/**
 * Parses FAISS factory strings: "Flat", "HNSW32" ("HNSW" is HNSW32, as in FAISS), "HNSW32,Flat",
 * "HNSW32_Flat", "IVF4096,Flat", "IVF4096,SQ8", "SQ8". Whitespace around stages is ignored. Anything
 * else raises INVALID_ARGUMENT naming the part tessera lacks (an OPQ/PCA/L2norm pre-transform, IDMap,
 * a refine stage, PQ or other storage, an HNSW coarse quantizer, a misspelt or lower-case stage) and
 * the supported string nearest to it.
 */
export function parseFactoryString(description: string): IndexSpec {
  if (typeof description !== 'string' || description.trim() === '') {
    throw new TesseraError('INVALID_ARGUMENT', `index type must be a FAISS factory string such as "Flat", got ${JSON.stringify(description)}`);
  }
  const parsed = parseStages(description.split(',').map((s) => s.trim()));
  if ('spec' in parsed) return parsed.spec;
  const { why, nearest } = parsed.refusal;
  throw new TesseraError(
    'INVALID_ARGUMENT',
    `cannot parse index type "${description}": ${why}` + (nearest ? `; nearest supported: "${nearest}"` : '') + `; supported: ${SUPPORTED}`,
  );
}

/** FAISS pre-transforms (IndexPreTransform's VectorTransforms), as its factory spells them. */
const PRE_TRANSFORM = /^(?:OPQ\d+(?:_\d+)?|PCAW?R?\d+|RR\d+|L2norm|ITQ\d*|Pad\d+)$/;
/** FAISS refinement stages (IndexRefine / IndexRefineFlat). */
const REFINE = /^(?:RFlat|Refine\(.*\))$/;

/**
 * Parses the stages, refusing the first unsupported one. Wrappers and pre-transforms (IDMap, OPQ,
 * PCA...) and a trailing refine stage are refused with the rest of the string, parsed without
 * them, as the nearest supported string.
 */
function parseStages(stages: string[]): Parsed {
  if (stages.includes('')) {
    const rest = stages.filter((s) => s !== '');
    const inner = rest.length > 0 ? parseStages(rest) : undefined;
    const why = 'it has an empty stage (a stray comma)';
    if (inner === undefined || !('spec' in inner)) return { refusal: { why } };
    return { refusal: { why, nearest: factoryDescription(inner.spec) } };
  }
  const first = stages[0]!;
  const last = stages[stages.length - 1]!;
  const without = (rest: string[], why: string): Parsed => {
    const inner = rest.length > 0 ? parseStages(rest) : undefined;
    if (inner === undefined) return { refusal: { why } };
    if ('spec' in inner) return { refusal: { why, nearest: factoryDescription(inner.spec) } };
    // the rest has its own unsupported part: name both
    const both = `${why}; ${inner.refusal.why}`;
    return { refusal: inner.refusal.nearest === undefined ? { why: both } : { why: both, nearest: inner.refusal.nearest } };
  };
  if (/^IDMap2?$/.test(first)) {
    return without(stages.slice(1), `stage "${first}" (FAISS IndexIDMap) is not supported: labels are 0..n-1 in add order; keep your ids in an array and read ids[label]`);
  }
  if (PRE_TRANSFORM.test(first)) {
    const hint = first === 'L2norm' ? 'normalise the vectors yourself before add and search' : 'transform the vectors yourself before add and search';
    return without(stages.slice(1), `pre-transform "${first}" (FAISS IndexPreTransform) is not supported: ${hint}`);
  }
  if (stages.length > 1 && REFINE.test(last)) {
    return without(stages.slice(0, -1), `refine stage "${last}" (FAISS IndexRefine) is not supported: search the index for more candidates and re-rank them yourself`);
  }
  const core = parseIndexStages(stages);
  if ('spec' in core) return core;
  // FAISS's names are case-sensitive ("flat" is refused there too): name the spelling it wants.
  const recased = stages.map((s) => s.replace(/^(flat|hnsw|ivf|sq)(?=\d|_|$)/i, (m) => ({ flat: 'Flat', hnsw: 'HNSW', ivf: 'IVF', sq: 'SQ' })[m.toLowerCase() as 'flat']));
  if (recased.some((s, i) => s !== stages[i])) {
    const again = parseIndexStages(recased);
    if ('spec' in again) return { refusal: { why: 'factory strings are case-sensitive, as in FAISS', nearest: factoryDescription(again.spec) } };
    if (core.refusal.nearest === undefined && again.refusal.nearest !== undefined) {
      return { refusal: { why: `${core.refusal.why} (factory strings are case-sensitive)`, nearest: again.refusal.nearest } };
    }
  }
  return core;
}

/** The index stages proper: Flat, SQ8, HNSW<M>[,Flat], IVF<nlist>,Flat|SQ8. */
function parseIndexStages(stages: string[]): Parsed {
  const refuse = (why: string, nearest?: string): Parsed => ({ refusal: nearest === undefined ? { why } : { why, nearest } });
  const [first, second, third] = stages as [string, string | undefined, string | undefined];
  const whole = stages.join(',');
  if (first === 'Flat') return second === undefined ? { spec: { kind: 'flat' } } : refuse(`stage "${second}" cannot follow Flat`, 'Flat');
  const sq = /^SQ(\w+)$/.exec(first);
  if (sq) {
    if (sq[1] !== '8') return refuse(`scalar quantizer "${first}" is not supported (only SQ8, FAISS QT_8bit)`, 'SQ8');
    return second === undefined ? { spec: { kind: 'sq', bits: 8 } } : refuse(`stage "${second}" cannot follow SQ8`, 'SQ8');
  }
  const hnsw = /^HNSW(\d*)(?:_(.*))?$/.exec(first);
  if (hnsw) {
    // FAISS reads "HNSW" as HNSW32
    const M = hnsw[1] === '' ? 32 : Number(hnsw[1]);
    const name = `HNSW${M}`;
    if (M < 2 || M > 512) return refuse(`stage "${first}" needs M in [2, 512]`, `HNSW${Math.min(Math.max(M, 2), 512)}`);
    // storage after '_' ("HNSW32_Flat"); FAISS reads an empty one ("HNSW32_") as Flat
    const joined = hnsw[2] === '' ? 'Flat' : hnsw[2];
    const storage = joined ?? second;
    const extra = joined === undefined ? third : second;
    if (joined !== undefined && second !== undefined) return refuse(`stage "${second}" cannot follow "${first}"`, name);
    if (storage !== undefined && storage !== 'Flat') {
      return refuse(`"${storage}" storage under HNSW (FAISS IndexHNSWSQ/PQ) is not supported: tessera's HNSW stores float32 vectors (HNSW<M>,Flat)`, name);
    }
    return extra === undefined ? { spec: { kind: 'hnsw', M } } : refuse(`stage "${extra}" cannot follow "${stages.slice(0, 2).join(',')}"`, name);
  }
  const ivf = /^IVF(\d+)((?:_|\().*)?$/.exec(first);
  if (ivf) {
    const nlist = Number(ivf[1]);
    const storage = second === 'SQ8' ? 'sq8' : 'flat';
    const named = (n: number) => `IVF${n},${storage === 'sq8' ? 'SQ8' : 'Flat'}`;
    if (nlist < 1 || nlist > 1 << 24) return refuse(`stage "${first}" needs nlist in [1, 16777216]`, named(Math.min(Math.max(nlist, 1), 1 << 24)));
    const name = named(nlist);
    if (ivf[2] !== undefined) {
      const quantizer = ivf[2].replace(/^_/, '');
      const hint = /^HNSW\d*$/.test(quantizer) ? ': tessera assigns lists exactly, as a flat quantizer (readIndex reads such a file that way)' : '';
      return refuse(`coarse quantizer "${quantizer}" of "${first}" is not supported (only a flat one, "IVF${nlist}")${hint}`, name);
    }
    if (second === undefined) return refuse(`"${first}" needs its list storage after it, "${first},Flat" or "${first},SQ8"`, `IVF${nlist},Flat`);
    if (second !== 'Flat' && second !== 'SQ8') {
      return refuse(`list storage "${second}" is not supported after IVF (only Flat or SQ8)`, `IVF${nlist},${/^(?:SQ|PQ|LSH|RQ|LSQ)/.test(second) ? 'SQ8' : 'Flat'}`);
    }
    return third === undefined ? { spec: { kind: 'ivf', nlist, storage } } : refuse(`stage "${third}" cannot follow "${first},${second}"`, name);
  }
  const imi = /^IMI(\d+)x(\d+)$/.exec(first);
  if (imi) {
    // a multi-index of 2^(parts x bits) cells: an IVF of as many lists (at most IVF's limit)
    const cells = 2 ** Math.min(24, Number(imi[1]) * Number(imi[2]));
    return refuse(`multi-index quantizer "${first}" is not supported`, `IVF${cells},${second === 'Flat' ? 'Flat' : 'SQ8'}`);
  }
  if (/^(?:PQ|LSH|RQ|LSQ|PRQ|PLSQ|ZnLattice|NSG)/.test(first)) {
    return refuse(`index type "${first}" is not supported (tessera has Flat, HNSW, IVF and SQ8)`, /^NSG/.test(first) ? 'HNSW32' : 'SQ8');
  }
  return refuse(`stage "${stages.length > 1 ? whole : first}" is not a known index type`);
}

/**
 * Training vectors `tessera convert` and `tessera build` sample for an index that trains (at most
 * the rows there are): for IVF 256 a list, the most FAISS's k-means keeps (max_points_per_centroid),
 * capped at 262144 so the sample (768 MiB at d=768) and k-means fit one WebAssembly memory beside
 * the lists; SQ8's ranges from 262144.
 */
export function defaultTrainSize(spec: IndexSpec): number {
  return spec.kind === 'ivf' ? Math.min(262_144, 256 * spec.nlist) : 262_144;
}

/** The canonical factory string of a parsed one, as an index's `description` gives it: "HNSW32,Flat" and " HNSW032" -> "HNSW32". */
export function factoryDescription(spec: IndexSpec): string {
  switch (spec.kind) {
    case 'flat':
      return 'Flat';
    case 'hnsw':
      return `HNSW${spec.M}`;
    case 'ivf':
      return `IVF${spec.nlist},${spec.storage === 'flat' ? 'Flat' : 'SQ8'}`;
    case 'sq':
      return 'SQ8';
  }
}

/** Options of `indexFactory`; backends read the parts that concern them. */
export interface IndexOptions {
  /** 'auto' (default): GPU for Flat on a WebGPU adapter that is not a software renderer (slower than WASM), else WASM. */
  backend?: BackendChoice;
  /** A WebGPU `GPU` object (navigator.gpu, Deno's, or Dawn's `create()`); default: found by the runtime. */
  gpu?: GPU;
  /** Several `GPU` objects or adapters to shard across (multi-adapter). */
  gpus?: readonly GPU[];
  /** GPU storage precision for Flat: exact f32, f16, int8 with exact re-rank, or the most exact that fits. */
  precision?: 'auto' | 'f32' | 'f16' | 'int8';
  /**
   * GPU memory of each adapter in bytes, for the planner to fit the rows, planes and temporary
   * bytes into before allocating (and for precision 'auto' to choose by). WebGPU does not report
   * memory: without it nothing is checked up front ('auto' takes f32) and a device that runs out
   * answers OUT_OF_MEMORY as it allocates.
   */
  gpuMemory?: number;
  /**
   * GPU int8 loaded by readIndex: re-rank against float32 rows read from the index file by offset
   * ('file', the default for a path: bounded host memory) or kept in host memory ('memory').
   */
  rerankFrom?: 'file' | 'memory';
  /** GPU int8 from 5 queries, f16 from 2 (9 without its code plane: digitPlanes) and f32 from 9: allow Dawn's experimental subgroup matrices (tensor cores; Node opens Dawn with allow_unsafe_apis). Off by default. */
  allowExperimental?: boolean;
  /**
   * GPU f16 with allowExperimental: batches on the int8 tensor cores, from 2 queries reading the
   * rows' code plane (digitPlanes; tensorTuning.f16CodesMinBatch), without it from 9 queries
   * quantising each row to i8 as it is read (tensorTuning.f16MinBatch); each query's k' best
   * (rerankFactor) re-ranked exactly from the f16 rows on the GPU. Default true; false keeps the
   * f16 kernels (exact f16 top-k at every batch, 0.2-0.35x torch fp16 from 16 queries on the H200)
   * and no code plane.
   */
  f16TensorCores?: boolean;
  /**
   * GPU f16 with allowExperimental: batches of 9-64 queries on the f16 two-pass scan (the f16 tensor
   * cores, the rows read as they are: exactly half of f32's memory; H100: 1.02-1.07x torch fp16 at
   * 9-64 queries over 21M, BENCHMARKS.md) where every device has f16 subgroup matrices, shader-f16 and
   * 32-wide subgroups, and the shard has no code plane (digitPlanes: false, or none planned; a code
   * plane's route is faster still). On NVIDIA the f16 matrices need Dawn's `vulkan_enable_f16_on_nvidia`
   * toggle, which tessera adds when it opens Dawn with allowExperimental and disableRobustness (with
   * your own `gpu`, create it with that toggle). Each query's k' best are re-ranked exactly from the
   * f16 rows; a query whose candidates overflow is searched again with the exact kernels, so results
   * stay exact on the f16 rows. Default: disableRobustness (with robustness on, Tint's bounds checks
   * make it slower than the other f16 routes: 0.60x).
   */
  f16TwoPass?: boolean;
  /**
   * GPU f32 with allowExperimental: batches from 9 queries (tensorTuning.f32MinBatch) on the int8
   * tensor cores, each value split into two i8 digits as it is read, each query's k' best re-ranked
   * exactly from the f32 rows on the GPU, and each list certified to hold the exact top k from an
   * error bound of the digits (a query it cannot certify is searched again by the f32 kernels, so
   * the results stay exact). Needs the rows' digit planes (digitPlanes). Default true; false keeps
   * the f32 kernels at every batch.
   */
  f32TensorCores?: boolean;
  /**
   * GPU f32 and f16 with allowExperimental: keep digit planes of the rows beside them for the tensor
   * cores, made once a version of the rows (at the first tensor search or warmUp): f32 two i8 digits
   * a dimension (half the f32 rows' bytes again; without them f32 runs the f32 kernels), f16 its i8
   * codes (half the f16 rows' bytes again, so 0.75x the memory of f32 in all; without them f16
   * converts its halves while reading them, about 1.6-1.9x slower from 16 queries on the H200). The
   * planner counts them (plan.digits, each shard's digitBytes) and leaves them out where a stated or
   * reported gpuMemory cannot hold them. Default: where every device has the subgroup matrices
   * (true plans them on other devices too, for scorers registered in tests, though no built-in
   * search makes them there); false: none (f16 keeps exactly half the memory of f32). Inner-product
   * indexes only (the tensor scorer's metric).
   */
  digitPlanes?: boolean;
  /**
   * GPU, Node: open Dawn with `disable_robustness` (no bounds clamps in shaders; faster kernels, but
   * a kernel bug could touch other memory), and with allowExperimental `vulkan_enable_f16_on_nvidia`
   * too (f16TwoPass). With `gpu`/`gpus` given their own toggles apply: true there states that they
   * were created with `disable_robustness` (f16TwoPass defaults to it). Outside Node: ignored. Off by default.
   */
  disableRobustness?: boolean;
  /** GPU Flat: budget of one scores chunk in bytes, the temporary memory of a search (default 256 MiB, at most the binding limit). */
  scratchBytes?: number;
  /**
   * GPU Flat: most queries searched at once, an integer from 1 to 4096 (default 4096). The plan's
   * temporary bytes are counted for batches of this many (the browser demo's 8000 x 100 f32: 27.4 MiB
   * at 4096, 16.1 MiB at 512, 0.4 MiB at 1), and a search of more queries goes in batches of this many (same
   * results). The server passes its --max-batch.
   */
  maxBatch?: number;
  /**
   * GPU Flat, int8 (and f16 batches scored on the tensor cores, re-ranked on the GPU): candidates
   * re-ranked exactly per query, as a multiple of k (default 4, at least k + 16).
   */
  rerankFactor?: number;
  /** GPU Flat, int8 and tensor-core f16: candidates re-ranked exactly per query, in place of rerankFactor's rule (at least k). */
  rerankDepth?: number;
  /**
   * GPU Flat: devices to open on each GPU object, an integer from 1 to 64; rows are sharded across
   * them (CI shards across several devices of one software adapter).
   */
  devicesPerGpu?: number;
  /**
   * GPU Flat, int8: worker threads that copy and score the candidate rows (default min(15, cores -
   * 1)): with rows in memory each worker re-ranks a range of the queries; rows read from a file or a
   * generator are read by the calling thread and scored by the workers. 0, or
   * where memory cannot be shared with workers (browsers without cross-origin isolation):
   * everything runs on the calling thread. Same results either way. Only searches of at least
   * rerankThreadsMinPairs (row, query) pairs use the workers (started at the first such search).
   */
  rerankThreads?: number;
  /**
   * GPU Flat, int8: searches with fewer (row, query) candidate pairs than this (nq x k') re-rank on
   * the calling thread alone, even with rerankThreads, since handing work to workers costs more than it saves
   * there. Default 128 (H200 host, rows in memory, one message a worker a search: 640 pairs took
   * 0.42 ms on 8 workers against 0.85 on the calling thread, BENCHMARKS.md gpu-int8 run 4). Same
   * results either way.
   */
  rerankThreadsMinPairs?: number;
  /**
   * GPU Flat, int8: searches of more queries than this go to the GPU in sub-batches of this many, so
   * the host re-ranks one sub-batch while the GPU scores the next (same results). 0: one batch (up to 4096).
   * Default 512.
   */
  rerankSubBatch?: number;
  /** HNSW build parameter (FAISS default 40). */
  efConstruction?: number;
  /** HNSW default search parameter (FAISS default 16). */
  efSearch?: number;
  /** IVF default lists visited per search (FAISS default 1). */
  nprobe?: number;
  /** Worker threads for WASM build/search; default: all cores the runtime offers. */
  threads?: number;
  /** Random seed for level assignment / k-means sampling (deterministic single-threaded builds). */
  seed?: number;
  /**
   * WASM, readIndex and shardedIndex: bytes one shard (module instance) may hold; default and most
   * 4 GiB, one 32-bit memory. indexFactory makes one instance and does not read it (shardedIndex
   * makes a sharded one).
   */
  shardBytes?: number;
  /**
   * WASM: most bytes an index's WebAssembly memory may grow to (default and most 4 GiB); an add
   * past it is OUT_OF_MEMORY and leaves the index as it was. readIndex and shardedIndex plan their
   * shards by shardBytes and cap each shard's memory by this.
   */
  memoryLimit?: number;
  /**
   * Progress of loads, HNSW builds, k-means and adds. An error it throws is the error of the call
   * it reports on, which still leaves the index consistent: an HNSW add whose vectors are counted
   * links them all first (they are then in the index).
   */
  onProgress?: ProgressCallback;
  /**
   * Called with a human-readable line when a fallback is taken (e.g. "no WebGPU adapter: using WASM"),
   * and by backend 'auto''s adapter probe in Node (a wait past 3 s, a give-up at 30 s). Without it
   * they are not said (not written to stderr either).
   */
  onNotice?: (message: string) => void;
}

export type IndexConstructor = (d: number, spec: IndexSpec, metric: Metric, opts: IndexOptions) => Promise<Index>;

/**
 * A FAISS file's structure as the reader of its format (io/faiss) read it: FlatLayout, HnswLayout,
 * IvfLayout or SqLayout, by the file's kind. Opaque here: core imports no reader.
 */
export type FileStructure = object;

/**
 * Reads a FAISS index file of this kind from `source` (positioned at byte 0) into a new index of
 * this backend, streaming where it can. `readIndex` (io/) picks the kind from the file's fourcc and
 * passes the `structure` it read then (the kind's layout), so the loader parses the file once; a
 * loader called without it reads the structure itself.
 */
export type IndexLoader = (source: ByteSource, opts: IndexOptions, structure?: FileStructure) => Promise<Index>;

export interface Registration {
  create: IndexConstructor;
  /** Resolves true when this backend can run here (e.g. a WebGPU adapter exists). */
  available: (opts: IndexOptions) => Promise<boolean>;
  /** Why `available` said no, where known (Node refused Dawn's addon), for backend 'auto''s notice. */
  unavailableWhy?: (opts: IndexOptions) => Promise<string | undefined>;
  /** Why backend 'auto' should pass over this backend although it can run (a software GPU adapter), or undefined. */
  autoSkip?: (opts: IndexOptions) => Promise<string | undefined>;
  load?: IndexLoader;
}

const registry = new Map<string, Registration>();
const key = (backend: Backend, kind: IndexKind) => `${backend}:${kind}`;

/**
 * Called by backend modules at import time. Indexes it makes or loads get their calls ordered
 * (core/call-order.ts): an add overlapping a search must not hand that search half-moved rows.
 */
export function registerIndexType(
  backend: Backend,
  kind: IndexKind,
  registration: {
    create: IndexConstructor;
    available?: (opts: IndexOptions) => Promise<boolean>;
    unavailableWhy?: Registration['unavailableWhy'];
    autoSkip?: Registration['autoSkip'];
    load?: IndexLoader;
  },
): void {
  const { create, load } = registration;
  registry.set(key(backend, kind), {
    available: async () => true,
    ...registration,
    create: async (...args) => orderCalls(await create(...args)),
    ...(load ? { load: async (...args: Parameters<IndexLoader>) => orderCalls(await load(...args)) } : {}),
  });
}

export function registration(backend: Backend, kind: IndexKind): Registration | undefined {
  return registry.get(key(backend, kind));
}

/**
 * The backend to use for `kind`: the one asked for, or for 'auto' the GPU when it has this kind and
 * an adapter that is not a software renderer (unless the caller passed that GPU object), else WASM
 * (announced once through opts.onNotice).
 */
export async function chooseBackend(kind: IndexKind, what: string, opts: IndexOptions): Promise<Backend> {
  const choice = opts.backend ?? 'auto';
  if (choice !== 'auto' && choice !== 'gpu' && choice !== 'wasm') {
    throw new TesseraError('INVALID_ARGUMENT', `backend must be 'auto', 'gpu' or 'wasm', got ${JSON.stringify(choice)}`);
  }
  if (choice !== 'auto') {
    if (!registry.has(key(choice, kind))) {
      const others = registeredBackends(kind);
      throw new TesseraError(
        'UNSUPPORTED',
        `${what} has no ${choice} implementation` + (others.length ? `: use backend '${others.join("' or '")}'` : ': no backend is loaded for it'),
      );
    }
    return choice;
  }
  const gpu = registry.get(key('gpu', kind));
  const wasm = registry.has(key('wasm', kind));
  if (gpu && (await gpu.available(opts))) {
    const skip = await autoSkipsGpu(kind, opts);
    if (!skip) return 'gpu';
    opts.onNotice?.(`${skip}: ${what} runs on the WASM (CPU) backend (backend 'gpu' uses the adapter anyway)`);
    return 'wasm';
  }
  if (!wasm) {
    throw new TesseraError('UNSUPPORTED', `${what} has no implementation loaded for this runtime`);
  }
  if (gpu) {
    const why = await gpu.unavailableWhy?.(opts);
    opts.onNotice?.(`no usable WebGPU adapter${why ? ` (${why})` : ''}: ${what} runs on the WASM (CPU) backend`);
  }
  return 'wasm';
}

/**
 * Why backend 'auto' passes over the GPU for `kind` although it can run (the gpu registration's
 * autoSkip: a software adapter), or undefined. Only where WASM serves `kind`: without it the GPU is
 * all there is. chooseBackend's rule, exported so what tells before loading where 'auto' will run
 * (`tessera info`) asks it rather than keeping a copy.
 */
export async function autoSkipsGpu(kind: IndexKind, opts: IndexOptions): Promise<string | undefined> {
  if (!registry.has(key('wasm', kind))) return undefined;
  return registry.get(key('gpu', kind))?.autoSkip?.(opts);
}

/**
 * Runs `build` on the backend `chooseBackend` picked. When that was an 'auto' choice of the GPU and
 * the GPU fails while acquiring its device (request refused, device lost at start, a non-tessera
 * error from the WebGPU implementation), it announces the fallback once and runs `build` on WASM:
 * an adapter that exists but cannot give a device must not stop a CPU-capable search. Errors that
 * are about the index itself (OUT_OF_MEMORY, FORMAT, INVALID_ARGUMENT...) are thrown as they are.
 */
export async function withGpuFallback<T>(
  kind: IndexKind,
  what: string,
  opts: IndexOptions,
  build: (backend: Backend) => Promise<T>,
): Promise<T> {
  const backend = await chooseBackend(kind, what, opts);
  const auto = (opts.backend ?? 'auto') === 'auto';
  if (backend !== 'gpu' || !auto || !registry.has(key('wasm', kind))) return build(backend);
  try {
    return await build('gpu');
  } catch (e) {
    if (!isDeviceFailure(e)) throw e;
    const why = e instanceof Error ? e.message : String(e);
    opts.onNotice?.(`WebGPU device failed (${why}): ${what} runs on the WASM (CPU) backend`);
    return build('wasm');
  }
}

function isDeviceFailure(e: unknown): boolean {
  if (e instanceof TesseraError) return e.code === 'GPU_UNAVAILABLE' || e.code === 'DEVICE_LOST';
  return true; // a raw error thrown by the WebGPU implementation (requestDevice, pipeline creation)
}

export function registeredBackends(kind: IndexKind): Backend[] {
  return (['gpu', 'wasm'] as const).filter((b) => registry.has(key(b, kind)));
}

/**
 * Makes an empty index from a FAISS factory string, as faiss.index_factory(d, description, metric),
 * except that the metric defaults to inner product (FAISS's default is L2; pass 'l2' for it).
 * Async because GPU devices and WASM instances are acquired asynchronously.
 */
export async function indexFactory(
  d: number,
  description: string,
  metric: Metric = 'ip',
  opts: IndexOptions = {},
): Promise<Index> {
  checkDimension(d);
  checkMetric(metric);
  const spec = parseFactoryString(description);
  return withGpuFallback(spec.kind, `"${description}"`, opts, (backend) => registry.get(key(backend, spec.kind))!.create(d, spec, metric, opts));
}
