// flat_gemv: exact scores of a few queries (nq <= 4) against one base tile fused with per-workgroup
// top-k, for adapters with subgroups (the memory-bound case). One subgroup streams RU rows at a
// time: lane l reads 16-byte words l, l + S, l + 2S, ... of each row (S = subgroup size), so every
// load instruction reads one contiguous run, and subgroupAdd reduces the dot products (or, TR > 1
// and one query, a transposed reduction of TR passes' rows together). Lane q < nq
// then folds row scores that beat query q's current k-th best into the subgroup's heap for q; no
// workgroup barriers until the end, where the subgroups' heaps are merged and each query's k best
// of the segment written as one list (same output as flat_fused.wgsl, merged by merge_lists).
//
// Same bindings and Params as flat_fused.wgsl (both from flat_common.wgsl): 0 params, 1 base tile,
// 2 queries, 3 sq, 4 out.
enable subgroups;
//#if F16
enable f16;
//#endif
diagnostic(off, subgroup_uniformity);

override PREC: u32 = 0u;    // 0 f32, 1 f16 (packed in u32, or native with shader-f16), 2 int8 SQ
override METRIC: u32 = 0u;  // 0 inner product, 1 squared L2 (negated)
override KF: u32 = 16u;     // heap slots per (subgroup, query), >= k
override NSG: u32 = 8u;     // most subgroups a workgroup can have: WG / the adapter's smallest subgroup size
override RU: u32 = 1u;      // rows a subgroup has in flight (<= 8)
override UW: u32 = 8u;      // words of each row a lane loads before using them (RU * UW <= 16)
override DPW: u32 = 1u;     // vec4 of dims per 16-byte word: 1 f32, 2 f16, 4 int8
override FOLD: u32 = 0u;    // int8 ip: queries hold q * step and a bias q . vmin per query follows them
override PF: u32 = 0u;      // 1: the next pass's words are loaded before this pass's arithmetic (software pipeline)
// nq = 1, RU = 1: the partial sums of TR passes' rows (TR <= 32 and <= the subgroup size) are reduced
// together, TR - 1 + log2(S / TR) shuffle-adds for TR rows in place of TR x log2(S), and each lane
// ends with one row's total, so one compare a lane against the broadcast threshold rejects them
// (1: one subgroupAdd a row). PF does not apply there.
override TR: u32 = 1u;
// nq = 1, TR > 1, f32 or f16 rows of <= 6 / DPW words a lane: QREG 1 holds the lane's query dims in
// six named vec4 registers, loaded once, so a row costs its base loads and no query reads (the other
// path reads as many query vec4 a row from L1 as the row has, twice its bytes for f16). Other rows
// take the shared TR path. H200 call hq1: f16 1M nq = 1 0.474 ms against 0.555.
override QREG: u32 = 0u;
override HS: u32 = NSG * 4u * KF;
const WG: u32 = 256u;

//#include flat_common

// The multi-tile variant (src/gpu/flat-shard.ts gemvTilesSource: several tiles of equal rows a
// dispatch, the last may have fewer, tile t > 0 at binding 4 + t, each workgroup's tile from its
// id) puts its bindings and loads at the marker below, repeats the scan between the SCAN markers
// once a tile under one switch, and rewrites the segment and the ids; this text, one tile a
// dispatch, stays as measured.
//@MULTI_FETCH

fn term(a: vec4<f32>, b: vec4<f32>) -> f32 {
  if (METRIC == 0u) { return dot(a, b); }
  let d = a - b;
  return -dot(d, d);
}

// Words w0 + x * sgSize (x < UW) of rows r0 .. r0 + RU - 1 (RU * UW <= 16); 0 past `end` or the row.
fn loadPass(r0: u32, w0: u32, end: u32, sgSize: u32) -> array<vec4<u32>, 16> {
  var raw: array<vec4<u32>, 16>;
  for (var u = 0u; u < RU; u++) {
    for (var x = 0u; x < UW; x++) {
      let w = w0 + x * sgSize;
      var v = vec4<u32>(0u);
      if (r0 + u < end && w < params.rowWords) { v = base[(r0 + u) * params.rowWords + w]; }
      raw[u * UW + x] = v;
    }
  }
  return raw;
}

