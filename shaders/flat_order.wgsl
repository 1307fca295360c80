//! flat_order: the scorers' list order (higher key first, then lower id) and its empty entry;
//! `//#include flat_order` (src/gpu/wgsl-include.ts; `//!` lines are not copied).
const EMPTY_ID: u32 = 0xffffffffu;
fn negInf() -> f32 { return -0x1.fffffep+127f; }

fn better(ka: f32, ia: u32, kb: f32, ib: u32) -> bool {
  return ka > kb || (ka == kb && ia < ib);
}

// f32 keys as u32 in the same order (0 below every key: no bound), for atomicMax on keys.
fn orderedBits(key: f32) -> u32 {
  let b = bitcast<u32>(key);
  return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}
fn keyOfOrdered(u: u32) -> f32 {
  if (u == 0u) { return negInf(); }
  return bitcast<f32>(select(~u, u ^ 0x80000000u, (u & 0x80000000u) != 0u));
}
