/**
 * shaders/flat_order.wgsl's orderedBits / keyOfOrdered on the host: f32 keys as u32 in the same
 * order (0 below every key: "no bound"), as the scorers' shared-bound words and buckets hold them.
 * Shared by test/gpu/int8-gemv.test.ts (reading bounds back) and test/gpu/merge-one.test.ts
 * (writing bound words).
 */
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function orderedBits(key: number): number {
  f32[0] = key;
  const b = u32[0]!;
  return (b & 0x80000000 ? ~b : b | 0x80000000) >>> 0;
}

export function keyOfOrdered(u: number): number {
  u32[0] = u & 0x80000000 ? u ^ 0x80000000 : ~u >>> 0;
  return f32[0]!;
}
