// row_absmax: the largest magnitude of each dimension over a tile's rows (packed f16, or f32 when
// the const F16 that src/gpu/approx-rerank.ts puts first is false): the scale of the tensor
// scorer's i8 codes for f16 and f32 shards (approx-rerank.ts stepParams: step_j = max_j / 127).
// Invocation w of a workgroup row takes u32 word w (f16: dims 2w, 2w + 1; f32: dim w) of rows
// [y rowsPer, (y + 1) rowsPer): consecutive invocations read consecutive words of a row.
// Non-negative f32 values order as their bits do, so atomicMax on the bits keeps the largest; `out`
// starts zeroed.
//
// Bindings (group 0): 0 params, 1 base tile (array<u32>, words a row), 2 out (atomic u32 a dim).

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

@compute @workgroup_size(WG, 1, 1)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let w = wid.x * WG + lid;
  if (w >= params.words) { return; }
  let r0 = wid.y * params.rowsPer;
  let r1 = min(r0 + params.rowsPer, params.rows);
  var m = vec2<f32>(0.0);
  for (var r = r0; r < r1; r++) {
    let v = base[r * params.words + w];
    if (F16) {
      m = max(m, abs(unpack2x16float(v)));
    } else {
      m.x = max(m.x, abs(bitcast<f32>(v)));
    }
  }
  if (F16) {
    atomicMax(&out[2u * w], bitcast<u32>(m.x));
    atomicMax(&out[2u * w + 1u], bitcast<u32>(m.y));
  } else {
    atomicMax(&out[w], bitcast<u32>(m.x));
  }
}
