/**
 * The f16 two-pass scan: f16 shards scored on f16 subgroup matrices (the tensor cores) with the
 * rows read as they are stored (exactly half of f32's memory), for batches of up to 64 queries.
 * bench/gpu-f16mma/scan2.mjs measured the shape (BENCHMARKS.md "f16 subgroup matrices again"):
 * several warps a workgroup, each scanning its own segment of rows with the row fragments loaded
 * straight from storage `ahead` steps of 16 dims before their multiplies, the batch's queries
 * staged in workgroup memory (rows padded against bank conflicts). Instead of k' lists, which cost
 * more than the scan (barriers and an owner phase every block), a batch runs:
 *
 * 1. `sample`: the same scan over a spread sample of the tiles (a dispatch a sampled tile, one
 *    16-row block a warp, blocks `sampleStride` rows apart: flat-shard.ts twoPassSamples); each
 *    lane keeps its query's best of the rows it saw.
 * 2. `threshold`: each query's KP-th largest best. The bests are maxima over disjoint sets of rows,
 *    so at least KP rows score at or above it: every row of the query's true top KP does too.
 * 3. `scan`, each tile: every score at or above its query's threshold is appended, with its id, to
 *    the query's candidates (CAP a query; counts in storage).
 * 4. `select`, each tile after its scan: each query's KP best candidates as one list (the shard's
 *    merges take it from there), the counts reset for the next tile, the threshold raised to the
 *    KP-th best candidate (KP rows already score that: later tiles append fewer rows); a query whose
 *    candidates overflowed CAP is flagged, and the shard searches it again with the exact kernels.
 *
 * Keys are approximate (the queries are rounded to f16 after a power-of-two scale, the pre-pass's
 * `halves`); the shard re-ranks the final lists exactly from the rows, as for the other f16 tensor
 * paths. Reads stay inside the tile: the last block of a tile with rows not a multiple of 16 is
 * loaded from rows - 16 on, and its rows before the block's own start are skipped.
 */

// Imported here, not through wgsl-include's table: this module loads with the tensor scorer only.
import radixSelectWgsl from '../../../shaders/radix_select.wgsl';
import { withoutNotes } from '../wgsl-include.js';

/** Compile-time facts of the scan kernels (sizes go in HalfScanParams). */
export interface HalfScanShape {
  /** Halves a row (the shard's padded dimension): a multiple of 16. */
  dPad: number;
  /** Queries a workgroup: 16, 32, 48 or 64 (the batch padded up to it). */
  bq: number;
  /** Warps (32-wide subgroups) a workgroup, each scanning its own segment. */
  warps: number;
  /** Steps of 16 dims whose row fragments are loaded ahead of the multiplies (a multiple dividing dPad / 16 into an even count). */
  ahead: number;
  /** Query dims staged at a time (dPad: all at once); a multiple of 16 x ahead dividing dPad. */
  queryChunk: number;
  /**
   * Staged query chunks in two buffers (queryChunk < dPad, an even number of chunks a row): the
   * next chunk's loads issued before this chunk's multiplies and stored after them, one barrier a
   * chunk instead of two, and its load's latency hidden behind the multiplies.
   */
  doubleStage?: boolean;
  /**
   * Blocks of 16 rows a warp of the scan takes at a time (1, 2 or 4; the sample takes 1): each
   * staged query chunk and each right fragment serves that many blocks, at the cost of that many
   * accumulators and row fragments in registers.
   */
  group?: number;
  /**
   * The sample as one block of 16 rows a workgroup, its warps splitting the block's dims (each a
   * share of the steps, the queries' fragments loaded straight from storage), the partial scores
   * summed through workgroup memory (halfSampleSplitSource): a chain of a few steps a warp in place
   * of all of them, for a pass that reads too few rows to hide its latency.
   */
  sampleSplit?: boolean;
  /**
   * Sample blocks a run (1 by default): the sample's blocks in runs of this many consecutive blocks,
   * runs segStride rows apart (flat-shard.ts twoPassSamples), so it touches fewer pages of the rows.
   */
  sampleRun?: number;
  /** Values each invocation of the selections keeps in registers across radix_select's 4 rounds (0: each round reads them all again). */
  radixHeld?: number;
  /** Entries a query's list holds (k'). */
  kp: number;
  /** Candidates a query a tile. */
  cap: number;
}

