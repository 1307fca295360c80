// flat_gemv_multi: exact scores of 2-16 queries (a class of NQ = 4, 8 or 16, fewer padded) against one
// base tile, fused with per-workgroup top-k, for adapters with subgroups of a fixed size SG. Each
// row is read once from memory for all NQ queries (flat_fused re-stages rows per query block).
// A group of LPR lanes (the subgroup, or SG / LPR groups of it) takes RU consecutive rows an
// iteration; lane l of a group reads 16-byte words l, l + LPR, ... of each, and each query word it
// reads (storage, cached; or staged, QWG) serves its RU rows (and, at the same address, the other
// groups' rows: LPR 16 for f16, H100 h34): RU x NQ
// partial sums a lane (RU 4; RU 1 was 1.3-1.9x slower on the H200; 8, rows 4-7 in a block of 16's
// accumulators so a query load serves 8 rows, 1.02-1.19x slower at f16 8-16 queries, H100 h67, where
// the driver gives this kernel 128 registers at RU 4), held in named variables (an
// indexed array of them went to local memory: 5x slower). They are reduced across the lane group by
// a transposed reduction (pairs of halves swapped at each level: about RU x NQ shuffles, not
// RU x NQ x log2 LPR), leaving each lane max(1, RU NQ / LPR) (row, query) totals. Selection as in
// int8_gemv.wgsl: a lane appends a total that beats its query's threshold (the k-th best after the
// last sort) to the query's buffer of SP slots; every CI iterations the workgroup sorts buffers that
// could overflow and keeps k. Same bindings, Params and lists as flat_gemv.wgsl (merged by
// merge_lists). The shard uses it for 2-4 queries as a block of 4 and 5-8 as a block of 8 by default,
// and for 9-16 queries as two blocks of 8 with QX: a segment's blocks launched together, the second
// reading the rows from L2 (H100 h57-h60: 1.07-1.2x faster than the block of 16, whose query loads
// per multiply-add are twice the block of 8's), split evenly (QB: 13 = 7 + 6; H100 h64-h65: 3-12%
// faster than the block of 16 at 9-14, which 8 + the rest padded to 8 was not); a batch short of
// its block multiplies only its own queries (NG, NQR). With DYN the workgroups claim their rows a chunk at a time from a counter a
// tile, so they end together (H100 h42-h48: 1-4% faster at 2-12 queries, but 5 over 21M). H100 h27: f32 1.07-1.84x
// torch fp32 at 2-16; h53: f16 1.13-1.17x torch fp16 at 2-4, 1.06-1.14x at 5-7, 1.02x / 1.07x at 8
// (1M / 21M; a full block of 8 takes the block of 4's time plus the issue time of its second half's
// multiply-adds); h66 (21M and 1M): 0.79-0.82x at 9, 0.70-0.72x at 14. A check leaves free slots past its interval's room (k = 100
// sorted every ~30 candidates before) and f16 sorts after the first iteration too (FIRST; h51).
enable subgroups;
//#if F16
enable f16;
//#endif
diagnostic(off, subgroup_uniformity);

