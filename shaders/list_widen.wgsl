// list_widen: copies a tile's candidate lists of kIn pairs (an exact scorer's, from `inAt`) into
// the batch's lists of kOut >= kIn pairs, the slots past kIn left empty (-FLT_MAX, no row). In a
// batch of f32 tiles with and without digit planes (src/gpu/flat-shard.ts), the exact kernels
// select only the caller's k a list (their heaps cost about 1.35x more at k' = 40: H200 call p9),
// while the tensor tiles' lists hold k' for the certificate; the merges take kOut throughout.
// One invocation a pair: q = e / (nseg kOut), list s, slot i (x + 65535 x 256 y).

struct Params {
  nq: u32,
  nseg: u32,      // lists a query in the input (this tile's)
  kIn: u32,
  kOut: u32,
  inAt: u32,      // the input's first pair
  outNseg: u32,   // lists a query in the output (the batch's, when tiles share it)
  outSegAt: u32,  // this tile's first list there
  pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> cand: array<vec2<u32>>;

@compute @workgroup_size(256, 1, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let e = gid.x + gid.y * nwg.x * 256u;
  let per = params.nseg * params.kOut;
  if (e >= params.nq * per) { return; }
  let q = e / per;
  let s = (e / params.kOut) % params.nseg;
  let i = e % params.kOut;
  var v = vec2<u32>(0xff7fffffu, 0xffffffffu);
  if (i < params.kIn) { v = cand[params.inAt + (q * params.nseg + s) * params.kIn + i]; }
  cand[(q * params.outNseg + params.outSegAt + s) * params.kOut + i] = v;
}
