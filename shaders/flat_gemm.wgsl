// flat_gemm: scores of a query batch against one chunk of a base tile, as a register-blocked GEMM
// with both operands staged through workgroup memory. One kernel for every batch size: the block
// shape is a set of override constants (few queries: 256 invocations along rows, one row each, the
// memory-bound GEMV case; many queries: 16 x 16 invocations of 4 x 8 or 8 x 8 micro-tiles).
//
// Same bindings and Params as flat_scores.wgsl (they share the dispatch code):
//   0 params, 1 base (tile, array<vec4<u32>>), 2 queries (nq x q4 vec4<f32>), 3 sq (int8 decode),
//   4 scores (nq x rows f32, larger is better).
// Workgroup: WX x WY invocations; each accumulates TQ queries x TR rows, so a workgroup covers
// BQ = WY*TQ queries x BR = WX*TR rows. Per stage it stages KC vec4 columns (4*KC dims) of both
// operands, KC consecutive invocations reading one row's contiguous run (coalesced): every base
// element is read from global memory (and decoded, for f16/int8) once per workgroup.
// Invocation (tx, ty) owns rows tx + WX*j and queries ty + WY*i: consecutive invocations read
// consecutive workgroup-memory words (no bank conflicts) and write consecutive scores.

override PREC: u32 = 0u;    // 0 f32, 1 f16 (packed in u32), 2 int8 scalar quantizer
override METRIC: u32 = 0u;  // 0 inner product, 1 squared L2 (negated)

override WX: u32 = 16u;     // invocations along rows
override WY: u32 = 16u;     // invocations along queries
override TR: u32 = 8u;      // rows per invocation (<= 8)
override TQ: u32 = 4u;      // queries per invocation (<= 8)
const KC: u32 = 4u;
override BQ: u32 = WY * TQ;
override BR: u32 = WX * TR;
override NT: u32 = WX * WY;

struct Params {
  nq: u32,
  rows: u32,
  rowStart: u32,
  rowWords: u32,
  q4: u32,
  _pad0: u32, _pad1: u32, _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> base: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read> queries: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> sq: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> scores: array<f32>;

var<workgroup> qs: array<vec4<f32>, KC * BQ>;
var<workgroup> bs: array<vec4<f32>, KC * BR>;

fn load4(row: u32, c4: u32) -> vec4<f32> {
  if (PREC == 0u) {
    return bitcast<vec4<f32>>(base[row * params.rowWords + c4]);
  } else if (PREC == 1u) {
    let w = base[row * params.rowWords + c4 / 2u];
    if ((c4 & 1u) == 0u) {
      return vec4<f32>(unpack2x16float(w.x), unpack2x16float(w.y));
    }
    return vec4<f32>(unpack2x16float(w.z), unpack2x16float(w.w));
  } else {
    let w = base[row * params.rowWords + c4 / 4u];
    let codes = unpack4xU8(w[c4 & 3u]);
    return sq[c4] + vec4<f32>(codes) * sq[params.q4 + c4];
  }
}

@compute @workgroup_size(WX, WY, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let tx = lid.x;
  let ty = lid.y;
  let t = ty * WX + tx;
  let rowBase = wid.x * BR;
  let qBase = wid.y * BQ;
  var acc: array<array<f32, 8>, 8>;
  for (var i = 0u; i < 8u; i++) { for (var j = 0u; j < 8u; j++) { acc[i][j] = 0.0; } }
  for (var c0 = 0u; c0 < params.q4; c0 += KC) {
    // Stage queries (KC consecutive invocations read one query's run).
    for (var e = t; e < KC * BQ; e += NT) {
      let q = e / KC;
      let c = c0 + e % KC;
      var v = vec4<f32>(0.0);
      if (qBase + q < params.nq && c < params.q4) { v = queries[(qBase + q) * params.q4 + c]; }
      qs[(e % KC) * BQ + q] = v;
    }
    // Stage base rows. Rows past the chunk and dims past q4 read as 0.
    for (var e = t; e < KC * BR; e += NT) {
      let r = e / KC;
      let c = c0 + e % KC;
      var v = vec4<f32>(0.0);
      if (rowBase + r < params.rows && c < params.q4) { v = load4(params.rowStart + rowBase + r, c); }
      bs[(e % KC) * BR + r] = v;
    }
    workgroupBarrier();
    for (var c = 0u; c < KC; c++) {
      var a: array<vec4<f32>, 8>;
      for (var i = 0u; i < TQ; i++) { a[i] = qs[c * BQ + ty + WY * i]; }
      for (var j = 0u; j < TR; j++) {
        let b = bs[c * BR + tx + WX * j];
        for (var i = 0u; i < TQ; i++) {
          if (METRIC == 0u) {
            acc[i][j] += dot(a[i], b);
          } else {
            let d = a[i] - b;
            acc[i][j] -= dot(d, d);
          }
        }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < TQ; i++) {
    let q = qBase + ty + WY * i;
    if (q >= params.nq) { continue; }
    for (var j = 0u; j < TR; j++) {
      let r = rowBase + tx + WX * j;
      if (r < params.rows) { scores[q * params.rows + r] = acc[i][j]; }
    }
  }
}
