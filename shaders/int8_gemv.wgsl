// int8_gemv: int8 SQ codes scored against a few queries quantised to integers, fused with
// per-workgroup top-k (the same lists as flat_fused.wgsl / flat_gemv.wgsl, merged by merge_lists),
// for adapters with subgroups. Inner products only.
//
// Why not flat_gemv with int8: one subgroup a row leaves a 48-word (768-dim) row to 32 lanes at 1.5
// words each, and decoding every code to f32 costs a conversion per dimension (a quarter-rate
// instruction): 1.4 ms at 1M x 768 against 0.16 ms to read the codes. Here G lanes share a row
// (sgSize / G rows a subgroup at once, every lane busy), and a code meets its query through
// dot4I8Packed: one instruction per 4 dimensions and query, no conversion in the loop.
//
// Scores (src/gpu/int8-gemv.ts quantises the queries): with per-dimension SQ, x_j = vmin_j + c_j
// step_j, so q.x = sum_j (q_j step_j) c_j + q.vmin. The folded query q_j step_j is rounded to
// integers t_j = round(q_j step_j / s) with one scale s per query: |t_j| <= 127 (QB = 1), or
// |t_j| <= 32639 split as 256 hi_j + lo_j with hi, lo in i8 (QB = 2: a 16-bit query, scores as
// close to the f32-decoded kernels' as f32 rounding). Codes enter as c_j - 128 (xor 0x80 turns a
// u8 into that i8), so A = sum hi_j (c_j - 128), B = sum lo_j (c_j - 128), and
// key = s (256 A + B) + [q.vmin + 128 s sum_j t_j] (the bracket precomputed per query).
// A, B stay in i32 within a lane (exact); each lane's 256 A + B is converted to f32 once per row
// and the G lanes' parts summed with subgroupShuffleXor.
//
// Bindings (explicit layout, shared with flat_fused: 3 is unused): 0 params, 1 base tile,
// 2 quantised queries (below), 4 out. Binding 2 holds, for query q and part h < QB, rowWords
// vec4<u32> of packed i8 at ((q * QB + h) * rowWords), then from nq * QB * rowWords one vec4 per
// query: (bits of s, bits of the bracket, 0, 0).
enable subgroups;
diagnostic(off, subgroup_uniformity);

override KF: u32 = 16u;   // heap slots per (subgroup, query), >= k
override NSG: u32 = 8u;   // most subgroups a workgroup can have: WG / the adapter's smallest subgroup size
override NQ: u32 = 4u;    // queries a workgroup scores (4, 8 or 16; <= G): lane q < NQ owns query q's heap
override G: u32 = 16u;    // lanes a row (power of two, <= the adapter's smallest subgroup size)
override UW: u32 = 4u;    // words a lane loads before using them (<= 8)
override QB: u32 = 2u;    // 1: i8 queries, 2: 16-bit queries as hi / lo i8 parts
override HS: u32 = NSG * NQ * KF;
// EM 1: the subgroups' heaps are merged by a bitonic sort of SP (a power of two >= NSG * KF) slots a
// query in workgroup memory, all invocations at once, instead of by one lane per query (serial
// heap replacements). Off by default: measured slower on the H200 (src/gpu/int8-gemv.ts).
// The sort reuses the heaps' memory (HSA = max(HS, NQ * SP) slots; NQ * SP <= 8 * WG).
override EM: u32 = 0u;
override SP: u32 = 2u;
override HSA: u32 = HS;
const WG: u32 = 256u;

//#include flat_params

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> base: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read> qd: array<vec4<u32>>;
@group(0) @binding(4) var<storage, read_write> out: array<vec2<u32>>;

var<workgroup> hk: array<f32, HSA>;
var<workgroup> hid: array<u32, HSA>;

//#include flat_order

//#include flat_heap

