/**
 * Memory planner for GPU flat search: from N, d, k, the query batch and each adapter's limits and
 * memory, lays rows out in tiles per adapter and picks the storage precision. Refuses with one
 * OUT_OF_MEMORY error, before anything is allocated, when nothing fits.
 */
import { TesseraError, formatBytes } from './errors.js';

export type StoragePrecision = 'f32' | 'f16' | 'int8';
export type PrecisionChoice = StoragePrecision | 'auto';

/** Dimensions per 16-byte storage word (rows are padded to whole words). */
export const DIMS_PER_WORD: Readonly<Record<StoragePrecision, number>> = { f32: 4, f16: 8, int8: 16 };

/** Bytes of one stored row. */
export function rowBytes(d: number, precision: StoragePrecision): number {
  return Math.ceil(d / DIMS_PER_WORD[precision]) * 16;
}

/** Dimensions a stored row of `bytes` holds (d padded to whole words). */
export function storedDims(bytes: number, precision: StoragePrecision): number {
  return (bytes / 16) * DIMS_PER_WORD[precision];
}

/**
 * Bytes of a row's planes for the tensor kernel (f32 two digits a stored dimension, f16 one i8
 * code); 0 where it cannot read the row: int8, or stored dims not a multiple of 32 (its step).
 */
export function planeRowBytes(d: number, precision: StoragePrecision): number {
  const dims = storedDims(rowBytes(d, precision), precision);
  return precision === 'int8' || dims % 32 !== 0 ? 0 : dims * (precision === 'f32' ? 2 : 1);
}

/**
 * Most queries one GPU dispatch chain takes: larger searches go in batches of this many (or of
 * IndexOptions.maxBatch, below it). The default batch the plan counts.
 */
export const MAX_GPU_BATCH = 4096;

export interface AdapterCapacity {
  /** Name in messages, e.g. "adapter 0". */
  label: string;
  /** maxStorageBufferBindingSize: the largest tile, and the most one candidate-list buffer binds. */
  maxBinding: number;
  maxBuffer: number;
  /** A smaller cap on a tile's bytes (GpuFlatOptions.maxTileBytes); the candidate lists still bind up to maxBinding. */
  maxTileBytes?: number;
  /** Memory of the adapter in bytes, when reported or stated (gpuMemory); unknown means unchecked. */
  memoryBytes?: number;
}

export interface FlatPlanInput {
  n: number;
  d: number;
  k: number;
  /** Largest query batch of one dispatch chain (IndexOptions.maxBatch; MAX_GPU_BATCH by default). */
  maxBatch: number;
  precision: PrecisionChoice;
  adapters: readonly AdapterCapacity[];
  /** Budget of the scores chunk per adapter. */
  scratchBytes: number;
  /**
   * int8: candidates a query selects on the GPU for the plan's k, which the host re-ranks (GpuFlatIndex
   * gpuK: rerankDepth, else rerankFactor x k; default 4k), at most 1024. Where a plan for more than
   * 4k does not fit an adapter's memory, 4k is planned and such searches take fewer candidate lists
   * a query or smaller batches (FlatShard.candCap) rather than refusing.
   */
  rerankK?: number;
  /**
   * int8: the most queries its searches send to the GPU at once (GpuFlatOptions.rerankSubBatch: the
   * host re-ranks one sub-batch while the GPU scores the next), below maxBatch; unset: maxBatch.
   */
  int8Batch?: number;
  /**
   * int8: rows whose float32 copy stays in host memory for re-ranking (default n; 0 when
   * re-ranking reads them from the index file by offset).
   */
  hostRows?: number;
  /**
   * The precisions whose tensor-core path (allowExperimental; f32TensorCores, f16TensorCores) keeps
   * digit planes beside the rows: f32 two i8 digits a dimension (src/gpu/tensor StageOptions.rowsF32),
   * f16 its i8 codes (signedRows), over the row's stored dims. Only for rows of stored dims in
   * multiples of 32 (the tensor kernel's K; it takes no others), and where every adapter of known
   * memory holds them beside the base and temporary bytes; else the plan leaves them out (digits false):
   * f32 then runs the f32 kernels, f16 converts its rows to codes as it reads them. f32 planes are
   * also planned for part of a shard: its first tiles whose planes fit (ShardPlan.digitTiles; the
   * others run the f32 kernels in the same searches), e.g. the 21M x 768 wiki index on an 80 GB GPU.
   */
  digitPrecisions?: readonly StoragePrecision[];
  /**
   * f16 batches may run on the tensor cores without digit planes too (allowExperimental: its rows
   * converted while staging, or read as halves by f16 matrices): the temporary bytes then cover the
   * tensor path (as with planes) whether or not planes are planned.
   */
  f16TensorCores?: boolean;
  /**
   * The most candidates a query's list holds on the tensor-core path (src/gpu/tensor hook.ts
   * tensorTuning.maxK; default 64): where batches may take that path (digit planes planned, or
   * f16TensorCores), the temporary bytes cover its lists too.
   */
  tensorListK?: number;
}

