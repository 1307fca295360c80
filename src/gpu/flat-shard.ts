/**
 * One device's part of a flat index: base rows in tiles (each within the device's storage-binding
 * limit), and exact search over them: per tile one fused dispatch (flat_fused, or flat_gemv for
 * one query and flat_gemv_multi for 2-16 on adapters with subgroups) that scores and keeps each
 * query's best k per workgroup, then merge_lists levels folding those lists into a running top-k
 * (merge_one for <= 4 queries). Temporary memory: queries +
 * nq x segments x k candidate pairs (segments <= about targetWorkgroups / query blocks, and capped by
 * `scratchBytes`), never nq x rows scores.
 */
import selectWgsl from '../../shaders/topk_select.wgsl';
import fusedWgsl from '../../shaders/flat_fused.wgsl';
import gemvWgsl from '../../shaders/flat_gemv.wgsl';
import widenWgsl from '../../shaders/list_widen.wgsl';
import { TesseraError } from '../core/errors.js';
import { lazyChunk } from '../core/lazy.js';
import { BUILTIN_TARGETS, MAX_GPU_BATCH, MAX_READBACK_SLOTS } from '../core/planner.js';
import type { Metric } from '../core/types.js';
import { BufferUsage, dispatchGrid, MapMode, resolveGpu, type GpuContext } from './device.js';
import { expandWgslIncludes } from './wgsl-include.js';
import { pow2Ceil, pow2Floor } from './pow2.js';
import { int8GemvBoundAt, int8GemvKey, int8GemvPipeline, int8GemvScratch, planInt8Gemv, quantizeInt8Queries } from './int8-gemv.js';
import { CLAIM_COUNTERS, CLAIMS_BINDING, gemvMultiKey, gemvMultiPipeline, planGemvMulti, splitQueryHalves, type GemvMultiKnobs, type GemvMultiPlan } from './gemv-multi.js';
import { tilesSource, type TileRewrite } from './tiles-source.js';
import { rangePipeline, rangePlan, rerankParams, rerankPipeline, type RowRanges, rowRangesOf, sortLists, stepParams, uncertifiedF32 } from './approx-rerank.js';
import { mergeOneFan, mergeOneKey, mergeOnePipeline, planMergeOne, type MergeOnePlan } from './merge-one.js';

export type Precision = 'f32' | 'f16' | 'int8';

/** Dimensions per 16-byte storage word, per precision. */
export const DIMS_PER_WORD: Record<Precision, number> = { f32: 4, f16: 8, int8: 16 };
const PREC_CODE: Record<Precision, number> = { f32: 0, f16: 1, int8: 2 };

export const SELECT_WG = 64;
/** Largest query batch per dispatch chain (larger batches are split; GpuFlatOptions.maxBatch may set fewer). */
export const MAX_BATCH = MAX_GPU_BATCH;
const UNIFORM_STRIDE = 256;
/** Upload staging: a ring of STAGING_SLOTS mapped buffers of STAGING_BYTES each (host memory stays bounded). */
const STAGING_BYTES = 16 << 20;
const STAGING_SLOTS = 4;
const EMPTY_ID = 0xffffffff;

/** Local (per-shard) results: keys are larger-is-better scores; ids 0xffffffff mark padding. */
export interface ShardResult {
  nq: number;
  k: number;
  keys: Float32Array;
  ids: Uint32Array;
  /** f32 batches scored approximately: the queries whose lists the certificate could not vouch for; two-pass batches: those whose candidates overflowed. */
  uncertified?: number[];
}

export interface ShardLayout {
  d: number;
  metric: Metric;
  precision: Precision;
  /** Largest tile in bytes (<= the device's storage binding limit). */
  maxTileBytes?: number;
  /** Cap on the candidate lists of one batch in bytes (default 256 MiB; at least nq x k pairs). */
  scratchBytes?: number;
  /** Tests: poison scratch before every search. */
  debugPoison?: boolean;
  /** Tests: take the path for adapters without subgroups even where they exist. */
  noSubgroups?: boolean;
  /** Tests: decode f16 with unpack2x16float even where the device has shader-f16. */
  noShaderF16?: boolean;
  /** f16: let a scorer with approximate keys (the tensor cores) take batches (default true; IndexOptions.f16TensorCores). */
  f16TensorCores?: boolean;
  /** f16: let the f16 two-pass scan take the batches it fits (IndexOptions.f16TwoPass; also tensorTuning.f16Scan). */
  f16TwoPass?: boolean;
  /** f32: the same, with each list certified exact or searched again (default true; IndexOptions.f32TensorCores). */
  f32TensorCores?: boolean;
}

/** The approximate scorers' code steps of one version of the rows, and the maxima they came from (host copies: the f32 certificate). */
interface CodeSteps {
  steps: Float32Array;
  maxima: Float32Array;
  /** Each dimension's centre the codes are taken from (0 with uniform steps). */
  centres: Float32Array;
}

interface Tile {
  buffer: GPUBuffer;
  rows: number;
  capacity: number;
  /**
   * Digit planes for the tensor cores, made with the code steps: f32 rows' two i8 digits (2 D bytes
   * a row, kernel-source.ts StageOptions.rowsF32), f16 rows' i8 codes (D bytes, signedRows).
   */
  digits?: GPUBuffer;
}

/** A shard as it was before an add (FlatShard.mark): its rows, its tiles, and its last tile's rows and size. */
export interface ShardMark {
  ntotal: number;
  tiles: number;
  lastRows: number;
  lastCapacity: number;
}

/** GPU timestamps: a query set of `pairs` begin / end pairs and the buffer it resolves into. */
interface TimestampPairs {
  set: GPUQuerySet;
  resolve: GPUBuffer;
  pairs: number;
}

/** One readback buffer of a shard's ring, with its timestamp readback; idle resolves once it is free. */
interface ReadSlot {
  buffer?: GPUBuffer;
  tsRead?: GPUBuffer;
  idle: Promise<void>;
}

/**
 * Kernel knobs (benchmarks sweep them; pipelines are cached by the compile-time ones).
 * targetWorkgroups: workgroups one tile's dispatch aims for (segments x query blocks); 512 measured
 * fastest for f32 at every nq on the H200 (1M x 768: 10-20% under 2048, BENCHMARKS gpu-flat).
 * gemmTarget / gemmTargetF16: the same for f32 / f16 batches of >= GEMM_MIN_BATCH queries (the
 * compute-bound block; 0 = targetWorkgroups). 264 = one wave of two 256-invocation workgroups per
 * SM on the H200's 132 SMs: runs 4-5, 1M, f32 1.05-1.20x and f16 1.01-1.13x faster than 512 at nq
 * 64..1024. f32 then 132 (one workgroup an SM; run 7, once the multiply loop lost its clamps: 1.13x
 * / 1.07x / 1.03x faster than 264 at nq 64 / 256 / 1024, against a 0.2% spread); f16 keeps 264 (132
 * not measured for it). int8, not measured, keeps targetWorkgroups. Segments round down, so a
 * dispatch never exceeds its target.
 * kc: vec4 columns staged per step in flat_fused. ru: rows in flight per subgroup in flat_gemv
 * (each lane loads uw words of each before using them; uw 0 = 8 / ru; ru x uw <= 16); hru / huw the
 * same for f16 rows (0 = by the lane's share of a row, ceil(rowWords / subgroup size): 3 or more
 * words load one row's share (H200 run 4, 1M x 768 f16, nq = 1: 3 words of one row 0.71 ms against
 * 0.85 ms for two rows of one word; nq = 4: 1.10 against 1.63); fewer, two rows of one word). More
 * words in flight are slower on the H200 (run 10, 1M nq = 1: f32 2 rows x 6 words 1.24 ms against
 * 0.84; f16 2-5 rows x 3 words 0.75-0.88 against 0.70). big: the micro-tile of flat_fused for
 * batches of >= 48 queries ('4x8': 4 queries x 8 rows per invocation, 64 x 128 blocks of 256
 * invocations; '8x8': 128 x 128; '8x4': 128 x 64; '8x8s': 64 x 128 blocks of 128 invocations).
 * mergeFanIn: lists merged per workgroup and level. chain: ip multiply-adds as chained fma (1) or dot() (0).
 * flat_fused stages through one workgroup buffer, two barriers a step: the double-buffered and
 * dim-major variants measured slower on the H200 were removed (shaders/flat_fused.wgsl's header).
 */
