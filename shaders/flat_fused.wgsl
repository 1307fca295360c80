// flat_fused: exact scores of a query batch against one base tile fused with per-workgroup top-k.
// Scores never leave the workgroup: each workgroup scans a segment of rows block by block
// (register-blocked GEMM, both operands staged through workgroup memory), parks each block's
// scores in workgroup memory, and one invocation per query folds the rows that beat its current
// k-th best into a binary heap of the best k (rejecting most rows with one compare). At the end it
// writes each query's k best (unsorted) as one candidate list; topk_select.wgsl merge_lists merges
// the lists. Temporary memory is nq x segments x k pairs, never nq x rows.
//
// Bindings: 0 params, 1 base tile (16-byte words), 2 queries (nq x q4 vec4<f32>, zero-padded),
// 3 sq (int8 decode: vmin[q4 vec4] then step[q4 vec4]), 4 out (vec2<u32>: f32 bits of the key, id).
// int8 ip folds the decode into the queries (FOLD: q * step per dimension, then nq biases q . vmin).
// Keys are larger-is-better (ip: q.x, l2: -|q-x|^2); ties go to the lower id; empty slots are
// (-FLT_MAX, 0xffffffff). Workgroup (s, b) covers rows [s*segLen, min((s+1)*segLen, rows)) and
// queries [b*BQ, (b+1)*BQ) and writes list s of each of its queries at out[(q*nseg + segAt + s)*k + i].
//
// Limits (checked by the host, fusedStagingFits): BR*KC/DPW <= 8*NT words and KC*BQ <= 4*NT query
// vec4 per step (the prefetch registers). Block shape: WX x WY invocations, each accumulating TQ queries x TR rows (BQ = WY*TQ queries x
// BR = WX*TR rows a block). KC vec4 columns are staged per step; the next step's global loads are
// issued into registers before the current step's multiply-adds (register double buffering).
// The block's scores go to workgroup memory in SELP pieces of BQ/SELP queries (to fit small
// workgroup memories); the staging area and the score area share one array.
// One staging buffer, two barriers a step. Measured slower on the H200 and removed after commit
// 0bf1775 (BENCHMARKS gpu-flat): two staging buffers (DB 1: 1.1-1.6x, run 3; DB 2 at fixed offsets
// with TSEL and ROT: 1.3-1.9x, calls gf1-gf3), dim-major staging with outer products (LAY 1 / 2:
// level to 1.75x slower, run 3) and TSEL's candidate slots in the staging area (SVS: 1.13x, kc2).
//#if F16
enable f16;
//#endif