export interface ShardPlan {
  label: string;
  rows: number;
  /** Rows per tile, in order. */
  tiles: number[];
  baseBytes: number;
  tempBytes: number;
  memoryBytes?: number;
  /** The rows' digit planes for the tensor cores (FlatPlanInput.digitPrecisions), 0 when not planned. */
  digitBytes: number;
  /** How many of the first tiles have digit planes (all of them, none, or for f32 the ones that fit). */
  digitTiles: number;
  /**
   * Of tempBytes, the candidate buffer's share (regions A and B, the running list, the scorers'
   * scratch inside it) and one readback's (of MAX_READBACK_SLOTS): the most a search of any k and
   * batch may make them (FlatShard.candCap / readCap), so that the shard never holds more than tempBytes.
   */
  candBytes: number;
  readBytes: number;
}

export interface FlatPlan {
  precision: StoragePrecision;
  rowBytes: number;
  shards: ShardPlan[];
  /** Largest temporary bytes of one adapter. */
  tempBytes: number;
  /** Host bytes kept for exact re-ranking (int8: the float32 rows held in memory; 0 when read from the file). */
  hostBytes: number;
  /** Whether digit planes are planned (FlatPlanInput.digitPrecisions holds the precision and they fit: f16 for every tile, f32 for some). */
  digits: boolean;
  /** The largest query batch the temporary bytes are counted for (FlatPlanInput.maxBatch; int8: int8Batch where smaller). */
  maxBatch: number;
}

/**
 * Workgroups one tile's fused dispatch aims for, an upper bound of its segments: the built-in
 * kernels' (src/gpu/flat-shard.ts kernelTuning.targetWorkgroups, 512); f16's flat_gemv for one query
 * aims for kernelTuning.gemvTargetF16 (528; 1024, this bound, was its default before H200 call hq3);
 * int8 may run a registered scorer that aims for more (the tensor-core hook: up to 1584, whole
 * waves of 12 one-warp workgroups an SM on the H200's 132 SMs, ChunkScorer targetWorkgroups; 2048
 * before gpu-tensor runs 13-14).
 */
const TARGET_WORKGROUPS: Record<StoragePrecision, number> = { f32: 512, f16: 1024, int8: 2048 };
/** Most queries one workgroup of any flat kernel takes (flat_fused 8 x 8 tiles: 16 x 8). */
const MAX_BLOCK_QUERIES = 128;
/** Lists merged per merge_lists workgroup (flat-shard kernelTuning.mergeFanIn). */
const MERGE_FAN_IN = 32;
/** Pairs a query merge_one takes in one workgroup (src/gpu/merge-one.ts mergeOneFan's `pairs`). */
const MERGE_ONE_PAIRS = 4096;
/** Most readback buffers a shard holds at once (flat-shard's ring takes min(this, searchTuning.readbackSlots)). */
export const MAX_READBACK_SLOTS = 2;

