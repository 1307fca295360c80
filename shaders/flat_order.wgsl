//! flat_order: the scorers' list order (higher key first, then lower id) and its empty entry;
//! `//#include flat_order` (src/gpu/wgsl-include.ts; `//!` lines are not copied).
const EMPTY_ID: u32 = 0xffffffffu;
fn negInf() -> f32 { return -0x1.fffffep+127f; }

fn better(ka: f32, ia: u32, kb: f32, ib: u32) -> bool {
  return ka > kb || (ka == kb && ia < ib);
}
