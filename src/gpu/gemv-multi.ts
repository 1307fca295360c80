/**
 * flat_gemv_multi (shaders/flat_gemv_multi.wgsl): f32 / f16 scores of 2-16 queries with each row read
 * once for all of them, on adapters whose subgroups have one fixed size. Plans the kernel's
 * compile-time facts and builds its pipeline; the shard (flat-shard.ts scorerFor) picks it per
 * kernelTuning.gemvMulti and binds the same five slots as for flat_gemv.
 */
import multiWgsl from '../../shaders/flat_gemv_multi.wgsl';
import { pow2Ceil, pow2Floor } from './pow2.js';
import { tilesSource, type TileRewrite } from './tiles-source.js';

/** What the plan depends on. */
export interface GemvMultiFacts {
  rowWords: number;
  /** vec4 per (padded) query row. */
  q4: number;
  /** The adapter's subgroup size when fixed (subgroupMinSize === subgroupMaxSize), else undefined. */
  subgroupSize: number | undefined;
  maxWorkgroupStorage: number;
}

/** Knobs (kernelTuning's mru / muw / msp / mci, or hmru / hmuw for f16). */
export interface GemvMultiKnobs {
  ru: number;
  uw: number;
  sp: number;
  ci: number;
  /** 1: as many of the block's queries in workgroup memory as fit (all, 8, 4) beside the buffers. */
  qw: number;
  /** 1: batches of 9-16 queries as blocks of 8 (each reads the rows), else one block of 16. */
  split: number;
  /** 1: batches of 2-4 queries as a block of 4 (half the multiply-adds of a padded block of 8). */
  four?: number;
  /** 1: inner products as fma chains into the accumulators (FMAC), else dot then add. */
  fmac?: number;
  /** 1: a batch in one block multiplies only its real queries (NG, NQR), not the block's padding. */
  part?: number;
  /** 1 (f16 rows only): the queries as two half rows (splitQueryHalves), so a subgroup's query loads are contiguous. */
  qp?: number;
  /** Lanes a row (a power of two; 0: the subgroup's size): fewer let a subgroup's query loads serve several rows' groups at once. */
  lpr?: number;
  /** Iterations a chunk that workgroups claim from a counter a tile (DYN); 0: one segment each. */
  dyn?: number;
  /**
   * Free slots a query a check must leave for candidates past the room of CI iterations, in heap
   * slots (kf): CI is lowered (to 1 at least) until SP - kf - CI P >= free kf. 0: no such bound.
   */
  free?: number;
  /** 1: check and sort the buffers after the workgroup's first iteration too (FIRST). */
  first?: number;
  /** 1: a batch of several blocks (split) as query blocks on the grid's x (QX): each segment's blocks launched together, so the second reads its rows from L2. */
  qx?: number;
  /** 1: a batch of two blocks split evenly (QB = ceil(nq / 2) queries a block, each multiplying only those), not 8 + the rest padded to 8. */
  even?: number;
}

/** Compile-time facts of one pipeline (the shader's overrides of the same names). */
export interface GemvMultiPlan {
  NQ: number;
  SG: number;
  RU: number;
  UW: number;
  SP: number;
  CI: number;
  CF: number;
  /** Queries in workgroup memory (1): the first QN of the block, QS vec4 (1 when none). */
  QWG: number;
  QN: number;
  QS: number;
  /** 1: inner products as fma chains (the shader's FMAC). */
  FMAC: number;
  /** 1: the scorer reads the queries as splitQueryHalves orders them (the shader's QP). */
  QP: number;
  /** Groups of 4 queries multiplied (<= NQ / 4), and real queries in the last of them (the shader's NG, NQR). */
  NG: number;
  NQR: number;
  /** Lanes a row (<= SG; the shader's LPR). */
  LPR: number;
  /** Iterations a chunk claimed from the claim counters (binding CLAIMS_BINDING; 0: fixed segments), the shader's DYN. */
  DYN: number;
  /** 1: a check after the workgroup's first iteration sorts its buffers past k (the shader's FIRST). */
  FIRST: number;
  /** 1: query blocks on the grid's x (the shader's QX; the dispatch is blocks x segments). */
  QX: number;
  /** Queries a block (the shader's QB; NQ unless the batch is split evenly): the dispatch's blocks are ceil(nq / QB). */
  QB: number;
}

const WG = 256;

/**
 * The kernel for a batch of nq (2..16; kernelTuning.gemvMultiFrom) queries with heap slots kf, or undefined (the shard keeps
 * flat_fused): no fixed subgroup size of 8-128 lanes, or k too large for the candidate buffers.
 * RU (1, 2 or 4 rows) is halved until NQ buffers of kf + one iteration's rows fit the workgroup memory.
 * LPR lanes score a row (lpr, at least RU NQ / 8 so a lane ends with at most 8 totals; SG by default).
 */
