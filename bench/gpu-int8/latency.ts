/**
 * bench/gpu-int8/latency: the host floor of one search through Dawn's Node binding, without the
 * index: how long a submit and a readback take when the GPU has (almost) nothing to do. Each case
 * repeats --reps times after 20 warm-ups; medians and 10th / 90th percentiles in ms.
 *   map       copy 16 bytes into a MAP_READ buffer, submit, mapAsync, read, unmap
 *   disp1     + a 48-byte uniform and a 3 KiB query write, one tiny dispatch (cached bind group)
 *   disp4     as disp1 with 4 dispatches (int8_gemv and its merge levels are 2-4)
 *   done      submit one tiny dispatch, await queue.onSubmittedWorkDone()
 *   enc4      encode 4 dispatches + copy and submit, no wait (the synchronous part of a submit)
 *   bg        createBindGroup (what cached bind groups save), per call
 *   idle N    map, with the host idle N us (setTimeout) between submit and mapAsync (polling?)
 * Used to split the int8 search's wall time at nq = 1 (gpu_wait - GPU ms, submit) into what Dawn
 * costs and what the index adds.
 *
 *   npx esbuild bench/gpu-int8/latency.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
 *     --external:webgpu --ignore-annotations --outfile=out/gpu-int8/latency.mjs
 */
import { parseArgs } from 'node:util';
import '../../src/node.js';
import { BufferUsage as BU, MapMode } from '../../src/gpu/device.js';
import { loadDawnGpu } from '../../src/gpu/dawn.js';

const { values } = parseArgs({ options: { reps: { type: 'string', default: '300' } } });
const reps = Number(values.reps);
const gpu = (await loadDawnGpu([]))!;
const adapter = (await gpu.requestAdapter({ powerPreference: 'high-performance' }))!;
const device = await adapter.requestDevice();
const code = `
@group(0) @binding(0) var<uniform> u: vec4u;
@group(0) @binding(1) var<storage, read_write> o: array<u32>;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u) { if (g.x < 4u) { o[g.x] = u.x + g.x; } }`;
const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code }), entryPoint: 'main' } });
const uni = device.createBuffer({ size: 256, usage: BU.UNIFORM | BU.COPY_DST });
const out = device.createBuffer({ size: 64, usage: BU.STORAGE | BU.COPY_SRC });
const qbuf = device.createBuffer({ size: 3072, usage: BU.STORAGE | BU.COPY_DST });
const rb = device.createBuffer({ size: 64, usage: BU.MAP_READ | BU.COPY_DST });
const mkBg = () => device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: uni, offset: 0, size: 16 } }, { binding: 1, resource: { buffer: out } }] });
const bg = mkBg();
const q = new Float32Array(768).map((_, i) => Math.sin(i));
const params = new Uint32Array(12);

function encode(dispatches: number): GPUCommandBuffer {
  const enc = device.createCommandEncoder();
  if (dispatches > 0) {
    const pass = enc.beginComputePass();
    for (let i = 0; i < dispatches; i++) {
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bg);
      pass.dispatchWorkgroups(1, 1);
    }
    pass.end();
  }
  enc.copyBufferToBuffer(out, 0, rb, 0, 16);
  return enc.finish();
}
async function readBack(): Promise<number> {
  await rb.mapAsync(MapMode.READ);
  const v = new Uint32Array(rb.getMappedRange(0, 16).slice(0))[0]!;
  rb.unmap();
  return v;
}
const sleep = (us: number) => new Promise<void>((r) => setTimeout(r, us / 1000));

async function time(name: string, once: () => Promise<unknown> | unknown, n = reps): Promise<void> {
  for (let i = 0; i < 20; i++) await once();
  const t: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await once();
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  const at = (p: number) => +t[Math.min(t.length - 1, Math.floor(p * t.length))]!.toFixed(4);
  console.log(JSON.stringify({ case: 'latency', name, reps: n, median_ms: at(0.5), p10_ms: at(0.1), p90_ms: at(0.9) }));
}

await time('map', async () => {
  device.queue.submit([encode(0)]);
  return readBack();
});
for (const nd of [1, 4]) {
  await time(`disp${nd}`, async () => {
    params[0] = (params[0]! + 1) >>> 0;
    device.queue.writeBuffer(uni, 0, params);
    device.queue.writeBuffer(qbuf, 0, q);
    device.queue.submit([encode(nd)]);
    return readBack();
  });
}
await time('done', async () => {
  device.queue.submit([encode(1)]);
  await device.queue.onSubmittedWorkDone();
});
await time('enc4', () => {
  device.queue.writeBuffer(uni, 0, params);
  device.queue.submit([encode(4)]);
});
await device.queue.onSubmittedWorkDone();
await time('bg', () => mkBg(), 1000);
for (const us of [100, 500]) {
  await time(`idle${us}`, async () => {
    device.queue.submit([encode(1)]);
    await sleep(us);
    return readBack();
  }, Math.min(reps, 100));
}
device.destroy();
