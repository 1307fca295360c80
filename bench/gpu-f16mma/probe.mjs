// Probe and prototype: does Dawn expose f16 subgroup matrices on this adapter once shader-f16 is
// allowed (vulkan_enable_f16_on_nvidia), and how fast does an f16 tensor-core scan of f16 rows run?
// Plain ESM (no bundle): node bench/gpu-f16mma/probe.mjs [--n 1000000] [--nq 16,64] [--out DIR]
import { create, globals } from 'webgpu';
import { writeFileSync } from 'node:fs';
import { f16BitsToF32, f32ToF16Bits, gpuHelpers, makeRandom } from './common.mjs';
Object.assign(globalThis, globals);

const arg = (name, dflt) => { const i = process.argv.indexOf('--' + name); return i < 0 ? dflt : process.argv[i + 1]; };
const N = Number(arg('n', 1000000));
const D = 768;
const NQS = String(arg('nq', '16,64')).split(',').map(Number);
const VARIANTS = String(arg('variants', 'unrolled:2:1056,unrolled:4:1056,unrolled:2:2112,staged:2:1056,staged:4:1056,pf:2:1056,pf:4:1056,pf:2:2112,pf:4:2112,pf:2:1056:128,pf:4:528')).split(',');
const REPS = Number(arg('reps', 20));
const outDir = arg('out', '');
const log = [];
const say = (...a) => { const s = a.join(' '); console.log(s); log.push(s); };

// --robust 0: also disable_robustness (no bounds checks around the matrix loads from storage).
const ROBUST = arg('robust', '1') !== '0';
const gpu = create([`enable-dawn-features=allow_unsafe_apis,vulkan_enable_f16_on_nvidia${ROBUST ? '' : ',disable_robustness'}`, 'disable-dawn-features=timestamp_quantization']);
const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
const feats = [...adapter.features].sort();
const configs = [...(adapter.info.subgroupMatrixConfigs ?? [])].map((c) => `${c.componentType}x${c.componentType}->${c.resultComponentType} M${c.M} N${c.N} K${c.K}`);
say('adapter', adapter.info.vendor, adapter.info.architecture, adapter.info.description);
say('shader-f16', adapter.features.has('shader-f16'), 'subgroup-matrix', adapter.features.has('chromium-experimental-subgroup-matrix'));
say('configs', JSON.stringify(configs));
const want = ['shader-f16', 'subgroups', 'chromium-experimental-subgroup-matrix', 'timestamp-query'].filter((f) => adapter.features.has(f));
const device = await adapter.requestDevice({
  requiredFeatures: want,
  requiredLimits: { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize, maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize },
});
device.addEventListener?.('uncapturederror', (e) => say('uncaptured', e.error?.message));
const f16cfg = [...(adapter.info.subgroupMatrixConfigs ?? [])].find((c) => c.componentType === 'f16' && c.resultComponentType === 'f32' && c.M === 16 && c.N === 16);
if (!f16cfg) { say('no f16->f32 16x16 config: stop'); finish(); process.exit(0); }
const K = f16cfg.K;

