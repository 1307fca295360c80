//! flat_params: the Params struct of the flat scorers' contract (src/gpu/flat-shard.ts ChunkScorer),
//! shared by flat_common, int8_gemv, int8_mma_hook and int8_mma_prep through `//#include flat_params`
//! (src/gpu/wgsl-include.ts; `//!` lines are not copied). Each includer declares its own bindings.
struct Params {
  nq: u32,
  rows: u32,
  rowWords: u32,
  q4: u32,
  k: u32,
  segLen: u32,   // a multiple of BR
  nseg: u32,     // lists per query in `out`
  idBase: u32,   // id of row 0 of this tile
  segAt: u32,    // this tile's first list (tiles of one search may share `out`)
  // Several tiles a dispatch (src/gpu/tiles-source.ts): the last tile's rows and segment length,
  // which may be fewer / shorter than the others' (rows, segLen); one-tile kernels read neither.
  lastRows: u32,
  lastSegLen: u32,
}
