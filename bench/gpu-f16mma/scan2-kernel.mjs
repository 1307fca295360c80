// The kernels of scan2.mjs (bench/gpu-f16mma/README.md), apart so that they can be read and tested
// without a device (test/gpu/bench-f16mma-scan2.test.ts runs them with the matrix calls emulated).
// Rows and queries have D = 768 dims (48 steps of K = 16).

import { readFileSync } from 'node:fs';

export const D = 768;

/** shaders/radix_select.wgsl less its `//!` lines (the library's radix selection; cwd: the repository root). */
function radixSelectWgsl() {
  return readFileSync('shaders/radix_select.wgsl', 'utf8').replace(/^[ \t]*\/\/!.*(?:\n|$)/gm, '');
}
const STEPS = D / 16;

/** Bests an invocation keeps in the stand-in (sel '1': one a query it sees; 'q': one a query tile). */
export function bestsPerLane(sel, BQ) {
  return sel === 'q' ? BQ / 16 : Math.max(1, BQ / 32);
}

/** The query whose best lane `lane` keeps as its b-th (the stand-in's selection, sel '1' or 'q'). */
export function queryOfBest(sel, BQ, lane, b) {
  return sel === 'q' ? 16 * b + (lane % 16) : BQ >= 32 ? (lane + 32 * b) % BQ : lane % BQ;
}

// mode:W:RT:QS:CH:nWg[:sel[:KC]]: sel '1' (default, all the tile's scores at once against one
// threshold), 'q' (a query tile at a time), '0' (none: the accumulators sum every tile, selected once
// at the end), 'L' / 'R' (lists of k' in workgroup memory / registers), 'T' (thresholds from a
// sample, candidates to storage); KC query dims staged at a time (default D).
export function parseVariant(v) {
  const [mode, w, rt, QS, ch, nwg, sel, kc] = v.split(':');
  return { mode, W: Number(w), RT: Number(rt), QS, CH: Number(ch), nWg: Number(nwg), sel: sel ?? '1', KC: Number(kc ?? D) };
}

// The sizes kernel() declares its workgroup arrays with, and workgroupBytes() adds up.
function layoutOf({ W, RT, QS, sel, KC }, BQ) {
  const BR = 16 * RT;
  // One query tile's scores at a time for all but the stand-ins '1' and '0'; sel T two such halves.
  const perTile = sel === 'q' || sel === 'L' || sel === 'R' || sel === 'T';
  const wsPerWarp = perTile ? BR * 16 : BR * BQ;
  return {
    perTile,
    wsPerWarp,
    wsWords: W * wsPerWarp * (sel === 'T' ? 2 : 1),
    qStride: QS === 's' ? KC + 8 : D, // +8 halves: a fragment's 8 queries on different bank groups
  };
}

/**
 * Entries a query's list holds: KP (sel L), or for sel R its lanes x entries a lane (Lg lanes of
 * one warp hold a query, E entries each: at least KP).
 */
export function listSlots({ W, sel }, BQ, KP = 40) {
  if (sel !== 'R') return KP;
  const { Lg, E } = regListShape(W, BQ, KP);
  return Lg * E;
}
function regListShape(W, BQ, KP) {
  const Lg = 32 / (BQ / W); // lanes a query's list (a warp owns BQ / W queries)
  return { Lg, E: Math.ceil(KP / Lg) };
}

/** Workgroup memory a variant's kernel declares for BQ queries (KP, C as kernel() takes them). */
export function workgroupBytes(spec, BQ, KP = 40, C = 16) {
  const { wsWords, qStride } = layoutOf(spec, BQ);
  const wq = spec.QS === 's' ? BQ * qStride * 2 : 0;
  // L and R: thresholds, 16 counters and 16 x C candidates; L also its lists (keys and rows); T its thresholds.
  const filter = spec.sel === 'L' || spec.sel === 'R' ? BQ * 4 + 16 * 4 + 16 * C * 8 : 0;
  const lists = spec.sel === 'L' ? BQ * KP * 8 : 0;
  const thresholds = spec.sel === 'T' ? BQ * 4 : 0;
  return wsWords * 4 + wq + filter + lists + thresholds;
}

/**
 * The WGSL of a variant for BQ queries (a multiple of 16). KP: list entries (sel L / R); C: candidates
 * a query a tile before the owner rescans (L / R); CAP: candidates a query in storage (T).
 */
