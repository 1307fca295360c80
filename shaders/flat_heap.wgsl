//! flat_heap: heapReplace over the includer's workgroup arrays `hk` (f32 keys) and `hid` (u32 ids),
//! sized by the includer; needs flat_order. `//#include flat_heap` (src/gpu/wgsl-include.ts).
// Replaces the heap's worst entry (its root) by (key, id) and sifts it down; n = k entries.
fn heapReplace(at: u32, n: u32, key: f32, id: u32) {
  var p = 0u;
  loop {
    let l = 2u * p + 1u;
    if (l >= n) { break; }
    var c = l;
    if (l + 1u < n && better(hk[at + l], hid[at + l], hk[at + l + 1u], hid[at + l + 1u])) { c = l + 1u; }
    if (!better(key, id, hk[at + c], hid[at + c])) { break; }
    hk[at + p] = hk[at + c];
    hid[at + p] = hid[at + c];
    p = c;
  }
  hk[at + p] = key;
  hid[at + p] = id;
}