/**
 * Upper bound of the temporary GPU bytes of one adapter for a batch of `maxBatch` queries with the
 * fused scoring + top-k kernels (src/gpu/flat-shard.ts candPlan/batchPlan): candidate lists
 * A = nq x segments x k pairs (at most the scratch budget, at least one list per query, at most
 * TARGET_WORKGROUPS[precision] segments a tile), the first merge level (A / MERGE_FAN_IN + one list per query),
 * the running list and its readbacks (nq x k pairs each; two, since overlapping searches on a shard
 * cycle through two MAP_READ buffers: searchTuning.readbackSlots), the queries (nq rows padded to the
 * storage word), the dispatch uniforms, and for int8 the tensor scorer's buffers (int8ScorerExtraBytes).
 * No nq x N score matrix: O(nq x tiles x k).
 * `kernels`: 'any' bounds every scorer a batch may take, the tensor-core hook's too (its targets of
 * up to 1584 workgroups); 'builtin' only flat_gemv / flat_gemv_multi / flat_fused for f32 and f16,
 * whose batches of 17+ queries aim for 132 workgroups (BUILTIN_TARGETS): a quarter of the lists at
 * 4096 queries, what a plan without the tensor path counts (layout). int8 always counts 'any'.
 */
export function tempBytes(
  d: number,
  k: number,
  maxBatch: number,
  scratchBytes: number,
  maxBinding: number,
  tiles: number | readonly number[] = 1,
  precision: StoragePrecision = 'f32',
  kernels: 'any' | 'builtin' = 'any',
): number {
  const t = tempTerms(d, k, maxBatch, scratchBytes, maxBinding, tiles, precision, kernels);
  return t.cand + MAX_READBACK_SLOTS * t.read + t.rest;
}

/**
 * tempBytes by buffer: `cand` the candidate buffer (regions A and B, the running list), `read` one
 * readback (of MAX_READBACK_SLOTS), `rest` the queries, uniforms and int8's scorer buffers. A shard
 * keeps each buffer at the largest size a search asked for, so a search holds at most the plan
 * when each buffer stays within its own term (FlatShard.candCap / readCap), whatever k.
 */
function tempTerms(
  d: number,
  k: number,
  maxBatch: number,
  scratchBytes: number,
  maxBinding: number,
  tiles: number | readonly number[],
  precision: StoragePrecision,
  kernels: 'any' | 'builtin',
): { cand: number; read: number; rest: number } {
  const nqb = Math.max(1, maxBatch);
  const list = nqb * k * 8;
  const budget = Math.min(scratchBytes, maxBinding);
  // `tiles`: a count of full tiles, or the rows of each.
  const rowsPerTile = typeof tiles === 'number' ? Array<number>(Math.max(1, tiles)).fill(Infinity) : tiles.length ? tiles : [Infinity];
  // Query lists (queries x segments) of all tiles together, for the largest batch of any size up to nqb.
  const lists = rowsPerTile.reduce((s, r) => s + tileLists(precision, nqb, r, kernels), 0);
  const a = Math.max(list, Math.min(budget, lists * k * 8));
  const b = firstLevelBytes(a, list, k);
  // Queries go up as f32, zero-padded to the storage word's dimensions (flat-shard q4).
  const queries = (nqb * rowBytes(d, precision) * DIMS_PER_WORD[precision]) / 4;
  const uniforms = (rowsPerTile.length * 6 + 4) * 256;
  return { cand: a + b + list, read: list, rest: queries + uniforms + (precision === 'int8' ? int8ScorerExtraBytes(d, k, nqb) : 0) };
}

/**
 * Region B, the first merge level, for candidate lists of at most `a` bytes and batches of lists of
 * at most `list` bytes (one k-pair list a query): a batch of s bytes a list with n lists a query
 * holds s x n <= a in A and s x first(n) in B, s <= min(list, a / n). merge_lists levels take
 * MERGE_FAN_IN lists a workgroup (first(n) <= n / 32 + 1: a / 32 + list); merge_one (kernelTuning.mergeOne,
 * every batch by default) takes all n while they hold <= 4096 pairs, else pow2Ceil(ceil(sqrt(n)))
 * (src/gpu/merge-one.ts mergeOneFan): up to about sqrt(n) lists, more than n / 32 below 1024
 * lists, so those n are counted one by one (a / 32 + list covered only the former).
 */