// Rows: f16 row-major N x D. Queries: f16 NQ x D. Kernel: one warp a workgroup, segment of rows per
// workgroup, BR = 16 RT rows a tile, all queries (QT tiles of 16). Scores to workgroup memory, then
// each lane scans a column (query) of the tile against a threshold: a stand-in for list selection.
function kernel(mode, RT, QT, KC) {
  const BR = 16 * RT, BQ = 16 * QT;
  const L = `subgroup_matrix_left<f16, ${K}, 16>`, R = `subgroup_matrix_right<f16, 16, ${K}>`, A = `subgroup_matrix_result<f32, 16, 16>`;
  const lines = [];
  for (let i = 0; i < RT; i++) for (let j = 0; j < QT; j++) lines.push(`var acc_${i}_${j} = ${A}();`);
  if (mode === 'direct') {
    lines.push(`for (var kd = 0u; kd < D; kd += ${K}u) {`);
    for (let i = 0; i < RT; i++) lines.push(`  let l${i} = subgroupMatrixLoad<${L}>(&base, (t + ${16 * i}u) * D + kd, false, D);`);
    for (let j = 0; j < QT; j++) lines.push(`  let r${j} = subgroupMatrixLoad<${R}>(&queries, ${16 * j}u * D + kd, true, D);`);
    for (let i = 0; i < RT; i++) for (let j = 0; j < QT; j++) lines.push(`  acc_${i}_${j} = subgroupMatrixMultiplyAccumulate(l${i}, r${j}, acc_${i}_${j});`);
    lines.push('}');
  } else if (mode === 'unrolled') {
    for (let kd = 0; kd < D; kd += K) {
      lines.push('{');
      for (let i = 0; i < RT; i++) lines.push(`  let l${i} = subgroupMatrixLoad<${L}>(&base, (t + ${16 * i}u) * D + ${kd}u, false, D);`);
      for (let j = 0; j < QT; j++) lines.push(`  let r${j} = subgroupMatrixLoad<${R}>(&queries, ${16 * j * D + kd}u, true, D);`);
      for (let i = 0; i < RT; i++) for (let j = 0; j < QT; j++) lines.push(`  acc_${i}_${j} = subgroupMatrixMultiplyAccumulate(l${i}, r${j}, acc_${i}_${j});`);
      lines.push('}');
    }
  } else {
    // staged / pf: KC dims of the tile's rows copied to workgroup memory (16-byte words -> 8 halves);
    // pf: chunk c + 1's words loaded into registers before chunk c's multiplies.
    const SWH = KC + 8; // halves a staged row (padded)
    const per = (BR * KC / 8) / 32; // vec4 words a lane a chunk
    const loadsOf = (c) => Array.from({ length: per }, (_, j) => `let w${c}_${j} = base4[((t + ${Math.floor((j * 32) / (KC / 8))}u + (lid / ${KC / 8}u)) * D + ${c * KC}u) / 8u + lid % ${KC / 8}u];`);
    const storesOf = (c) => Array.from({ length: per }, (_, j) => {
      const o = `(${Math.floor((j * 32) / (KC / 8))}u + lid / ${KC / 8}u) * ${SWH}u + (lid % ${KC / 8}u) * 8u`;
      return `{ let o = ${o}; let w = w${c}_${j}; let h0 = bitcast<vec2<f16>>(w.x); let h1 = bitcast<vec2<f16>>(w.y); let h2 = bitcast<vec2<f16>>(w.z); let h3 = bitcast<vec2<f16>>(w.w); wh[o] = h0.x; wh[o + 1u] = h0.y; wh[o + 2u] = h1.x; wh[o + 3u] = h1.y; wh[o + 4u] = h2.x; wh[o + 5u] = h2.y; wh[o + 6u] = h3.x; wh[o + 7u] = h3.y; }`;
    });
    const mult = (c) => {
      const out = [];
      for (let kc = 0; kc < KC; kc += K) {
        out.push('{');
        for (let i = 0; i < RT; i++) out.push(`  let l${i} = subgroupMatrixLoad<${L}>(&wh, ${16 * i * SWH + kc}u, false, ${SWH}u);`);
        for (let j = 0; j < QT; j++) out.push(`  let r${j} = subgroupMatrixLoad<${R}>(&queries, ${16 * j * D + c * KC + kc}u, true, D);`);
        for (let i = 0; i < RT; i++) for (let j = 0; j < QT; j++) out.push(`  acc_${i}_${j} = subgroupMatrixMultiplyAccumulate(l${i}, r${j}, acc_${i}_${j});`);
        out.push('}');
      }
      return out;
    };
    const chunks = D / KC;
    if (mode === 'pf') {
      lines.push(...loadsOf(0));
      for (let c = 0; c < chunks; c++) {
        lines.push(...storesOf(c), 'workgroupBarrier();');
        if (c + 1 < chunks) lines.push(...loadsOf(c + 1));
        lines.push(...mult(c), 'workgroupBarrier();');
      }
    } else {
      for (let c = 0; c < chunks; c++) lines.push('{', ...loadsOf(c), ...storesOf(c), 'workgroupBarrier();', ...mult(c), 'workgroupBarrier();', '}');
    }
  }
  for (let i = 0; i < RT; i++) for (let j = 0; j < QT; j++) lines.push(`subgroupMatrixStore(&ws, ${16 * i * BQ + 16 * j}u, acc_${i}_${j}, false, ${BQ}u);`);
  const staged = mode === 'staged' || mode === 'pf';
  const baseDecl = staged ? `var<workgroup> wh: array<f16, ${BR * (KC + 8)}>;\n@group(0) @binding(1) var<storage, read> base4: array<vec4<u32>>;` : '@group(0) @binding(1) var<storage, read> base: array<f16>;';
  return `enable f16;
enable chromium_experimental_subgroup_matrix;
const D: u32 = ${D}u;
const BR: u32 = ${BR}u;
const BQ: u32 = ${BQ}u;
struct P { rows: u32, segLen: u32, nq: u32, pad: u32 }
@group(0) @binding(0) var<uniform> p: P;
${baseDecl}
@group(0) @binding(2) var<storage, read> queries: array<f16>;
@group(0) @binding(3) var<storage, read_write> out: array<vec2<f32>>;
var<workgroup> ws: array<f32, ${BR * BQ}>;
@compute @workgroup_size(32, 1, 1)
fn main(@builtin(local_invocation_index) lid: u32, @builtin(workgroup_id) wid: vec3<u32>) {
  let segStart = wid.x * p.segLen;
  let segEnd = min(segStart + p.segLen, p.rows);
  var best = -3.0e38;
  var thr = -3.0e38;
  var cnt = 0.0;
  for (var t = segStart; t < segEnd; t += BR) {
    ${lines.join('\n    ')}
    workgroupBarrier();
    if (lid < BQ) {
      for (var r = 0u; r < BR; r++) {
        if (t + r < segEnd) { best = max(best, ws[r * BQ + lid]); }
      }
    }
    workgroupBarrier();
  }
  out[wid.x * 32u + lid] = vec2<f32>(best, cnt);
}`;
}

