// What probe.mjs and scan2.mjs share: f16 bits on the host, a seeded generator, and buffer helpers
// over one device (fill rows on the GPU from a hash, read a buffer back).

/** The f16 bits nearest x (round to nearest even), as WGSL's f16 conversion gives them. */
export function f32ToF16Bits(x) {
  const f = new Float32Array([x]); const b = new Uint32Array(f.buffer)[0];
  const s = (b >>> 16) & 0x8000; let e = ((b >>> 23) & 0xff) - 127 + 15; let m = b & 0x7fffff;
  if (e <= 0) { if (e < -10) return s; m = (m | 0x800000) >> (1 - e); return s | ((m + 0x1000) >> 13); }
  if (e >= 31) return s | 0x7c00;
  let h = s | (e << 10) | (m >> 13); if ((m & 0x1fff) > 0x1000 || ((m & 0x1fff) === 0x1000 && (h & 1))) h++; return h;
}

export function f16BitsToF32(h) {
  const s = h & 0x8000 ? -1 : 1; const e = (h >> 10) & 0x1f; const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24; if (e === 31) return m ? NaN : s * Infinity; return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** A seeded generator of values in [-0.5, 0.5); seed(s) starts it again. */
export function makeRandom(start = 12345) {
  let state = start;
  const next = () => { state = (state * 1103515245 + 12345) >>> 0; return state / 2 ** 32 - 0.5; };
  next.seed = (s) => { state = s; };
  return next;
}

/** buf (sizes rounded up to 16 bytes), readBack (size bytes from offset), and fillRows (u32 words of packed halves in [-0.5, 0.5) from a hash, salted: no upload). */
export function gpuHelpers(device) {
  const buf = (size, usage) => device.createBuffer({ size: Math.ceil(size / 16) * 16, usage });
  async function readBack(src, size, offset = 0) {
    const rb = buf(size, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
    const enc = device.createCommandEncoder(); enc.copyBufferToBuffer(src, offset, rb, 0, Math.ceil(size / 16) * 16); device.queue.submit([enc.finish()]);
    await rb.mapAsync(GPUMapMode.READ); const out = rb.getMappedRange().slice(0); rb.unmap(); rb.destroy(); return out;
  }
  // salt: a different hash a buffer (0: as before), so the buffers of one index hold different rows.
  function fillRows(rowsBuf, words, salt = 0) {
    const code = `@group(0) @binding(0) var<storage, read_write> o: array<u32>;
  fn h(x: u32) -> u32 { var v = x * 747796405u + 2891336453u; v = ((v >> ((v >> 28u) + 4u)) ^ v) * 277803737u; return (v >> 22u) ^ v; }
  @compute @workgroup_size(256) fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
    let i = g.x + g.y * nw.x * 256u; if (i >= ${words}u) { return; }
    let a = f32(h((2u * i) ^ ${salt >>> 0}u) & 0xffffu) / 65536.0 - 0.5; let b = f32(h((2u * i + 1u) ^ ${salt >>> 0}u) & 0xffffu) / 65536.0 - 0.5;
    o[i] = pack2x16float(vec2<f32>(a, b)); }`;
    const pl = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code }), entryPoint: 'main' } });
    const bg = device.createBindGroup({ layout: pl.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: rowsBuf } }] });
    const enc = device.createCommandEncoder(); const pass = enc.beginComputePass(); pass.setPipeline(pl); pass.setBindGroup(0, bg);
    const wgs = Math.ceil(words / 256); pass.dispatchWorkgroups(Math.min(wgs, 65535), Math.ceil(wgs / 65535)); pass.end(); device.queue.submit([enc.finish()]);
  }
  return { buf, readBack, fillRows };
}
