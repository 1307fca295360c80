/**
 * int8_gemv (shaders/int8_gemv.wgsl): the int8 inner-product scorer for few queries on adapters
 * with subgroups and WGSL's packed_4x8_integer_dot_product. It plans the kernel's compile-time
 * facts, builds its pipeline (explicit layout: the shard binds the same five slots as for
 * flat_fused, binding 3 unused), and quantises a batch of queries into the kernel's integer form.
 * Elsewhere (no subgroups, no dot4I8Packed, L2, k too large for its candidate buffers) the shard keeps
 * flat_gemv / flat_fused with f32-decoded codes.
 */
import int8GemvWgsl from '../../shaders/int8_gemv.wgsl';
import { expandWgslIncludes } from './wgsl-include.js';
import { pow2Ceil, pow2Floor } from './pow2.js';
import { tilesSource, type TileRewrite } from './tiles-source.js';

/**
 * Knobs (benchmarks sweep them; the defaults are what the H200 measured best, BENCHMARKS gpu-int8).
 */
export const int8GemvTuning = {
  enabled: true,
  /**
   * Largest batch scored by int8_gemv (blocks of up to 16 queries a workgroup above 4). 4: at 16
   * queries it took 4.08 ms against 3.93 for flat_fused and 1.04 for the tensor scorer (run 1).
   */
  maxBatch: 4,
  /**
   * Query precision: 8 (one i8 part: the tensor scorer's query precision) or 16 (hi / lo i8 parts:
   * scores at f32 rounding of the f32-decoded kernels, twice the dot products). H200 gpu-int8 call
   * e4 (same call, 1M rows): 1 query 0.2394-0.2399 ms against 0.2431-0.2437, 2 queries 0.299
   * against 0.357, 4 queries 0.407 against 0.507; 21M x 1 3.92 against 3.96 ms. Recall@10 after
   * re-ranking: see BENCHMARKS gpu-int8 (the same as 16 in kprime.ts, and in the final call).
   */
  qbits: 8 as 8 | 16,
  /** Lanes a row (power of two, 4..32); 0: about 3 words a lane, within the smallest subgroup. */
  lanes: 0,
  /** Words a lane loads before using them; 0: all its words of a row (at most 8). */
  uw: 0,
  /**
   * Workgroups a tile's dispatch aims for; 0: the shard's default (kernelTuning.targetWorkgroups,
   * 512; H200 nq = 1: 256 / 384 / 1024 level or slower at 1M, 256 1.2x slower at 21M, gemv-2 / 3).
   */
  targetWorkgroups: 0,
  /**
   * The same for one query when targetWorkgroups is 0 (0: the shard's default). H200 gpu-int8 call
   * a3 (twice each, same call): 528 (4 workgroups on each of 132 SMs) against 512: scan 0.2249 /
   * 0.2249 against 0.2263-0.2276 ms at 1M, search 4.015 / 4.014 against 4.059 / 4.060 ms at 21M.
   */
  targetOne: 528,
  /**
   * Rows a lane scores an iteration (its loads of all of them in flight at once); 0: 2 where it fits.
   * H200 (nq = 1, 21M): 1 row 4.72 ms, 2 rows 4.25, 3 rows 7.41 (BENCHMARKS gpu-int8, runs gemv-2 / 3).
   */
  ru: 0,
  /**
   * Candidate buffer slots a query (power of two; the workgroup sorts it when it could overflow);
   * 0: pow2Ceil(4 (k' + rows an iteration)), where workgroup memory holds it (k' = 40 at d = 768
   * on the H200: 512). H200 run gemv-1 (nq = 1, k' = 40): 256 / 512 slots 0.33 ms at 1M, 2048 0.52
   * (one large sort at the end of each segment), 4096 0.72; 21M 4.26 ms at 512, 4.46 at 1024, 5.90
   * at 2048.
   */
  sp: 0,
  /**
   * Iterations between buffer checks (a workgroup barrier each); 0: about a quarter of the buffer's
   * room (3 at SP 512). Every iteration (1) measured level with it on the H200; 8 level or slower.
   */
  ci: 0,
  /**
   * 1: each lane keeps its query words in registers where they fit (one pass over the row); 0: reads
   * them each row (H200, 1M, first buffer default: 0.72 against 0.52 ms, run gemv-1).
   */
  qr: 1,
  /**
   * 1: one query's buffer sorted as soon as a check finds more than k' candidates, its sorts of
   * <= 256 slots in registers through subgroup shuffles (merge_one's order 2 sort); 0: sorts through
   * workgroup memory when the buffer could overflow. H200 gpu-int8 call a4 (twice each, same call):
   * 1M nq 1 0.2489 / 0.2484 ms against 0.2516-0.2518, 21M 4.046 / 4.040 against 4.112 / 4.085.
   */
  sgs: 1,
  /**
   * Shared-bound buckets a query (the shader's SHB; 0: off): workgroups publish lower bounds of each
   * query's k-th best key and skip rows below them, so far fewer rows enter the candidate buffers.
   * H200 call e14 (1M rows, 8-bit queries): 1 / 2 / 4 queries 0.224 / 0.301 / 0.399 ms against
   * 0.240 / 0.309 / 0.477 without; 4 / 16 buckets at one query level with 8.
   */
  share: 8,
  /**
   * Checks between a workgroup's reads of the bound word (staggered by segment; the shader's SHS).
   * H200 call e6, 1M rows: 4 queries 0.406 ms at 1 against 0.444 at 4 (0.478 without bounds),
   * 2 queries 0.299 against 0.303 (0.311); e14, 1 query: 0.2242 at 1, 0.2259 at 2, 0.2323 at 4.
   */
  shareEvery: 1,
  /**
   * 1: shared bounds for one query too; 0: only where a workgroup scores 2-16 queries. H200 call
   * e14: 1M x 1 0.2241-0.2243 ms against 0.2395-0.2399 without, 21M 3.723 against 3.918 (the
   * shader keeps every branch on the lane before the check's barrier: calls e2-e13 found one after
   * it made this scan 1.4-1.7x slower).
   */
  shareOne: 1,
};