export const kernelTuning = {
  targetWorkgroups: 512, gemmTarget: 132, gemmTargetF16: 264, kc: 4, ru: 1, uw: 0, hru: 0, huw: 0, big: '4x8' as BigShape, mergeFanIn: 32, chain: 1,
  /**
   * f32 (and f16 with f16Cls; int8 keeps `big`, targetWorkgroups). bigF32: the block for
   * GEMM_MIN_BATCH <= nq < LARGE_MIN_BATCH ('' = big); bigF32L / gemmTargetL: block and workgroup
   * target from LARGE_MIN_BATCH on ('' / 0 = the former); midF32: the block for 9 <= nq <= 16
   * ('4x4': 32 x 4 invocations of 4 x 4, 16 x 128 blocks; '4x8': 32 x 4 of 4 x 8, 16 x 256;
   * '4x8h': 16 x 4 of 4 x 8, 16 x 128; '4x8w': 64 x 4 of 4 x 8, 16 x 512).
   * swz: flat_fused's SWZ (8 x 4 invocation patches per 32-lane subgroup) by class, a bit mask:
   * 1 = 9 <= nq < GEMM_MIN_BATCH, 2 = the bigF32 class, 4 = the bigF32L class.
   * nosel: benchmarks only, wrong results (flat_fused NOSEL: the GEMM without the top-k).
   * selOwn: flat_fused's OWN (query owners spread over the subgroups) by class, a bit mask as swz;
   * selQ: where flat_fused queues the rows that beat the k-th best (CAP = selCap an owner, folded into
   * the heap side by side), the same bit mask.
   * Defaults from H200 runs 8-10 (1M x 768, k = 10, BENCHMARKS gpu-flat): selOwn in every class
   * (1.14x at nq = 16, 1.15x at 64, 1.16x at 32, 1.04x with 8x8s at 256); 8x8s blocks from 128 queries
   * (1.04-1.15x over 4 x 8 at 256 / 1024), then 8x8w (run 10, with spread owners: 1.08x / 1.07x over
   * 8x8s at 256 / 1024, 1M and 21M; targets 66 / 264 slower); 8x8s at 64 level with 4 x 8 once owners are spread (4.26 vs
   * 4.21 ms), so that class keeps 4 x 8; SWZ level (within 1%), queues 1.2-1.3x slower, the mid 4x8h
   * block (1.04x alone) not faster than 4 x 4 with spread owners: all off.
   */
  bigF32: '8x8w' as BigShape | '', bigF32L: '8x8w' as BigShape | '', gemmTargetL: 0, midF32: '' as MidShape | '', swz: 0, nosel: 0, selOwn: 7, selQ: 0, selCap: 8,
  /**
   * f16Cls: f16 batches take the f32 class knobs above (midF16 in place of midF32) and f32's
   * gemmTarget / gemmTargetL (1), or `big` and gemmTargetF16 (0). H200 run 10 (1M x 768, k = 10):
   * 1 with midF16 '4x8h' is 1.15x / 1.25x / 1.27x / 1.20x faster at nq = 16 / 64 / 256 / 1024 (8x8w
   * from 128 queries, spread owners; 4 x 4 at 16: 1.10x), 21M 1.15x / 1.23x / 1.13x / 1.09x (8x8s).
   */
  f16Cls: 1, midF16: '4x8h' as MidShape | '',
  /**
   * pf / hpf: flat_gemv (f32 / f16) loads the next pass's words (the next row group's, or the same
   * rows' next words) before the current pass's arithmetic, reduction and heap (1), or at the top
   * of each pass (0). Off: slower on the H200 (run 11, 1M: f32 nq = 1 0.961 ms against 0.819, f16
   * 0.774 against 0.722).
   */
  pf: 0, hpf: 0,
  /**
   * gemvTargetF16: workgroups a tile's f16 flat_gemv dispatch for one query aims for (0 =
   * targetWorkgroups; 2-4 queries keep targetWorkgroups). Runs 11-12 (the shared path): 1024 against
   * 512, 1M nq = 1 0.685 against 0.694-0.724 ms, 21M 12.90-12.96 against 13.07-13.20. With the query
   * in registers (hqr) a workgroup holds more registers and 4 fit an SM: one wave of 528 (H200 calls
   * hq2-hq3, 1M / 21M) 0.450 / 7.93 ms against 0.474 / 8.50 at 1024, 0.465 / 8.27 at 396, 0.549-0.583
   * at 594-660 (two waves), 0.51 / 9.30 at 792. The planner's temp bound (core/planner
   * TARGET_WORKGROUPS) counts 1024 segments a tile for f16.
   */
  gemvTargetF16: 528,
  /**
   * tr / htr: flat_gemv (f32 and int8 / f16) with one query and one row a pass (ru / hru 1) reduces
   * the partial sums of tr passes' rows together (power of two <= 32; a smaller subgroup takes a
   * subgroupAdd a row): each pass's partial joins a binary counter of scalars, one shuffle a pair,
   * tr - 1 + log2(S / tr) shuffles for tr rows against 5 tr with one subgroupAdd a row on 32 lanes;
   * each lane then holds one row's total and one compare against the broadcast k-th best rejects it.
   * 1 = a subgroupAdd a row; pf / hpf do not apply when tr > 1. H200 run 12 measured an earlier form
   * (the partials shifted through a 32-float array, reduced at the end): exact but slower, more so
   * the larger tr (1M nq = 1, f32 0.83 ms at 1 against 1.38 / 2.10 / 3.49 / 6.99 at 4 / 8 / 16 / 32;
   * f16 0.69 against 1.11 / 1.84 / 3.31 / 6.03; 21M 2.6-10x), a cost per pass growing with tr, as
   * if that array sat in local memory. This form indexes no array: run 13 (1M nq = 1, same call,
   * float64 oracle on the query) f16 0.553 / 0.570 / 0.607 ms at htr 4 / 8 / 32 against 0.685 /
   * 0.684 at 1 (1.24x, 1.61x the read floor against 2.00x; 0.81x torch fp16 against 0.66x), f32
   * 0.827 / 0.943 at tr 8 / 32 against 0.831 / 0.832 (level). Run 14: 21M f16 10.16 ms at htr 4
   * against 12.96 at 1 (1.40x the read floor against 1.79x); f32 tr 4 15.52 against 16.19 / 16.17
   * at 1 (1.07x the floor), 1M tr 2 / 4 0.797 / 0.803 against 0.829 / 0.828. So htr 4, tr 4.
   */
  tr: 4, htr: 4,
  /**
   * gemvTiles: tiles a dispatch (1-4, MAX_GEMV_TILES) of flat_gemv (1-4 queries) where a batch's
   * lists share one region: consecutive tiles of equal rows, the last possibly smaller, scored by one
   * dispatch (tilesSource). H100 call h6 (21M x 768 f32, one query, same call as torch 21.66 ms): 21.995 /
   * 23.032 / 25.058 ms over 31 / 61 / 121 tiles, ~34 us a dispatch, so 31 dispatches are ~1.05 ms of
   * a search. H100 call h8 (torch fp32 21.63 / 21.69 ms, fp16 11.64): f32 one query 22.00 / 21.99 /
   * 21.67 / 21.53 ms at 1 / 2 / 3 / 4 tiles a dispatch (4: 1.005x torch), four queries 23.01 ->
   * 22.15; f16 one query 10.93 -> 10.73, four 20.68 -> 20.53; 1M level at 1.082 (its 2 tiles
   * unequal: not grouped in h8). So 0: 4 on a GPU, 1 on a software adapter (device.software), which
   * has no dispatch ramp to save and compiles each grouped kernel slowly (lavapipe, cold: ~58 s for
   * the 4-tile one).
   */
  gemvTiles: 0,
  /**
   * The same for flat_gemv_multi (5-16 queries) and int8_gemv (int8 ip, 1-4 queries), each checked
   * bit for bit against a dispatch a tile on lavapipe (test/gpu/gemv-tiles-multi*, gemv-tiles-int8);
   * 0 follows gemvTiles' rule. A grouped kernel adds compile time at warmUp (flat_gemv's 4-tile one
   * ~1.0 s on the H100; int8_gemv's first search 0.6 s cold against 0.18).
   * int8GemvTiles 0 since H100 call h12 (21M x 768 int8, GPU ms, alternating, ids equal): 4 tiles a
   * dispatch 5.264 / 5.262 at one query against 5.355 / 5.356, 6.462 / 6.465 at four against
   * 6.565 / 6.562 (1.6-1.7% faster). gemvMultiTiles 0 since H100 call h13 (21M x 768, GPU ms,
   * alternating, ids equal): f32 22.10 / 22.10 at 8 queries against 22.92 / 22.93, 32.54 / 32.54
   * at 16 against 33.07 / 33.07; f16 15.07 / 15.06 against 15.22 / 15.21 at 8, level at 16 (31.41
   * against 31.42); the first search compiles ~1 s longer.
   */
  gemvMultiTiles: 0,
  int8GemvTiles: 0,
  /**
   * qr / hqr: flat_gemv (f32 / f16) with one query and the batched reduction (tr / htr > 1), rows of
   * <= 6 (f32) / 3 (f16) words a lane: the lane's query dims held in registers, loaded once, so a row
   * costs its base loads and no query reads (the shared path reads a query vec4 from L1 for each vec4
   * of the row: twice the row's bytes for f16). Other rows keep the shared TR path. H200 call hq1
   * (1M / 21M x 768, same call as torch): f16 0.474 / 8.456 ms against 0.555 / 10.213 (1.41x / 1.20x
   * the read floor against 1.65x / 1.45x); two passes' rows loaded before either is used (6 words a
   * lane in flight) was slower, 0.595 / 10.473. hq2: f32 slower (0.947 against 0.805 ms at 1M; 0.795
   * at 396 workgroups, level), so qr stays 0; f16 on since hq3 (with gemvTargetF16 528).
   */
  qr: 0, hqr: 1,
  /**
   * mergeOne: batches merge their lists with merge_one (src/gpu/merge-one.ts: 256
   * invocations, a threshold in registers, a sort only when the buffer could overflow) in place of
   * merge_lists levels of mergeFanIn: all lists of a query in one workgroup while they hold <= 4096
   * pairs, else two levels of pow2Ceil(sqrt(lists)) a workgroup (1M, nq = 1, k' = 40: 512 -> 16 ->
   * 1). Same lists bit for bit; on since H200 gpu-int8 runs 6-7 (1M nq = 1: 0.310 ms a search against
   * 0.345; 21M: 4.22 against 4.25). mergeOneFan: lists a merge_one workgroup takes (0: as above).
   * mergeOneSlots: its buffer (power of two; 0: pow2Ceil(2 (k + 256))). mergeOneMaxBatch: the largest
   * batch merge_one takes; larger ones merge_lists. 4 until gpu-tensor calls h7-h8 (H200, 1M x 768,
   * k' = 40, both levels' GPU us, merge_lists -> merge_one): behind the tensor scorer 142 -> 34 /
   * 146 -> 42 / 154 -> 57 / 137 -> 60 / 121 -> 89 / 135 -> 116 / 141 -> 41 at 5 / 16 / 32 / 64 / 128
   * / 256 / 512 queries (int8 and f16 alike; int8 at 16: 0.628 -> 0.526 ms a search), behind
   * flat_fused f32 74 -> 32 / 75 -> 38 / 63 -> 35 / 63 -> 26 at 5 / 16 / 64 / 256: every batch (MAX_BATCH).
   */
  mergeOne: 1, mergeOneFan: 0, mergeOneSlots: 0, mergeOneMaxBatch: 4096,
  /**
   * gemvMulti: batches of gemvMultiFrom-16 queries scored by flat_gemv_multi (src/gpu/gemv-multi.ts:
   * each row read once for all of a block's queries, blocks of 4, 8 or 16), a bit mask: 1 f32 and 2
   * f16 up to 8 queries, 4 f32 and 8 f16 at 9-16; else flat_fused's blocks. Needs subgroups of one fixed size. mq16: 9-16
   * queries as blocks of 8 (1) or one of 16 (0); mqx 1 dispatches those blocks first (blocks x
   * segments, the shader's QX), so a segment's blocks run together and share its rows through L2
   * (h16split / m16split below turn both on from a batch size). mqw: as many of the block's queries as fit staged in
   * workgroup memory (1) or all read from storage (0). mru / muw (f32), hmru / hmuw (f16): rows a
   * subgroup an iteration (<= 4) and words of each in flight a lane (<= 2; 0: 2); msp / mci: candidate
   * slots a query and iterations between checks (0: as int8_gemv); mtarget: workgroups a tile (0:
   * targetWorkgroups; the planner's bound counts targetWorkgroups, so at most that).
   * H200 gm3 (1M / 21M x 768, k = 10, torch in the same call, BENCHMARKS gpu-flat): 5-8 queries with
   * 264 workgroups and checks every 3 iterations, f32 1M nq 5 / 8 0.949 / 1.001 ms against flat_fused's
   * 1.668 / 1.740 (1.46x / 1.56x torch fp32), 21M nq 8 18.7 against 34.3 (1.75x); f16 0.776 / 0.811
   * against 1.17 / 1.22, 21M 15.1 against 23.3. 9-16 queries with the shared knobs were at best level
   * with flat_fused (1M nq 16 1.795 against 1.803 with the first 8 queries staged, 21M 35.1 against
   * 35.7; f16 1.62 against 1.39); with their own (m16*, gm5-gm7) f32 is faster, so bit 4 is on and
   * f16 9-16 kept flat_fused (bit 8 on since H100 h36: h16ru below). Staging 8 queries is slower at 5-8 (1.38 against 1.04 ms): off.
   * mci 6 since H100 call h16 (against 3; GPU ms): f16 1M nq 5 / 8 0.735 / 0.759 against 0.761 /
   * 0.792, 21M 14.06 / 14.39 against 14.43 / 14.92; f32 1M 1.064 / 1.090 against 1.070 / 1.103, 21M
   * 20.92 / 21.23 against 21.11 / 21.47; the block of 4, f16 1M nq 2 / 4 0.637 / 0.650 against
   * 0.648 / 0.668, f32 21M nq 4 20.50 against 20.58. hmuw 1 since H100 call h17 (at mfma 1, mci 6):
   * f16 1M nq 5 / 8 0.689 / 0.713 against 0.736 / 0.761 (two words), 21M 13.45 / 13.78 against
   * 13.76 / 14.10; the block of 4 keeps two (h4uw). hmuw 2 again since h34, with hlpr 16 (below).
   */
  gemvMulti: 15, mq16: 0, mqx: 0, mqw: 0, mru: 4, muw: 2, hmru: 4, hmuw: 2, msp: 0, mci: 6, mtarget: 264,
  /**
   * mfree / m16free: a check of flat_gemv_multi's buffers (the blocks of 4 and 8 / of 16) leaves
   * that many kf of slots a query free past the room of its interval (GemvMultiKnobs.free), so the
   * interval drops below mci where k is large against the buffers: before, k = 100 left ~0-30 slots
   * and every check re-sorted. mfree 3 leaves the blocks of 4 and 8 their k = 10 intervals (f16 3,
   * f32 6), m16free 1 the blocks of 16 theirs (128 slots at k = 10; 2 lowered f16's from 3 to 2).
   * mfirst / hfirst (f32 / f16): a check, and a sort past k,
   * after a workgroup's first iteration too (GemvMultiKnobs.first), so its thresholds are set
   * before CI iterations' rows land in the buffers. H100 call h51 (GPU ms, ids equal; torch in the
   * same call): f16 1M nq 5 / 8 0.564 / 0.649 against 0.573 / 0.663 without the first sort (1.03x
   * torch fp16's 0.6687 at 8), 21M nq 8 12.48 against 12.56, nq 12 (block of 16, with m16free 1)
   * 0.954 against 0.962; f32 1M nq 5 / 8 1.054 / 1.077 against 1.047 / 1.066 (its first iteration
   * is 32 rows: off). k = 100: f16 1M nq 8 1.013 / 1.036 / 1.077 ms at mfree 3 / 2 / 1 against
   * 1.215 before (torch fp16 0.664), nq 16 2.361 against 2.988; f32 1M nq 16 3.436 / 3.524 at
   * m16free 1 / 2 against 3.736. At k = 10, m16free 2 took the f16 block of 16 to 1.010 (checks
   * every 2 iterations). h52: hfirst level for the f16 block of 4 at 1M, 0.1-0.2% faster over 21M.
   */
  mfree: 3, m16free: 1, mfirst: 0, hfirst: 1,
  /**
   * gemvMultiFrom: the smallest batch flat_gemv_multi takes (2-5; its 5-8 class's bits of gemvMulti);
   * smaller ones go to flat_gemv. mq4: batches of 2-4 queries as a block of 4 (1), or padded to a
   * block of 8 (0). H100 call h14 (GPU ms, ids equal, float64 oracle 2/2; torch in the same call), a
   * padded block of 8 against flat_gemv: f16 1M nq 2 / 3 / 4 0.707 / 0.723 / 0.731 against 0.725 /
   * 0.862 / 1.034, 21M nq 2 / 4 13.92 / 14.30 against 13.84 / 20.43; f32 1M 1.057 / 1.073 / 1.078
   * against 1.074 / 1.084 / 1.093, 21M 21.21 / 21.52 against 21.91 / 22.12. So 2 since h14.
   * h15, the block of 4 against the padded 8: f16 1M nq 2 / 3 / 4 0.649 / 0.665 / 0.669 against
   * 0.703 / 0.720 / 0.729, 21M nq 2 / 4 11.36 / 11.57 against 13.75 / 14.23 (1.02x / 1.03x torch
   * fp16); f32 1M 0.2-0.6% slower, 21M 20.43 / 20.59 against 20.61 / 20.87. So 1 since h15.
   */
  gemvMultiFrom: 2, mq4: 1,
  /**
   * The f16 block of 4's own words in flight a lane (0: hmuw) and workgroups a tile (0: mtarget;
   * within targetWorkgroups). H100 call h17 (mfma 1, mci 6; GPU ms): one word in flight 0.651 /
   * 0.664 against two's 0.567 / 0.583 at 1M nq 2 / 4 (21M level), while the block of 8 gained from
   * it; 396 workgroups 0.544 / 0.559 against 264's 0.567 / 0.583 at 1M, 21M 10.43 / 10.58 against
   * 10.49 / 10.60, while the block of 8 lost 4-10% with them (f32's block of 4: 3-5% slower at 396 in h16).
   */
  h4uw: 2, h4target: 396,
  /**
   * flat_gemv_multi's inner products as fma chains into the accumulators (1), or dot then add (0).
   * H100 call h16 (GPU ms, ids equal, float64 oracle 2/2, torch in the same call): the block of 4,
   * f16 1M nq 2 / 4 0.574 / 0.592 against 0.648 / 0.668, 21M nq 4 10.66 against 11.47; f32 level
   * (1.030 / 1.053 against 1.032 / 1.055); the block of 8 with mci 6, f16 1M nq 5 / 8 level, 21M
   * 13.69 / 14.03 against 14.06 / 14.39; f32 0.4-0.8% faster. So 1 since h16. h18, the f32 block
   * of 16: 1M nq 12 / 16 1.528 / 1.558 against 1.604 / 1.634, 21M nq 16 31.22 against 32.82.
   */
  mfma: 1,
  /**
   * hqp: the f16 block of 8 (and 16) reads the queries split into half rows (1; splitQueryHalves,
   * written by the host beside them), so each query load of a subgroup is one contiguous run, or in
   * row order (0), where a lane's two vec4 of a word sit 32 bytes from its neighbours'. The block of
   * 4 keeps the row order. H100 calls h21 / h23 (GPU ms, ids equal, float64 oracle 2/2, torch in the same
   * call): the block of 8 at 21M nq 5 / 8 13.29 / 13.61 against 13.45 / 13.78 both times, 1M 0.685 /
   * 0.707 against 0.689 / 0.711; the block of 4 with it 0.564 / 0.582 against 0.544 / 0.560 at 1M nq
   * 2 / 4, 11.09 against 10.58 at 21M nq 4. So 1 for the block of 8 since h23.
   */
  hqp: 1,
  /**
   * mpart: a batch of fewer queries than its block multiplies only its own (1: a pipeline a batch
   * size, which warmUp compiles for 2-16), or the padded block (0). The f32 block of 4 keeps the
   * padding. H100 call h26 (GPU ms, ids equal, float64 oracle 2/2, torch in the same call): f16 21M
   * nq 5 / 6 / 7 11.50 / 12.08 / 12.61 against 13.30 / 13.39 / 13.57 (1.08x / 1.04x / 1.00x torch
   * fp16), 1M 0.600 / 0.629 / 0.655 against 0.688 / 0.697 / 0.706, nq 3 0.547 against 0.554 (21M
   * 10.43 against 10.54); f32 nq 9 / 12 1.324 / 1.432 against 1.499 / 1.520 (21M nq 9 26.59 against
   * 30.16), nq 5 / 7 0.4-0.9% faster, the block of 4 at nq 3 1.2% slower (1.047 against 1.035).
   */
  mpart: 1,
  /**
   * mdyn / hdyn (f32 / f16 blocks of 4 and 8; h4dyn the f16 block of 4), m16dyn / h16dyn (the
   * blocks of 16): flat_gemv_multi's workgroups claim chunks of that many iterations' rows from a
   * counter a tile, so a workgroup that streams faster scores more of them and all end together, or
   * (0) each scans one fixed segment. H100 calls h42-h48 (GPU ms, ids equal, float64 oracle 2/2,
   * alternating, torch in the same call), chunks against fixed segments: f16 1M nq 2 / 4 / 5 / 6 /
   * 7 / 8 0.530 / 0.534 / 0.561 / 0.593 / 0.619 / 0.653 against 0.544 / 0.555 / 0.573 / 0.606 /
   * 0.639 / 0.673; 21M nq 2 / 4 / 6 / 7 / 8 10.17 / 10.35 / 11.27 / 11.79 / 12.30 against 10.37 /
   * 10.48 / 11.49 / 12.05 / 12.73, nq 5 11.08 (one-iteration chunks: 10.66) against 10.79; the
   * f16 block of 16 (3) 1M nq 12 0.967 against 1.009, 21M nq 9 16.87 against 17.41; f32 1M nq 4 / 8
   * 1.022 / 1.045 against 1.037 / 1.085, 21M nq 8 20.88 against 21.14; the f32 block of 16 slower
   * with chunks of 1-6 iterations (1M nq 16 1.558-1.713 against 1.546), so 0 there. One-iteration
   * chunks were best for the f16 block of 4 (21M nq 4 10.35; 10.93 with two), two for the block of
   * 8 at 6-8 queries (21M nq 8 12.30 against 12.58 with one). 132-512 workgroups a tile (mtarget)
   * stayed slower than 264 with chunks (h45).
   */
  mdyn: 2,
  hdyn: 2,
  h4dyn: 1,
  m16dyn: 0,
  h16dyn: 3,
  /**
   * mlpr / hlpr: flat_gemv_multi's lanes a row for f32 / f16 rows (0: the subgroup's size). With
   * fewer, a subgroup scores several rows' groups at once, and each query load (the same addresses
   * in every group) serves all of them. H100 calls h32-h34 (GPU ms, ids equal, float64 oracle 2/2,
   * torch in the same call): f16 16 lanes a row with two words in flight (hmuw 2) against 32 and
   * one, 21M nq 4 / 5 / 6 / 7 / 8 10.83 / 11.09 / 11.84 / 12.38 / 12.97 against 10.95 / 11.88 /
   * 12.35 / 12.95 / 13.56; 1M nq 2-4 0.7-0.9% faster, 5 / 6 / 7 / 8 0.588 / 0.623 / 0.651 / 0.684
   * against 0.615 / 0.639 / 0.668 / 0.704. 8 or 4 lanes, or 512-slot buffers, were slower (h32);
   * f32 level at 4 and 8 queries, its block of 16 1.6x slower (h33). So hlpr 16 since h34.
   */
  mlpr: 0, hlpr: 16,
  /**
   * m16ru / m16uw / m16sp / m16ci: the f32 block of 16 queries' own rows an iteration, words in
   * flight, candidate slots and check interval (0: mru / muw / msp / mci). The block of 16 holds
   * twice the accumulators of a block of 8 a row, so fewer rows an iteration suit it. H200 gm5-gm7
   * (torch fp32 in the same call, float64 oracle 2/2): RU 2 unstaged 1.04x faster than RU 4 at 1M
   * nq 16, checks every 6 iterations 1.04x faster than 3, one word in flight 1.02x faster than two;
   * 256 slots with checks every 8-15 1.5x slower (occupancy). So 9-16 f32 queries (gemvMulti bit 4,
   * on since gm7) take 1.604 / 1.638 ms at 1M nq 12 / 16 against flat_fused's 1.75 / 1.81 (1.01x /
   * 1.02x torch fp32) and 32.35 against 35.7 ms at 21M nq 16 (1.08x). f16 9-16 stayed on flat_fused
   * then (gm6: 1.85-1.92 against 1.34-1.39 ms).
   * h16ru: the f16 block of 16's rows an iteration (0: hmru). H100 call h36 (16 lanes a row, two
   * words in flight, mpart; GPU ms, ids equal, float64 oracle 2/2), RU 2 against flat_fused: 1M nq
   * 9 / 12 / 16 0.883 / 1.022 / 1.384 against 1.545 / 1.562 / 1.592, 21M 17.39 / 20.00 / 27.09
   * against 30.42 / 30.92 / 31.44 (0.76x / 0.68x / 0.52x torch fp16); RU 4 and 1 slower. So
   * gemvMulti bit 8 (f16 9-16) on since h36; allowExperimental's tensor conversion still takes
   * f16 batches from tensorTuning.f16MinBatch.
   * h16split / m16split: f16 / f32 batches of that many queries up to 16 as two blocks of 8, blocks
   * first (mq16 and mqx for them; 0: the block of 16 throughout). H100 calls h57-h59 (GPU ms, ids
   * equal, oracle 2/2): f16 1M nq 15 / 16 1.092 / 1.094 against the block of 16's 1.172 / 1.316 (the
   * blocks on y 1.226 at 16), 21M 21.54 / 21.65 against 22.84 / 26.09; at 14 level (1.086 / 1.098),
   * at 13 and 12 slower (1.081 / 1.087 against 1.037 / 0.953: the second block padded to 8). f32 1M
   * nq 13 / 14 / 15 / 16 1.373 / 1.378 / 1.390 / 1.373 against 1.463 / 1.524 / 1.556 / 1.543, 21M
   * nq 13 / 15 / 16 28.32 / 28.72 / 28.49 against 29.41 / 30.95 / 31.03 (h59-h60); at 12 1.650
   * against 1.428. With meven (below) from 9 queries since H100 calls h64-h65.
   */
  m16ru: 2, m16uw: 1, m16sp: 0, m16ci: 6, h16ru: 2, h16split: 9, m16split: 9,
  /**
   * meven: a batch split into two blocks (mq16, h16split / m16split) as two of ceil(nq / 2) queries
   * (the shader's QB), each multiplying only those, not 8 + the rest padded to 8. H100 calls h64-h65
   * (1M, GPU ms, ids equal, float64 oracle; split evenly from 9 against the defaults then, the block
   * of 16 to 14 / 12 and 8 + the rest after): f16 nq 9 / 10 / 11 / 12 / 13 / 14 0.806 / 0.819 /
   * 0.902 / 0.906 / 0.976 / 0.979 against 0.853 / 0.877 / 0.927 / 0.958 / 1.039 / 1.100; f32 nq 9 /
   * 10 / 11 / 12 / 13 / 14 1.219 / 1.235 / 1.270 / 1.274 / 1.325 / 1.331 against 1.355 / 1.386 /
   * 1.407 / 1.448 / 1.383 / 1.396; 15-16 level (8 + 7 is already even).
   */
  meven: 1,
  /**
   * rot: flat_fused's ROT by class (a bit mask as swz; blocks with WX, WY multiples of 8, KC 2, 4
   * or 8): staging column c of a query / row at slot (x / 8) * 8 + (x + c * 8 / KC) % 8 of its
   * run, so the staging stores (KC consecutive lanes a query / row, runs a multiple of 8 slots apart)
   * are free of the 4-way bank conflicts they had, and the multiply loop's reads stay conflict-free.
   * tsel: flat_fused's TSEL by class (f32 and f16 with f16Cls): each invocation tests its
   * accumulators against its queries' k-th best in registers and pushes the few that beat it into
   * tselCap slots a query, folded by the owners (no score parking, no owner scan of every row).
   * H200 calls gf1-gf2 (1M / 21M x 768, k = 10, torch fp32 in the same call, every query's ids equal
   * to the defaults', float64 oracle 2/2; BENCHMARKS gpu-flat): TSEL + ROT 1.20x / 1.17x / 1.14x over
   * the scan at 1M nq 64 / 256 / 1024 (3.48 / 11.28 / 44.91 ms against 4.19 / 13.20 / 51.01), 1.20x /
   * 1.16x / 1.13x at 21M; ROT alone 1.06-1.09x, TSEL alone 1.10-1.13x; SWZ on top 2% slower. With them
   * 8x8w also suits 48..127 queries (bigF32; 1M nq 64 3.11 against 3.48 on 4x8, 21M 63.1 against 71.1).
   * DB 2 (two staging buffers at fixed offsets) was 1.3-1.6x slower (KC 2 on 8x8w 67.8 against 44.9
   * ms at 1M nq 1024; KC 4 on 4x8 5.42 against 3.48 at 64) and is gone. On for the 48..127 and
   * >= 128 classes (bits 2 and 4); gf3 (1M, same call as torch): 17..47 queries too (bit 1, 32 x 8
   * invocations of 4 x 4: nq 32 2.32 ms against 2.88, f16 2.17 against 2.48, at 16 slots:
   * tselCapMid), and 32 slots a query from 48 queries (3.075 / 11.19 / 44.72 ms at nq 64 / 256 /
   * 1024 against 3.11 / 11.26 / 44.90 at 16; 8 slots 3.18 / 11.31 / 44.92). Where the slots do not
   * fit, 16 then 4 (then the scan).
   */
  rot: 7, tsel: 7, tselCap: 32, tselCapMid: 16,
  /**
   * kc8: KC 8 (32 dims a staging step: half the barrier pairs) by class, a bit mask as swz, f32
   * with TSEL; where the heaps rounded up to heapSlots do not fit, heaps of exactly k slots.
   * midBF32 / midBF32L / gemmTargetM: the block of f32 batches (f16 with f16Cls) of 17..32 / 33..47
   * queries and their workgroup target ('' / '' = midBF32 / 0: 32 x 8 of 4 x 4, targetWorkgroups).
   * H200 calls kc1-kc2 (1M x 768, k = 10, torch fp32 in the same call, oracle 2/2; BENCHMARKS
   * gpu-flat): KC 8 1.05-1.15x slower than KC 4 on 8x8w, TSEL's slots in the staging area 1.13x
   * slower (KC 4; removed), KC 2 1.10x slower, 512-invocation blocks 1.2-1.5x slower: all off. 4x8r
   * at 132 workgroups 1.14x / 1.15x / 1.11x faster at nq 20 / 32 / 40 (1.98 / 2.02 / 3.73 ms
   * against 2.26 / 2.33 / 4.15); at 33..47 its two 32-query blocks cost more than one 8x8w block
   * (3.04 ms at 40, kc3). midBF32L also takes nq 48 .. its block's queries where that block holds
   * fewer queries than the 48..127 class's (so 6x8w: 33..48; 8x8w never past 47). kc4: 6x8w
   * (48 x 256 blocks) at 132 workgroups 2.50 / 2.53 / 2.52 ms at nq 40 / 47 / 48 against 8x8w's 3.04 /
   * 3.06 / 3.03 (1.21x; 1.04-1.05x torch fp32); at 264 2.86-2.91; two 48-query blocks at 64 (4.71
   * against 3.08) and from 128 (1.05-1.18x slower) lose. midF16L: the same for f16 (6x8w not
   * measured for f16: it keeps kc3's 8x8w, 1.29x over the old block at 40).
   */
  kc8: 0, midBF32: '4x8r' as BigShape | '', midBF32L: '6x8w' as BigShape | '', midF16L: '8x8w' as BigShape | '', gemmTargetM: 132,
};

/**
 * The knobs of `t` whose workgroup targets pass what the plan counts for the built-in kernels
 * (planner BUILTIN_TARGETS, at kernelTuning's defaults), as scorerFor reads them, e.g. 'gemmTarget
 * 264 > 132 (17+ queries)'; none at the defaults. The plan is not made again when a benchmark's
 * variant changes kernelTuning after the index exists (bench/gpu-flat --variants): such a variant's
 * batches keep to the plan's candidate bytes (candCap), so take fewer lists a query than it aims
 * for, and the bench says so rather than time something else than asked.
 */
export function targetsBeyondPlan(t: typeof kernelTuning = kernelTuning): string[] {
  const [[, small], [, large]] = BUILTIN_TARGETS.f32 as [[number, number], [number, number]];
  const one16 = BUILTIN_TARGETS.f16[0]![1];
  // From 17 queries: gemmTargetM (17-47), gemmTarget / gemmTargetL (48+; 0 falls back to the former,
  // then targetWorkgroups); f16 without f16Cls takes gemmTargetF16 from 48.
  const mid = t.gemmTargetM || t.targetWorkgroups;
  const over: string[] = [];
  const check = (name: string, value: number, bound: number, batches: string) => {
    if (value > bound) over.push(`${name} ${value} > ${bound} (${batches})`);
  };
  check('targetWorkgroups', t.targetWorkgroups, small, 'up to 16 queries');
  check('gemvTargetF16', t.gemvTargetF16, one16, 'f16, 1 query');
  check(t.gemmTargetM ? 'gemmTargetM' : 'targetWorkgroups (gemmTargetM 0)', mid, large, '17-47 queries');
  check(t.gemmTarget ? 'gemmTarget' : 'gemmTargetM / targetWorkgroups (gemmTarget 0)', t.gemmTarget || mid, large, '48+ queries');
  if (t.gemmTargetL) check('gemmTargetL', t.gemmTargetL, large, `${LARGE_MIN_BATCH}+ queries`);
  if (!t.f16Cls) {
    check('targetWorkgroups (f16Cls 0)', t.targetWorkgroups, large, 'f16, 17-47 queries');
    check('gemmTargetF16 (f16Cls 0)', t.gemmTargetF16 || t.targetWorkgroups, large, 'f16, 48+ queries');
  }
  return over;
}

/** Synthetic rows' generator (benchmarks only): in the chunk that pages which only search never load. */
const onDemand = lazyChunk("tessera's synthetic-row generator (GpuFlatIndex.addGenerated)", () => import('../on-demand.js'));

