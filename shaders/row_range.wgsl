// row_range: the largest and the smallest value of each dimension over a tile's rows (packed f16,
// or f32 when the const F16 that src/gpu/approx-rerank.ts puts first is false). The tensor
// scorer's i8 codes for f16 and f32 shards take their centres and steps from them
// (approx-rerank.ts stepParams), and every search checks its queries against the largest
// magnitudes.
// Invocation w of a workgroup row takes u32 word w (f16: dims 2w, 2w + 1; f32: dim w) of rows
// [y rowsPer, (y + 1) rowsPer): consecutive invocations read consecutive words of a row.
// atomicMax keeps the largest order key (orderKey: unsigned order equal to the floats' order) of
// each dimension's max at out[dim] and of its negated min at out[DP + dim]; `out` starts zeroed,
// below every float's key.
//
// Bindings (group 0): 0 params, 1 base tile (array<u32>, words a row), 2 out (atomic u32, 2 DP:
// DP = the padded dims, 2 words for f16, 1 for f32).

struct Params {
  rows: u32,
  words: u32,    // u32 words a row (2 dims each for f16, 1 for f32)
  rowsPer: u32,  // rows a workgroup row takes
  _pad: u32,
}

const WG: u32 = 64u;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> base: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<atomic<u32>>;

// Non-negative floats order as their bits with the top bit set; negative ones as their bits inverted.
fn orderKey(x: f32) -> u32 {
  let b = bitcast<u32>(x);
  return select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let w = wid.x * WG + lid;
  if (w >= params.words) { return; }
  let r0 = wid.y * params.rowsPer;
  let r1 = min(r0 + params.rowsPer, params.rows);
  var hi = vec2<f32>(-0x1.fffffep+127f);
  var lo = vec2<f32>(0x1.fffffep+127f);
  for (var r = r0; r < r1; r++) {
    let v = base[r * params.words + w];
    if (F16) {
      let x = unpack2x16float(v);
      hi = max(hi, x);
      lo = min(lo, x);
    } else {
      let x = bitcast<f32>(v);
      hi.x = max(hi.x, x);
      lo.x = min(lo.x, x);
    }
  }
  // Dims past the row (f16: 2 words a word; f32: one) lie at DP on for the negated minima.
  let dp = select(params.words, 2u * params.words, F16);
  if (F16) {
    atomicMax(&out[2u * w], orderKey(hi.x));
    atomicMax(&out[2u * w + 1u], orderKey(hi.y));
    atomicMax(&out[dp + 2u * w], orderKey(-lo.x));
    atomicMax(&out[dp + 2u * w + 1u], orderKey(-lo.y));
  } else {
    atomicMax(&out[w], orderKey(hi.x));
    atomicMax(&out[dp + w], orderKey(-lo.x));
  }
}