export function kernel({ mode, W, RT, QS, CH, sel, KC }, BQ, KP = 40, C = 16, CAP = 8192) {
  const QT = BQ / 16, BR = 16 * RT;
  const L = 'subgroup_matrix_left<f16, 16, 16>', R = 'subgroup_matrix_right<f16, 16, 16>', A = 'subgroup_matrix_result<f32, 16, 16>';
  // Queries in workgroup memory: all D dims staged once (KC = D), or KC dims at a time, staged again
  // for each tile (64 queries x 768 halves do not fit Dawn's 48 KiB).
  const chunked = QS === 's' && KC < D;
  const KS = KC / 16; // steps a query chunk
  const qPtr = QS === 's' ? '&wq' : '&queries';
  const { perTile, wsPerWarp, wsWords, qStride } = layoutOf({ W, RT, QS, sel, KC }, BQ);
  const qOff = (j, s) => QS === 's' ? 16 * j * qStride + 16 * (s % KS) : 16 * j * D + 16 * s;
  const rowOff = (i, s, next) => `(t${next ? ' + BR' : ''} + ${16 * i}u) * D + ${16 * s}u`;
  // Copies query dims [qc * KC, qc * KC + KC) of the BQ queries into wq, 16 bytes a load.
  const stage = (qc) => `for (var e = lid; e < ${BQ * KC / 8}u; e += ${32 * W}u) { let q = e / ${KC / 8}u; let w = e % ${KC / 8}u; let v = queries4[(q * D + ${qc * KC}u) / 8u + w]; let o = q * ${qStride}u + w * 8u; let h0 = bitcast<vec2<f16>>(v.x); let h1 = bitcast<vec2<f16>>(v.y); let h2 = bitcast<vec2<f16>>(v.z); let h3 = bitcast<vec2<f16>>(v.w); wq[o] = h0.x; wq[o + 1u] = h0.y; wq[o + 2u] = h1.x; wq[o + 3u] = h1.y; wq[o + 4u] = h2.x; wq[o + 5u] = h2.y; wq[o + 6u] = h3.x; wq[o + 7u] = h3.y; }`;
  const body = [];
  const pre = [];
  const mmaStep = (s, frag) => {
    const out = [];
    for (let j = 0; j < QT; j++) {
      out.push(`{ let r_${j} = subgroupMatrixLoad<${R}>(${qPtr}, ${qOff(j, s)}u, true, ${qStride}u);`);
      for (let i = 0; i < RT; i++) out.push(`  acc_${i}_${j} = subgroupMatrixMultiplyAccumulate(${frag(i)}, r_${j}, acc_${i}_${j});`);
      out.push('}');
    }
    return out;
  };
  if (mode === 'reg') {
    const C = STEPS / CH;
    if (STEPS % CH || C % 2) throw new Error(`CH ${CH}: ${STEPS} steps must split into an even number of chunks`);
    if (chunked && KS % CH) throw new Error(`KC ${KC}: a query chunk must hold whole row chunks of CH ${CH} steps`);
    for (let b = 0; b < 2; b++) for (let i = 0; i < RT; i++) for (let s = 0; s < CH; s++) pre.push(`var f${b}_${i}_${s}: ${L};`);
    for (let i = 0; i < RT; i++) for (let s = 0; s < CH; s++) pre.push(`f0_${i}_${s} = subgroupMatrixLoad<${L}>(&base, ${rowOff(i, s, false)}, false, D);`);
    for (let c = 0; c < C; c++) {
      const cur = c % 2, nxt = (c + 1) % 2;
      const last = c + 1 === C;
      for (let i = 0; i < RT; i++) for (let s = 0; s < CH; s++) body.push(`f${nxt}_${i}_${s} = subgroupMatrixLoad<${L}>(&base, ${rowOff(i, last ? s : (c + 1) * CH + s, last)}, false, D);`);
      if (chunked && (c * CH) % KS === 0) body.push('workgroupBarrier();', stage((c * CH) / KS), 'workgroupBarrier();');
      for (let s = 0; s < CH; s++) body.push(...mmaStep(c * CH + s, (i) => `f${cur}_${i}_${s}`));
    }
  } else {
    if (chunked) throw new Error('loop mode stages all the queries once (KC = D)');
    body.push(`for (var kd = 0u; kd < D; kd += ${16 * CH}u) {`);
    for (let s = 0; s < CH; s++) for (let i = 0; i < RT; i++) body.push(`  let l_${i}_${s} = subgroupMatrixLoad<${L}>(&base, (t + ${16 * i}u) * D + kd + ${16 * s}u, false, D);`);
    for (let s = 0; s < CH; s++) for (let j = 0; j < QT; j++) {
      body.push(`  { let r_${j} = subgroupMatrixLoad<${R}>(${qPtr}, ${16 * j * qStride}u + kd + ${16 * s}u, true, ${qStride}u);`);
      for (let i = 0; i < RT; i++) body.push(`    acc_${i}_${j} = subgroupMatrixMultiplyAccumulate(l_${i}_${s}, r_${j}, acc_${i}_${j}); `);
      body.push('  }');
    }
    body.push('}');
  }
  const accs = [];
  for (let i = 0; i < RT; i++) for (let j = 0; j < QT; j++) accs.push([i, j]);
  // Selection stand-in. sel 'all': a tile's BR x BQ scores at ws[wsBase + r * BQ + q], lane l reading
  // entries l, l + 32, ... (q = e % BQ), one best a query it sees. sel 'q': one query tile at a time
  // (BR x 16 scores: less workgroup memory, QT rounds), lane l keeping query 16 j + l % 16's best.
  // sel 'L': real lists. Each query keeps its KP best (key, row) in workgroup memory, with a threshold
  // (the KP-th best once full). A query tile at a time: the warps store their scores, every
  // invocation compares its share against the thresholds and appends the few above them to the
  // query's candidates (C at most; more and the owner rescans the scores), then invocation ql < 16
  // (the owner of query 16 j + ql) inserts them.
  const lists = sel === 'L';
  // sel 'R': the same filter, but each query's list lives in registers, spread over L lanes of one
  // warp (E entries a lane: the list holds L x E >= KP), and the warp inserts each candidate
  // together: the group's smallest found by shuffles, the lane holding it replaces it.
  const regLists = sel === 'R';
  // sel 'T': no lists. Each query's threshold comes from a sample scanned before (binding 5: the
  // k'-th best of the sample, so every row of the true top k' scores at least that); every score at
  // or above it is appended to the query's candidates in storage (binding 3, CAP a query; counters
  // at binding 6) with its id (p.idBase + row; rows from p.rows on are none). The scores' workgroup buffer alternates between two halves, so one barrier a
  // query tile suffices (the next store goes to the half nobody reads).
  const sampled = sel === 'T';
  const Qw = BQ / W; // queries a warp owns
  const { Lg, E } = regListShape(W, BQ, KP);
  if (regLists && (!Number.isInteger(Qw) || !Number.isInteger(Lg) || Lg < 1)) throw new Error(`sel R needs BQ / W queries a warp dividing 32: BQ ${BQ}, W ${W}`);
  const NB = perTile ? QT : bestsPerLane(sel, BQ);
  const scanOf = (n, bestOf) => {
    const out = [];
    for (let e = 0; e < n; e += 32) out.push(`{ let v = ws[wsBase + ${e}u + lane]; if (v > thr) { cnt += 1.0; } best${bestOf(e)} = max(best${bestOf(e)}, v); }`);
    return out;
  };
  let select;
  const ENTRIES = W * BR * 16; // scores a query tile: W warps x BR rows x 16 queries
  const filterOf = (j) => {
    const out = [];
    for (let m = 0; m < ENTRIES; m += 32 * W) out.push(`{ let e = lid + ${m}u; let v = ws[e]; let ql = e % 16u; if (v > thr[${16 * j}u + ql]) { let slot = atomicAdd(&cnt[ql], 1u); if (slot < ${C}u) { cand[ql * ${C}u + slot] = vec2<u32>(bitcast<u32>(v), rowOf(e, wid.x, it)); } } }`);
    return out;
  };
  // The group's smallest entry (gm) and the lane holding it (gl, lowest on ties); mi: where in mine.
  const groupMin = () => {
    const out = ['var m = k0; var mi = 0u;'];
    for (let e = 1; e < E; e++) out.push(`if (k${e} < m) { m = k${e}; mi = ${e}u; }`);
    out.push('var gm = m; var gl = lane;');
    for (let x = 1; x < Lg; x *= 2) out.push(`{ let om = subgroupShuffleXor(gm, ${x}u); let ol = subgroupShuffleXor(gl, ${x}u); if (om < gm || (om == gm && ol < gl)) { gm = om; gl = ol; } }`);
    return out.join(' ');
  };
  // Query tile j's scores (BR rows x 16 queries a warp) into the warp's part of ws (at `off` + wsBase).
  const storeTile = (j, off = '') => Array.from({ length: RT }, (_, i) => `subgroupMatrixStore(&ws, ${off}wsBase + ${16 * i * 16}u, acc_${i}_${j}, false, 16u);`);
  const replace = Array.from({ length: E }, (_, e) => `${e ? 'else ' : ''}if (mi == ${e}u) { k${e} = v; r${e} = row; }`).join(' ');
  if (sampled) {
    select = [];
    const half = W * BR * 16;
    for (let j = 0; j < QT; j++) {
      // Which half this query tile's scores use: alternates every store (it x QT + j).
      const pb = QT % 2 === 0 ? `${(j % 2) * half}u` : `((it + ${j}u) % 2u) * ${half}u`;
      select.push(`{ let pb = ${pb};`);
      select.push(...storeTile(j, 'pb + '));
      select.push('workgroupBarrier();');
      for (let m = 0; m < ENTRIES; m += 32 * W) select.push(`{ let e = lid + ${m}u; let v = ws[pb + e]; let q = ${16 * j}u + e % 16u; if (v >= wthr[q]) { let row = rowOf(e, wid.x, it); if (row < p.rows) { let slot = atomicAdd(&gcnt[q], 1u); if (slot < ${CAP}u) { gcand[q * ${CAP}u + slot] = vec2<u32>(bitcast<u32>(v), p.idBase + row); } } } }`);
      select.push('}');
    }
  } else if (regLists) {
    select = [];
    for (let j = 0; j < QT; j++) {
      select.push(...storeTile(j));
      select.push('workgroupBarrier();', ...filterOf(j), 'workgroupBarrier();');
      select.push(`{ let gi = lane / ${Lg}u; let q = gi * ${W}u + warp; let mine = q / 16u == ${j}u; let ql = q % 16u;
      var n = 0u; var over = false;
      if (mine) { let c = atomicLoad(&cnt[ql]); over = c > ${C}u; n = select(c, ${ENTRIES / 16}u, over); }
      let nMax = subgroupMax(n);
      for (var c = 0u; c < nMax; c++) {
        var v = -3.4e38; var row = 0u;
        if (c < n) { if (over) { let e = ql + 16u * c; v = ws[e]; row = rowOf(e, wid.x, it); } else { let w = cand[ql * ${C}u + c]; v = bitcast<f32>(w.x); row = w.y; } }
        ${groupMin()}
        if (v > gm && lane == gl) { ${replace} }
      }
      { ${groupMin()} if (mine && lane % ${Lg}u == 0u) { thr[q] = gm; atomicStore(&cnt[ql], 0u); } } }`);
      select.push('workgroupBarrier();');
    }
  } else if (lists) {
    select = [];
    for (let j = 0; j < QT; j++) {
      select.push(...storeTile(j));
      select.push('workgroupBarrier();', ...filterOf(j), 'workgroupBarrier();');
      select.push(`if (lid < 16u) { let q = ${16 * j}u + lid; let n = atomicLoad(&cnt[lid]);
      if (n > ${C}u) { for (var e = lid; e < ${ENTRIES}u; e += 16u) { insert(q, ws[e], rowOf(e, wid.x, it), &fill${j}, &amin${j}); } }
      else { for (var c = 0u; c < n; c++) { let w = cand[lid * ${C}u + c]; insert(q, bitcast<f32>(w.x), w.y, &fill${j}, &amin${j}); } }
      atomicStore(&cnt[lid], 0u); }`);
      select.push('workgroupBarrier();');
    }
  } else if (perTile) {
    select = [];
    for (let j = 0; j < QT; j++) {
      select.push(...storeTile(j));
      select.push('workgroupBarrier();', ...scanOf(BR * 16, () => j), 'workgroupBarrier();');
    }
  } else {
    select = [...accs.map(([i, j]) => `subgroupMatrixStore(&ws, wsBase + ${16 * i * BQ + 16 * j}u, acc_${i}_${j}, false, ${BQ}u);`), 'workgroupBarrier();', ...scanOf(BR * BQ, (e) => (BQ >= 32 ? (e / 32) % NB : 0)), 'workgroupBarrier();'];
  }
  const resets = accs.map(([i, j]) => `acc_${i}_${j} = ${A}();`);
  const bests = Array.from({ length: NB }, (_, b) => `var best${b} = -3.0e38;`);
  // cnt rides on the first best (1e-30 each) so the driver cannot drop the threshold compares.
  const outs = Array.from({ length: NB }, (_, b) => `out[(seg * 32u + lane) * ${NB}u + ${b}u] = best${b}${b === 0 ? ' + cnt * 1e-30' : ''};`);
  const tileSel = sel !== '0';
  // Row of score entry e of the query tile (warp e / (BR * 16)'s segment, its tile it).
  const rowOfDecl = `fn rowOf(e: u32, wg: u32, it: u32) -> u32 { return segStart(wg * ${W}u + e / ${BR * 16}u) + it * BR + (e % ${BR * 16}u) / 16u; }`;
  // L and R: the thresholds, candidate counters and candidates filterOf fills.
  const filterDecl = `var<workgroup> thr: array<f32, ${BQ}>;
var<workgroup> cnt: array<atomic<u32>, 16>;
var<workgroup> cand: array<vec2<u32>, ${16 * C}>;`;
  const listDecl = lists ? `const KP: u32 = ${KP}u;
${filterDecl}
var<workgroup> lk: array<f32, ${BQ * KP}>;
var<workgroup> li: array<u32, ${BQ * KP}>;
// Row of score entry e of the query tile (warp e / (BR * 16)'s segment, its tile it).
${rowOfDecl}
// Owner-only: v into query q's list (fill entries so far; amin: where its smallest is once full).
fn insert(q: u32, v: f32, row: u32, fill: ptr<function, u32>, amin: ptr<function, u32>) {
  if (v <= thr[q]) { return; }
  let b = q * KP;
  var at = *amin;
  if (*fill < KP) { at = *fill; *fill += 1u; }
  lk[b + at] = v; li[b + at] = row;
  if (*fill < KP) { return; }
  var m = lk[b]; var mi = 0u;
  for (var i = 1u; i < KP; i++) { let x = lk[b + i]; if (x < m) { m = x; mi = i; } }
  thr[q] = m; *amin = mi;
}` : '';
  const regDecl = regLists ? `${filterDecl}
${rowOfDecl}` : '';
  const filterInit = (thrInit) => `for (var e = lid; e < ${BQ}u; e += ${32 * W}u) { thr[e] = ${thrInit}; }
  for (var e = lid; e < 16u; e += ${32 * W}u) { atomicStore(&cnt[e], 0u); }`;
  const regInit = regLists ? `${filterInit('-3.4e38')}
  ${Array.from({ length: E }, (_, e) => `var k${e} = -3.4e38; var r${e} = 0xffffffffu;`).join(' ')}
  workgroupBarrier();` : '';
  const regOut = regLists ? `{ let q = (lane / ${Lg}u) * ${W}u + warp; let o = ((wid.x * ${BQ}u + q) * ${Lg * E}u + (lane % ${Lg}u) * ${E}u) * 2u;
    ${Array.from({ length: E }, (_, e) => `out[o + ${2 * e}u] = bitcast<u32>(k${e}); out[o + ${2 * e + 1}u] = r${e};`).join(' ')} }` : '';
  const sampledDecl = sampled ? `@group(0) @binding(5) var<storage, read> thresholds: array<f32>;
@group(0) @binding(6) var<storage, read_write> gcnt: array<atomic<u32>>;
var<workgroup> wthr: array<f32, ${BQ}>;
${rowOfDecl}` : '';
  const sampledInit = sampled ? `for (var e = lid; e < ${BQ}u; e += ${32 * W}u) { wthr[e] = thresholds[e]; }
  workgroupBarrier();` : '';
  const listInit = lists ? `${filterInit('-3.0e38')}
  ${Array.from({ length: QT }, (_, j) => `var fill${j} = 0u; var amin${j} = 0u;`).join(' ')}
  workgroupBarrier();` : '';
  // Lists: owner lid < 16 writes query 16 j + lid's KP entries (key, row bits) of this workgroup.
  const listOut = lists ? `if (lid < 16u) { ${Array.from({ length: QT }, (_, j) => `for (var i = 0u; i < KP; i++) { let q = ${16 * j}u + lid; let o = ((wid.x * ${BQ}u + q) * KP + i) * 2u; if (i < fill${j}) { out[o] = bitcast<u32>(lk[q * KP + i]); out[o + 1u] = li[q * KP + i]; } else { out[o] = 0xff7fffffu; out[o + 1u] = 0xffffffffu; } }`).join('\n    ')} }` : '';
  return `enable f16;
enable subgroups;
diagnostic(off, subgroup_uniformity);
enable chromium_experimental_subgroup_matrix;
const D: u32 = ${D}u;
const BR: u32 = ${BR}u;
// segStride: rows from one warp's segment to the next (0: segLen, the segments back to back). A
// sample pass spreads its segments over the whole index this way: real data may be ordered.
// sel T: rows (the buffer's real rows: the whole segments past them are no candidates) and idBase
// (the id of the buffer's first row: an index of several buffers).
struct P { segLen: u32, tiles: u32, thr: f32, segStride: u32, rows: u32, idBase: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> p: P;
fn segStart(seg: u32) -> u32 { return seg * select(p.segLen, p.segStride, p.segStride != 0u); }
@group(0) @binding(1) var<storage, read> base: array<f16>;
${QS === 's' ? '' : '@group(0) @binding(2) var<storage, read> queries: array<f16>;'}
@group(0) @binding(3) var<storage, read_write> ${sampled ? 'gcand: array<vec2<u32>>' : `out: array<${lists || regLists ? 'u32' : 'f32'}>`};
${QS === 's' ? `@group(0) @binding(4) var<storage, read> queries4: array<vec4<u32>>;\nvar<workgroup> wq: array<f16, ${BQ * qStride}>;` : ''}
var<workgroup> ws: array<f32, ${wsWords}>;
${listDecl}${regDecl}${sampledDecl}
@compute @workgroup_size(${32 * W}, 1, 1)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(subgroup_id) sid: u32, @builtin(subgroup_invocation_id) lane: u32) {
  ${QS === 's' && !chunked ? `${stage(0)}\n  workgroupBarrier();` : ''}
  // Matrix offsets must be subgroup-uniform: the warp's index from subgroup_id, not lid / 32.
  let warp = sid;
  let seg = wid.x * ${W}u + warp;
  let wsBase = warp * ${wsPerWarp}u;
  ${lists ? listInit : regLists ? regInit : sampled ? sampledInit : `let thr = p.thr;
  var cnt = 0.0;
  ${bests.join('\n  ')}`}
  ${accs.map(([i, j]) => `var acc_${i}_${j} = ${A}();`).join('\n  ')}
  // Inline, not segStart(): the matrix offsets derive from t, and must stay visibly subgroup-uniform.
  var t = seg * select(p.segLen, p.segStride, p.segStride != 0u);
  ${pre.join('\n  ')}
  for (var it = 0u; it < p.tiles; it++) {
    ${body.join('\n    ')}
    ${tileSel ? [...select, ...resets].join('\n    ') : ''}
    t += BR;
  }
  ${tileSel ? '' : select.join('\n  ')}
  ${lists ? listOut : regLists ? regOut : sampled ? '' : outs.join('\n  ')}
}`;
}

