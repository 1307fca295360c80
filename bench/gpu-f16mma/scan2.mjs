// Second f16 subgroup-matrix scan prototype: can Dawn's f16 x f16 -> f32 subgroup matrices (the tensor
// cores, listed under vulkan_enable_f16_on_nvidia) scan f16 rows at 16-64 queries as fast as torch fp16?
// probe.mjs (sixth session, H200 p5) ran one warp a workgroup and staged rows with scalar f16 stores; this
// one runs several warps a workgroup, each scanning its own segment with its row fragments loaded
// straight from storage, CH steps (16 dims each) ahead of the multiplies, the queries staged once in
// workgroup memory (rows padded to break bank conflicts) or read from storage. After each tile the
// scores go through workgroup memory to the lanes, which compare each against a threshold and keep
// the best: a stand-in for the top-k lists, with their cost (sel=0 leaves it out).
// Plain ESM (no bundle): node bench/gpu-f16mma/scan2.mjs --n 1000000 --nq 16,64 --variants V,... [--robust 0]
// A variant is mode:W:RT:QS:CH:nWg[:sel], mode 'reg' (fragments CH steps ahead in registers) or 'loop'
// (a loop over the dims, CH steps unrolled, the driver schedules), W warps a workgroup, RT tiles of 16
// rows a warp iteration, QS 's' (queries in workgroup memory) or 'g' (from storage), nWg workgroups.
import { create, globals } from 'webgpu';
import { writeFileSync } from 'node:fs';
import { f16BitsToF32, f32ToF16Bits, gpuHelpers, makeRandom } from './common.mjs';
import { bestsPerLane, D, kernel as kernelOf, listSlots, parseVariant, queryOfBest, selectKernel, workgroupBytes } from './scan2-kernel.mjs';
Object.assign(globalThis, globals);

const arg = (name, dflt) => { const i = process.argv.indexOf('--' + name); return i < 0 ? dflt : process.argv[i + 1]; };
const N = Number(arg('n', 1000000));
const NQS = String(arg('nq', '16,64')).split(',').map(Number);
const VARIANTS = String(arg('variants', 'reg:4:2:s:8:528,loop:4:2:s:4:528')).split(',');
const REPS = Number(arg('reps', 20));
const CHECK = arg('check', '1') !== '0';
const outDir = arg('out', '');
const PIPELINE = arg('pipeline', '');
const ROBUST = arg('robust', '1') !== '0';
// Scores above it count as candidates; the real lists take few (random rows: scores' sd ~2.3).
const THRESHOLD = Number(arg('thr', 8));
// sel 'L': list length (k') and candidates a query a tile before the owner rescans instead.
const LIST_K = Number(arg('kp', 40));
const CAND_CAP = Number(arg('cand', 16));
// sel 'T': rows in the sample the thresholds come from (the first ones), and candidates a query.
const SAMPLE_ROWS = Number(arg('sample', 0)) || Math.floor(N / 16);
const SAMPLE_CAP = Number(arg('cap', 8192));
const kernel = (spec, BQ) => kernelOf(spec, BQ, LIST_K, CAND_CAP, SAMPLE_CAP);
const log = [];
const say = (...a) => { const s = a.join(' '); console.log(s); log.push(s); };