/** What the choice depends on. */
export interface Int8GemvFacts {
  rowWords: number;
  /** The adapter's smallest subgroup size (undefined: unknown, 4 assumed). */
  subgroupMinSize: number | undefined;
  /** WGSL language feature packed_4x8_integer_dot_product (dot4I8Packed). */
  hasDot4: boolean;
  maxWorkgroupStorage: number;
}

/** Compile-time facts of one int8_gemv pipeline (the shader's overrides of the same names). */
export interface Int8GemvPlan {
  NQ: number;
  G: number;
  UW: number;
  QB: number;
  KF: number;
  /** Rows a lane scores an iteration. */
  RU: number;
  /** Candidate buffer slots a query (power of two >= KF + CI * (256 / G) * RU). */
  SP: number;
  /** Iterations between buffer checks. */
  CI: number;
  /** Query words in registers (1) or read each row (0). */
  QR: number;
  /** Early first sort and subgroup sorts (1: one query only) or not (0). */
  SGS: number;
  /**
   * Shared-bound buckets a query (0: none); with the bound words they take int8GemvScratch pairs at
   * the end of the out binding.
   */
  SHB: number;
  /** Checks between reads of the bound word. */
  SHS: number;
  target?: number;
}

const WG = 256;

/** The kernel for a batch of nq queries and k (list slots kf), or why the other kernels take it. */
export function planInt8Gemv(f: Int8GemvFacts, nq: number, kf: number): Int8GemvPlan | { reason: string } {
  const t = int8GemvTuning;
  if (!t.enabled) return { reason: 'int8_gemv disabled' };
  if (!f.hasDot4) return { reason: 'no packed_4x8_integer_dot_product in this WGSL implementation' };
  if (nq > t.maxBatch) return { reason: `batch ${nq} > ${t.maxBatch}` };
  const sgMin = f.subgroupMinSize ?? 4;
  if (sgMin < 4) return { reason: `subgroups of ${sgMin} lanes (4 needed)` };
  const cap = Math.min(32, pow2Floor(sgMin));
  const G = t.lanes ? Math.min(cap, pow2Floor(t.lanes)) : Math.max(4, Math.min(cap, pow2Floor(Math.max(1, Math.floor(f.rowWords / 3)))));
  if (G < 4) return { reason: `lanes a row ${G} < 4` };
  const NQ = Math.min(G, nq <= 4 ? pow2Ceil(nq) : nq <= 8 ? 8 : 16);
  const NV = Math.ceil(NQ / 4);
  const UW = t.uw ? Math.min(8, t.uw) : Math.min(8, Math.ceil(f.rowWords / G));
  const RU = Math.max(1, Math.min(t.ru || 2, Math.floor(4 / NV), Math.floor(16 / UW)));
  const QB = t.qbits === 8 ? 1 : 2;
  const P = (WG / G) * RU;
  // Workgroup memory: NQ buffers of SP (key, id) slots and NQ counts (+ one word).
  const fit = pow2Floor(Math.max(1, Math.floor((f.maxWorkgroupStorage - 4 * NQ - 16) / (8 * NQ))));
  const SP = Math.min(fit, pow2Ceil(t.sp || 4 * (kf + P)));
  if (SP < kf + P) return { reason: `candidate buffers of ${kf} + ${P} slots for ${NQ} queries do not fit ${f.maxWorkgroupStorage} bytes of workgroup memory` };
  const room = Math.floor((SP - kf) / P);
  const CI = Math.max(1, Math.min(room, t.ci || Math.max(1, Math.floor(room / 4))));
  const QR = t.qr && G * UW >= f.rowWords && NQ * QB * UW <= 12 ? 1 : 0;
  const target = t.targetWorkgroups || (nq === 1 && t.targetOne) || undefined;
  // One query only (2-4 queries keep the sorts measured with them).
  const SGS = t.sgs && NQ === 1 ? 1 : 0;
  const SHB = NQ > 1 || t.shareOne ? Math.max(0, Math.min(kf, Math.floor(t.share))) : 0;
  const SHS = Math.max(1, Math.floor(t.shareEvery));
  return { NQ, G, UW, QB, KF: kf, RU, SP, CI, QR, SGS, SHB, SHS, target };
}

