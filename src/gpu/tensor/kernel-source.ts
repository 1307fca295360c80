/**
 * WGSL for the int8 scoring kernels: fills the templates shaders/int8_mma_select.wgsl and
 * shaders/int8_mma_merge.wgsl with compile-time constants and the tile-scoring body, either on
 * subgroup matrices (Dawn's chromium_experimental_subgroup_matrix: the tensor cores) or on
 * dot4I8Packed / dot4U8Packed. Everything here is a compile-time fact; sizes go in uniforms.
 */
import mergeTemplate from '../../../shaders/int8_mma_merge.wgsl';
import selectTemplate from '../../../shaders/int8_mma_select.wgsl';
import hookTemplate from '../../../shaders/int8_mma_hook.wgsl';
import prepTemplate from '../../../shaders/int8_mma_prep.wgsl';
import stagedTemplate from '../../../shaders/int8_mma_staged.wgsl';
import { expandWgslIncludes } from '../wgsl-include.js';
// The f16-to-code conversion, shared with the digit-plane pass (digits-source.ts, which every shard loads).
import { F16_CODES } from './digits-source.js';

/** How subgroupMatrixLoad/Store take the layout: a bool argument (older Dawn) or a template enum. */
export type MatrixSyntax = 'bool-arg' | 'template-enum';

/**
 * How this driver reads 8-bit subgroup matrices, found by bench/gpu-tensor's probe: the stride
 * multiplier and the layout flags that make the kernel equal the CPU integer reference.
 * Default: { strideMul: 1, leftColMajor: false, rightColMajor: true } (the extension's semantics).
 */
export interface MatrixQuirk {
  strideMul: number;
  leftColMajor: boolean;
  rightColMajor: boolean;
}

export const DEFAULT_QUIRK: MatrixQuirk = { strideMul: 1, leftColMajor: false, rightColMajor: true };

/** Shape of one compiled select kernel. */
export interface SelectShape {
  /** 'mma': subgroup matrices; 'dot4': packed 4 x 8-bit dot products (any adapter). */
  kind: 'mma' | 'dot4';
  /** i8 x i8 -> i32 (true) or u8 x u8 -> u32 (false) operands. */
  signed: boolean;
  /** Bytes (dims) per row: a multiple of 32. */
  dPad: number;
  /** Subgroup matrix shape (M rows of base, N queries, K dims); dot4 ignores it. */
  m: number;
  n: number;
  k: number;
  /** Subgroups along rows and along queries (workgroup = sgRows * sgQueries * subgroupSize). */
  sgRows: number;
  sgQueries: number;
  /** Result matrices per subgroup along rows and along queries. */
  rowTiles: number;
  queryTiles: number;
  /** Invocations per subgroup (the adapter's subgroupMaxSize; 32 on NVIDIA). */
  subgroupSize: number;
  /** Candidates kept per invocation list (and per query after the merge): k'. */
  kp: number;
  syntax: MatrixSyntax;
  quirk?: MatrixQuirk;
  /** mma only: stage rows (and queries) in workgroup memory, fragments loaded from there. */
  stage?: StageOptions;
}

/**
 * Workgroup-memory staging of the tensor-core kernel: chunks of `kc` dims of the tile's rows are
 * copied with 16-byte coalesced loads, rows padded by `padWords` words (bank conflicts); queries
 * staged the same way ('wg') or their fragments loaded straight from storage ('storage'). The hook
 * kernel's four modes: 'pre' (quantised once per batch by a pre-pass, staged like 'wg'), 'hold' (the
 * pre-pass's codes of the block's queries copied once per workgroup into `wq`, all dims, and held
 * there for the segment: only the rows are staged per chunk), 'whole'
 * (all dims of its quantised queries held in workgroup memory) and 'quant' (each chunk quantised
 * from the float queries beside the rows' chunk).
 */
export interface StageOptions {
  kc: number;
  padWords: number;
  queries: 'wg' | 'storage' | 'whole' | 'quant' | 'pre' | 'hold';
  /** Unroll the chunk and K-step loops (constant workgroup offsets: no bounds checks). */
  unroll?: boolean;
  /** Rows hold u8 codes to be read as i8 (c - 128): flip the top bits while staging. */
  xorRows?: boolean;
  /** Rows past params.rows are staged from the last row (tile buffers not padded to BR rows). */
  clampRows?: boolean;
  /**
   * Hook only: rows are packed float16 (2 dims a u32, D / 8 vec4 a row), quantised to i8 while
   * staging with the shard's per-dimension centres and inverse steps (binding 3, first and third
   * sections: c_j = round((x_j - centre_j) / step_j), within [-127, 127] since both come from the
   * rows' range; F16_CODES). The keys are then approximate inner products of the f16 rows (no 128
   * shift), which the shard re-ranks exactly from the rows (approx_rerank.wgsl).
   */
  rowsF16?: boolean;
  /** rowsF16: one step for every dimension (binding 3's first inverse step, one load a staged chunk instead of four; f16Inverses). */
  f16Uniform?: boolean;
  /**
   * rowsF16: an invocation's two 16-byte loads of a copy are the row chunk's vec4 j and j + KC / 16
   * (dims 8j.. and KC / 2 + 8j..) instead of 2j and 2j + 1, so each load instruction of the warp
   * covers whole 32-byte sectors of every row it touches (the pairs' first loads otherwise take the
   * first half of each sector and their second loads the other half).
   */
  f16Split?: boolean;
  /**
   * Hook only, queries 'pre': the base binding holds the two i8 digits of f32 rows (the shard's
   * digit planes, written by digitsSource's pass from the f32 rows with its per-dimension steps:
   * c1 = round(x_j / step_j), c2 = round((x_j / step_j - c1) x 128), |c2| <= 64): a row is D bytes of
   * c1 then D bytes of c2 (D / 8 vec4), staged in `wr` and `wr2`. The pre-pass writes two digit
   * planes of each query the same way (a1, a2; int8_mma_prep.wgsl DIGITS), staged in `wq` and
   * `wq2`. A K step takes three products: a1 . c1 into one accumulator, a1 . c2 + a2 . c1 into a
   * second, and the key is acc + round(acc2 / 128): about 15 bits a dimension instead of 8. The
   * keys are approximate; the shard re-ranks from the f32 rows and certifies each list
   * (src/gpu/approx-rerank.ts uncertifiedF32). Converting the f32 rows while staging instead ran at
   * 0.68x the f32 kernels on the H200 (call f1): the digits are made once a version of the rows.
   */
  rowsF32?: boolean;
  /**
   * Hook only: the base binding holds signed i8 codes as they are (D bytes a row): the f16 shards'
   * code plane, written by digitsSource's pass from the f16 rows with the per-dimension steps
   * (the codes rowsF16 makes while staging, made once a version of the rows instead).
   */
  signedRows?: boolean;
  /**
   * Hook only, queries 'pre': rows of packed float16 (D / 8 vec4 a row) multiplied as they are on
   * f16 subgroup matrices (f16 x f16 -> f32, K 16: the adapter's f16 config; Dawn lists it on NVIDIA
   * with `vulkan_enable_f16_on_nvidia`). Staged as halves into `wh`, the queries as the pre-pass's
   * halves (each query scaled by a power of two, PREP HALVES) into `wq`; the f32 scores go to `wr`
   * (array<f32>) and enter the lists as order-preserving i32 keys (ordKey). The keys are the f16
   * rows' inner products with the f16-rounded queries: the shard re-ranks them exactly from the
   * rows with the f32 queries (approx_rerank.wgsl), as for the codes.
   */
  rowsHalf?: boolean;
  /**
   * How a scores tile reaches the lists ('row': every row compared and inserted in turn; 'mask':
   * survivors of a compare with the list's last key marked in a bit mask first, then inserted; same
   * lists). Default 'row'. The hook takes both; the staged select kernel 'mask' only with one list a
   * query (TPQ = LPI = 1) and i8 operands.
   */
  select?: 'row' | 'mask';
  /**
   * Unrolled only: the next chunk's 16-byte global loads are issued before the current chunk's
   * multiplies (held in registers, stored after the barrier), so their latency overlaps the tensor work.
   */
  prefetch?: boolean;
  /**
   * With prefetch: how many chunks ahead the global loads are issued (default 1). Each chunk more
   * keeps its loaded words in registers one chunk longer: more bytes in flight a warp, fewer warps.
   */
  prefetchDepth?: number;
  /**
   * Hook only, with prefetch: the last chunks of a tile issue the loads of the next tile's first
   * prefetchDepth chunks (into registers declared before the tile loop, the first tile's loaded
   * before it), so loads stay in flight while the scores tile is stored and selected.
   */
  prefetchTiles?: boolean;
  /**
   * Several warps (hook, sgQueries > 1) only: each warp's multiplies and stores sit in their own
   * branch on subgroup_id (`if (sid == w)`), so every matrix offset is a constant again instead of
   * `sid * ...` plus a constant (Tint's run-time clamp comes back around non-constant offsets).
   */
  warpBranch?: boolean;
  /**
   * Hook only: where each query's k' list lives: 'reg' (default; 2 k' scalar registers an
   * invocation) or 'wg' (workgroup memory, slot-major so each lane keeps its own words; needs select
   * 'mask'): fewer registers an invocation, k' x NT x 8 more bytes of workgroup memory. 'packed'
   * (select 'mask'): one k' register list of keys shifted left by packBits(k') with a storage slot
   * in the low bits, the ids in workgroup memory at their slot (`lids`, slot-major): half the list
   * registers of 'reg', k' x NT x 4 bytes of workgroup memory; needs packFits (no key overflow).
   */
  lists?: 'reg' | 'wg' | 'packed';
  /**
   * Hook only, lists 'reg': how an entry enters a list. 'chain' (default): insertCandidate's loop,
   * whose carried entry makes a chain of KP dependent selects a pass; 'flat': every slot's new value
   * from its own and its upper neighbour's old value (the compares with the new key are monotone
   * down a sorted list), so a pass is two selects deep. Same lists.
   */
  insert?: 'chain' | 'flat';
  /**
   * Hook only, one warp, one list a query, mask selection: the scores tile is stored and selected
   * `selectRows` rows at a time (a multiple of 32 dividing BR, below BR) instead of BR x BQ at once,
   * so `wr` holds max(BR x SW, selectRows x BQ) words: 64-row tiles at 32 rows a part take 5 KiB
   * instead of 8 (more warps an SM where workgroup memory bounds them).
   */
  selectRows?: number;
  /**
   * Hook only, lists 'reg', mask selection, one warp, one list a query: B > 0 shares lower bounds of
   * each query's k'-th best key between the workgroups of a batch. A segment whose list holds m =
   * ceil(k' / B) entries knows m of its rows score at least its m-th key; it publishes that key with
   * atomicMax into bucket (segment % B) of its query, in B x nqPad words at the end of binding 4
   * (ChunkScorer.shape's `scratch`, zeroed by the shard before each batch: 0 = no bound). Before each
   * tile a workgroup reads its query's B buckets: their minimum w has B distinct segments behind it
   * with m rows >= w each, so at least k' rows score >= w and every row of the query's k' best over
   * all segments scores >= w. Rows below w are not inserted (lists stay exact prefixes of each
   * segment's top k'; the merged top k' is unchanged), so after the first tiles far fewer rows
   * enter the lists.
   */
  share?: number;
}

/** Rows and queries one workgroup scores per tile, and its invocation count. */
export function tileOf(s: SelectShape): { br: number; bq: number; nt: number; tpq: number; lpi: number } {
  const br = s.sgRows * s.rowTiles * s.m;
  const bq = s.sgQueries * s.queryTiles * s.n;
  const nt = s.sgRows * s.sgQueries * s.subgroupSize;
  // More queries than invocations: each invocation keeps lpi lists (staged kernel only).
  const lpi = bq > nt ? bq / nt : 1;
  return { br, bq, nt, tpq: bq > nt ? 1 : nt / bq, lpi };
}

