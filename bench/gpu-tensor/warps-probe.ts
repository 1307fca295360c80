/**
 * Does this Dawn accept subgroup-matrix offsets derived from @builtin(subgroup_id) (several warps a
 * workgroup)? Compiles, on the device's real subgroup-matrix feature: (1) a tiny kernel of two warps,
 * each loading, multiplying and storing at an offset from subgroup_id; (2) the same with the offset
 * from local_invocation_index / 32 (rejected on the H100, NOTES item 1); (3) the GpuFlatIndex hook
 * kernel with 2 and 4 warps (32- and 64-row tiles). Prints one JSON line a check.
 *
 *   node out/<dir>/warps-probe.mjs
 */
import { create } from 'webgpu';
import { matrixConfigsOf, SUBGROUP_MATRIX_FEATURE, UNSAFE_APIS_FLAG } from '../../src/gpu/tensor/choose.js';
import { planTensorHook, tensorTuning } from '../../src/gpu/tensor/hook.js';
import { hookSource } from '../../src/gpu/tensor/kernel-source.js';

const gpu = create([UNSAFE_APIS_FLAG]);
(globalThis as { keepGpu?: unknown }).keepGpu = gpu;
const adapter = (await gpu.requestAdapter({ powerPreference: 'high-performance' }))!;
const info = adapter.info as GPUAdapterInfo & { subgroupMinSize?: number; subgroupMaxSize?: number };
console.log(JSON.stringify({
  what: 'adapter', desc: info.description, wgsl: [...gpu.wgslLanguageFeatures].sort(), subgroups: [info.subgroupMinSize, info.subgroupMaxSize],
  maxWgStorage: adapter.limits.maxComputeWorkgroupStorageSize, configs: matrixConfigsOf(info).length,
}));
const want = ['subgroups', SUBGROUP_MATRIX_FEATURE].filter((f) => adapter.features.has(f)) as GPUFeatureName[];
const device = await adapter.requestDevice({ requiredFeatures: want, requiredLimits: { maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize } });

async function tryCompile(name: string, code: string): Promise<boolean> {
  device.pushErrorScope('validation');
  let msg: string | undefined;
  try {
    const module = device.createShaderModule({ code });
    const ci = await module.getCompilationInfo();
    const errs = ci.messages.filter((m) => m.type === 'error').map((m) => `${m.lineNum}:${m.linePos} ${m.message}`);
    if (errs.length) msg = errs.join(' | ');
    else await device.createComputePipelineAsync({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  } catch (e) {
    msg = (e as Error).message;
  }
  const scoped = await device.popErrorScope();
  msg ??= scoped?.message;
  console.log(JSON.stringify({ what: 'compile', name, ok: !msg, error: msg?.slice(0, 1200) }));
  return !msg;
}

const tiny = (off: string, extra: string) => `enable chromium_experimental_subgroup_matrix;
enable subgroups;
var<workgroup> w: array<i32, 1024>;
@group(0) @binding(0) var<storage, read_write> o: array<i32>;
@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) lid: u32${extra}) {
  ${off}
  w[lid] = i32(lid); w[lid + 64u] = 1;
  workgroupBarrier();
  let l = subgroupMatrixLoad<subgroup_matrix_left<i8, 32, 16>>(&w, wo * 4u, false, 32u);
  let r = subgroupMatrixLoad<subgroup_matrix_right<i8, 16, 32>>(&w, wo * 4u, true, 32u);
  let acc = subgroupMatrixMultiplyAccumulate(l, r, subgroup_matrix_result<i32, 16, 16>());
  workgroupBarrier();
  subgroupMatrixStore(&w, wo, acc, false, 16u);
  workgroupBarrier();
  o[lid] = w[lid];
}`;
const okSid = await tryCompile('tiny: offsets from subgroup_id', tiny('let wo = sid * 256u;', ', @builtin(subgroup_id) sid: u32'));
await tryCompile('tiny: offsets from local_invocation_index / 32', tiny('let wo = (lid / 32u) * 256u;', ''));

const configs = matrixConfigsOf(info);
for (const [warps, rowTiles] of [[2, 2], [2, 4], [4, 2], [4, 4]] as const) {
  const saved = { ...tensorTuning };
  tensorTuning.warps = warps;
  tensorTuning.select = 'mask';
  tensorTuning.prefetch = true;
  const plan = planTensorHook(
    { precision: 'int8', metric: 'ip', rowWords: 48, features: device.features, configs, maxWorkgroupStorage: adapter.limits.maxComputeWorkgroupStorageSize, subgroupSize: info.subgroupMaxSize ?? 32 },
    rowTiles === 4 ? 512 : 256,
    40,
  );
  Object.assign(tensorTuning, saved);
  if (!('shape' in plan)) {
    console.log(JSON.stringify({ what: 'compile', name: `hook w${warps} r${rowTiles}`, ok: false, error: `not planned: ${plan.reason}` }));
    continue;
  }
  if (plan.shape.sgQueries !== warps || plan.shape.rowTiles !== rowTiles) {
    console.log(JSON.stringify({ what: 'compile', name: `hook w${warps} r${rowTiles}`, ok: false, error: `planned ${plan.shape.sgQueries} warps, ${plan.shape.rowTiles} row tiles` }));
    continue;
  }
  await tryCompile(`hook w${warps} r${rowTiles}`, hookSource(plan.shape));
}
console.log(JSON.stringify({ what: 'probe-done', sidAccepted: okSid }));
device.destroy();
process.exit(0);
