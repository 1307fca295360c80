/**
 * int8_gemv at few queries: GPU ms of the shard's search (int8_gemv, then the merge_lists levels;
 * timestamps around the pass, median of --reps), the same tiles' int8_gemv dispatches alone (no
 * merges), and the index's wall time at nq = 1 (search() end to end: quantise, GPU, readback, host
 * re-rank; timestamps off), for variants of int8GemvTuning. With --ceil 1 the read bandwidth of
 * bench/gpu-flat/ceilings.ts first (the int8 codes read once: the nq = 1 floor). One JSON line a
 * case on stdout, a table on stderr. Dawn opens with allow_unsafe_apis and without
 * timestamp_quantization (runs gemv-1 and gemv-2 had it: GPU figures in steps of 65.5 us).
 *
 *   npx esbuild bench/gpu-int8/results/h200-2026-12-03-gemv/gemv.ts --bundle --platform=node \
 *     --format=esm --loader:.wgsl=text --external:webgpu --ignore-annotations --outfile=out/gemv/gemv.mjs
 *   node out/gemv/gemv.mjs --n 1000000 --variants 'default;ru1:ru=1;sp512:sp=512' --nq 1,4
 *
 * Knobs: ru, sp, ci, qr, qbits, lanes, uw, gt (int8GemvTuning), target (kernelTuning.targetWorkgroups),
 * fan (kernelTuning.mergeFanIn: lists a merge_lists workgroup takes), m1 / m1fan / m1slots
 * (kernelTuning.mergeOne / mergeOneFan / mergeOneSlots: merge_one in place of merge_lists),
 * kp (candidates k' a query; default 40 = the index's k' at k = 10), nq ('/'-list).
 */
import { parseArgs } from 'node:util';
import '../../../../src/node.js';
import { BufferUsage, MapMode } from '../../../../src/gpu/device.js';
import { loadDawnGpu } from '../../../../src/gpu/dawn.js';
import { GpuFlatIndex } from '../../../../src/gpu/flat-index.js';
import { kernelTuning } from '../../../../src/gpu/flat-shard.js';
import { int8GemvTuning } from '../../../../src/gpu/int8-gemv.js';
import { measureCeilings } from '../../../gpu-flat/ceilings.js';
import { syntheticQueries, syntheticRow } from '../../../gpu-flat/synthetic.js';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '1000000' },
    d: { type: 'string', default: '768' },
    nq: { type: 'string', default: '1' },
    variants: { type: 'string', default: 'default' },
    reps: { type: 'string', default: '30' },
    ceil: { type: 'string', default: '0' },
    wall: { type: 'string', default: '1' },
    'host-rows': { type: 'string', default: 'regen' },
    recall: { type: 'string', default: '0' },
    // Dawn toggles besides allow_unsafe_apis (which unquantises the timestamps), comma-separated.
    toggles: { type: 'string', default: '' },
  },
});
const n = Number(values.n);
const d = Number(values.d);
const reps = Number(values.reps);
const SEED = 12345;
const gpu = (await loadDawnGpu([`enable-dawn-features=${['allow_unsafe_apis', ...values.toggles!.split(',').filter(Boolean)].join(',')}`, 'disable-dawn-features=timestamp_quantization']))!;
const adapter = (await gpu.requestAdapter({ powerPreference: 'high-performance' }))!;
console.error(`adapter ${JSON.stringify(adapter.info)}`);
const t0 = performance.now();
const since = () => `[${((performance.now() - t0) / 1000).toFixed(1)} s]`;

if (values.ceil === '1') {
  const dev = await adapter.requestDevice({ requiredFeatures: ['timestamp-query'], requiredLimits: { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize } });
  const c = await measureCeilings(dev, 1);
  console.log(JSON.stringify({ case: 'ceilings', ...c, int8_read_floor_ms: +(((n * d) / (c.read_gbps * 1e9)) * 1e3).toFixed(4), n, d }));
  dev.destroy();
}

const queries = syntheticQueries(64, d, 777);
let exact: Uint32Array | undefined;
const nRecall = 16;
if (values.recall === '1') {
  const f32 = await GpuFlatIndex.create(d, 'ip', { precision: 'f32', gpu });
  await f32.addGenerated(n, SEED, () => undefined);
  exact = Uint32Array.from((await f32.search(queries.subarray(0, nRecall * d), 10)).labels, Number);
  await f32.dispose();
  console.error(`${since()} f32 reference`);
}
let hostRow: ((id: number, out: Float32Array) => void) | Float32Array = (id, out) => syntheticRow(SEED, id, d, out);
if (values['host-rows'] === 'memory') {
  const rows = new Float32Array(n * d);
  for (let i = 0; i < n; i++) syntheticRow(SEED, i, d, rows.subarray(i * d, (i + 1) * d));
  hostRow = rows;
}
const index = await GpuFlatIndex.create(d, 'ip', { precision: 'int8', gpu });
await index.addGenerated(n, SEED, hostRow, Math.sqrt(3 / d) * 1.05);
console.error(`${since()} int8 index of ${n} rows`);