// --print V:NQ prints that variant's kernel and stops (reading the generated WGSL without a device).
const PRINT = arg('print', '');
const gpu = PRINT ? null : create([`enable-dawn-features=allow_unsafe_apis,vulkan_enable_f16_on_nvidia,disable_symbol_renaming${ROBUST ? '' : ',disable_robustness'}`, 'disable-dawn-features=timestamp_quantization']);
if (PRINT) {
  const [v, nq] = PRINT.split('@');
  console.log(kernel(parseVariant(v), Math.ceil(Number(nq) / 16) * 16));
  process.exit(0);
}
const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
const configs = [...(adapter.info.subgroupMatrixConfigs ?? [])].map((c) => `${c.componentType}x${c.componentType}->${c.resultComponentType} M${c.M} N${c.N} K${c.K}`);
say('adapter', adapter.info.vendor, adapter.info.architecture, adapter.info.description, 'robust', ROBUST);
say('configs', JSON.stringify(configs));
const want = ['shader-f16', 'subgroups', 'chromium-experimental-subgroup-matrix', 'timestamp-query'].filter((f) => adapter.features.has(f));
const device = await adapter.requestDevice({
  requiredFeatures: want,
  requiredLimits: { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize, maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize, maxComputeInvocationsPerWorkgroup: adapter.limits.maxComputeInvocationsPerWorkgroup, maxComputeWorkgroupSizeX: adapter.limits.maxComputeWorkgroupSizeX },
});
device.addEventListener?.('uncapturederror', (e) => say('uncaptured', e.error?.message));
const wgsLimit = adapter.limits.maxComputeWorkgroupStorageSize;
say('workgroup storage limit', wgsLimit);
if (!configs.includes('f16xf16->f32 M16 N16 K16')) { say('no f16->f32 M16 N16 K16 config: stop'); finish(); process.exit(0); }


// A plain read of the rows (16-byte loads, grid-stride), for the read floor in the same process.
function readKernel() {
  return `@group(0) @binding(0) var<storage, read> rows: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read_write> o: array<u32>;
struct P { n4: u32, pad0: u32, pad1: u32, pad2: u32 }
@group(0) @binding(2) var<uniform> p: P;
@compute @workgroup_size(256) fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  var x = vec4<u32>(0u);
  let step = nw.x * 256u;
  for (var i = g.x; i < p.n4; i += step) { x ^= rows[i]; }
  if (x.x == 0x12345678u && x.y == 1u) { o[g.x] = x.z ^ x.w; }
}`;
}

const rnd = makeRandom();
const { buf, readBack, fillRows } = gpuHelpers(device);

// Timestamps of up to 4 passes a run.
const qs = device.createQuerySet({ type: 'timestamp', count: 8 });
const tb = buf(64, GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC);
// Untimed runs first, at least WARM_MS of them: after host work (the CPU check, sel T's thresholds)
// the clocks have fallen, and three runs did not bring them back (h77, h82's first try).
const WARM_MS = Number(arg('warm-ms', 400));
// encode(enc, writes) records `passes` compute passes, pass i with timestampWrites writes(i)
// (undefined when untimed); REPS timed runs after `discard` more: each pass's median and min GPU ms.
async function timePasses(encode, passes = 1, discard = 0) {
  const run = async (timed) => {
    const enc = device.createCommandEncoder();
    encode(enc, (i) => (timed ? { querySet: qs, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } : undefined));
    if (timed) enc.resolveQuerySet(qs, 0, 2 * passes, tb, 0);
    device.queue.submit([enc.finish()]);
    if (!timed) { await device.queue.onSubmittedWorkDone(); return null; }
    const t = new BigUint64Array(await readBack(tb, 16 * passes));
    return Array.from({ length: passes }, (_, i) => Number(t[2 * i + 1] - t[2 * i]) / 1e6);
  };
  const warmStart = performance.now();
  for (let i = 0; i < 3 || performance.now() - warmStart < WARM_MS; i++) await run(false);
  const times = [];
  for (let rep = 0; rep < REPS + discard; rep++) { const ms = await run(true); if (rep >= discard) times.push(ms); }
  return Array.from({ length: passes }, (_, i) => { const v = times.map((x) => x[i]).sort((a, b) => a - b); return { ms: v[v.length >> 1], min_ms: v[0] }; });
}
// One timed pass: encode(enc, timestampWrites) records it.
async function timePass(encode, discard = 0) {
  return (await timePasses((enc, writes) => encode(enc, writes(0)), 1, discard))[0];
}
// One dispatch of wgs workgroups (before: commands ahead of the pass, e.g. clearing counters); the first 3 timed runs dropped.
function timeDispatch(pl, bg, wgs, before = () => {}) {
  return timePass((enc, timestampWrites) => {
    before(enc);
    const pass = enc.beginComputePass(timestampWrites ? { timestampWrites } : {});
    pass.setPipeline(pl); pass.setBindGroup(0, bg); pass.dispatchWorkgroups(wgs); pass.end();
  }, 3);
}

