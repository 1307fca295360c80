// int8_mma_staged: int8 x int8 scores of a query block against a run of base rows on subgroup
// matrices (tensor cores), fused with a per-invocation top-KP selection; rows (and queries) go
// through workgroup memory so that global reads are 16 bytes wide and coalesced, and the fragment
// loads read workgroup memory.
//
// Template like int8_mma_select.wgsl: src/gpu/tensor/kernel-source.ts fills the `//@` lines. Same
// bindings, params, keys and candidate layout as int8_mma_select.wgsl, except that base and queries
// are bound as array<vec4<u32>> (the kernel never loads matrices from them).
//
// Two lists an invocation (LPI = 2, BQ = 2 NT, e.g. 4 x 4 result matrices): the tile's first half of
// queries is stored (stride SBQ = BQ / 2) and selected into lists kb / ib inside SCORE_TILE, then the
// second half is stored and the selection below takes it (QOFF = NT) into kk / ii.
//
// Each tile of BR rows x BQ queries: for every KC-byte chunk of the dims, the subgroup copies the
// BR x KC row bytes (and the BQ x KC query bytes, QSTAGE) into `wr` / `wq` (rows padded to SW words
// against bank conflicts), then multiplies fragments from there. After the last chunk the results
// are stored into `wr` (BR x BQ keys, row-major), which the selection reads.
//
// SELECT (kernel-source.ts): 'row' compares and inserts every row of the tile in turn; 'mask' (one
// list a query, TPQ = LPI = 1, i8 only) first marks the survivors of each group of 32 rows against
// the list's last key, then inserts only those, as the GpuFlatIndex hook does (int8_mma_hook.wgsl):
// the same lists in fewer warp-wide insertion passes.

//@ENABLES

//@CONSTS

const MIN_KEY: i32 = -2147483647 - 1;

struct Params {
  rows: u32,
  segLen: u32,
  segBase: u32,
  nsegTotal: u32,
  idBase: u32,
  nq: u32,
  _pad0: u32,
  _pad1: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> base: array<vec4<u32>>;
//@QBIND
@group(0) @binding(3) var<storage, read> rowsum: array<i32>;
@group(0) @binding(4) var<storage, read_write> cand: array<vec2<i32>>;

var<workgroup> wr: array<ET, WR_WORDS>;
//@QDECL

@compute @workgroup_size(NT, 1, 1)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let qBlock = wid.x;
  let seg = wid.y;
  let qLocal = lid / TPQ;
  let part = lid % TPQ;
  var kk: array<i32, KP>;
  var ii: array<i32, KP>;
  for (var i = 0u; i < KP; i++) { kk[i] = MIN_KEY; ii[i] = -1; }
  //@LISTS_B

  // Keeps binding 3 in the 'auto' layout when the selection ('mask', i8) never reads the row sums.
  _ = rowsum[0];
  let segStart = seg * params.segLen;
  let segEnd = min(segStart + params.segLen, params.rows);
  for (var t = segStart; t < segEnd; t += BR) {
    //@SCORE_TILE
    workgroupBarrier();
    //@SELECT
    workgroupBarrier();
  }
  let q = qBlock * BQ + QOFF + qLocal;
  if (q < params.nq) {
    let at = ((q * params.nsegTotal + params.segBase + seg) * TPQ + part) * KP;
    for (var i = 0u; i < KP; i++) { cand[at + i] = vec2<i32>(kk[i], ii[i]); }
  }
  //@WRITE_B
}