export function shapeKey(s: SelectShape): string {
  const st = s.stage
    ? `stage${s.stage.kc}p${s.stage.padWords}${s.stage.queries}${s.stage.unroll ? 'u' : ''}${s.stage.xorRows ? 'x' : ''}${s.stage.rowsF16 ? (s.stage.f16Uniform ? 'FU' : 'F') : ''}${s.stage.rowsF32 ? 'W' : ''}${s.stage.signedRows ? 'S' : ''}${s.stage.rowsHalf ? 'H' : ''}${s.stage.clampRows ? 'c' : ''}${s.stage.select === 'mask' ? 'm' : ''}${s.stage.prefetch ? `f${(s.stage.prefetchDepth ?? 1) > 1 ? s.stage.prefetchDepth : ''}` : ''}${s.stage.prefetchTiles ? 'T' : ''}${s.stage.f16Split ? 'P' : ''}${s.stage.warpBranch ? 'b' : ''}${s.stage.lists === 'wg' ? 'l' : s.stage.lists === 'packed' ? 'k' : ''}${s.stage.insert === 'flat' ? 'i' : ''}${s.stage.selectRows ? `h${s.stage.selectRows}` : ''}${s.stage.share ? `s${s.stage.share}` : ''}`
    : 'direct';
  return [s.kind, s.signed ? 'i8' : 'u8', s.dPad, s.m, s.n, s.k, s.sgRows, s.sgQueries, s.rowTiles, s.queryTiles, s.subgroupSize, s.kp, s.syntax, JSON.stringify(s.quirk ?? DEFAULT_QUIRK), st].join(':');
}

function checkShape(s: SelectShape, hook = false): void {
  const { br, bq, nt, tpq, lpi } = tileOf(s);
  const bad = (why: string) => new Error(`int8 kernel shape ${shapeKey(s)}: ${why}`);
  if (lpi > 1 && (lpi !== 2 || bq !== 2 * nt || !s.stage || s.stage.queries !== 'wg' || s.queryTiles % 2 !== 0)) {
    throw bad(`more queries (${bq}) than invocations (${nt}) needs the staged kernel with queries 'wg', exactly two lists an invocation and an even queryTiles`);
  }
  if (s.dPad % 32 !== 0) throw bad('dPad must be a multiple of 32');
  if (!Number.isInteger(tpq) || tpq < 1) throw bad(`invocations (${nt}) must be a multiple of the queries per tile (${bq})`);
  if (br % tpq !== 0) throw bad('rows per tile must be a multiple of invocations per query');
  if (s.kind === 'mma' && s.dPad % s.k !== 0) throw bad(`dPad must be a multiple of K=${s.k}`);
  // Dawn requires subgroup-matrix offsets to be uniform: derived from local_invocation_index they
  // are not (H100 run 1), so one subgroup a workgroup, except the hook's several-warp variant whose
  // offsets come from @builtin(subgroup_id) (subgroup-uniform under WGSL's subgroup_uniformity).
  if (s.sgRows !== 1 || (s.sgQueries !== 1 && !(hook && s.sgQueries <= 8))) throw bad('a workgroup is one subgroup (sgRows = sgQueries = 1; the hook takes sgQueries up to 8)');
  if (s.stage) {
    const { kc, padWords } = s.stage;
    if (s.kind !== 'mma') throw bad('staging is for the tensor-core kernel');
    if (kc % s.k !== 0 || kc % 16 !== 0 || s.dPad % kc !== 0) throw bad(`stage kc=${kc} must divide dPad and be a multiple of K and 16`);
    if (padWords % 4 !== 0) throw bad('stage padWords must be a multiple of 4 (16-byte rows)');
    if (s.dPad % 16 !== 0) throw bad('dPad must be a multiple of 16 when staging');
    if (s.stage.prefetch && !s.stage.unroll) throw bad('prefetch needs unrolled chunks');
    const depth = s.stage.prefetchDepth ?? 1;
    if (!Number.isInteger(depth) || depth < 1 || depth > 4 || (depth > 1 && !s.stage.prefetch)) throw bad(`prefetchDepth ${depth} must be a whole number from 1 to 4, above 1 only with prefetch`);
    if (s.stage.f16Split && !s.stage.rowsF16) throw bad('f16Split is for rowsF16');
    if (s.stage.prefetchTiles && (!hook || !s.stage.prefetch || s.stage.queries === 'quant')) throw bad("prefetchTiles is the hook's, with prefetch, queries other than 'quant'");
    if (s.stage.warpBranch && (s.sgQueries < 2 || !s.stage.unroll)) throw bad('warpBranch needs several warps (sgQueries > 1) and unrolled chunks');
    if (s.stage.lists === 'wg' && (!hook || s.stage.select !== 'mask')) throw bad("lists 'wg' is the hook's, with select 'mask'");
    if (s.stage.insert === 'flat' && (!hook || s.stage.lists === 'wg')) throw bad("insert 'flat' is the hook's, with lists 'reg' or 'packed'");
    if (s.stage.share !== undefined && (!hook || s.stage.select !== 'mask' || (s.stage.lists ?? 'reg') !== 'reg' || s.sgQueries !== 1 || s.stage.share < 1 || !Number.isInteger(s.stage.share))) throw bad(`share ${s.stage.share} needs the hook, mask selection, lists 'reg', one warp and a whole number of buckets >= 1`);
    if (s.stage.selectRows !== undefined && (!hook || s.stage.select !== 'mask' || s.sgQueries !== 1 || s.stage.selectRows % 32 !== 0 || s.stage.selectRows >= br || br % s.stage.selectRows !== 0 || s.stage.selectRows % s.m !== 0)) throw bad(`selectRows ${s.stage.selectRows} needs the hook, mask selection, one warp and a multiple of 32 dividing BR = ${br}, below it`);
    if (s.stage.lists === 'packed' && (!hook || s.stage.select !== 'mask' || !s.signed || !packFits(s.dPad, s.kp))) throw bad("lists 'packed' is the hook's, with select 'mask', i8 and keys that fit beside the slot bits");
    if (s.stage.rowsHalf && (!hook || s.stage.queries !== 'pre' || lpi !== 1 || tpq !== 1 || (s.stage.lists ?? 'reg') !== 'reg' || s.k !== 16)) throw bad("rowsHalf is the hook's, with queries 'pre', one invocation a query, lists 'reg' and K = 16");
    if (s.stage.rowsF32 && (!hook || s.stage.queries !== 'pre' || lpi !== 1 || tpq !== 1 || (s.stage.lists ?? 'reg') !== 'reg')) throw bad("rowsF32 is the hook's, with queries 'pre', one invocation a query and lists 'reg'");
  }
}

/** Workgroup bytes a shape needs (scores tile, or the staging buffers when they are larger). */
export function workgroupBytes(s: SelectShape): number {
  const { br, bq, lpi } = tileOf(s);
  if (!s.stage) return br * bq * 4;
  // rowsHalf: staged rows and queries as halves (`wh`, `wq`), the scores tile as f32 (`wr`).
  if (s.stage.rowsHalf) return (br + bq) * halfStride(s) * 2 + (s.stage.selectRows ?? br) * bq * 4;
  const sw = s.stage.kc / 4 + s.stage.padWords;
  const sbq = bq / lpi;
  const q = s.stage.queries === 'wg' || s.stage.queries === 'pre' ? bq * sw : s.stage.queries === 'whole' || s.stage.queries === 'hold' ? bq * (s.dPad / 4 + 4) : s.stage.queries === 'quant' ? bq * sw + bq : 0;
  const lists = s.stage.lists === 'wg' ? 2 * s.kp * tileOf(s).nt : s.stage.lists === 'packed' ? s.kp * tileOf(s).nt : 0;
  // rowsF32: the second digits' staged rows and scores (`wr2`) and staged queries (`wq2`).
  const second = s.stage.rowsF32 ? wr2Words(s) + bq * sw : 0;
  return (Math.max(br * sw, (s.stage.selectRows ?? br) * sbq, hookMergeWords(s)) + q + lists + second) * 4;
}

/** rowsHalf: halves a staged row or query (the chunk's dims, then padWords words of padding). */
function halfStride(s: SelectShape): number {
  return s.stage!.kc + 2 * s.stage!.padWords;
}

/** rowsF32: words of `wr2`, the second digits' staged rows, then their accumulator's scores. */
function wr2Words(s: SelectShape): number {
  const { br, bq } = tileOf(s);
  const sw = s.stage!.kc / 4 + s.stage!.padWords;
  return Math.max(br * sw, (s.stage!.selectRows ?? br) * bq);
}

/**
 * Words of `wr` the hook's two-invocations-a-query merge takes (both lists of every query as key, id
 * pairs); 0 for other shapes. Only the hook has queries 'pre'; the staged kernel's TPQ lists are merged
 * by int8_mma_merge instead.
 */
function hookMergeWords(s: SelectShape): number {
  const { bq, tpq } = tileOf(s);
  return tpq > 1 && s.stage?.queries === 'pre' ? 2 * bq * tpq * s.kp : 0;
}

const u = (n: number) => `${n}u`;

/**
 * Branch-free insertion of (`key`, `row`) into a descending candidate list (keys `keys`, ids `ids`,
 * KP long): the new entry takes the first slot whose key is smaller, every later entry moves down
 * one, the last one drops out. Every int8 kernel's list (the templates' `//@INSERT_CANDIDATE`, and
 * the second list of two-list kernels) uses this text; unrollLists turns its loop into scalar code.
 * Rows arrive in increasing id order, so "strictly smaller than the new key" keeps equal keys in id
 * order. Each slot is compared with the new key, not with the entry carried down: comparing the
 * carried entry (as before 2026-12-03) left it behind later entries of an equal key, so tied lists
 * came out of id order and a full list could drop the lower id (tests: tensor-emulated, tie data).
 */
function insertCandidate(keys: 'kk' | 'kb', ids: 'ii' | 'ib', flatKp = 0): string {
  if (flatKp > 0) return flatInsert(keys, ids, flatKp);
  return [
    `if (key > ${keys}[KP - 1u]) {`,
    '  var ck = key;',
    '  var ci = i32(params.idBase + row);',
    '  for (var i = 0u; i < KP; i++) {',
    `    let sw = key > ${keys}[i];`,
    `    let ok = ${keys}[i];`,
    `    let oi = ${ids}[i];`,
    `    ${keys}[i] = select(ok, ck, sw);`,
    `    ${ids}[i] = select(oi, ci, sw);`,
    '    ck = select(ck, ok, sw);',
    '    ci = select(ci, oi, sw);',
    '  }',
    '}',
  ].join('\n');
}

/**
 * insertCandidate's lists without its carried entry (StageOptions.insert 'flat'), written out for KP
 * slots (the names unrollLists gives the list's scalars). The compares of the new key with the old
 * slots, s_i = key > k_i, are monotone down a descending list (false, ..., false, true, ..., true),
 * so the entry lands at the first true slot p and every later slot takes its upper neighbour's old
 * entry: new k_i = s_{i-1} ? k_{i-1} : (s_i ? key : k_i). Slots are written from the last up, so
 * each reads its neighbour's old value. Same lists as the loop (ties: equal keys compare false and
 * stay above the new entry), two selects deep instead of a chain of KP.
 */
function flatInsert(keys: 'kk' | 'kb', ids: 'ii' | 'ib', kp: number): string {
  return [`if (key > ${keys}[KP - 1u]) {`, '  let ni = i32(params.idBase + row);', ...flatShift(kp, 'key', keys, [[keys, 'key'], [ids, 'ni']]), '}'].join('\n');
}