/** Pipeline cache key: every compile-time fact. */
export function int8GemvKey(p: Int8GemvPlan): string {
  return `i8gemv:${p.NQ}:${p.G}:${p.UW}:${p.QB}:${p.KF}:${p.RU}:${p.SP}:${p.CI}:${p.QR}${p.SGS ? ':sgs' : ''}${p.SHB ? `:sh${p.SHB}e${p.SHS}` : ''}`;
}

/**
 * Pairs of scratch a batch of nq queries needs at the end of the out binding: the shared bounds'
 * SHB + 1 blocks of nq words rounded up to 32 (the bound words, then each bucket; see the shader).
 */
export function int8GemvScratch(p: Int8GemvPlan, nq: number): number {
  return p.SHB ? ((p.SHB + 1) * Math.ceil(nq / 32) * 32) / 2 : 0;
}

/**
 * Word offset of query 0's bound word in a buffer whose out binding ends at pair `outEnd` with
 * `scratch` pairs of int8GemvScratch: the scratch starts with the bound words (merge_one's
 * params.boundAt).
 */
export function int8GemvBoundAt(outEnd: number, scratch: number): number {
  return (outEnd - scratch) * 2;
}

/**
 * int8_gemv's loads and uses of the ids and lists for tilesSource. The scan reads the tile itself
 * (no loader functions). The shared bounds need no change for several tiles a dispatch: the bound
 * words and buckets sit at the end of the same out binding, zeroed once a batch and already shared
 * by a batch's one-tile dispatches, and a workgroup publishes into the bucket of its list's index
 * (segAt + its index in the dispatch, as a one-tile dispatch would), so distinct buckets still
 * come from distinct segments, each of its own rows (a smaller last tile's segments too: their
 * lists are its own, whatever their length).
 */
export const INT8_GEMV_TILES: TileRewrite = { kernel: 'int8_gemv', loaders: [], ids: 1, lists: 2, swaps: [['publish(li, seg,', 'publish(li, wid.x,', 2]] };

/**
 * `source`: the shader text (bench/gpu-int8/nq1.ts times diagnostic edits of it); `tiles`: tiles
 * of equal rows (the last may have fewer) a dispatch (kernelTuning.int8GemvTiles; tile t > 0 at binding 4 + t).
 */
