//! merge_sort: the list-merge kernels' bitonic sort (merge_lists in topk_select, merge_one);
//! `//#include merge_sort` in a kernel that declares workgroup arrays `keys` / `ids`, `WG` and
//! `better` (flat_order) (src/gpu/wgsl-include.ts; `//!` lines are not copied).
// Sorts slots [0, total) of keys / ids best first (total a power of two); every invocation of the
// workgroup calls it, and it ends on a barrier.
fn sortSlots(lid: u32, total: u32) {
  for (var size = 2u; size <= total; size <<= 1u) {
    for (var stride = size >> 1u; stride > 0u; stride >>= 1u) {
      for (var t = lid; t < total / 2u; t += WG) {
        let i = 2u * stride * (t / stride) + (t % stride);
        let j = i + stride;
        let ascending = (i & size) == 0u;
        let jFirst = better(keys[j], ids[j], keys[i], ids[i]);
        if (jFirst == ascending) {
          let tk = keys[i]; keys[i] = keys[j]; keys[j] = tk;
          let ti = ids[i]; ids[i] = ids[j]; ids[j] = ti;
        }
      }
      workgroupBarrier();
    }
  }
}