function firstLevelBytes(a: number, list: number, k: number): number {
  let most = Math.ceil(a / MERGE_FAN_IN) + list;
  const per = k * 8;
  // From 1024 lists sqrt(n) <= n / 32; n past what a holds of one query's lists is never reached.
  for (let n = 2; n < 1024 && n * per <= a; n++) {
    if (n * k <= MERGE_ONE_PAIRS) continue;
    const fan = 2 ** Math.ceil(Math.log2(Math.ceil(Math.sqrt(n))));
    const s = Math.floor(Math.min(list, a / n) / per) * per;
    // What A and B hold together beyond `a`, the figure A is counted at.
    most = Math.max(most, s * (n + Math.ceil(n / fan)) - a);
  }
  return most;
}

/**
 * Workgroups a tile's dispatch of the built-in f32 / f16 kernels aims for, by batch size: [most
 * queries, workgroups]. Up to 16 queries flat_gemv / flat_gemv_multi / flat_fused aim for at most
 * kernelTuning.targetWorkgroups (512; flat_gemv_multi mtarget 264; f16's one-query flat_gemv
 * gemvTargetF16 528, counted at 1024, the knob's largest measured value); from 17 queries flat_fused
 * takes gemmTargetM (17-47) and gemmTarget (48+; gemmTargetL 0 keeps it; f16 too with f16Cls 1):
 * 132, one workgroup an SM on the H200. test/gpu/planner-small.test.ts holds these against
 * kernelTuning's defaults (flat-shard targetsBeyondPlan). Fixed, not read from kernelTuning: core/
 * does not import gpu/, and a benchmark variant changes kernelTuning after the plan is made, so
 * bench/gpu-flat warns of a variant past them instead.
 */
export const BUILTIN_TARGETS: Readonly<Record<'f32' | 'f16', readonly (readonly [number, number])[]>> = {
  f32: [[16, 512], [Infinity, 132]],
  f16: [[1, 1024], [16, 512], [Infinity, 132]],
};

/**
 * Most query lists (queries x segments) one tile of `rows` rows holds for a batch of up to nq
 * queries. A dispatch of q queries in blocks of BQ (<= MAX_BLOCK_QUERIES) makes at most
 * max(1, floor(target / ceil(q / BQ))) segments (flat-shard segmentPlan) and at most one a row:
 * q x segments <= min(q x rows, q x target, max(q, BQ x target)), non-decreasing in q, so each
 * batch class counts at its largest batch up to nq. 'any' keeps the one target a precision's
 * scorers all stay under (TARGET_WORKGROUPS), at nq.
 */
function tileLists(precision: StoragePrecision, nq: number, rows: number, kernels: 'any' | 'builtin'): number {
  if (kernels === 'any' || precision === 'int8') return nq * Math.max(1, Math.min(segmentsPerTile(precision, nq), rows));
  let most = 0;
  let from = 1;
  for (const [upTo, target] of BUILTIN_TARGETS[precision]) {
    if (from > nq) break;
    const q = Math.min(nq, upTo);
    most = Math.max(most, Math.min(q * rows, q * target, Math.max(q, MAX_BLOCK_QUERIES * target)));
    from = upTo + 1;
  }
  return most;
}

/**
 * Most segments (candidate lists a query) one tile's dispatch of nq queries makes: it has at least
 * ceil(nq / 128) query blocks (no kernel takes more than 128 queries a workgroup) and aims for its
 * target workgroups over all of them.
 */
function segmentsPerTile(precision: StoragePrecision, nq: number): number {
  return Math.ceil(TARGET_WORKGROUPS[precision] / Math.ceil(nq / MAX_BLOCK_QUERIES));
}