/**
 * The flat insertion's body (flatInsert, packedInsert 'flat'): `cmp` > list_i compared for slot i
 * (fs_i), and each named list's slot i set from its own old value, the new value or its upper
 * neighbour's old value, slots written from the last up. Each compare is made right before its two
 * uses (slots i and i - 1): two live at a time.
 */
function flatShift(kp: number, cmp: string, list: string, lists: [string, string][]): string[] {
  const lines = [`  let fs${kp - 1} = ${cmp} > ${list}_${kp - 1};`];
  for (let i = kp - 1; i >= 0; i--) {
    if (i > 0) lines.push(`  let fs${i - 1} = ${cmp} > ${list}_${i - 1};`);
    for (const [a, v] of lists) {
      const own = `select(${a}_${i}, ${v}, fs${i})`;
      lines.push(i === 0 ? `  ${a}_0 = ${own};` : `  ${a}_${i} = select(${own}, ${a}_${i - 1}, fs${i - 1});`);
    }
  }
  return lines;
}

/**
 * Bits of a list entry's storage slot in lists 'packed' (slots 0 .. kp - 1), and whether every key
 * of a dPad-dim i8 x i8 dot (|a| <= 127, |c - 128| <= 128: |key| <= 16256 dPad) fits in the
 * 32 - bits high bits with room for the empty entry's key below every real one.
 */
export function packBits(kp: number): number {
  return Math.max(1, Math.ceil(Math.log2(kp)));
}
export function packFits(dPad: number, kp: number): boolean {
  return kp <= 64 && 16256 * dPad < 2 ** (31 - packBits(kp)) - 1;
}

/**
 * Insertion into lists 'packed' (mask selection; `key` the row's i32 key, `row` its row): the list
 * `kk` holds (key << SBU) | slot, sorted by key descending. pk = key << SBU has zero low bits, so
 * pk > entry exactly when key > the entry's key: the compares are insertCandidate's, ties included.
 * The last entry drops out and its slot takes the new id (`lids`, slot-major: lane lid's words at
 * slot * NT + lid); the slots stay a permutation of 0 .. KP - 1. 'chain' or 'flat' as for 'reg'.
 */
function packedInsert(kp: number, flat: boolean): string {
  const head = [
    'let pk = key << SBU;',
    'if (pk > kk[KP - 1u]) {',
    '  let slot = kk[KP - 1u] & SMASK;',
    '  lids[u32(slot) * NT + lid] = i32(params.idBase + row);',
    '  let np = pk | slot;',
  ];
  if (!flat) {
    return [...head, '  var ck = np;', '  for (var i = 0u; i < KP; i++) {', '    let sw = pk > kk[i];', '    let ok = kk[i];', '    kk[i] = select(ok, ck, sw);', '    ck = select(ck, ok, sw);', '  }', '}'].join('\n');
  }
  return [...head, ...flatShift(kp, 'pk', 'kk', [['kk', 'np']]), '}'].join('\n');
}

/**
 * Selection 'row': every row of the scores tile against the list, in row order. The hook: one
 * invocation a query (`rowSelect()`); `shared`: TPQ invocations a query take alternate rows, scores
 * at row x `stride` + qLocal: the staged select kernel (SBQ, u8 keys corrected by the row sums) and
 * the hook's 16-query block (BQ).
 */
function rowSelect(shared?: { stride: 'SBQ' | 'BQ'; u8: boolean }, flatKp = 0): string {
  return [
    shared ? 'for (var r = part; r < BR; r += TPQ) {' : 'for (var r = 0u; r < BR; r++) {',
    '  let row = t + r;',
    '  if (row < segEnd) {',
    shared ? `    ${shared.u8 ? 'var' : 'let'} key = bitcast<i32>(wr[r * ${shared.stride} + qLocal]);` : '    let key = bitcast<i32>(wr[r * BQ + lid]);',
    ...(shared?.u8 ? ['    if (!SIGNED) { key -= 128 * rowsum[row]; }'] : []),
    ...insertCandidate('kk', 'ii', flatKp).split('\n').map((l) => '    ' + l),
    '  }',
    '}',
  ].map((l) => '    ' + l).join('\n');
}

/**
 * Hook selection 'mask' (see shaders/int8_mma_hook.wgsl): per group of up to 32 rows, one compare a
 * row with the list's last key before the group (rows past segEnd never survive), then the survivors
 * inserted lowest row first; insertCandidate compares with the current last key again, so the lists
 * equal 'row' selection's (ties keep the lower id: it is inserted first and only a greater key moves it).
 * lists 'wg' (the hook only): the lists in workgroup memory (`wl`, slot i of invocation lid at
 * i * NT + lid; `thr` the last key), each survivor inserted by moving the smaller entries down one
 * (the new entry lands after every entry of a key at least its own: ties keep the lower id, as
 * insertCandidate).
 */
function maskSelect(br: number, col = 'lid', stride = 'BQ', lists: 'reg' | 'wg' | 'packed' = 'reg', pairs = false, flatKp = 0, kp = 0, rows?: { from: number; count: number }): string {
  const g = Math.min(rows?.count ?? br, 32);
  // Survivor bit x's row in the group: x, or (pairs: TPQ invocations a query) its alternate row.
  const at = pairs ? 'x * TPQ + part' : 'x';
  // rows (StageOptions.selectRows): the tile's rows [from, from + count), stored from row 0 of wr.
  const key = rows ? `bitcast<i32>(wr[(g - ${u(rows.from)} + ${at}) * ${stride} + ${col}])` : `bitcast<i32>(wr[(g + ${at}) * ${stride} + ${col}])`;
  const insert =
    lists === 'wg'
      ? [
          `    let key = ${key};`,
          '    if (key > thr) {',
          '      var at = KP - 1u;',
          '      loop {',
          '        if (at == 0u) { break; }',
          '        let prev = wl[(at - 1u) * NT + lid];',
          '        if (prev.x >= key) { break; }',
          '        wl[at * NT + lid] = prev;',
          '        at -= 1u;',
          '      }',
          '      wl[at * NT + lid] = vec2<i32>(key, i32(params.idBase + gAt + x));',
          '      thr = wl[(KP - 1u) * NT + lid].x;',
          '    }',
        ]
      : lists === 'packed'
        ? [`    let row = gAt + ${at};`, `    let key = ${key};`, ...packedInsert(kp, flatKp > 0).split('\n').map((l) => '    ' + l)]
        : [`    let row = gAt + ${at};`, `    let key = ${key};`, ...insertCandidate('kk', 'ii', flatKp).split('\n').map((l) => '    ' + l)];
  return [
    rows ? `for (var g = ${u(rows.from)}; g < ${u(rows.from + rows.count)}; g += ${u(g)}) {` : `for (var g = 0u; g < BR; g += ${u(g)}) {`,
    ...(lists === 'wg' ? [] : ['  let thr = kk[KP - 1u];']),
    '  let gAt = t + g;',
    `  let nr = select(0u, min(${u(g)}, segEnd - gAt), segEnd > gAt);`,
    '  var surv = 0u;',
    `  for (var x = 0u; x < ${u(g)}${pairs ? ' / TPQ' : ''}; x++) {`,
    `    let key = ${key};`,
    `    surv |= select(0u, 1u << x, ${lists === 'packed' ? '(key << SBU)' : 'key'} > thr && ${at} < nr);`,
    '  }',
    '  loop {',
    '    if (surv == 0u) { break; }',
    '    let x = firstTrailingBit(surv);',
    '    surv &= surv - 1u;',
    ...insert,
    '  }',
    '}',
  ]
    .map((l) => '    ' + l)
    .join('\n');
}

/**
 * The hook's selection with TPQ invocations a query (16-query block, TPQ = 2): invocation (qLocal,
 * part) takes rows part, part + TPQ, ... of each tile, in row order, so its list keeps the
 * one-list order over its rows. 'mask': groups of up to 32 rows, G / TPQ survivor bits an invocation
 * (maskSelect's `pairs`).
 */
function pairSelect(br: number, select: 'row' | 'mask', flatKp = 0): string {
  return select === 'row' ? rowSelect({ stride: 'BQ', u8: false }, flatKp) : maskSelect(br, 'qLocal', 'BQ', 'reg', true, flatKp);
}

/**
 * The hook's merge of the TPQ = 2 lists of a query at the end of its segment (after the loop's last
 * barrier): both lists to `wr` (key, id words; query qLocal's two lists side by side), then every
 * invocation merges its query's pair into kk / ii by (key desc, id asc) - insertCandidate's order, so
 * equal keys of the two halves (interleaved rows) come out in id order; empty slots (MIN_KEY, -1: the
 * id as u32 is the largest) go last. Each list is its half's best KP, so the first KP of the merge are
 * the segment's best KP. Neither pointer passes its list's end: KP picks in all.
 */
const PAIR_MERGE = `
  {
    let mOwn = (qLocal * TPQ + part) * KP * 2u;
    for (var i = 0u; i < KP; i++) { wr[mOwn + 2u * i] = kk[i]; wr[mOwn + 2u * i + 1u] = ii[i]; }
    workgroupBarrier();
    var pa = qLocal * TPQ * KP * 2u;
    var pb = pa + KP * 2u;
    for (var i = 0u; i < KP; i++) {
      let ka = wr[pa];
      let ia = wr[pa + 1u];
      let kb1 = wr[pb];
      let ib1 = wr[pb + 1u];
      let ta = ka > kb1 || (ka == kb1 && u32(ia) < u32(ib1));
      kk[i] = select(kb1, ka, ta);
      ii[i] = select(ib1, ia, ta);
      pa += select(0u, 2u, ta);
      pb += select(2u, 0u, ta);
    }
  }`;

/** Replaces each template line that is only `//@NAME` (indentation allowed) with its text. */
function fill(template: string, parts: Record<string, string>): string {
  return template.replace(/^([ \t]*)\/\/@([A-Z_]+)[ \t]*$/gm, (line, _indent: string, name: string) => {
    const text = parts[name];
    if (text === undefined) throw new Error(`template marker //@${name} has no text`);
    return text;
  });
}

