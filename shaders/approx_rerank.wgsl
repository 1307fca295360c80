// approx_rerank: exact inner products of each query's final k candidates with their rows (packed
// f16, or f32 when the const F16 that src/gpu/approx-rerank.ts puts first is false), written over
// the keys in place, for batches whose scorer gave approximate keys (the tensor scorer on f16 and
// f32 shards: rows turned into i8 digits while staged, src/gpu/tensor/hook.ts). approx-rerank.ts
// dispatches it once per tile of rows after the merges: workgroup (i, q) takes slot i of query q's
// list; a candidate that is empty or another tile's is left as it is.
//
// Key: sum_j q_j x_j with the rows decoded to f32 and f32 products summed, as flat_gemv ranks the
// rows (up to summation order).
//
// floorAt (f32 shards, 0 = off): the workgroup of slot k - 1 also writes that slot's approximate key
// (the k-th best approximate key of the query's list: every row outside the list scores at most
// that) as (key bits, 1) at lists[floorAt + q], before overwriting it. The host certifies the
// list from it (approx-rerank.ts certifyF32).
//
// Bindings (group 0): 0 params, 1 base tile (array<vec4<u32>>, rowWords a row: 8 halves or 4 f32 a
// vec4, dims in order), 2 queries (nq x q4 vec4<f32>, zero-padded), 3 lists (array<vec2<u32>> of
// (key bits, id), read_write): query q's k pairs from params.at + q k.

struct Params {
  nq: u32,
  k: u32,
  rows: u32,     // the tile's rows
  rowWords: u32,
  q4: u32,
  idBase: u32,   // id of the tile's row 0
  at: u32,       // the lists' first pair
  floorAt: u32,  // f32: where each query's approximate floor goes (0: not written)
}

const WG: u32 = 64u;
const NO_ROW: u32 = 0xffffffffu;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> base: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read> queries: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> lists: array<vec2<u32>>;

var<workgroup> wrow: u32;
var<workgroup> wsum: array<f32, WG>;

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let slot = params.at + wid.y * params.k + wid.x;
  if (lid == 0u) {
    let pair = lists[slot];
    let id = pair.y;
    let inTile = id != NO_ROW && id >= params.idBase && id - params.idBase < params.rows;
    wrow = select(NO_ROW, id - params.idBase, inTile);
    if (inTile && params.floorAt != 0u && wid.x == params.k - 1u) { lists[params.floorAt + wid.y] = vec2<u32>(pair.x, 1u); }
  }
  // Uniform for the workgroup, so the early return keeps the barriers below in uniform control flow.
  let row = workgroupUniformLoad(&wrow);
  if (row == NO_ROW) { return; }
  let qAt = wid.y * params.q4;
  var acc = 0.0;
  for (var w = lid; w < params.rowWords; w += WG) {
    let v = base[row * params.rowWords + w];
    if (F16) {
      acc += dot(vec4<f32>(unpack2x16float(v.x), unpack2x16float(v.y)), queries[qAt + 2u * w]);
      acc += dot(vec4<f32>(unpack2x16float(v.z), unpack2x16float(v.w)), queries[qAt + 2u * w + 1u]);
    } else {
      acc += dot(bitcast<vec4<f32>>(v), queries[qAt + w]);
    }
  }
  wsum[lid] = acc;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h >>= 1u) {
    if (lid < h) { wsum[lid] += wsum[lid + h]; }
    workgroupBarrier();
  }
  if (lid == 0u) { lists[slot].x = bitcast<u32>(wsum[0]); }
}
