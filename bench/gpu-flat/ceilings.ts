/**
 * Ceilings of the device as WGSL through Dawn sees it, measured in the same call as the search
 * benchmark: fp32 FMA rate of a pure-FMA kernel (and f16's, where the device has shader-f16: what
 * f16 arithmetic would give the f16 scans, whose multiply-adds are fp32), read bandwidth of a
 * streaming-read kernel, and device-to-device copy bandwidth (copyBufferToBuffer, bytes read +
 * written). GPU timestamps around the passes; wall time for the copies (which run outside passes).
 */
import { BufferUsage, MapMode } from '../../src/gpu/device.js';

/** The pure-FMA kernel in type T (f32, or f16 under `enable f16;`): 8 independent vec4 chains an invocation. */
const fmaWgsl = (t: 'f32' | 'f16'): string => /* wgsl */ `${t === 'f16' ? 'enable f16;' : ''}
override ITERS: u32 = 4096u;
@group(0) @binding(0) var<storage, read_write> sink: array<vec4<f32>>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let s = ${t}(f32(g.x & 1023u) * 1e-4);
  var a0 = vec4<${t}>(s, s + 1.0, s + 2.0, s + 3.0);
  var a1 = a0 + 0.5; var a2 = a0 + 0.25; var a3 = a0 + 0.125;
  var a4 = a0 + 0.0625; var a5 = a0 + 0.03125; var a6 = a0 + 0.015625; var a7 = a0 + 0.0078125;
  let m = vec4<${t}>(${t === 'f16' ? '0.999' : '0.999999'});
  let c = vec4<${t}>(${t === 'f16' ? '0.001' : '1e-7'});
  for (var i = 0u; i < ITERS; i++) {
    a0 = fma(a0, m, c); a1 = fma(a1, m, c); a2 = fma(a2, m, c); a3 = fma(a3, m, c);
    a4 = fma(a4, m, c); a5 = fma(a5, m, c); a6 = fma(a6, m, c); a7 = fma(a7, m, c);
  }
  let r = vec4<f32>(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7);
  if (r.x == 12345.678) { sink[g.x] = r; }
}`;

const READ_WGSL = /* wgsl */ `
@group(0) @binding(0) var<storage, read> src: array<vec4<f32>>;
@group(0) @binding(1) var<storage, read_write> sink: array<vec4<f32>>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let stride = nw.x * 256u;
  let n = arrayLength(&src);
  var acc = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var i = g.x;
  for (; i + stride < n; i += 2u * stride) { acc += src[i]; acc2 += src[i + stride]; }
  if (i < n) { acc += src[i]; }
  let r = acc + acc2;
  if (r.x == 12345.678) { sink[0] = r; }
}`;

async function timed(device: GPUDevice, run: (pass: GPUComputePassEncoder) => void, reps: number): Promise<number> {
  const set = device.createQuerySet({ type: 'timestamp', count: 2 });
  const resolve = device.createBuffer({ size: 16, usage: BufferUsage.QUERY_RESOLVE | BufferUsage.COPY_SRC });
  const read = device.createBuffer({ size: 16, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
  const times: number[] = [];
  for (let r = 0; r < reps + 1; r++) {
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass({ timestampWrites: { querySet: set, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } });
    run(pass);
    pass.end();
    enc.resolveQuerySet(set, 0, 2, resolve, 0);
    enc.copyBufferToBuffer(resolve, 0, read, 0, 16);
    device.queue.submit([enc.finish()]);
    await read.mapAsync(MapMode.READ);
    const t = new BigUint64Array(read.getMappedRange().slice(0));
    read.unmap();
    if (r > 0) times.push(Number(t[1]! - t[0]!) / 1e6);
  }
  set.destroy();
  resolve.destroy();
  read.destroy();
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

export interface Ceilings {
  fma_tflops: number;
  /** The same kernel in f16 (TFLOP/s), where the device has shader-f16; else null. */
  fma16_tflops: number | null;
  read_gbps: number;
  copy_gbps: number;
  read_bytes: number;
}

/** Measures the three ceilings on `device` (needs timestamp-query). */
export async function measureCeilings(device: GPUDevice, scale = 1): Promise<Ceilings> {
  const bytes = Math.floor(((2 ** 31 - 2 ** 22) * scale) / 2 ** 22) * 2 ** 22;
  const sink = device.createBuffer({ size: 1 << 26, usage: BufferUsage.STORAGE });
  // FMA: 8 independent vec4 chains an invocation; 2 flops per lane FMA.
  const iters = 4096;
  const groups = Math.max(1, Math.floor(132 * 64 * scale));
  const flops = groups * 256 * iters * 8 * 4 * 2;
  const fmaTflops = async (t: 'f32' | 'f16'): Promise<number> => {
    const fma = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code: fmaWgsl(t) }), entryPoint: 'main', constants: { ITERS: iters } } });
    const fmaBg = device.createBindGroup({ layout: fma.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: sink } }] });
    const ms = await timed(device, (p) => { p.setPipeline(fma); p.setBindGroup(0, fmaBg); p.dispatchWorkgroups(groups); }, 5);
    return +(flops / (ms * 1e-3) / 1e12).toFixed(2);
  };
  const fma32 = await fmaTflops('f32');
  const fma16 = device.features.has('shader-f16') ? await fmaTflops('f16') : null;

  const src = device.createBuffer({ size: bytes, usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST });
  const dst = device.createBuffer({ size: bytes, usage: BufferUsage.STORAGE | BufferUsage.COPY_DST });
  // Non-zero contents (never time on zeros): a copy of a pattern written once.
  const pattern = new Float32Array(1 << 22);
  for (let i = 0; i < pattern.length; i++) pattern[i] = Math.sin(i) + 1.5;
  for (let at = 0; at + pattern.byteLength <= bytes; at += pattern.byteLength) device.queue.writeBuffer(src, at, pattern);
  await device.queue.onSubmittedWorkDone();
  const read = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code: READ_WGSL }), entryPoint: 'main' } });
  const readBg = device.createBindGroup({ layout: read.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: src } }, { binding: 1, resource: { buffer: sink } }] });
  const readMs = await timed(device, (p) => { p.setPipeline(read); p.setBindGroup(0, readBg); p.dispatchWorkgroups(Math.max(1, Math.floor(132 * 16 * scale))); }, 10);

  // Copy: 10 copies in one submit after a warm-up, wall time to completion.
  const copyOnce = (n: number): Promise<undefined> => {
    const enc = device.createCommandEncoder();
    for (let i = 0; i < n; i++) enc.copyBufferToBuffer(src, 0, dst, 0, bytes);
    device.queue.submit([enc.finish()]);
    return device.queue.onSubmittedWorkDone();
  };
  await copyOnce(1);
  const t0 = performance.now();
  await copyOnce(10);
  const copyMs = (performance.now() - t0) / 10;
  src.destroy();
  dst.destroy();
  sink.destroy();
  return {
    fma_tflops: fma32,
    fma16_tflops: fma16,
    read_gbps: +(bytes / (readMs * 1e-3) / 1e9).toFixed(1),
    copy_gbps: +((2 * bytes) / (copyMs * 1e-3) / 1e9).toFixed(1),
    read_bytes: bytes,
  };
}