// sel T: each query's threshold, the k'-th best (float64) of the first SAMPLE_ROWS rows, less 1e-3
// for the GPU's float32 sums; padded queries get +inf (never a candidate). Cached per batch size.
const thresholdCache = new Map();
async function sampleThresholds(qf, nq, BQ) {
  if (thresholdCache.has(nq)) return thresholdCache.get(nq);
  const rowsF = await rowsAsFloats(0, SAMPLE_ROWS);
  const thr = new Float32Array(BQ).fill(3.4e38);
  for (let q = 0; q < nq; q++) {
    const sc = Float64Array.from({ length: SAMPLE_ROWS }, (_, r) => dot(rowsF, r, qf, q));
    sc.sort();
    thr[q] = sc[SAMPLE_ROWS - LIST_K] - 1e-3;
  }
  thresholdCache.set(nq, thr);
  return thr;
}

// nq queries (BQ rows, the padding zero) as halves, their float values, and a storage buffer of the halves.
// Seeded by the batch size: every variant of a size gets the same queries (sel T's thresholds are cached a size).
function makeQueries(nq, BQ) {
  rnd.seed(12345 + nq);
  const qh = new Uint16Array(BQ * D); const qf = new Float32Array(BQ * D);
  for (let i = 0; i < nq * D; i++) { qh[i] = f32ToF16Bits(rnd()); qf[i] = f16BitsToF32(qh[i]); }
  const qb = buf(qh.byteLength, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST); device.queue.writeBuffer(qb, 0, qh);
  return { qf, qb };
}
// The kernels' uniform P (scan2-kernel.mjs): segLen, tiles, the stand-in's threshold, segStride,
// and for sel T the buffer's real rows and first id.
function paramsBuffer(segLen, tiles, thr, segStride = 0, rows = 0xffffffff, idBase = 0) {
  const u = new ArrayBuffer(32); new Uint32Array(u, 0, 2).set([segLen, tiles]); new Float32Array(u, 8, 1)[0] = thr; new Uint32Array(u, 12, 3).set([segStride, rows, idBase]);
  const b = buf(32, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST); device.queue.writeBuffer(b, 0, u); return b;
}
// A compute pipeline, or an Error with the compiler's or validation's message; ms: its creation.
async function compile(code) {
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ code });
  const errs = (await module.getCompilationInfo()).messages.filter((m) => m.type === 'error');
  if (errs.length) { await device.popErrorScope(); throw new Error(errs.map((m) => m.message).join(' | ').slice(0, 600)); }
  const t0 = performance.now();
  const pl = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const e = await device.popErrorScope();
  if (e) throw new Error(e.message.slice(0, 600));
  return { pl, ms: performance.now() - t0 };
}
const halfTable = Float32Array.from({ length: 65536 }, (_, h) => f16BitsToF32(h));
// Rows [r0, r0 + n) as floats (exact: halves), read back.
async function rowsAsFloats(r0, n) {
  const part = new Uint16Array(await readBack(rowsBuf, n * D * 2, r0 * D * 2));
  const f = new Float32Array(part.length); for (let i = 0; i < part.length; i++) f[i] = halfTable[part[i]]; return f;
}
// Row r's inner product with query q, summed in float64.
const dot = (rowsF, r, qf, q) => { let x = 0; const o = r * D, qo = q * D; for (let j = 0; j < D; j++) x += rowsF[o + j] * qf[qo + j]; return x; };
// The KP best rows of scores s: one pass keeping a sorted list (the earliest of equal scores first).
const topOf = (s) => { const top = []; for (let r = 0; r < s.length; r++) { if (top.length < LIST_K || s[r] > s[top[top.length - 1]]) { let i = top.length; top.push(r); while (i > 0 && s[top[i - 1]] < s[r]) { top[i] = top[i - 1]; i--; } top[i] = r; if (top.length > LIST_K) top.pop(); } } return top; };
// A GPU list of KP (key, row) pairs, best first, against the exact scores sc: the largest key error,
// and the rows outside the exact KP best that do not tie its KP-th (within 1e-4).
function compareList(sc, got) {
  const order = topOf(sc);
  const want = new Set(order);
  let keyErr = 0, idMiss = 0;
  for (let i = 0; i < LIST_K; i++) {
    keyErr = Math.max(keyErr, Math.abs(got[i][0] - sc[order[i]]));
    if (!want.has(got[i][1]) && !(Math.abs(sc[got[i][1]] - sc[order[LIST_K - 1]]) < 1e-4)) idMiss++;
  }
  return { keyErr, idMiss };
}