/** The select kernel's WGSL for a shape. */
export function selectSource(s: SelectShape): string {
  checkShape(s);
  const { br, bq, nt, tpq, lpi } = tileOf(s);
  const consts = [
    `const D: u32 = ${u(s.dPad)};`,
    `const BR: u32 = ${u(br)};`,
    `const BQ: u32 = ${u(bq)};`,
    `const NT: u32 = ${u(nt)};`,
    `const TPQ: u32 = ${u(tpq)};`,
    `const KP: u32 = ${u(s.kp)};`,
    `const SIGNED: bool = ${s.signed};`,
    // Subgroup matrices of i8 / u8 load from arrays of their scalar shader type (i32 / u32).
    `alias ET = ${s.signed ? 'i32' : 'u32'};`,
  ].join('\n');
  const enables =
    s.kind === 'mma'
      ? 'enable chromium_experimental_subgroup_matrix;'
      : '';
  if (s.stage) {
    if (s.stage.queries === 'whole' || s.stage.queries === 'quant' || s.stage.queries === 'pre' || s.stage.queries === 'hold') throw new Error(`int8 kernel shape ${shapeKey(s)}: queries '${s.stage.queries}' is the hook kernel's (hookSource)`);
    const mask = s.stage.select === 'mask';
    if (mask && (tpq !== 1 || lpi !== 1 || !s.signed)) throw new Error(`int8 kernel shape ${shapeKey(s)}: select 'mask' needs one list a query (TPQ = LPI = 1) and i8 operands`);
    const sw = s.stage.kc / 4 + s.stage.padWords;
    const qwg = s.stage.queries === 'wg';
    const parts = {
      ENABLES: enables,
      CONSTS: `${consts}\nconst KC: u32 = ${u(s.stage.kc)};\nconst SW: u32 = ${u(sw)};\nconst SBQ: u32 = ${u(bq / lpi)};\nconst QOFF: u32 = ${u((lpi - 1) * nt)};\nconst WR_WORDS: u32 = ${u(Math.max(br * sw, (br * bq) / lpi))};`,
      LISTS_B: lpi === 2 ? 'var kb: array<i32, KP>;\n  var ib: array<i32, KP>;\n  for (var i = 0u; i < KP; i++) { kb[i] = MIN_KEY; ib[i] = -1; }' : '',
      WRITE_B:
        lpi === 2
          ? '{\n    let q2 = qBlock * BQ + qLocal;\n    if (q2 < params.nq) {\n      let at2 = (q2 * params.nsegTotal + params.segBase + seg) * KP;\n      for (var i = 0u; i < KP; i++) { cand[at2 + i] = vec2<i32>(kb[i], ib[i]); }\n    }\n  }'
          : '',
      QBIND: qwg
        ? '@group(0) @binding(2) var<storage, read> queries: array<vec4<u32>>;'
        : '@group(0) @binding(2) var<storage, read> queries: array<ET>;',
      QDECL: qwg ? `var<workgroup> wq: array<ET, ${u(bq * sw)}>;` : '',
      SCORE_TILE: stagedTile(s, br, bq, nt, sw),
      SELECT: mask ? maskSelect(br, 'qLocal', 'SBQ') : rowSelect({ stride: 'SBQ', u8: true }),
    };
    return unrollLists(fill(stagedTemplate, parts), s.kp);
  }
  const body = s.kind === 'mma' ? mmaTile(s, bq) : dot4Tile(s, br, bq, nt);
  return unrollLists(fill(selectTemplate, { ENABLES: enables, CONSTS: consts, SCORE_TILE: body, INSERT_CANDIDATE: insertCandidate('kk', 'ii') }), s.kp);
}

/**
 * The GpuFlatIndex scorer's WGSL (shaders/int8_mma_hook.wgsl): f32 queries quantised in the
 * kernel ('quant', 'whole') or by the pre-pass (prepSource, 'pre', 'hold'), u8 codes read as i8, f32 keys.
 * The shape must be a staged tensor-core shape with one of those query modes, xorRows and
 * clampRows, one list a query (BQ equal to the subgroup size) and kp the k it writes.
 */
export function hookSource(s: SelectShape): string {
  checkShape(s, true);
  const { br, bq, nt, tpq } = tileOf(s);
  const st = s.stage;
  // BQ = NT (one invocation a query) or the 16-query block: two invocations a query of one 32-wide warp.
  const pairs = tpq === 2 && nt === 32 && bq === 16;
  if (s.kind !== 'mma' || !st || (st.queries !== 'whole' && st.queries !== 'quant' && st.queries !== 'pre' && st.queries !== 'hold') || [st.xorRows, st.rowsF16, st.rowsF32, st.signedRows, st.rowsHalf].filter(Boolean).length !== 1 || !st.clampRows || !s.signed || (tpq !== 1 && !pairs)) {
    throw new Error(`int8 hook kernel needs a signed staged tensor shape, queries 'pre', 'hold', 'quant' or 'whole', one of xorRows (u8 codes), rowsF16, rowsF32, signedRows or rowsHalf, clampRows and BQ = ${nt} (or 16 of 32 invocations): got ${shapeKey(s)}`);
  }
  if (pairs && st.rowsHalf) throw new Error(`int8 hook kernel ${shapeKey(s)}: rowsHalf keeps one invocation a query`);
  if (pairs && (st.queries !== 'pre' || st.lists === 'wg' || s.sgQueries !== 1)) throw new Error(`int8 hook kernel ${shapeKey(s)}: the 16-query block needs queries 'pre', lists 'reg' and one warp`);
  const warps = s.sgQueries;
  if (warps > 1 && (st.queries !== 'pre' || !st.unroll)) throw new Error(`int8 hook kernel ${shapeKey(s)}: several warps a workgroup need queries 'pre' and unrolled chunks`);
  const sw = st.kc / 4 + st.padWords;
  const packed = st.lists === 'packed';
  const consts = [
    `const D: u32 = ${u(s.dPad)};`,
    `const BR: u32 = ${u(br)};`,
    `const BQ: u32 = ${u(bq)};`,
    `const NT: u32 = ${u(nt)};`,
    `const KP: u32 = ${u(s.kp)};`,
    `const KC: u32 = ${u(st.kc)};`,
    `const SW: u32 = ${u(sw)};`,
    `const QSW: u32 = ${u(s.dPad / 4 + 4)};`,
    // rowsHalf: `wr` holds only the scores tile (the rows are staged in `wh`).
    `const WR_WORDS: u32 = ${u(st.rowsHalf ? (st.selectRows ?? br) * bq : Math.max(br * sw, (st.selectRows ?? br) * bq, hookMergeWords(s)))};`,
    ...(st.rowsHalf ? [`const SWH: u32 = ${u(halfStride(s))};`] : []),
    ...(pairs ? [`const TPQ: u32 = ${u(tpq)};`] : []),
    // u8 codes are staged as c - 128, so a key adds 128 x the sum of the query codes back; f16 rows' codes are signed.
    `const ROW_SHIFT: i32 = ${st.xorRows ? 128 : 0};`,
    // rowsF32: the pre-pass wrote two digit planes of the queries; rowsHalf halves, as many bytes (then the per-query words).
    `const QPLANES: u32 = ${st.rowsF32 || st.rowsHalf ? '2u' : '1u'};`,
    ...(st.rowsF32 ? [`const WR2_WORDS: u32 = ${u(wr2Words(s))};`] : []),
    // lists 'packed': slot bits, their mask, and the key of an empty entry (below every real key).
    ...(packed ? [`const SBU: u32 = ${u(packBits(s.kp))};`, `const SMASK: i32 = ${2 ** packBits(s.kp) - 1};`, `const EMPTY_KEY: i32 = ${-(2 ** (31 - packBits(s.kp)))};`] : []),
    // rowsHalf: the scores tile holds the f32 results (ordKey makes them list keys).
    `alias ET = ${st.rowsHalf ? 'f32' : 'i32'};`,
  ].join('\n');
  const quant = st.queries === 'quant';
  const hold = st.queries === 'hold';
  // 'pre' and 'hold' read the pre-pass's output.
  const pre = st.queries === 'pre' || hold;
  const wgLists = st.lists === 'wg';
  const listMode = wgLists ? 'wg' : packed ? 'packed' : 'reg';
  const flatKp = st.insert === 'flat' ? s.kp : 0;
  // stagedTile's lines before the tile loop (prefetchTiles), filled in while SCORE_TILE is made.
  const preLoop: string[] = [];
  const parts = {
    // 'quant' reduces over the subgroup (one subgroup is the whole workgroup: NT invocations).
    ENABLES: `${st.rowsHalf ? 'enable f16;\n' : ''}enable chromium_experimental_subgroup_matrix;${quant || warps > 1 ? '\nenable subgroups;' : ''}`,
    CONSTS: st.rowsF16 ? `${consts}\n${F16_CODES}` : st.rowsHalf ? `${consts}\n${HALF_KEYS}` : consts,
    QBIND: `@group(0) @binding(2) var<storage, read> queries: array<${pre ? 'vec4<u32>' : 'vec4<f32>'}>;`,
    QDECL: st.rowsHalf ? 'var<workgroup> wq: array<f16, BQ * SWH>;\nvar<workgroup> wh: array<f16, BR * SWH>;' : (quant ? 'var<workgroup> wq: array<ET, BQ * SW>;\nvar<workgroup> wsc: array<f32, BQ>;' : pre && !hold ? 'var<workgroup> wq: array<ET, BQ * SW>;' : 'var<workgroup> wq: array<ET, BQ * QSW>;') + (wgLists ? '\nvar<workgroup> wl: array<vec2<i32>, KP * NT>;' : packed ? '\nvar<workgroup> lids: array<i32, KP * NT>;' : '') + (st.rowsF32 ? '\nvar<workgroup> wr2: array<ET, WR2_WORDS>;\nvar<workgroup> wq2: array<ET, BQ * SW>;' : ''),
    PROLOGUE: quant ? QUANT_PROLOGUE : hold ? PRE_PROLOGUE + HOLD_COPY : pre ? PRE_PROLOGUE : WHOLE_PROLOGUE,
    // 'packed': entry i starts empty (MIN_KEY's bits, key EMPTY_KEY) owning slot i; lids needs no init.
    LISTS: wgLists
      ? '  for (var i = 0u; i < KP; i++) { wl[i * NT + lid] = vec2<i32>(MIN_KEY, -1); }\n  var thr = MIN_KEY;'
      : packed
        ? '  var kk: array<i32, KP>;\n  for (var i = 0u; i < KP; i++) { kk[i] = MIN_KEY | i32(i); }'
        : '  var kk: array<i32, KP>;\n  var ii: array<i32, KP>;\n  for (var i = 0u; i < KP; i++) { kk[i] = MIN_KEY; ii[i] = -1; }',
    SCORE_TILE: stagedTile(s, br, bq, nt, sw, (from, count) => maskSelect(br, 'lid', 'BQ', listMode, false, flatKp, s.kp, { from, count }), preLoop),
    PRELOOP: preLoop.map((l) => '  ' + l).join('\n'),
    // Two invocations a query: only part 0 is live (prologue and write); both select and merge.
    LANES: pairs
      ? '  let qLocal = lid % BQ;\n  let part = lid / BQ;\n  let q = qBlock * BQ + qLocal;\n  let live = q < params.nq && part == 0u;'
      : '  let q = qBlock * BQ + lid;\n  let live = q < params.nq;',
    MERGE: pairs ? PAIR_MERGE : '',
    // StageOptions.share: after each tile, a live invocation whose m-th key rose publishes it.
    SHARE_PUBLISH: st.share ? sharePublish(s.kp, shareBuckets(s)) : '',
    // selectRows: the template's SELECT takes the tile's last part (stagedTile selected the others).
    SELECT: pairs ? pairSelect(br, st.select ?? 'row', flatKp) : wgLists || st.select === 'mask' ? maskSelect(br, 'lid', 'BQ', listMode, false, flatKp, s.kp, st.selectRows ? { from: br - st.selectRows, count: st.selectRows } : undefined) : rowSelect(undefined, flatKp),
    ENTRY: wgLists
      ? 'let e = wl[i * NT + lid]; let ek = e.x; let ei = e.y;'
      : packed
        ? 'let ek = kk[i] >> SBU; let ei = select(-1, lids[u32(kk[i] & SMASK) * NT + lid], ek > EMPTY_KEY);'
        : 'let ek = kk[i]; let ei = ii[i];',
  };
  const filled = halfKeys(fill(expandWgslIncludes(hookTemplate), parts), !!st.rowsHalf);
  const code = unrollLists(st.share ? shareBounds(filled, shareBuckets(s)) : filled, s.kp);
  if (warps === 1) return code;
  // Several warps: warp `sid` scores queries [sid * 32, sid * 32 + 32) of the block against the
  // shared staged rows; its matrix offsets derive from subgroup_id (see stagedTile).
  const sig = '@builtin(local_invocation_index) lid: u32,';
  if (!code.includes(sig)) throw new Error('hookSource: main has no local_invocation_index parameter');
  return code.replace(sig, `${sig} @builtin(subgroup_id) sid: u32,`);
}

/**
 * rowsHalf: f32 scores as i32 list keys of the same order (positive floats' bits are ordered as
 * integers; a negative one's low 31 bits flipped reverse its order below them) and back. No NaN
 * reaches a key (the index rejects NaN rows and queries); -0 sorts just below +0.
 */