/**
 * The two-pass search's selections (`scan2.mjs --pipeline`): one workgroup of 256 a query finds the
 * KP-th largest of that query's values by bisection over their order-preserving bits (32 rounds),
 * then (`gather`) appends the values at or above it to the query's final list.
 * - `from: 'bests'`: the values are a stand-in kernel's bests (sel '1' or 'q' over BQ queries,
 *   `warps` warps): each the best of distinct rows, so their KP-th largest is at most the KP-th best
 *   row's score, a safe threshold for sel T. Writes the threshold's f32 bits to res[q].
 * - `from: 'candidates'`: sel T's candidates (CAP a query, counts at binding 2); writes the query's
 *   KP best as (key bits, row) pairs to res[(q KP + i) 2], empty slots (-FLT_MAX, 0xffffffff).
 * `method: 'radix'` finds the same threshold in 4 rounds of 8 bits (shaders/radix_select.wgsl, the
 * library's: a 256-bin histogram of the values that match the digits so far): 12 barriers instead of 96.
 */
export function selectKernel({ from, sel = '1', BQ, warps = 0, KP, CAP = 8192, method = 'bisect' }) {
  const NB = bestsPerLane(sel, BQ);
  // Where query q's bests are (queryOfBest inverted): lanes lane0 + c step (c < count) of every warp, best b.
  const where = sel === 'q' ? 'let lane0 = q % 16u; let step = 16u; let count = 2u; let b = q / 16u;'
    : BQ <= 32 ? `let lane0 = q; let step = ${BQ}u; let count = ${32 / BQ}u; let b = 0u;`
    : 'let lane0 = q % 32u; let step = 32u; let count = 1u; let b = q / 32u;';
  const n = from === 'bests' ? `${warps}u * count` : `min(counts[q], ${CAP}u)`;
  const at = from === 'bests' ? `vals[((i / count) * 32u + lane0 + (i % count) * step) * ${NB}u + b]` : `vals[(q * ${CAP}u + i) * 2u]`;
  const radix = method === 'radix';
  if (!radix && method !== 'bisect') throw new Error(`selectKernel: method ${method}: 'bisect' or 'radix'`);
  // lo: the largest t with at least KP values at or above it (0 when there are fewer).
  const bisect = `var lo = 0u;
  for (var bit = 31i; bit >= 0i; bit--) {
    let t = lo | (1u << u32(bit));
    if (lid == 0u) { atomicStore(&total, 0u); }
    workgroupBarrier();
    var c = 0u;
    for (var i = lid; i < n; i += 256u) { if (ord(${at}) >= t) { c++; } }
    if (c > 0u) { atomicAdd(&total, c); }
    workgroupBarrier();
    if (atomicLoad(&total) >= ${KP}u) { lo = t; }
    workgroupBarrier();
  }`;
  // The same lo digit by digit: the library's radix selection (shaders/radix_select.wgsl, read from
  // the repository root, where these scripts run), over this kernel's values.
  const radixDecl = radix ? `const KP: u32 = ${KP}u;
const RADIX_HELD: u32 = 0u;
fn radixValue(q: u32, i: u32) -> u32 { ${where} return ${at}; }
${radixSelectWgsl()}` : `// Order-preserving bits of an f32: larger floats, larger u32.
fn ord(x: u32) -> u32 { return select(x | 0x80000000u, ~x, (x & 0x80000000u) != 0u); }
fn unord(o: u32) -> u32 { return select(~o, o & 0x7fffffffu, (o & 0x80000000u) != 0u); }`;
  return `${radix ? 'enable subgroups;\n' : ''}@group(0) @binding(1) var<storage, read> vals: array<u32>;
${from === 'candidates' ? '@group(0) @binding(2) var<storage, read> counts: array<u32>;' : ''}
@group(0) @binding(3) var<storage, read_write> res: array<u32>;
var<workgroup> total: atomic<u32>;
var<workgroup> slot: atomic<u32>;
${radixDecl}
@compute @workgroup_size(256)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>${radix ? ', @builtin(subgroup_size) sgSize: u32, @builtin(subgroup_invocation_id) lane: u32' : ''}) {
  let q = wid.x;
  ${where}
  let n = ${n};
  ${radix ? 'let lo = radixKth(q, n, lid, lane, sgSize);' : bisect}
  // Fewer than KP values (lo 0): every value passes, the threshold is -inf.
  ${from === 'bests' ? 'if (lid == 0u) { res[q] = select(unord(lo), 0xff800000u, lo == 0u); }' : `if (lid == 0u) { atomicStore(&slot, 0u); }
  for (var i = lid; i < ${KP}u; i += 256u) { res[(q * ${KP}u + i) * 2u] = 0xff7fffffu; res[(q * ${KP}u + i) * 2u + 1u] = 0xffffffffu; }
  workgroupBarrier();
  for (var i = lid; i < n; i += 256u) {
    let v = vals[(q * ${CAP}u + i) * 2u];
    if (ord(v) >= lo) { let s = atomicAdd(&slot, 1u); if (s < ${KP}u) { res[(q * ${KP}u + s) * 2u] = v; res[(q * ${KP}u + s) * 2u + 1u] = vals[(q * ${CAP}u + i) * 2u + 1u]; } }
  }`}
}`;
}