/**
 * int8 batches may run the tensor-core scorer (src/gpu/tensor/), which needs two more buffers than
 * the lists: its pre-pass's query codes (kernel-source prepBytes: queries rounded up to its block,
 * d rounded up to 32 bytes, plus 16 bytes a query) and its shared bounds at the end of region A (at
 * most one bucket word per candidate a query: buckets = min(share, k')). Bounded here with the
 * largest block any kernel takes (MAX_BLOCK_QUERIES). int8_gemv's shared bounds (SHB + 1 blocks
 * of 32 words for up to 16 queries, int8GemvScratch) fit in the same term (test/gpu/int8-gemv.test.ts).
 */
export function int8ScorerExtraBytes(d: number, k: number, nq: number): number {
  const nqPad = Math.ceil(nq / MAX_BLOCK_QUERIES) * MAX_BLOCK_QUERIES;
  return nqPad * (Math.ceil(d / 32) * 32 + 16) + sharedBoundBytes(k, nq);
}

/** The scorers' shared bounds at the end of region A (int8ScorerExtraBytes): in the candidate buffer. */
function sharedBoundBytes(k: number, nq: number): number {
  return Math.ceil(nq / MAX_BLOCK_QUERIES) * MAX_BLOCK_QUERIES * k * 4;
}

/** tensorExtraBytes' region X: f32 tiles without planes keep their own lists in the candidate buffer. */
function exactListBytes(k: number, maxBatch: number, listK: number, maxTileRows: number): number {
  const nqb = Math.max(1, maxBatch);
  return nqb * Math.max(1, Math.min(segmentsPerTile('f32', nqb), maxTileRows)) * Math.min(k, listK) * 8 + 256;
}

/**
 * What a tensor-core batch holds beyond the f32/f16 kernels' temporary bytes: its
 * pre-pass's query digits (two planes a query at most, kernel-source prepBytes, queries rounded up
 * to the largest block) and shared bounds (int8ScorerExtraBytes), the code steps and the row ranges
 * they come from (FlatShard.computeSteps), and for f32 planes on part of a shard the exact tiles'
 * own lists of the caller's k before list_widen widens them (FlatShard.searchBatch region X: one
 * tile's segments, at most the per-tile bound of tempBytes; counted for any f32 plan with planes,
 * also where every tile has them: an upper bound, tens of MiB at most); for f16 (`f16`) the f16
 * two-pass scan's buffer (HALF_SCAN_EXTRA_BYTES), counted whether or not its knob is on.
 */
export function tensorExtraBytes(d: number, k: number, maxBatch: number, listK: number, maxTileRows: number, partial: boolean, f16: boolean = false): number {
  const nqb = Math.max(1, maxBatch);
  const nqPad = Math.ceil(nqb / MAX_BLOCK_QUERIES) * MAX_BLOCK_QUERIES;
  const dPad = Math.ceil(d / 32) * 32;
  // int8's pre-pass bytes and shared bounds, plus the second digit plane of each query.
  const prep = int8ScorerExtraBytes(d, listK, nqb) + nqPad * dPad;
  // The rows' ranges and their read-back (2 dPad floats each) beside the last code steps (3 dPad).
  const steps = 7 * dPad * 4;
  const exactLists = partial ? exactListBytes(k, maxBatch, listK, maxTileRows) : 0;
  return prep + steps + exactLists + (f16 ? HALF_SCAN_EXTRA_BYTES : 0);
}

/**
 * The f16 two-pass scan's own buffer (FlatShard twoPassLayout, src/gpu/tensor/half-scan.ts) at its
 * default knobs (tensorTuning: batches of up to 64 queries, f16ScanCap 8192 candidates a query, at
 * most 132 sample workgroups of 8 warps): counts (a 128-byte line each) and thresholds, the sample's bests, the candidates.
 */
export const HALF_SCAN_EXTRA_BYTES = 64 * 128 + 64 * 4 + 132 * 8 * 32 * 4 * 4 + 64 * 8192 * 8;