export function int8GemvPipeline(device: GPUDevice, p: Int8GemvPlan, source: string = int8GemvWgsl, tiles = 1): GPUComputePipeline {
  const vis = 4; // GPUShaderStage.COMPUTE
  const layout = device.createBindGroupLayout({
    label: 'int8_gemv bindings',
    entries: [
      { binding: 0, visibility: vis, buffer: { type: 'uniform' } },
      { binding: 1, visibility: vis, buffer: { type: 'read-only-storage' } },
      { binding: 2, visibility: vis, buffer: { type: 'read-only-storage' } },
      { binding: 3, visibility: vis, buffer: { type: 'read-only-storage' } },
      { binding: 4, visibility: vis, buffer: { type: 'storage' } },
      ...Array.from({ length: tiles - 1 }, (_, i) => ({ binding: 5 + i, visibility: vis, buffer: { type: 'read-only-storage' as const } })),
    ],
  });
  return device.createComputePipeline({
    label: `int8_gemv NQ=${p.NQ} G=${p.G} QB=${p.QB} KF=${p.KF} RU=${p.RU} SP=${p.SP}${tiles > 1 ? ` x${tiles} tiles` : ''}`,
    layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }),
    compute: {
      module: device.createShaderModule({ label: 'int8_gemv', code: tilesSource(expandWgslIncludes(source), tiles, INT8_GEMV_TILES) }),
      entryPoint: 'main',
      constants: { KF: p.KF, NQ: p.NQ, G: p.G, UW: p.UW, QB: p.QB, RU: p.RU, SP: p.SP, CI: p.CI, QR: p.QR, SGS: p.SGS, SHB: p.SHB, SHS: p.SHS },
    },
  });
}

/** The integer form of one query: t_j with |t_j| <= 127 (qb 1) or 32639 (qb 2), scale and the key's constant. */
export interface QuantQuery {
  t: Int32Array;
  scale: number;
  /** q . vmin + 128 s sum_j t_j: key = s (sum_j t_j (c_j - 128)) + this. */
  bias: number;
}

/**
 * Quantises query `q` (dp = rowWords * 16 padded dims) against SQ params sq (vmin[dp] then
 * step[dp]): t_j = round(q_j step_j / s), s = max_j |q_j step_j| / T. Exported for the tests'
 * oracle: the kernel's key is s * sum_j t_j c_j + q . vmin up to f32 rounding.
 */
export function quantizeQuery(q: Float32Array, dp: number, sq: Float32Array, qb: number): QuantQuery & { vminDot: number } {
  const T = qb === 2 ? 32639 : 127;
  let m = 0;
  let vminDot = 0;
  for (let j = 0; j < dp; j++) {
    const y = Math.abs(q[j]! * sq[dp + j]!);
    if (y > m) m = y;
    vminDot += q[j]! * sq[j]!;
  }
  const s = m > 0 && Number.isFinite(m) ? m / T : 0;
  const t = new Int32Array(dp);
  let sum = 0;
  if (s > 0) {
    for (let j = 0; j < dp; j++) {
      const v = Math.max(-T, Math.min(T, Math.round((q[j]! * sq[dp + j]!) / s)));
      t[j] = v;
      sum += v;
    }
  }
  const scale = Math.fround(s);
  return { t, scale, bias: vminDot + 128 * scale * sum, vminDot };
}

/**
 * A batch of padded queries (nq x rowWords*16 f32) in the kernel's binding-2 form (see the shader):
 * per query and part rowWords vec4<u32> of packed i8, then (s, bias) per query. Returned as a
 * Float32Array view only because the shard uploads its queries as one; the bytes are integers.
 */
export function quantizeInt8Queries(queries: Float32Array, nq: number, rowWords: number, sq: Float32Array, qb: number): Float32Array {
  const dp = rowWords * 16;
  const codeWords = nq * qb * rowWords * 4;
  const u32 = new Uint32Array(codeWords + nq * 4);
  const bytes = new Int8Array(u32.buffer);
  const f32 = new Float32Array(u32.buffer);
  for (let q = 0; q < nq; q++) {
    const { t, scale, bias } = quantizeQuery(queries.subarray(q * dp, (q + 1) * dp), dp, sq, qb);
    const hiAt = q * qb * dp;
    for (let j = 0; j < dp; j++) {
      const v = t[j]!;
      if (qb === 2) {
        const lo = ((v + 128) & 255) - 128;
        bytes[hiAt + j] = (v - lo) / 256;
        bytes[hiAt + dp + j] = lo;
      } else {
        bytes[hiAt + j] = v;
      }
    }
    f32[codeWords + q * 4] = scale;
    f32[codeWords + q * 4 + 1] = bias;
  }
  return f32;
}
