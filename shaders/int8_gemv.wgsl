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
// Selection (why not a heap per subgroup, as before: with k' = 40 and ~250 rows a subgroup, about
// half the rows entered a heap, each insert a serial sift on one lane, then one lane a query
// folded the other subgroups' heaps): each query has a buffer of SP slots in workgroup memory.
// Every lane that holds a row's score compares it with a threshold kept in registers (the k-th
// best found so far, a valid bound: k distinct rows beat it) and appends the few that beat it
// (atomicAdd on the query's count). Every CI iterations the workgroup checks the counts; when the
// next CI iterations could overflow a buffer (or at the end), a bitonic sort of the filled slots
// (rounded up to a power of two) keeps the best k in slots [0, k) and the threshold moves up to
// slot k - 1. So a rejected row costs one compare, and the workgroup's list comes out of the last
// sort with no serial merge. The order is flat_order's (higher key, then lower id): exact.
//
// Shared bounds (SHB > 0 buckets; the tensor scorer's scheme, src/gpu/tensor/kernel-source.ts
// StageOptions.share): a workgroup's own threshold rises only with the rows it has seen, so early
// on most of its rows beat it and enter the buffer (gpu-int8 call e1: selection was 0.031 of the
// 0.224 ms scan at 1M x 1 query). After each sort a workgroup whose list holds m = ceil(k / SHB)
// entries publishes its m-th key (atomicMax, keys mapped to ordered u32) into bucket
// (segment % SHB) of the query, then folds the buckets' minimum w into the query's bound word
// (atomicMax), both at the start of the next check. The SHB buckets were published by SHB
// distinct segments with m rows >= w each, so at least k rows of the query score >= w: no row
// below w is in its best k, and rows below w need not enter the buffer (ties with w still enter).
// Lists stay exact top-k of their segment's rows >= w, so the merged best k is unchanged; a list
// may end with empty pairs. One lane a query reads the bound word into workgroup memory (any value
// read is valid) at every SHS-th check (staggered by segment); each bucket and the bound words
// have lines of their own, and a workgroup publishes only a key above the bound it knows (fewer
// atomics meeting on one word). The code that runs on some lanes only (the publish, the word's
// read) sits at the start of a check, before its barrier: after the check's last barrier, any
// branch on the lane (even one storing to workgroup memory) made the one-query scan 1.4-1.7x
// slower, before it such code cost nothing (gpu-int8 calls e2-e13).
//
// Bindings (explicit layout, shared with flat_fused: 3 is unused): 0 params, 1 base tile,
// 2 quantised queries (below), 4 out as words: the lists' pairs, then with SHB > 0 at its end
// (int8GemvScratch: ChunkScorer scratch, zeroed before each batch; 0 = no bound yet) SHB + 1
// blocks of nq words rounded up to 32: the queries' bound words, then bucket 0, 1, ...
// Binding 2 holds, for query q and part h < QB, rowWords vec4<u32> of packed i8 at
// ((q * QB + h) * rowWords), then from nq * QB * rowWords one vec4 per query: (bits of s, bits of
// the bracket, 0, 0).
enable subgroups;
diagnostic(off, subgroup_uniformity);

override KF: u32 = 16u;   // list slots per query, >= k
override NQ: u32 = 4u;    // queries a workgroup scores (1, 2, 4, 8 or 16; <= G): lane p < NQ of a row takes query p
override G: u32 = 16u;    // lanes a row (power of two, <= the adapter's smallest subgroup size)
override UW: u32 = 4u;    // words a lane loads before using them (<= 8)
override QB: u32 = 2u;    // 1: i8 queries, 2: 16-bit queries as hi / lo i8 parts
override RU: u32 = 1u;    // rows a lane scores an iteration (RU * UW <= 16, RU * ceil(NQ / 4) <= 4)
override SP: u32 = 256u;  // buffer slots a query: a power of two >= KF + CI * (WG / G) * RU
override CI: u32 = 1u;    // iterations between buffer checks
override QR: u32 = 0u;    // 1: the queries' words in registers (NQ * QB * UW <= 12; needs G * UW >= rowWords)
// 1: one query's buffer is sorted as soon as a check finds more than k candidates (the threshold
// rises early, so later sorts stay small), and its sorts of <= WG slots run in registers, the
// bitonic steps below the subgroup size as subgroupShuffleXor (the kernel already takes subgroups
// to be runs of consecutive invocations), the others through workgroup memory.
override SGS: u32 = 0u;
override SHB: u32 = 0u;   // shared-bound buckets a query (0: none)
override SHS: u32 = 4u;   // SHB: checks between reads of the bound word
override NV: u32 = (NQ + 3u) / 4u;  // vec4 accumulators a row
override BS: u32 = NQ * SP;
const WG: u32 = 256u;