const HALF_KEYS = `fn ordKey(x: f32) -> i32 { let b = bitcast<i32>(x); return select(b, b ^ 0x7fffffff, b < 0); }
fn keyFloat(k: i32) -> f32 { return bitcast<f32>(select(k, k ^ 0x7fffffff, k < 0)); }`;

/** rowsHalf on the filled hook template: scores tile reads through ordKey, the written key through keyFloat (times the query's scale). */
function halfKeys(src: string, half: boolean): string {
  if (!half) return src;
  const out = 'qv + scale * f32(ek + shift)';
  if (src.split(out).length !== 2 || !src.includes('bitcast<i32>(wr[')) throw new Error('hookSource rowsHalf: the template has no key read or key write to rewrite');
  return src.replace(out, 'qv + scale * keyFloat(ek)').replaceAll('bitcast<i32>(wr[', 'ordKey(wr[');
}

/** Buckets of a share shape (StageOptions.share, at most k'): 0 when off. */
export function shareBuckets(s: SelectShape): number {
  return s.stage?.share ? Math.min(s.stage.share, s.kp) : 0;
}

/**
 * Words of shared bounds a share shape keeps at the end of binding 4 for nq queries (buckets x nq
 * rounded up to BQ; ChunkScorer.shape's scratch is half as many pairs); 0 for other shapes.
 */
export function shareWords(s: SelectShape, nq: number): number {
  const bq = tileOf(s).bq;
  return shareBuckets(s) * Math.ceil(nq / bq) * bq;
}

/** StageOptions.share's publication after a tile (m = ceil(k' / buckets): the m-th key, kk_(m-1) once unrolled). */
function sharePublish(kp: number, buckets: number): string {
  const m = Math.ceil(kp / buckets);
  return [
    `    if (live && kk_${m - 1} > shPub) {`,
    `      shPub = kk_${m - 1};`,
    `      atomicMax(&out[shAt + (seg % ${u(buckets)}) * nqPad + q], bitcast<u32>(shPub) ^ 0x80000000u);`,
    '    }',
  ].join('\n');
}

/**
 * StageOptions.share on the filled hook template (before unrollLists): binding 4 becomes words
 * written with atomics (the lists' pairs as two stores; the bounds with atomicMax / atomicLoad),
 * each tile first reads its query's bucket minimum into \`shr\` (rows must score above it: w - 1),
 * every mask compare takes max(list tail, shr), and after each tile a live invocation whose m-th key
 * rose publishes it. Keys are stored as bits ^ 0x80000000 (unsigned order = signed order, 0 = no
 * bound: MIN_KEY). Proof of the bound: StageOptions.share.
 */
function shareBounds(src: string, buckets: number): string {
  const reads = Array.from({ length: buckets }, (_, b) => `bitcast<i32>(atomicLoad(&out[shAt + ${u(b)} * nqPad + q]) ^ 0x80000000u)`);
  const swaps: [string, string][] = [
    ['@group(0) @binding(4) var<storage, read_write> out: array<vec2<u32>>;', '@group(0) @binding(4) var<storage, read_write> out: array<atomic<u32>>;'],
    ['out[at + i] = v;', 'atomicStore(&out[2u * (at + i)], v.x); atomicStore(&out[2u * (at + i) + 1u], v.y);'],
    [
      '  let segStart = seg * params.segLen;',
      [
        '  // Shared bounds (StageOptions.share): the last SHB x nqPad words of binding 4.',
        '  let nqPad = nqBlocks * BQ;',
        `  let shAt = arrayLength(&out) - ${u(buckets)} * nqPad;`,
        '  var shr = MIN_KEY;',
        '  var shPub = MIN_KEY;',
        '  let segStart = seg * params.segLen;',
      ].join('\n'),
    ],
    [
      '  for (var t = segStart; t < segEnd; t += BR) {',
      [
        '  for (var t = segStart; t < segEnd; t += BR) {',
        '    {',
        `      let w = ${reads.reduce((a, r) => (a ? `min(${a}, ${r})` : r), '')};`,
        '      if (w != MIN_KEY) { shr = max(shr, w - 1); }',
        '    }',
      ].join('\n'),
    ],
  ];
  let out = src;
  for (const [from, to] of swaps) {
    if (out.split(from).length !== 2) throw new Error(`hookSource share: the template has not exactly one '${from}'`);
    out = out.replace(from, to);
  }
  const thr = 'let thr = kk[KP - 1u];';
  if (!out.includes(thr)) throw new Error('hookSource share: no mask compare to bound');
  return out.replaceAll(thr, 'let thr = max(kk[KP - 1u], shr);');
}

/**
 * The hook's pre-pass for a shape with queries 'pre' (shaders/int8_mma_prep.wgsl): its output bytes
 * for nq queries (codes of nq rounded up to BQ queries, then 16 bytes a query) and its WGSL.
 */
export function prepBytes(s: SelectShape, nq: number): number {
  return prepBytesOf(s.dPad, tileOf(s).bq, prepDigits(s), nq);
}

function prepBytesOf(dPad: number, bq: number, digits: number, nq: number): number {
  const nqPad = Math.ceil(nq / bq) * bq;
  return digits * nqPad * dPad + nqPad * 16;
}

/** Digit planes the pre-pass writes a query: 2 for rowsF32 (StageOptions.rowsF32), else 1. */
function prepDigits(s: SelectShape): number {
  return s.stage?.rowsF32 || s.stage?.rowsHalf ? 2 : 1;
}

export function prepSource(s: SelectShape): string {
  return prepSourceOf(s.dPad, tileOf(s).bq, prepDigits(s), !!s.stage?.rowsHalf);
}

function prepSourceOf(dPad: number, bq: number, digits: number, halves: boolean): string {
  return fill(expandWgslIncludes(prepTemplate), { CONSTS: `const D: u32 = ${u(dPad)};\nconst BQ: u32 = ${u(bq)};\nconst DIGITS: u32 = ${u(digits)};\nconst HALVES: bool = ${halves};` });
}

/**
 * The pre-pass's halves alone, for the f16 two-pass scan (src/gpu/tensor/half-scan.ts): each query
 * as halves after a power-of-two scale, D halves a query, the batch padded to bq queries with
 * zeros; then the scales. Its output bytes for nq queries, and its WGSL.
 */
export function halvesPrepBytes(dPad: number, bq: number, nq: number): number {
  return prepBytesOf(dPad, bq, 2, nq);
}

export function halvesPrepSource(dPad: number, bq: number): string {
  return prepSourceOf(dPad, bq, 2, true);
}


/**
 * rowsF16: the inverse steps of the 16 dims an invocation's code words of one staged chunk cover,
 * loaded once for all its rows there: with NT a multiple of the chunk's code words a row (kc / 16),
 * every copy j of invocation lid covers the dims (lid % (kc / 16)) x 16 on from the chunk's first.
 */
function f16Inverses(tag: string, f16: { dim: string; uniform: boolean; split?: boolean }, kc16: number, nt: number): string[] {
  if (nt % kc16 !== 0) throw new Error(`rowsF16 staging needs NT (${nt}) to be a multiple of the chunk's code words a row (${kc16})`);
  // uniform: one step, centred on 0 (approx-rerank.ts stepParams).
  if (f16.uniform) return [`let ${tag}i0 = vec4<f32>(sq[2u * QW].x); let ${tag}i1 = ${tag}i0; let ${tag}i2 = ${tag}i0; let ${tag}i3 = ${tag}i0; let ${tag}m0 = vec4<f32>(0.0); let ${tag}m1 = ${tag}m0; let ${tag}m2 = ${tag}m0; let ${tag}m3 = ${tag}m0;`];
  const at = `${tag}ia`;
  // The invocation's 16 dims start at (lid % kc16) x 16 (split: x 8, and KC / 2 on); a vec4 of steps
  // is 4 dims, a code word's worth, so its four vec4 are at the code words' offsets (f16WordOffsets).
  const off = f16WordOffsets(kc16, f16.split);
  const first = `let ${tag}ma = (${f16.dim} + (lid % ${u(kc16)}) * ${f16.split ? '8u' : '16u'}) / 4u; let ${at} = 2u * QW + ${tag}ma;`;
  // The centres (binding 3's first section) of the same dims.
  return [`${first} ${off.map((o, i) => `let ${tag}i${i} = sq[${at}${o}];`).join(' ')} ${off.map((o, i) => `let ${tag}m${i} = sq[${tag}ma${o}];`).join(' ')}`];
}

/**
 * rowsF16: where an invocation's four code words of a copy (16 dims) go, from its first: in a row
 * (pairs of vec4 of halves 2j, 2j + 1), or split (vec4 j and j + KC / 16: words 2j, 2j + 1 and
 * 2 KC / 16 on). The steps of those dims sit at the same offsets, a vec4 a word.
 */
function f16WordOffsets(kc16: number, split?: boolean): string[] {
  return split ? ['', ' + 1u', ` + ${u(2 * kc16)}`, ` + ${u(2 * kc16)} + 1u`] : ['', ' + 1u', ' + 2u', ' + 3u'];
}

/**
 * Hook prologue 'pre': each invocation reads its query's scale, q . vmin and sum a from the
 * pre-pass output (after the codes of the block-padded batch). The phony read keeps binding 3 in the
 * pipeline's layout, which the contract binds for every scorer.
 */
const PRE_PROLOGUE = `
  _ = sq[0];
  if (live) {
    let qm = queries[(params.nq + BQ - 1u) / BQ * BQ * (QPLANES * D / 16u) + q];
    scale = bitcast<f32>(qm.x);
    qv = bitcast<f32>(qm.y);
    suma = bitcast<i32>(qm.z);
  }`;

/**
 * Hook prologue 'hold' (after PRE_PROLOGUE): the block's BQ queries' codes from the pre-pass output
 * (D / 16 vec4 a query; the batch is padded to BQ with zero queries, so every read is in the
 * buffer) copied once into `wq`, QSW words a query as 'whole' lays them out, with 16-byte loads on
 * consecutive addresses. The tiles then load query fragments from there and stage only rows.
 */
const HOLD_COPY = `
  for (var e = lid; e < BQ * (D / 16u); e += NT) {
    let v = queries[qBlock * BQ * (D / 16u) + e];
    let o = (e / (D / 16u)) * QSW + (e % (D / 16u)) * 4u;
    wq[o] = bitcast<ET>(v.x);
    wq[o + 1u] = bitcast<ET>(v.y);
    wq[o + 2u] = bitcast<ET>(v.z);
    wq[o + 3u] = bitcast<ET>(v.w);
  }
  workgroupBarrier();`;

/** Hook prologue 'whole': invocation lid quantises its own query, all dims, into `wq`. */
const WHOLE_PROLOGUE = `
  if (live) {
    var m = 0.0;
    for (var c = 0u; c < QW; c++) {
      let x = queries[q * QW + c];
      let y = abs(x * sq[QW + c]);
      m = max(m, max(max(y.x, y.y), max(y.z, y.w)));
      qv += dot(x, sq[c]);
    }
    if (m > 0.0) { scale = m / 127.0; }
  }
  for (var c = 0u; c < QW; c++) {
    var word = 0u;
    if (live) {
      let a = vec4<i32>(clamp(round(queries[q * QW + c] * sq[QW + c] / scale), vec4<f32>(-127.0), vec4<f32>(127.0)));
      suma += a.x + a.y + a.z + a.w;
      word = pack4xI8(a);
    }
    wq[lid * QSW + c] = bitcast<ET>(word);
  }
  workgroupBarrier();`;

/**
 * Hook prologue 'quant': the subgroup reads each query of the block with coalesced loads and
 * reduces max |y|, q . vmin and sum a (a quantised exactly as the chunks are later: y / s, the same
 * expression); invocation j keeps query j's scale, q . vmin and sum a; \`wsc\` holds the scales
 * (0 for queries past nq, whose chunks are staged as zeros).
 */
