// fill_random: synthetic unit-norm base rows generated on the GPU (benchmarks at sizes where an
// upload would cost more than the search), written in the tile's storage format.
//
// Row r, dim j: u = pcg(pcg(seed + r) ^ j), x = (u >> 8) / 2^24 * 2 - 1, then the row is scaled to
// unit L2 norm. bench/gpu-flat/synthetic.ts computes the same values on the host for re-ranking.
// Bindings: 0 params, 1 out (one tile, rowWords vec4<u32> per row), 2 sq (int8: vmin[q4], step[q4]).
// In bounds by its own guards (no reliance on Tint's clamps: see disableRobustness).

override PREC: u32 = 0u;   // 0 f32, 1 f16 (packed), 2 int8 codes

struct Params {
  rows: u32,      // rows to write
  rowStart: u32,  // first row of the tile to write
  globalRow: u32, // generator row of rowStart
  rowWords: u32,
  d: u32,
  seed: u32,
  q4: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> outRows: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read> sq: array<vec4<f32>>;

fn pcg(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

fn value(h: u32, j: u32) -> f32 {
  return f32(pcg(h ^ j) >> 8u) / 16777216.0 * 2.0 - 1.0;
}

fn dimv(h: u32, j: u32, inv: f32) -> f32 {
  if (j >= params.d) { return 0.0; }
  return value(h, j) * inv;
}

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let i = gid.x + gid.y * 65535u * 64u;
  if (i >= params.rows) { return; }
  let h = pcg(params.seed + params.globalRow + i);
  var s = 0.0;
  for (var j = 0u; j < params.d; j++) { let v = value(h, j); s += v * v; }
  let inv = select(0.0, inverseSqrt(s), s > 0.0);
  let at = (params.rowStart + i) * params.rowWords;
  for (var w = 0u; w < params.rowWords; w++) {
    var word: vec4<u32>;
    if (PREC == 0u) {
      let j = w * 4u;
      word = bitcast<vec4<u32>>(vec4<f32>(dimv(h, j, inv), dimv(h, j + 1u, inv), dimv(h, j + 2u, inv), dimv(h, j + 3u, inv)));
    } else if (PREC == 1u) {
      for (var c = 0u; c < 4u; c++) {
        let j = w * 8u + c * 2u;
        word[c] = pack2x16float(vec2<f32>(dimv(h, j, inv), dimv(h, j + 1u, inv)));
      }
    } else {
      for (var c = 0u; c < 4u; c++) {
        let j = w * 16u + c * 4u;
        let c4 = j / 4u;
        let x = vec4<f32>(dimv(h, j, inv), dimv(h, j + 1u, inv), dimv(h, j + 2u, inv), dimv(h, j + 3u, inv));
        let step = sq[params.q4 + c4];
        let code = clamp(round((x - sq[c4]) / max(step, vec4<f32>(1e-30))), vec4<f32>(0.0), vec4<f32>(255.0));
        word[c] = pack4xU8(vec4<u32>(code));
      }
    }
    outRows[at + w] = word;
  }
}
