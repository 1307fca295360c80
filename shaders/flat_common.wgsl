// flat_common: what flat_fused.wgsl and flat_gemv.wgsl share, included by each at its
// `//#include flat_common` line (src/gpu/flat-shard.ts wgslVariant): Params, bindings, the heap in
// workgroup memory (HS slots: each kernel's override), row decoding and the heap's sift-down.
// Expects from the includer: overrides PREC, FOLD and HS, and `enable f16;` under F16.
// Every index here and in the includers stays in bounds by its own guards, never by Tint's clamps:
// devices opened with disable_robustness have none (test/gpu/robustness.test.ts).

struct Params {
  nq: u32,
  rows: u32,
  rowWords: u32,
  q4: u32,
  k: u32,
  segLen: u32,   // a multiple of BR
  nseg: u32,     // lists per query in `out`
  idBase: u32,   // id of row 0 of this tile
  segAt: u32,    // this tile's first list (tiles of one search may share `out`)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> base: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read> queries: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read> sq: array<vec4<f32>>;
@group(0) @binding(4) var<storage, read_write> out: array<vec2<u32>>;

var<workgroup> hk: array<f32, HS>;
var<workgroup> hid: array<u32, HS>;

const EMPTY_ID: u32 = 0xffffffffu;
fn negInf() -> f32 { return -0x1.fffffep+127f; }

fn better(ka: f32, ia: u32, kb: f32, ib: u32) -> bool {
  return ka > kb || (ka == kb && ia < ib);
}

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
