// merge_one: merges candidate lists into each query's best k in few, wide workgroups (the merge
// step of flat search for few queries; kernelTuning.mergeOne, src/gpu/merge-one.ts).
//
// Same bindings, params and lists as merge_lists (topk_select.wgsl): pairs vec2<u32>(f32 bits of
// the key, id), larger keys first, equal keys to the lower id, empty pair (-FLT_MAX, 0xffffffff).
// Workgroup (g, q) merges lists [g*G, min((g+1)*G, nIn)) of query q at cand[inAt + (q*nIn + l)*k + i]
// (any order), plus the running list at runAt + q*k when hasRunning = 1, and writes the best k,
// best first, at cand[outAt + (q*nOut + g)*k + i].
//
// Why another kernel: merge_lists (64 invocations) reads 64 pairs between barriers and compares
// them with the k-th best in workgroup memory, so a workgroup's time is one global-load latency
// per 64 pairs and 512 lists need two levels (two dispatches). Here 256 invocations each load U
// pairs before using any (one latency per WG * U pairs), compare them with a threshold in
// registers (the k-th best so far: k distinct pairs beat it, so nothing that fails it can be in the
// answer), and append the few that beat it to a buffer of KP slots; every CH pairs a thread the
// workgroup checks the count and, when the next CH pairs could overflow the buffer, bitonic-sorts
// it, keeps the best k at the front and raises the threshold (int8_gemv's scheme). One workgroup a
// query takes all of a 1M search's lists in one level.
//
// Sorting costs barriers (a bitonic sort of n slots is log2(n) (log2(n) + 1) / 2 of them), and
// the threshold starts at -inf, so the first pairs all land in the buffer. ORD = 1 reads the pairs
// position-major (every list's first pair, then every list's second, ...): the lists are sorted
// best first where they come from a sort (int8_gemv, flat_gemv, merge_one itself), so the first
// round holds the lists' heads; the first check comes after one pair a thread, and the first sort
// (of the appended prefix only, rounded up to a power of two) leaves a threshold that few of the
// remaining pairs beat. Any order is still exact (the threshold is the k-th best of distinct pairs
// seen; order only changes how many get appended). ORD = 0: list-major, checks every CH pairs
// only, every sort over all KP slots (before gpu-int8 call a1). ORD = 2: as 1, and a sort of at
// most WG slots keeps one pair an invocation in registers and runs the bitonic steps of stride
// below the subgroup size as subgroupShuffleXor (no barrier), the others through workgroup memory
// (the module then starts with `enable subgroups;`, src/gpu/merge-one.ts). It needs subgroups of
// consecutive invocations (lane = index mod size, checked at the start; else the ORD 1 sorts).
// A bitonic step through workgroup memory measured ~0.23 us on the H200 (gpu-int8 call a1: 36 + ~21
// steps a level, ~60 % of its time).
// In bounds by its own guards (no reliance on Tint's clamps).

override KP: u32 = 1024u;    // buffer slots: a power of two >= k + WG * CH
override CH: u32 = 3u;       // pairs a thread appends between checks (1..U)
override ORD: u32 = 2u;      // 1: position-major reads, early first sort, prefix sorts; 2: and subgroup sorts; 0: as before
const U: u32 = 8u;           // pairs a thread loads before using them
const WG: u32 = 256u;
//#include flat_order

//#include merge_params
//#include merge_sort

var<workgroup> keys: array<f32, KP>;
var<workgroup> ids: array<u32, KP>;
var<workgroup> count: atomic<u32>;
var<workgroup> pending: u32;

// src/gpu/merge-one.ts keeps the //@sg block (and `enable subgroups;`) for ORD 2 on a device with
// subgroups, else the //@nosg block; it also fills the entry point's SG_PARAMS / NOSG_LETS lines.
//@nosg
fn sgSetup(lid: u32, sgSize: u32, sgLane: u32) -> u32 { return 0u; }
fn sortRegs(lid: u32, n2: u32, sgS: u32) { sortSlots(lid, n2); }
//@end
//@sg
var<workgroup> sgWord: atomic<u32>;
var<workgroup> sgWordU: u32;

// The subgroup size if every subgroup is a run of consecutive invocations (lane = index mod size,
// the xor partner of every stride below the size is index ^ stride), else 0; workgroup-uniform.
fn sgSetup(lid: u32, sgSize: u32, sgLane: u32) -> u32 {
  if (lid == 0u) { atomicStore(&sgWord, sgSize); }
  workgroupBarrier();
  let s0 = atomicLoad(&sgWord);
  var ok = sgSize == s0 && (s0 & (s0 - 1u)) == 0u && sgLane == lid % max(s0, 1u);
  for (var s = 1u; s < sgSize; s <<= 1u) {
    let x = subgroupShuffleXor(lid, s);
    ok = ok && x == (lid ^ s);
  }
  workgroupBarrier();
  if (!ok) { atomicStore(&sgWord, 0u); }
  workgroupBarrier();
  if (lid == 0u) { sgWordU = atomicLoad(&sgWord); }
  return workgroupUniformLoad(&sgWordU);
}