/**
 * The uniform of the scan kernels (words): rows of the tile (at least 16), blocks of 16 rows a warp,
 * segStride (rows from one warp's first block to the next's: 16 x blocks for the scan, further for
 * the spread sample), idBase (scan: the id of the tile's row 0; sample: the warps of the tiles
 * sampled before this one, whose bests come first).
 */
export const HALF_SCAN_PARAMS = ['rows', 'blocks', 'segStride', 'idBase'] as const;

/**
 * Words from one query's candidate count to the next: a 128-byte line each. Every warp of the scan
 * appends through an atomic on its query's count; packed, a batch's counts shared one or two lines,
 * every append of every query contending for them. Made for the 1M slow mode of h88-h89, which it
 * did not remove (h90-h91): no timing of its own yet.
 */
export const HALF_SCAN_COUNT_STRIDE = 32;

/** The kernels' uniform struct P, its u32 fields in the order the shard writes them (HALF_SCAN_PARAMS, HALF_SELECT_PARAMS). */
function uniformStruct(fields: readonly string[]): string {
  return `struct P { ${fields.map((f) => `${f}: u32`).join(', ')} }`;
}

/** Halves a staged query row: the chunk's dims and 8 more, so a fragment's 8 queries fall on different bank groups. */
function queryStride(s: HalfScanShape): number {
  return s.queryChunk + 8;
}

/** Buffers of staged queries: two where doubleStage applies (the queries staged in chunks). */
function stageBuffers(s: HalfScanShape): number {
  return s.doubleStage && s.queryChunk < s.dPad ? 2 : 1;
}

/** Workgroup memory the scan kernel declares: the staged queries and two halves of scores (16 rows x 16 queries a warp each). */
export function halfScanBytes(s: HalfScanShape): number {
  return stageBuffers(s) * s.bq * queryStride(s) * 2 + 2 * s.warps * 256 * 4 + s.bq * 4;
}

/** Whether a number of sample blocks a run (HalfScanShape.sampleRun) can be taken: a whole number from 1. */
export function validSampleRun(run: number): boolean {
  return Number.isInteger(run) && run >= 1;
}

/** Why a shape cannot be built, or undefined. */
export function halfScanRefusal(s: HalfScanShape): string | undefined {
  const steps = s.dPad / 16;
  if (!Number.isInteger(steps)) return `a row of ${s.dPad} halves is not a multiple of 16`;
  if (![16, 32, 48, 64].includes(s.bq)) return `queries a workgroup ${s.bq}: 16, 32, 48 or 64`;
  if (steps % s.ahead !== 0 || (steps / s.ahead) % 2 !== 0) return `${steps} steps of 16 dims do not split into an even number of chunks of ${s.ahead}`;
  if (s.queryChunk % (16 * s.ahead) !== 0 || s.dPad % s.queryChunk !== 0) return `query chunk ${s.queryChunk} must hold whole chunks of ${16 * s.ahead} dims and divide ${s.dPad}`;
  if (![1, 2, 4].includes(s.group ?? 1)) return `blocks a warp at a time ${s.group}: 1, 2 or 4`;
  if (!validSampleRun(s.sampleRun ?? 1)) return `sample blocks a run ${s.sampleRun}: a whole number from 1`;
  if (stageBuffers(s) === 2 && (s.dPad / s.queryChunk) % 2 !== 0) return `two query buffers need an even number of query chunks a row (${s.dPad / s.queryChunk} of ${s.queryChunk})`;
  if (s.kp < 1 || s.kp > s.cap) return `k' ${s.kp} must be 1..${s.cap}`;
  return undefined;
}

