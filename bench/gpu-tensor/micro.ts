/**
 * Microbenchmarks of Dawn's subgroup matrices (int8, M16 N16 K32) on the device: where the ceiling
 * of the tensor-core path through WGSL -> SPIR-V (cooperative matrix) -> driver lies.
 *
 *   node out/device-tensor/micro.mjs [--toggles disable_robustness] [--out DIR]
 *
 * Kernels (one subgroup a workgroup, as the search kernel):
 *   mma RTxQT   fragments loaded once, then only subgroupMatrixMultiplyAccumulate on RT x QT
 *               independent accumulators: the raw tensor rate Dawn/Vulkan reaches.
 *   sload RT    each iteration loads RT left fragments from a storage buffer (streaming 768 MB,
 *               L2 misses) and multiplies each once: the cost of a fragment load from storage.
 *   sloadhot RT the same over a 64 KiB window (L1/L2 hits): load instruction cost without DRAM.
 *   wload RT    the same from workgroup memory (filled once): fragment loads from shared memory.
 *   copy        16-byte coalesced loads of the same 768 MB, summed: the bandwidth a kernel reads at.
 * TOPS = 2 x 16 x 16 x 32 per multiply-accumulate; GB/s counts bytes loaded by fragments.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { create } from 'webgpu';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const OUT = args.get('out') ?? 'out';
const TOGGLES = (args.get('toggles') ?? '').split(',').filter(Boolean);
const ONLY = args.get('only') ?? '';
const TAG = args.get('tag') ?? (TOGGLES.join('+') || 'default');
mkdirSync(OUT, { recursive: true });
const rows: Record<string, unknown>[] = [];
const log = (o: Record<string, unknown>) => {
  rows.push({ tag: TAG, ...o });
  console.log(JSON.stringify({ tag: TAG, ...o }));
};

const L = 'subgroup_matrix_left<i8, 32, 16>';
const R = 'subgroup_matrix_right<i8, 16, 32>';
const A = 'subgroup_matrix_result<i32, 16, 16>';
const HEAD = `enable chromium_experimental_subgroup_matrix;
@group(0) @binding(0) var<uniform> P: vec4<u32>;
@group(0) @binding(1) var<storage, read> a: array<i32>;
@group(0) @binding(2) var<storage, read_write> c: array<i32>;
`;
const ld = (T: string, ptr: string, off: string, col: boolean, stride: string) => `subgroupMatrixLoad<${T}>(${ptr}, ${off}, ${col}, ${stride})`;
const mmaOp = (l: string, r: string, acc: string) => `${acc} = subgroupMatrixMultiplyAccumulate(${l}, ${r}, ${acc});`;
const storeAll = (n: number) =>
  Array.from({ length: n }, (_, i) => `  subgroupMatrixStore(&c, ((wid.x + wid.y * 65535u) % 4096u) * ${n * 256}u + ${i * 256}u, acc${i}, false, 16u);`).join('\n');

/** Raw multiply-accumulate: RT x QT accumulators, fragments loaded once. */
function mmaKernel(rt: number, qt: number): string {
  const l = Array.from({ length: rt }, (_, i) => `  let l${i} = ${ld(L, '&a', `${i * 512}u + (wid.x % 7u) * 4u`, false, '32u')};`);
  const r = Array.from({ length: qt }, (_, j) => `  let r${j} = ${ld(R, '&a', `${8192 + j * 512}u`, true, '32u')};`);
  const accs = Array.from({ length: rt * qt }, (_, x) => `  var acc${x} = ${A}();`);
  const body = Array.from({ length: rt * qt }, (_, x) => '    ' + mmaOp(`l${Math.floor(x / qt)}`, `r${x % qt}`, `acc${x}`));
  return `${HEAD}
@compute @workgroup_size(32)
fn main(@builtin(workgroup_id) wid: vec3<u32>) {
${l.join('\n')}
${r.join('\n')}
${accs.join('\n')}
  for (var it = 0u; it < P.x; it++) {
${body.join('\n')}
  }
${storeAll(rt * qt)}
}`;
}