export function planGemvMulti(f: GemvMultiFacts, nq: number, kf: number, t: GemvMultiKnobs): GemvMultiPlan | undefined {
  const SG = f.subgroupSize;
  if (!SG || SG < 8 || SG > 128 || pow2Floor(SG) !== SG || nq < 1 || nq > 16) return undefined;
  const NQ = nq <= 4 && t.four ? 4 : nq <= 8 || t.split ? 8 : 16;
  // Workgroup memory: NQ buffers of SP (key, id) slots, NQ counts and thresholds, one word, and the
  // staged queries (qw, where SP still holds kf + one iteration's rows).
  for (const QN of t.qw ? [NQ, 8, 4, 0].filter((n) => n <= NQ) : [0]) {
    const QWG = QN ? 1 : 0;
    const QS = QN ? QN * f.q4 : 1;
    const fit = pow2Floor(Math.max(1, Math.floor((f.maxWorkgroupStorage - 12 * NQ - 16 - 16 * QS) / (8 * NQ))));
    for (let RU = pow2Floor(Math.max(1, Math.min(t.ru || 4, 4))); RU >= 1; RU /= 2) {
      const LPR = Math.min(SG, Math.max((RU * NQ) / 8, pow2Floor(Math.max(1, t.lpr || SG))));
      const P = (WG / LPR) * RU;
      // By default the buffers a subgroup-wide row group would have (fewer lanes a row widen an
      // iteration, P, and 512-slot buffers were 1.3-1.5x slower: H100 h19, h32), at least kf + P.
      const SP = Math.min(fit, pow2Ceil(t.sp || Math.max(4 * (kf + (WG / SG) * RU), kf + P)));
      if (SP < kf + P) continue;
      const UW = Math.max(1, Math.min(t.uw || 2, 2, Math.ceil(f.rowWords / LPR)));
      const room = Math.floor((SP - kf) / P);
      // A check sorts when the room for CI more iterations is not free, so with k near SP / 2 every
      // check would sort the buffers after a few candidates: leave `free` kf for them.
      const sortFree = t.free ? Math.floor((SP - (1 + t.free) * kf) / P) : room;
      const CI = Math.max(1, Math.min(room, sortFree, t.ci || Math.floor(room / 4)));
      const QX = t.qx && nq > NQ ? 1 : 0;
      const QB = t.even && nq > NQ && nq <= 2 * NQ ? Math.ceil(nq / 2) : NQ;
      return { NQ, SG, RU, UW, SP, CI, CF: Math.max(1, (RU * NQ) / LPR), QWG, QN, QS, FMAC: t.fmac ? 1 : 0, QP: t.qp && f.q4 === 2 * f.rowWords ? 1 : 0, LPR, DYN: Math.max(0, Math.floor(t.dyn ?? 0)), FIRST: t.first ? 1 : 0, QX, QB, ...(QB < NQ ? realGroups(NQ, QB, true) : realGroups(NQ, nq, !!t.part)) };
    }
  }
  return undefined;
}

/**
 * The groups of 4 a block multiplies: with `part`, a batch within one block (nq <= NQ) multiplies
 * ceil(nq / 4) groups, the last with nq's remainder; otherwise (or a batch of several blocks, whose
 * last alone is partial) all NQ / 4, padding included.
 */
function realGroups(NQ: number, nq: number, part: boolean): { NG: number; NQR: number } {
  if (!part || nq > NQ) return { NG: NQ / 4, NQR: 4 };
  const NG = Math.ceil(nq / 4);
  return { NG, NQR: nq - 4 * (NG - 1) };
}

/** The queries a plan multiplies: NQ, or fewer for a partial block (realGroups). */
const realQueries = (p: GemvMultiPlan): number => 4 * (p.NG - 1) + p.NQR;

/** Pipeline cache key: every compile-time fact. */
export function gemvMultiKey(p: GemvMultiPlan, prec: number, metric: number, f16: boolean, kf: number): string {
  return `gemvm:${prec}:${metric}:${f16 ? 'h' : 'p'}:${kf}:${p.NQ}:${p.SG}:${p.RU}:${p.UW}:${p.SP}:${p.CI}:${p.QS}${p.FMAC ? ':fma' : ''}${p.QP ? ':qp' : ''}${p.LPR < p.SG ? `:l${p.LPR}` : ''}${realQueries(p) < p.NQ ? `:g${p.NG}r${p.NQR}` : ''}${p.DYN ? `:dyn${p.DYN}` : ''}${p.FIRST ? ':f1' : ''}${p.QX ? ':qx' : ''}${p.QB < p.NQ ? `:b${p.QB}` : ''}`;
}