const LEFT = 'subgroup_matrix_left<f16, 16, 16>';
const RIGHT = 'subgroup_matrix_right<f16, 16, 16>';
const RESULT = 'subgroup_matrix_result<f32, 16, 16>';

/**
 * The scan kernel: pass 'sample' (bests a lane, bindings 0 params, 1 rows, 2 query halves, 3 bests)
 * or 'scan' (candidates: 3 candidates, 4 thresholds, 5 counts). Dispatched as (workgroups, 1, 1).
 */
export function halfScanSource(s: HalfScanShape, pass: 'sample' | 'scan'): string {
  const refusal = halfScanRefusal(s);
  if (refusal) throw new Error(`half scan: ${refusal}`);
  const steps = s.dPad / 16;
  const QT = s.bq / 16;
  const W = s.warps;
  const qs = queryStride(s);
  const chunks = steps / s.ahead;
  const stepsPerQueryChunk = s.queryChunk / 16;
  const staged = s.queryChunk < s.dPad;
  const sampling = pass === 'sample';
  // Blocks a warp at a time (the sample: one, its blocks spread apart).
  const G = sampling ? 1 : (s.group ?? 1);
  const u = (n: number) => `${n}u`;
  const buffers = stageBuffers(s);
  const bufferHalves = s.bq * qs;
  const stageWords = (s.bq * s.queryChunk) / 8;
  // Entry e of a staged chunk: query e / (KC / 8), its halves 8 w .. 8 w + 7 of the chunk (one vec4 of words).
  const entry = (e: string) => `let q = ${e} / ${u(s.queryChunk / 8)}; let w = ${e} % ${u(s.queryChunk / 8)};`;
  const fromQueries = (c: string) => `queries[(q * D + ${c} * ${u(s.queryChunk)}) / 8u + w]`;
  const unpack = (v: string, buf: string) =>
    `let o = ${buf} + q * ${u(qs)} + w * 8u; let h0 = bitcast<vec2<f16>>(${v}.x); let h1 = bitcast<vec2<f16>>(${v}.y); let h2 = bitcast<vec2<f16>>(${v}.z); let h3 = bitcast<vec2<f16>>(${v}.w); ` +
    `wq[o] = h0.x; wq[o + 1u] = h0.y; wq[o + 2u] = h1.x; wq[o + 3u] = h1.y; wq[o + 4u] = h2.x; wq[o + 5u] = h2.y; wq[o + 6u] = h3.x; wq[o + 7u] = h3.y;`;
  // Copies query dims [c KC, c KC + KC) of the BQ queries into (the first buffer of) wq.
  const stage = (c: number) => `for (var e = lid; e < ${u(stageWords)}; e += ${u(32 * W)}) { ${entry('e')} let v = ${fromQueries(u(c))}; ${unpack('v', '0u')} }`;
  // Two buffers: chunk c's words loaded into registers (pf*) ahead, stored into buffer b after the multiplies.
  const prefetchRegs = Math.ceil(stageWords / (32 * W));
  const prefetch = (c: number) =>
    Array.from({ length: prefetchRegs }, (_, i) => `{ let e = lid + ${u(i * 32 * W)}; if (e < ${u(stageWords)}) { ${entry('e')} pf${i} = ${fromQueries(u(c))}; } }`).join(' ');
  const commit = (b: number) =>
    Array.from({ length: prefetchRegs }, (_, i) => `{ let e = lid + ${u(i * 32 * W)}; if (e < ${u(stageWords)}) { ${entry('e')} ${unpack(`pf${i}`, u(b * bufferHalves))} } }`).join(' ');
  // Row fragment of step `step` of the warp's block g, at `from` (a subgroup-uniform row).
  const load = (buf: number, g: number, i: number, from: string, step: number) => `f${buf}_${g}_${i} = subgroupMatrixLoad<${LEFT}>(&base, ${from} * D + ${u(16 * step)}, false, D);`;
  const queryChunks = s.dPad / s.queryChunk;
  const body: string[] = [];
  for (let c = 0; c < chunks; c++) {
    const cur = c % 2;
    const next = (c + 1) % 2;
    const last = c + 1 === chunks;
    const queryChunk = Math.floor((c * s.ahead) / stepsPerQueryChunk);
    // The next chunk's fragments (the last chunk loads the next blocks' first): ahead of the multiplies.
    for (let g = 0; g < G; g++) for (let i = 0; i < s.ahead; i++) body.push(load(next, g, i, last ? `nextLoad${g}` : `load${g}`, last ? i : (c + 1) * s.ahead + i));
    const chunkStart = staged && (c * s.ahead) % stepsPerQueryChunk === 0;
    if (chunkStart && buffers === 1) body.push('workgroupBarrier();', stage(queryChunk), 'workgroupBarrier();');
    // Two buffers: the barrier shows this chunk's buffer to all warps, and that all are done with the other (the previous chunk's).
    if (chunkStart && buffers === 2) body.push('workgroupBarrier();', prefetch((queryChunk + 1) % queryChunks));
    // Right fragments from the buffer of this query chunk (the chunks a row are even: the same buffer each block).
    const bufferAt = buffers === 2 ? (queryChunk % 2) * bufferHalves : 0;
    for (let i = 0; i < s.ahead; i++) {
      const step = c * s.ahead + i;
      for (let j = 0; j < QT; j++) {
        // One right fragment for the G blocks.
        const mma = Array.from({ length: G }, (_, g) => `acc${g}_${j} = subgroupMatrixMultiplyAccumulate(f${cur}_${g}_${i}, r, acc${g}_${j});`).join(' ');
        body.push(`{ let r = subgroupMatrixLoad<${RIGHT}>(&wq, ${u(bufferAt + 16 * j * qs + 16 * (step % stepsPerQueryChunk))}, true, ${u(qs)}); ${mma} }`);
      }
    }
    if (buffers === 2 && ((c + 1) * s.ahead) % stepsPerQueryChunk === 0) body.push(commit((queryChunk + 1) % 2));
  }
  // After a block: each query tile's 16 x 16 scores through the warp's part of ws (two halves,
  // alternating, so one barrier a query tile keeps the next store off what others still read).
  const half = W * 256;
  const select: string[] = [];
  const stores = G * QT;
  // The warp's block of this iteration's block g (one a time: the iteration).
  const block = (g: number) => (G === 1 ? 'it' : `it * ${u(G)} + ${u(g)}`);
  for (let g = 0; g < G; g++) {
    for (let j = 0; j < QT; j++) {
      // Consecutive stores alternate halves, across iterations too (an odd count: by the iteration).
      const x = g * QT + j;
      const pb = stores % 2 === 0 ? u((x % 2) * half) : `((it + ${u(x)}) % 2u) * ${u(half)}`;
      select.push(`{ let pb = ${pb};`);
      select.push(`subgroupMatrixStore(&ws, pb + wsBase, acc${g}_${j}, false, 16u);`);
      select.push('workgroupBarrier();');
      if (sampling) {
        // The warp's own 256 scores: lane l sees query 16 j + l % 16 on rows l / 16, l / 16 + 2, ...
        for (let e = 0; e < 256; e += 32) select.push(`{ let x = ${u(e)} + lane; let row = load0 + x / 16u; let v = ws[pb + wsBase + x]; if (row >= t && row < p.rows) { best${j} = max(best${j}, v); } }`);
      } else {
        // Every warp's scores: entry e is warp e / 256's row (e % 256) / 16, query e % 16 of the tile;
        // its block it G + g of the warp's p.blocks (a last group's blocks past them are another warp's rows).
        for (let m = 0; m < W * 256; m += 32 * W) {
          select.push(`{ let e = lid + ${u(m)}; let v = ws[pb + e]; let q = ${u(16 * j)} + e % 16u; if (v >= wthr[q]${G > 1 ? ` && ${block(g)} < p.blocks` : ''}) { let start = blockStart(wid.x, e / 256u, ${block(g)}); let row = min(start, lastLoad()) + (e % 256u) / 16u; if (row >= start && row < p.rows) { let slot = atomicAdd(&counts[q * ${u(HALF_SCAN_COUNT_STRIDE)}], 1u); if (slot < CAP) { cand[q * CAP + slot] = vec2<u32>(bitcast<u32>(v), p.idBase + row); } } } }`);
        }
      }
      select.push(`acc${g}_${j} = ${RESULT}();`, '}');
    }
  }
  const bindings = sampling
    ? '@group(0) @binding(3) var<storage, read_write> bests: array<f32>;'
    : `@group(0) @binding(3) var<storage, read_write> cand: array<vec2<u32>>;
// read_write though only read: WebGPU takes a buffer bound writable in a dispatch for no other use
// there, and the shard keeps thresholds, counts and candidates in one buffer.
@group(0) @binding(4) var<storage, read_write> thresholds: array<f32>;
@group(0) @binding(5) var<storage, read_write> counts: array<atomic<u32>>;
var<workgroup> wthr: array<f32, BQ>;
// First row of warp w of workgroup wg's block b (its fragments were loaded from min(that, lastLoad())).
fn blockStart(wg: u32, w: u32, b: u32) -> u32 { return (wg * ${u(W)} + w) * p.segStride + b * 16u; }`;
  const bests = Array.from({ length: QT }, (_, j) => `var best${j} = -3.4e38;`).join(' ');
  const writeBests = Array.from({ length: QT }, (_, j) => `bests[((p.idBase + seg) * 32u + lane) * ${u(QT)} + ${u(j)}] = best${j};`).join(' ');
  return `enable f16;
enable subgroups;
diagnostic(off, subgroup_uniformity);
enable chromium_experimental_subgroup_matrix;
// half scan, pass ${pass}: src/gpu/tensor/half-scan.ts.
const D: u32 = ${u(s.dPad)};
const BQ: u32 = ${u(s.bq)};
const CAP: u32 = ${u(s.cap)};
${uniformStruct(HALF_SCAN_PARAMS)}
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> base: array<f16>;
@group(0) @binding(2) var<storage, read> queries: array<vec4<u32>>;
${bindings}
var<workgroup> wq: array<f16, ${buffers * bufferHalves}>;
var<workgroup> ws: array<f32, ${2 * half}>;
// The last block that lies inside the tile (tiles of fewer than 16 rows are not scanned).
fn lastLoad() -> u32 { return p.rows - 16u; }
@compute @workgroup_size(${32 * W}, 1, 1)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(subgroup_id) sid: u32, @builtin(subgroup_invocation_id) lane: u32) {
  ${staged ? '' : `${stage(0)}\n  workgroupBarrier();`}
  ${buffers === 2 ? `${Array.from({ length: prefetchRegs }, (_, i) => `var pf${i}: vec4<u32>;`).join(' ')}\n  ${stage(0)}` : ''}
  // Matrix offsets must be subgroup-uniform: the warp from subgroup_id, not lid / 32.
  let warp = sid;
  let seg = wid.x * ${u(W)} + warp;
  let wsBase = warp * 256u;
  ${sampling ? bests : `for (var e = lid; e < BQ; e += ${u(32 * W)}) { wthr[e] = thresholds[e]; }`}
  ${Array.from({ length: G * QT }, (_, x) => `var acc${Math.floor(x / QT)}_${x % QT} = ${RESULT}();`).join(' ')}
  // t: the first row of this iteration's blocks; load g: where block g's fragments are loaded from
  // (t + 16 g, or the tile's last block).
  var t = ${sampling ? sampleStart('seg', s.sampleRun ?? 1) : 'seg * p.segStride'};
  ${Array.from({ length: G }, (_, g) => `var load${g} = min(t + ${u(16 * g)}, lastLoad()); var nextLoad${g} = load${g};`).join(' ')}
  ${Array.from({ length: 2 * G * s.ahead }, (_, x) => `var f${Math.floor(x / (G * s.ahead))}_${Math.floor(x / s.ahead) % G}_${x % s.ahead}: ${LEFT};`).join(' ')}
  ${Array.from({ length: G * s.ahead }, (_, x) => load(0, Math.floor(x / s.ahead), x % s.ahead, `load${Math.floor(x / s.ahead)}`, x % s.ahead)).join(' ')}
  for (var it = 0u; ${G === 1 ? 'it' : `it * ${u(G)}`} < p.blocks; it++) {
    ${Array.from({ length: G }, (_, g) => `nextLoad${g} = min(select(t + ${u(16 * (G + g))}, t + ${u(16 * g)}, ${G === 1 ? 'it + 1u == p.blocks' : `(it + 1u) * ${u(G)} >= p.blocks`}), lastLoad());`).join(' ')}
    ${body.join('\n    ')}
    ${select.join('\n    ')}
    t += ${u(16 * G)};
    ${Array.from({ length: G }, (_, g) => `load${g} = nextLoad${g};`).join(' ')}
  }
  ${sampling ? writeBests : ''}
}`;
}

