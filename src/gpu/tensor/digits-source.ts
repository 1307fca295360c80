/**
 * WGSL of the pass that writes a tile's digit planes (the i8 codes or digits the tensor-core scorer
 * reads in place of the rows), and the f16-to-code conversion it shares with that scorer's staging
 * (kernel-source.ts). Apart from kernel-source.ts because every GpuFlatIndex shard loads this,
 * while the scorer's kernel text is loaded only for devices with subgroup matrices (flat-index.ts
 * loadTensorScorer).
 */

const u = (n: number) => `${n}u`;

/**
 * rowsF16: 16 dims of packed f16 (two vec4<u32>, dims in order) to 16 i8 codes (one vec4<u32>, 4 a
 * word, byte 0 first), x_j less its dimension's centre (binding 3's first section) times the
 * inverse step (its third, QW vec4 from 2 QW; uniform: its first value for every dim, centre 0).
 * Centre and step come from the rows' range (approx-rerank.ts stepParams), so
 * |(x_j - centre_j) / step_j| <= 127 (+ f32 rounding): no clamp. Rounding without conversion
 * instructions (a quarter-rate class on NVIDIA): x / step + 1.5 * 2^23 is a float of that binade
 * whose ulp is 1, so the add rounds to the nearest integer v (ties to even) and the float's bits
 * are 0x4b400000 + v; their low byte is v's two's complement byte, the part pack4xI8 keeps.
 */
export const F16_CODES = `const ROUND_MAGIC: f32 = 12582912.0;
fn f16Code4(lo: u32, hi: u32, inv: vec4<f32>, centre: vec4<f32>) -> u32 {
  let x = vec4<f32>(unpack2x16float(lo), unpack2x16float(hi));
  return pack4xI8(bitcast<vec4<i32>>(fma(x - centre, inv, vec4<f32>(ROUND_MAGIC))));
}
fn f16Codes(a: vec4<u32>, b: vec4<u32>, i0: vec4<f32>, i1: vec4<f32>, i2: vec4<f32>, i3: vec4<f32>, m0: vec4<f32>, m1: vec4<f32>, m2: vec4<f32>, m3: vec4<f32>) -> vec4<u32> {
  return vec4<u32>(f16Code4(a.x, a.y, i0, m0), f16Code4(a.z, a.w, i1, m1), f16Code4(b.x, b.y, i2, m2), f16Code4(b.z, b.w, i3, m3));
}`;

/**
 * The digits of f32 rows (StageOptions.rowsF32): 16 dims of float32 (four vec4<u32> of bits, dims
 * in order) to two words of 16 i8 digits: y = (x_j - centre_j) / step_j (x_j less its dimension's
 * centre, times the inverse step), c1 = round(y), c2 = round((y - c1) x 128). Both roundings add
 * 1.5 x 2^23 as F16_CODES does (|y| <= 127 from the rows' range, |c2| <= 64); y - c1 is one fma
 * from x, so the second digit sees y's bits, not a rounded product's. approx-rerank.ts
 * f32KeyBound bounds the keys of these digits.
 */
const F32_DIGITS = `const ROUND_MAGIC: f32 = 12582912.0;
struct Digits16 { hi: vec4<u32>, lo: vec4<u32> }
fn f32Digits4(w: vec4<u32>, inv: vec4<f32>, centre: vec4<f32>) -> vec2<u32> {
  let x = bitcast<vec4<f32>>(w) - centre;
  let m1 = fma(x, inv, vec4<f32>(ROUND_MAGIC));
  let c1 = m1 - vec4<f32>(ROUND_MAGIC);
  let m2 = fma(fma(x, inv, -c1), vec4<f32>(128.0), vec4<f32>(ROUND_MAGIC));
  return vec2<u32>(pack4xI8(bitcast<vec4<i32>>(m1)), pack4xI8(bitcast<vec4<i32>>(m2)));
}
fn f32Codes(a: vec4<u32>, b: vec4<u32>, c: vec4<u32>, e: vec4<u32>, i0: vec4<f32>, i1: vec4<f32>, i2: vec4<f32>, i3: vec4<f32>, m0: vec4<f32>, m1: vec4<f32>, m2: vec4<f32>, m3: vec4<f32>) -> Digits16 {
  let p0 = f32Digits4(a, i0, m0);
  let p1 = f32Digits4(b, i1, m1);
  let p2 = f32Digits4(c, i2, m2);
  let p3 = f32Digits4(e, i3, m3);
  return Digits16(vec4<u32>(p0.x, p1.x, p2.x, p3.x), vec4<u32>(p0.y, p1.y, p2.y, p3.y));
}`;

/**
 * The pass that writes a tile's digit planes from its rows: f32 rows (StageOptions.rowsF32) to two
 * digits, D / 8 vec4 a row (D bytes of first digits, then D of second); f16 rows (signedRows) to
 * one, their i8 codes (D / 16 vec4 a row). Invocation g takes code word g % (D / 16) of row
 * g / (D / 16) (x + 65535 x 64 y). Bindings: 0 params (rows, 0, 0, 0), 1 the rows (D / 4 vec4 a row
 * of f32, D / 8 of packed f16), 2 the steps (vmin, step, inverse step: 3 D / 4 vec4), 3 the planes.
 */
export function digitsSource(dPad: number, precision: 'f16' | 'f32'): string {
  const body =
    precision === 'f32'
      ? `  let at = row * (D / 4u) + 4u * w;
  let c = f32Codes(base[at], base[at + 1u], base[at + 2u], base[at + 3u], sq[inv], sq[inv + 1u], sq[inv + 2u], sq[inv + 3u], sq[mid], sq[mid + 1u], sq[mid + 2u], sq[mid + 3u]);
  out[row * (D / 8u) + w] = c.hi;
  out[row * (D / 8u) + D / 16u + w] = c.lo;`
      : `  let at = row * (D / 8u) + 2u * w;
  out[row * (D / 16u) + w] = f16Codes(base[at], base[at + 1u], sq[inv], sq[inv + 1u], sq[inv + 2u], sq[inv + 3u], sq[mid], sq[mid + 1u], sq[mid + 2u], sq[mid + 3u]);`;
  const fns = precision === 'f32' ? F32_DIGITS : F16_CODES;
  return `const D: u32 = ${u(dPad)};
${fns}
struct Params { rows: u32, a: u32, b: u32, c: u32 }
@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> base: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read> sq: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> out: array<vec4<u32>>;
@compute @workgroup_size(64, 1, 1)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let g = (wid.x + wid.y * 65535u) * 64u + lid;
  let row = g / (D / 16u);
  let w = g % (D / 16u);
  if (row >= params.rows) { return; }
  // The code word's 16 dims in the steps' sections: centres (the first), inverse steps (the third).
  let mid = 4u * w;
  let inv = 2u * (D / 4u) + mid;
${body}
}
`;
}