override PREC: u32 = 0u;    // 0 f32, 1 f16
override METRIC: u32 = 0u;  // 0 inner product, 1 squared L2 (negated)
override NQ: u32 = 16u;     // queries a workgroup (4, 8 or 16)
override SG: u32 = 32u;     // the subgroup size (the adapter's fixed one, 8..128)
override LPR: u32 = SG;     // lanes a row (a power of two <= SG): a subgroup scores SG / LPR rows' groups at once
override RU: u32 = 4u;      // rows a subgroup an iteration (1, 2 or 4)
override UW: u32 = 2u;      // words of each row a lane loads before using them (1 or 2)
override DPW: u32 = 1u;     // vec4 of dims per 16-byte word: 1 f32, 2 f16
override SP: u32 = 256u;    // buffer slots a query: a power of two >= k + CI * (WG / LPR) * RU
override CI: u32 = 1u;      // iterations between buffer checks
override CF: u32 = 2u;      // totals a lane ends with: max(1, RU * NQ / LPR) <= 8
override QWG: u32 = 0u;     // 1: the block's first QN queries staged in workgroup memory (QS = QN * q4 vec4)
override QN: u32 = 0u;      // 4, 8 or 16 (<= NQ); the others are read from storage
override QS: u32 = 1u;
override FMAC: u32 = 0u;    // 1: inner products as fma chains into the accumulators (0: dot, then add)
override NG: u32 = 4u;      // groups of 4 queries holding real ones (<= NQ / 4); later ones are skipped
override NQR: u32 = 4u;     // real queries in group NG - 1 (1-4): padding past them is not multiplied
override QP: u32 = 0u;      // 1 (DPW 2): the queries as two half rows, vec4 2w + h at h * q4 / 2 + w (host-ordered)
override FOLD: u32 = 0u;    // unused here (flat_common's int8 decode)
override HS: u32 = NQ * SP;
override DYN: u32 = 0u;     // > 0: chunks of DYN iterations' rows claimed from a counter a tile (claimChunk), not one segment a workgroup
override FIRST: u32 = 0u;   // 1: a check (and sort past k) after the workgroup's first iteration, so its thresholds are set early
override QX: u32 = 0u;      // 1: query blocks on the grid's x: a segment's blocks launched together, sharing its rows through L2
override QB: u32 = NQ;      // queries a block (<= NQ): a batch split evenly (13 = 7 + 6, the second padded to 7 by NG, NQR)
const WG: u32 = 256u;

//#include flat_common

var<workgroup> cnt: array<atomic<u32>, NQ>;
var<workgroup> tk: array<f32, NQ>;
var<workgroup> ti: array<u32, NQ>;
var<workgroup> pend: vec2<u32>;   // the largest count, then (DYN) the next chunk
var<workgroup> qs: array<vec4<f32>, QS>;

// The multi-tile variant (src/gpu/tiles-source.ts: several tiles of equal rows a dispatch, the
// last may have fewer, tile t > 0 at binding 4 + t, each workgroup's tile from its id) puts its
// bindings and copies of word() at the marker below, repeats the scan between the SCAN markers
// once a tile under one switch, and rewrites the segment and the ids; this text, one tile a
// dispatch, stays as measured.
//@MULTI_FETCH

// Dynamic chunks (DYN > 0; src/gpu/gemv-multi.ts puts the counters' binding and these bodies here):
// claimChunk(c) returns the next claim of counter c, resetClaims(c) sets it back to 0.
//@CLAIMS

fn term(a: vec4<f32>, b: vec4<f32>) -> f32 {
  if (METRIC == 0u) { return dot(a, b); }
  let d = a - b;
  return -dot(d, d);
}

// Sorts each query's first n2 slots best first (slots past its count emptied first), keeps k and
// moves the thresholds to slot k - 1: the whole workgroup, n2 a power of two, uniform control flow.
// The sort is shared with int8_gemv (shaders/candidate_sort.wgsl; hk / hid: flat_common's heap here).
fn flush(li: u32, nq: u32, n2: u32, k: u32) {
//#include candidate_sort
  if (li < nq) {
    atomicStore(&cnt[li], min(atomicLoad(&cnt[li]), k));
    tk[li] = hk[li * SP + k - 1u];
    ti[li] = hid[li * SP + k - 1u];
  }
  workgroupBarrier();
}

// The pairing step of the transposed reduction: lanes with bit `off` set keep `b`, the others `a`,
// each adding its partner's copy of what it keeps.
fn pair4(a: vec4<f32>, b: vec4<f32>, off: u32, hi: bool) -> vec4<f32> {
  return select(a, b, hi) + subgroupShuffleXor(select(b, a, hi), off);
}

fn t4(qa: vec4<f32>, qb: vec4<f32>, qc: vec4<f32>, qd: vec4<f32>, b: vec4<f32>) -> vec4<f32> {
  return vec4<f32>(term(qa, b), term(qb, b), term(qc, b), term(qd, b));
}