// Adds the terms of the pass's words (loadPass(r0, w0, ...)) to acc[u] (component q: query q).
fn multiply(acc: ptr<function, array<vec4<f32>, 8>>, raw: array<vec4<u32>, 16>, w0: u32, sgSize: u32, nq: u32, q4: u32) {
  for (var x = 0u; x < UW; x++) {
    let w = w0 + x * sgSize;
    if (w >= params.rowWords) { break; }
    for (var h = 0u; h < DPW; h++) {
      let c4 = w * DPW + h;
      let qa = queries[c4];
      var qb = vec4<f32>(0.0);
      var qc = vec4<f32>(0.0);
      var qd = vec4<f32>(0.0);
      if (nq > 1u) { qb = queries[q4 + c4]; }
      if (nq > 2u) { qc = queries[2u * q4 + c4]; }
      if (nq > 3u) { qd = queries[3u * q4 + c4]; }
      for (var u = 0u; u < RU; u++) {
        let b = decode(raw[u * UW + x], w, h);
        (*acc)[u].x += term(qa, b);
        if (nq > 1u) { (*acc)[u].y += term(qb, b); }
        if (nq > 2u) { (*acc)[u].z += term(qc, b); }
        if (nq > 3u) { (*acc)[u].w += term(qd, b); }
      }
    }
  }
}

// Query slot j of this lane for QREG: word lane + (j / DPW) * sgSize, half j % DPW (0 past the row).
fn querySlot(j: u32, lane: u32, sgSize: u32) -> vec4<f32> {
  let w = lane + (j / DPW) * sgSize;
  if (w < params.rowWords) { return queries[w * DPW + j % DPW]; }
  return vec4<f32>(0.0);
}

// Word w of row r (0 past `end` or the row).
fn loadWord(r: u32, w: u32, end: u32) -> vec4<u32> {
  if (r < end && w < params.rowWords) { return base[r * params.rowWords + w]; }
  return vec4<u32>(0u);
}

// One step of the transposed reduction of two values (rows) held by every lane: lanes with bit `off`
// set keep `right`, the others `left`, and each adds its partner's copy of what it keeps.
fn pair(left: f32, right: f32, off: u32, lane: u32) -> f32 {
  let hi = (lane & off) != 0u;
  return select(left, right, hi) + subgroupShuffleXor(select(right, left, hi), off);
}

// Joins pass t's partial c to the binary counter l0..l4 of the batched reduction: bit l of t set
// pairs the waiting left half of level l with this one (lane bit sgSize >> (l + 1)); the level
// reaching TR rows is the batch's total, left in s.
fn carry(c0: f32, t: u32, lane: u32, sgSize: u32, l0: ptr<function, f32>, l1: ptr<function, f32>,
         l2: ptr<function, f32>, l3: ptr<function, f32>, l4: ptr<function, f32>, s: ptr<function, f32>) {
  var c = c0;
  var lvl = 0u;
  if ((t & 1u) == 0u) { *l0 = c; } else {
    c = pair(*l0, c, sgSize >> 1u, lane);
    lvl = 1u;
    if ((t & 2u) == 0u) { *l1 = c; } else {
      c = pair(*l1, c, sgSize >> 2u, lane);
      lvl = 2u;
      if ((t & 4u) == 0u) { *l2 = c; } else {
        c = pair(*l2, c, sgSize >> 3u, lane);
        lvl = 3u;
        if ((t & 8u) == 0u) { *l3 = c; } else {
          c = pair(*l3, c, sgSize >> 4u, lane);
          lvl = 4u;
          if ((t & 16u) == 0u) { *l4 = c; } else {
            c = pair(*l4, c, sgSize >> 5u, lane);
            lvl = 5u;
          }
        }
      }
    }
  }
  if ((1u << lvl) == TR) { *s = c; }
}

