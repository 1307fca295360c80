//! radix_select: the KP-th largest of a workgroup's values, digit by digit: the f16 two-pass scan's
//! selections (src/gpu/tensor/half-scan.ts, which imports it itself; the prototype
//! bench/gpu-f16mma/scan2-kernel.mjs reads this file as it is). The includer has workgroup_size 256,
//! `enable subgroups;`, a const KP, a const RADIX_HELD (values an invocation keeps in registers
//! across the rounds, 0 for none) and `fn radixValue(q: u32, i: u32) -> u32`: the f32 bits of value
//! i of query q (this workgroup's). `//!` lines are not copied.
// Order-preserving bits of an f32: larger floats, larger u32.
fn ord(x: u32) -> u32 { return select(x | 0x80000000u, ~x, (x & 0x80000000u) != 0u); }
fn unord(o: u32) -> u32 { return select(~o, o & 0x7fffffffu, (o & 0x80000000u) != 0u); }
var<workgroup> hist: array<atomic<u32>, 256>;
// Each subgroup's total (subgroups of 4 lanes or more), the digit picked and the count still wanted.
var<workgroup> sgSum: array<u32, 64>;
var<workgroup> pick: u32;
var<workgroup> need: u32;
// The KP-th largest of query q's n values as order bits, top byte first: each of 4 rounds counts the
// values whose bits above this byte match the digits so far (hist) and picks the byte where the
// values at or above it reach the count still wanted. 0 where there are fewer than KP values (no
// byte is picked in round 0). 12 barriers, against 96 for 32 rounds of bisection. Call it from
// uniform control flow, every invocation (lid, its lane, the subgroup size).
fn radixKth(q: u32, n: u32, lid: u32, lane: u32, sgSize: u32) -> u32 {
  if (lid == 0u) { pick = 0u; need = KP; }
  var lo = 0u;
  var want = KP;
  // Values lid + 256 c (c < RADIX_HELD) read once, kept for the 4 rounds; the rest read each round.
  var held: array<u32, max(RADIX_HELD, 1u)>;
  for (var c = 0u; c < RADIX_HELD; c++) { let i = lid + 256u * c; if (i < n) { held[c] = ord(radixValue(q, i)); } }
  for (var round = 0u; round < 4u; round++) {
    let shift = 24u - 8u * round;
    let above = select(0u, 0xffffffffu << (shift + 8u), round > 0u);
    atomicStore(&hist[lid], 0u);
    workgroupBarrier();
    for (var c = 0u; c < RADIX_HELD; c++) { let o = held[c]; if (lid + 256u * c < n && (o & above) == lo) { atomicAdd(&hist[(o >> shift) & 255u], 1u); } }
    for (var i = lid + 256u * RADIX_HELD; i < n; i += 256u) { let o = ord(radixValue(q, i)); if ((o & above) == lo) { atomicAdd(&hist[(o >> shift) & 255u], 1u); } }
    workgroupBarrier();
    // Invocation lid holds byte 255 - lid: its inclusive scan counts the values of byte >= 255 - lid.
    let h = atomicLoad(&hist[255u - lid]);
    let inc = subgroupInclusiveAdd(h);
    let sg = lid / sgSize;
    if (lane == sgSize - 1u) { sgSum[sg] = inc; }
    workgroupBarrier();
    var atOrAbove = inc;
    for (var w = 0u; w < sg; w++) { atOrAbove += sgSum[w]; }
    if (atOrAbove >= want && atOrAbove - h < want) { pick = 255u - lid; need = want - (atOrAbove - h); }
    workgroupBarrier();
    lo |= pick << shift;
    want = need;
    // pick and need are written again only after two more barriers; hist[lid] was read before the last one.
  }
  return lo;
}