/** flat_gemv_multi's knobs for a batch: the block of 16 takes its m16 overrides (f32) or h16ru (f16) and m16free, the f16 block of 4 its h4uw; from h16split (f16) / m16split (f32) queries two blocks of 8, blocks first. */
function multiKnobs(prec: number, nq: number): GemvMultiKnobs {
  const t = kernelTuning;
  const four = nq <= 4 && t.mq4;
  const from = prec ? t.h16split : t.m16split;
  const blocksFirst = from > 0 && nq >= from;
  const k = { ru: prec ? t.hmru : t.mru, uw: prec ? (four && t.h4uw) || t.hmuw : t.muw, sp: t.msp, ci: t.mci, qw: t.mqw, split: t.mq16 || blocksFirst ? 1 : 0, four: t.mq4, fmac: t.mfma, qp: prec && !four ? t.hqp : 0, part: prec || !four ? t.mpart : 0, lpr: prec ? t.hlpr : t.mlpr, dyn: prec ? (four ? t.h4dyn : t.hdyn) : t.mdyn, free: t.mfree, first: prec ? t.hfirst : t.mfirst, qx: t.mqx || blocksFirst ? 1 : 0, even: t.meven };
  if (nq <= 8 || k.split) return k;
  if (prec) return { ...k, ru: t.h16ru || k.ru, dyn: t.h16dyn, free: t.m16free };
  return { ...k, ru: t.m16ru || k.ru, uw: t.m16uw || k.uw, sp: t.m16sp || k.sp, ci: t.m16ci || k.ci, dyn: t.m16dyn, free: t.m16free };
}

/**
 * Search pipelining knobs (benchmarks flip them; H200 gpu-int8 run 6: the ring 23.6 ms against
 * 25.8-28.2 at 1M nq = 1024, the bind cache cuts submit from 0.41-0.53 to 0.30-0.34 ms). readbackSlots: MAP_READ buffers a shard cycles through (1 or 2), so a
 * second search or int8 sub-batch can be queued while the one before is still being read back
 * (GpuFlatIndex starts the next sub-batch once the current one is queued when this is 2 or more).
 * cacheBinds: keep the bind groups of a batch shape (and skip a uniform write equal to the last one)
 * until a buffer they name is reallocated. Same results either way.
 */
export const searchTuning = { readbackSlots: 2, cacheBinds: 1 };

/**
 * Blocks of flat_fused for nq >= GEMM_MIN_BATCH (WX x WY invocations of TQ queries x TR rows):
 * '4x8' 16 x 16 of 4 x 8 (64 x 128 blocks); '8x8' 16 x 16 of 8 x 8 (128 x 128); '8x4' 16 x 16 of
 * 8 x 4 (128 x 64); '8x8s' 16 x 8 of 8 x 8 (64 x 128, 128 invocations); '8x8w' 32 x 8 of 8 x 8
 * (64 x 256); '4x8r' 32 x 8 of 4 x 8 (32 x 256); 512 invocations (16 warps an SM): '8x8x' 32 x 16
 * of 8 x 8 (128 x 256), '8x8t' 64 x 8 of 8 x 8 (64 x 512); '6x8w' 32 x 8 of 6 x 8 (48 x 256: 33..48
 * queries in one block, 48 accumulators an invocation).
 */
export type BigShape = '4x8' | '8x8' | '8x4' | '8x8s' | '8x8w' | '4x8r' | '8x8x' | '8x8t' | '6x8w';
export type MidShape = '4x4' | '4x8' | '4x8h' | '4x8w';
const BIG_SHAPES: Record<BigShape, FusedShape> = {
  '4x8': { WX: 16, WY: 16, TR: 8, TQ: 4 },
  '8x8': { WX: 16, WY: 16, TR: 8, TQ: 8 },
  '8x4': { WX: 16, WY: 16, TR: 4, TQ: 8 },
  '8x8s': { WX: 16, WY: 8, TR: 8, TQ: 8 },
  '8x8w': { WX: 32, WY: 8, TR: 8, TQ: 8 },
  '4x8r': { WX: 32, WY: 8, TR: 8, TQ: 4 },
  '8x8x': { WX: 32, WY: 16, TR: 8, TQ: 8 },
  '8x8t': { WX: 64, WY: 8, TR: 8, TQ: 8 },
  '6x8w': { WX: 32, WY: 8, TR: 8, TQ: 6 },
};
const MID_SHAPES: Record<MidShape, FusedShape> = {
  '4x4': { WX: 32, WY: 4, TR: 4, TQ: 4 },
  '4x8': { WX: 32, WY: 4, TR: 8, TQ: 4 },
  '4x8h': { WX: 16, WY: 4, TR: 8, TQ: 4 },
  '4x8w': { WX: 64, WY: 4, TR: 8, TQ: 4 },
};

/** Batches of at least this many queries use the largest flat_fused block (compute-bound). */
export const GEMM_MIN_BATCH = 48;
/** f32 batches of at least this many queries may use their own block and target (bigF32L, gemmTargetL). */
export const LARGE_MIN_BATCH = 128;

/** A block shape of flat_fused: WX x WY invocations of TQ queries x TR rows. */
export interface FusedShape {
  WX: number;
  WY: number;
  TR: number;
  TQ: number;
}

/** The swz class bit of kernelTuning.swz for an f32 batch of nq queries (0: no class). */
function swzBit(nq: number): number {
  if (nq <= 8) return 0;
  if (nq < GEMM_MIN_BATCH) return 1;
  return nq < LARGE_MIN_BATCH ? 2 : 4;
}

/** The block of 33..47-query f32 batches (midBF32L; f16 with f16Cls: midF16L), '' = midBF32. */
function midBlockL(precision: Precision): BigShape | '' {
  return precision === 'f16' ? kernelTuning.midF16L : kernelTuning.midBF32L;
}

/** Candidate block shapes for a batch, preferred first; smaller ones serve when memory is short (large k). */
function fusedShapes(nq: number, precision: Precision): FusedShape[] {
  const small: FusedShape[] = [
    { WX: 64, WY: 2, TR: 2, TQ: 1 },
    { WX: 64, WY: 1, TR: 2, TQ: 1 },
    { WX: 32, WY: 1, TR: 2, TQ: 1 },
  ];
  const f32 = precision === 'f32' || (precision === 'f16' && kernelTuning.f16Cls === 1);
  let lead: FusedShape[];
  if (nq <= 8) lead = [{ WX: 64, WY: 2, TR: 2, TQ: 4 }];
  else if (nq <= 16) {
    const mid = precision === 'f16' ? kernelTuning.midF16 : kernelTuning.midF32;
    lead = [...(f32 && mid ? [MID_SHAPES[mid]] : []), { WX: 32, WY: 4, TR: 4, TQ: 4 }];
  }
  else if (nq < GEMM_MIN_BATCH) {
    const name = nq > 32 ? midBlockL(precision) || kernelTuning.midBF32 : kernelTuning.midBF32;
    lead = [...(f32 && name ? [BIG_SHAPES[name]] : []), { WX: 32, WY: 8, TR: 4, TQ: 4 }];
  }
  else {
    const name = (f32 && nq >= LARGE_MIN_BATCH && kernelTuning.bigF32L) || (f32 && kernelTuning.bigF32) || kernelTuning.big;
    const big = BIG_SHAPES[name] ?? BIG_SHAPES['4x8'];
    // The 33..47 block also takes batches from 48 up to its own block's queries where it holds fewer
    // queries than this class's block (6x8w: nq 48 in one 48-query block instead of 64 slots).
    const midL = f32 ? midBlockL(precision) : '';
    const ml = midL ? BIG_SHAPES[midL] : undefined;
    const useMid = ml !== undefined && nq <= ml.WY * ml.TQ && ml.WY * ml.TQ < big.WY * big.TQ;
    lead = [useMid ? ml : big, BIG_SHAPES['4x8'], { WX: 32, WY: 8, TR: 4, TQ: 4 }];
  }
  return [...lead, { WX: 64, WY: 2, TR: 2, TQ: 4 }, ...small];
}

/** Workgroup bytes of flat_fused for a shape: staging/score area (vec4 slots) and the heaps. */
export function fusedLayout(s: FusedShape, kc: number, kf: number, selp: number, cap = 0, tsel = 0, cq = 0): { smv: number; bytes: number } {
  const BQ = s.WY * s.TQ;
  const BR = s.WX * s.TR;
  const sb = kc * (BQ + BR);
  // TSEL's counters (a query's, and the overflow flag) and the flag's uniform copy: 16 bytes each when off.
  const flags = (tsel ? Math.ceil(((BQ + 1) * 4) / 16) * 16 : 16) + 16;
  // tsel: staging only in `sm`; heaps, cq candidate slots a query (in `sv`).
  if (tsel) return { smv: sb, bytes: sb * 16 + BQ * kf * 8 + Math.max(BQ * cap, BQ * cq, 1) * 8 + flags };
  const piece = ((BQ / selp) * (BR + 4)) / 4;
  // Heaps, and the selection queues (`sv`, one vec2<u32> even when cap is 0).
  const sel = BQ * kf * 8 + Math.max(1, BQ * cap) * 8 + flags;
  const smv = Math.max(sb, piece);
  return { smv, bytes: smv * 16 + sel };
}

/**
 * flat_fused's prefetch registers hold at most 8 base words and 4 query vec4 per invocation and
 * step: BR x KC (f32 words) <= 8 x NT and KC x BQ <= 4 x NT.
 */
export function fusedStagingFits(s: FusedShape, kc: number): boolean {
  const nt = s.WX * s.WY;
  return s.WX * s.TR * kc <= 8 * nt && kc * s.WY * s.TQ <= 4 * nt;
}

/** The first shape (and selection pieces) that fits the workgroup memory, or undefined. */
export function pickFusedShape(nq: number, kf: number, maxStorage: number, maxInvocations = 256, precision: Precision = 'f32', k?: number): { shape: FusedShape; selp: number; smv: number; kc: number; swz: number; own: number; cap: number; rot: number; tsel: number; cq: number; kf: number } | undefined {
  const f32 = precision === 'f32' || (precision === 'f16' && kernelTuning.f16Cls === 1);
  for (const shape of fusedShapes(nq, precision)) {
    if (shape.WX * shape.WY > maxInvocations) continue;
    // SWZ's 8 x 4 patches need WX % 8 and WY % 4 (f32 classes asked for in kernelTuning.swz).
    const swz = f32 && kernelTuning.swz & swzBit(nq) && shape.WX % 8 === 0 && shape.WY % 4 === 0 ? 1 : 0;
    // OWN: BQ owners spread evenly over the block's 32-invocation groups.
    const nt = shape.WX * shape.WY;
    const nw = Math.max(1, Math.floor(nt / 32));
    const bq = shape.WY * shape.TQ;
    const own = f32 && kernelTuning.selOwn & swzBit(nq) && nt % 32 === 0 && bq % nw === 0 && bq / nw <= 32 ? 1 : 0;
    const cq = Math.max(1, nq < GEMM_MIN_BATCH ? kernelTuning.tselCapMid : kernelTuning.tselCap);
    // TSEL's slots a query: cq, else fewer where they do not fit (the adapter's workgroup memory, large k).
    const cqs = [...new Set([cq, Math.min(cq, 16), Math.min(cq, 4)])];
    // KC 8 where asked (kc8), with TSEL only; heaps of exactly k slots where the rounded ones do not fit.
    const kc8 = f32 && kernelTuning.kc8 & kernelTuning.tsel & swzBit(nq) && kf <= 64 && shape.TQ * shape.TR <= 64 ? 1 : 0;
    for (const kc of kf > 64 ? [4] : [...(kc8 ? [8] : []), kernelTuning.kc, 4]) {
      const viaKc8 = kc8 === 1 && kc === 8 && kernelTuning.kc !== 8;
      if (!fusedStagingFits(shape, kc)) continue;
      // ROT needs 8-slot runs (WX, WY multiples of 8) and KC 2, 4 or 8.
      const rot = f32 && kernelTuning.rot & swzBit(nq) && shape.WX % 8 === 0 && shape.WY % 8 === 0 && (kc === 2 || kc === 4 || kc === 8) ? 1 : 0;
      // TSEL where asked and it fits, else the owners' scan (large k: heaps need the room).
      for (const tsel of f32 && kernelTuning.tsel & swzBit(nq) && shape.TQ * shape.TR <= 64 ? [1, 0] : [0]) {
        if (tsel) {
          for (const kfx of viaKc8 && k !== undefined && k < kf ? [kf, k] : [kf]) {
            for (const c of cqs) {
              const { smv, bytes } = fusedLayout(shape, kc, kfx, 1, 0, 1, c);
              if (bytes <= maxStorage) return { shape, selp: 1, smv, kc, swz, own, cap: 0, rot, tsel, cq: c, kf: kfx };
            }
          }
          continue;
        }
        if (viaKc8) continue;
        // Selection queues where asked and they fit, else none (large k: heaps need the room).
        for (const cap of f32 && kernelTuning.selQ & swzBit(nq) && kernelTuning.selCap > 0 ? [kernelTuning.selCap, 0] : [0]) {
          for (let selp = 1; selp <= shape.TQ; selp *= 2) {
            const { smv, bytes } = fusedLayout(shape, kc, kf, selp, cap);
            if (bytes <= maxStorage) return { shape, selp, smv, kc, swz, own, cap, rot, tsel: 0, cq: 1, kf };
          }
        }
      }
    }
  }
  return undefined;
}

/** Heap slots per query for k (k rounded up to a multiple of 8): a compile-time fact of the kernels. */
export function heapSlots(k: number): number {
  return Math.max(8, Math.ceil(k / 8) * 8);
}

/** What a scorer may know about a shard (compile-time facts of its pipelines). */
export interface ShardInfo {
  d: number;
  metric: Metric;
  precision: Precision;
  /** vec4<u32> words per stored row. */
  rowWords: number;
  /** vec4<f32> per (zero-padded) query row. */
  q4: number;
  features: GPUSupportedFeatures;
  adapter?: GPUAdapter;
  /** f16: whether a scorer may give approximate keys the shard re-ranks (ChunkScorer.shape approximate). */
  approximateF16: boolean;
  /** f16: whether the index asked for the f16 two-pass scan (IndexOptions.f16TwoPass). */
  f16TwoPass?: boolean;
  /** f32: the same (the shard re-ranks and certifies each list); false without digit planes. */
  approximateF32: boolean;
  /** Whether the shard holds (or will make) digit planes of its rows for a scorer to read (ChunkScorer.shape digits). */
  digitPlanes: boolean;
  /** Whether the built-in flat_gemv_multi takes a batch of nq queries at k (fixed subgroup size, kernelTuning.gemvMulti). */
  multiTakes?: (nq: number, k: number) => boolean;
}

/**
 * The fused scoring step of flat search, pluggable. Contract (the built-in flat_fused.wgsl and
 * flat_gemv.wgsl follow it; the tensor-core int8 scorer of src/gpu/tensor/ may register here):
 * - One dispatch per tile of `(nseg, ceil(nq / BQ))` workgroups. Workgroup (s, b) scores queries
 *   [b*BQ, (b+1)*BQ) against tile rows [s*segLen, min((s+1)*segLen, rows)) and writes, for each of
 *   its queries q, the k best of those rows (any order) as vec2<u32>(bitcast<u32>(key), idBase + row)
 *   at out[(q * nseg + segAt + s) * k + i], i < k; slots with no row are (bits of -FLT_MAX, 0xffffffff).
 *   Keys are larger-is-better: ip = q.x, l2 = -|q - x|^2 (int8: from the SQ-decoded row).
 *   Nothing may be written outside those lists (the buffer also holds the merge levels).
 * - Bind group 0: 0 params (uniform, 36 bytes: nq, rows, rowWords, q4, k, segLen, nseg = lists per
 *   query in out, idBase, segAt = this tile's first list: tiles of one search may share out),
 *   1 base tile (array<vec4<u32>>), 2 queries (nq x q4 vec4<f32>, zero-padded), 3 sq decode params
 *   (int8: vmin[q4 vec4] then step[q4 vec4]), 4 out (array<vec2<u32>>, read_write).
 * - segLen is a multiple of BR chosen by the shard; the tile has ceil(rows / segLen) <= 65535 segments.
 * - scratch (optional, shape()): pairs the scorer may use at the end of its out binding (after the
 *   lists, so binding 4 is that much longer), zeroed once per batch before the first tile; the merges
 *   never touch them. The tensor scorer keeps shared bounds there (src/gpu/tensor StageOptions.share).
 * - Pipelines are cached under `ext:<name>:<key>`: the key must name every compile-time fact
 *   (k enters as a uniform; a scorer whose workgroup memory depends on k puts its class in the key).
 * - Optional pre-pass (shape().prep and prepass()): once per batch, before the tiles, a dispatch of
 *   prep.groups workgroups with bind group 0: 0 params (the same struct; tile fields 0), 1 queries,
 *   2 sq, 3 a scratch buffer of prep.bytes (read_write) that it fills; the scoring dispatches then
 *   get that buffer at binding 2 instead of the queries (e.g. queries quantised once per batch, not
 *   once per workgroup). Its pipeline is cached under `ext:<name>:prep:<key>`.
 * - targetWorkgroups (optional): the workgroups a tile's dispatch aims for, in place of
 *   kernelTuning.targetWorkgroups (which suits 256-invocation workgroups; a scorer with small ones
 *   needs more to fill the device).
 * - approximate (optional, f16 and f32 shards only): the keys only rank candidates (the tensor
 *   scorer's i8 codes of the f16 rows or two i8 digits of the f32 rows, decoded with binding 3 =
 *   vmin 0, then step, then 1 / step per dimension, which the shard computes from its rows:
 *   src/gpu/approx-rerank.ts; 'dims': a step a dimension, 'uniform': one step for all; 'unscaled':
 *   no codes, so no steps, e.g. f16 rows on f16 subgroup matrices with f16-rounded queries). After the
 *   merges the shard rewrites each query's final k keys with the exact inner products
 *   (approx_rerank.wgsl) and orders the lists again on the host; the caller asks for k' > k
 *   candidates to keep the recall. f32 lists are then certified (approx-rerank.ts uncertifiedF32)
 *   and the queries that fail it searched again with the exact kernels.
 * - digits (optional, with approximate): the scorer reads each tile's digit planes at binding 1
 *   in place of the rows; shape().digitsSource gives the pass that writes them (the shard compiles
 *   and runs it once per version of the rows), and a shape without it is refused.
 * The shard then merges the lists per tile (merge_lists) into a running top-k.
 */
/** How a scorer's approximate keys were made (ChunkScorer.shape): codes of a step a dimension, of one step, or no codes ('unscaled': no steps to make). */
export type ApproximateKeys = 'dims' | 'uniform' | 'unscaled';

/** A shape's digit planes' pass: a scorer that reads planes must give it. */
function digitsOf(s: ChunkScorer, source: DigitsSource | undefined): DigitsSource {
  if (!source) throw new Error(`ChunkScorer ${s.name}: a shape with digits must give digitsSource, the pass that writes the planes`);
  return source;
}

/** The code steps approximate keys need, if any. */
function stepModeOf(approximate: ApproximateKeys | undefined): 'dims' | 'uniform' | undefined {
  return approximate === 'dims' || approximate === 'uniform' ? approximate : undefined;
}

/**
 * The pass that writes a shard's digit planes (tensor/digits-source.ts digitsSource): given by the
 * scorer that reads them (ChunkScorer.shape digitsSource), so its text comes with the scorer's code
 * (on demand in a page: the bundle budget, BENCHMARKS.md section bundle).
 */
export type DigitsSource = (dPad: number, precision: 'f16' | 'f32') => string;

export interface ChunkScorer {
  name: string;
  accepts(shard: ShardInfo, nq: number, k: number): boolean;
  /** Rows per block (segLen is a multiple), queries per workgroup, the pipeline cache key, and the optional pre-pass and dispatch size. */
  shape(shard: ShardInfo, nq: number, k: number): { BR: number; BQ: number; key: string; targetWorkgroups?: number; prep?: { bytes: number; groups: [number, number] }; scratch?: number; approximate?: ApproximateKeys; digits?: boolean; digitsSource?: DigitsSource; twoPass?: TwoPassShape };
  pipeline(device: GPUDevice, shard: ShardInfo, nq: number, k: number): GPUComputePipeline;
  /** The pre-pass pipeline, for shapes that name a prep. */
  prepass?(device: GPUDevice, shard: ShardInfo, nq: number, k: number): GPUComputePipeline;
  /** Two-pass scorers (shape().twoPass): the pipelines of their four steps (TwoPassShape). */
  twoPass?(device: GPUDevice, shard: ShardInfo, nq: number, k: number): TwoPassPipelines;
}

/**
 * A two-pass scorer (ChunkScorer.shape().twoPass; src/gpu/tensor/half-scan.ts): instead of one
 * dispatch a tile writing lists, a batch runs
 * - `sample`, a dispatch a sampled tile (twoPassSamples; bind group: 0 params (rows, blocks = 1,
 *   segStride, the warps of the tiles sampled before), 1 the tile's rows, 2 the pre-pass's output,
 *   3 bests), its share of sampleWorkgroups of `warps` 32-wide warps, one block of 16 rows a warp
 *   (sampleSplit: a workgroup of `warps` warps a block, the warps splitting its dims),
 *   blocks segStride rows apart;
 * - `threshold`, one workgroup a query of the padded batch (0 params (nq, sampleWarps), 1 bests,
 *   2 thresholds);
 * - for each tile `scan` (0 params (rows, blocks, segStride = 16 blocks, idBase), 1 rows, 2 the
 *   pre-pass's output, 3 candidates (cap pairs a query), 4 thresholds, 5 counts) and `select`
 *   (0 params (nq, 0, listAt, listStride, flagsAt), 1 candidates, 2 counts, 3 the candidate buffer,
 *   4 thresholds, which it may raise for the next tiles): the tile's one list a query at its
 *   segment, a flag (1, 0) after the final lists for a query whose candidates overflowed; the shard
 *   searches those queries again with the exact kernels.
 * Bests, thresholds, counts and candidates live in a buffer of the shard's own (twoPassLayout).
 */