const QUANT_PROLOGUE = `
  for (var j = 0u; j < BQ; j++) {
    let qj = qBlock * BQ + j;
    var s = 0.0;
    if (qj < params.nq) {
      var m = 0.0;
      var v = 0.0;
      for (var c = lid; c < QW; c += NT) {
        let x = queries[qj * QW + c];
        let y = abs(x * sq[QW + c]);
        m = max(m, max(max(y.x, y.y), max(y.z, y.w)));
        v += dot(x, sq[c]);
      }
      let mm = subgroupMax(m);
      let vv = subgroupAdd(v);
      s = select(1.0, mm / 127.0, mm > 0.0);
      var sa = 0i;
      for (var c = lid; c < QW; c += NT) {
        let a = vec4<i32>(clamp(round(queries[qj * QW + c] * sq[QW + c] / s), vec4<f32>(-127.0), vec4<f32>(127.0)));
        sa += a.x + a.y + a.z + a.w;
      }
      let ss = subgroupAdd(sa);
      if (lid == j) { scale = s; qv = vv; suma = ss; }
    }
    if (lid == 0u) { wsc[j] = s; }
  }
  workgroupBarrier();`;

/** The merge kernel's WGSL for k' candidates per query. */
export function mergeSource(kp: number): string {
  return unrollLists(fill(mergeTemplate, { CONSTS: `const KP: u32 = ${u(kp)};` }), kp);
}

/**
 * Turns the templates' sorted lists `kk` / `ii` (array<i32, KP>) into KP scalar variables and
 * unrolls every `for (var i = 0u; i < KP; i++) { ... }` over them. Measured on the H100: left as
 * arrays indexed in a loop they live in local memory and the insertions dominated the kernel.
 */