fn dot16(c: vec4<u32>, q: vec4<u32>) -> i32 {
  return dot4I8Packed(c.x, q.x) + dot4I8Packed(c.y, q.y) + dot4I8Packed(c.z, q.z) + dot4I8Packed(c.w, q.w);
}

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(subgroup_size) sgSize: u32, @builtin(subgroup_invocation_id) lane: u32) {
  let sg = li / sgSize;
  let nsg = WG / sgSize;
  let rps = sgSize / G;      // rows a subgroup scores at once
  let gi = lane / G;         // this lane's row among them
  let p = lane % G;          // and its place in the row
  let seg = wid.x;
  let q0 = wid.y * NQ;
  let nq = min(params.nq - q0, NQ);
  let rw = params.rowWords;
  let start = seg * params.segLen;
  let end = min(start + params.segLen, params.rows);
  let k = params.k;
  for (var e = li; e < HS; e += WG) {
    hk[e] = negInf();
    hid[e] = EMPTY_ID;
  }
  workgroupBarrier();
  var thK = negInf();
  var thI = EMPTY_ID;
  let mq = lane % NQ;        // the query whose score this lane hands on
  let hat = (sg * NQ + mq) * KF;
  let cq = qd[params.nq * QB * rw + q0 + min(mq, nq - 1u)];
  let qs = bitcast<f32>(cq.x);
  let qbias = bitcast<f32>(cq.y);
  for (var r0 = start + sg * rps; r0 < end; r0 += nsg * rps) {
    let row = r0 + gi;
    let live = row < end;
    var ah: array<vec4<i32>, 4>;
    var al: array<vec4<i32>, 4>;
    for (var j = 0u; j < NQ / 4u; j++) {
      ah[j] = vec4<i32>(0);
      al[j] = vec4<i32>(0);
    }
    // UW words of the row per lane are loaded before any is used: independent loads in flight.
    for (var w0 = p; w0 < rw; w0 += G * UW) {
      var raw: array<vec4<u32>, 8>;
      for (var x = 0u; x < UW; x++) {
        let w = w0 + x * G;
        var v = vec4<u32>(0u);
        if (live && w < rw) { v = base[row * rw + w]; }
        raw[x] = v;
      }
      for (var x = 0u; x < UW; x++) {
        let w = w0 + x * G;
        if (w >= rw) { break; }
        let c = raw[x] ^ vec4<u32>(0x80808080u);
        for (var j = 0u; j < NQ / 4u; j++) {
          for (var t = 0u; t < 4u; t++) {
            let qi = 4u * j + t;
            if (qi < nq) {
              let at = ((q0 + qi) * QB) * rw + w;
              ah[j][t] += dot16(c, qd[at]);
              if (QB == 2u) { al[j][t] += dot16(c, qd[at + rw]); }
            }
          }
        }
      }
    }
    // Each lane's part of its row as f32, summed over the row's G lanes.
    var f: array<vec4<f32>, 4>;
    for (var j = 0u; j < NQ / 4u; j++) {
      f[j] = vec4<f32>(ah[j]);
      if (QB == 2u) { f[j] = f[j] * 256.0 + vec4<f32>(al[j]); }
    }
    for (var off = G / 2u; off > 0u; off /= 2u) {
      if (nq == 1u) {
        f[0].x += subgroupShuffleXor(f[0].x, off); // a quarter of the shuffles
      } else {
        for (var j = 0u; j < NQ / 4u; j++) {
          if (4u * j < nq) { f[j] += subgroupShuffleXor(f[j], off); }
        }
      }
    }
    // Lane q < nq takes query q's score of each of the subgroup's rows from lane (row * G + q).
    var mine = 0.0;
    for (var j = 0u; j < NQ / 4u; j++) {
      for (var t = 0u; t < 4u; t++) {
        if (mq == 4u * j + t) { mine = f[j][t]; }
      }
    }
    for (var r = 0u; r < rps; r++) {
      let s = subgroupShuffle(mine, r * G + mq);
      let id = params.idBase + r0 + r;
      if (lane < nq && r0 + r < end) {
        let key = s * qs + qbias;
        if (better(key, id, thK, thI)) {
          heapReplace(hat, k, key, id);
          thK = hk[hat];
          thI = hid[hat];
        }
      }
    }
  }
  workgroupBarrier();
  if (EM == 1u) {
    // Slot r of query q takes entry r % KF of subgroup r / KF's heap (empty past nsg * k): read
    // into registers, then written over the heaps.
    var tmp: array<vec2<u32>, 8>;
    for (var x = 0u; x < 8u; x++) {
      let e = li + x * WG;
      let g = (e % SP) / KF;
      let i = (e % SP) % KF;
      var v = vec2<u32>(bitcast<u32>(negInf()), EMPTY_ID);
      if (e < nq * SP && g < nsg && i < k) {
        let at = (g * NQ + e / SP) * KF + i;
        v = vec2<u32>(bitcast<u32>(hk[at]), hid[at]);
      }
      tmp[x] = v;
    }
    workgroupBarrier();
    for (var x = 0u; x < 8u; x++) {
      let e = li + x * WG;
      if (e < nq * SP) {
        hk[e] = bitcast<f32>(tmp[x].x);
        hid[e] = tmp[x].y;
      }
    }
    workgroupBarrier();
    // Bitonic sort of each query's SP slots, best first.
    for (var size = 2u; size <= SP; size *= 2u) {
      for (var stride = size / 2u; stride > 0u; stride /= 2u) {
        for (var t = li; t < nq * (SP / 2u); t += WG) {
          let u = t % (SP / 2u);
          let a = (u / stride) * stride * 2u + u % stride;
          let ia = (t / (SP / 2u)) * SP + a;
          let ib = ia + stride;
          let ka = hk[ia];
          let kb = hk[ib];
          let da = hid[ia];
          let db = hid[ib];
          // Best first where bit `size` of a is clear, worst first where set (bitonic merge).
          let bBetter = better(kb, db, ka, da);
          if (select(!bBetter && (ka != kb || da != db), bBetter, (a & size) == 0u)) {
            hk[ia] = kb;
            hid[ia] = db;
            hk[ib] = ka;
            hid[ib] = da;
          }
        }
        workgroupBarrier();
      }
    }
    for (var e = li; e < nq * k; e += WG) {
      let q = e / k;
      let i = e % k;
      out[((q0 + q) * params.nseg + params.segAt + seg) * k + i] = vec2<u32>(bitcast<u32>(hk[q * SP + i]), hid[q * SP + i]);
    }
    return;
  }
  // Invocation q < nq is lane q of subgroup 0: it folds the other subgroups' heaps into its own.
  if (li < nq) {
    for (var g = 1u; g < nsg; g++) {
      let src = (g * NQ + li) * KF;
      for (var i = 0u; i < k; i++) {
        let key = hk[src + i];
        let id = hid[src + i];
        if (better(key, id, thK, thI)) {
          heapReplace(hat, k, key, id);
          thK = hk[hat];
          thI = hid[hat];
        }
      }
    }
  }
  workgroupBarrier();
  for (var e = li; e < nq * k; e += WG) {
    let q = e / k;
    let i = e % k;
    out[((q0 + q) * params.nseg + params.segAt + seg) * k + i] = vec2<u32>(bitcast<u32>(hk[q * KF + i]), hid[q * KF + i]);
  }
}