const rnd = makeRandom();
const { buf, readBack, fillRows } = gpuHelpers(device);

const results = [];
async function runVariant(mode, RT, nWg, nq, rowsBuf, n, check, KC = 64) {
  const QT = Math.ceil(nq / 16), BQ = QT * 16, BR = 16 * RT;
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ code: kernel(mode, RT, QT, KC) });
  const info = await module.getCompilationInfo();
  const errs = info.messages.filter((m) => m.type === 'error');
  if (errs.length) { say('compile error', mode, RT, errs.map((m) => m.message).join(' | ').slice(0, 600)); await device.popErrorScope(); return; }
  const pl = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const e1 = await device.popErrorScope();
  if (e1) { say('pipeline error', mode, RT, e1.message.slice(0, 600)); return; }
  // queries: BQ x D f16 (rows past nq zero)
  const qh = new Uint16Array(BQ * D); const qf = new Float32Array(BQ * D);
  for (let i = 0; i < nq * D; i++) { qh[i] = f32ToF16Bits(rnd()); qf[i] = f16BitsToF32(qh[i]); }
  const qb = buf(qh.byteLength, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST); device.queue.writeBuffer(qb, 0, qh);
  const rowsPadded = Math.ceil(n / nWg / BR) * BR;
  const ub = buf(16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST); device.queue.writeBuffer(ub, 0, new Uint32Array([n, rowsPadded, nq, 0]));
  const ob = buf(nWg * 32 * 8, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC);
  const entries = [{ binding: 0, resource: { buffer: ub } }, { binding: 1, resource: { buffer: rowsBuf } }, { binding: 2, resource: { buffer: qb } }, { binding: 3, resource: { buffer: ob } }];
  const bg = device.createBindGroup({ layout: pl.getBindGroupLayout(0), entries });
  const qs = device.createQuerySet({ type: 'timestamp', count: 2 });
  const tb = buf(16, GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC);
  const times = [];
  for (let rep = 0; rep < REPS + 3; rep++) {
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass({ timestampWrites: { querySet: qs, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } });
    pass.setPipeline(pl); pass.setBindGroup(0, bg); pass.dispatchWorkgroups(Math.ceil(n / rowsPadded)); pass.end();
    enc.resolveQuerySet(qs, 0, 2, tb, 0); device.queue.submit([enc.finish()]);
    const t = new BigUint64Array(await readBack(tb, 16)); if (rep >= 3) times.push(Number(t[1] - t[0]) / 1e6);
  }
  times.sort((a, b) => a - b);
  const ms = times[times.length >> 1];
  let maxErr = null;
  if (check) {
    // best score of query q over the rows of workgroup 0's segment vs the CPU (f16 inputs, f64 sums)
    const o = new Float32Array(await readBack(ob, nWg * 32 * 8));
    const rows = new Uint16Array(await readBack(rowsBuf, Math.min(n, rowsPadded) * D * 2));
    maxErr = 0;
    for (let q = 0; q < Math.min(nq, 32); q++) {
      let best = -Infinity;
      for (let r = 0; r < Math.min(n, rowsPadded); r++) { let s = 0; for (let j = 0; j < D; j++) s += f16BitsToF32(rows[r * D + j]) * qf[q * D + j]; best = Math.max(best, s); }
      maxErr = Math.max(maxErr, Math.abs(best - o[q * 2]));
    }
  }
  const rec = { robust: ROBUST, mode, RT, KC, nWg, nq, n, ms, min_ms: times[0], max_err_best: maxErr, gbps: (n * D * 2) / ms / 1e6 };
  results.push(rec); say(JSON.stringify(rec));
  qb.destroy(); ob.destroy();
}

const rowsBuf = buf(N * D * 2, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC);
fillRows(rowsBuf, N * D / 2);
await device.queue.onSubmittedWorkDone();
// correctness on the first segment (nWg segments over N: segment 0 checked on the CPU)
for (const mode of ['direct', 'unrolled', 'pf']) await runVariant(mode, 2, 4000, 16, rowsBuf, N, true);
for (const v of VARIANTS) { const [mode, rt, wg, kc] = v.split(':'); for (const nq of NQS) await runVariant(mode, Number(rt), Number(wg), nq, rowsBuf, N, false, Number(kc ?? 64)); }
function finish() { if (outDir) { writeFileSync(outDir + '/probe.log', log.join('\n') + '\n'); writeFileSync(outDir + '/probe.jsonl', results.map((r) => JSON.stringify(r)).join('\n') + '\n'); } }
finish();
