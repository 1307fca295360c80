//! subgroup_sort: the bitonic sort of up to WG (key, id) pairs held one an invocation in registers,
//! shared by int8_gemv (flushRegs) and merge_one (sortRegs). Steps of stride below the subgroup size
//! run as subgroupShuffleXor (no barrier), the others through the kernel's workgroup arrays: it
//! defines xchgPut(i, key, id), xchgKey(i) and xchgId(i) over them, includes flat_order, and
//! enables subgroups. Subgroups must be runs of consecutive invocations (lane = index mod size).
//! Same network and order as candidate_sort / merge_sort: best first, larger key then lower id.
struct SortedPair {
  key: f32,
  id: u32,
}

// Invocation li holds pair li of slots [0, n2) (n2 <= WG, a power of two, workgroup-uniform; sgS
// the subgroup size); returns the pair that belongs in slot li once the slots are sorted. Call from
// uniform control flow.
fn sortPairsInRegs(li: u32, n2: u32, sgS: u32, key0: f32, id0: u32) -> SortedPair {
  var mk = key0;
  var mi = id0;
  for (var size = 2u; size <= n2; size <<= 1u) {
    for (var stride = size >> 1u; stride > 0u; stride >>= 1u) {
      var ok = mk;
      var oi = mi;
      if (stride >= sgS) {
        workgroupBarrier();
        if (li < n2) { xchgPut(li, mk, mi); }
        workgroupBarrier();
        if (li < n2) {
          ok = xchgKey(li ^ stride);
          oi = xchgId(li ^ stride);
        }
      } else {
        ok = subgroupShuffleXor(mk, stride);
        oi = subgroupShuffleXor(mi, stride);
      }
      // The pair's lower slot takes the better where bit `size` of the slot is clear, else the worse.
      let takeBetter = ((li & stride) == 0u) == ((li & size) == 0u);
      if (select(better(mk, mi, ok, oi), better(ok, oi, mk, mi), takeBetter)) {
        mk = ok;
        mi = oi;
      }
    }
  }
  return SortedPair(mk, mi);
}