//#include flat_params

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> base: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read> qd: array<vec4<u32>>;
@group(0) @binding(4) var<storage, read_write> out: array<atomic<u32>>;

// The multi-tile variant (src/gpu/tiles-source.ts: several tiles of equal rows a dispatch, the
// last may have fewer, tile t > 0 at binding 4 + t, each workgroup's tile from its id) puts its
// bindings at the marker below, repeats the scan between the SCAN markers once a tile under one
// switch (each copy reading its own binding), and rewrites the segment and the ids; the lists,
// buckets and bound-read stagger index by the workgroup's list (segAt + its index), as one-tile
// dispatches in turn do. This text, one tile a dispatch, stays as measured.
//@MULTI_FETCH

var<workgroup> hk: array<f32, BS>;
var<workgroup> hid: array<u32, BS>;
var<workgroup> cnt: array<atomic<u32>, NQ>;
var<workgroup> pend: u32;
var<workgroup> bound: array<atomic<u32>, NQ>;  // SHB: each query's shared bound as read (ordered u32)
var<workgroup> toPublish: array<atomic<u32>, NQ>;  // SHB: a key the last sort left to publish (0: none)

//#include flat_order

// Where the shared bounds sit at the end of `out`: blocks of nq words rounded up to 32 (a 128-byte
// line or more), the bound words first, then bucket b's block.
fn boundsBlock() -> u32 { return (params.nq + 31u) / 32u * 32u; }
fn boundAt() -> u32 { return arrayLength(&out) - (SHB + 1u) * boundsBlock(); }
fn bucketAt(b: u32, q: u32) -> u32 { return boundAt() + (b + 1u) * boundsBlock() + q; }

// The minimum of query q's buckets (ordered bits; 0 while one is unpublished).
fn bucketsMin(q: u32) -> u32 {
  var w = 0xffffffffu;
  for (var b = 0u; b < SHB; b++) { w = min(w, atomicLoad(&out[bucketAt(b, q)])); }
  return w;
}

// Lane li < nq: query q0 + li's key (ordered bits; 0: none) into its segment's bucket, then the
// buckets' minimum into the query's bound word.
fn publish(li: u32, seg: u32, q0: u32, key: u32) {
  if (key == 0u) { return; }
  atomicMax(&out[bucketAt((params.segAt + seg) % max(SHB, 1u), q0 + li)], key);
  atomicMax(&out[boundAt() + q0 + li], bucketsMin(q0 + li));
}

fn dot16(c: vec4<u32>, q: vec4<u32>) -> i32 {
  return dot4I8Packed(c.x, q.x) + dot4I8Packed(c.y, q.y) + dot4I8Packed(c.z, q.z) + dot4I8Packed(c.w, q.w);
}

// Sorts each query's first n2 slots best first (slots past its count emptied first) and keeps k:
// the whole workgroup, n2 a power of two (uniform), from uniform control flow.
fn flush(li: u32, nq: u32, n2: u32, k: u32) {
//#include candidate_sort
  if (li < nq) { atomicStore(&cnt[li], min(atomicLoad(&cnt[li]), k)); }
  workgroupBarrier();
}

// SGS: query 0's slots [0, n2) best first (n2 <= WG, a power of two, uniform; slots past its
// count taken as empty), one slot an invocation in registers; then its count drops to k.
fn flushRegs(li: u32, n2: u32, k: u32, sgSize: u32) {
  let c = atomicLoad(&cnt[0]);
  var mk = negInf();
  var mi = EMPTY_ID;
  if (li < min(n2, c)) { mk = hk[li]; mi = hid[li]; }
  let s = sortPairsInRegs(li, n2, sgSize, mk, mi);
  workgroupBarrier();
  if (li < n2) { hk[li] = s.key; hid[li] = s.id; }
  if (li == 0u) { atomicStore(&cnt[0], min(c, k)); }
  workgroupBarrier();
}

