// int8_mma_select: int8 x int8 scores of a query block against a run of base rows, fused with a
// per-thread top-KP selection, so no nq x N score matrix is ever written.
//
// This file is a template: src/gpu/tensor/kernel-source.ts fills the three `//@` lines with
// compile-time constants, the enable directives, and the body that scores one tile (subgroup
// matrices on the tensor cores, or dot4I8Packed / dot4U8Packed where the adapter has none).
//
// Bindings (group 0):
//   0 params   uniform Params (below)
//   1 base     storage read  array<ET>   (ET = i32 for i8 codes, u32 for u8) one tile of rows, D bytes a row (int8 codes, 4 a word),
//              rows zero-padded to a multiple of BR; SIGNED: i8 codes; else u8 codes
//   2 queries  storage read  array<ET>   nq padded to BQ, D bytes a row: i8 (SIGNED) or u8 (i8 + 128)
//   3 rowsum   storage read  array<i32>  u8 only: sum of the u8 codes of each row of the tile
//   4 cand     storage rw    array<vec2<i32>>  (key, id) lists, KP per (query, segment, part),
//              best first; index ((q * nsegTotal + segBase + seg) * TPQ + part) * KP
// Key = sum_j a_j * c_j over the quantised query a (i8) and the row's codes c, up to a per-query
// constant: SIGNED computes a . (c - 128), u8 computes (a + 128) . c - 128 * sum(c) = a . c.
// Larger is better; equal keys keep the lower id; empty entries are (MIN_KEY, -1).
//
// Workgroup (x = query block, y = segment): x runs fastest so the workgroups resident at once read
// the same base rows and share them in L2. A workgroup is one subgroup: every subgroup-matrix
// offset is then workgroup-uniform, which Dawn's uniformity analysis demands. Each tile of BR rows:
// scores -> `st` (row-major, BQ queries a row, so the invocations of one row read consecutive
// words), barrier, each invocation offers rows part, part + TPQ, ... of its query to its private
// sorted list (registers: KP is a constant).

//@ENABLES

//@CONSTS

const MIN_KEY: i32 = -2147483647 - 1;

struct Params {
  rows: u32,       // valid rows in this tile
  segLen: u32,     // rows per segment (a multiple of BR)
  segBase: u32,    // first segment of this tile in the per-query candidate lists
  nsegTotal: u32,  // segments per query over all tiles
  idBase: u32,     // global id of row 0 of this tile
  nq: u32,         // real queries (the buffer is padded to BQ)
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> base: array<ET>;
@group(0) @binding(2) var<storage, read> queries: array<ET>;
@group(0) @binding(3) var<storage, read> rowsum: array<i32>;
@group(0) @binding(4) var<storage, read_write> cand: array<vec2<i32>>;

var<workgroup> st: array<ET, BR * BQ>;

@compute @workgroup_size(NT, 1, 1)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let qBlock = wid.x;
  let seg = wid.y;
  let qLocal = lid / TPQ;
  let part = lid % TPQ;
  var kk: array<i32, KP>;
  var ii: array<i32, KP>;
  for (var i = 0u; i < KP; i++) { kk[i] = MIN_KEY; ii[i] = -1; }

  let segStart = seg * params.segLen;
  let segEnd = min(segStart + params.segLen, params.rows);
  for (var t = segStart; t < segEnd; t += BR) {
    //@SCORE_TILE
    workgroupBarrier();
    for (var r = part; r < BR; r += TPQ) {
      let row = t + r;
      if (row < segEnd) {
        var key = bitcast<i32>(st[r * BQ + qLocal]);
        if (!SIGNED) { key -= 128 * rowsum[row]; }
        //@INSERT_CANDIDATE
      }
    }
    workgroupBarrier();
  }
  let q = qBlock * BQ + qLocal;
  if (q < params.nq) {
    let at = ((q * params.nsegTotal + params.segBase + seg) * TPQ + part) * KP;
    for (var i = 0u; i < KP; i++) { cand[at + i] = vec2<i32>(kk[i], ii[i]); }
  }
}
