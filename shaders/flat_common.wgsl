// flat_common: what flat_fused.wgsl and flat_gemv.wgsl share, included by each at its
// `//#include flat_common` line (src/gpu/flat-shard.ts wgslVariant): Params, bindings, the heap in
// workgroup memory (HS slots: each kernel's override), row decoding and the heap's sift-down.
// Expects from the includer: overrides PREC, FOLD and HS, and `enable f16;` under F16.
// Every index here and in the includers stays in bounds by its own guards, never by Tint's clamps:
// devices opened with disable_robustness have none (test/gpu/robustness.test.ts).

//#include flat_params

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> base: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read> queries: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> sq: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> out: array<vec2<u32>>;

var<workgroup> hk: array<f32, HS>;
var<workgroup> hid: array<u32, HS>;

//#include flat_order

// vec4 h of word w (dims 4*(w*DPW + h) .. +3), decoded to f32.
fn decode(raw: vec4<u32>, w: u32, h: u32) -> vec4<f32> {
  if (PREC == 0u) {
    return bitcast<vec4<f32>>(raw);
  } else if (PREC == 1u) {
    let lo = select(raw.z, raw.x, h == 0u);
    let hi = select(raw.w, raw.y, h == 0u);
//#if F16
    // shader-f16: halves converted natively.
    return vec4<f32>(vec2<f32>(bitcast<vec2<f16>>(lo)), vec2<f32>(bitcast<vec2<f16>>(hi)));
//#else
    // (Building the f32 from the half's bits by a shift and a mask, the value x 2^-112 with the
    // queries pre-scaled, was 1.03-1.09x slower in flat_gemv_multi at 8-16 queries: H100 h67.)
    return vec4<f32>(unpack2x16float(lo), unpack2x16float(hi));
//#endif
  }
  if (FOLD == 1u) { return vec4<f32>(unpack4xU8(raw[h])); }
  let c4 = w * 4u + h;
  // flat_fused stages whole KC-column steps: a step past the row's last word (KC 8, odd rowWords)
  // has no sq entry; its query columns are 0, so 0 is exact (and no read past `sq`).
  if (c4 >= params.q4) { return vec4<f32>(0.0); }
  return sq[c4] + vec4<f32>(unpack4xU8(raw[h])) * sq[params.q4 + c4];
}

//#include flat_heap