const results = [];
// Rows: N (padded) x D halves; the padding covers the segments' rounding up to whole tiles (at most
// warps x BR rows) and the last tiles' reads ahead.
const PAD_ROWS = Number(arg('pad-rows', 300000));
// --tile-rows R (pipeline mode): the index in buffers of R rows each (and the padding), as the
// library tiles an index past Dawn's 2 GiB binding (21M x 768 halves: 16 buffers). 0: one buffer.
const TILE_ROWS = Number(arg('tile-rows', 0)) || N;
const rowTiles = [];
for (let first = 0; first < N; first += TILE_ROWS) {
  const rows = Math.min(TILE_ROWS, N - first);
  const bytes = (rows + PAD_ROWS) * D * 2;
  if (bytes > adapter.limits.maxStorageBufferBindingSize) { say(`a buffer of ${rows} + ${PAD_ROWS} rows is ${bytes} bytes, past the binding limit ${adapter.limits.maxStorageBufferBindingSize}: lower --tile-rows or --pad-rows`); finish(); process.exit(1); }
  const b = buf(bytes, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC);
  fillRows(b, (rows + PAD_ROWS) * D / 2, rowTiles.length ? Math.imul(rowTiles.length, 0x9e3779b9) : 0);
  rowTiles.push({ buf: b, rows, first });
  await device.queue.onSubmittedWorkDone();
}
if (rowTiles.length > 1 && !PIPELINE) { say('--tile-rows: pipeline mode only'); finish(); process.exit(1); }
const totalRows = rowTiles[0].rows + PAD_ROWS;
const rowsBuf = rowTiles[0].buf;
say('row buffers', rowTiles.length, 'rows each', rowTiles[0].rows);

async function runRead() {
  const pl = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code: readKernel() }), entryPoint: 'main' } });
  const ob = buf(1 << 22, GPUBufferUsage.STORAGE);
  // The first buffer's rows (all N with one buffer).
  const R0 = rowTiles[0].rows;
  const ub = buf(16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST); device.queue.writeBuffer(ub, 0, new Uint32Array([R0 * D / 8, 0, 0, 0]));
  const bg = device.createBindGroup({ layout: pl.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: rowsBuf } }, { binding: 1, resource: { buffer: ob } }, { binding: 2, resource: { buffer: ub } }] });
  const t = await timeDispatch(pl, bg, 132 * 16);
  const rec = { kind: 'read', n: R0, ...t, gbps: (R0 * D * 2) / t.ms / 1e6 };
  results.push(rec); say(JSON.stringify(rec));
}

