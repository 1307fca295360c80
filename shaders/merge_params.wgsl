//! merge_params: the bindings and params of the list-merge kernels (merge_lists in topk_select,
//! merge_one); `//#include merge_params` (src/gpu/wgsl-include.ts; `//!` lines are not copied).
struct Params {
  nq: u32,
  nIn: u32,         // lists per query in the input region
  G: u32,           // lists per workgroup
  nOut: u32,        // lists per query in the output region
  k: u32,
  inAt: u32,        // pair offsets of the regions in `cand`
  outAt: u32,
  runAt: u32,
  hasRunning: u32,  // 1: the running list also takes part (the last level only)
  // merge_one: word offset in `cand` of each query's lower bound of its k-th best key (ordered f32
  // bits, flat_order keyOfOrdered; a word of 0: none), or 0: no bounds (int8_gemv's shared bounds)
  boundAt: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> cand: array<vec2<u32>>;