/**
 * RT left fragments loaded each iteration (row-major, stride 768 bytes: rows of a d = 768 base),
 * each multiplied once with a fixed right fragment. window: bytes the offsets wrap in.
 */
function loadKernel(rt: number, from: 'storage' | 'workgroup', windowBytes: number): string {
  const wgDecl = from === 'workgroup' ? `var<workgroup> w: array<i32, ${windowBytes / 4}>;\n` : '';
  const fill =
    from === 'workgroup'
      ? `  for (var e = lid; e < ${windowBytes / 4}u; e += 32u) { w[e] = a[e]; }\n  workgroupBarrier();\n`
      : '';
  const ptr = from === 'workgroup' ? '&w' : '&a';
  // Step: 16 rows x 768 bytes a fragment; the offset walks rows and the 24 K-steps of a row.
  const loads = Array.from(
    { length: rt },
    (_, i) => `    let l${i} = ${ld(L, ptr, `(base0 + (it * ${rt}u + ${i}u) * 12288u) % ${windowBytes - 12288}u + ((it + ${i}u) % 24u) * 32u`, false, '768u')};`,
  );
  const mm = Array.from({ length: rt }, (_, i) => '    ' + mmaOp(`l${i}`, 'r0', `acc${i}`));
  return `${HEAD}${wgDecl}
@compute @workgroup_size(32)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
${fill}  let r0 = ${ld(R, '&a', '0u', true, '32u')};
${Array.from({ length: rt }, (_, i) => `  var acc${i} = ${A}();`).join('\n')}
  let base0 = ((wid.x + wid.y * 65535u) * ${rt * 12288}u * P.y) % ${windowBytes - 12288}u;
  for (var it = 0u; it < P.x; it++) {
${loads.join('\n')}
${mm.join('\n')}
  }
${storeAll(rt)}
}`;
}

const COPY = `
@group(0) @binding(0) var<uniform> P: vec4<u32>;
@group(0) @binding(1) var<storage, read> a: array<vec4<u32>>;
@group(0) @binding(2) var<storage, read_write> c: array<u32>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let n = arrayLength(&a);
  let i = g.x + g.y * 65535u * 256u;
  var s = vec4<u32>(0u);
  for (var j = i; j < n; j += P.x) { s ^= a[j]; }
  if (s.x == 0x12345678u) { c[0] = s.y; }
}`;