override PREC: u32 = 0u;    // 0 f32, 1 f16 (packed in u32, or native with shader-f16), 2 int8 SQ
override METRIC: u32 = 0u;  // 0 inner product, 1 squared L2 (negated)
override WX: u32 = 16u;
override WY: u32 = 16u;
override TR: u32 = 8u;      // rows per invocation (<= 8)
override TQ: u32 = 4u;      // queries per invocation (<= 8)
override KC: u32 = 4u;      // vec4 columns per step: a multiple of 4 (an int8 word holds 4)
override KF: u32 = 16u;     // heap slots per query (>= k)
override SELP: u32 = 1u;    // pieces the score block is selected in (divides TQ)
override SMV: u32 = 4096u;  // vec4 slots of `sm`: max(KC*(BQ+BR), (BQ/SELP)*(BR+4)/4), from the host
override DPW: u32 = 1u;     // vec4 of dims per 16-byte word: 1 f32, 2 f16, 4 int8
override CHAIN: u32 = 1u;   // ip: 1 chained fma, 0 dot() (benchmarks compare them)
override FOLD: u32 = 0u;    // int8 ip: queries hold q * step and a bias q . vmin per query follows them
// SWZ = 1: invocations 32 apart in t form 8 x 4 (tx, ty) patches (NVIDIA's 32-lane subgroups), so one
// subgroup's operand reads in the multiply loop touch 8 row and 4 query vec4 (128 bytes each) instead
// of 16 x 2 or 32 x 1; needs WX % 8 == 0, WY % 4 == 0 (the host checks). SWZ = 0: tx, ty = lid.x, lid.y.
override SWZ: u32 = 0u;
override SXO: u32 = select(WX, 8u, SWZ == 1u);
override SYO: u32 = select(1u, 4u, SWZ == 1u);
// Benchmarks only (wrong results): NOSEL = 1 reads one 4-row group a block per owner instead of
// selecting, to time the GEMM without the top-k (the score parking and barriers stay).
override NOSEL: u32 = 0u;
// Selection. OWN = 1 spreads the BQ query owners over the subgroups (invocation t = 32 w + l owns local
// query l * NW + w, for l < BQ / NW): the rows one subgroup's owners insert (SIMT runs the union of
// their insertions) come from BQ / NW queries instead of 32, and every subgroup takes a share;
// OWN = 0: invocations t < BQ (the host checks NT % 32 == 0, BQ % NW == 0, BQ / NW <= 32).
// CAP > 0: an owner queues the rows that beat the k-th best it had when the queue was last folded
// (up to CAP in `sv`) and folds the queue into its heap after the scan (or when full), so the heap
// inserts of one subgroup run side by side (their count is the largest queue, not the union).
override OWN: u32 = 0u;
override NW: u32 = max(1u, NT / 32u);
override CAP: u32 = 0u;
override SVN: u32 = max(max(1u, BQ * CAP), select(0u, BQ * CQ, TSEL == 1u));
// TSEL = 1 (NOSEL 0, not int8-folded): no score parking and no owner scan. After a block,
// each invocation compares its own TQ x TR accumulators in registers with its queries' k-th best (the
// heap roots, read from workgroup memory) and pushes the few that beat it into its query's candidate
// slots (CQ a query, `sv`, counted by `ccnt`); owners fold the slots into the heaps. If a query's slots
// overflow, rounds repeat (uniform, behind a workgroup flag) with the candidates not yet taken, each
// against the k-th best after the last fold: every candidate is folded once or dropped because it
// cannot enter the top k, so the lists are exactly those of TSEL = 0. `sm` then holds staging only.
override TSEL: u32 = 0u;
override CQ: u32 = 16u;
override CNQ: u32 = select(1u, BQ + 1u, TSEL == 1u); // + the overflow flag, ccnt[CNQ - 1] = ccnt[BQ]
// ROT = 1 (BQ, BR multiples of 8; KC 2, 4 or 8): staging column c of query / row x sits at
// slot (x / 8) * 8 + (x + c * 8 / KC) % 8 of its run, not x: the KC invocations that store one
// query's or row's KC vec4 of a step (consecutive lanes, runs BQ / BR apart, multiples of 8 slots)
// then hit different bank groups (4-way conflicts on every staging store without it), and a run of 8
// consecutive x read in the multiply loop stays conflict-free (a rotation within 8 slots).
override ROT: u32 = 0u;
override RSH: u32 = 8u / KC;
override BQ: u32 = WY * TQ;
override BR: u32 = WX * TR;
override NT: u32 = WX * WY;
override HS: u32 = BQ * KF;
// Prefetch registers an invocation fills per step (<= 8 and 4: fusedStagingFits). Overrides, not
// lets: loops bounded by constants index pb / pq without Tint's clamps (see the multiply loop).
override NBL: u32 = (BR * (KC / DPW) + NT - 1u) / NT;
override NQL: u32 = (KC * BQ + NT - 1u) / NT;

//#include flat_common

var<workgroup> sm: array<vec4<f32>, SMV>;
// CAP > 0: each owner's queue of (key bits, id); TSEL: CQ candidate slots a query.
var<workgroup> sv: array<vec2<u32>, SVN>;
// TSEL: candidates pushed a query this round, then ccnt[BQ] = 1 if some query's slots overflowed;
// covfU: that flag copied by invocation 0, read uniformly. (Small when TSEL = 0: 2 x 16 bytes.)
var<workgroup> ccnt: array<atomic<u32>, CNQ>;
var<workgroup> covfU: u32;


// Folds queue entries [0, n) at sat into the heap at hat; returns the k-th best after (key bits, id).
fn foldQueue(sat: u32, n: u32, hat: u32, k: u32, th: vec2<u32>) -> vec2<u32> {
  var tk = bitcast<f32>(th.x);
  var ti = th.y;
  for (var s = 0u; s < CAP; s++) {
    if (s >= n) { break; }
    let e = sv[sat + s];
    let key = bitcast<f32>(e.x);
    if (better(key, e.y, tk, ti)) {
      heapReplace(hat, k, key, e.y);
      tk = hk[hat];
      ti = hid[hat];
    }
  }
  return vec2<u32>(bitcast<u32>(tk), ti);
}

// Raw 16-byte word w of row `row`.
fn word(row: u32, w: u32) -> vec4<u32> {
  return base[row * params.rowWords + w];
}

// int8 ip with folded queries: the per-query constant q . vmin, stored after the nq query rows.
fn bias(q: u32) -> f32 {
  if (FOLD == 0u) { return 0.0; }
  let at = params.nq * params.q4 + q / 4u;
  return queries[at][q % 4u];
}

