// int8_mma_merge: per query, the best KP of the (key, id) lists written by int8_mma_select.
//
// Template like int8_mma_select.wgsl (`//@CONSTS` gives KP). Bindings (group 0):
//   0 params  uniform { nq, perQuery (entries per query in cand), 0, 0 }
//   1 cand    storage read  array<vec2<i32>>  nq x perQuery (key, id); id -1 is empty
//   2 out     storage rw    array<vec2<i32>>  nq x KP, best first (larger key; ties to the lower id)
// One workgroup of 32 invocations a query (x + 65535 * y): each keeps a private sorted list of its
// strided share, then invocation 0 folds the 32 lists from workgroup memory.

//@CONSTS

const MIN_KEY: i32 = -2147483647 - 1;
const WG: u32 = 32u;

struct Params {
  nq: u32,
  perQuery: u32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> cand: array<vec2<i32>>;
@group(0) @binding(2) var<storage, read_write> out: array<vec2<i32>>;

var<workgroup> lists: array<vec2<i32>, WG * KP>;

// True when (ka, ia) ranks before (kb, ib): larger key, then lower id; empty (-1) ranks last.
fn before(ka: i32, ia: i32, kb: i32, ib: i32) -> bool {
  if (ia < 0) { return false; }
  if (ib < 0) { return true; }
  return ka > kb || (ka == kb && ia < ib);
}

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let q = wid.x + wid.y * 65535u;
  var kk: array<i32, KP>;
  var ii: array<i32, KP>;
  for (var i = 0u; i < KP; i++) { kk[i] = MIN_KEY; ii[i] = -1; }
  let valid = q < params.nq;
  if (valid) {
    let at = q * params.perQuery;
    for (var e = lid; e < params.perQuery; e += WG) {
      let p = cand[at + e];
      if (p.y >= 0 && before(p.x, p.y, kk[KP - 1u], ii[KP - 1u])) {
        var ck = p.x;
        var ci = p.y;
        for (var i = 0u; i < KP; i++) {
          let sw = before(ck, ci, kk[i], ii[i]);
          let ok = kk[i];
          let oi = ii[i];
          kk[i] = select(ok, ck, sw);
          ii[i] = select(oi, ci, sw);
          ck = select(ck, ok, sw);
          ci = select(ci, oi, sw);
        }
      }
    }
  }
  for (var i = 0u; i < KP; i++) { lists[lid * KP + i] = vec2<i32>(kk[i], ii[i]); }
  workgroupBarrier();
  if (lid == 0u && valid) {
    for (var e = KP; e < WG * KP; e++) {
      let p = lists[e];
      if (p.y >= 0 && before(p.x, p.y, kk[KP - 1u], ii[KP - 1u])) {
        var ck = p.x;
        var ci = p.y;
        for (var i = 0u; i < KP; i++) {
          let sw = before(ck, ci, kk[i], ii[i]);
          let ok = kk[i];
          let oi = ii[i];
          kk[i] = select(ok, ck, sw);
          ii[i] = select(oi, ci, sw);
          ck = select(ck, ok, sw);
          ci = select(ci, oi, sw);
        }
      }
    }
    for (var i = 0u; i < KP; i++) { out[q * KP + i] = vec2<i32>(kk[i], ii[i]); }
  }
}