/** The first row of sample block `block` (WGSL): blocks in runs of `run` consecutive ones, runs p.segStride rows apart. */
function sampleStart(block: string, run: number): string {
  return run === 1 ? `${block} * p.segStride` : `(${block} / ${run}u) * p.segStride + (${block} % ${run}u) * 16u`;
}

/** How far below its sum of partials' magnitudes a split sample's score is lowered (halfSampleSplitSource). */
export const SPLIT_SAMPLE_MARGIN = 2 ** -12;

/** Workgroup memory of the split sample (halfSampleSplitSource): each warp's partial scores. */
export function halfSampleSplitBytes(s: HalfScanShape): number {
  return s.warps * (s.bq / 16) * 256 * 4;
}

/**
 * The sample with each block's dims split among a workgroup's warps (HalfScanShape.sampleSplit):
 * the same bindings, params and bests as halfScanSource's 'sample', dispatched as one workgroup a
 * sample warp (workgroups x warps of twoPassSamples), workgroup b taking block b (sampleStart: runs
 * of sampleRun blocks, segStride rows apart, bounded by the tile) and writing the bests of sample
 * warp idBase + b. Warp w multiplies steps
 * w, w + W, ... of 16 dims (its fragments all loaded before its multiplies); the W partial 16 x 16
 * results of each query tile are summed in a fixed order, so the bests do not depend on timing.
 * Summed in another order than the scan's one accumulator, a score may round an ulp or so above the
 * scan's key of the same row, and a threshold there would drop that row (thousands of duplicate rows
 * at the top, all dropped). So each sum is lowered by SPLIT_SAMPLE_MARGIN times the sum of its
 * partials' magnitudes, far above the rounding of 48 steps of f32 sums (about 2^-18 of it): lower
 * bests only lower the thresholds, adding the candidates within that margin.
 */