export interface TwoPassShape {
  bq: number;
  warps: number;
  /** Workgroups of a tile's scan (fewer for a tile of few rows). */
  scanWorkgroups: number;
  /** The sample takes about 1 / sampleDiv of the shard's rows (twoPassSamples). */
  sampleDiv: number;
  /** Most workgroups of the sample, over all its tiles (the bests buffer holds their warps'). */
  sampleWorkgroups: number;
  /** Most tiles the sample spreads over. */
  sampleTiles: number;
  /** A workgroup a sample warp's block (its warps splitting the dims: half-scan.ts halfSampleSplitSource), dispatched as workgroups x warps. */
  sampleSplit?: boolean;
  /** Sample blocks in runs of this many consecutive ones (1 by default), `stride` rows from one run to the next (twoPassSamples). */
  sampleRun?: number;
  /**
   * A shard of one tile with lists of at most DIRECT_LIST_MOST: the selection writes the final lists
   * in place, unordered (the host's sortLists orders them after the re-rank), without merge_one's
   * pass over the one list a query.
   */
  directList?: boolean;
  /** Candidates a query a tile. */
  cap: number;
  /** Bests a lane of a sample warp (the query tiles: bq / 16). */
  bestsPerLane: number;
  /** Words from one query's candidate count to the next (each on its own cache line). */
  countStride: number;
}

/** Where a batch's two-pass buffer keeps its parts (byte offsets, 256-aligned: each is a binding of its own). */
export interface TwoPassLayout {
  nqPad: number;
  bytes: number;
  parts: Record<'counts' | 'thresholds' | 'bests' | 'candidates', { at: number; bytes: number }>;
}

/** Longest list a two-pass selection writes in place (TwoPassShape.directList): the host's insertion sort of an unordered list is quadratic. */
export const DIRECT_LIST_MOST = 64;

export function twoPassLayout(nqb: number, tp: TwoPassShape): TwoPassLayout {
  const nqPad = Math.ceil(nqb / tp.bq) * tp.bq;
  const sizes = { counts: nqPad * 4 * tp.countStride, thresholds: nqPad * 4, bests: tp.sampleWorkgroups * tp.warps * 32 * tp.bestsPerLane * 4, candidates: nqPad * tp.cap * 8 };
  let at = 0;
  const parts = {} as TwoPassLayout['parts'];
  for (const [name, bytes] of Object.entries(sizes) as [keyof typeof sizes, number][]) {
    parts[name] = { at, bytes };
    at += Math.ceil(bytes / 256) * 256;
  }
  return { nqPad, bytes: at, parts };
}

/**
 * The sample of a shard's tiles (rows each): about 1 / sampleDiv of all rows in at most
 * sampleWorkgroups workgroups (sampleTiles tiles at most, evenly spaced from the first), one block of 16 rows a
 * warp, a tile's blocks `stride` rows apart (at least 16: disjoint, so the bests are maxima of
 * distinct rows); with sampleRun R > 1, in runs of R consecutive blocks, `stride` rows from one run
 * to the next (at least 16 R). Each tile of 16 rows or more gets a workgroup, and the rest in
 * proportion to its rows.
 */
export function twoPassSamples(tileRows: readonly number[], tp: TwoPassShape): { tile: number; workgroups: number; stride: number }[] {
  let live = tileRows.map((rows, tile) => ({ tile, rows })).filter((t) => t.rows >= 16);
  const all = live.reduce((s, t) => s + t.rows, 0);
  const total = Math.max(1, Math.min(tp.sampleWorkgroups, Math.ceil(all / tp.sampleDiv / 16 / tp.warps)));
  const most = Math.max(1, Math.min(total, tp.sampleTiles));
  if (live.length > most) live = Array.from({ length: most }, (_, i) => live[Math.floor((i * live.length) / most)]!);
  const rowsOf = live.reduce((s, t) => s + t.rows, 0);
  const spare = Math.max(0, total - live.length);
  return live.map(({ tile, rows }) => {
    const workgroups = 1 + Math.floor((spare * rows) / rowsOf);
    const run = tp.sampleRun ?? 1;
    const runs = Math.ceil((workgroups * tp.warps) / run);
    return { tile, workgroups, stride: 16 * Math.max(run, Math.floor(rows / 16 / runs)) };
  });
}

/** A tile's scan: its workgroups (fewer for few rows) and the blocks of 16 rows each warp scans, back to back. */
export function twoPassScan(rows: number, tp: TwoPassShape): { workgroups: number; blocks: number } {
  const workgroups = Math.max(1, Math.min(tp.scanWorkgroups, Math.ceil(rows / 16 / tp.warps)));
  return { workgroups, blocks: Math.ceil(rows / 16 / (workgroups * tp.warps)) };
}

export interface TwoPassPipelines {
  sample: GPUComputePipeline;
  threshold: GPUComputePipeline;
  scan: GPUComputePipeline;
  select: GPUComputePipeline;
}

const chunkScorers: ChunkScorer[] = [];

/** The scoring step scorerFor picks for a batch (target / prep: a registered scorer's, see ChunkScorer). */
interface ScorerChoice {
  pipeline: GPUComputePipeline;
  /** flat_gemv, flat_gemv_multi, int8_gemv: the same kernel over `tiles` tiles of equal rows (the last may have fewer) in one dispatch (tilesKnob). */
  multiTile?: (tiles: number) => GPUComputePipeline;
  /** The kernelTuning knob of multiTile's most tiles a dispatch (gemvTilesMost). */
  tilesKnob?: 'gemvTiles' | 'gemvMultiTiles' | 'int8GemvTiles';
  BR: number;
  BQ: number;
  key: string;
  fold?: boolean;
  /** int8_gemv: queries quantised on the host, 1 or 2 i8 parts (see src/gpu/int8-gemv.ts). */
  quant?: number;
  target?: number;
  prep?: { pipeline: GPUComputePipeline; bytes: number; groups: [number, number] };
  /** Pairs of scratch at the end of the scorer's out binding (ChunkScorer.shape), zeroed before each batch. */
  scratch?: number;
  /** f16 / f32: approximate keys, re-ranked exactly from the rows after the merges; the codes' steps (ChunkScorer.shape). */
  approximate?: ApproximateKeys;
  /** The scorer reads the tiles' digit planes at binding 1 instead of the rows (ChunkScorer.shape), written by digitsSource's pass (set exactly when digits is). */
  digits?: boolean;
  digitsSource?: DigitsSource;
  /** flat_gemv_multi's QP: the scorer reads the queries as splitQueryHalves orders them. */
  halves?: boolean;
  /** flat_gemv_multi's DYN: the scorer claims its chunks from the claim counters (CLAIMS_BINDING). */
  claims?: boolean;
  /** flat_gemv_multi's QX: the dispatch is (query blocks, segments), a segment's blocks launched together. */
  blocksFirst?: boolean;
  /**
   * int8_gemv's shared bounds: the scratch starts with each query's lower bound of its k-th best
   * key (one word a query), which merge_one then starts its threshold from.
   */
  boundWords?: boolean;
  /** A two-pass scorer's shape and pipelines (compiled when first read): one list a query a tile, overflow flags after the final lists. */
  twoPass?: TwoPassShape & { readonly pipelines: TwoPassPipelines };
}

/** Registers a scorer, tried before the built-in ones (latest first). */
export function registerChunkScorer(scorer: ChunkScorer): void {
  chunkScorers.unshift(scorer);
}

/**
 * Expands the `//#include NAME` lines (wgsl-include.ts), then keeps the lines between `//#if F16` and
 * `//#else`/`//#endif` when f16, else the others.
 */
export function wgslVariant(src: string, f16: boolean): string {
  const out: string[] = [];
  let mode: 'all' | 'if' | 'else' = 'all';
  const included = expandWgslIncludes(src);
  for (const line of included.split('\n')) {
    const t = line.trim();
    if (t === '//#if F16') { mode = 'if'; continue; }
    if (t === '//#else') { mode = 'else'; continue; }
    if (t === '//#endif') { mode = 'all'; continue; }
    if (mode === 'all' || (mode === 'if') === f16) out.push(line);
  }
  return out.join('\n');
}

/**
 * Most tiles one flat_gemv / flat_gemv_multi / int8_gemv dispatch binds (kernelTuning.gemvTiles, gemvMultiTiles, int8GemvTiles):
 * bindings 1 and 5-7, 7 storage buffers in all, within WebGPU's default 8 a stage. More would save
 * ~20 us a dispatch on the H100 (h8), and each copy of the scan costs compile time: lavapipe took
 * ~58 s for flat_gemv's 4-tile kernel cold.
 */
const MAX_GEMV_TILES = 4;

/** flat_gemv's loads and uses of the ids and lists for tilesSource. */
const FLAT_GEMV_TILES: TileRewrite = { kernel: 'flat_gemv', loaders: ['loadPass', 'loadWord'], ids: 4, lists: 1 };

/** flat_gemv's text for `tiles` tiles a dispatch (tilesSource; 1: the kernel as it is, byte for byte). */
export function gemvTilesSource(src: string, tiles: number): string {
  return tilesSource(src, tiles, FLAT_GEMV_TILES);
}

/** Largest power-of-two candidate list that fits the device's workgroup memory. */
export function maxSelectK(maxWorkgroupStorage: number): number {
  let kp = 2 * SELECT_WG;
  while ((2 * kp) * 16 + 16 <= maxWorkgroupStorage) kp *= 2;
  return kp;
}

/** The most results a query a shard returns on a device with this much workgroup memory: the merge's sorted list and the fused kernel's heaps (smallest block shape) must both fit. */
export function selectKLimit(maxWorkgroupStorage: number): number {
  let kf = 4;
  while (kf * 2 <= maxSelectK(maxWorkgroupStorage) && pickFusedShape(1, kf * 2, maxWorkgroupStorage) !== undefined) kf *= 2;
  return kf;
}

/**
 * The most results a query a GPU Flat index returns on the default adapter (a device opens with the
 * adapter's workgroup memory), told without opening a device or loading rows; undefined without an
 * adapter. For choosing a backend before loading: an index of at most this many rows returns every k.
 */
export async function gpuResultLimit(gpu?: GPU): Promise<number | undefined> {
  try {
    const adapter = await (await resolveGpu(gpu))?.requestAdapter({ powerPreference: 'high-performance' });
    return adapter ? selectKLimit(adapter.limits.maxComputeWorkgroupStorageSize) : undefined;
  } catch {
    return undefined;
  }
}

export class FlatShard {
  readonly rowWords: number;
  readonly rowBytes: number;
  readonly q4: number;
  readonly rowsPerTile: number;
  readonly kLimit: number;
  private tiles: Tile[] = [];
  private pipelines = new Map<string, GPUComputePipeline>();
  private sqBuffer: GPUBuffer | undefined;
  /** int8: vmin then step per (padded) dimension, for folding the decode into ip queries. */
  private sqHost: Float32Array | undefined;
  private scratch: { cand?: GPUBuffer; queries?: GPUBuffer; halves?: GPUBuffer; prep?: GPUBuffer; uniforms?: GPUBuffer; claims?: GPUBuffer; twoPass?: GPUBuffer } = {};
  /** Readback ring (searchTuning.readbackSlots): a slot is taken again only once its last search has read it and unmapped. */
  private slots: ReadSlot[] = [];
  private slotNext = 0;
  /** Searches prepare and submit one at a time: they share the scratch buffers (queue-ordered writes). */
  private submitting: Promise<void> = Promise.resolve();
  /** Bind groups by step (searchTuning.cacheBinds); cleared whenever a buffer they may name is reallocated. */
  private binds = new Map<string, { pipeline: GPUComputePipeline; group: GPUBindGroup }>();
  /** The uniform words last written (skipped when a search writes the same ones again). */
  private lastParams: Uint32Array | undefined;
  private scratchBytes: number;
  /** Bumped whenever rows are written; the code steps (ensureSteps) are those of one version. */
  private rowsVersion = 0;
  private codeSteps: { version: number; mode: 'dims' | 'uniform'; digits: boolean; ready: Promise<CodeSteps> } | undefined;
  private ranges: { version: number; ranges: RowRanges } | undefined;
  ntotal = 0;

  constructor(
    readonly ctx: GpuContext,
    readonly layout: ShardLayout,
  ) {
    const dpw = DIMS_PER_WORD[layout.precision];
    this.rowWords = Math.ceil(layout.d / dpw);
    this.rowBytes = this.rowWords * 16;
    this.q4 = (this.rowWords * dpw) / 4;
    const tileLimit = Math.min(ctx.maxBinding, ctx.maxBuffer, layout.maxTileBytes ?? Infinity);
    this.rowsPerTile = Math.floor(tileLimit / this.rowBytes);
    if (this.rowsPerTile < 1) {
      throw new TesseraError('UNSUPPORTED', `one row of d=${layout.d} needs ${this.rowBytes} bytes, more than the device's storage binding limit ${tileLimit}`);
    }
    this.kLimit = selectKLimit(ctx.maxWorkgroupStorage);
    this.scratchBytes = Math.min(layout.scratchBytes ?? 256 * 1024 * 1024, ctx.maxBinding);
  }

  /** Bytes held on the device for the base. */
  get baseBytes(): number {
    return this.tiles.reduce((s, t) => s + t.capacity * this.rowBytes, 0);
  }

  /** Bytes of the rows' digit planes (made at the first search on the tensor cores: half the f32 rows' bytes, or half the f16 rows'). */
  get digitBytes(): number {
    return this.tiles.reduce((s, t) => s + (t.digits?.size ?? 0), 0);
  }

  /**
   * Why this shard's digit planes could not be allocated (then f32 stays on the f32 kernels, f16
   * converts its rows while staging), or undefined.
   */
  digitsRefused: string | undefined;

  /**
   * How many of this shard's first tiles the index's plan gives digit planes (planner digitTiles);
   * without any f32 stays on the f32 kernels, and f32 tiles past them are scored by the f32 kernels
   * in the same searches as the others on the tensor cores. Fewer than before: the planes of the
   * tiles past them are freed at once (the plan counted their memory out).
   */
  get digitTilesPlanned(): number {
    return Math.min(this.plannedDigitTiles, this.digitTilesFit);
  }

  set digitTilesPlanned(n: number) {
    this.plannedDigitTiles = n;
    this.freeDigitsFrom(this.digitTilesPlanned);
  }

  private plannedDigitTiles = Infinity;

  /**
   * f32 tiles whose digit planes the device held when they were made (Infinity until an allocation
   * failed part way, f32 only): WebGPU reports no memory size, so a plan without gpuMemory, or with
   * a figure above what the device gives, counts planes that do not fit. An 80 GB H100 holds 18 of
   * the 21M x 768 wiki index's 31 tiles' planes beside its rows; a plan for 79.6 GiB counts 19,
   * one without gpuMemory all 31 (BENCHMARKS, H100 call h1).
   */
  private digitTilesFit = Infinity;

  /** What digitTilesFit cut and why, the adapter named (said once through onNotice), or undefined. */
  digitsCut: string | undefined;

  private freeDigitsFrom(n: number): void {
    this.tiles.forEach((tile, t) => {
      if (t >= n && tile.digits) {
        tile.digits.destroy();
        tile.digits = undefined;
        this.forgetBinds();
      }
    });
  }

  /**
   * An f32 tile's planes that did not fit (OUT_OF_MEMORY at tile `t`): keep the planes of the tiles
   * before t - 1 (the f32 kernels score the others in the same searches, as for a plan that holds
   * only some), freeing the last one made too, so that the searches' temporary buffers, allocated
   * after the planes, find room on a device filled to its last tile. False where nothing would be
   * kept (t < 2), for f16 (its code plane is for every tile or none) and for any other error: the
   * caller refuses the planes whole (refuseDigits).
   */
  private keepDigitsBefore(t: number, e: unknown): boolean {
    if (this.layout.precision !== 'f32' || !(e instanceof TesseraError && e.code === 'OUT_OF_MEMORY') || t < 2) return false;
    const planned = this.digitTilesPlanned;
    const keep = t - 1;
    this.digitTilesFit = keep;
    this.freeDigitsFrom(keep);
    // The allocation's own words without its advice (other precisions, adapters, WASM): the index goes on here.
    const why = e.message.replace(/; state gpuMemory[\s\S]*$/, '');
    const message = `${this.ctx.label}: digit planes for ${keep} of the ${Number.isFinite(planned) ? planned : this.tiles.length} planned tiles fit beside the rows (tile ${t}'s: ${why})`;
    if (this.digitsCut === undefined) this.onNotice?.(`${message}; the f32 kernels score the other tiles in the same searches, with the same results (state gpuMemory for the planner to plan what fits)`);
    this.digitsCut = message;
    return true;
  }

  /**
   * The plan's bytes for the candidate buffer and for one readback (planner ShardPlan candBytes /
   * readBytes; unset: no bound). The plan counts k up to 100 in batches of MAX_BATCH; a search of
   * larger k keeps within them by fewer candidate lists a query and, where even one list a query
   * does not fit, by batches of fewer queries (search, listBudget). Each buffer stays within its
   * own share because buffers keep the largest size any search asked for.
   */
  candCap: number | undefined;
  readCap: number | undefined;

  /** Whether rows lie in tiles past the planned digit planes (the f32 kernels score those). */
  private get unplannedRows(): boolean {
    return this.tiles.some((t, i) => t.rows > 0 && i >= this.digitTilesPlanned);
  }

  get tileCount(): number {
    return this.tiles.length;
  }

  /** Per-dimension SQ decode parameters (int8): vmin[q4*4] then step[q4*4]. */
  async setSq(vmin: Float32Array, step: Float32Array): Promise<void> {
    const dp = this.q4 * 4;
    const data = new Float32Array(2 * dp);
    data.set(vmin.subarray(0, Math.min(vmin.length, dp)), 0);
    data.set(step.subarray(0, Math.min(step.length, dp)), dp);
    this.sqHost = data;
    this.forgetBinds();
    this.sqBuffer?.destroy();
    this.sqBuffer = await this.ctx.createBuffer({ label: 'tessera sq params', size: data.byteLength, usage: BufferUsage.STORAGE | BufferUsage.COPY_DST });
    this.ctx.device.queue.writeBuffer(this.sqBuffer, 0, data);
  }

  /**
   * Rows this shard holds once a load of known size ends (GpuFlatIndex.load sets it for the load):
   * each tile is then allocated at the rows that layout gives it (full tiles, then the rest), so
   * the device holds the bytes the plan counted, with no regrowth copies (nor their old and new
   * buffers at once). Undefined: tiles start at 1024 rows and double as rows come, which left a
   * load's last tile up to twice its rows (and its digit planes with it: up to half a tile's bytes
   * beyond the plan).
   */
  expectedRows: number | undefined;

  /** The most rows tile `t` needs for expectedRows (a full tile without an expectation, or past it). */
  private tileCap(t: number): number {
    const left = this.expectedRows === undefined ? 0 : this.expectedRows - t * this.rowsPerTile;
    return left > 0 ? Math.min(this.rowsPerTile, left) : this.rowsPerTile;
  }

  /**
   * Makes room for n more rows: allocates (or grows) every tile they need before anything is
   * written. Only the last tile grows and only fresh tiles follow it: appendRows's mark undoes both
   * when an allocation or a write fails.
   */
  private async reserve(n: number, exact = false): Promise<{ tile: Tile; rowStart: number; count: number }[]> {
    const parts: { tile: Tile; rowStart: number; count: number }[] = [];
    let done = 0;
    let t = this.tiles.length - 1;
    while (done < n) {
      let tile = t >= 0 ? this.tiles[t] : undefined;
      const used = tile ? tile.rows + parts.filter((p) => p.tile === tile).reduce((a, p) => a + p.count, 0) : 0;
      if (!tile || used === this.rowsPerTile) {
        // Tiles start at the size asked for (exact: synthetic fills) or grow by doubling as rows come.
        // A load of known size allocates each tile at its final rows at once (no regrowth copies).
        const cap = this.tileCap(this.tiles.length);
        const rows = Math.min(this.rowsPerTile, Math.max(n - done, exact ? 0 : this.expectedRows !== undefined ? cap : Math.min(1024, cap)));
        const buffer = await this.allocTile(rows);
        tile = { buffer, rows: 0, capacity: buffer.size / this.rowBytes };
        this.tiles.push(tile);
        t = this.tiles.length - 1;
        continue;
      }
      const take = Math.min(n - done, this.rowsPerTile - used);
      if (used + take > tile.capacity) await this.growTile(tile, used + take);
      parts.push({ tile, rowStart: used, count: take });
      done += take;
    }
    return parts;
  }

  /** Appends n encoded rows (n x rowWords x 4 u32). */
  async add(rows: Uint32Array): Promise<void> {
    this.ctx.check();
    const wordsPerRow = this.rowWords * 4;
    const n = rows.length / wordsPerRow;
    await this.appendRows(n, false, (p, done) => this.upload(p.tile.buffer, p.rowStart * this.rowBytes, rows.subarray(done * wordsPerRow, (done + p.count) * wordsPerRow)));
  }

  /**
   * Appends n rows, `write` filling each reserved part (`done` rows written before it), under the
   * submit lock: a search submits against rows, code steps and digit planes of one version.
   */
  private async appendRows(n: number, exact: boolean, write: (p: { tile: Tile; rowStart: number; count: number }, done: number) => Promise<void>): Promise<void> {
    const release = await this.lockSubmit();
    const before = this.mark();
    try {
      let done = 0;
      for (const p of await this.reserve(n, exact)) {
        await write(p, done);
        p.tile.rows += p.count;
        done += p.count;
      }
      this.ntotal += n;
    } catch (e) {
      // An allocation or a write that fails part way adds none of the n rows (tiles holding rows
      // ntotal does not count would shift every later row's id), nor keeps the tiles made for them.
      await this.restore(before);
      throw e;
    } finally {
      this.rowsVersion++;
      release();
    }
  }