// a + the terms of queries qa .. qd with row vec4 b. Inner products as four fma of the queries'
// transposed components (FMAC 1): 16 multiply-adds, where dot-then-add costs a fifth more
// instructions (the add cannot fold into a dot without reordering its sum).
// nc (a constant once inlined): the group's real queries; the others' components stay 0 and are
// never kept, with each real one's sum in the same order as in a full group.
fn add4(a: vec4<f32>, qa: vec4<f32>, qb: vec4<f32>, qc: vec4<f32>, qd: vec4<f32>, b: vec4<f32>, nc: u32) -> vec4<f32> {
  if (METRIC == 0u && FMAC == 1u) {
    if (nc == 4u) {
      var s = fma(vec4<f32>(qa.x, qb.x, qc.x, qd.x), vec4<f32>(b.x), a);
      s = fma(vec4<f32>(qa.y, qb.y, qc.y, qd.y), vec4<f32>(b.y), s);
      s = fma(vec4<f32>(qa.z, qb.z, qc.z, qd.z), vec4<f32>(b.z), s);
      return fma(vec4<f32>(qa.w, qb.w, qc.w, qd.w), vec4<f32>(b.w), s);
    }
    var s = a;
    s.x = fma(qa.w, b.w, fma(qa.z, b.z, fma(qa.y, b.y, fma(qa.x, b.x, s.x))));
    if (nc > 1u) { s.y = fma(qb.w, b.w, fma(qb.z, b.z, fma(qb.y, b.y, fma(qb.x, b.x, s.y)))); }
    if (nc > 2u) { s.z = fma(qc.w, b.w, fma(qc.z, b.z, fma(qc.y, b.y, fma(qc.x, b.x, s.z)))); }
    return s;
  }
  if (nc == 4u) { return a + t4(qa, qb, qc, qd, b); }
  let z = 0.0;
  return a + vec4<f32>(term(qa, b), select(z, term(qb, b), nc > 1u), select(z, term(qc, b), nc > 2u), z);
}

// Queries qj .. qj + 3 (padding repeats the batch's last; its totals are never kept; nc of them real
// in a partial last group), vec4 c4, times rows b0 .. b3 (RU of them) into a0 .. a3. Accumulators
// are named variables, never an indexed array: H200 call gm1 measured a 64-float acc[] indexed in
// loops 5x slower (local memory).
fn block(a0: ptr<function, vec4<f32>>, a1: ptr<function, vec4<f32>>, a2: ptr<function, vec4<f32>>, a3: ptr<function, vec4<f32>>,
         q0: u32, jl: u32, c4: u32, b0: vec4<f32>, b1: vec4<f32>, b2: vec4<f32>, b3: vec4<f32>, nc: u32) {
  let last = params.nq - 1u;
  let q4 = params.q4;
  let qj = q0 + jl;
  var qa: vec4<f32>;
  var qb: vec4<f32>;
  var qc: vec4<f32>;
  var qd: vec4<f32>;
  if (QWG == 1u && jl < QN) {
    qa = qs[jl * q4 + c4];
    qb = qa;
    qc = qa;
    qd = qa;
    if (nc > 1u) { qb = qs[(jl + 1u) * q4 + c4]; }
    if (nc > 2u) { qc = qs[(jl + 2u) * q4 + c4]; }
    if (nc > 3u) { qd = qs[(jl + 3u) * q4 + c4]; }
  } else {
    qa = queries[min(qj, last) * q4 + c4];
    qb = qa;
    qc = qa;
    qd = qa;
    if (nc > 1u) { qb = queries[min(qj + 1u, last) * q4 + c4]; }
    if (nc > 2u) { qc = queries[min(qj + 2u, last) * q4 + c4]; }
    if (nc > 3u) { qd = queries[min(qj + 3u, last) * q4 + c4]; }
  }
  *a0 = add4(*a0, qa, qb, qc, qd, b0, nc);
  if (RU > 1u) { *a1 = add4(*a1, qa, qb, qc, qd, b1, nc); }
  if (RU > 2u) {
    *a2 = add4(*a2, qa, qb, qc, qd, b2, nc);
    *a3 = add4(*a3, qa, qb, qc, qd, b3, nc);
  }
}