// Slots [0, n2) best first (n2 <= WG, a power of two; sgS from sgSetup, non-zero): one pair an
// invocation in registers (subgroup_sort). Same network and order as sortSlots.
fn sortRegs(lid: u32, n2: u32, sgS: u32) {
  var mk = negInf();
  var mi = EMPTY_ID;
  if (lid < n2) { mk = keys[lid]; mi = ids[lid]; }
  let s = sortPairsInRegs(lid, n2, sgS, mk, mi);
  workgroupBarrier();
  if (lid < n2) { keys[lid] = s.key; ids[lid] = s.id; }
  workgroupBarrier();
}

fn xchgPut(i: u32, key: f32, id: u32) {
  keys[i] = key;
  ids[i] = id;
}
fn xchgKey(i: u32) -> f32 { return keys[i]; }
fn xchgId(i: u32) -> u32 { return ids[i]; }
//#include subgroup_sort
//@end

// Sorts the first n slots best first (n: the count; ORD 1 rounds it up to a power of two, ORD 0
// takes all KP; slots past the count hold empty pairs or pairs that lost an earlier sort: neither
// can reach the best k again, and each pair sits in one slot), then restarts the count after the
// best k. n is workgroup-uniform.
fn sortAll(lid: u32, n: u32, sgS: u32) {
  var n2 = KP;
  if (ORD >= 1u) {
    n2 = 2u;
    while (n2 < n) { n2 <<= 1u; }
    n2 = min(n2, KP);
  }
  if (ORD == 2u && n2 <= WG && sgS != 0u) {
    sortRegs(lid, n2, sgS);
  } else {
    sortSlots(lid, n2);
  }
  if (lid == 0u) { atomicStore(&count, params.k); }
  workgroupBarrier();
}

// Pairs appended so far, the same value in every invocation (after the appends before it).
fn filled(lid: u32) -> u32 {
  workgroupBarrier();
  if (lid == 0u) { pending = atomicLoad(&count); }
  return workgroupUniformLoad(&pending);
}

@compute @workgroup_size(WG, 1, 1)
fn merge_one(@builtin(local_invocation_id) l: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
//@SG_PARAMS
) {
  let lid = l.x;
  let g = wid.x;
  let q = wid.y;
  if (q >= params.nq) { return; }
//@NOSG_LETS
  // The subgroup size for sortRegs, or 0: the sorts through workgroup memory only.
  let sgS = sgSetup(lid, sgSize, sgLane);
  let k = params.k;
  for (var i = lid; i < KP; i += WG) {
    keys[i] = negInf();
    ids[i] = EMPTY_ID;
  }
  if (lid == 0u) { atomicStore(&count, 0u); }
  workgroupBarrier();
  // The running list (sorted, k pairs) comes first in the pair index, then the workgroup's lists.
  let kr = select(0u, k, params.hasRunning == 1u);
  let run = params.runAt + q * k;
  let l0 = g * params.G;
  let l1 = min(l0 + params.G, params.nIn);
  let nl = l1 - l0;
  let at = params.inAt + (q * params.nIn + l0) * k;
  let m = kr + nl * k;
  // The threshold starts at the query's shared bound where the scorer left one (int8_gemv): at
  // least k pairs of the query score >= it, so no pair below it is in the answer (ties still enter).
  var tk = negInf();
  var ti = EMPTY_ID;
  if (params.boundAt != 0u) {
    let bw = params.boundAt + q;
    tk = keyOfOrdered(cand[bw / 2u][bw % 2u]);
  }
  // Count right after the last sort (none yet: no count matches).
  var sortedAt = EMPTY_ID;
  for (var b = 0u; b < m; b += WG * U) {
    // Each load from a clamped index, none behind a branch on it (H200 call g5: the first level
    // 0.0148-0.0149 ms against 0.0154-0.0156 with the branches, 1M x 1).
    var p: array<vec2<u32>, U>;
    for (var j = 0u; j < U; j++) {
      let i = b + j * WG + lid;
      let c = min(i, m - 1u);
      // Pair e of the lists; position-major: pair e / nl of list e % nl (unused where c < kr).
      var e = c - kr;
      if (ORD >= 1u) { e = (e % max(nl, 1u)) * k + e / max(nl, 1u); }
      let v = cand[select(at + e, run + c, c < kr)];
      p[j] = select(vec2<u32>(0u, EMPTY_ID), v, i < m);
    }
    for (var j = 0u; j < U; j++) {
      let v = p[j];
      let key = bitcast<f32>(v.x);
      if (v.y != EMPTY_ID && better(key, v.y, tk, ti)) {
        let slot = atomicAdd(&count, 1u);
        keys[slot] = key;
        ids[slot] = v.y;
      }
      // ORD 1 also checks after the first pair a thread (the heads), and sorts then if more than
      // k pairs came in: the threshold is set before the bulk of the pairs.
      let first = ORD >= 1u && b == 0u && j == 0u;
      if ((j + 1u) % CH == 0u || j + 1u == U || first) {
        let n = filled(lid);
        if (n > KP - WG * CH || (first && n > k)) {
          sortAll(lid, n, sgS);
          sortedAt = k;
          tk = keys[k - 1u];
          ti = ids[k - 1u];
        }
      }
    }
  }
  let n = filled(lid);
  if (n != sortedAt) { sortAll(lid, n, sgS); }
  let out = params.outAt + (q * params.nOut + g) * k;
  for (var i = lid; i < k; i += WG) {
    cand[out + i] = vec2<u32>(bitcast<u32>(keys[i]), ids[i]);
  }
}
