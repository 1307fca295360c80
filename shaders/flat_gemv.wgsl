// flat_gemv: scores of a few queries (nq <= 4) against one chunk of a base tile, one subgroup per
// row at a time: lane l reads 16-byte words l, l + S, l + 2S, ... of the row (S = subgroup size),
// so every load instruction of a subgroup reads one contiguous run of the row, and subgroupAdd
// reduces the partial dot products. No workgroup barriers: the memory-bound case runs at the rate
// rows stream in. Compiled only where the adapter has `subgroups` (flat_gemm serves elsewhere).
//
// Same bindings and Params as flat_gemm.wgsl: 0 params, 1 base tile, 2 queries, 3 sq, 4 scores.
enable subgroups;
diagnostic(off, subgroup_uniformity);

override PREC: u32 = 0u;    // 0 f32, 1 f16 (packed in u32), 2 int8 scalar quantizer
override METRIC: u32 = 0u;  // 0 inner product, 1 squared L2 (negated)
override RPW: u32 = 64u;    // rows per workgroup
const WG: u32 = 256u;

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

fn term(a: vec4<f32>, b: vec4<f32>) -> f32 {
  if (METRIC == 0u) { return dot(a, b); }
  let d = a - b;
  return -dot(d, d);
}

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(subgroup_size) sgSize: u32, @builtin(subgroup_invocation_id) lane: u32) {
  let sg = li / sgSize;
  let nsg = WG / sgSize;
  let first = wid.x * RPW;
  let last = min(first + RPW, params.rows);
  let nq = min(params.nq, 4u);
  for (var r = first + sg; r < last; r += nsg) {
    let row = params.rowStart + r;
    var acc = vec4<f32>(0.0);
    for (var c = lane; c < params.q4; c += sgSize) {
      let b = load4(row, c);
      acc.x += term(queries[c], b);
      if (nq > 1u) { acc.y += term(queries[params.q4 + c], b); }
      if (nq > 2u) { acc.z += term(queries[2u * params.q4 + c], b); }
      if (nq > 3u) { acc.w += term(queries[3u * params.q4 + c], b); }
    }
    let s = subgroupAdd(acc);
    if (lane == 0u) {
      scores[r] = s.x;
      if (nq > 1u) { scores[params.rows + r] = s.y; }
      if (nq > 2u) { scores[2u * params.rows + r] = s.z; }
      if (nq > 3u) { scores[3u * params.rows + r] = s.w; }
    }
  }
}
