// int8_mma_prep: the pre-pass of the GpuFlatIndex tensor scorer (int8_mma_hook.wgsl, queries 'pre'):
// quantises a batch's float32 queries once, so that every scoring workgroup stages i8 query chunks
// like the standalone kernel instead of quantising its 32 queries again (src/gpu/flat-shard.ts,
// ChunkScorer pre-pass). kernel-source.ts fills `//@CONSTS` (D, BQ).
//
// Bindings (group 0): 0 params (the shard's struct; only nq is read), 1 queries nq x QW vec4<f32>,
// 2 sq vmin[QW vec4] then step[QW vec4], 3 out array<u32>: codes nqPad x QW words (4 i8 a word,
// nqPad = nq rounded up to BQ; queries past nq are zeros), with DIGITS 2 a second plane of nqPad x
// QW words after it, then per query vec4 words (bits of the scale s, bits of q . vmin, sum a, 0)
// at DIGITS x nqPad x QW + 4 q.
//
// Per query, as the hook's in-kernel prologues did: y_j = q_j step_j, s = max |y_j| / 127 (1 when
// the query is zero), a_j = clamp(round(y_j / s), -127, 127). One workgroup a query (x + 65535 y).
// DIGITS 2 (f32 rows, kernel-source.ts StageOptions.rowsF32): the second digit of each dimension,
// b_j = round((y_j / s - a_j) x 128), |b_j| <= 64, so y_j / s ~ a_j + b_j / 128.
// HALVES (f16 rows on f16 subgroup matrices, StageOptions.rowsHalf): no codes; the query's halves,
// q_j / s with s = 2^floor(log2 max |q_j|) (exact; the largest lands in [1, 2), away from f16's
// overflow and subnormals), two a word, D / 2 words a query (the two planes' space); per query s,
// 0, 0, 0. The scorer's keys are then (f16 row) . (q / s), times s when written.

//@CONSTS

const QW: u32 = D / 4u;
const WG: u32 = 64u;

//#include flat_params

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> queries: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> sq: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> out: array<u32>;

var<workgroup> wm: array<f32, WG>;
var<workgroup> wv: array<f32, WG>;
var<workgroup> wa: array<i32, WG>;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let q = wid.x + wid.y * 65535u;
  let nqPad = (params.nq + BQ - 1u) / BQ * BQ;
  // q is the same for the whole workgroup: the barriers below stay in uniform control flow.
  if (q >= nqPad) { return; }
  let live = q < params.nq;
  var m = 0.0;
  var v = 0.0;
  if (live) {
    for (var c = lid; c < QW; c += WG) {
      let x = queries[q * QW + c];
      let y = select(abs(x * sq[QW + c]), abs(x), HALVES);
      m = max(m, max(max(y.x, y.y), max(y.z, y.w)));
      v += dot(x, sq[c]);
    }
  }
  wm[lid] = m;
  wv[lid] = v;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h >>= 1u) {
    if (lid < h) {
      wm[lid] = max(wm[lid], wm[lid + h]);
      wv[lid] = wv[lid] + wv[lid + h];
    }
    workgroupBarrier();
  }
  let mm = wm[0];
  let s = select(1.0, select(mm / 127.0, exp2(floor(log2(mm))), HALVES), mm > 0.0);
  if (HALVES) {
    for (var c = lid; c < QW; c += WG) {
      var h = vec2<u32>(0u);
      if (live) {
        let v = queries[q * QW + c] / s;
        h = vec2<u32>(pack2x16float(v.xy), pack2x16float(v.zw));
      }
      out[q * 2u * QW + 2u * c] = h.x;
      out[q * 2u * QW + 2u * c + 1u] = h.y;
    }
    if (lid == 0u) {
      let at = 2u * nqPad * QW + 4u * q;
      out[at] = bitcast<u32>(select(0.0, s, live));
      out[at + 1u] = 0u;
      out[at + 2u] = 0u;
      out[at + 3u] = 0u;
    }
    return;
  }
  var sa = 0i;
  for (var c = lid; c < QW; c += WG) {
    var word = 0u;
    var word2 = 0u;
    if (live) {
      let v = queries[q * QW + c] * sq[QW + c] / s;
      let a = vec4<i32>(clamp(round(v), vec4<f32>(-127.0), vec4<f32>(127.0)));
      sa += a.x + a.y + a.z + a.w;
      word = pack4xI8(a);
      word2 = pack4xI8(vec4<i32>(clamp(round((v - vec4<f32>(a)) * 128.0), vec4<f32>(-127.0), vec4<f32>(127.0))));
    }
    out[q * QW + c] = word;
    if (DIGITS == 2u) { out[(nqPad + q) * QW + c] = word2; }
  }
  wa[lid] = sa;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h >>= 1u) {
    if (lid < h) { wa[lid] = wa[lid] + wa[lid + h]; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let at = DIGITS * nqPad * QW + 4u * q;
    out[at] = bitcast<u32>(select(0.0, s, live));
    out[at + 1u] = bitcast<u32>(wv[0]);
    out[at + 2u] = bitcast<u32>(wa[0]);
    out[at + 3u] = 0u;
  }
}