function layout(input: FlatPlanInput, precision: StoragePrecision): FlatPlan {
  const rb = rowBytes(input.d, precision);
  // int8 goes to the GPU in sub-batches (512 queries by default): 4096 counted 75 MiB more at 21M x 768.
  const batch = precision === 'int8' && input.int8Batch ? Math.min(input.maxBatch, input.int8Batch) : input.maxBatch;
  const adapters = input.adapters;
  // Rows split in proportion to memory where every adapter states it, else evenly. Even shares are
  // ceil(n / adapters) for each but the last, as GpuFlatIndex.addRows fills them (so the plan's
  // shards and tiles are the ones the index holds).
  const known = adapters.every((a) => a.memoryBytes !== undefined);
  const weights = adapters.map((a) => (known ? a.memoryBytes! : 1));
  const wsum = weights.reduce((s, w) => s + w, 0);
  const even = weights.every((w) => w === weights[0]);
  let left = input.n;
  const shards = adapters.map((a, i) => {
    const share = even ? Math.ceil(input.n / adapters.length) : Math.round((input.n * weights[i]!) / wsum);
    const rows = i === adapters.length - 1 ? left : Math.min(left, share);
    left -= rows;
    const perTile = Math.max(1, Math.floor(Math.min(a.maxBinding, a.maxBuffer, a.maxTileBytes ?? Infinity) / rb));
    const tiles: number[] = [];
    for (let r = rows; r > 0; r -= perTile) tiles.push(Math.min(perTile, r));
    // The built-in kernels' bound; a shard whose batches may take the tensor path counts 'any' below.
    const k = precision === 'int8' ? Math.min(input.rerankK ?? 4 * input.k, 1024) : input.k;
    const t = tempTerms(input.d, k, batch, input.scratchBytes, a.maxBinding, tiles, precision, 'builtin');
    const candBytes = t.cand + (precision === 'int8' ? sharedBoundBytes(k, batch) : 0);
    return { label: a.label, rows, tiles, baseBytes: rows * rb, tempBytes: t.cand + MAX_READBACK_SLOTS * t.read + t.rest, memoryBytes: a.memoryBytes, digitBytes: 0, digitTiles: 0, candBytes, readBytes: t.read };
  });
  // Digit planes, f32 2 bytes a stored dimension, f16 1 (the shard's planes: FlatShard.digitRowBytes),
  // for rows the tensor kernel takes: each shard's first tiles whose planes fit beside its rows and
  // temporary bytes. f16 only where every tile of every shard has them (its other route, converting
  // while staging, beats a mix with the f16 kernels); f32 where any has (the rest run the f32
  // kernels, its route without planes anyway).
  // A shard whose batches may run on the tensor cores (with planes; f16 with f16TensorCores even
  // without) holds that path's temporary bytes too (lists of up to tensorListK candidates,
  // tensorExtraBytes), counted before the room for planes.
  const digitRow = planeRowBytes(input.d, precision);
  const planesAsked = digitRow > 0 && !!input.digitPrecisions?.includes(precision);
  const tensorAnyway = precision === 'f16' && !!input.f16TensorCores;
  if (planesAsked || tensorAnyway) {
    const listK = input.tensorListK ?? 64;
    const plain = shards.map((s) => ({ ...s }));
    for (const [i, s] of shards.entries()) {
      // The kernels' bytes with lists of max(k, listK) (tempBytes grows with k: they cover k too).
      const t = tempTerms(input.d, Math.max(input.k, listK), input.maxBatch, input.scratchBytes, adapters[i]!.maxBinding, s.tiles, precision, 'any');
      const maxTile = Math.max(...s.tiles, 1);
      s.tempBytes = t.cand + MAX_READBACK_SLOTS * t.read + t.rest + tensorExtraBytes(input.d, input.k, input.maxBatch, listK, maxTile, precision === 'f32', precision === 'f16');
      s.candBytes = t.cand + sharedBoundBytes(listK, input.maxBatch) + (precision === 'f32' ? exactListBytes(input.k, input.maxBatch, listK, maxTile) : 0);
      s.readBytes = t.read;
      if (!planesAsked) continue;
      const room = s.memoryBytes === undefined ? Infinity : s.memoryBytes - s.baseBytes - s.tempBytes;
      for (const rows of s.tiles) {
        if (s.digitBytes + rows * digitRow > room) break;
        s.digitBytes += rows * digitRow;
        s.digitTiles++;
      }
    }
    const every = shards.every((s) => s.digitTiles === s.tiles.length);
    if (precision === 'f16' && !every) for (const s of shards) s.digitBytes = s.digitTiles = 0;
    if (!tensorAnyway) for (const [i, s] of shards.entries()) if (s.digitTiles === 0) Object.assign(s, { tempBytes: plain[i]!.tempBytes, candBytes: plain[i]!.candBytes, readBytes: plain[i]!.readBytes });
  }
  const digits = shards.some((s) => s.digitTiles > 0);
  return {
    precision,
    rowBytes: rb,
    shards,
    tempBytes: Math.max(0, ...shards.map((s) => s.tempBytes)),
    hostBytes: precision === 'int8' ? Math.min(input.n, input.hostRows ?? input.n) * input.d * 4 : 0,
    digits,
    maxBatch: batch,
  };
}