// The pass (of TR) whose row lane `ln` holds after the TR - 1 pair() steps: level l (bit l of the
// pass) was chosen by lane bit sgSize >> (l + 1).
fn passOf(ln: u32, sgSize: u32) -> u32 {
  var t = 0u;
  for (var l = 0u; (1u << l) < TR; l++) {
    if ((ln & (sgSize >> (l + 1u))) != 0u) { t |= 1u << l; }
  }
  return t;
}

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(subgroup_size) sgSize: u32, @builtin(subgroup_invocation_id) lane: u32) {
  let sg = li / sgSize;
  let nsg = WG / sgSize;
  let seg = wid.x;
  let start = seg * params.segLen;
  let end = min(start + params.segLen, params.rows);
  let nq = min(params.nq, 4u);
  let k = params.k;
  let q4 = params.q4;
  for (var e = li; e < HS; e += WG) {
    hk[e] = negInf();
    hid[e] = EMPTY_ID;
  }
  workgroupBarrier();
  var thK = negInf();
  var thI = EMPTY_ID;
  let hat = (sg * 4u + lane) * KF;
  var qbias = 0.0;
  if (FOLD == 1u && lane < nq) { qbias = queries[nq * q4 + lane / 4u][lane % 4u]; }
  //@SCAN_BEGIN
  if (TR > 1u && RU == 1u && nq == 1u && TR <= 32u && TR <= sgSize) {
    // Rows rb + t * stride (t < TR): the rows the per-row loop below gives this subgroup. Each pass's
    // partial folds into a binary counter of scalars (l0 .. l4: level l holds a reduced group of 2^l
    // passes waiting for its right half), so no array is indexed and each pair costs one shuffle.
    let stride = nsg;
    let grp = sgSize / TR; // lanes that end with each row's total
    let mine = passOf(lane, sgSize);
    var bias0 = 0.0;
    if (FOLD == 1u) { bias0 = queries[q4][0]; }
    // QREG: the lane's words w0 .. w(6 / DPW - 1) and their query dims in slots v0..v5 (slot j: word
    // j / DPW, half j % DPW; 0 past the row), in registers.
    let qreg = QREG == 1u && (DPW == 1u || DPW == 2u) && params.rowWords <= (6u / DPW) * sgSize;
    let w0 = lane;
    let w1 = lane + sgSize;
    let w2 = lane + 2u * sgSize;
    let w3 = lane + 3u * sgSize;
    let w4 = lane + 4u * sgSize;
    let w5 = lane + 5u * sgSize;
    var v0 = vec4<f32>(0.0);
    var v1 = vec4<f32>(0.0);
    var v2 = vec4<f32>(0.0);
    var v3 = vec4<f32>(0.0);
    var v4 = vec4<f32>(0.0);
    var v5 = vec4<f32>(0.0);
    if (qreg) {
      v0 = querySlot(0u, lane, sgSize);
      v1 = querySlot(1u, lane, sgSize);
      v2 = querySlot(2u, lane, sgSize);
      v3 = querySlot(3u, lane, sgSize);
      v4 = querySlot(4u, lane, sgSize);
      v5 = querySlot(5u, lane, sgSize);
    }
    for (var rb = start + sg; rb < end; rb += stride * TR) {
      var l0 = 0.0;
      var l1 = 0.0;
      var l2 = 0.0;
      var l3 = 0.0;
      var l4 = 0.0;
      var s = 0.0;
      for (var t = 0u; t < TR; t++) {
        var c = 0.0;
        if (qreg) {
          let r = rb + t * stride;
          let a0 = loadWord(r, w0, end);
          let a1 = loadWord(r, w1, end);
          let a2 = loadWord(r, w2, end);
          if (DPW == 2u) {
            c = term(v0, decode(a0, w0, 0u)) + term(v1, decode(a0, w0, 1u)) + term(v2, decode(a1, w1, 0u))
              + term(v3, decode(a1, w1, 1u)) + term(v4, decode(a2, w2, 0u)) + term(v5, decode(a2, w2, 1u));
          } else {
            let a3 = loadWord(r, w3, end);
            let a4 = loadWord(r, w4, end);
            let a5 = loadWord(r, w5, end);
            c = term(v0, decode(a0, w0, 0u)) + term(v1, decode(a1, w1, 0u)) + term(v2, decode(a2, w2, 0u))
              + term(v3, decode(a3, w3, 0u)) + term(v4, decode(a4, w4, 0u)) + term(v5, decode(a5, w5, 0u));
          }
        } else {
          var acc: array<vec4<f32>, 8>;
          acc[0] = vec4<f32>(0.0);
          for (var wp = lane; wp < params.rowWords; wp += sgSize * UW) {
            multiply(&acc, loadPass(rb + t * stride, wp, end, sgSize), wp, sgSize, 1u, q4);
          }
          c = acc[0].x;
        }
        carry(c, t, lane, sgSize, &l0, &l1, &l2, &l3, &l4, &s);
      }
      for (var off = grp / 2u; off > 0u; off /= 2u) { s += subgroupShuffleXor(s, off); }
      let row = rb + mine * stride;
      let key = s + bias0;
      // Lane 0 owns query 0's heap: its threshold, broadcast, rejects most rows with one compare.
      let tk = subgroupBroadcast(thK, 0u);
      let ti = subgroupBroadcast(thI, 0u);
      let cand = lane % grp == 0u && row < end && better(key, params.idBase + row, tk, ti);
      if (subgroupAny(cand)) {
        for (var g = 0u; g < TR; g++) {
          let kv = subgroupShuffle(key, g * grp);
          let rv = rb + passOf(g * grp, sgSize) * stride;
          if (lane == 0u && rv < end && better(kv, params.idBase + rv, thK, thI)) {
            heapReplace(hat, k, kv, params.idBase + rv);
            thK = hk[hat];
            thI = hid[hat];
          }
        }
      }
    }
  } else {
    // PF: nxt holds the words of the pass after the current one (row group r0, words w0 + x * sgSize),
    // loaded while the current pass multiplies, reduces and selects.
    var nxt: array<vec4<u32>, 16>;
    if (PF == 1u) { nxt = loadPass(start + sg * RU, lane, end, sgSize); }
    for (var r0 = start + sg * RU; r0 < end; r0 += nsg * RU) {
      var acc: array<vec4<f32>, 8>; // RU <= 8: with disable_robustness nothing clamps acc[u]
      for (var u = 0u; u < RU; u++) { acc[u] = vec4<f32>(0.0); }
      // UW words per row and lane are loaded before any is used: RU * UW independent loads in flight.
      for (var w0 = lane; w0 < params.rowWords; w0 += sgSize * UW) {
        var raw: array<vec4<u32>, 16>; // RU * UW <= 16
        if (PF == 1u) {
          raw = nxt;
          var nr = r0;
          var nw = w0 + sgSize * UW;
          if (nw >= params.rowWords) {
            nr = r0 + nsg * RU;
            nw = lane;
          }
          nxt = loadPass(nr, nw, end, sgSize); // past the segment's end: nothing loaded
        } else {
          raw = loadPass(r0, w0, end, sgSize);
        }
        multiply(&acc, raw, w0, sgSize, nq, q4);
      }
      for (var u = 0u; u < RU; u++) {
        var s: vec4<f32>;
        if (nq == 1u) {
          s = vec4<f32>(subgroupAdd(acc[u].x), 0.0, 0.0, 0.0); // a quarter of the shuffles
        } else {
          s = subgroupAdd(acc[u]);
        }
        let id = params.idBase + r0 + u;
        if (lane < nq && r0 + u < end) {
          let key = s[lane] + qbias;
          if (better(key, id, thK, thI)) {
            heapReplace(hat, k, key, id);
            thK = hk[hat];
            thI = hid[hat];
          }
        }
      }
    }
  }
  //@SCAN_END
  workgroupBarrier();
  // Invocation q < nq is lane q of subgroup 0: it folds the other subgroups' heaps into its own.
  if (li < nq) {
    for (var g = 1u; g < nsg; g++) {
      let src = (g * 4u + li) * KF;
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
    out[(q * params.nseg + params.segAt + seg) * k + i] = vec2<u32>(bitcast<u32>(hk[q * KF + i]), hid[q * KF + i]);
  }
}