// Word w of row r, 0 past the segment or the row.
fn word(r: u32, w: u32, end: u32) -> vec4<u32> {
  if (r < end && w < params.rowWords) { return base[r * params.rowWords + w]; }
  return vec4<u32>(0u);
}

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) gid: vec3<u32>,
        @builtin(subgroup_invocation_id) lane: u32) {
  let wid = select(gid, gid.yxz, QX == 1u);    // x the segment, y the query block
  let sg = li / SG;
  let gl = lane % LPR;                         // the lane's place in its row group
  let grp = sg * (SG / LPR) + lane / LPR;      // the workgroup's row group
  let nv = RU * NQ / 4u;     // vec4 accumulators a lane: acc[u * NQ / 4 + j] holds queries 4j .. 4j + 3 of row u
  let seg = wid.x;
  let q0 = wid.y * QB;
  let nq = min(params.nq - q0, QB);
  let rw = params.rowWords;
  let q4 = params.q4;
  let start = seg * params.segLen;
  let end = min(start + params.segLen, params.rows);
  let k = params.k;
  let P = (WG / LPR) * RU;   // rows the workgroup scores an iteration
  // DYN > 0: the tile's rows in chunks of DYN iterations (CR rows). Workgroup `seg` of the tile's
  // tileWorkgroups starts on chunk `seg`; while it scores a chunk, it claims its next one
  // (tileWorkgroups + the claim), read at the chunk's last iteration's barrier. So
  // workgroups that stream faster take more chunks, and all end within about a chunk of each other.
  // Every chunk is scored once and makes one claim, so the claim that returns nChunks - 1 is the
  // tile's last in this dispatch: it resets the counter for the next.
  let dynRows = params.rows;
  let dynSegLen = params.segLen;
  let dynTile = 0u;
  let tileWorkgroups = (dynRows + dynSegLen - 1u) / dynSegLen;
  let DI = max(DYN, 1u);     // iterations a chunk (1 without DYN, which never reads it)
  let CR = P * DI;
  let nChunks = (dynRows + CR - 1u) / CR;
  let counter = wid.y * 8u + dynTile;
  var chunk = seg;
  var claimed = 0u;
  let nIter = select(select(0u, (end - start + P - 1u) / P, end > start), select(0u, 0xffffffffu, seg < min(nChunks, tileWorkgroups)), DYN > 0u);
  for (var e = li; e < HS; e += WG) {
    hk[e] = negInf();
    hid[e] = EMPTY_ID;
  }
  if (QWG == 1u) {
    for (var e = li; e < QS; e += WG) { qs[e] = queries[min(q0 + e / q4, params.nq - 1u) * q4 + e % q4]; }
  }
  if (li < NQ) {
    atomicStore(&cnt[li], 0u);
    tk[li] = negInf();
    ti[li] = EMPTY_ID;
  }
  workgroupBarrier();
  //@SCAN_BEGIN
  for (var it = 0u; it < nIter; it++) {
    if (DYN > 0u && li == 0u && it % DI == 0u) { claimed = claimChunk(counter); }
    let first = select(start + it * P, chunk * CR + (it % DI) * P, DYN > 0u);
    let lim = select(end, dynRows, DYN > 0u);
    let r0 = first + grp * RU;
    var a00 = vec4<f32>(0.0);
    var a01 = vec4<f32>(0.0);
    var a02 = vec4<f32>(0.0);
    var a03 = vec4<f32>(0.0);
    var a10 = vec4<f32>(0.0);
    var a11 = vec4<f32>(0.0);
    var a12 = vec4<f32>(0.0);
    var a13 = vec4<f32>(0.0);
    var a20 = vec4<f32>(0.0);
    var a21 = vec4<f32>(0.0);
    var a22 = vec4<f32>(0.0);
    var a23 = vec4<f32>(0.0);
    var a30 = vec4<f32>(0.0);
    var a31 = vec4<f32>(0.0);
    var a32 = vec4<f32>(0.0);
    var a33 = vec4<f32>(0.0);
    for (var w = gl; w < rw; w += LPR * UW) {
      // UW words of each of RU rows loaded before any is used: independent loads in flight.
      let x00 = word(r0, w, lim);
      var x10 = vec4<u32>(0u);
      var x20 = vec4<u32>(0u);
      var x30 = vec4<u32>(0u);
      if (RU > 1u) { x10 = word(r0 + 1u, w, lim); }
      if (RU > 2u) {
        x20 = word(r0 + 2u, w, lim);
        x30 = word(r0 + 3u, w, lim);
      }
      var x01 = vec4<u32>(0u);
      var x11 = vec4<u32>(0u);
      var x21 = vec4<u32>(0u);
      var x31 = vec4<u32>(0u);
      if (UW > 1u) {
        x01 = word(r0, w + LPR, lim);
        if (RU > 1u) { x11 = word(r0 + 1u, w + LPR, lim); }
        if (RU > 2u) {
          x21 = word(r0 + 2u, w + LPR, lim);
          x31 = word(r0 + 3u, w + LPR, lim);
        }
      }
      for (var p = 0u; p < UW; p++) {
        let wp = w + p * LPR;
        if (wp < rw) {
          let second = p == 1u;
          for (var h = 0u; h < DPW; h++) {
            // A lane's word wp takes query vec4 2 wp and 2 wp + 1: 32-byte strided loads across the
            // subgroup, each touching twice the cache lines it uses, unless the host split them (QP).
            let c4 = select(wp * DPW + h, h * (q4 / DPW) + wp, QP == 1u);
            let b0 = decode(select(x00, x01, second), wp, h);
            let b1 = decode(select(x10, x11, second), wp, h);
            let b2 = decode(select(x20, x21, second), wp, h);
            let b3 = decode(select(x30, x31, second), wp, h);
            // Groups past NG hold only padding: skipped (their accumulators stay 0).
            block(&a00, &a10, &a20, &a30, q0, 0u, c4, b0, b1, b2, b3, select(4u, NQR, NG == 1u));
            if (NQ > 4u && NG > 1u) { block(&a01, &a11, &a21, &a31, q0, 4u, c4, b0, b1, b2, b3, select(4u, NQR, NG == 2u)); }
            if (NQ > 8u) {
              if (NG > 2u) { block(&a02, &a12, &a22, &a32, q0, 8u, c4, b0, b1, b2, b3, select(4u, NQR, NG == 3u)); }
              if (NG > 3u) { block(&a03, &a13, &a23, &a33, q0, 12u, c4, b0, b1, b2, b3, NQR); }
            }
          }
        }
      }
    }
    // acc[u * NQ / 4 + j] = a_uj (value v = 4 i + component of acc[i] is row v / NQ, query v % NQ),
    // indexed by constants only from here on.
    let z = vec4<f32>(0.0);
    var acc = array<vec4<f32>, 16>(a00, a01, a10, a11, a20, a21, a30, a31, z, z, z, z, z, z, z, z);
    if (NQ == 4u) { acc = array<vec4<f32>, 16>(a00, a10, a20, a30, z, z, z, z, z, z, z, z, z, z, z, z); }
    if (NQ > 8u) { acc = array<vec4<f32>, 16>(a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33); }
    // Transposed reduction: value v (of RU * NQ, v = 4 i + component of acc[i]) ends on the lanes
    // whose pairing bits spell its upper bits (`at`: the lane's first value).
    // Levels written out with literal counts (vec4 i and i + h, i < h), so acc stays in registers;
    // a level runs while the vec4 count allows and lanes remain (off > 1).
    var off = LPR;
    var at = 0u;
    if (nv == 16u && off > 1u) {
      off /= 2u;
      let hi = (lane & off) != 0u;
      acc[0] = pair4(acc[0], acc[8], off, hi);
      acc[1] = pair4(acc[1], acc[9], off, hi);
      acc[2] = pair4(acc[2], acc[10], off, hi);
      acc[3] = pair4(acc[3], acc[11], off, hi);
      acc[4] = pair4(acc[4], acc[12], off, hi);
      acc[5] = pair4(acc[5], acc[13], off, hi);
      acc[6] = pair4(acc[6], acc[14], off, hi);
      acc[7] = pair4(acc[7], acc[15], off, hi);
      if (hi) { at += 32u; }
    }
    if (nv >= 8u && off > 1u) {
      off /= 2u;
      let hi = (lane & off) != 0u;
      acc[0] = pair4(acc[0], acc[4], off, hi);
      acc[1] = pair4(acc[1], acc[5], off, hi);
      acc[2] = pair4(acc[2], acc[6], off, hi);
      acc[3] = pair4(acc[3], acc[7], off, hi);
      if (hi) { at += 16u; }
    }
    if (nv >= 4u && off > 1u) {
      off /= 2u;
      let hi = (lane & off) != 0u;
      acc[0] = pair4(acc[0], acc[2], off, hi);
      acc[1] = pair4(acc[1], acc[3], off, hi);
      if (hi) { at += 8u; }
    }
    if (nv >= 2u && off > 1u) {
      off /= 2u;
      let hi = (lane & off) != 0u;
      acc[0] = pair4(acc[0], acc[1], off, hi);
      if (hi) { at += 4u; }
    }
    if (off > 1u) {
      off /= 2u;
      let hi = (lane & off) != 0u;
      let a = acc[0];
      acc[0] = vec4<f32>(select(a.xy, a.zw, hi) + subgroupShuffleXor(select(a.zw, a.xy, hi), off), 0.0, 0.0);
      if (hi) { at += 2u; }
      if (off > 1u) {
        off /= 2u;
        let hi1 = (lane & off) != 0u;
        let s = acc[0];
        acc[0].x = select(s.x, s.y, hi1) + subgroupShuffleXor(select(s.y, s.x, hi1), off);
        if (hi1) { at += 1u; }
        // Fewer values than lanes: the low lane bits hold copies; finish the sums, lane bits 0 report.
        for (off /= 2u; off > 0u; off /= 2u) { acc[0].x += subgroupShuffleXor(acc[0].x, off); }
      }
    }
    let f0 = acc[0];
    let f1 = acc[1];
    if ((gl & (max(LPR / (RU * NQ), 1u) - 1u)) == 0u) {
      for (var j = 0u; j < CF; j++) {
        let v = at + j;
        let qi = v % NQ;
        let row = r0 + v / NQ;
        if (qi < nq && row < lim) {
          let c = j % 4u;
          let f = select(f0, f1, j >= 4u);
          let key = select(select(f.x, f.y, c == 1u), select(f.z, f.w, c == 3u), c >= 2u);
          let id = params.idBase + row;
          if (better(key, id, tk[qi], ti[qi])) {
            let slot = atomicAdd(&cnt[qi], 1u);
            // Always true: a check leaves room for CI iterations of appends (SP >= KF + CI * P).
            if (slot < SP) {
              hk[qi * SP + slot] = key;
              hid[qi * SP + slot] = id;
            }
          }
        }
      }
    }
    var done = it + 1u == nIter;
    let chunkEnd = DYN > 0u && (it + 1u) % DI == 0u;
    // Until the first sort the thresholds pass every row: sorting one iteration's rows then is
    // cheaper than CI iterations' rows later, and fewer rows are appended after it.
    let firstCheck = FIRST == 1u && it == 0u;
    if (chunkEnd || done || firstCheck || (it + 1u) % CI == 0u) {
      workgroupBarrier();
      if (li == 0u) {
        var m = 0u;
        for (var q = 0u; q < nq; q++) { m = max(m, atomicLoad(&cnt[q])); }
        pend = vec2<u32>(m, tileWorkgroups + claimed);
        if (chunkEnd && claimed == nChunks - 1u) { resetClaims(counter); }
      }
      let pv = workgroupUniformLoad(&pend);
      if (chunkEnd) {
        chunk = pv.y;
        done = chunk >= nChunks;
      }
      let m = min(pv.x, SP);
      // At most k entries a query: the list as it stands (unsorted, empty slots past it).
      if (m > k && (done || firstCheck || m + CI * P > SP)) {
        var n2 = 2u;
        while (n2 < m) { n2 *= 2u; }
        flush(li, nq, n2, k);
      }
    }
    if (done) { break; }
  }
  //@SCAN_END
  workgroupBarrier();
  for (var e = li; e < nq * k; e += WG) {
    let q = e / k;
    let i = e % k;
    out[((q0 + q) * params.nseg + params.segAt + seg) * k + i] = vec2<u32>(bitcast<u32>(hk[q * SP + i]), hid[q * SP + i]);
  }
}