export function halfSampleSplitSource(s: HalfScanShape): string {
  const refusal = halfScanRefusal(s);
  if (refusal) throw new Error(`half scan: ${refusal}`);
  const steps = s.dPad / 16;
  const QT = s.bq / 16;
  const W = s.warps;
  const u = (n: number) => `${n}u`;
  // Steps a warp: the last ones of a warp past the row's steps where W does not divide them.
  const perWarp = Math.ceil(steps / W);
  const uneven = steps % W !== 0;
  const loads: string[] = [];
  const mmas: string[] = [];
  for (let i = 0; i < perWarp; i++) {
    const step = `warp + ${u(W * i)}`;
    const guard = (code: string) => (uneven && i === perWarp - 1 ? `if (${step} < ${u(steps)}) { ${code} }` : code);
    loads.push(`var f${i}: ${LEFT};`, guard(`f${i} = subgroupMatrixLoad<${LEFT}>(&base, first * D + 16u * (${step}), false, D);`));
    const mma = Array.from({ length: QT }, (_, j) => `{ let r = subgroupMatrixLoad<${RIGHT}>(&queries, ${u(16 * j)} * D + 16u * (${step}), true, D); acc${j} = subgroupMatrixMultiplyAccumulate(f${i}, r, acc${j}); }`).join(' ');
    mmas.push(guard(mma));
  }
  return `enable f16;
enable subgroups;
diagnostic(off, subgroup_uniformity);
enable chromium_experimental_subgroup_matrix;
// half scan, pass sample (dims split among warps): src/gpu/tensor/half-scan.ts.
const D: u32 = ${u(s.dPad)};
${uniformStruct(HALF_SCAN_PARAMS)}
@group(0) @binding(0) var<uniform> p: P;
@group(0) @binding(1) var<storage, read> base: array<f16>;
@group(0) @binding(2) var<storage, read> queries: array<f16>;
@group(0) @binding(3) var<storage, read_write> bests: array<f32>;
// Each warp's partial scores (query tile j of warp w at (w x QT + j) x 256), then their sums in the first warp's.
var<workgroup> ws: array<f32, ${W * QT * 256}>;
@compute @workgroup_size(${32 * W}, 1, 1)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(subgroup_id) sid: u32, @builtin(subgroup_invocation_id) lane: u32) {
  // Matrix offsets must be subgroup-uniform: the warp from subgroup_id, not lid / 32.
  let warp = sid;
  let t = ${sampleStart('wid.x', s.sampleRun ?? 1)};
  // The block's fragments come from the tile's last 16 rows where it starts past them.
  let first = min(t, p.rows - 16u);
  ${Array.from({ length: QT }, (_, j) => `var acc${j} = ${RESULT}();`).join(' ')}
  ${loads.join('\n  ')}
  ${mmas.join('\n  ')}
  ${Array.from({ length: QT }, (_, j) => `subgroupMatrixStore(&ws, (warp * ${u(QT)} + ${u(j)}) * 256u, acc${j}, false, 16u);`).join(' ')}
  workgroupBarrier();
  // Entry x (query tile x / 256) of the first warp's, summed in place (no invocation reads another's
  // x), less the margin for summing in another order than the scan.
  for (var x = lid; x < ${u(QT * 256)}; x += ${u(32 * W)}) {
    var v = ws[x];
    var size = abs(v);
    for (var w = 1u; w < ${u(W)}; w++) { let part = ws[w * ${u(QT * 256)} + x]; v += part; size += abs(part); }
    ws[x] = v - ${SPLIT_SAMPLE_MARGIN} * size;
  }
  workgroupBarrier();
  // Lane l of the first warp: query 16 j + l % 16 on the block's rows l / 16, l / 16 + 2, ... (as a sample warp's lane).
  if (lid < 32u) {
    for (var j = 0u; j < ${u(QT)}; j++) {
      var best = -3.4e38;
      for (var x = lid; x < 256u; x += 32u) { let row = first + x / 16u; if (row >= t && row < p.rows) { best = max(best, ws[j * 256u + x]); } }
      bests[((p.idBase + wid.x) * 32u + lid) * ${u(QT)} + j] = best;
    }
  }
}`;
}