@compute @workgroup_size(WX, WY, 1)
fn main(@builtin(local_invocation_id) lid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let t = lid.y * WX + lid.x;
  // From t by % and / by constants only (Tint's range analysis then proves the sm[] reads in bounds).
  let tx = t % SXO + SXO * ((t / (SXO * SYO)) % (WX / SXO));
  let ty = (t / SXO) % SYO + SYO * (t / (SYO * WX));
  let seg = wid.x;
  let qBase = wid.y * BQ;
  let start = seg * params.segLen;
  let end = min(start + params.segLen, params.rows);
  let k = params.k;
  let q4 = params.q4;
  let KW = KC / DPW;           // words of a row per step
  let TSR = BR + 4u;           // score area: floats per query (rows, then 4 pad: no bank conflicts)

  for (var e = t; e < HS; e += NT) {
    hk[e] = negInf();
    hid[e] = EMPTY_ID;
  }
  for (var e = t; e < CNQ; e += NT) { atomicStore(&ccnt[e], 0u); }
  // Each owner invocation (t < BQ) keeps its query's current k-th best in registers.
  var thK = negInf();
  var thI = EMPTY_ID;

  // Prefetch registers: at most 8 base words and 4 query vec4 per invocation per step.
  var pb: array<vec4<u32>, 8>;
  var pq: array<vec4<f32>, 4>;

  var rb = start;
  var c0 = 0u;
  // Loads step (rb, c0) into registers: queries KC consecutive invocations per query run, base KW
  // consecutive invocations per row run (coalesced). Rows past the segment and words past the row read 0.
  for (var u = 0u; u < NQL; u++) {
    let e = t + u * NT;
    let q = e / KC;
    let c = c0 + e % KC;
    var v = vec4<f32>(0.0);
    if (e < KC * BQ && qBase + q < params.nq && c < q4) { v = queries[(qBase + q) * q4 + c]; }
    pq[u] = v;
  }
  for (var u = 0u; u < NBL; u++) {
    let e = t + u * NT;
    let r = e / KW;
    let w = c0 / DPW + e % KW;
    var v = vec4<u32>(0u);
    if (e < BR * KW && rb + r < end && w < params.rowWords) { v = word(rb + r, w); }
    pb[u] = v;
  }

  while (rb < end) {
    var acc: array<array<f32, 8>, 8>;
    for (var i = 0u; i < 8u; i++) { for (var j = 0u; j < 8u; j++) { acc[i][j] = 0.0; } }
    for (c0 = 0u; c0 < q4; c0 += KC) {
      workgroupBarrier();
      // Staging stores written out: indices from the invocation id, loop counters to constants, / and
      // % by constants (Tint's range analysis sees through these, not through a function parameter or
      // & / >>), so the stores into `sm` get no clamp. ROT's slots the same way
      // ((x / 8) * 8 + (x + c * RSH) % 8).
      for (var u = 0u; u < NQL; u++) {
        let e = t + u * NT;
        if (e < KC * BQ) {
          if (ROT == 1u) {
            sm[(e % KC) * BQ + (e / KC / 8u) * 8u + (e / KC + (e % KC) * RSH) % 8u] = pq[u];
          } else {
            sm[(e % KC) * BQ + e / KC] = pq[u];
          }
        }
      }
      for (var u = 0u; u < NBL; u++) {
        let e = t + u * NT;
        if (e < BR * KW) {
          for (var h = 0u; h < DPW; h++) {
            let v = decode(pb[u], c0 / DPW + e % KW, h);
            if (ROT == 1u) {
              sm[KC * BQ + ((e % KW) * DPW + h) * BR + (e / KW / 8u) * 8u + (e / KW + ((e % KW) * DPW + h) * RSH) % 8u] = v;
            } else {
              sm[KC * BQ + ((e % KW) * DPW + h) * BR + e / KW] = v;
            }
          }
        }
      }
      workgroupBarrier();
      // Issue the next step's loads (next columns, or the next block's first) before the math.
      var nc = c0 + KC;
      var nr = rb;
      if (nc >= q4) { nc = 0u; nr = rb + BR; }
      if (nr < end) {
        for (var u = 0u; u < NQL; u++) {
          let e = t + u * NT;
          let q = e / KC;
          let c = nc + e % KC;
          var v = vec4<f32>(0.0);
          if (e < KC * BQ && qBase + q < params.nq && c < q4) { v = queries[(qBase + q) * q4 + c]; }
          pq[u] = v;
        }
        for (var u = 0u; u < NBL; u++) {
          let e = t + u * NT;
          let r = e / KW;
          let w = nc / DPW + e % KW;
          var v = vec4<u32>(0u);
          if (e < BR * KW && nr + r < end && w < params.rowWords) { v = word(nr + r, w); }
          pb[u] = v;
        }
      }
      for (var c = 0u; c < KC; c++) {
        var a: array<vec4<f32>, 8>;
        // Indices from constants, loop counters and the invocation id only: Tint's range analysis
        // then proves them in bounds and adds no clamp (with a buffer-offset variable each read got
        // one; H200 run 4: the clamps cost 1.6-1.8x, BENCHMARKS gpu-flat).
        // ROT (BQ, BR, WX, WY multiples of 8 there, so x / 8 * 8 = WX * j + tx / 8 * 8).
        for (var i = 0u; i < TQ; i++) {
          if (ROT == 1u) {
            a[i] = sm[c * BQ + WY * i + (ty / 8u) * 8u + (ty + c * RSH) % 8u];
          } else {
            a[i] = sm[c * BQ + ty + WY * i];
          }
        }
        for (var j = 0u; j < TR; j++) {
          var b: vec4<f32>;
          if (ROT == 1u) {
            b = sm[KC * BQ + c * BR + WX * j + (tx / 8u) * 8u + (tx + c * RSH) % 8u];
          } else {
            b = sm[KC * BQ + c * BR + tx + WX * j];
          }
          for (var i = 0u; i < TQ; i++) {
            if (METRIC == 0u && CHAIN == 0u) {
              acc[i][j] += dot(a[i], b);
            } else if (METRIC == 0u) {
              // Four chained fma: one instruction per multiply-add (dot() + add lowers to five).
              let x = a[i];
              acc[i][j] = fma(x.w, b.w, fma(x.z, b.z, fma(x.y, b.y, fma(x.x, b.x, acc[i][j]))));
            } else {
              let d = a[i] - b;
              acc[i][j] -= dot(d, d);
            }
          }
        }
      }
    }
    if (TSEL == 1u) {
      // Register threshold test (TSEL): bit i * TR + j of p0 / p1 marks acc[i][j] as not yet taken.
      // The loops run to constants (unrolled), so acc and the bits are indexed by constants only.
      let nrow = min(BR, end - rb);
      var p0 = 0u;
      var p1 = 0u;
      for (var i = 0u; i < TQ; i++) {
        let ql = ty + WY * i;
        if (qBase + ql < params.nq) {
          let tk = hk[ql * KF];
          for (var j = 0u; j < TR; j++) {
            let b = i * TR + j;
            if (tx + WX * j < nrow && acc[i][j] >= tk) {
              if (b < 32u) { p0 |= 1u << (b % 32u); } else { p1 |= 1u << (b % 32u); }
            }
          }
        }
      }
      loop {
        if ((p0 | p1) != 0u) {
          for (var i = 0u; i < TQ; i++) {
            let ql = ty + WY * i;
            let tk = hk[ql * KF];
            let ti = hid[ql * KF];
            for (var j = 0u; j < TR; j++) {
              let b = i * TR + j;
              let m = 1u << (b % 32u);
              if ((select(p1, p0, b < 32u) & m) != 0u) {
                let id = params.idBase + rb + tx + WX * j;
                var taken = true;
                if (better(acc[i][j], id, tk, ti)) {
                  let sl = atomicAdd(&ccnt[ql], 1u);
                  if (sl < CQ) {
                    sv[ql * CQ + sl] = vec2<u32>(bitcast<u32>(acc[i][j]), id);
                  } else {
                    atomicStore(&ccnt[CNQ - 1u], 1u);
                    taken = false;
                  }
                }
                if (taken) {
                  if (b < 32u) { p0 &= ~m; } else { p1 &= ~m; }
                }
              }
            }
          }
        }
        workgroupBarrier();
        if (t == 0u) {
          covfU = atomicLoad(&ccnt[CNQ - 1u]);
          atomicStore(&ccnt[CNQ - 1u], 0u);
        }
        // Owners fold their query's slots (rare once the heaps fill), as the scan would have.
        let qo = select(t, (t % 32u) * NW + t / 32u, OWN == 1u);
        let owns = select(t < BQ, t % 32u < BQ / NW, OWN == 1u);
        if (owns && qBase + qo < params.nq) {
          let ql = qo % BQ;
          let n = min(atomicLoad(&ccnt[ql]), CQ);
          if (n > 0u) {
            let hat = ql * KF;
            var tk = hk[hat];
            var ti = hid[hat];
            for (var s = 0u; s < CQ; s++) {
              if (s >= n) { break; }
              let e = sv[ql * CQ + s];
              let key = bitcast<f32>(e.x);
              if (better(key, e.y, tk, ti)) {
                heapReplace(hat, k, key, e.y);
                tk = hk[hat];
                ti = hid[hat];
              }
            }
            atomicStore(&ccnt[ql], 0u);
          }
        }
        // A barrier (before the load): the folds are done before a further round tests against them.
        if (workgroupUniformLoad(&covfU) == 0u) { break; }
      }
    } else {
    // Selection, piece by piece: scores of BQ/SELP queries x BR rows through `sm`, one query's rows
    // contiguous (stride TSR = BR + 4 floats: owners read 4 rows with one 16-byte load, and a group of
    // 4 that cannot beat the k-th best costs one compare).
    let nrow = min(BR, end - rb);
    let PQ = BQ / SELP;          // queries a piece
    for (var p = 0u; p < SELP; p++) {
      workgroupBarrier();
      // i and j run over all TQ, TR (constant bounds, unrolled) so `acc` is only indexed by
      // constants and stays in registers; a loop from the piece's first i made the indices dynamic
      // and put acc in local memory. Local query of acc[i][*]: ty + WY*i; piece p holds local
      // queries [p*PQ, (p+1)*PQ).
      for (var i = 0u; i < TQ; i++) {
        // col = ql - p * PQ written as ql % PQ and the vec4 slot as / 4, % 4 (no select): Tint then
        // proves the store in bounds and adds no clamp.
        let ql = ty + WY * i;
        if (ql / PQ == p) {
          for (var j = 0u; j < TR; j++) {
            let at = (ql % PQ) * TSR + tx + WX * j;
            sm[at / 4u][at % 4u] = acc[i][j];
          }
        }
      }
      workgroupBarrier();
      // Owner of local query qo (in piece p: qo in [p*PQ, (p+1)*PQ)).
      let qo = select(t, (t % 32u) * NW + t / 32u, OWN == 1u);
      let owns = select(t < BQ, t % 32u < BQ / NW, OWN == 1u);
      if (owns && qo >= p * PQ && qo < (p + 1u) * PQ && qBase + qo < params.nq) {
        // qo < BQ here; col and hat through % (and the row groups counted by a +1 loop to a
        // constant) so Tint proves the reject test's read and the heap root's in bounds.
        let col = qo % PQ;
        let hat = (qo % BQ) * KF;
        let qb = bias(qBase + qo);
        let sat = (qo % BQ) * CAP;
        var cnt = 0u;
        // The queue's threshold: the k-th best when it was last folded (CAP 0: the current one).
        var tK = thK;
        var tI = thI;
        for (var g = 0u; g < BR / 4u; g++) {
          if (4u * g >= nrow || (NOSEL == 1u && g > 0u)) { break; }
          let r4 = 4u * g;
          let v = sm[col * (TSR / 4u) + g] + qb;
          if (any(v >= vec4<f32>(tK))) {
            for (var x = 0u; x < 4u; x++) {
              let r = r4 + x;
              let id = params.idBase + rb + r;
              if (r < nrow && better(v[x], id, tK, tI)) {
                if (CAP == 0u) {
                  heapReplace(hat, k, v[x], id);
                  tK = hk[hat];
                  tI = hid[hat];
                } else {
                  if (cnt == CAP) {
                    let th = foldQueue(sat, cnt, hat, k, vec2<u32>(bitcast<u32>(thK), thI));
                    thK = bitcast<f32>(th.x);
                    thI = th.y;
                    tK = thK;
                    tI = thI;
                    cnt = 0u;
                  }
                  sv[sat + cnt] = vec2<u32>(bitcast<u32>(v[x]), id);
                  cnt++;
                }
              }
            }
          }
        }
        if (CAP == 0u) {
          thK = tK;
          thI = tI;
        } else {
          let th = foldQueue(sat, cnt, hat, k, vec2<u32>(bitcast<u32>(thK), thI));
          thK = bitcast<f32>(th.x);
          thI = th.y;
        }
      }
    }
    }
    rb += BR;
  }
  workgroupBarrier();
  for (var e = t; e < BQ * k; e += NT) {
    let ql = e / k;
    let i = e % k;
    let q = qBase + ql;
    if (q < params.nq) {
      out[(q * params.nseg + params.segAt + seg) * k + i] = vec2<u32>(bitcast<u32>(hk[ql * KF + i]), hid[ql * KF + i]);
    }
  }
}