function fits(plan: FlatPlan): boolean {
  return plan.shards.every((s) => s.memoryBytes === undefined || s.baseBytes + s.tempBytes <= s.memoryBytes);
}

/** The scratch budget a refusal suggests when the default's temporary bytes are what does not fit. */
const LEAN_SCRATCH = 1 << 20;

/** Most exact first: what 'auto' tries in order. */
const ORDER: readonly StoragePrecision[] = ['f32', 'f16', 'int8'];

/**
 * Plans a flat index. `precision: 'auto'` picks the most exact precision that fits; a stated
 * precision that does not fit throws OUT_OF_MEMORY naming what would.
 */
export function planFlat(input: FlatPlanInput): FlatPlan {
  if (input.adapters.length === 0) {
    throw new TesseraError('GPU_UNAVAILABLE', 'no GPU adapter to plan for: use backend "wasm"');
  }
  const tried = input.precision === 'auto' ? ORDER : [input.precision];
  for (const p of tried) {
    const plan = layout(input, p);
    if (fits(plan)) return plan;
    // A deeper re-rank than 4k where memory holds only 4k's lists: searches keep within the smaller plan.
    if (p === 'int8' && input.rerankK !== undefined && input.rerankK > 4 * input.k) {
      const lean = layout({ ...input, rerankK: undefined }, p);
      if (fits(lean)) return lean;
    }
  }
  const want = layout(input, tried[0]!);
  const worst = want.shards.find((s) => s.memoryBytes !== undefined && s.baseBytes + s.tempBytes > s.memoryBytes!)!;
  const options = ORDER.filter((p) => !tried.includes(p))
    .map((p) => ({ p, plan: layout(input, p) }))
    .filter((o) => fits(o.plan))
    .map((o) => `precision '${o.p}' (${formatBytes(o.plan.shards[0]!.baseBytes + o.plan.shards[0]!.tempBytes)} per adapter)`);
  const perAdapter = want.shards[0]!.baseBytes * want.shards.length + want.tempBytes;
  const mem = worst.memoryBytes!;
  const adaptersNeeded = Math.ceil((want.shards.reduce((s, x) => s + x.baseBytes, 0)) / Math.max(1, mem - want.tempBytes));
  // The temporary bytes scale with scratchBytes (the candidate lists of one batch): where a smaller
  // budget makes the asked precision fit, say so (a tiny gpuMemory otherwise names only wasm).
  const leanScratch = Math.min(input.scratchBytes, LEAN_SCRATCH);
  const lean = leanScratch < input.scratchBytes ? tried.map((p) => layout({ ...input, scratchBytes: leanScratch }, p)).find(fits) : undefined;
  const fixes = [
    ...options,
    lean ? `scratchBytes: ${leanScratch}${lean.precision !== tried[0] ? ` with precision '${lean.precision}'` : ''} (${formatBytes(lean.tempBytes)} temporary instead of ${formatBytes(want.tempBytes)}: fewer candidate lists a batch)` : undefined,
    mem > want.tempBytes ? `${adaptersNeeded} adapters of this size` : undefined,
    "backend 'wasm'",
    'a larger gpuMemory if the adapter really holds more',
  ].filter(Boolean);
  throw new TesseraError(
    'OUT_OF_MEMORY',
    `flat index of ${input.n} x ${input.d} as ${tried.join('/')} needs ${formatBytes(worst.baseBytes + worst.tempBytes)} on ${worst.label} ` +
      `(${formatBytes(worst.baseBytes)} base + ${formatBytes(worst.tempBytes)} temporary; ${formatBytes(perAdapter)} on one adapter), ` +
      `but it holds ${formatBytes(mem)}: use ${fixes.join(', or ')}`,
  );
}

