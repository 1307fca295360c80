// flat_scores: scores of a query batch against one chunk of a base tile (register-blocked GEMM).
//
// Bindings (group 0):
//   0 params  uniform Params (below)
//   1 base    storage read  array<vec4<u32>>  one tile; row r starts at word r * rowWords.
//             PREC 0 (f32): one word = 4 dims (f32 bits); PREC 1 (f16): one word = 8 dims (pack2x16float);
//             PREC 2 (int8 SQ): one word = 16 dims (u8 codes, little-endian bytes). Rows zero-padded to a word.
//   2 queries storage read  array<vec4<f32>>  nq x q4 (q4 = padded dims / 4), zero-padded
//   3 sq      storage read  array<vec4<f32>>  PREC 2 only: vmin[q4] then step[q4]; decoded x = vmin + code * step
//   4 scores  storage rw    array<f32>        nq x rows: larger is better (ip: q.x, l2: -|q-x|^2)
// Each invocation accumulates a TQ x TR micro-tile (queries x rows); the workgroup shares a query tile
// of BQ x KC vec4 in workgroup memory. Sizes are uniforms, so a new N or nq never recompiles.

override PREC: u32 = 0u;    // 0 f32, 1 f16 (packed in u32), 2 int8 scalar quantizer
override METRIC: u32 = 0u;  // 0 inner product, 1 squared L2 (negated)
override WR: u32 = 64u;     // invocations along rows
override WQ: u32 = 4u;      // invocations along queries

const TQ: u32 = 4u;
const TR: u32 = 4u;
const KC: u32 = 8u;         // query vec4s per workgroup-memory tile step

struct Params {
  nq: u32,        // queries in this batch
  rows: u32,      // rows in this chunk
  rowStart: u32,  // first row of the chunk inside the tile
  rowWords: u32,  // vec4<u32> words per base row
  q4: u32,        // vec4s per query row
  _pad0: u32, _pad1: u32, _pad2: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> base: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read> queries: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> sq: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> scores: array<f32>;

var<workgroup> qtile: array<vec4<f32>, WQ * TQ * KC>;

// Four consecutive dims (group c4 of row `row`), decoded to f32.
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

@compute @workgroup_size(WR, WQ, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let rowBase = wid.x * WR * TR;
  let qBase = wid.y * WQ * TQ;
  var acc: array<array<f32, TR>, TQ>;
  for (var i = 0u; i < TQ; i++) { for (var j = 0u; j < TR; j++) { acc[i][j] = 0.0; } }
  // Rows beyond the chunk read row 0 of the chunk: always valid, never written back.
  var rows: array<u32, TR>;
  for (var j = 0u; j < TR; j++) {
    let r = rowBase + lid.x + j * WR;
    rows[j] = params.rowStart + select(0u, r, r < params.rows);
  }
  let lin = lid.y * WR + lid.x;
  for (var c0 = 0u; c0 < params.q4; c0 += KC) {
    for (var t = lin; t < WQ * TQ * KC; t += WR * WQ) {
      let ql = t / KC;
      let c = c0 + t % KC;
      let q = qBase + ql;
      var v = vec4<f32>(0.0);
      if (q < params.nq && c < params.q4) { v = queries[q * params.q4 + c]; }
      qtile[t] = v;
    }
    workgroupBarrier();
    let cEnd = min(KC, params.q4 - c0);
    for (var c = 0u; c < cEnd; c++) {
      var b: array<vec4<f32>, TR>;
      for (var j = 0u; j < TR; j++) { b[j] = load4(rows[j], c0 + c); }
      for (var i = 0u; i < TQ; i++) {
        let a = qtile[(lid.y * TQ + i) * KC + c];
        for (var j = 0u; j < TR; j++) {
          if (METRIC == 0u) {
            acc[i][j] += dot(a, b[j]);
          } else {
            let t = a - b[j];
            acc[i][j] -= dot(t, t);
          }
        }
      }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < TQ; i++) {
    let q = qBase + lid.y * TQ + i;
    if (q >= params.nq) { continue; }
    for (var j = 0u; j < TR; j++) {
      let r = rowBase + lid.x + j * WR;
      if (r < params.rows) { scores[q * params.rows + r] = acc[i][j]; }
    }
  }
}