  /** What rollback needs to put this shard back as it is now (the index takes one before each add). */
  mark(): ShardMark {
    const last = this.tiles[this.tiles.length - 1];
    return { ntotal: this.ntotal, tiles: this.tiles.length, lastRows: last?.rows ?? 0, lastCapacity: last?.capacity ?? 0 };
  }

  /**
   * Gives back what was added since `m` (the index's add failed on another device after this one
   * took its share): the rows are no longer scanned, the tiles made for them are freed and a last
   * tile grown for them shrinks back, so the shard holds the bytes it held at the mark.
   */
  async rollback(m: ShardMark): Promise<void> {
    const release = await this.lockSubmit();
    try {
      await this.restore(m);
      this.rowsVersion++;
    } finally {
      release();
    }
  }

  /** rollback under the submit lock. An add touches only the last tile and fresh tiles after it (reserve). */
  private async restore(m: ShardMark): Promise<void> {
    this.forgetBinds();
    while (this.tiles.length > m.tiles) {
      const tile = this.tiles.pop()!;
      tile.buffer.destroy();
      tile.digits?.destroy();
    }
    const last = this.tiles[this.tiles.length - 1];
    if (last) {
      last.rows = m.lastRows;
      // The smaller buffer is allocated before the grown one goes: if the device refuses it, the
      // grown tile stays (its rows intact, its bytes counted) and the next add fills it.
      if (last.capacity > m.lastCapacity) await this.resizeTile(last, m.lastCapacity).catch(() => undefined);
    }
    this.ntotal = m.ntotal;
  }

  /**
   * Copies words into a tile through a ring of reused, mapped staging buffers: large loads then
   * touch no fresh host memory per chunk (queue.writeBuffer allocates staging for every call,
   * which measured ~0.4 GB/s for a 3 GB load on the H100 machine). Small writes use writeBuffer.
   */
  private async upload(dst: GPUBuffer, offset: number, words: Uint32Array): Promise<void> {
    const device = this.ctx.device;
    if (words.byteLength < STAGING_BYTES / 4) {
      device.queue.writeBuffer(dst, offset, words.buffer, words.byteOffset, words.byteLength);
      return;
    }
    for (let at = 0; at < words.byteLength; at += STAGING_BYTES) {
      const len = Math.min(STAGING_BYTES, words.byteLength - at);
      const slot = this.staging[this.stagingNext] ?? { buffer: await this.ctx.createBuffer({ label: 'tessera upload staging', size: STAGING_BYTES, usage: BufferUsage.MAP_WRITE | BufferUsage.COPY_SRC, mappedAtCreation: true }), ready: Promise.resolve() };
      this.staging[this.stagingNext] = slot;
      this.stagingNext = (this.stagingNext + 1) % STAGING_SLOTS;
      await slot.ready;
      new Uint8Array(slot.buffer.getMappedRange(0, len)).set(new Uint8Array(words.buffer, words.byteOffset + at, len));
      slot.buffer.unmap();
      const enc = device.createCommandEncoder();
      enc.copyBufferToBuffer(slot.buffer, 0, dst, offset + at, len);
      device.queue.submit([enc.finish()]);
      // Re-mapped once the copy has run; the next use of this slot waits for it.
      slot.ready = slot.buffer.mapAsync(MapMode.WRITE).catch((e: unknown) => {
        throw this.ctx.fail(new TesseraError('DEVICE_LOST', `uploading rows to ${this.ctx.label} failed: ${(e as Error).message}`, { cause: e }));
      });
      // A slot nobody waits on again (the load ended, the device was lost) must not reject unhandled.
      slot.ready.catch(() => undefined);
    }
  }

  private staging: { buffer: GPUBuffer; ready: Promise<void> }[] = [];
  private stagingNext = 0;

  /** Frees the upload staging ring (after a load; later adds make it again). */
  async releaseStaging(): Promise<void> {
    for (const s of this.staging) {
      await s.ready.catch(() => undefined);
      s.buffer.destroy();
    }
    this.staging = [];
    this.stagingNext = 0;
  }

  /**
   * Appends n synthetic unit-norm rows generated on the GPU (shaders/fill_random.wgsl), row i being
   * generator row firstRow + i of `seed`. Benchmarks use it to skip uploading tens of GB.
   */
  async addGenerated(n: number, seed: number, firstRow: number): Promise<void> {
    this.ctx.check();
    const device = this.ctx.device;
    const { fillRandomWgsl: fillWgsl } = await onDemand();
    const sq = this.sqBuffer ?? (await this.dummySq());
    const pipeline = this.pipeline(`fill:${this.layout.precision}`, () =>
      device.createComputePipeline({
        label: 'fill_random',
        layout: 'auto',
        compute: { module: device.createShaderModule({ code: fillWgsl }), entryPoint: 'main', constants: { PREC: PREC_CODE[this.layout.precision] } },
      }),
    );
    await this.appendRows(n, true, async (p, done) => {
      for (let r = 0; r < p.count; r += 1 << 22) {
        const rows = Math.min(1 << 22, p.count - r);
        const enc = device.createCommandEncoder();
        const groups = Math.ceil(rows / 64);
        const uni = this.encodeOnce(enc, pipeline, new Uint32Array([rows, p.rowStart + r, firstRow + done + r, this.rowWords, this.layout.d, seed, this.q4, 0]), [{ buffer: p.tile.buffer }, { buffer: sq }], dispatchGrid(groups));
        device.queue.submit([enc.finish()]);
        await device.queue.onSubmittedWorkDone();
        uni.destroy();
      }
    });
  }

  /**
   * f16 and f32 shards scored approximately: binding 3 of the scorer holds the i8 codes'
   * per-dimension centres and steps (approx-rerank.ts stepParams) from the rows' ranges, computed on
   * the device once per version of the rows (a search after an add computes them again).
   */
  private ensureSteps(mode: 'dims' | 'uniform', digits: DigitsSource | undefined): Promise<CodeSteps> {
    const version = this.rowsVersion;
    const have = this.codeSteps;
    if (have?.version === version && have.mode === mode && (have.digits || !digits)) return have.ready;
    const ready = this.computeSteps(mode, digits);
    const entry = { version, mode, digits: !!digits, ready };
    this.codeSteps = entry;
    ready.catch(() => {
      if (this.codeSteps === entry) this.codeSteps = undefined;
    });
    return ready;
  }

  /** digits: also each tile's digit planes, by this pass (the scorer reads them: ChunkScorer.shape digits). */
  private async computeSteps(mode: 'dims' | 'uniform', digits: DigitsSource | undefined): Promise<CodeSteps> {
    const device = this.ctx.device;
    const dp = this.q4 * 4;
    // Under the submit lock: no add changes the rows while their ranges and digits are made.
    const release = await this.lockSubmit();
    try {
      const ranges = await this.currentRanges();
      // Codes and digits centred on each dimension's range (uniform steps: on 0).
      const data = stepParams(ranges, dp, mode === 'uniform');
      const sq = await this.ctx.createBuffer({ label: 'tessera code steps', size: data.byteLength, usage: BufferUsage.STORAGE | BufferUsage.COPY_DST });
      device.queue.writeBuffer(sq, 0, data);
      this.forgetBinds();
      this.sqBuffer?.destroy();
      this.sqBuffer = sq;
      if (digits) await this.makeDigits(sq, digits);
      return { steps: data.slice(dp, 2 * dp), maxima: ranges.maxima, centres: data.slice(0, dp) };
    } finally {
      release();
    }
  }

  /**
   * Each (padded) dimension's largest magnitude over the rows of an f32 or f16 shard, as stored
   * (row_range.wgsl over every tile): the bound GpuFlatIndex checks queries against, so a search
   * whose scores could overflow float32 is refused. Computed once per version of the rows.
   */
  async rowMagnitudes(): Promise<Float32Array> {
    // Cached: read without the submit lock (every search asks).
    if (this.ranges?.version === this.rowsVersion) return this.ranges.ranges.maxima;
    const release = await this.lockSubmit();
    try {
      return (await this.currentRanges()).maxima;
    } finally {
      release();
    }
  }

  /**
   * The rows' ranges, read from the device once per version of the rows: the score-range check and
   * the code steps share one pass over the base. The caller holds the submit lock, so no add lands
   * between the version read here and the pass.
   */
  private async currentRanges(): Promise<RowRanges> {
    const version = this.rowsVersion;
    if (this.ranges?.version === version) return this.ranges.ranges;
    const ranges = await this.deviceRanges();
    this.ranges = { version, ranges };
    return ranges;
  }