/** What the plan's planes are called: f32 keeps two digit planes a row, f16 one plane of i8 codes. */
function planesName(precision: StoragePrecision): string {
  return precision === 'f16' ? 'code plane' : 'digit planes';
}

/**
 * One line saying what a plan holds on each adapter: the precision (and why, under 'auto'), the
 * rows, the tensor cores' planes, the temporary bytes of a search and the memory planned against,
 * and for int8 where the re-rank's float32 rows are. Said once a GPU index is loaded (onNotice:
 * the CLI and the server print it), since 'auto' may pick f16 or int8 and the planes may add half
 * the rows' bytes again.
 */
export function describePlan(plan: FlatPlan, asked: PrecisionChoice): string {
  const memoryKnown = plan.shards.every((s) => s.memoryBytes !== undefined);
  const why =
    asked !== 'auto' ? ''
    : memoryKnown ? " (precision 'auto': the most exact whose rows and temporary bytes fit gpuMemory; planes only take the room left)"
    : " (precision 'auto' without gpuMemory: WebGPU does not report memory, so nothing was checked; pass gpuMemory, CLI --gpu-memory, for 'auto' to pick what fits)";
  const shards = plan.shards.map((s) => {
    const parts = [`${formatBytes(s.baseBytes)} of rows in ${s.tiles.length} tile${s.tiles.length === 1 ? '' : 's'}`];
    if (s.digitBytes > 0) parts.push(`${formatBytes(s.digitBytes)} ${planesName(plan.precision)}${s.digitTiles < s.tiles.length ? ` for ${s.digitTiles} of the ${s.tiles.length} tiles` : ''}`);
    parts.push(`${formatBytes(s.tempBytes)} temporary`);
    const total = s.baseBytes + s.digitBytes + s.tempBytes;
    return `${s.label}: ${parts.join(' + ')} = ${formatBytes(total)}${s.memoryBytes !== undefined ? ` of ${formatBytes(s.memoryBytes)}` : ''}`;
  });
  const planes = plan.digits ? `; ${plan.precision === 'f16' ? 'without the code plane (digitPlanes: false, CLI --no-digit-planes) f16 takes exactly half of f32\'s memory' : 'digitPlanes: false (CLI --no-digit-planes) leaves the digit planes out'}` : '';
  const host =
    plan.precision !== 'int8' ? ''
    : plan.hostBytes > 0 ? `; the float32 rows the re-rank reads: ${formatBytes(plan.hostBytes)} of host memory`
    : plan.shards.some((s) => s.rows > 0) ? '; the float32 rows the re-rank reads: from the index file by offset, none in host memory' : '';
  // Said only below the default, which every plan counted before maxBatch existed (the server passes its --max-batch).
  const knobs = plan.precision === 'int8' ? 'maxBatch, CLI --max-batch; int8: rerankSubBatch' : 'maxBatch, CLI --max-batch';
  const batch = plan.maxBatch < MAX_GPU_BATCH ? `; temporary bytes for batches of up to ${plan.maxBatch} quer${plan.maxBatch === 1 ? 'y' : 'ies'} (${knobs}; larger searches go in such batches)` : '';
  return `GPU plan: ${plan.precision}${why}; ${shards.join('; ')}${planes}${host}${batch}`;
}