async function main() {
  const gpu = create([`enable-dawn-features=${['allow_unsafe_apis', ...TOGGLES].join(',')}`]);
  (globalThis as { keepGpu?: unknown }).keepGpu = gpu;
  const adapter = (await gpu.requestAdapter({ powerPreference: 'high-performance' }))!;
  const feats = ['chromium-experimental-subgroup-matrix', 'subgroups', 'timestamp-query'].filter((f) => adapter.features.has(f)) as GPUFeatureName[];
  const device = await adapter.requestDevice({
    requiredFeatures: feats,
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
      maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize,
    },
  });
  const errors: string[] = [];
  device.onuncapturederror = (e) => errors.push(e.error.message);
  log({ what: 'device', desc: adapter.info.description, features: feats, toggles: TOGGLES });
  const big = Number(args.get('big') ?? 768 * 1_000_000);
  const src = device.createBuffer({ size: big, usage: 0x80 | 0x08 });
  // Non-zero contents (zeros can run faster than real data).
  {
    const chunk = new Uint8Array(16 << 20);
    for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 2654435761) >>> 24;
    for (let o = 0; o < big; o += chunk.length) device.queue.writeBuffer(src, o, chunk, 0, Math.min(chunk.length, big - o));
  }
  const dst = device.createBuffer({ size: 4096 * 16 * 256 * 4, usage: 0x80 | 0x04 });
  const ub = device.createBuffer({ size: 16, usage: 0x40 | 0x08 });

  async function time(name: string, code: string, groups: number, iters: number, stride: number, ops: number, bytes: number, reps = 5) {
    if (ONLY && !name.startsWith(ONLY)) return;
    device.pushErrorScope('validation');
    const module = device.createShaderModule({ code });
    let pipe: GPUComputePipeline | undefined;
    try {
      pipe = await device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    } catch (e) {
      errors.push((e as Error).message);
    }
    const err = await device.popErrorScope();
    if (!pipe || err) {
      const info = await module.getCompilationInfo();
      log({ what: name, error: [err?.message, ...info.messages.map((m) => `${m.lineNum}: ${m.message}`), ...errors.splice(0)].filter(Boolean).join(' | ').slice(0, 1500) });
      return;
    }
    device.queue.writeBuffer(ub, 0, new Uint32Array([iters, stride, 0, 0]));
    const bg = device.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: ub } }, { binding: 1, resource: { buffer: src } }, { binding: 2, resource: { buffer: dst } }] });
    const run = async (n: number) => {
      const enc = device.createCommandEncoder();
      const pass = enc.beginComputePass();
      pass.setPipeline(pipe!);
      pass.setBindGroup(0, bg);
      for (let i = 0; i < n; i++) pass.dispatchWorkgroups(Math.min(groups, 65535), Math.ceil(groups / 65535));
      pass.end();
      device.queue.submit([enc.finish()]);
      await device.queue.onSubmittedWorkDone();
    };
    await run(1);
    const ms: number[] = [];
    for (let r = 0; r < 3; r++) {
      const t = performance.now();
      await run(reps);
      ms.push((performance.now() - t) / reps);
    }
    ms.sort((x, y) => x - y);
    const m = ms[1]!;
    log({ what: name, groups, iters, ms: +m.toFixed(4), tops: ops ? +(ops / (m * 1e-3) / 1e12).toFixed(1) : undefined, gbs: bytes ? +(bytes / (m * 1e-3) / 1e9).toFixed(0) : undefined, spread: +((ms[2]! - ms[0]!) / m).toFixed(3), errors: errors.splice(0) });
  }

  const MMA = 2 * 16 * 16 * 32;
  const G = 132 * 32;
  for (const [rt, qt] of [[1, 1], [2, 2], [4, 2], [4, 4], [8, 2]] as const) {
    const iters = Math.round(2048 / (rt * qt)) * 4;
    await time(`mma ${rt}x${qt}`, mmaKernel(rt, qt), G, iters, 0, G * iters * rt * qt * MMA, 0);
  }
  // Occupancy check: more workgroups than fit at once.
  await time('mma 4x2 x4 groups', mmaKernel(4, 2), 4 * G, 1024, 0, 4 * G * 1024 * 8 * MMA, 0);
  for (const rt of [1, 4]) {
    const iters = 1024 / rt;
    await time(`sload ${rt}`, loadKernel(rt, 'storage', big), G, iters, 1, G * iters * rt * MMA, G * iters * rt * 512);
    await time(`sloadhot ${rt}`, loadKernel(rt, 'storage', 65536), G, iters, 1, G * iters * rt * MMA, G * iters * rt * 512);
    await time(`wload ${rt}`, loadKernel(rt, 'workgroup', 32768), G, iters, 1, G * iters * rt * MMA, G * iters * rt * 512);
  }
  const cg = 132 * 16;
  // P.x (the iters argument) is the grid's invocation count, the loop's stride.
  await time('copy (16-byte loads)', COPY, cg, cg * 256, 0, 0, big);
  writeFileSync(join(OUT, `micro-${TAG}.json`), JSON.stringify(rows, null, 1));
  process.exit(0);
}

main().catch((e) => {
  console.error('FAILED', e);
  writeFileSync(join(OUT, `micro-${TAG}.json`), JSON.stringify(rows, null, 1));
  process.exit(1);
});