/**
 * The uniform of the selection kernels (words): nq, sampleWarps (threshold: warps of the sample
 * scans whose bests it reads), listAt and listStride (select: query q's list at pair listAt + q x
 * listStride), flagsAt (select: query q's overflow flag, the pair (1, 0), at flagsAt + q).
 */
export const HALF_SELECT_PARAMS = ['nq', 'sampleWarps', 'listAt', 'listStride', 'flagsAt'] as const;

/**
 * One workgroup of 256 a query finds the KP-th largest of its values digit by digit
 * (shaders/radix_select.wgsl: 4 rounds of 8 bits of the values' order-preserving bits).
 * 'threshold' reads the sample's bests (binding 1) and writes that value to binding 2 (-inf where
 * fewer than KP, +inf for the padded queries past nq: no candidates); 'select' reads the query's
 * candidates (1) and count (2: reset to 0 for the next tile), writes the KP best (key bits, id) to
 * binding 3 (empty slots (-FLT_MAX, 0xffffffff)), flags the query when its candidates overflowed
 * CAP, and raises its threshold (binding 4) to its KP-th best candidate where it had KP, for the
 * next tiles' scans.
 */
export function halfSelectSource(s: HalfScanShape, what: 'threshold' | 'select'): string {
  const refusal = halfScanRefusal(s);
  if (refusal) throw new Error(`half scan: ${refusal}`);
  const QT = s.bq / 16;
  const threshold = what === 'threshold';
  // threshold: query q's bests are those of lanes q % 16 and q % 16 + 16 of every sample warp, slot q / 16.
  const valueAt = threshold ? `bests[((i / 2u) * 32u + q % 16u + (i % 2u) * 16u) * ${QT}u + q / 16u]` : 'cand[q * CAP + i].x';
  const bindings = threshold
    ? // read_write though only read: the shard binds parts of one buffer (halfScanSource's scan likewise).
      `@group(0) @binding(1) var<storage, read_write> bests: array<u32>;
@group(0) @binding(2) var<storage, read_write> thresholds: array<u32>;`
    : `@group(0) @binding(1) var<storage, read_write> cand: array<vec2<u32>>;
@group(0) @binding(2) var<storage, read_write> counts: array<u32>;
@group(0) @binding(3) var<storage, read_write> lists: array<vec2<u32>>;
@group(0) @binding(4) var<storage, read_write> thresholds: array<u32>;`;
  const finish = threshold
    ? // Fewer than KP values: -inf (every row a candidate); a padded query: +inf (none).
      'if (lid == 0u) { thresholds[q] = select(select(unord(lo), 0xff800000u, lo == 0u), 0x7f800000u, q >= p.nq); }'
    : `let listAt = p.listAt + q * p.listStride;
  for (var i = lid; i < KP; i += 256u) { lists[listAt + i] = vec2<u32>(0xff7fffffu, 0xffffffffu); }
  if (lid == 0u) { atomicStore(&slot, 0u); }
  workgroupBarrier();
  for (var i = lid; i < n; i += 256u) {
    let c = cand[q * CAP + i];
    if (ord(c.x) >= lo) { let at = atomicAdd(&slot, 1u); if (at < KP) { lists[listAt + at] = c; } }
  }
  if (lid == 0u) {
    if (total > CAP) { lists[p.flagsAt + q] = vec2<u32>(1u, 0u); }
    counts[q * ${HALF_SCAN_COUNT_STRIDE}u] = 0u;
    // KP rows so far score at or above lo (overflowed or not: those in the buffer do), so the query's
    // final k' best do too: a tighter threshold for the tiles after this one.
    if (n >= KP && bitcast<f32>(unord(lo)) > bitcast<f32>(thresholds[q])) { thresholds[q] = unord(lo); }
  }`;
  return `enable subgroups;
// half scan, ${what}: src/gpu/tensor/half-scan.ts.
const KP: u32 = ${s.kp}u;
const CAP: u32 = ${s.cap}u;
const RADIX_HELD: u32 = ${s.radixHeld ?? 0}u;
${uniformStruct(HALF_SELECT_PARAMS)}
@group(0) @binding(0) var<uniform> p: P;
${bindings}
var<workgroup> slot: atomic<u32>;
fn radixValue(q: u32, i: u32) -> u32 { return ${valueAt}; }
${withoutNotes(radixSelectWgsl)}
@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(subgroup_size) sgSize: u32, @builtin(subgroup_invocation_id) lane: u32) {
  let q = wid.x;
  // Queries past nq (the batch padded to whole workgroups) have no values.
  ${threshold ? 'let total = select(0u, 2u * p.sampleWarps, q < p.nq);' : `let total = counts[q * ${HALF_SCAN_COUNT_STRIDE}u];`}
  let n = ${threshold ? 'total' : 'min(total, CAP)'};
  // lo: the KP-th largest value's order bits (0 where there are fewer than KP values).
  let lo = radixKth(q, n, lid, lane, sgSize);
  ${finish}
}`;
}
