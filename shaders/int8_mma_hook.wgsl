// int8_mma_hook: the tensor-core int8 scorer behind GpuFlatIndex (the ChunkScorer contract of
// src/gpu/flat-shard.ts): float32 queries and u8 SQ codes in, per (query, segment) the k best rows
// out as (f32 key bits, id). src/gpu/tensor/hook.ts registers it; kernel-source.ts fills the `//@`
// lines (constants, enables, the query prologue and the staged tile of int8_mma_staged.wgsl).
//
// Bindings (group 0), as the contract says: 0 params (nq, rows, rowWords, q4, k, segLen, nseg,
// idBase, segAt), 1 base tile array<vec4<u32>> (u8 codes, D bytes a row), 2 queries nq x q4
// vec4<f32> (or with 'pre' the pre-pass output as array<vec4<u32>>), 3 sq vmin[q4 vec4] then
// step[q4 vec4], 4 out array<vec2<u32>>.
//
// Query quantisation, per query: y_j = q_j step_j, s = max |y_j| / 127, a_j = round(y_j / s) in i8.
// Three query modes (PROLOGUE, QBIND, chosen by kernel-source.ts):
// - 'pre': a pre-pass (int8_mma_prep.wgsl) quantised the batch once; binding 2 is its output (i8
//   codes, then per query the scale, q . vmin and sum a) and the query chunks are staged next to the
//   rows' chunks as in the standalone kernel (int8_mma_staged.wgsl, queries 'wg'), ~7.5 KiB.
// - 'quant': the whole subgroup reads each of the BQ queries with coalesced loads and reduces s,
//   q . vmin and sum a with subgroup operations; only s is kept in workgroup memory (`wsc`), and
//   every staged chunk of dims is quantised again from the float queries (L2-resident) next to the
//   rows' chunk: workgroup memory stays at the chunk's size (~11 KiB), so more workgroups fit an SM.
// - 'whole': invocation lid quantises query qBlock * BQ + lid, all D dims into `wq` (QSW words a
//   query, ~25 KiB): measured slower in GpuFlatIndex (H200 run 2), kept for comparison.
// Rows are staged with their top bits flipped (c - 128, i8), so the tensor cores give
// a . (c - 128); the key written is q . vmin + s (a . (c - 128) + 128 sum a) ~ q . decode(row),
// the decoded inner product up to query quantisation (the index re-ranks candidates exactly).
//
// Tile rows are not padded to BR: the last block's staging reads clamp to the tile's last row
// (never past the binding, so nothing relies on robustness clamps).
//
// Selection (SELECT, kernel-source.ts): invocation lid keeps query lid's best KP rows of its segment
// in registers, sorted. 'row': each row of the scores tile is compared with the list's last key and
// inserted at once (a warp-wide insertion pass whenever any invocation's row survives). 'mask': the
// rows of 32 are first compared with the last key as it was before them (one compare a row, a bit a
// survivor), then each invocation inserts only its survivors, lowest row first, checking the current
// last key again: the same lists, in as many insertion passes as the invocation with the most
// survivors needs instead of one for every row any invocation keeps.
//
// Lists (LISTS, ENTRY): in registers ('reg', kk / ii, unrolled into scalars by kernel-source.ts) or
// in workgroup memory ('wg', mask selection only: `wl`, slot i of invocation lid at i * NT + lid, so
// each invocation touches only its own words and the lanes of a warp hit distinct banks; the last
// key in a register `thr`), which frees 2 KP registers an invocation for resident warps.
//
// Several warps (kernel-source.ts, shape sgQueries > 1, queries 'pre'): NT = BQ = 32 x warps; the
// rows' chunk is staged once for all warps, warp `sid` (@builtin(subgroup_id), added to main's
// parameters by hookSource) multiplies its own 32 queries and stores its columns of the scores tile.
// Matrix offsets from subgroup_id are subgroup-uniform (Dawn accepts them; lid / 32 it rejects).
// Measured slower than one warp on the H200 (bench/gpu-tensor/NOTES.md item 26): off by default.
//
// Two invocations a query (16-query block, tensorTuning.block16; TPQ = 2, kernel-source.ts LANES /
// MERGE): invocation lid serves query lid % 16 and takes the rows of parity part = lid / 16 of each
// scores tile (lanes of one row read 16 consecutive words, the other part's row the next 16: no bank
// conflict), so each keeps the best KP of half of the segment's rows. After the segment both lists
// go to workgroup memory and are merged by (key desc, id asc), the order insertCandidate keeps, into
// the one list a query that part 0 writes: the union of the halves' best KP holds the segment's
// best KP, so the list is the one-list kernel's.
//
// The dispatch is (this tile's segments, query blocks), x fastest; the workgroup index is remapped so
// that consecutive workgroups take the query blocks of one segment and share its rows in L2.

//@ENABLES

//@CONSTS

const MIN_KEY: i32 = -2147483647 - 1;
const QW: u32 = D / 4u;

//#include flat_params

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> base: array<vec4<u32>>;
//@QBIND
@group(0) @binding(3) var<storage, read> sq: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> out: array<vec2<u32>>;

var<workgroup> wr: array<ET, WR_WORDS>;
//@QDECL

@compute @workgroup_size(NT, 1, 1)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let nqBlocks = (params.nq + BQ - 1u) / BQ;
  // This tile's segments are the dispatch's x size; params.nseg counts every tile's lists when the
  // tiles of a search share the buffer (segAt), so it must not be the row length here.
  let lin = wid.x + wid.y * nwg.x;
  let qBlock = lin % nqBlocks;
  let seg = lin / nqBlocks;
  //@LANES

  var scale = 1.0;
  var qv = 0.0;
  var suma = 0i;
  //@PROLOGUE

  //@LISTS
  let segStart = seg * params.segLen;
  let segEnd = min(segStart + params.segLen, params.rows);
  //@PRELOOP
  for (var t = segStart; t < segEnd; t += BR) {
    //@SCORE_TILE
    workgroupBarrier();
    //@SELECT
    //@SHARE_PUBLISH
    workgroupBarrier();
  }
  //@MERGE
  if (live) {
    let at = (q * params.nseg + params.segAt + seg) * params.k;
    let shift = ROW_SHIFT * suma;
    for (var i = 0u; i < KP; i++) {
      if (i < params.k) {
        //@ENTRY
        var v = vec2<u32>(0xff7fffffu, 0xffffffffu); // bits of -FLT_MAX, no row
        if (ei >= 0) { v = vec2<u32>(bitcast<u32>(qv + scale * f32(ek + shift)), u32(ei)); }
        out[at + i] = v;
      }
    }
  }
}