async function runVariant(v, nq) {
  const spec = parseVariant(v);
  const { QS, nWg } = spec;
  const BQ = Math.ceil(nq / 16) * 16, BR = 16 * spec.RT;
  const sampled = spec.sel === 'T';
  const lists = spec.sel === 'L' || spec.sel === 'R';
  const slots = listSlots(spec, BQ, LIST_K);
  const wsBytes = workgroupBytes(spec, BQ, LIST_K, CAND_CAP);
  const tag = { variant: v, nq, n: N };
  if (wsBytes > wgsLimit) { say(JSON.stringify({ ...tag, skipped: `workgroup memory ${wsBytes} > ${wgsLimit}` })); return; }
  const warps = nWg * spec.W;
  const tiles = Math.ceil(N / warps / BR);
  const segLen = tiles * BR;
  if (warps * segLen + BR > totalRows) { say(JSON.stringify({ ...tag, skipped: 'padding too small' })); return; }
  let code;
  try { code = kernel(spec, BQ); } catch (e) { say(JSON.stringify({ ...tag, skipped: e.message })); return; }
  let pl, compileMs;
  try { ({ pl, ms: compileMs } = await compile(code)); } catch (e) { say(JSON.stringify({ ...tag, error: e.message })); return; }
  const { qf, qb } = makeQueries(nq, BQ);
  const ub = paramsBuffer(segLen, tiles, THRESHOLD);
  const NB = bestsPerLane(spec.sel, BQ);
  const listFloats = nWg * BQ * slots * 2;
  const outLen = lists ? listFloats : sampled ? BQ * SAMPLE_CAP * 2 : warps * 32 * NB;
  const ob = buf(outLen * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST);
  // Poisoned: a kernel that writes nothing fails the check.
  device.queue.writeBuffer(ob, 0, new Float32Array(outLen).fill(NaN));
  const extra = [];
  let thr, cntBuf;
  if (sampled) {
    thr = await sampleThresholds(qf, nq, BQ);
    const thrBuf = buf(BQ * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST); device.queue.writeBuffer(thrBuf, 0, thr);
    cntBuf = buf(BQ * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST);
    extra.push({ binding: 5, resource: { buffer: thrBuf } }, { binding: 6, resource: { buffer: cntBuf } });
  }
  const bg = device.createBindGroup({ layout: pl.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: ub } }, { binding: 1, resource: { buffer: rowsBuf } }, { binding: 3, resource: { buffer: ob } }, { binding: QS === 's' ? 4 : 2, resource: { buffer: qb } }, ...extra] });
  // sel T: the counters start at 0 every run (outside the timed pass).
  const t = await timeDispatch(pl, bg, nWg, sampled ? (enc) => enc.clearBuffer(cntBuf) : undefined);
  let sampleCheck = null;
  if (sampled) {
    // Every row of workgroup 0 scoring (float64) above its query's threshold must be a candidate.
    const counts = new Uint32Array(await readBack(cntBuf, BQ * 4));
    const cand = new Uint32Array(await readBack(ob, BQ * SAMPLE_CAP * 8));
    const per = Array.from(counts.slice(0, nq));
    sampleCheck = { cand_mean: per.reduce((a, b) => a + b, 0) / nq, cand_max: Math.max(...per), overflow: per.filter((c) => c > SAMPLE_CAP).length, sample_rows: SAMPLE_ROWS };
    if (CHECK) {
      const nRows = spec.W * segLen;
      const rowsF = await rowsAsFloats(0, nRows);
      let missing = 0, wrong = 0;
      for (let q = 0; q < nq; q++) {
        const got = new Map();
        for (let c = 0; c < Math.min(counts[q], SAMPLE_CAP); c++) { const row = cand[(q * SAMPLE_CAP + c) * 2 + 1]; if (row < nRows) got.set(row, new Float32Array(cand.buffer, (q * SAMPLE_CAP + c) * 8, 1)[0]); }
        for (let r = 0; r < nRows; r++) {
          const x = dot(rowsF, r, qf, q);
          if (x >= thr[q] + 1e-3 && !got.has(r)) missing++;
          if (got.has(r) && (x < thr[q] - 1e-3 || Math.abs(got.get(r) - x) > 1e-3)) wrong++;
        }
      }
      Object.assign(sampleCheck, { missing, wrong, rows_checked: nRows });
    }
  }
  let maxErr = null;
  let listCheck = null;
  if (CHECK && lists) {
    // Workgroup 0's lists against the KP best of its rows [0, W segLen), float64 sums of the same halves.
    const raw = await readBack(ob, BQ * slots * 8);
    const keys = new Float32Array(raw); const ids = new Uint32Array(raw);
    const nRows = spec.W * segLen;
    const rowsF = await rowsAsFloats(0, nRows);
    let keyErr = 0, idMiss = 0;
    for (let q = 0; q < nq; q++) {
      const sc = Float64Array.from({ length: nRows }, (_, r) => dot(rowsF, r, qf, q));
      const got = Array.from({ length: slots }, (_, i) => [keys[(q * slots + i) * 2], ids[(q * slots + i) * 2 + 1]]).sort((a, b) => b[0] - a[0]).slice(0, LIST_K);
      const c = compareList(sc, got);
      keyErr = Math.max(keyErr, c.keyErr); idMiss += c.idMiss;
    }
    listCheck = { key_err: keyErr, id_miss: idMiss, rows_checked: nRows };
  } else if (CHECK && !sampled) {
    // Each query's best over warp 0's segment (every tile, sel or not), against float64 sums of the same halves.
    const o = new Float32Array(await readBack(ob, 32 * NB * 4));
    const rowsF = await rowsAsFloats(0, segLen);
    const gpuBest = new Float64Array(BQ).fill(-Infinity);
    for (let lane = 0; lane < 32; lane++) for (let b = 0; b < NB; b++) {
      const q = queryOfBest(spec.sel, BQ, lane, b);
      gpuBest[q] = Math.max(gpuBest[q], Number.isNaN(o[lane * NB + b]) ? Infinity : o[lane * NB + b]);
    }
    maxErr = 0;
    for (let q = 0; q < nq; q++) {
      let best = -Infinity;
      if (spec.sel !== '0') for (let r = 0; r < segLen; r++) best = Math.max(best, dot(rowsF, r, qf, q));
      else {
        // Without selection the accumulators sum every tile: the best is that of the sums of each of the
        // warp's tiles' rows r, r + BR, ... (row r of every tile added up).
        for (let r = 0; r < BR; r++) { let s = 0; for (let tt = 0; tt < tiles; tt++) for (let j = 0; j < D; j++) s += rowsF[(tt * BR + r) * D + j] * qf[q * D + j]; best = Math.max(best, s); }
      }
      maxErr = Math.max(maxErr, Math.abs(best - gpuBest[q]));
    }
  }
  const rec = { ...tag, ...spec, nWg, tiles, rows_scanned: warps * segLen, compile_ms: Math.round(compileMs), ...t, max_err_best: maxErr, ...(listCheck ? { lists: listCheck, kp: LIST_K, cand: CAND_CAP } : {}), ...(sampleCheck ? { sample: sampleCheck } : {}), gbps: (N * D * 2) / t.ms / 1e6 };
  results.push(rec); say(JSON.stringify(rec));
  qb.destroy(); ob.destroy(); ub.destroy();
}