export function unrollLists(src: string, kp: number): string {
  let out = src;
  // kk / ii: the lists of every kernel; kb / ib: the second lists of two-list (LPI = 2) kernels.
  for (const [k, v] of [['kk', 'ii'], ['kb', 'ib']] as const) {
    out = out
      .replace(new RegExp(`var ${k}: array<i32, KP>;`, 'g'), Array.from({ length: kp }, (_, i) => `var ${k}_${i}: i32;`).join(' '))
      .replace(new RegExp(`var ${v}: array<i32, KP>;`, 'g'), Array.from({ length: kp }, (_, i) => `var ${v}_${i}: i32;`).join(' '))
      .replace(new RegExp(`\\b${k}\\[KP - 1u\\]`, 'g'), `${k}_${kp - 1}`)
      .replace(new RegExp(`\\b${v}\\[KP - 1u\\]`, 'g'), `${v}_${kp - 1}`);
  }
  const head = 'for (var i = 0u; i < KP; i++) {';
  for (let at = out.indexOf(head); at >= 0; at = out.indexOf(head)) {
    let depth = 0;
    let end = at + head.length - 1;
    for (; end < out.length; end++) {
      if (out[end] === '{') depth++;
      else if (out[end] === '}' && --depth === 0) break;
    }
    const body = out.slice(at + head.length, end);
    const copies = Array.from({ length: kp }, (_, i) =>
      '{' +
      body
        .replace(/\b(kk|ii|kb|ib)\[i\]/g, (_m, n: string) => `${n}_${i}`)
        .replace(/\bi\b/g, `${i}u`) +
      '}',
    );
    out = out.slice(0, at) + copies.join('\n') + out.slice(end + 1);
  }
  if (/\b(kk|ii|kb|ib)\[/.test(out)) throw new Error('unrollLists: an indexed list access is left');
  return out;
}

function dot4Tile(s: SelectShape, br: number, bq: number, nt: number): string {
  const dot = s.signed ? 'dot4I8Packed(b, a)' : 'bitcast<i32>(dot4U8Packed(b, a))';
  const acc = s.signed ? 'var acc = 0i;' : 'var acc = 0i; // u8 sums stay below 2^31 (255 * 255 * d for d < 33000)';
  return `
    for (var e = lid; e < ${u(br * bq)}; e += ${u(nt)}) {
      let r = e % ${u(br)};
      let ql = e / ${u(br)};
      let bAt = (t + r) * (D / 4u);
      let qAt = (qBlock * BQ + ql) * (D / 4u);
      ${acc}
      for (var w = 0u; w < D / 4u; w++) {
        let b = bitcast<u32>(base[bAt + w]);
        let a = bitcast<u32>(queries[qAt + w]);
        acc += ${dot};
      }
      st[r * ${u(bq)} + ql] = bitcast<ET>(acc);
    }`;
}

/**
 * Tensor-core tile: the workgroup's one subgroup accumulates rowTiles x queryTiles result matrices
 * of M rows x N queries over K-dim steps. Left = base rows (row-major, stride D bytes); right =
 * queries as K x N (column-major: query n's dims are contiguous, stride D). 8-bit offsets and
 * strides count bytes (Dawn divides them by 4 for the i32 array), so they stay multiples of 4.
 * Results go to `st` row-major (stride BQ). Every offset is workgroup-uniform.
 */
function mmaTile(s: SelectShape, bq: number): string {
  const t = s.signed ? 'i8' : 'u8';
  const rt = s.signed ? 'i32' : 'u32';
  const L = `subgroup_matrix_left<${t}, ${s.k}, ${s.m}>`;
  const R = `subgroup_matrix_right<${t}, ${s.n}, ${s.k}>`;
  const A = `subgroup_matrix_result<${rt}, ${s.n}, ${s.m}>`;
  const { load, store } = spell(s);
  const qk = s.quirk ?? DEFAULT_QUIRK;
  const stride = qk.strideMul === 1 ? 'D' : `${u(qk.strideMul)} * D`;
  const lines: string[] = [];
  lines.push('{');
  lines.push(`  let rowAt = t * D;`);
  lines.push(`  let qAt = qBlock * BQ * D;`);
  for (let i = 0; i < s.rowTiles; i++) for (let j = 0; j < s.queryTiles; j++) lines.push(`  var acc_${i}_${j} = ${A}();`);
  lines.push(`  for (var kd = 0u; kd < D; kd += ${u(s.k)}) {`);
  for (let i = 0; i < s.rowTiles; i++) lines.push(`    let l${i} = ${load(L, '&base', `rowAt + ${u(i * s.m)} * D + kd`, qk.leftColMajor, stride)};`);
  for (let j = 0; j < s.queryTiles; j++) lines.push(`    let r${j} = ${load(R, '&queries', `qAt + ${u(j * s.n)} * D + kd`, qk.rightColMajor, stride)};`);
  for (let i = 0; i < s.rowTiles; i++) {
    for (let j = 0; j < s.queryTiles; j++) lines.push(`    acc_${i}_${j} = subgroupMatrixMultiplyAccumulate(l${i}, r${j}, acc_${i}_${j});`);
  }
  lines.push('  }');
  // u8 x u8 accumulates in u32 into the u32 tile; the selection reads it as i32 (values < 2^31).
  for (let i = 0; i < s.rowTiles; i++) {
    for (let j = 0; j < s.queryTiles; j++) lines.push(`  ${store('&st', u(i * s.m * bq + j * s.n), `acc_${i}_${j}`, u(bq))};`);
  }
  lines.push('}');
  return lines.join('\n    ');
}

/** Spelling of subgroupMatrixLoad / Store for a shape's syntax. */
function spell(s: SelectShape) {
  const load = (type: string, ptr: string, off: string, colMajor: boolean, stride: string) =>
    s.syntax === 'template-enum'
      ? `subgroupMatrixLoad<${type}, ${colMajor ? 'col_major' : 'row_major'}>(${ptr}, ${off}, ${stride})`
      : `subgroupMatrixLoad<${type}>(${ptr}, ${off}, ${colMajor}, ${stride})`;
  const store = (ptr: string, off: string, value: string, stride: string) =>
    s.syntax === 'template-enum'
      ? `subgroupMatrixStore<row_major>(${ptr}, ${off}, ${value}, ${stride})`
      : `subgroupMatrixStore(${ptr}, ${off}, ${value}, false, ${stride})`;
  return { load, store };
}

/**
 * Copies `rows` rows x KC bytes starting at vec4 index `src` (row stride D/16 vec4) into the
 * workgroup array `dst` (row stride SW words): 16-byte loads, consecutive invocations on
 * consecutive addresses, at most 8 loads issued before their stores (independent loads in flight).
 */
function stageCopy(dst: string, srcArr: string, src: string, rows: number, kc: number, nt: number, tag: string, xor = false, rowMax?: string, conv?: RowConversion): string[] {
  const per = copiesOf(rows, kc, nt);
  const lines: string[] = [];
  for (let g = 0; g < per; g += 8) {
    const part = stageCopyParts(dst, srcArr, src, rows, kc, nt, tag, xor, rowMax, g, Math.min(per, g + 8), conv);
    lines.push(...part.loads, ...part.stores);
  }
  return lines;
}

/** An invocation's copies of `rows` x kc dims, 16 dims a copy. */
function copiesOf(rows: number, kc: number, nt: number): number {
  return Math.ceil((rows * (kc / 16)) / nt);
}

/**
 * Rows other than u8 codes: 'f16' (StageOptions.rowsF16: quantised while staged; dim is the chunk's
 * first dimension), 'digits' (rowsF32: a word of first digits to `dst`, the word D bytes on of
 * second digits to `${dst}2`) or 'halves' (rowsHalf: packed f16 rows or queries as 16 halves into
 * the f16 array `dst`).
 */
type RowConversion = { kind: 'f16'; dim: string; uniform: boolean; split?: boolean } | { kind: 'digits' } | { kind: 'halves' };

/**
 * stageCopyParts' text: `loads` (each copy's index, then its loaded words as lets), the workgroup
 * `stores`, and the same loads apart (`copies`: the index line, each word's name and load), which
 * prefetchTiles declares and assigns across tiles instead.
 */
type StagedCopies = { loads: string[]; stores: string[]; copies: { index: string; words: [string, string][] }[] };

/**
 * stageCopy's loads (into `${tag}v${j}`) and workgroup stores for the invocation's copies j in [from, to).
 * f16 (rows of packed f16, StageOptions.rowsF16): each 16-byte word of codes comes from two vec4
 * of halves (`src` counts those, D / 8 a row) quantised by f16Codes, and the stores of copy 0's part
 * start with the inverse steps' loads (f16Inverses); digits (rowsF32): the word of first digits
 * (to `dst`) and the one D / 16 vec4 on of second digits (to `${dst}2`), D / 8 vec4 a row;
 * halves (rowsHalf): the two vec4 of packed f16 as their 16 halves into the f16 array `dst` (SWH
 * halves a row), in order. Measured against two other stagings on the H200 (calls p2-p4, 1M x 768,
 * 16 queries; in order, 4 invocations share a bank at each store): a word (two halves) an
 * invocation with 4-byte loads 2.6x slower; each invocation's word stores rotated so that every
 * store covers 32 banks (the vector's word picked at run time) 7.5x slower.
 */
function stageCopyParts(dst: string, srcArr: string, src: string, rows: number, kc: number, nt: number, tag: string, xor: boolean, rowMax: string | undefined, from: number, to: number, conv?: RowConversion): StagedCopies {
  const kc16 = kc / 16;
  const total = rows * kc16;
  const guard = total % nt !== 0;
  // f16 codes split: a copy's two vec4 of halves are j and j + KC / 16 of the chunk, its four code
  // words two pairs KC / 8 words apart (f16WordOffsets).
  const split = conv?.kind === 'f16' && !!conv.split;
  const copies: StagedCopies['copies'] = [];
  const stores: string[] = [];
  for (let j = from; j < to; j++) {
    const words: [string, string][] = [];
    copies.push({ index: `let ${tag}e${j} = min(lid + ${u(j * nt)}, ${u(total - 1)});`, words });
    const row = rowMax ? `min(${tag}e${j} / ${u(kc16)}, ${rowMax})` : `(${tag}e${j} / ${u(kc16)})`;
    if (conv === undefined) {
      words.push([`${tag}v${j}`, `${srcArr}[${src} + ${row} * (D / 16u) + ${tag}e${j} % ${u(kc16)}]`]);
    } else if (conv.kind === 'f16' || conv.kind === 'halves') {
      // The copy's two vec4 of halves in the row's chunk: 2j and 2j + 1, or split j and j + KC / 16.
      const a = split ? `${tag}e${j} % ${u(kc16)}` : `(${tag}e${j} % ${u(kc16)}) * 2u`;
      words.push([`${tag}a${j}`, `${srcArr}[${src} + ${row} * (D / 8u) + ${a}]`]);
      words.push([`${tag}b${j}`, `${srcArr}[${src} + ${row} * (D / 8u) + ${a}${split ? ` + ${u(kc16)}` : ' + 1u'}]`]);
    } else {
      words.push([`${tag}a${j}`, `${srcArr}[${src} + ${row} * (D / 8u) + ${tag}e${j} % ${u(kc16)}]`]);
      words.push([`${tag}b${j}`, `${srcArr}[${src} + ${row} * (D / 8u) + D / 16u + ${tag}e${j} % ${u(kc16)}]`]);
    }
  }
  // Where a copy's four words go from its first.
  const offsets = f16WordOffsets(kc16, split);
  for (let j = from; j < to; j++) {
    const o = `${tag}o${j}`;
    const word = (arr: string, w: string) => ['x', 'y', 'z', 'w'].map((c, i) => `${arr}[${o}${offsets[i]}] = bitcast<ET>(${w}.${c});`).join(' ');
    const inv = `${tag}i0, ${tag}i1, ${tag}i2, ${tag}i3, ${tag}m0, ${tag}m1, ${tag}m2, ${tag}m3`;
    const at = `let ${o} = (${tag}e${j} / ${u(kc16)}) * SW + (${tag}e${j} % ${u(kc16)}) * ${split ? '2u' : '4u'};`;
    let body: string;
    if (conv?.kind === 'digits') {
      body = `${at} ${word(dst, `${tag}a${j}`)} ${word(`${dst}2`, `${tag}b${j}`)}`;
    } else if (conv?.kind === 'halves') {
      const halves = [`${tag}a${j}`, `${tag}b${j}`].flatMap((v, x) => ['x', 'y', 'z', 'w'].map((c, y) => `let ${tag}h${j}_${4 * x + y} = bitcast<vec2<f16>>(${v}.${c});`));
      const put = Array.from({ length: 16 }, (_, i) => `${dst}[${o} + ${u(i)}] = ${tag}h${j}_${i >> 1}.${i & 1 ? 'y' : 'x'};`);
      body = `let ${o} = (${tag}e${j} / ${u(kc16)}) * SWH + (${tag}e${j} % ${u(kc16)}) * 16u; ${halves.join(' ')} ${put.join(' ')}`;
    } else {
      // xor: u8 codes c become the i8 c - 128 (top bit flipped in every byte).
      const v = conv?.kind === 'f16' ? `f16Codes(${tag}a${j}, ${tag}b${j}, ${inv})` : xor ? `(${tag}v${j} ^ vec4<u32>(0x80808080u))` : `${tag}v${j}`;
      body = `${at} let ${tag}w${j} = ${v}; ${word(dst, `${tag}w${j}`)}`;
    }
    stores.push(guard && (j + 1) * nt > total ? `if (lid + ${u(j * nt)} < ${u(total)}) { ${body} }` : `{ ${body} }`);
  }
  if (conv?.kind === 'f16' && from === 0) stores.unshift(...f16Inverses(tag, conv, kc16, nt));
  return { loads: copies.flatMap((c) => [c.index, ...c.words.map(([name, load]) => `let ${name} = ${load};`)]), stores, copies };
}

/**
 * The hook's 'quant' query staging: the block's BQ queries x KC dims of float32 (vec4 = 4 dims =
 * one packed i8 word) quantised with the scales in \`wsc\` into \`wq\` (SW words a query). Query
 * indices past nq are clamped for the read and staged as zeros (scale 0).
 */
function quantCopy(kd: string, bq: number, kc: number, nt: number): string[] {
  const per4 = kc / 4;
  const total = bq * per4;
  const per = Math.ceil(total / nt);
  const lines: string[] = [];
  for (let g = 0; g < per; g += 8) {
    const js = Array.from({ length: Math.min(8, per - g) }, (_, x) => g + x);
    for (const j of js) {
      lines.push(`let qe${j} = min(lid + ${u(j * nt)}, ${u(total - 1)});`);
      lines.push(`let qq${j} = qe${j} / ${u(per4)}; let qw${j} = ${kd} / 4u + qe${j} % ${u(per4)};`);
      lines.push(`let qx${j} = queries[min(qBlock * BQ + qq${j}, params.nq - 1u) * QW + qw${j}] * sq[QW + qw${j}];`);
    }
    for (const j of js) {
      const body = `let qs${j} = wsc[qq${j}]; let qa${j} = select(vec4<i32>(0), vec4<i32>(clamp(round(qx${j} / qs${j}), vec4<f32>(-127.0), vec4<f32>(127.0))), qs${j} > 0.0); wq[qq${j} * SW + qe${j} % ${u(per4)}] = bitcast<ET>(pack4xI8(qa${j}));`;
      lines.push((j + 1) * nt > total ? `if (lid + ${u(j * nt)} < ${u(total)}) { ${body} }` : `{ ${body} }`);
    }
  }
  return lines;
}

/**
 * rowsF32: after the stores of `count` scores (row-major from word 0 of `wr` and `wr2`) and a
 * barrier, each key becomes acc + round(acc2 / 128) (the arithmetic shift floors: + 64 rounds half
 * up). The caller's next barrier orders it before the selection.
 */
function combineDigits(count: number): string[] {
  return ['  workgroupBarrier();', `  for (var e = lid; e < ${u(count)}; e += NT) { wr[e] = wr[e] + ((wr2[e] + 64) >> 7u); }`];
}

/**
 * Tensor-core tile through workgroup memory (see shaders/int8_mma_staged.wgsl). With `unroll` the
 * chunk and K-step loops are unrolled, so every workgroup-memory matrix offset is a constant: Dawn
 * then needs no run-time bounds check around the load (measured on the H200: the checked fragment
 * loads ran at about 60 % of the unchecked ones). Queries: 'wg' staged per chunk like the rows,
 * 'storage' loaded as fragments from the buffer, 'whole' already in `wq` for all dims (QSW words a
 * query, written by the caller's prologue).
 */
function stagedTile(s: SelectShape, br: number, bq: number, nt: number, sw: number, partSelect?: (from: number, count: number) => string, preLoop?: string[]): string {
  const st = s.stage!;
  const t = s.signed ? 'i8' : 'u8';
  const rt = s.signed ? 'i32' : 'u32';
  const half = !!st.rowsHalf;
  // rowsHalf: f16 operands, f32 results, rows in `wh` (SWH halves a row).
  const L = half ? `subgroup_matrix_left<f16, ${s.k}, ${s.m}>` : `subgroup_matrix_left<${t}, ${s.k}, ${s.m}>`;
  const R = half ? `subgroup_matrix_right<f16, ${s.n}, ${s.k}>` : `subgroup_matrix_right<${t}, ${s.n}, ${s.k}>`;
  const A = half ? `subgroup_matrix_result<f32, ${s.n}, ${s.m}>` : `subgroup_matrix_result<${rt}, ${s.n}, ${s.m}>`;
  const { load, store } = spell(s);
  const qk = s.quirk ?? DEFAULT_QUIRK;
  const mul = (x: string) => (qk.strideMul === 1 ? x : `${u(qk.strideMul)} * ${x}`);
  // Elements a staged row: bytes of i8 (4 a word), or halves.
  const rowElems = half ? halfStride(s) : sw * 4;
  const wstride = mul(`${u(rowElems)}`);
  const leftArr = half ? '&wh' : '&wr';
  const qsw = s.dPad / 4 + 4;
  const lines: string[] = ['{'];
  // The tile row t's first vec4 of the base: D / 16 of u8 codes, D / 8 of packed f16 (rowsF16) or of two digit planes (rowsF32).
  const rowVec = st.rowsF16 || st.rowsF32 || half ? 8 : 16;
  // A chunk's first vec4 within the row: kd / 8 of packed f16, kd / 16 of codes (of each digit plane).
  const chunkVec = st.rowsF16 || half ? 8 : 16;
  const f32 = !!st.rowsF32;
  const conv = (kd: string): RowConversion | undefined => (st.rowsF16 ? { kind: 'f16', dim: kd, uniform: !!st.f16Uniform, split: !!st.f16Split } : f32 ? { kind: 'digits' } : half ? { kind: 'halves' } : undefined);
  // rowsHalf: the pre-pass's queries are halves too (D / 8 vec4 a query), staged into `wq` as f16.
  const qconv: RowConversion | undefined = half ? { kind: 'halves' } : undefined;
  const qVec = half ? 8 : 16;
  lines.push(`  let rowAtV = t * (D / ${u(rowVec)});`);
  lines.push(`  let qAt16 = qBlock * BQ * (D / ${u(qVec)});`);
  // rowsF32: the queries' second digits, a plane of the pre-pass output after the first.
  if (f32) lines.push('  let qAt16b = (params.nq + BQ - 1u) / BQ * BQ * (D / 16u) + qAt16;');
  lines.push('  let qAt = qBlock * BQ * D;');
  // The tile's last row, relative to t (t < params.rows in every caller).
  if (st.clampRows) lines.push('  let rmax = params.rows - 1u - t;');
  // Several warps a workgroup (hook only): warp sid's query columns start at sid * queryTiles * N,
  // in wq (bytes, SW words a query) and in the scores tile (i32 elements). subgroup_id is
  // subgroup-uniform, which is what the matrix loads and stores require.
  // With warpBranch, warp w's code is its own branch and these offsets are the constants w * ...
  const warps = s.sgQueries;
  const branch = warps > 1 && !!st.warpBranch;
  const wq0 = (w: number | undefined) => (w === undefined ? (warps > 1 ? 'wq0 + ' : '') : `${u(w * s.queryTiles * s.n * rowElems)} + `);
  const wr0 = (w: number | undefined) => (w === undefined ? (warps > 1 ? 'wr0 + ' : '') : `${u(w * s.queryTiles * s.n)} + `);
  if (warps > 1 && !branch) lines.push(`  let wq0 = sid * ${u(s.queryTiles * s.n * rowElems)};`, `  let wr0 = sid * ${u(s.queryTiles * s.n)};`);
  // Warp w's copy of `body` under `if (sid == w)` (subgroup-uniform control flow), or `body` once.
  const perWarp = (body: (w: number | undefined) => string[], ind: string): string[] => {
    if (!branch) return body(undefined);
    const out: string[] = [];
    for (let w = 0; w < warps; w++) {
      out.push(`${ind}${w === 0 ? '' : '} else '}${w === warps - 1 ? '{' : `if (sid == ${u(w)}) {`}`);
      out.push(...body(w).map((l) => '  ' + l));
    }
    out.push(`${ind}}`);
    return out;
  };
  for (let i = 0; i < s.rowTiles; i++) for (let j = 0; j < s.queryTiles; j++) lines.push(`  var acc_${i}_${j} = ${A}();`);
  // rowsF32: the cross products' accumulators (a1 . c2 + a2 . c1).
  if (f32) for (let i = 0; i < s.rowTiles; i++) for (let j = 0; j < s.queryTiles; j++) lines.push(`  var acb_${i}_${j} = ${A}();`);
  const qwg = st.queries === 'wg' || st.queries === 'pre';
  const chunk = (kd: string, kcs: string[], ind: string) => {
    const out: string[] = [];
    out.push(...stageCopy(half ? 'wh' : 'wr', 'base', `rowAtV + ${kd} / ${u(chunkVec)}`, br, st.kc, nt, 'r', st.xorRows, st.clampRows ? 'rmax' : undefined, conv(kd)).map((l) => ind + l));
    if (qwg) out.push(...stageCopy('wq', 'queries', `qAt16 + ${kd} / ${u(qVec)}`, bq, st.kc, nt, 'q', false, undefined, qconv).map((l) => ind + l));
    if (f32) out.push(...stageCopy('wq2', 'queries', `qAt16b + ${kd} / 16u`, bq, st.kc, nt, 'qb').map((l) => ind + l));
    if (st.queries === 'quant') out.push(...quantCopy(kd, bq, st.kc, nt).map((l) => ind + l));
    out.push(ind + 'workgroupBarrier();');
    out.push(...multiply(kd, kcs, ind));
    out.push(ind + 'workgroupBarrier();');
    return out;
  };
  // The K steps of one staged chunk (fragments from `wr` / `wq`).
  const multiply = (kd: string, kcs: string[], ind: string) => perWarp((w) => multiplyWarp(kd, kcs, ind, w), ind);
  const multiplyWarp = (kd: string, kcs: string[], ind: string, w: number | undefined) => {
    const out: string[] = [];
    for (const kc of kcs) {
      out.push(ind + '{');
      for (let i = 0; i < s.rowTiles; i++) out.push(`${ind}  let l${i} = ${load(L, leftArr, `${u(i * s.m * rowElems)} + ${kc}`, qk.leftColMajor, wstride)};`);
      for (let j = 0; j < s.queryTiles; j++) {
        const r =
          st.queries === 'wg' || st.queries === 'quant' || st.queries === 'pre'
            ? load(R, '&wq', `${wq0(w)}${u(j * s.n * rowElems)} + ${kc}`, qk.rightColMajor, wstride)
            : st.queries === 'whole' || st.queries === 'hold'
              ? load(R, '&wq', `${u(j * s.n * qsw * 4)} + ${kd} + ${kc}`, qk.rightColMajor, mul(u(qsw * 4)))
              : load(R, '&queries', `qAt + ${u(j * s.n)} * D + ${kd} + ${kc}`, qk.rightColMajor, mul('D'));
        out.push(`${ind}  let r${j} = ${r};`);
      }
      if (f32) {
        // The second digits' fragments, at the same offsets of wr2 / wq2.
        for (let i = 0; i < s.rowTiles; i++) out.push(`${ind}  let h${i} = ${load(L, '&wr2', `${u(i * s.m * sw * 4)} + ${kc}`, qk.leftColMajor, wstride)};`);
        for (let j = 0; j < s.queryTiles; j++) out.push(`${ind}  let g${j} = ${load(R, '&wq2', `${wq0(w)}${u(j * s.n * sw * 4)} + ${kc}`, qk.rightColMajor, wstride)};`);
      }
      for (let i = 0; i < s.rowTiles; i++) {
        for (let j = 0; j < s.queryTiles; j++) {
          out.push(`${ind}  acc_${i}_${j} = subgroupMatrixMultiplyAccumulate(l${i}, r${j}, acc_${i}_${j});`);
          if (f32) out.push(`${ind}  acb_${i}_${j} = subgroupMatrixMultiplyAccumulate(h${i}, r${j}, acb_${i}_${j});`, `${ind}  acb_${i}_${j} = subgroupMatrixMultiplyAccumulate(l${i}, g${j}, acb_${i}_${j});`);
        }
      }
      out.push(ind + '}');
    }
    return out;
  };
  const steps = Array.from({ length: st.kc / s.k }, (_, x) => x * s.k);
  if (st.unroll && st.prefetch) {
    // Chunk c + depth's global loads are issued right after chunk c's stores and barrier, before its
    // multiplies; each chunk's loaded words have their own names (r<c>_v<j>, q<c>_v<j>).
    const kds = Array.from({ length: s.dPad / st.kc }, (_, c) => c * st.kc);
    const perR = copiesOf(br, st.kc, nt);
    const perQ = copiesOf(bq, st.kc, nt);
    // Chunk c's loads and stores, its rows from `rowBase` (the first vec4 of tile row 0) clamped to row `rowMax`.
    const chunkParts = (kd: number, c: number, rowBase: string, rowMax: string, qBase: string, qbBase: string) => {
      const r = stageCopyParts(half ? 'wh' : 'wr', 'base', `${rowBase} + ${u(kd / chunkVec)}`, br, st.kc, nt, `r${c}_`, !!st.xorRows, st.clampRows ? rowMax : undefined, 0, perR, conv(u(kd)));
      const none: StagedCopies = { loads: [], stores: [], copies: [] };
      const q = qwg ? stageCopyParts('wq', 'queries', `${qBase} + ${u(kd / qVec)}`, bq, st.kc, nt, `q${c}_`, false, undefined, 0, perQ, qconv) : none;
      const qb = f32 ? stageCopyParts('wq2', 'queries', `${qbBase} + ${u(kd / 16)}`, bq, st.kc, nt, `q${c}_b`, false, undefined, 0, perQ) : none;
      return { loads: [...r.loads, ...q.loads, ...qb.loads], stores: [...r.stores, ...q.stores, ...qb.stores], copies: [...r.copies, ...q.copies, ...qb.copies] };
    };
    const parts = kds.map((kd, c) => chunkParts(kd, c, 'rowAtV', 'rmax', 'qAt16', 'qAt16b'));
    const ind = '  ';
    const depth = Math.min(st.prefetchDepth ?? 1, kds.length);
    // prefetchTiles: chunks [0, depth) are carried across tiles: their loaded words live in `var`s
    // declared before the tile loop (where the first tile's are loaded), assigned by the previous
    // tile's last chunks; their index lets are made again beside the stores.
    const carried = !!st.prefetchTiles && preLoop !== undefined;
    const carriedLoads = (copies: StagedCopies['copies']) => ['{', ...copies.flatMap((c) => [c.index, ...c.words.map(([name, load]) => `${name} = ${load};`)]), '}'];
    if (carried) {
      const qBase = `qBlock * BQ * (D / ${u(qVec)})`;
      const qbBase = `(params.nq + BQ - 1u) / BQ * BQ * (D / 16u) + ${qBase}`;
      // The segment's first row (segStart < params.rows in every workgroup the dispatch has; min keeps reads in the binding regardless).
      preLoop.push(`let t0 = min(segStart, params.rows - 1u);`);
      for (let c = 0; c < depth; c++) {
        const first = chunkParts(kds[c]!, c, `t0 * (D / ${u(rowVec)})`, '(params.rows - 1u - t0)', qBase, qbBase);
        preLoop.push(...first.copies.flatMap((x) => x.words.map(([name]) => `var ${name}: vec4<u32>;`)), ...carriedLoads(first.copies));
      }
      // The next tile's first row, clamped into the rows: past them the loop ends and the words go unused.
      lines.push(`  let tn = min(t + BR, params.rows - 1u);`, `  let rowAtN = tn * (D / ${u(rowVec)});`, `  let rmaxN = params.rows - 1u - tn;`);
    } else {
      for (let c = 0; c < depth; c++) lines.push(...parts[c]!.loads.map((l) => ind + l));
    }
    const next = carried ? kds.slice(0, depth).map((kd, c) => chunkParts(kd, c, 'rowAtN', 'rmaxN', 'qAt16', 'qAt16b')) : [];
    kds.forEach((kd, c) => {
      if (carried && c < depth) lines.push(...parts[c]!.copies.map((x) => ind + x.index));
      lines.push(...parts[c]!.stores.map((l) => ind + l));
      if (st.queries === 'quant') lines.push(ind + '{', ...quantCopy(u(kd), bq, st.kc, nt).map((l) => ind + '  ' + l), ind + '}');
      lines.push(ind + 'workgroupBarrier();');
      if (c + depth < kds.length) lines.push(...parts[c + depth]!.loads.map((l) => ind + l));
      else if (carried) lines.push(...carriedLoads(next[c + depth - kds.length]!.copies).map((l) => ind + l));
      lines.push(...multiply(u(kd), steps.map(u), ind));
      lines.push(ind + 'workgroupBarrier();');
    });
  } else if (st.unroll) {
    // Each chunk in its own block: the staging lets repeat.
    for (let kd = 0; kd < s.dPad; kd += st.kc) lines.push('  {', ...chunk(u(kd), steps.map(u), '    '), '  }');
  } else {
    lines.push('  for (var kd = 0u; kd < D; kd += KC) {');
    lines.push(...chunk('kd', steps.map(u), '    '));
    lines.push('  }');
  }
  const { lpi } = tileOf(s);
  if (lpi === 1 && st.selectRows && partSelect) {
    // selectRows at a time (one warp): part p's row tiles stored from row 0 of wr, selected, and
    // the next part stored after a barrier; the template's SELECT takes the last part.
    const per = st.selectRows / s.m;
    const parts = br / st.selectRows;
    const storePart = (p: number) => {
      for (let i = p * per; i < (p + 1) * per; i++) {
        for (let j = 0; j < s.queryTiles; j++) {
          lines.push(`  ${store('&wr', u((i - p * per) * s.m * bq + j * s.n), `acc_${i}_${j}`, u(bq))};`);
          if (f32) lines.push(`  ${store('&wr2', u((i - p * per) * s.m * bq + j * s.n), `acb_${i}_${j}`, u(bq))};`);
        }
      }
      if (f32) lines.push(...combineDigits(st.selectRows! * bq));
    };
    storePart(0);
    for (let p = 1; p < parts; p++) {
      lines.push('  workgroupBarrier();', partSelect((p - 1) * st.selectRows, st.selectRows), '  workgroupBarrier();');
      storePart(p);
    }
  } else if (lpi === 1) {
    lines.push(
      ...perWarp((w) => {
        const out: string[] = [];
        for (let i = 0; i < s.rowTiles; i++) {
          for (let j = 0; j < s.queryTiles; j++) {
            out.push(`  ${store('&wr', `${wr0(w)}${u(i * s.m * bq + j * s.n)}`, `acc_${i}_${j}`, u(bq))};`);
            if (f32) out.push(`  ${store('&wr2', `${wr0(w)}${u(i * s.m * bq + j * s.n)}`, `acb_${i}_${j}`, u(bq))};`);
          }
        }
        return out;
      }, '  '),
    );
    if (f32) lines.push(...combineDigits(br * bq));
  } else {
    // Two lists an invocation: first half of the queries stored and selected into kb / ib here,
    // then the second half stored for the template's selection (kk / ii): the scores tile holds
    // BR x BQ/2 keys, half the workgroup memory of the whole tile.
    const half = s.queryTiles / 2;
    const sbq = bq / 2;
    const storeHalf = (h: number) => {
      for (let i = 0; i < s.rowTiles; i++) {
        for (let j = 0; j < half; j++) lines.push(`  ${store('&wr', u(i * s.m * sbq + j * s.n), `acc_${i}_${j + h * half}`, u(sbq))};`);
      }
    };
    storeHalf(0);
    lines.push('  workgroupBarrier();');
    lines.push(
      '  for (var r = part; r < BR; r += TPQ) {',
      '    let row = t + r;',
      '    if (row < segEnd) {',
      '      var key = bitcast<i32>(wr[r * SBQ + qLocal]);',
      '      if (!SIGNED) { key -= 128 * rowsum[row]; }',
      insertCandidate('kb', 'ib'),
      '    }',
      '  }',
      '  workgroupBarrier();',
    );
    storeHalf(1);
  }
  lines.push('}');
  return lines.join('\n    ');
}