/**
 * The queries (rows of q4 vec4, q4 even: f16 rows of q4 / 2 words) as two half rows each: vec4 2w + h
 * at h * q4 / 2 + w. Lane l of a subgroup scores word w = l (+ SG, ...) of a row, which takes query
 * vec4 2w and 2w + 1: in the row order its loads are 32 bytes apart, each touching twice the cache
 * lines it uses; split, each load of the subgroup's is one contiguous run.
 */
export function splitQueryHalves(queries: Float32Array, q4: number): Float32Array<ArrayBuffer> {
  const half = q4 / 2;
  const out = new Float32Array(queries.length);
  for (let row = 0; row < queries.length; row += q4 * 4) {
    for (let w = 0; w < half; w++) {
      for (let h = 0; h < 2; h++) {
        const from = row + (2 * w + h) * 4;
        out.set(queries.subarray(from, from + 4), row + (h * half + w) * 4);
      }
    }
  }
  return out;
}

/**
 * flat_gemv_multi's loads and uses of the ids and lists for tilesSource; the dynamic chunks (DYN)
 * count the workgroup's own tile's rows and workgroups, and claim from its own counter.
 */
export const GEMV_MULTI_TILES: TileRewrite = {
  kernel: 'flat_gemv_multi',
  loaders: ['word'],
  ids: 1,
  lists: 1,
  swaps: [
    ['let dynRows = params.rows;', 'let dynRows = tileRows;', 1],
    ['let dynSegLen = params.segLen;', 'let dynSegLen = tileSegLen;', 1],
    ['let dynTile = 0u;', 'let dynTile = tileSel;', 1],
  ],
};

/** The claim counters' binding (after the multi-tile kernels' tiles at 5-7). */
export const CLAIMS_BINDING = 8;
/** Claim counters a shard keeps: one a (query block, tile of the dispatch), at query block * 8 + tile. */
export const CLAIM_COUNTERS = 32;

/** The shader's `//@CLAIMS` marker: the counters and their two functions with DYN, else stubs that are never called. */
function withClaims(src: string, dyn: boolean): string {
  const fns = dyn
    ? [
        `@group(0) @binding(${CLAIMS_BINDING}) var<storage, read_write> claims: array<atomic<u32>, ${CLAIM_COUNTERS}>;`,
        'fn claimChunk(c: u32) -> u32 { return atomicAdd(&claims[c], 1u); }',
        'fn resetClaims(c: u32) { atomicStore(&claims[c], 0u); }',
      ]
    : ['fn claimChunk(c: u32) -> u32 { return 0u; }', 'fn resetClaims(c: u32) {}'];
  const parts = src.split('//@CLAIMS');
  if (parts.length !== 2) throw new Error(`flat_gemv_multi: expected one '//@CLAIMS' marker, found ${parts.length - 1}`);
  return parts.join(fns.join('\n'));
}

/** `tiles`: tiles of equal rows (the last may have fewer) a dispatch (kernelTuning.gemvMultiTiles; tile t > 0 at binding 4 + t). */
export function gemvMultiPipeline(device: GPUDevice, p: GemvMultiPlan, prec: number, metric: number, code: (src: string) => string, tiles = 1): GPUComputePipeline {
  return device.createComputePipeline({
    label: `flat_gemv_multi NQ=${p.NQ} RU=${p.RU} UW=${p.UW} SP=${p.SP} QS=${p.QS}${p.FMAC ? ' fma' : ''}${p.QP ? ' qp' : ''}${p.LPR < p.SG ? ` LPR=${p.LPR}` : ''}${realQueries(p) < p.NQ ? ` ${realQueries(p)} real` : ''}${p.DYN ? ` dyn${p.DYN}` : ''}${p.FIRST ? ' first' : ''}${p.QX ? ' qx' : ''}${p.QB < p.NQ ? ` ${p.QB} a block` : ''}${tiles > 1 ? ` x${tiles} tiles` : ''}`,
    layout: 'auto',
    compute: {
      module: device.createShaderModule({ label: 'flat_gemv_multi', code: tilesSource(withClaims(code(multiWgsl), !!p.DYN), tiles, GEMV_MULTI_TILES) }),
      entryPoint: 'main',
      constants: { PREC: prec, METRIC: metric, NQ: p.NQ, SG: p.SG, RU: p.RU, UW: p.UW, DPW: prec === 1 ? 2 : 1, SP: p.SP, CI: p.CI, CF: p.CF, QWG: p.QWG, QN: p.QN, QS: p.QS, FMAC: p.FMAC, QP: p.QP, LPR: p.LPR, NG: p.NG, NQR: p.NQR, DYN: p.DYN, FIRST: p.FIRST, QX: p.QX, QB: p.QB },
    },
  });
}