// --pipeline 'A|C': the whole two-pass search in one timed compute pass. A (a stand-in, sel 1 or q)
// scans 1 / --sample-div of each row buffer's rows (its warps' segments spread over the buffer;
// --sample-stride 0: the first rows, as h83-h84 ran); a selection takes each query's KP-th largest
// of all A's bests as its threshold (each best is a distinct row's score, so that is at most the
// KP-th best row's); C (sel T) scans every buffer against it, appending to one candidate list a
// query; a last selection keeps each query's KP best candidates.
const SAMPLE_DIV = Number(arg('sample-div', 64));
const SAMPLE_STRIDE = arg('sample-stride', '1') !== '0';
const CHECK_QUERIES = Number(arg('check-queries', 4));
// The selections' method (selectKernel): 'bisect' (32 rounds, as h83-h84 ran) or 'radix' (4 rounds of 8 bits).
const SELECT = arg('select', 'bisect');
// --stages 1: also time each of the four dispatches in a pass of its own (where the time goes).
const STAGES = arg('stages', '0') !== '0';
// Each stage's median GPU ms, every stage (a list of [key, pipeline, bind group, workgroups]) a pass of its own in one submission.
async function timeStages(stages, before) {
  const t = await timePasses((enc, writes) => {
    before(enc);
    stages.forEach((list, i) => {
      const timestampWrites = writes(i);
      const pass = enc.beginComputePass(timestampWrites ? { timestampWrites } : {});
      for (const [, pl, bg, n] of list) { pass.setPipeline(pl); pass.setBindGroup(0, bg); pass.dispatchWorkgroups(n); }
      pass.end();
    });
  }, stages.length);
  return t.map((x) => x.ms);
}
async function runPipeline(pipe, nq) {
  const [va, vc] = pipe.split('|');
  const A = parseVariant(va), C = parseVariant(vc);
  const BQ = Math.ceil(nq / 16) * 16;
  const tag = { pipeline: pipe, nq, n: N, buffers: rowTiles.length, sample_div: SAMPLE_DIV, sample_stride: SAMPLE_STRIDE, kp: LIST_K, select: SELECT };
  if (!['1', 'q'].includes(A.sel) || C.sel !== 'T') { say(JSON.stringify({ ...tag, skipped: 'A must be a stand-in (sel 1 or q), C sel T' })); return; }
  const { qf, qb } = makeQueries(nq, BQ);
  const plan = (spec, rows) => { const warps = spec.nWg * spec.W; const BR = 16 * spec.RT; const tiles = Math.ceil(rows / warps / BR); return { warps, tiles, segLen: tiles * BR }; };
  // One compiled shape for every buffer: planned for the largest (the first); a smaller last buffer
  // gets its own segments through the uniforms.
  const pa = plan(A, Math.ceil(rowTiles[0].rows / SAMPLE_DIV));
  const nB = rowTiles.length;
  const codes = {
    a: () => kernel(A, BQ),
    b: () => selectKernel({ from: 'bests', sel: A.sel, BQ, warps: nB * pa.warps, KP: LIST_K, method: SELECT }),
    c: () => kernel(C, BQ),
    d: () => selectKernel({ from: 'candidates', BQ, KP: LIST_K, CAP: SAMPLE_CAP, method: SELECT }),
  };
  const pls = {};
  for (const [k, code] of Object.entries(codes)) {
    try { pls[k] = (await compile(code())).pl; } catch (e) { say(JSON.stringify({ ...tag, error: `${k.toUpperCase()}: ${e.message}`.slice(0, 600) })); return; }
  }
  const NB = bestsPerLane(A.sel, BQ);
  // Each buffer's A writes its warps' bests after the previous buffers' (256-byte aligned offsets).
  const bestsBytes = pa.warps * 32 * NB * 4;
  if (nB > 1 && bestsBytes % 256) { say(JSON.stringify({ ...tag, skipped: `A's bests (${bestsBytes} bytes a buffer) must be 256-byte aligned` })); return; }
  const bests = buf(nB * bestsBytes, GPUBufferUsage.STORAGE);
  const thrBuf = buf(BQ * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC);
  device.queue.writeBuffer(thrBuf, 0, new Float32Array(BQ).fill(3.4e38));
  const cnt = buf(BQ * 4, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC);
  const cand = buf(BQ * SAMPLE_CAP * 8, GPUBufferUsage.STORAGE);
  const fin = buf(BQ * LIST_K * 8, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST);
  device.queue.writeBuffer(fin, 0, new Float32Array(BQ * LIST_K * 2).fill(NaN));
  const q = (spec) => (spec.QS === 's' ? { binding: 4, resource: { buffer: qb } } : { binding: 2, resource: { buffer: qb } });
  const bg = (pl, entries) => device.createBindGroup({ layout: pl.getBindGroupLayout(0), entries });
  // [key, pipeline, bind group, workgroups] in dispatch order: A for each buffer, B, C for each buffer, D.
  const dispatches = [];
  let scannedRows = 0;
  rowTiles.forEach((t, i) => {
    const pa_t = plan(A, Math.ceil(t.rows / SAMPLE_DIV));
    // segStride: A's segments spread over the buffer's rows (--sample-stride 1, the default) or back to
    // back at its start (0): real data may be ordered, so a sample of the first rows may not be typical.
    const strideA = SAMPLE_STRIDE ? Math.floor(t.rows / pa.warps) : 0;
    dispatches.push(['a', pls.a, bg(pls.a, [{ binding: 0, resource: { buffer: paramsBuffer(pa_t.segLen, pa_t.tiles, 1e30, strideA) } }, { binding: 1, resource: { buffer: t.buf } }, { binding: 3, resource: { buffer: bests, offset: i * bestsBytes, size: bestsBytes } }, q(A)]), A.nWg]);
  });
  dispatches.push(['b', pls.b, bg(pls.b, [{ binding: 1, resource: { buffer: bests } }, { binding: 3, resource: { buffer: thrBuf } }]), nq]);
  rowTiles.forEach((t) => {
    const pc = plan(C, t.rows);
    scannedRows = Math.max(scannedRows, pc.warps * pc.segLen);
    dispatches.push(['c', pls.c, bg(pls.c, [{ binding: 0, resource: { buffer: paramsBuffer(pc.segLen, pc.tiles, 0, 0, t.rows, t.first) } }, { binding: 1, resource: { buffer: t.buf } }, { binding: 3, resource: { buffer: cand } }, q(C), { binding: 5, resource: { buffer: thrBuf } }, { binding: 6, resource: { buffer: cnt } }]), C.nWg]);
  });
  dispatches.push(['d', pls.d, bg(pls.d, [{ binding: 1, resource: { buffer: cand } }, { binding: 2, resource: { buffer: cnt } }, { binding: 3, resource: { buffer: fin } }]), nq]);
  if (scannedRows > rowTiles[0].rows + PAD_ROWS) { say(JSON.stringify({ ...tag, skipped: 'padding too small for whole segments' })); return; }
  const t = await timePass((enc, timestampWrites) => {
    enc.clearBuffer(cnt);
    const pass = enc.beginComputePass(timestampWrites ? { timestampWrites } : {});
    for (const [, pl, group, n] of dispatches) { pass.setPipeline(pl); pass.setBindGroup(0, group); pass.dispatchWorkgroups(n); }
    pass.end();
  });
  if (STAGES) {
    // A, B, C and D each in passes of their own (one a dispatch), summed over the buffers: at most 4 passes timed.
    const stages = ['a', 'b', 'c', 'd'];
    const ms = await timeStages(stages.map((k) => dispatches.filter((x) => x[0] === k)), (enc) => enc.clearBuffer(cnt));
    t.stages_ms = Object.fromEntries(stages.map((k, i) => [k, ms[i]]));
  }
  const counts = new Uint32Array(await readBack(cnt, BQ * 4)).slice(0, nq);
  const thresholds = new Float32Array(await readBack(thrBuf, BQ * 4)).slice(0, nq);
  const rec = { ...tag, A: va, C: vc, ...t, cand_mean: counts.reduce((a, b) => a + b, 0) / nq, cand_max: Math.max(...counts), overflow: Array.from(counts).filter((c) => c > SAMPLE_CAP).length, thr0: thresholds[0] };
  if (CHECK && nB === 1) {
    // The first CHECK_QUERIES queries' final lists against the exact KP best (float64) of the N rows
    // (sel T takes no row of the padding its whole segments reach: p.rows).
    const raw = await readBack(fin, BQ * LIST_K * 8);
    const keys = new Float32Array(raw), ids = new Uint32Array(raw);
    let keyErr = 0, idMiss = 0;
    const chunk = 65536;
    const nCheck = Math.min(nq, CHECK_QUERIES);
    const sc = Array.from({ length: nCheck }, () => new Float64Array(N));
    for (let r0 = 0; r0 < N; r0 += chunk) {
      const n = Math.min(chunk, N - r0);
      const pf = await rowsAsFloats(r0, n);
      for (let qq = 0; qq < nCheck; qq++) for (let r = 0; r < n; r++) sc[qq][r0 + r] = dot(pf, r, qf, qq);
    }
    for (let qq = 0; qq < nCheck; qq++) {
      const got = Array.from({ length: LIST_K }, (_, i) => [keys[(qq * LIST_K + i) * 2], ids[(qq * LIST_K + i) * 2 + 1]]).sort((a, b) => b[0] - a[0]);
      const c = compareList(sc[qq], got);
      keyErr = Math.max(keyErr, c.keyErr); idMiss += c.idMiss;
    }
    Object.assign(rec, { check: { queries: nCheck, rows: N, key_err: keyErr, id_miss: idMiss } });
  }
  results.push(rec); say(JSON.stringify(rec));
}

await runRead();
if (PIPELINE) { for (const pipe of PIPELINE.split(',')) for (const nq of NQS) await runPipeline(pipe, nq); }
else for (const v of VARIANTS) for (const nq of NQS) await runVariant(v, nq);
await runRead();
function finish() { if (outDir) { writeFileSync(outDir + '/scan2.log', log.join('\n') + '\n'); writeFileSync(outDir + '/scan2.jsonl', results.map((r) => JSON.stringify(r)).join('\n') + '\n'); } }
finish();