  /** row_range over every tile, read back (each padded dimension's range); the caller holds the submit lock. */
  private async deviceRanges(): Promise<RowRanges> {
    const device = this.ctx.device;
    const words = this.rowWords * 4;
    const dp = this.q4 * 4;
    const uniforms: GPUBuffer[] = [];
    let rangeKeys: GPUBuffer | undefined;
    let read: GPUBuffer | undefined;
    try {
      rangeKeys = await this.ctx.createBuffer({ label: 'tessera row ranges', size: 2 * dp * 4, usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC });
      read = await this.ctx.createBuffer({ label: 'tessera row ranges read', size: 2 * dp * 4, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
      const pipeline = this.rangePipeline();
      const enc = device.createCommandEncoder({ label: 'tessera row ranges' });
      for (const tile of this.tiles) {
        if (tile.rows === 0) continue;
        const plan = rangePlan(tile.rows, words);
        uniforms.push(this.encodeOnce(enc, pipeline, plan.params, [{ buffer: tile.buffer, offset: 0, size: tile.rows * this.rowBytes }, { buffer: rangeKeys }], plan.groups));
      }
      enc.copyBufferToBuffer(rangeKeys, 0, read, 0, 2 * dp * 4);
      device.queue.submit([enc.finish()]);
      await this.map(read);
      const keys = new Uint32Array(read.getMappedRange(0, 2 * dp * 4).slice(0));
      read.unmap();
      return rowRangesOf(keys, dp);
    } finally {
      rangeKeys?.destroy();
      read?.destroy();
      for (const u of uniforms) u.destroy();
    }
  }

  /** Whether this shard's tensor path reads digit planes: planned, not refused, f32 or f16. */
  private get digitPlanes(): boolean {
    return (this.layout.precision === 'f32' || this.layout.precision === 'f16') && this.digitTilesPlanned > 0 && !this.digitsRefused;
  }

  /**
   * Digit planes that do not fit (an OUT_OF_MEMORY while making them, at a search or warmUp): from
   * now on f32 runs the f32 kernels, f16 converts while staging; said once (onNotice). A batch in
   * flight beside the one that met it first awaited the same allocation: it goes on too. False for
   * any other error.
   */
  private refuseDigits(e: unknown): boolean {
    if (!(e instanceof TesseraError && e.code === 'OUT_OF_MEMORY' && (this.digitPlanes || this.digitsRefused !== undefined))) return false;
    if (this.digitsRefused === undefined) {
      this.digitsRefused = e.message;
      const then = this.layout.precision === 'f32' ? 'f32 runs the f32 kernels' : 'f16 converts its rows to codes as it reads them';
      this.onNotice?.(`${this.ctx.label}: the digit planes did not fit beside the rows (${e.message}); from now on ${then}, with the same results (state gpuMemory for the planner to plan what fits, or digitPlanes: false)`);
    }
    for (const tile of this.tiles) {
      tile.digits?.destroy();
      tile.digits = undefined;
    }
    this.forgetBinds();
    return true;
  }

  /** Bytes of a row's digit planes: two digits a dimension for f32, one for f16. */
  private get digitRowBytes(): number {
    return this.q4 * 4 * (this.layout.precision === 'f32' ? 2 : 1);
  }

  /**
   * Each tile's digit planes from its rows and the code steps just computed (kernel-source.ts
   * digitsSource), the buffers allocated on first use (half the rows' bytes: they are the price of
   * the faster tensor path). A device that cannot hold them throws OUT_OF_MEMORY; searchBatch then
   * goes on without them (digitsRefused).
   */
  private async makeDigits(sq: GPUBuffer, digitsSource: DigitsSource): Promise<void> {
    const device = this.ctx.device;
    const pipeline = this.digitsPipeline(digitsSource);
    const rowBytes = this.digitRowBytes;
    for (const [t, tile] of this.tiles.entries()) {
      // The rows' planes, not the tile's capacity's: what the plan counts (a tile grown by doubling
      // holds up to twice its rows); made again for every version of the rows in any case.
      const size = tile.rows * rowBytes;
      // Tiles past the planned ones (digitTilesPlanned) get none (the setter freed any they had).
      if (tile.digits && tile.digits.size !== size) {
        tile.digits.destroy();
        tile.digits = undefined;
      }
      if (t < this.digitTilesPlanned && !tile.digits) {
        try {
          tile.digits = await this.ctx.createBuffer({ label: `tessera ${this.layout.precision} digits ${t}`, size: Math.max(size, 16), usage: BufferUsage.STORAGE });
        } catch (e) {
          if (!this.keepDigitsBefore(t, e)) throw e;
          break;
        }
      }
    }
    this.forgetBinds();
    const enc = device.createCommandEncoder({ label: 'tessera digit planes' });
    const uniforms: GPUBuffer[] = [];
    for (const tile of this.tiles) {
      if (tile.rows === 0 || !tile.digits) continue;
      const groups = Math.ceil((tile.rows * ((this.q4 * 4) / 16)) / 64);
      const entries = [{ buffer: tile.buffer, offset: 0, size: tile.rows * this.rowBytes }, { buffer: sq }, { buffer: tile.digits!, offset: 0, size: tile.rows * rowBytes }];
      uniforms.push(this.encodeOnce(enc, pipeline, new Uint32Array([tile.rows, 0, 0, 0]), entries, dispatchGrid(groups)));
    }
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    for (const u of uniforms) u.destroy();
  }

  /**
   * Encodes one dispatch of a pass outside searches (row generation, maxima, digit planes): its
   * params in a uniform buffer at binding 0, `buffers` at bindings 1, 2, ... Returns the uniform
   * buffer, for the caller to destroy once the work is done.
   */
  private encodeOnce(enc: GPUCommandEncoder, pipeline: GPUComputePipeline, params: Uint32Array<ArrayBuffer>, buffers: GPUBufferBinding[], groups: [number, number]): GPUBuffer {
    const device = this.ctx.device;
    const uni = device.createBuffer({ label: `tessera ${pipeline.label} params`, size: Math.max(16, params.byteLength), usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST });
    device.queue.writeBuffer(uni, 0, params);
    const pass = enc.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: uni } }, ...buffers.map((resource, i) => ({ binding: i + 1, resource }))] }));
    pass.dispatchWorkgroups(groups[0], groups[1]);
    pass.end();
    return uni;
  }

  private async dummySq(): Promise<GPUBuffer> {
    this.forgetBinds();
    this.sqBuffer = await this.ctx.createBuffer({ label: 'tessera sq params (unused)', size: 16, usage: BufferUsage.STORAGE });
    return this.sqBuffer;
  }

  private async allocTile(rows: number): Promise<GPUBuffer> {
    this.forgetBinds();
    return this.ctx.createBuffer({
      label: `tessera base tile ${this.tiles.length}`,
      size: rows * this.rowBytes,
      usage: BufferUsage.STORAGE | BufferUsage.COPY_DST | BufferUsage.COPY_SRC,
    });
  }

  /** Reallocates a tile with room for `need` rows (doubling, capped at a full tile), keeping its rows. */
  private async growTile(tile: Tile, need: number): Promise<void> {
    await this.resizeTile(tile, Math.min(this.rowsPerTile, Math.max(need, Math.min(2 * tile.capacity, this.tileCap(this.tiles.indexOf(tile))))));
  }

  /** Reallocates a tile with room for `capacity` rows (at least its rows), keeping its rows. */
  private async resizeTile(tile: Tile, capacity: number): Promise<void> {
    const buffer = await this.ctx.createBuffer({
      label: `tessera base tile ${this.tiles.indexOf(tile)}`,
      size: capacity * this.rowBytes,
      usage: BufferUsage.STORAGE | BufferUsage.COPY_DST | BufferUsage.COPY_SRC,
    });
    const enc = this.ctx.device.createCommandEncoder();
    if (tile.rows > 0) enc.copyBufferToBuffer(tile.buffer, 0, buffer, 0, tile.rows * this.rowBytes);
    this.ctx.device.queue.submit([enc.finish()]);
    this.forgetBinds();
    tile.buffer.destroy();
    tile.buffer = buffer;
    tile.capacity = capacity;
    // The digits follow the rows' version: made again at the next search that needs them.
    tile.digits?.destroy();
    tile.digits = undefined;
  }

  /** Reads rows [start, start + count) back as encoded words (for save). */
  async readRows(start: number, count: number): Promise<Uint32Array> {
    this.ctx.check();
    const out = new Uint32Array(count * this.rowWords * 4);
    const staging = await this.ctx.createBuffer({ label: 'tessera readback rows', size: Math.max(out.byteLength, 16), usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
    try {
      const enc = this.ctx.device.createCommandEncoder();
      let at = 0;
      let row = start;
      let tileStart = 0;
      for (const tile of this.tiles) {
        const tileEnd = tileStart + tile.rows;
        if (row < tileEnd && row < start + count) {
          const take = Math.min(tileEnd, start + count) - row;
          enc.copyBufferToBuffer(tile.buffer, (row - tileStart) * this.rowBytes, staging, at, take * this.rowBytes);
          at += take * this.rowBytes;
          row += take;
        }
        tileStart = tileEnd;
      }
      this.ctx.device.queue.submit([enc.finish()]);
      await this.map(staging);
      out.set(new Uint32Array(staging.getMappedRange(0, out.byteLength)));
      staging.unmap();
    } finally {
      staging.destroy();
    }
    return out;
  }

  private async map(buffer: GPUBuffer): Promise<void> {
    try {
      await buffer.mapAsync(MapMode.READ);
    } catch (e) {
      this.ctx.check();
      throw this.ctx.fail(new TesseraError('DEVICE_LOST', `reading results from ${this.ctx.label} failed: ${(e as Error).message}`, { cause: e }));
    }
  }

  private pipeline(key: string, make: () => GPUComputePipeline): GPUComputePipeline {
    let p = this.pipelines.get(key);
    if (!p) this.pipelines.set(key, (p = make()));
    return p;
  }

  /** Native shader-f16 decoding where the device has it (the halves' bits are the same either way). */
  private get nativeF16(): boolean {
    return this.layout.precision === 'f16' && this.ctx.hasF16 && !this.layout.noShaderF16;
  }

  /** Most subgroups a 256-invocation workgroup can have on this adapter. */
  private get maxSubgroups(): number {
    return Math.ceil(256 / Math.max(1, this.subgroupMinSize ?? 4));
  }

  private get subgroupMaxSize(): number | undefined {
    return (this.ctx.adapter?.info as { subgroupMaxSize?: number } | undefined)?.subgroupMaxSize;
  }

  private get subgroupMinSize(): number | undefined {
    return (this.ctx.adapter?.info as { subgroupMinSize?: number } | undefined)?.subgroupMinSize;
  }

  /** WGSL dot4I8Packed (language feature packed_4x8_integer_dot_product) in the GPU object the device came from. */
  private get hasDot4(): boolean {
    const gpu = this.ctx.gpu ?? (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
    return gpu?.wgslLanguageFeatures?.has('packed_4x8_integer_dot_product') ?? false;
  }

  /**
   * The fused scoring step for a batch of nq queries and k: a registered ChunkScorer that accepts
   * this shard, else flat_gemv_multi (gemvMultiFrom-16 queries by kernelTuning.gemvMulti, a fixed subgroup size,
   * buffers fit), flat_gemv (nq <= 4, subgroups, heaps fit) or flat_fused with the block shape
   * for the batch size. Pipelines are cached by compile-time facts only; sizes are uniforms.
   */
  scorerFor(nq: number, k: number, exact = false): ScorerChoice {
    // exact: only scorers whose keys are the rows' inner products (an uncertified f32 list again).
    for (const s of exact ? [] : chunkScorers) {
      if (s.accepts(this.info, nq, k)) {
        const shape = s.shape(this.info, nq, k);
        // A two-pass scan loads whole blocks of 16 rows: tiles of fewer go to the other scorers.
        if (shape.twoPass && (!s.twoPass || this.tiles.some((t) => t.rows > 0 && t.rows < 16))) continue;
        const key = `ext:${s.name}:${shape.key}`;
        const prep = shape.prep && s.prepass ? this.lazyPipeline({ ...shape.prep }, `ext:${s.name}:prep:${shape.key}`, () => s.prepass!(this.ctx.device, this.info, nq, k)) : undefined;
        const approximate = shape.approximate && (this.layout.precision === 'f16' || this.layout.precision === 'f32') ? { approximate: shape.approximate } : {};
        // Two-pass: `pipeline` is its scan, made with the other three.
        const twoPass = shape.twoPass ? this.twoPassPipelines(shape.twoPass, key, () => s.twoPass!(this.ctx.device, this.info, nq, k)) : undefined;
        return this.lazyPipeline({ BR: shape.BR, BQ: shape.BQ, key, target: shape.targetWorkgroups, prep, scratch: shape.scratch, ...approximate, ...(twoPass ? { twoPass } : {}), ...(shape.digits ? { digits: true, digitsSource: digitsOf(s, shape.digitsSource) } : {}) }, key, () => (twoPass ? twoPass.pipelines.scan : s.pipeline(this.ctx.device, this.info, nq, k)));
      }
    }
    const prec = PREC_CODE[this.layout.precision];
    const metric = this.layout.metric === 'ip' ? 0 : 1;
    const dpw = DIMS_PER_WORD[this.layout.precision] / 4;
    const f16 = this.nativeF16;
    const kf = heapSlots(k);
    const nsg = this.maxSubgroups;
    // int8 ip: decode folded into the queries (q * step, plus q . vmin per query): one multiply-add per code.
    const fold = this.layout.precision === 'int8' && this.layout.metric === 'ip' && this.sqHost !== undefined ? 1 : 0;
    // int8 ip, few queries: integer dot products on the codes (shaders/int8_gemv.wgsl, src/gpu/int8-gemv.ts).
    if (fold && this.ctx.hasSubgroups && !this.layout.noSubgroups) {
      const plan = planInt8Gemv({ rowWords: this.rowWords, subgroupMinSize: this.subgroupMinSize, hasDot4: this.hasDot4, maxWorkgroupStorage: this.ctx.maxWorkgroupStorage }, nq, kf);
      if ('NQ' in plan) {
        const key = int8GemvKey(plan);
        const scratch = int8GemvScratch(plan, nq) || undefined;
        const choice = this.lazyPipeline({ BR: 1, BQ: plan.NQ, key, quant: plan.QB, target: plan.target, scratch, boundWords: plan.SHB > 0 }, key, () => int8GemvPipeline(this.ctx.device, plan));
        return Object.assign(choice, { multiTile: (tiles: number) => this.pipeline(`${key}:x${tiles}`, () => int8GemvPipeline(this.ctx.device, plan, undefined, tiles)), tilesKnob: 'int8GemvTiles' as const });
      }
    }
    // gemvMultiFrom-16 queries (kernelTuning.gemvMulti): each row read once for the whole batch.
    const mt = kernelTuning;
    const multi = this.multiPlan(nq, k);
    if (multi) {
      const key = gemvMultiKey(multi, prec, metric, f16, kf);
      const make = (tiles: number) => () => gemvMultiPipeline(this.ctx.device, multi, prec, metric, (src) => wgslVariant(src, f16), tiles);
      const target = (prec === 1 && multi.NQ === 4 && mt.h4target) || mt.mtarget || Infinity;
      const choice = this.lazyPipeline({ BR: 1, BQ: multi.QB, key, target: Math.min(target, mt.targetWorkgroups), ...(multi.QP ? { halves: true } : {}), ...(multi.DYN ? { claims: true } : {}), ...(multi.QX ? { blocksFirst: true } : {}) }, key, make(1));
      return Object.assign(choice, { multiTile: (tiles: number) => this.pipeline(`${key}:x${tiles}`, make(tiles)), tilesKnob: 'gemvMultiTiles' as const });
    }
    if (nq <= 4 && this.ctx.hasSubgroups && !this.layout.noSubgroups && nsg * 4 * kf * 8 <= this.ctx.maxWorkgroupStorage) {
      // f16 (hru / huw 0): rows of 3+ words a lane, one row with the lane's whole share in flight
      // (measured at d = 768); shorter rows two rows of one word (as before, not re-measured).
      // f32 and int8: ru rows of 8 / ru words (f32: 0.93 ms against 1.26 for 2 x 4, H200 run 2).
      const half = this.layout.precision === 'f16';
      const share = Math.ceil(this.rowWords / Math.max(1, this.subgroupMaxSize ?? 32));
      const ru = Math.max(1, Math.min(8, half ? kernelTuning.hru || (share >= 3 ? 1 : 2) : kernelTuning.ru));
      // ru x uw <= 16 words in flight a lane (f32's uw 0 keeps its measured 8 / ru).
      const uw = Math.max(1, Math.min(Math.floor(16 / ru), (half ? kernelTuning.huw || (share >= 3 ? share : 1) : kernelTuning.uw) || Math.floor(8 / ru)));
      const pf = half ? kernelTuning.hpf : kernelTuning.pf;
      // Batched reduction (one row a pass, nq = 1 only, chosen in the shader): a power of two <= 32 (a
      // subgroup smaller than tr takes a subgroupAdd a row there).
      const tr = ru === 1 ? Math.min(pow2Floor(Math.max(1, half ? kernelTuning.htr : kernelTuning.tr)), 32) : 1;
      const qreg = prec < 2 && tr > 1 && (half ? kernelTuning.hqr : kernelTuning.qr) ? 1 : 0;
      const key = `gemv:${prec}:${metric}:${f16 ? 'h' : 'p'}:${kf}:${nsg}:${qreg}:${ru}:${uw}:${fold}:${pf}:${tr}`;
      const constants = { PREC: prec, METRIC: metric, KF: kf, NSG: nsg, RU: ru, UW: uw, DPW: dpw, FOLD: fold, PF: pf, TR: tr, QREG: qreg };
      const make = (tiles: number) => () =>
        this.ctx.device.createComputePipeline({
          label: `flat_gemv ${this.layout.precision} ${this.layout.metric} KF=${kf}${tiles > 1 ? ` x${tiles} tiles` : ''}`,
          layout: 'auto',
          compute: { module: this.ctx.device.createShaderModule({ label: 'flat_gemv', code: gemvTilesSource(wgslVariant(gemvWgsl, f16), tiles) }), entryPoint: 'main', constants },
        });
      const choice = this.lazyPipeline({ BR: 1, BQ: 4, key, fold: fold === 1, target: (half && nq === 1 && kernelTuning.gemvTargetF16) || undefined }, key, make(1));
      return Object.assign(choice, { multiTile: (tiles: number) => this.pipeline(`${key}:x${tiles}`, make(tiles)), tilesKnob: 'gemvTiles' as const });
    }
    const pick = pickFusedShape(nq, kf, this.ctx.maxWorkgroupStorage, this.ctx.device.limits.maxComputeInvocationsPerWorkgroup, this.layout.precision, k);
    if (!pick) throw new TesseraError('INVALID_ARGUMENT', `k=${k} does not fit ${this.ctx.label}'s workgroup memory (${this.ctx.maxWorkgroupStorage} bytes): ask for fewer neighbours`);
    const g = pick.shape;
    const chain = kernelTuning.chain ? 1 : 0;
    const nosel = kernelTuning.nosel ? 1 : 0;
    const key = `fused:${prec}:${metric}:${f16 ? 'h' : 'p'}:${g.WX}x${g.WY}x${g.TR}x${g.TQ}:${pick.kc}:${pick.kf}:${pick.selp}:${chain}:${fold}:${pick.swz}:${nosel}:${pick.own}:${pick.cap}${pick.rot || pick.tsel ? `:r${pick.rot}:t${pick.tsel}x${pick.cq}` : ''}`;
    const make = () =>
      this.ctx.device.createComputePipeline({
        label: `flat_fused ${this.layout.precision} ${this.layout.metric} ${g.WX}x${g.WY} ${g.TQ}x${g.TR} KF=${kf}`,
        layout: 'auto',
        compute: {
          module: this.ctx.device.createShaderModule({ label: 'flat_fused', code: wgslVariant(fusedWgsl, f16) }),
          entryPoint: 'main',
          constants: { PREC: prec, METRIC: metric, ...g, KC: pick.kc, KF: pick.kf, SELP: pick.selp, SMV: pick.smv, DPW: dpw, CHAIN: chain, FOLD: fold, SWZ: pick.swz, NOSEL: nosel, OWN: pick.own, CAP: pick.cap, ROT: pick.rot, TSEL: pick.tsel, CQ: pick.cq },
        },
      });
    const f32Target = nq >= LARGE_MIN_BATCH && kernelTuning.gemmTargetL ? kernelTuning.gemmTargetL : kernelTuning.gemmTarget;
    const gemmTarget = this.layout.precision === 'f16' && !kernelTuning.f16Cls ? kernelTuning.gemmTargetF16 : this.layout.precision !== 'int8' ? f32Target : 0;
    // 17..47 queries (f32 classes): gemmTargetM where set, else targetWorkgroups.
    const midTarget = nq > 16 && this.layout.precision !== 'int8' && (this.layout.precision === 'f32' || kernelTuning.f16Cls) ? kernelTuning.gemmTargetM : 0;
    const target = nq >= GEMM_MIN_BATCH && gemmTarget ? gemmTarget : midTarget || undefined;
    return this.lazyPipeline({ BR: g.WX * g.TR, BQ: g.WY * g.TQ, key, fold: fold === 1, target }, key, make);
  }

  /**
   * A scorer choice (or its pre-pass) whose pipeline compiles when first read, not when chosen:
   * batchLimit and batchPlan weigh the shapes of batch sizes they may not dispatch (64 queries at
   * k = 500 within a plan for 64 at k = 100 go in batches of 12: flat_fused's 48+ class was compiled
   * for nothing, 0.1-0.2 s a kernel on the H200). Searches and warmUp compile what they use (compile).
   */
  private lazyPipeline<T extends object>(choice: T, key: string, make: () => GPUComputePipeline): T & { readonly pipeline: GPUComputePipeline } {
    return Object.defineProperty(choice, 'pipeline', { get: () => this.pipeline(key, make), enumerable: true }) as T & { readonly pipeline: GPUComputePipeline };
  }

  /** A two-pass scorer's pipelines, made once a shape key (all four at once), when first read. */
  private readonly twoPassCache = new Map<string, TwoPassPipelines>();
  private twoPassPipelines(shape: TwoPassShape, key: string, make: () => TwoPassPipelines): TwoPassShape & { readonly pipelines: TwoPassPipelines } {
    return Object.defineProperty({ ...shape }, 'pipelines', {
      get: () => {
        let made = this.twoPassCache.get(key);
        if (!made) this.twoPassCache.set(key, (made = make()));
        return made;
      },
      enumerable: true,
    }) as TwoPassShape & { readonly pipelines: TwoPassPipelines };
  }

  /** Compiles a chosen scorer's pipelines now (before a search takes the submit lock; warmUp). */
  private compile(scorer: ScorerChoice): ScorerChoice {
    void scorer.twoPass?.pipelines;
    void scorer.pipeline;
    void scorer.prep?.pipeline;
    return scorer;
  }

  /**
   * Compiles the pipelines a search for k (<= ntotal) uses, for each batch class of fusedShapes /
   * flat_gemv / int8_gemv (NQ 1, 2, 4, 8, 16) and of the f16 two-pass scan (query blocks of 16, 32,
   * 48, 64) up to maxBatch (the index's GpuFlatOptions.maxBatch: no larger batch reaches the shard,
   * so their classes would be compiled for nothing). k may depend on the batch size (the index asks
   * approximate batches for k' candidates, the others for k: GpuFlatIndex.gpuK); certifyK is the
   * caller's k, which tiles past the digit planes select exactly (candLayout's exactK).
   */
  warmUp(k: number | ((nq: number) => number), maxBatch = MAX_BATCH, certifyK?: number): void {
    this.ctx.check();
    const kOf = typeof k === 'number' ? () => k : k;
    // The rows' magnitudes every search checks its queries against (GpuFlatIndex.checkScoreRange).
    if (this.layout.precision !== 'int8' && this.ntotal > 0) {
      this.rangePipeline();
      this.rowMagnitudes().catch(() => undefined);
    }
    const sizes = [1, 2, 4, 8, 16, 32, GEMM_MIN_BATCH - 1, GEMM_MIN_BATCH, 64, LARGE_MIN_BATCH];
    // flat_gemv_multi with mpart: a pipeline for each batch size of 2-16 (classes elsewhere share one).
    if (kernelTuning.mpart) sizes.push(...Array.from({ length: 15 }, (_, i) => i + 2));
    // The k of each batch class compiled (their merges below).
    const ks = new Set<number>();
    for (const nq of new Set(sizes.map((n) => Math.min(n, maxBatch)))) {
      const k = kOf(nq);
      if (k > this.kLimit) continue; // such a search fails before compiling anything
      ks.add(k);
      const scorer = this.scorerFor(nq, k);
      const { approximate, digits, digitsSource } = scorer;
      if (scorer.multiTile) {
        // flat_gemv's (flat_gemv_multi's, int8_gemv's) pipelines for this batch's tiles, as
        // searchBatch lays them out (the one-tile pipeline only where a tile goes alone).
        const layout = (lists: number) => this.candLayout(nq, k, scorer, k, false, lists);
        const lists = this.listBudget(layout, nq, k);
        const { plan, scorerOf, rest } = layout(lists);
        this.compileRuns(nq, k, scorer, scorerOf, plan.shared, !!rest, lists);
      } else this.compile(scorer);
      if (!approximate) continue;
      // Tiles past the planned digit planes: their exact kernels (for the caller's k, as candLayout
      // dispatches them) and the pass that widens their lists.
      if (digits && this.unplannedRows) {
        this.compile(this.scorerFor(nq, Math.min(certifyK ?? k, k), true));
        this.widenPipeline();
      }
      this.rerankPipeline();
      const stepMode = stepModeOf(approximate);
      if (!stepMode) continue;
      this.rangePipeline();
      if (digitsSource) this.digitsPipeline(digitsSource);
      // The code steps (and digit planes) of these rows, made now rather than by the first search;
      // planes that do not fit are refused here, said once, and searches go on without them.
      this.ensureSteps(stepMode, digitsSource).catch((e: unknown) => void this.refuseDigits(e));
    }
    for (const k of ks) {
      this.mergePipeline(Math.max(pow2Ceil(k), 2 * SELECT_WG));
      const one = this.mergeOnePlan(1, k);
      if (one) this.pipeline(mergeOneKey(one), () => mergeOnePipeline(this.ctx.device, one));
    }
  }

  /** merge_one's buffer for a batch (kernelTuning.mergeOne, up to mergeOneMaxBatch queries, k fits), else undefined: merge_lists. */
  private mergeOnePlan(nqb: number, k: number): MergeOnePlan | undefined {
    if (!kernelTuning.mergeOne || nqb > kernelTuning.mergeOneMaxBatch) return undefined;
    return planMergeOne(k, this.ctx.maxWorkgroupStorage, kernelTuning.mergeOneSlots);
  }

  /**
   * Whether a batch of nq queries for k takes an approximate scorer (f16 or f32 rows through the
   * tensor cores, re-ranked exactly from the rows): the index then asks for k' candidates.
   */
  approximateFor(nq: number, k: number): boolean {
    // (Digit planes refused: f32's scorer declines, f16's converts its rows; info says which.)
    if ((this.layout.precision !== 'f16' && this.layout.precision !== 'f32') || k > this.kLimit) return false;
    for (const s of chunkScorers) if (s.accepts(this.info, nq, k)) return !!s.shape(this.info, nq, k).approximate;
    return false;
  }

  /** Pipelines compiled so far, a two-pass scorer's set of four counted once more (tests: a warmed-up shard compiles none at search). */
  get pipelineCount(): number {
    return this.pipelines.size + this.twoPassCache.size;
  }

  /** flat_gemv_multi's plan for a batch of nq queries (f32 / f16, kernelTuning.gemvMulti), or undefined where it does not take it. */
  private multiPlan(nq: number, k: number): GemvMultiPlan | undefined {
    const prec = PREC_CODE[this.layout.precision];
    const mt = kernelTuning;
    if (!(nq >= Math.max(2, Math.min(5, mt.gemvMultiFrom)) && prec < 2 && mt.gemvMulti & ((prec + 1) << (nq > 8 ? 2 : 0)) && this.ctx.hasSubgroups && !this.layout.noSubgroups)) return undefined;
    const facts = { rowWords: this.rowWords, q4: this.q4, subgroupSize: this.subgroupMinSize === this.subgroupMaxSize ? this.subgroupMaxSize : undefined, maxWorkgroupStorage: this.ctx.maxWorkgroupStorage };
    return planGemvMulti(facts, nq, heapSlots(k), multiKnobs(prec, nq));
  }

  /** What a ChunkScorer may know about this shard. */
  get info(): ShardInfo {
    return {
      d: this.layout.d, metric: this.layout.metric, precision: this.layout.precision, rowWords: this.rowWords, q4: this.q4, features: this.ctx.device.features, adapter: this.ctx.adapter,
      approximateF16: this.layout.f16TensorCores !== false, f16TwoPass: this.layout.f16TwoPass === true, approximateF32: this.layout.f32TensorCores !== false && this.digitPlanes, digitPlanes: this.digitPlanes,
      multiTakes: (nq, k) => this.multiPlan(nq, k) !== undefined,
    };
  }

  /** The rows' range a dimension (row_range.wgsl), for the approximate scorers' code steps and the score-range check. */
  private rangePipeline(): GPUComputePipeline {
    const f16 = this.layout.precision === 'f16';
    return this.pipeline(`row_range:${f16 ? 'h' : 'f'}`, () => rangePipeline(this.ctx.device, f16));
  }

  /** The pass that writes the rows' digit planes (tensor/digits-source.ts digitsSource). */
  private digitsPipeline(digitsSource: DigitsSource): GPUComputePipeline {
    const device = this.ctx.device;
    const dp = this.q4 * 4;
    const precision = this.layout.precision === 'f32' ? 'f32' : 'f16';
    return this.pipeline(`digits:${precision}:${dp}`, () =>
      device.createComputePipeline({ label: 'digit planes', layout: 'auto', compute: { module: device.createShaderModule({ label: 'digit planes', code: digitsSource(dp, precision) }), entryPoint: 'main' } }),
    );
  }

  /** list_widen.wgsl: exact tiles' lists of the caller's k into a mixed batch's lists of k'. */
  private widenPipeline(): GPUComputePipeline {
    return this.pipeline('list_widen', () =>
      this.ctx.device.createComputePipeline({ label: 'list_widen', layout: 'auto', compute: { module: this.ctx.device.createShaderModule({ label: 'list_widen', code: widenWgsl }), entryPoint: 'main' } }),
    );
  }

  /** The exact re-rank of approximate lists for this shard's rows (approx_rerank.wgsl). */
  private rerankPipeline(): GPUComputePipeline {
    const f16 = this.layout.precision === 'f16';
    return this.pipeline(`approx_rerank:${f16 ? 'h' : 'f'}`, () => rerankPipeline(this.ctx.device, f16));
  }

  private mergePipeline(kp: number): GPUComputePipeline {
    return this.pipeline(`merge_lists:${kp}`, () => {
      const module = this.ctx.device.createShaderModule({ label: 'topk_select', code: expandWgslIncludes(selectWgsl) });
      return this.ctx.device.createComputePipeline({
        label: `merge_lists KP=${kp}`,
        layout: 'auto',
        compute: { module, entryPoint: 'merge_lists', constants: { KP: kp } },
      });
    });
  }

  /** int8 ip: q * step per dimension, then the nq biases q . vmin (padded to a vec4). */
  private foldQueries(queries: Float32Array, nq: number): Float32Array {
    const dp = this.q4 * 4;
    const sq = this.sqHost!;
    const out = new Float32Array(nq * dp + Math.ceil(nq / 4) * 4);
    for (let q = 0; q < nq; q++) {
      let bias = 0;
      for (let j = 0; j < dp; j++) {
        const x = queries[q * dp + j]!;
        out[q * dp + j] = x * sq[dp + j]!;
        bias += x * sq[j]!;
      }
      out[nq * dp + q] = bias;
    }
    return out;
  }

  /** A scratch buffer at least `size` bytes, reused across searches. */
  private async scratchBuffer(name: keyof FlatShard['scratch'], size: number, usage: number): Promise<GPUBuffer> {
    const have = this.scratch[name];
    if (have && have.size >= size) return have;
    this.forgetBinds();
    have?.destroy();
    const b = await this.ctx.createBuffer({ label: `tessera scratch ${name}`, size: Math.max(16, Math.ceil(size / 16) * 16), usage });
    this.scratch[name] = b;
    return b;
  }

  /**
   * Frees the batch scratch (queries, candidate lists, the two-pass buffer); the next search
   * allocates it again. Only between searches: benchmarks use it to see whether a timing follows
   * where the scratch lands in memory (bench/gpu-flat --fresh-scratch).
   */
  dropScratch(): void {
    this.forgetBinds();
    for (const b of Object.values(this.scratch)) b?.destroy();
    this.scratch = {};
  }

  /** Cached bind groups and uniform words name buffers by identity: drop them when one is reallocated. */
  private forgetBinds(): void {
    this.binds.clear();
    this.lastParams = undefined;
  }

  /** Bytes of temporary GPU memory this shard holds now (queries, candidate lists, readback, uniforms). */
  get tempBytes(): number {
    return Object.values(this.scratch).reduce((s, b) => s + (b?.size ?? 0), 0) + this.slots.reduce((s, x) => s + (x.buffer?.size ?? 0), 0);
  }

  /** Waits for earlier searches to finish preparing and submitting; returns the release. */
  private async lockSubmit(): Promise<() => void> {
    const before = this.submitting;
    let release!: () => void;
    this.submitting = new Promise<void>((r) => (release = r));
    await before;
    return release;
  }

  /**
   * The next readback slot (ring of searchTuning.readbackSlots), once the search that used it last
   * has read it and unmapped (never reused while mapped or pending); grown to `bytes` if needed.
   * Called under the submit lock, so slots are taken in submission order. free() hands it back.
   */
  private async takeSlot(bytes: number): Promise<{ slot: ReadSlot; free: () => void }> {
    const n = Math.max(1, Math.min(MAX_READBACK_SLOTS, Math.floor(searchTuning.readbackSlots) || 1));
    const i = this.slotNext % n;
    this.slotNext = (i + 1) % n;
    const slot = (this.slots[i] ??= { idle: Promise.resolve() });
    await slot.idle;
    let free!: () => void;
    slot.idle = new Promise<void>((r) => (free = r));
    try {
      if (!slot.buffer || slot.buffer.size < bytes) {
        slot.buffer?.destroy();
        slot.buffer = undefined;
        slot.buffer = await this.ctx.createBuffer({ label: `tessera readback ${i}`, size: Math.max(16, Math.ceil(bytes / 16) * 16), usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
      }
      if (this.timer && !slot.tsRead) slot.tsRead = this.ctx.device.createBuffer({ label: `tessera timestamps ${i}`, size: 16, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
    } catch (e) {
      free();
      throw e;
    }
    return { slot, free };
  }

  /**
   * Tiles one flat_gemv / flat_gemv_multi / int8_gemv dispatch scores from tile t
   * (its knob, tilesKnob): 1, or t and the following tiles of its rows and scorer (multiTile),
   * the last of them possibly smaller (an index's partial last tile: its ids follow full tiles, so
   * a smaller tile ends the group), where the batch's lists share one region (each tile's lists land
   * where its own dispatch puts them), not for an exact tile of a mixed batch (its own lists,
   * widened). Tile i > 0 is storage binding 4 + i beside 1-4, so a device of fewer storage buffers
   * a stage than 3 + tiles (acquireDevice asks for the adapter's, at most 8) takes fewer; at most
   * 65535 workgroups along x, the tiles' segments (segsOf) together.
   */
  private gemvRun(t: number, segsOf: (t: number) => number, scorer: ScorerChoice, scorerOf: (tile: Tile) => ScorerChoice, shared: boolean, mixed: boolean): number {
    const tile = this.tiles[t]!;
    const sc = scorerOf(tile);
    const most = this.gemvTilesMost(sc);
    if (!(most > 1) || !shared || !sc.multiTile || sc.digits || (sc !== scorer && mixed)) return 1;
    let n = 1;
    let groups = segsOf(t);
    while (n < most) {
      const next = this.tiles[t + n];
      if (!next || next.rows === 0 || next.rows > tile.rows || scorerOf(next) !== sc) break;
      groups += segsOf(t + n);
      if (groups > 65535) break;
      n++;
      if (next.rows < tile.rows) break;
    }
    return n;
  }

  /** Most tiles a flat_gemv (flat_gemv_multi, int8_gemv) dispatch takes here: its kernelTuning knob (gemvTiles, gemvMultiTiles, int8GemvTiles; 0: MAX_GEMV_TILES, 1 on a software adapter) within MAX_GEMV_TILES and the device's storage buffers a stage (3 + tiles). */
  private gemvTilesMost(sc: ScorerChoice): number {
    const knob = kernelTuning[sc.tilesKnob ?? 'gemvTiles'];
    const wanted = knob === 0 ? (this.ctx.software ? 1 : MAX_GEMV_TILES) : Math.floor(knob);
    return Math.min(MAX_GEMV_TILES, wanted, this.ctx.device.limits.maxStorageBuffersPerShaderStage - (sc.claims ? 4 : 3));
  }

  /**
   * Compiles the scorer pipelines a batch dispatches (its pre-pass, each tile's scorer, the gemv kernels'
   * multi-tile ones: gemvRun): before the submit lock, and at warmUp. A scorer's one-tile pipeline
   * only where some tile goes alone: with every tile in a group (its knob above 1) it never runs.
   */
  private compileRuns(nqb: number, k: number, scorer: ScorerChoice, scorerOf: (tile: Tile) => ScorerChoice, shared: boolean, mixed: boolean, lists: number): void {
    void scorer.prep?.pipeline;
    for (let t = 0; t < this.tiles.length; ) {
      const tile = this.tiles[t]!;
      const sc = scorerOf(tile);
      const segsOf = (i: number) => this.segmentPlan(this.tiles[i]!.rows, nqb, k, sc.BR, sc.BQ, sc.target, lists).nseg;
      // One tile a dispatch (its knob 1, a software adapter, or lists not shared): no segment plans to weigh on every batch.
      const grouped = shared && !!sc.multiTile && this.gemvTilesMost(sc) > 1;
      const n = tile.rows === 0 || !grouped ? 1 : this.gemvRun(t, segsOf, scorer, scorerOf, shared, mixed);
      if (n > 1) sc.multiTile!(n);
      else if (tile.rows > 0) this.compile(sc);
      t += n;
    }
  }

  /**
   * Segments (workgroups along rows) of a tile of `rows` rows for a batch: about targetWorkgroups
   * workgroups a dispatch, at most `lists` bytes of candidate lists (scratchBytes, or less where
   * listBudget keeps a large k within the plan's candCap), at least one list per query.
   */
  segmentPlan(rows: number, nq: number, k: number, BR: number, BQ: number, target = kernelTuning.targetWorkgroups, lists = this.scratchBytes): { segLen: number; nseg: number } {
    const qBlocks = Math.ceil(nq / BQ);
    const blocks = Math.ceil(rows / BR);
    // Rounded down: the dispatch stays within the target (a second wave of a few workgroups costs
    // a whole wave's time: 272 workgroups ran 1.36x slower than 528 at nq = 1024, H200 run 4).
    const byTarget = Math.max(1, Math.floor(target / qBlocks));
    const byBytes = Math.floor(lists / (nq * k * 8));
    const want = Math.max(1, Math.min(byTarget, byBytes, blocks, 65535));
    const segLen = Math.ceil(blocks / want) * BR;
    return { segLen, nseg: Math.ceil(rows / segLen) };
  }

  /**
   * Candidate pairs a batch needs. When every tile's lists fit the budget together they share
   * region A and are merged once at the end (fewest dispatches: what few-query searches need);
   * else region A holds the largest tile's lists and each tile is merged into the running list.
   * B holds the first merge level, then the running list (nq x k) follows.
   */
  private candPlan(nqb: number, k: number, scorerOf: (tile: Tile) => { BR: number; BQ: number; target?: number; twoPass?: unknown }, scratch = 0, floors = false, lists = this.scratchBytes): { a: number; b: number; total: number; shared: boolean; segs: number[] } {
    const segs = this.tiles.map((t) => {
      if (t.rows === 0) return 0;
      const { BR, BQ, target, twoPass } = scorerOf(t);
      // A two-pass scorer writes one list a query a tile.
      return twoPass ? 1 : this.segmentPlan(t.rows, nqb, k, BR, BQ, target, lists).nseg;
    });
    const all = segs.reduce((x, y) => x + y, 0);
    const shared = nqb * all * k * 8 <= lists;
    const nseg = shared ? Math.max(1, all) : Math.max(1, ...segs);
    // A scorer's scratch (ChunkScorer.shape) follows the lists, inside its out binding.
    const a = nqb * nseg * k + scratch;
    // Region B: the first merge level's lists of the widest chain (merge_one's fan depends on the lists).
    const one = this.mergeOnePlan(nqb, k);
    const firstLevel = (n: number): number => Math.ceil(n / (one ? mergeOneFan(n, k, kernelTuning.mergeOneFan) : kernelTuning.mergeFanIn));
    const b = nqb * Math.max(firstLevel(nseg), ...(shared ? [] : segs.map(firstLevel))) * k;
    // floors: a pair a query after the final lists (the f32 certificate's floor, a two-pass scorer's overflow flag).
    return { a, b, total: a + b + nqb * k + (floors ? nqb : 0), shared, segs };
  }

  /** Largest query batch and the temporary bytes planned for it (queries, candidates, readback). */
  batchPlan(nq: number, k: number): { nqb: number; candBytes: number; tempBytes: number } {
    const nqb = Math.min(nq, MAX_BATCH);
    const scorer = this.scorerFor(nqb, k);
    const { prep, scratch, halves, twoPass } = scorer;
    const candBytes = this.candPlan(nqb, k, () => scorer, scratch, this.pairAfterLists(scorer)).total * 8;
    // halves: the queries a second time, in the scorer's order; a two-pass scorer's buffer of its own.
    return { nqb, candBytes, tempBytes: candBytes + nqb * this.q4 * 16 * (halves ? 2 : 1) + nqb * k * 8 + (prep?.bytes ?? 0) + (twoPass ? twoPassLayout(nqb, twoPass).bytes : 0) };
  }

  /** Whether a batch's lists are followed by a pair a query: the f32 certificate's floor, a two-pass scorer's overflow flag. */
  private pairAfterLists(scorer: ScorerChoice): boolean {
    return (!!scorer.approximate && this.layout.precision === 'f32') || !!scorer.twoPass;
  }

  /**
   * Exact top-k of padded queries (nq x q4*4 f32) over this shard's rows. onSubmitted: called once
   * the first batch's work is on the queue (the index re-ranks meanwhile).
   */
  async search(queries: Float32Array, nq: number, k: number, onSubmitted?: () => void, certifyK = k): Promise<ShardResult> {
    this.ctx.check();
    if (this.ntotal === 0) return { nq, k, keys: new Float32Array(nq * k).fill(-Infinity), ids: new Uint32Array(nq * k).fill(EMPTY_ID) };
    if (k > this.kLimit) {
      throw new TesseraError('INVALID_ARGUMENT', `k=${k} exceeds what ${this.ctx.label} selects on the GPU (${this.kLimit}): ask for fewer neighbours`);
    }
    const maxB = this.batchLimit(Math.min(nq, MAX_BATCH), k, certifyK);
    // One batch: its own arrays are the result (no copy into the padded ones).
    if (nq === maxB) return this.searchBatch(queries.subarray(0, nq * this.q4 * 4), nq, k, onSubmitted, certifyK);
    const keys = new Float32Array(nq * k);
    const ids = new Uint32Array(nq * k);
    for (let q0 = 0; q0 < nq; q0 += maxB) {
      const nqb = Math.min(maxB, nq - q0);
      const part = await this.searchBatch(queries.subarray(q0 * this.q4 * 4, (q0 + nqb) * this.q4 * 4), nqb, k, q0 === 0 ? onSubmitted : undefined, certifyK);
      keys.set(part.keys, q0 * k);
      ids.set(part.ids, q0 * k);
    }
    return { nq, k, keys, ids };
  }

  /**
   * The most queries (up to `most`) a batch of k may take within the plan's candidate and readback
   * bytes (candCap, readCap) at its fewest candidate lists (one a query a tile); `most` itself for
   * every k the plan counts, so only searches of larger k go in more batches. Results are the same:
   * each query's lists are its own.
   */
  private batchLimit(most: number, k: number, certifyK: number): number {
    let nqb = most;
    while (nqb > 1) {
      const scorer = this.scorerFor(nqb, k);
      const floors = this.pairAfterLists(scorer);
      const read = nqb * (k + (floors ? 1 : 0)) * 8;
      if (this.readCap !== undefined && read > this.readCap) {
        nqb = Math.max(1, Math.min(nqb - 1, Math.floor(this.readCap / ((k + 1) * 8))));
        continue;
      }
      if (this.candCap === undefined || this.candLayout(nqb, k, scorer, certifyK, floors, 0).total * 8 <= this.candCap) break;
      nqb = Math.ceil(nqb / 2);
    }
    return nqb;
  }

  /**
   * The candidate buffer of a batch (in pairs): candPlan's regions for a budget of `lists` bytes of
   * candidate lists, and for f32 tiles without digit planes beside tiles with them, their own lists
   * of exactK after everything (region X at xAt, 256-byte aligned: a binding's offset).
   */
  private candLayout(nqb: number, k: number, scorer: ScorerChoice, certifyK: number, floors: boolean, lists: number) {
    const exactK = Math.min(certifyK, k);
    const rest = scorer.digits && this.tiles.some((t) => t.rows > 0 && !t.digits) ? this.scorerFor(nqb, exactK, true) : undefined;
    const scorerOf = (tile: Tile): ScorerChoice => (rest && !tile.digits ? rest : scorer);
    const plan = this.candPlan(nqb, k, scorerOf, scorer.scratch, floors, lists);
    const widest = rest ? Math.max(0, ...this.tiles.map((t, i) => (t.rows > 0 && !t.digits ? plan.segs[i]! : 0))) : 0;
    const xAt = rest ? Math.ceil(plan.total / 32) * 32 : 0;
    const total = rest ? xAt + Math.max(1, nqb * widest * exactK) : plan.total;
    return { plan, rest, scorerOf, exactK, xAt, total };
  }

  /**
   * The budget of candidate-list bytes for a batch (segmentPlan): scratchBytes, or where that makes
   * the candidate buffer pass candCap (k above what the plan counts), the largest half of it that
   * does not, down to one list a query a tile (batchLimit sized the batch for that).
   */
  private listBudget(layout: (lists: number) => { total: number }, nqb: number, k: number): number {
    let lists = this.scratchBytes;
    while (this.candCap !== undefined && lists > 0 && layout(lists).total * 8 > this.candCap) lists = lists >= 2 * nqb * k * 8 ? Math.floor(lists / 2) : 0;
    return lists;
  }

  /**
   * certifyK: the k an f32 batch scored approximately must hold exactly (the caller's k, below the
   * k' it asks for); exact: the exact kernels only (the queries such a batch could not certify).
   */
  private async searchBatch(queries: Float32Array, nqb: number, k: number, onSubmitted?: () => void, certifyK = k, exact = false): Promise<ShardResult> {
    const t0 = this.profile ? performance.now() : 0;
    let scorer = this.scorerFor(nqb, k, exact);
    let steps: CodeSteps | undefined;
    const version = this.rowsVersion;
    const asked = queries;
    // The code steps (and digit planes) the scorer's approximate keys need, if any.
    const stepsFor = (sc: ScorerChoice) => {
      const mode = stepModeOf(sc.approximate);
      return mode ? this.ensureSteps(mode, sc.digitsSource) : undefined;
    };
    try {
      steps = await stepsFor(scorer);
    } catch (e) {
      if (!this.refuseDigits(e)) throw e;
      scorer = this.scorerFor(nqb, k, exact);
      steps = await stepsFor(scorer);
    }
    const certify = steps && this.layout.precision === 'f32' ? { steps, k: certifyK } : undefined;
    // f32 tiles past the planned digit planes (digitTilesPlanned): the f32 kernels score them in this
    // batch for the caller's k (certifyK: a row of theirs outside their best k cannot be in the top
    // k), their lists widened to k' empty slots (list_widen.wgsl), merged with the others' and
    // re-ranked alike (a no-op for them). The certificate still holds: a row of the tensor tiles
    // outside the final list scores at most its floor.
    const layout = (lists: number) => this.candLayout(nqb, k, scorer, certifyK, this.pairAfterLists(scorer), lists);
    const lists = this.listBudget(layout, nqb, k);
    const { plan, rest, scorerOf, exactK, xAt, total } = layout(lists);
    // The pipelines this batch dispatches, compiled before the submit lock (other searches need not wait).
    this.compileRuns(nqb, k, scorer, scorerOf, plan.shared, !!rest, lists);
    if (rest && (rest.approximate || rest.scratch || rest.fold || rest.quant)) throw new Error(`tiles without digit planes need plain exact kernels, got ${rest.key}`);
    const { a: regionA, b: regionB, shared, segs } = plan;
    const kp = Math.max(pow2Ceil(k), 2 * SELECT_WG);
    if (scorer.fold) queries = this.foldQueries(queries, nqb);
    if (scorer.quant) queries = quantizeInt8Queries(queries, nqb, this.rowWords, this.sqHost!, scorer.quant);
    // From here to the submit one search at a time: searches share the scratch buffers, and every
    // buffer is in hand (the awaits) before the first queue write, so another search's writes land
    // before or after this one's submit in queue order, never between. Its GPU work may still run.
    const release = await this.lockSubmit();
    // Rows added since the code steps were made: make them again (the digits must cover every row scored).
    if (steps && version !== this.rowsVersion) {
      release();
      return this.searchBatch(asked, nqb, k, onSubmitted, certifyK, exact);
    }
    try {
      this.ctx.check();
      const result = this.submitBatch(queries, nqb, k, scorer, { regionA, regionB, total, shared, segs, kp, certify, scorerOf, lists, exact: rest ? { k: exactK, at: xAt } : undefined }, release, onSubmitted, t0);
      // f32: the lists not certified; two-pass: the queries whose candidates overflowed.
      return certify || scorer.twoPass ? await this.searchUncertified(queries, await result, certify?.k ?? certifyK) : await result;
    } finally {
      release(); // idempotent: submitBatch releases once its work is on the queue
    }
  }

  /** The queries of a batch whose lists were not certified (f32) or whose two-pass candidates overflowed (ShardResult.uncertified), searched again with the exact kernels and put in place. */
  private async searchUncertified(queries: Float32Array, result: ShardResult, certifyK: number): Promise<ShardResult> {
    const failed = result.uncertified ?? [];
    this.uncertifiedQueries += failed.length;
    if (failed.length === 0) return result;
    const w = this.q4 * 4;
    const again = new Float32Array(failed.length * w);
    failed.forEach((q, i) => again.set(queries.subarray(q * w, (q + 1) * w), i * w));
    const exact = await this.searchBatch(again, failed.length, result.k, undefined, certifyK, true);
    failed.forEach((q, i) => {
      result.keys.set(exact.keys.subarray(i * result.k, (i + 1) * result.k), q * result.k);
      result.ids.set(exact.ids.subarray(i * result.k, (i + 1) * result.k), q * result.k);
    });
    return result;
  }

  /** Queries sent back to the exact kernels (f32 lists the certificate did not pass, two-pass candidates that overflowed), since this shard was made (tests, benchmarks). */
  uncertifiedQueries = 0;

  private async submitBatch(
    queries: Float32Array,
    nqb: number,
    k: number,
    scorer: ScorerChoice,
    plan: { regionA: number; regionB: number; total: number; shared: boolean; segs: number[]; kp: number; certify?: { steps: CodeSteps; k: number }; scorerOf?: (tile: Tile) => ScorerChoice; lists?: number; exact?: { k: number; at: number } },
    release: () => void,
    onSubmitted?: () => void,
    t0 = 0,
  ): Promise<ShardResult> {
    const device = this.ctx.device;
    const { regionA, regionB, total, shared, segs, kp, certify } = plan;
    // The scorer of each tile: `scorer`, or the exact kernels for f32 tiles without digit planes.
    const scorerOf = plan.scorerOf ?? (() => scorer);
    const qBuf = await this.scratchBuffer('queries', queries.byteLength, BufferUsage.STORAGE | BufferUsage.COPY_DST);
    const candBytes = total * 8;
    const cand = await this.scratchBuffer('cand', candBytes, BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST);
    // certify: each query's floor pair (approx_rerank.wgsl floorAt) follows the final lists; two-pass: its overflow flag.
    const tp = scorer.twoPass;
    const readBytes = (nqb * k + (certify || tp ? nqb : 0)) * 8;
    const tpLayout = tp ? twoPassLayout(nqb, tp) : undefined;
    const tpBuf = tpLayout ? await this.scratchBuffer('twoPass', tpLayout.bytes, BufferUsage.STORAGE | BufferUsage.COPY_DST) : undefined;
    const sq = this.sqBuffer ?? (await this.dummySq());
    const prepBuf = scorer.prep ? await this.scratchBuffer('prep', scorer.prep.bytes, BufferUsage.STORAGE) : undefined;
    // The scorer's own order of the queries (flat_gemv_multi's QP; the re-rank and exact tiles read qBuf).
    const halvesBuf = scorer.halves ? await this.scratchBuffer('halves', queries.byteLength, BufferUsage.STORAGE | BufferUsage.COPY_DST) : undefined;
    // flat_gemv_multi's claim counters (DYN), where a tile's scorer claims: zero when created, and
    // each dispatch leaves them at zero.
    const claims = this.tiles.some((t) => scorerOf(t).claims) ? await this.scratchBuffer('claims', CLAIM_COUNTERS * 4, BufferUsage.STORAGE | BufferUsage.COPY_SRC) : undefined;
    // Workgroups (segments, query blocks), or the blocks first (blocksFirst).
    const grid = (sc: ScorerChoice, segments: number): [number, number] => (sc.blocksFirst ? [Math.ceil(nqb / sc.BQ), segments] : [segments, Math.ceil(nqb / sc.BQ)]);
    const claimsBind = (sc: ScorerChoice): GPUBindGroupEntry[] => (sc.claims ? [{ binding: CLAIMS_BINDING, resource: { buffer: claims! } }] : []);
    const runAt = regionA + regionB;
    const one = this.mergeOnePlan(nqb, k);

    // Fused dispatches into region A, then merge levels A -> B -> A ... with the last one folding
    // into the running list: once at the end when all tiles' lists share A, else after each tile.
    // Each dispatch's params sit at their own 256-byte slot.
    // key: what the bind entries hold besides buffer identities (the bind group cache's key).
    interface Step { pipeline: GPUComputePipeline; params: number[]; bind: (u: GPUBufferBinding) => GPUBindGroupEntry[]; groups: [number, number]; key: string }
    const steps: Step[] = [];
    let merged = 0;
    const totalSegs = segs.reduce((x, y) => x + y, 0);
    // One list a query in all (TwoPassShape.directList: the two-pass scan of a shard's only tile, as
    // every tile with rows has a segment at least): its selection writes the final lists where the
    // merges would, unordered (sortLists orders them).
    const directList = tp?.directList === true && k <= DIRECT_LIST_MOST && totalSegs === 1;
    // merge_one's threshold starts from int8_gemv's shared bound words (the first of its scratch).
    const boundAt = one && scorer.boundWords && scorer.scratch ? int8GemvBoundAt(regionA, scorer.scratch) : 0;
    const mergeChain = (lists: number): void => {
      const fan = one ? mergeOneFan(lists, k, kernelTuning.mergeOneFan) : kernelTuning.mergeFanIn;
      const pipeline = one ? this.pipeline(mergeOneKey(one), () => mergeOnePipeline(device, one)) : this.mergePipeline(kp);
      let nIn = lists;
      let inAt = 0;
      for (;;) {
        const nOut = Math.ceil(nIn / fan);
        const last = nOut === 1;
        const outAt = last ? runAt : inAt === 0 ? regionA : 0;
        const hasRunning = last && merged > 0 ? 1 : 0;
        steps.push({
          pipeline,
          params: [nqb, nIn, fan, nOut, k, inAt, outAt, runAt, hasRunning, boundAt],
          bind: (u) => [
            { binding: 0, resource: u },
            { binding: 1, resource: { buffer: cand, offset: 0, size: candBytes } },
          ],
          groups: [nOut, nqb],
          key: `m:${candBytes}`,
        });
        if (last) break;
        nIn = nOut;
        inAt = outAt;
      }
      merged++;
    };
    if (scorer.prep && prepBuf) {
      steps.push({
        pipeline: scorer.prep.pipeline,
        params: [nqb, 0, this.rowWords, this.q4, k, 0, 0, 0, 0],
        bind: (u) => [
          { binding: 0, resource: u },
          { binding: 1, resource: { buffer: qBuf, offset: 0, size: queries.byteLength } },
          { binding: 2, resource: { buffer: sq } },
          { binding: 3, resource: { buffer: prepBuf, offset: 0, size: scorer.prep!.bytes } },
        ],
        groups: scorer.prep.groups,
        key: `p:${queries.byteLength}:${scorer.prep.bytes}`,
      });
    }
    // With a pre-pass the scorer reads its output in place of the queries.
    const scorerQueries: GPUBufferBinding = prepBuf ? { buffer: prepBuf, offset: 0, size: scorer.prep!.bytes } : { buffer: halvesBuf ?? qBuf, offset: 0, size: queries.byteLength };
    // Two-pass (TwoPassShape): the sample over the first tile and the thresholds, before the tiles.
    const tpRange = (part: keyof TwoPassLayout['parts']): GPUBufferBinding => ({ buffer: tpBuf!, offset: tpLayout!.parts[part].at, size: tpLayout!.parts[part].bytes });
    // The two-pass bindings' ranges, for the bind group cache's keys.
    const tpKey = tpLayout ? Object.values(tpLayout.parts).map((x) => `${x.at}+${x.bytes}`).join(',') : '';
    if (tp && tpLayout) {
      // The sample spread over the tiles (each its share of the workgroups, its warps' bests after
      // the previous tiles'): rows in an order that drifts (a file sorted by topic) still give each
      // query a threshold near its k'-th best over all of them.
      const samples = twoPassSamples(this.tiles.map((t) => t.rows), tp);
      let warpsBefore = 0;
      for (const sample of samples) {
        const tile = this.tiles[sample.tile]!;
        const tileRows: GPUBufferBinding = { buffer: tile.buffer, offset: 0, size: tile.capacity * this.rowBytes };
        steps.push({
          pipeline: tp.pipelines.sample,
          params: [tile.rows, 1, sample.stride, warpsBefore],
          bind: (u) => [
            { binding: 0, resource: u },
            { binding: 1, resource: tileRows },
            { binding: 2, resource: scorerQueries },
            { binding: 3, resource: tpRange('bests') },
          ],
          groups: [sample.workgroups * (tp.sampleSplit ? tp.warps : 1), 1],
          key: `2s:${sample.tile}:${tileRows.size}:${scorerQueries.size}:${tpKey}`,
        });
        warpsBefore += sample.workgroups * tp.warps;
      }
      steps.push({
        pipeline: tp.pipelines.threshold,
        params: [nqb, warpsBefore, 0, 0, 0],
        bind: (u) => [
          { binding: 0, resource: u },
          { binding: 1, resource: tpRange('bests') },
          { binding: 2, resource: tpRange('thresholds') },
        ],
        groups: [tpLayout.nqPad, 1],
        key: `2t:${tpKey}`,
      });
    }
    let idBase = 0;
    let segAt = 0;
    // The tiles scored, with their first id and bound size (the f16 re-rank below takes them again).
    const scored: { tile: Tile; t: number; idBase: number; size: number }[] = [];
    for (let t = 0; t < this.tiles.length; ) {
      const tile = this.tiles[t]!;
      if (tile.rows === 0) {
        t++;
        continue;
      }
      const sc = scorerOf(tile);
      const { segLen, nseg } = this.segmentPlan(tile.rows, nqb, k, sc.BR, sc.BQ, sc.target, plan.lists);
      const buf = tile.buffer;
      const size = tile.capacity * this.rowBytes;
      // The scorer's queries (the pre-pass's output, or the split halves); exact kernels read qBuf.
      const tileQueries: GPUBufferBinding = sc === scorer ? scorerQueries : { buffer: qBuf, offset: 0, size: queries.byteLength };
      const queriesTag = sc === scorer && prepBuf ? 'p' : sc === scorer && halvesBuf ? 'h' : 'q';
      if (sc.twoPass && tp && tpLayout) {
        // Its scan appends the candidates, its selection writes the tile's one list a query (at its
        // segment), flags overflows and resets the counts for the next tile.
        scored.push({ tile, t, idBase, size });
        const scan = twoPassScan(tile.rows, tp);
        const rowsBound: GPUBufferBinding = { buffer: buf, offset: 0, size };
        steps.push({
          pipeline: sc.pipeline,
          params: [tile.rows, scan.blocks, 16 * scan.blocks, idBase],
          bind: (u) => [
            { binding: 0, resource: u },
            { binding: 1, resource: rowsBound },
            { binding: 2, resource: scorerQueries },
            { binding: 3, resource: tpRange('candidates') },
            { binding: 4, resource: tpRange('thresholds') },
            { binding: 5, resource: tpRange('counts') },
          ],
          groups: [scan.workgroups, 1],
          key: `2c:${t}:${size}:${scorerQueries.size}:${tpKey}`,
        });
        const listsPerQuery = shared ? totalSegs : 1;
        // Pairs from the buffer's start to query 0's list (directList: the final lists').
        const listAt = directList ? runAt : (shared ? segAt : 0) * k;
        steps.push({
          pipeline: tp.pipelines.select,
          params: [nqb, 0, listAt, listsPerQuery * k, runAt + nqb * k],
          bind: (u) => [
            { binding: 0, resource: u },
            { binding: 1, resource: tpRange('candidates') },
            { binding: 2, resource: tpRange('counts') },
            { binding: 3, resource: { buffer: cand, offset: 0, size: candBytes } },
            { binding: 4, resource: tpRange('thresholds') },
          ],
          groups: [nqb, 1],
          key: `2d:${tpKey}:${candBytes}`,
        });
        if (!shared && !directList) mergeChain(1);
        idBase += tile.rows;
        segAt += segs[t]!;
        t++;
        continue;
      }
      // Each tile of a group keeps its own segments (candPlan's segs, which placed its lists): a
      // smaller last tile its own segment length too.
      const group = this.tiles.slice(t, t + this.gemvRun(t, (i) => segs[i]!, scorer, scorerOf, shared, !!plan.exact));
      if (group.length > 1) {
        const bound = group.map((g) => ({ buffer: g.buffer, offset: 0, size: g.capacity * this.rowBytes }));
        group.forEach((g, i) => scored.push({ tile: g, t: t + i, idBase: idBase + i * tile.rows, size: bound[i]!.size }));
        const lastTile = group[group.length - 1]!;
        const last = this.segmentPlan(lastTile.rows, nqb, k, sc.BR, sc.BQ, sc.target, plan.lists);
        const groupSegs = group.reduce((n, _, i) => n + segs[t + i]!, 0);
        steps.push({
          pipeline: sc.multiTile!(group.length),
          params: [nqb, tile.rows, this.rowWords, this.q4, k, segLen, totalSegs, idBase, segAt, lastTile.rows, last.segLen],
          bind: (u) => [
            { binding: 0, resource: u },
            { binding: 1, resource: bound[0]! },
            { binding: 2, resource: tileQueries },
            { binding: 3, resource: { buffer: sq } },
            { binding: 4, resource: { buffer: cand, offset: 0, size: regionA * 8 } },
            ...bound.slice(1).map((b, i) => ({ binding: 5 + i, resource: b })),
            ...claimsBind(sc),
          ],
          groups: grid(sc, groupSegs),
          key: `tg:${t}:${group.length}:${bound.map((b) => b.size).join(',')}:${queriesTag}:${queries.byteLength}:${regionA}:${sc.key}`,
        });
        idBase += tile.rows * (group.length - 1) + lastTile.rows;
        segAt += groupSegs;
        t += group.length;
        continue;
      }
      scored.push({ tile, t, idBase, size });
      // Scorers of digit planes read them (the re-rank below reads the rows).
      const scoredRows: GPUBufferBinding = sc.digits ? { buffer: tile.digits!, offset: 0, size: tile.digits!.size } : { buffer: buf, offset: 0, size };
      // An exact tile of a mixed batch (plan.exact): its lists of exact.k at exact.at, then widened into region A.
      const own = sc !== scorer && plan.exact ? plan.exact : undefined;
      const listsAt: GPUBufferBinding = own ? { buffer: cand, offset: own.at * 8, size: Math.max(1, nqb * nseg * own.k) * 8 } : { buffer: cand, offset: 0, size: regionA * 8 };
      steps.push({
        pipeline: sc.pipeline,
        params: own ? [nqb, tile.rows, this.rowWords, this.q4, own.k, segLen, nseg, idBase, 0] : [nqb, tile.rows, this.rowWords, this.q4, k, segLen, shared ? totalSegs : nseg, idBase, shared ? segAt : 0],
        bind: (u) => [
          { binding: 0, resource: u },
          { binding: 1, resource: scoredRows },
          { binding: 2, resource: tileQueries },
          { binding: 3, resource: { buffer: sq } },
          { binding: 4, resource: listsAt },
          ...claimsBind(sc),
        ],
        groups: grid(sc, nseg),
        key: `t:${t}:${size}:${sc.digits ? 'g' : 'r'}:${queriesTag}:${tileQueries.size}:${listsAt.offset}:${listsAt.size}:${sc.key}`,
      });
      if (own) {
        steps.push({
          pipeline: this.widenPipeline(),
          params: [nqb, nseg, own.k, k, own.at, shared ? totalSegs : nseg, shared ? segAt : 0, 0],
          bind: (u) => [
            { binding: 0, resource: u },
            { binding: 1, resource: { buffer: cand, offset: 0, size: candBytes } },
          ],
          groups: dispatchGrid(Math.ceil((nqb * nseg * k) / 256)),
          key: `w:${candBytes}`,
        });
      }
      if (!shared) mergeChain(nseg);
      idBase += tile.rows;
      segAt += segs[t]!;
      t++;
    }
    if (shared && !directList) mergeChain(totalSegs);
    if (scorer.approximate) {
      // The final lists' keys rewritten with the exact inner products, tile by tile (each
      // dispatch takes the candidates among its rows).
      const rerank = this.rerankPipeline();
      for (const { tile, t, idBase: tileBase, size } of scored) {
        steps.push({
          pipeline: rerank,
          params: rerankParams(nqb, k, tile.rows, this.rowWords, this.q4, tileBase, runAt, certify ? runAt + nqb * k : 0),
          bind: (u) => [
            { binding: 0, resource: u },
            { binding: 1, resource: { buffer: tile.buffer, offset: 0, size } },
            { binding: 2, resource: { buffer: qBuf, offset: 0, size: queries.byteLength } },
            { binding: 3, resource: { buffer: cand, offset: 0, size: candBytes } },
          ],
          groups: [k, nqb],
          key: `r:${t}:${size}:${queries.byteLength}:${candBytes}`,
        });
      }
    }
    const uniforms = await this.scratchBuffer('uniforms', steps.length * UNIFORM_STRIDE, BufferUsage.UNIFORM | BufferUsage.COPY_DST);
    const { slot, free } = await this.takeSlot(readBytes);
    const readback = slot.buffer!;
    const ts = this.timer;
    // Per-step timestamps where there is room for every step's pair (else the whole pass's, as without).
    const perStep = this.stepTimer && steps.length <= this.stepTimer.pairs ? this.stepTimer : undefined;
    let stepRead: GPUBuffer | undefined;
    const prof = this.profile;
    let t1 = 0;
    let t2 = 0;
    try {
      // No await from here to the submit (see searchBatch).
      if (prof) prof('shard_prep', t0, (t1 = performance.now()));
      device.queue.writeBuffer(qBuf, 0, queries.buffer, queries.byteOffset, queries.byteLength);
      if (halvesBuf) device.queue.writeBuffer(halvesBuf, 0, splitQueryHalves(queries, this.q4));
      if (this.layout.debugPoison) {
        // A NaN key and an id no shard has: any pair the kernels fail to write stands out.
        const poison = new Uint32Array(cand.size / 4);
        for (let i = 0; i < poison.length; i += 2) { poison[i] = 0x7fbadbad; poison[i + 1] = 0xdeadbeef; }
        device.queue.writeBuffer(cand, 0, poison);
      }
      const params = new Uint32Array((steps.length * UNIFORM_STRIDE) / 4);
      const enc = device.createCommandEncoder({ label: 'tessera flat search' });
      // The scorer's scratch (the last pairs of region A) starts each batch zeroed.
      if (scorer.scratch) enc.clearBuffer(cand, (regionA - scorer.scratch) * 8, scorer.scratch * 8);
      // Floors start unwritten (0, 0): a list that is not full holds every row. Overflow flags start clear.
      if (certify || tp) enc.clearBuffer(cand, (runAt + nqb * k) * 8, nqb * 8);
      // Two-pass counts start at 0 (each tile's selection leaves them so).
      if (tpBuf && tpLayout) enc.clearBuffer(tpBuf, tpLayout.parts.counts.at, tpLayout.parts.counts.bytes);
      // One compute pass for the batch; with per-step timestamps (enableStepTimestamps) a pass a step, each timed.
      const passOf = (i: number): GPUComputePassDescriptor =>
        perStep ? { timestampWrites: { querySet: perStep.set, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } } : ts ? { timestampWrites: { querySet: ts.set, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } } : {};
      let pass: GPUComputePassEncoder | undefined;
      steps.forEach((st, i) => {
        params.set(st.params, (i * UNIFORM_STRIDE) / 4);
        pass ??= enc.beginComputePass(passOf(i));
        pass.setPipeline(st.pipeline);
        pass.setBindGroup(0, this.bindGroup(st, i, uniforms));
        pass.dispatchWorkgroups(st.groups[0], st.groups[1]);
        if (perStep) {
          pass.end();
          pass = undefined;
        }
      });
      pass?.end();
      if (perStep) {
        enc.resolveQuerySet(perStep.set, 0, 2 * steps.length, perStep.resolve, 0);
        stepRead = device.createBuffer({ label: 'tessera step timestamps', size: 16 * steps.length, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
        enc.copyBufferToBuffer(perStep.resolve, 0, stepRead, 0, 16 * steps.length);
      }
      enc.copyBufferToBuffer(cand, runAt * 8, readback, 0, readBytes);
      if (ts && slot.tsRead && !perStep) {
        enc.resolveQuerySet(ts.set, 0, 2, ts.resolve, 0);
        enc.copyBufferToBuffer(ts.resolve, 0, slot.tsRead, 0, 16);
      }
      if (!this.sameParams(params)) device.queue.writeBuffer(uniforms, 0, params);
      const commands = enc.finish();
      if (prof) prof('shard_encode', t1, (t2 = performance.now()));
      device.queue.submit([commands]);
      if (prof) prof('shard_submit', t2, (t2 = performance.now()));
    } catch (e) {
      free();
      throw e;
    }
    release();
    onSubmitted?.();
    let pairs: Uint32Array;
    try {
      await this.map(readback);
      if (ts && slot.tsRead && !perStep) {
        await this.map(slot.tsRead);
        const t = new BigUint64Array(slot.tsRead.getMappedRange(0, 16).slice(0));
        this.gpuNs += Number(t[1]! - t[0]!);
      }
      if (perStep && stepRead) {
        await this.map(stepRead);
        const t = new BigUint64Array(stepRead.getMappedRange(0, 16 * steps.length).slice(0));
        steps.forEach((st, i) => {
          const label = st.pipeline.label || st.key.split(':')[0]!;
          this.stepNs.set(label, (this.stepNs.get(label) ?? 0) + Number(t[2 * i + 1]! - t[2 * i]!));
        });
        // The batch's GPU time: the first step's start to the last one's end (gaps between passes included).
        if (ts) this.gpuNs += Number(t[2 * steps.length - 1]! - t[0]!);
      }
      if (prof) prof('shard_map', t2, (t2 = performance.now()));
      pairs = new Uint32Array(readback.getMappedRange(0, readBytes).slice(0));
    } finally {
      // Unmapped here on success and failure alike: a mapped slot would fail the next search's copy.
      if (readback.mapState === 'mapped') readback.unmap();
      if (slot.tsRead?.mapState === 'mapped') slot.tsRead.unmap();
      stepRead?.destroy();
      free();
    }
    this.ctx.check();
    const keys = new Float32Array(nqb * k);
    const ids = new Uint32Array(nqb * k);
    const keyBits = new Uint32Array(keys.buffer);
    for (let i = 0; i < nqb * k; i++) {
      keyBits[i] = pairs[2 * i]!;
      ids[i] = pairs[2 * i + 1]!;
    }
    if (scorer.approximate) sortLists(keys, ids, nqb, k);
    const uncertified = certify
      ? uncertifiedF32({ queries, q4: this.q4, nq: nqb, kp: k, k: certify.k, keys, ids, floors: pairs.subarray(2 * nqb * k), steps: certify.steps.steps, maxima: certify.steps.maxima, centres: certify.steps.centres })
      : tp
        ? Array.from({ length: nqb }, (_, q) => q).filter((q) => pairs[2 * (nqb * k + q)] !== 0)
        : undefined;
    if (prof) prof('shard_unpack', t2);
    return { nq: nqb, k, keys, ids, ...(uncertified ? { uncertified } : {}) };
  }

  /** A step's bind group, cached by its uniform slot, pipeline and entries (searchTuning.cacheBinds). */
  private bindGroup(st: { pipeline: GPUComputePipeline; bind: (u: GPUBufferBinding) => GPUBindGroupEntry[]; key: string }, i: number, uniforms: GPUBuffer): GPUBindGroup {
    const make = () => this.ctx.device.createBindGroup({ layout: st.pipeline.getBindGroupLayout(0), entries: st.bind({ buffer: uniforms, offset: i * UNIFORM_STRIDE, size: 48 }) });
    if (!searchTuning.cacheBinds) return make();
    const key = `${i}:${st.key}`;
    const hit = this.binds.get(key);
    if (hit && hit.pipeline === st.pipeline) return hit.group;
    if (this.binds.size >= 4096) this.binds.clear(); // many batch shapes: start over rather than grow
    const group = make();
    this.binds.set(key, { pipeline: st.pipeline, group });
    return group;
  }

  /** Whether the uniform buffer already holds these words (written by the last search, not reallocated since); remembers them if not. */
  private sameParams(params: Uint32Array): boolean {
    const last = this.lastParams;
    if (searchTuning.cacheBinds && last && last.length === params.length) {
      let i = 0;
      while (i < params.length && last[i] === params[i]) i++;
      if (i === params.length) return true;
    }
    this.lastParams = searchTuning.cacheBinds ? params : undefined;
    return false;
  }

  /**
   * Host profile of each search batch (GpuFlatIndex.takeProfile, benchmarks): shard_prep (plan,
   * query quantisation, waiting for the submit lock and buffers), shard_encode (queue writes and
   * command encoding), shard_submit (the submit call), shard_map (submitted -> results mapped: GPU
   * time and the map round trip), shard_unpack (results copied out, unmapped, split).
   */
  profile: ((name: string, from: number, to?: number) => void) | undefined;

  /** Told once when this shard's digit planes cannot be allocated (digitsRefused); the index passes its onNotice. */
  onNotice: ((message: string) => void) | undefined;

  /** GPU timestamps around each search batch (profile mode, adapters with timestamp-query); each readback slot has its own MAP_READ copy. */
  private timer: TimestampPairs | undefined;
  /** Nanoseconds of GPU time of the searches since the last resetGpuTime (profile mode). */
  gpuNs = 0;

  /** Per-step timestamps (benchmarks): a query pair a step, for batches of at most `pairs` steps. */
  private stepTimer: TimestampPairs | undefined;
  /** Nanoseconds of GPU time per step's pipeline label since it was last cleared (enableStepTimestamps). */
  readonly stepNs = new Map<string, number>();

  private timestampPairs(pairs: number): TimestampPairs {
    const device = this.ctx.device;
    return {
      set: device.createQuerySet({ type: 'timestamp', count: 2 * pairs }),
      resolve: device.createBuffer({ size: 16 * pairs, usage: BufferUsage.QUERY_RESOLVE | BufferUsage.COPY_SRC }),
      pairs,
    };
  }

  /**
   * Times each step of a batch (each dispatch in a compute pass of its own, which may add a little
   * between them) into stepNs by its pipeline's label; a batch of more steps than `pairs` is timed
   * whole as before. False when the adapter has no timestamp-query.
   */
  enableStepTimestamps(pairs = 512): boolean {
    if (!this.ctx.hasTimestamps) return false;
    this.stepTimer ??= this.timestampPairs(pairs);
    return true;
  }

  /** Turns GPU timestamps on; false when the adapter has no timestamp-query. */
  enableTimestamps(): boolean {
    if (!this.ctx.hasTimestamps) return false;
    this.timer ??= this.timestampPairs(1);
    return true;
  }

  destroy(): void {
    for (const st of this.staging) st.buffer.destroy();
    this.staging = [];
    for (const t of [this.timer, this.stepTimer]) {
      t?.set.destroy();
      t?.resolve.destroy();
    }
    this.timer = undefined;
    this.stepTimer = undefined;
    // Both readback slots (a search still reading one fails with the device's error path).
    for (const slot of this.slots) {
      slot.buffer?.destroy();
      slot.tsRead?.destroy();
    }
    this.slots = [];
    this.forgetBinds();
    for (const t of this.tiles) {
      t.buffer.destroy();
      t.digits?.destroy();
    }
    this.tiles = [];
    for (const b of Object.values(this.scratch)) b?.destroy();
    this.scratch = {};
    this.sqBuffer?.destroy();
    this.sqBuffer = undefined;
    this.pipelines.clear();
  }
}

export { EMPTY_ID };