interface ShardInner {
  search(q: Float32Array, nq: number, k: number): Promise<{ ids: Uint32Array }>;
  enableTimestamps(): boolean;
  gpuNs: number;
  timer: unknown;
  scorerFor(nq: number, k: number): { pipeline: GPUComputePipeline; BR: number; BQ: number; key: string; quant?: number; target?: number };
  segmentPlan(rows: number, nq: number, k: number, BR: number, BQ: number, target?: number): { segLen: number; nseg: number };
  tiles: { buffer: GPUBuffer; rows: number; capacity: number }[];
  rowWords: number;
  rowBytes: number;
  q4: number;
  sqHost: Float32Array;
  sqBuffer: GPUBuffer;
  ctx: { device: GPUDevice };
}
const shard = (index as unknown as { shards: ShardInner[] }).shards[0]!;
shard.enableTimestamps();
const timer = shard.timer;
const device = shard.ctx.device;
const dp = shard.q4 * 4;
const { quantizeInt8Queries } = await import('../../../../src/gpu/int8-gemv.js');

function padded(nq: number): Float32Array {
  const out = new Float32Array(nq * dp);
  for (let q = 0; q < nq; q++) out.set(queries.subarray(q * d, (q + 1) * d), q * dp);
  return out;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** The shard's int8_gemv dispatches for every tile, in one timed pass, without the merges. */
async function kernelAlone(nq: number, kp: number): Promise<{ median: number; mean: number }> {
  const sc = shard.scorerFor(nq, kp);
  const qd = sc.quant ? quantizeInt8Queries(padded(nq), nq, shard.rowWords, shard.sqHost, sc.quant) : padded(nq);
  const plans = shard.tiles.filter((t) => t.rows > 0).map((t) => ({ t, ...shard.segmentPlan(t.rows, nq, kp, sc.BR, sc.BQ, sc.target) }));
  const total = plans.reduce((s, p) => s + p.nseg, 0);
  const qBuf = device.createBuffer({ size: Math.ceil(qd.byteLength / 16) * 16, usage: BufferUsage.STORAGE | BufferUsage.COPY_DST });
  device.queue.writeBuffer(qBuf, 0, qd.buffer, qd.byteOffset, qd.byteLength);
  const out = device.createBuffer({ size: nq * total * kp * 8, usage: BufferUsage.STORAGE });
  const uni = device.createBuffer({ size: 256 * plans.length, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST });
  const set = device.createQuerySet({ type: 'timestamp', count: 2 });
  const resolve = device.createBuffer({ size: 16, usage: BufferUsage.QUERY_RESOLVE | BufferUsage.COPY_SRC });
  const read = device.createBuffer({ size: 16, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
  let segAt = 0;
  let idBase = 0;
  const groups = plans.map((p, i) => {
    device.queue.writeBuffer(uni, 256 * i, new Uint32Array([nq, p.t.rows, shard.rowWords, shard.q4, kp, p.segLen, total, idBase, segAt]));
    const bg = device.createBindGroup({
      layout: sc.pipeline.getBindGroupLayout(0),
      entries: [
        { binding: 0, resource: { buffer: uni, offset: 256 * i, size: 48 } },
        { binding: 1, resource: { buffer: p.t.buffer, offset: 0, size: p.t.capacity * shard.rowBytes } },
        { binding: 2, resource: { buffer: qBuf } },
        { binding: 3, resource: { buffer: shard.sqBuffer } },
        { binding: 4, resource: { buffer: out } },
      ],
    });
    segAt += p.nseg;
    idBase += p.t.rows;
    return { bg, nseg: p.nseg };
  });
  const times: number[] = [];
  for (let r = 0; r < reps + 2; r++) {
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass({ timestampWrites: { querySet: set, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } });
    pass.setPipeline(sc.pipeline);
    for (const g of groups) {
      pass.setBindGroup(0, g.bg);
      pass.dispatchWorkgroups(g.nseg, Math.ceil(nq / sc.BQ));
    }
    pass.end();
    enc.resolveQuerySet(set, 0, 2, resolve, 0);
    enc.copyBufferToBuffer(resolve, 0, read, 0, 16);
    device.queue.submit([enc.finish()]);
    await read.mapAsync(MapMode.READ);
    const t = new BigUint64Array(read.getMappedRange().slice(0));
    read.unmap();
    if (r >= 2) times.push(Number(t[1]! - t[0]!) / 1e6);
  }
  for (const b of [qBuf, out, uni, resolve, read]) b.destroy();
  set.destroy();
  return { median: median(times), mean: mean(times) };
}

const defaults = { g: { ...int8GemvTuning }, k: { ...kernelTuning } };
const rows: Record<string, unknown>[] = [];
for (const spec of values.variants!.split(';').filter(Boolean)) {
  const [name, knobText = ''] = spec.split(':');
  Object.assign(int8GemvTuning, defaults.g);
  Object.assign(kernelTuning, defaults.k);
  let nqs = values.nq!.split(',').map(Number);
  let kp = 40;
  for (const kv of knobText.split(',').filter(Boolean)) {
    const [key, val = ''] = kv.split('=');
    const v = Number(val);
    if (key === 'ru' || key === 'sp' || key === 'ci' || key === 'qr' || key === 'lanes' || key === 'uw') int8GemvTuning[key] = v;
    else if (key === 'qbits') int8GemvTuning.qbits = v as 8 | 16;
    else if (key === 'gt') int8GemvTuning.targetWorkgroups = v;
    else if (key === 'gemv') int8GemvTuning.enabled = v !== 0;
    else if (key === 'target') kernelTuning.targetWorkgroups = v;
    else if (key === 'fan') kernelTuning.mergeFanIn = v;
    else if (key === 'm1') kernelTuning.mergeOne = v;
    else if (key === 'm1fan') kernelTuning.mergeOneFan = v;
    else if (key === 'm1slots') kernelTuning.mergeOneSlots = v;
    else if (key === 'kp') kp = v;
    else if (key === 'nq') nqs = val.split('/').map(Number);
    else throw new Error(`unknown knob ${key}`);
  }
  for (const nq of nqs) {
    try {
      const q = padded(nq);
      shard.timer = timer;
      const gpuTimes: number[] = [];
      for (let r = 0; r < reps + 2; r++) {
        shard.gpuNs = 0;
        await shard.search(q, nq, kp);
        if (r >= 2) gpuTimes.push(shard.gpuNs / 1e6);
      }
      const alone = await kernelAlone(nq, kp);
      const row: Record<string, unknown> = { case: 'gemv', variant: name, n, d, nq, kp, kernel: shard.scorerFor(nq, kp).key, gpu_ms: +median(gpuTimes).toFixed(4), gpu_mean_ms: +mean(gpuTimes).toFixed(4), gpu_min_ms: +Math.min(...gpuTimes).toFixed(4), kernel_ms: +alone.median.toFixed(4), kernel_mean_ms: +alone.mean.toFixed(4) };
      if (values.wall === '1' && nq === 1 && kp === 40) {
        // The index at k = 10 (k' = 40), timestamps off: one readback a search.
        shard.timer = undefined;
        const walls: number[] = [];
        let hit = 0;
        for (let r = 0; r < Math.max(reps, nRecall) + 2; r++) {
          const qi = r % nRecall;
          const t = performance.now();
          const res = await index.search(queries.subarray(qi * d, (qi + 1) * d), 10);
          const w = performance.now() - t;
          if (r >= 2) walls.push(w);
          if (exact && r >= 2 && r < nRecall + 2) {
            const truth = new Set(exact.subarray(qi * 10, qi * 10 + 10));
            for (const l of res.labels) if (truth.has(Number(l))) hit++;
          }
        }
        row.wall_ms = +median(walls).toFixed(4);
        row.wall_min_ms = +Math.min(...walls).toFixed(4);
        row.wall_mean_ms = +mean(walls).toFixed(4);
        if (exact) row.recall_at_10 = hit / (nRecall * 10);
        shard.timer = timer;
      }
      rows.push(row);
      console.log(JSON.stringify(row));
    } catch (e) {
      console.log(JSON.stringify({ case: 'gemv', variant: name, n, nq, error: (e as Error).message }));
    }
  }
}
console.error(`${since()} done`);
for (const r of rows) {
  console.error(`${String(r.variant).padEnd(12)} n=${r.n} nq=${r.nq} k'=${r.kp} gpu ${r.gpu_ms} (mean ${r.gpu_mean_ms}, min ${r.gpu_min_ms}) kernel ${r.kernel_ms} (mean ${r.kernel_mean_ms})${r.wall_ms !== undefined ? ` wall ${r.wall_ms} (mean ${r.wall_mean_ms})` : ''}${r.recall_at_10 !== undefined ? ` recall ${r.recall_at_10}` : ''}  ${r.kernel}`);
}
await index.dispose();