// subgroup_sort's exchange through query 0's buffer.
fn xchgPut(i: u32, key: f32, id: u32) {
  hk[i] = key;
  hid[i] = id;
}
fn xchgKey(i: u32) -> f32 { return hk[i]; }
fn xchgId(i: u32) -> u32 { return hid[i]; }
//#include subgroup_sort

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(local_invocation_index) li: u32, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(subgroup_size) sgSize: u32, @builtin(subgroup_invocation_id) lane: u32) {
  let sg = li / sgSize;
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
  let P = (WG / G) * RU;     // rows the workgroup scores an iteration (every subgroup the same count)
  let nIter = select(0u, (end - start + P - 1u) / P, end > start);
  for (var e = li; e < BS; e += WG) {
    hk[e] = negInf();
    hid[e] = EMPTY_ID;
  }
  if (li < NQ) {
    atomicStore(&cnt[li], 0u);
    atomicStore(&bound[li], 0u);
    atomicStore(&toPublish[li], 0u);
  }
  workgroupBarrier();
  let mq = min(p, NQ - 1u);  // the query whose score this lane compares (where p < nq)
  let cq = qd[params.nq * QB * rw + q0 + min(mq, nq - 1u)];
  let qs = bitcast<f32>(cq.x);
  let qbias = bitcast<f32>(cq.y);
  var thK = negInf();
  var thI = EMPTY_ID;
  var sorted = false;
  // The lane's query words, loaded once (its words of a row are the same in every row).
  var qr: array<vec4<u32>, 12>;
  if (QR == 1u) {
    for (var qi = 0u; qi < NQ; qi++) {
      for (var h = 0u; h < QB; h++) {
        for (var x = 0u; x < UW; x++) {
          let w = p + x * G;
          var v = vec4<u32>(0u);
          if (qi < nq && w < rw) { v = qd[((q0 + qi) * QB + h) * rw + w]; }
          qr[(qi * QB + h) * UW + x] = v;
        }
      }
    }
  }
  //@SCAN_BEGIN
  for (var it = 0u; it < nIter; it++) {
    // The subgroup's RU * rps consecutive rows; this lane's row u is r0 + u * rps.
    let r0 = start + it * P + sg * rps * RU + gi;
    var ah: array<vec4<i32>, 4>;
    var al: array<vec4<i32>, 4>;
    for (var i = 0u; i < RU * NV; i++) {
      ah[i] = vec4<i32>(0);
      al[i] = vec4<i32>(0);
    }
    // UW words of each of RU rows per lane are loaded before any is used: independent loads in flight.
    for (var w0 = p; w0 < rw; w0 += G * UW) {
      var raw: array<vec4<u32>, 16>;
      for (var u = 0u; u < RU; u++) {
        let row = r0 + u * rps;
        for (var x = 0u; x < UW; x++) {
          let w = w0 + x * G;
          var v = vec4<u32>(0u);
          if (row < end && w < rw) { v = base[row * rw + w]; }
          raw[u * UW + x] = v;
        }
      }
      for (var x = 0u; x < UW; x++) {
        let w = w0 + x * G;
        if (w >= rw) { break; }
        for (var qi = 0u; qi < NQ; qi++) {
          if (qi < nq) {
            var qh: vec4<u32>;
            var ql = vec4<u32>(0u);
            if (QR == 1u) {
              qh = qr[(qi * QB) * UW + x];
              if (QB == 2u) { ql = qr[(qi * QB + 1u) * UW + x]; }
            } else {
              let at = ((q0 + qi) * QB) * rw + w;
              qh = qd[at];
              if (QB == 2u) { ql = qd[at + rw]; }
            }
            for (var u = 0u; u < RU; u++) {
              let c = raw[u * UW + x] ^ vec4<u32>(0x80808080u);
              ah[u * NV + qi / 4u][qi % 4u] += dot16(c, qh);
              if (QB == 2u) { al[u * NV + qi / 4u][qi % 4u] += dot16(c, ql); }
            }
          }
        }
      }
    }
    // Each lane's part of its rows as f32, summed over the row's G lanes.
    var f: array<vec4<f32>, 4>;
    for (var i = 0u; i < RU * NV; i++) {
      f[i] = vec4<f32>(ah[i]);
      if (QB == 2u) { f[i] = f[i] * 256.0 + vec4<f32>(al[i]); }
    }
    for (var off = G / 2u; off > 0u; off /= 2u) {
      for (var u = 0u; u < RU; u++) {
        if (nq == 1u) {
          f[u * NV].x += subgroupShuffleXor(f[u * NV].x, off); // a quarter of the shuffles
        } else {
          for (var j = 0u; j < NV; j++) {
            if (4u * j < nq) { f[u * NV + j] += subgroupShuffleXor(f[u * NV + j], off); }
          }
        }
      }
    }
    // Lane p < nq of each row compares query p's score with its threshold; the few that beat it
    // go to the query's buffer.
    for (var u = 0u; u < RU; u++) {
      let row = r0 + u * rps;
      if (p < nq && row < end) {
        var s = 0.0;
        for (var j = 0u; j < NV; j++) {
          for (var t = 0u; t < 4u; t++) {
            if (p == 4u * j + t) { s = f[u * NV + j][t]; }
          }
        }
        let key = s * qs + qbias;
        let id = params.idBase + row;
        if (better(key, id, thK, thI)) {
          let slot = atomicAdd(&cnt[p], 1u);
          // Always true: a check leaves room for CI iterations of appends (SP >= KF + CI * P).
          if (slot < SP) {
            hk[p * SP + slot] = key;
            hid[p * SP + slot] = id;
          }
        }
      }
    }
    let done = it + 1u == nIter;
    if (done || (it + 1u) % CI == 0u) {
      // SHB: this lane's query's storage atomics, here before the barrier (the same load after the
      // sort made the one-query scan 1.5x slower, gpu-int8 call e11): the last sort's publish, then
      // the bound word's read.
      if (SHB > 0u && li < nq) {
        publish(li, seg, q0, atomicExchange(&toPublish[li], 0u));
        if (((it + 1u) / CI + params.segAt + seg) % SHS == 0u) {
          atomicMax(&bound[li], atomicLoad(&out[boundAt() + q0 + li]));
        }
      }
      workgroupBarrier();
      if (li == 0u) {
        var m = 0u;
        for (var q = 0u; q < nq; q++) { m = max(m, atomicLoad(&cnt[q])); }
        pend = m;
      }
      let m = min(workgroupUniformLoad(&pend), SP);
      // At most k entries a query: the list as it stands (unsorted, empty slots past it).
      if (m > k && (done || m + CI * P > SP || (SGS == 1u && !sorted))) {
        var n2 = 2u;
        while (n2 < m) { n2 *= 2u; }
        if (SGS == 1u && nq == 1u && n2 <= WG) {
          flushRegs(li, n2, k, sgSize);
        } else {
          flush(li, nq, n2, k);
        }
        sorted = true;
        thK = hk[mq * SP + k - 1u];
        thI = hid[mq * SP + k - 1u];
        // A sort whose m-th key beats the bound this workgroup knows is published at the next check.
        // Every invocation takes part (lanes past nq add 0): no branch on the lane here, between
        // the check's last barrier and the next rows (call e13: that branch alone made the one-query
        // scan 1.6x slower).
        if (SHB > 0u) {
          let q = min(li, NQ - 1u);
          let key = hk[q * SP + (k + SHB - 1u) / max(SHB, 1u) - 1u];
          let beats = (li < nq) & (key > keyOfOrdered(atomicLoad(&bound[q])));
          atomicMax(&toPublish[q], select(0u, orderedBits(key), beats));
        }
      }
      if (SHB > 0u) {
        let w = keyOfOrdered(atomicLoad(&bound[mq]));
        if (w > thK) {
          thK = w;
          thI = EMPTY_ID;
        }
      }
    }
  }
  //@SCAN_END
  // The last sort's key (its next check would have published it).
  if (SHB > 0u && li < nq) { publish(li, seg, q0, atomicLoad(&toPublish[li])); }
  workgroupBarrier();
  for (var e = li; e < nq * k; e += WG) {
    let q = e / k;
    let i = e % k;
    let at = 2u * (((q0 + q) * params.nseg + params.segAt + seg) * k + i);
    atomicStore(&out[at], bitcast<u32>(hk[q * SP + i]));
    atomicStore(&out[at + 1u], hid[q * SP + i]);
  }
}
