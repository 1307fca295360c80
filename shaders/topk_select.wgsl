// topk_select: merges candidate lists into each query's best k (the second pass of flat search).
//
// Candidates are (key, id) pairs stored as vec2<u32> (f32 bits of the key, id). Larger keys are
// better; equal keys go to the lower id; the empty pair is (-FLT_MAX, 0xffffffff).
// Entry merge_lists (bindings 0 params, 1 cand): the fused kernels (flat_fused, flat_gemv) write
// nIn lists of k pairs per query (unsorted) at cand[inAt + (q*nIn + l)*k + i]. Workgroup (g, q)
// merges lists [g*G, min((g+1)*G, nIn)) of query q, plus the running list at runAt + q*k when
// hasRunning = 1, and writes the best k, best first, at cand[outAt + (q*nOut + g)*k + i]. The
// host repeats levels until one list per query is left, written over the running list.
// Workgroup memory holds a sorted list of KP entries plus a staging area of KP entries; a candidate
// enters staging only if it beats the current k-th best, and a bitonic sort folds staging in.
// In bounds by its own guards (no reliance on Tint's clamps: see disableRobustness).

override KP: u32 = 512u;     // power of two >= max(k, 2 * WG)
const WG: u32 = 64u;
//#include flat_order

//#include merge_params
//#include merge_sort

var<workgroup> keys: array<f32, 2u * KP>;
var<workgroup> ids: array<u32, 2u * KP>;
var<workgroup> count: atomic<u32>;
var<workgroup> pending: u32;

fn init(lid: u32) {
  for (var i = lid; i < 2u * KP; i += WG) {
    keys[i] = negInf();
    ids[i] = EMPTY_ID;
  }
  if (lid == 0u) { atomicStore(&count, 0u); }
  workgroupBarrier();
}

fn offer(key: f32, id: u32) {
  let kth = params.k - 1u;
  if (better(key, id, keys[kth], ids[kth])) {
    let slot = atomicAdd(&count, 1u);
    keys[KP + slot] = key;
    ids[KP + slot] = id;
  }
}

// Sorts all 2*KP entries best first; the first KP are then the running list.
fn flush(lid: u32, n: u32) {
  for (var i = KP + n + lid; i < 2u * KP; i += WG) {
    keys[i] = negInf();
    ids[i] = EMPTY_ID;
  }
  workgroupBarrier();
  sortSlots(lid, 2u * KP);
  if (lid == 0u) { atomicStore(&count, 0u); }
  workgroupBarrier();
}

// After a block of offers: folds staging in when the next block might not fit.
fn maybeFlush(lid: u32, force: bool) {
  workgroupBarrier();
  if (lid == 0u) { pending = atomicLoad(&count); }
  let n = workgroupUniformLoad(&pending);
  if (n > KP - WG || (force && n > 0u)) { flush(lid, n); }
}

fn writeOut(at: u32, lid: u32) {
  for (var i = lid; i < params.k; i += WG) {
    cand[at + i] = vec2<u32>(bitcast<u32>(keys[i]), ids[i]);
  }
}

@compute @workgroup_size(WG, 1, 1)
fn merge_lists(@builtin(local_invocation_id) l: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>) {
  let lid = l.x;
  let g = wid.x;
  let q = wid.y;
  if (q >= params.nq) { return; }
  init(lid);
  if (params.hasRunning == 1u) {
    // The running list is sorted and holds at most k entries: it fills the staging area at once.
    for (var i = lid; i < params.k; i += WG) {
      let p = cand[params.runAt + q * params.k + i];
      if (p.y != EMPTY_ID) { offer(bitcast<f32>(p.x), p.y); }
    }
    maybeFlush(lid, true);
  }
  let l0 = g * params.G;
  let l1 = min(l0 + params.G, params.nIn);
  let at = params.inAt + (q * params.nIn + l0) * params.k;
  let m = (l1 - l0) * params.k;
  for (var b = 0u; b < m; b += WG) {
    let i = b + lid;
    if (i < m) {
      let p = cand[at + i];
      if (p.y != EMPTY_ID) { offer(bitcast<f32>(p.x), p.y); }
    }
    maybeFlush(lid, false);
  }
  maybeFlush(lid, true);
  writeOut(params.outAt + (q * params.nOut + g) * params.k, lid);
}
