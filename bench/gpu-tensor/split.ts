/**
 * Where a GpuFlatIndex int8 (or --precision f16 / f32) search's GPU time goes, dispatch by dispatch: the
 * tensor scorer's pre-pass, its scoring dispatch per tile, the merge_lists levels, f16's re-rank. The shard encodes all of them in
 * one compute pass; here the device's createCommandEncoder is wrapped so that every dispatch gets a
 * pass of its own with timestamps at its start and end (the same pipelines, bind groups and order;
 * passes end where the shard's barriers between dependent dispatches are anyway). Tuning from
 * TENSOR_TUNING (tuning-env.ts); the shard's search alone (no host re-rank), timestamps unrounded; variants as 'name:knob=v,...' with the knobs twb / tws / twt / tsh
 * / tpf / tkcs / trt / trtm / tmid / tf16 (tensorTuning.targetWorkgroups / targetWorkgroupsSmall /
 * targetWorkgroupsTiny / share / prefetch / kcSmall / rowTiles / rowTilesMid / midBatch / f16 /
 * tf16u: f16Scale 'uniform' / tf16rt: f16RowTiles / trtb: rowTilesBig / tw: warps / twbr: warpBranch;
 * tf32 / tf32min / tf32rt / tf32w / tf32wf: f32 / f32MinBatch / f32RowTiles / f32Warps / f32WarpsFrom;
 * m1max: kernelTuning.mergeOneMaxBatch).
 *
 *   npx esbuild bench/gpu-tensor/split.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
 *     --external:webgpu --ignore-annotations --outfile=out/<dir>/split.mjs
 *   node out/<dir>/split.mjs --n 1000000 --nq 64,256,1024 --reps 10 --variants 'd;w:twb=1584'
 *
 * One JSON line per (variant, nq): per step its label, workgroups and median microseconds over the
 * reps, and the sums by kind (prep / score / merge) against the median first-start-to-last-end span.
 */
import './tuning-env.js';
import { parseArgs } from 'node:util';
import '../../src/node.js';
import { loadDawnGpu } from '../../src/gpu/dawn.js';
import { BufferUsage, MapMode } from '../../src/gpu/device.js';
import { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import { kernelTuning } from '../../src/gpu/flat-shard.js';
import { tensorTuning } from '../../src/gpu/tensor/hook.js';
import { syntheticQueries, syntheticRow } from '../gpu-flat/synthetic.js';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '1000000' },
    d: { type: 'string', default: '768' },
    nq: { type: 'string', default: '64,256,1024' },
    k: { type: 'string', default: '10' },
    reps: { type: 'string', default: '10' },
    variants: { type: 'string', default: 'd' },
    precision: { type: 'string', default: 'int8' },
  },
});
const n = Number(values.n);
const d = Number(values.d);
const k = Number(values.k);
const reps = Number(values.reps);
const SEED = 12345;
// Dawn rounds timestamps to 65.536 us unless timestamp_quantization is off (run 16 read them rounded).
const gpu = (await loadDawnGpu(['enable-dawn-features=allow_unsafe_apis', 'disable-dawn-features=timestamp_quantization']))!;
const precision = values.precision as 'int8' | 'f16' | 'f32';
const index = await GpuFlatIndex.create(d, 'ip', { precision, gpu, allowExperimental: true });
const range = Math.sqrt(3 / d) * 1.05;
await index.addGenerated(n, SEED, (id: number, out: Float32Array) => syntheticRow(SEED, id, d, out), range);
const shard = (index as unknown as { shards: { ctx: { device: GPUDevice; hasTimestamps: boolean }; scorerFor(nq: number, k: number): { key: string }; search(q: Float32Array, nq: number, k: number, onSubmitted?: () => void, certifyK?: number): Promise<unknown> }[] }).shards[0]!;
const device = shard.ctx.device;
if (!shard.ctx.hasTimestamps) throw new Error('split: the adapter has no timestamp-query');

const MAX = 256;
const set = device.createQuerySet({ type: 'timestamp', count: 2 * MAX });
const resolve = device.createBuffer({ size: 16 * MAX, usage: BufferUsage.QUERY_RESOLVE | BufferUsage.COPY_SRC });
const read = device.createBuffer({ size: 16 * MAX, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
let last: { labels: string[]; groups: string[] } | undefined;

// Every encoder the shard makes: each dispatch in its own timestamped pass.
const real = device.createCommandEncoder.bind(device);
(device as { createCommandEncoder: GPUDevice['createCommandEncoder'] }).createCommandEncoder = (desc?: GPUCommandEncoderDescriptor) => {
  const enc = real(desc);
  const labels: string[] = [];
  const groups: string[] = [];
  let pipeline: GPUComputePipeline | undefined;
  let bind: GPUBindGroup | undefined;
  const pass = {
    setPipeline(p: GPUComputePipeline) { pipeline = p; },
    setBindGroup(_i: number, g: GPUBindGroup) { bind = g; },
    dispatchWorkgroups(x: number, y = 1, z = 1) {
      const i = labels.length;
      if (i >= MAX) throw new Error('split: too many dispatches');
      const p = enc.beginComputePass({ timestampWrites: { querySet: set, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } });
      p.setPipeline(pipeline!);
      p.setBindGroup(0, bind!);
      p.dispatchWorkgroups(x, y, z);
      p.end();
      labels.push(pipeline!.label || '?');
      groups.push(`${x}x${y}`);
    },
    end() {},
  };
  return new Proxy(enc, {
    get(target, prop) {
      if (prop === 'beginComputePass') return () => pass;
      if (prop === 'finish') {
        return (d?: GPUCommandBufferDescriptor) => {
          if (labels.length) {
            target.resolveQuerySet(set, 0, 2 * labels.length, resolve, 0);
            target.copyBufferToBuffer(resolve, 0, read, 0, 16 * labels.length);
            last = { labels: [...labels], groups: [...groups] };
          }
          return target.finish(d);
        };
      }
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  }) as GPUCommandEncoder;
};

// By label (the shard's pipelines are labelled); without labels, by place: pre-pass, one tile, merges.
const kind = (label: string, i: number) => (label === '?' ? (i === 0 ? 'prep' : i === 1 ? 'score' : 'merge') : label.includes('prep') ? 'prep' : label.startsWith('merge') ? 'merge' : label === 'approx_rerank' ? 'rerank' : 'score');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const queries = syntheticQueries(1024, d, 777);
const defaults = { ...tensorTuning };
const kernelDefaults = { ...kernelTuning };
for (const spec of values.variants!.split(';').filter(Boolean)) {
  const [name, knobs = ''] = spec.split(':');
  Object.assign(tensorTuning, defaults);
  Object.assign(kernelTuning, kernelDefaults);
  for (const kv of knobs.split(',').filter(Boolean)) {
    const [key, val] = kv.split('=');
    if (key === 'twb') tensorTuning.targetWorkgroups = Number(val);
    else if (key === 'tws') tensorTuning.targetWorkgroupsSmall = Number(val);
    else if (key === 'twt') tensorTuning.targetWorkgroupsTiny = Number(val);
    else if (key === 'tsh') tensorTuning.share = Number(val);
    else if (key === 'tpf') tensorTuning.prefetch = val !== '0';
    else if (key === 'tkcs') tensorTuning.kcSmall = Number(val);
    else if (key === 'trt') tensorTuning.rowTiles = Number(val);
    else if (key === 'trtm') tensorTuning.rowTilesMid = Number(val);
    else if (key === 'tmid') tensorTuning.midBatch = Number(val);
    else if (key === 'tf16') tensorTuning.f16 = val !== '0';
    else if (key === 'tf16u') tensorTuning.f16Scale = val !== '0' ? 'uniform' : 'dims';
    else if (key === 'tf16rt') tensorTuning.f16RowTiles = Number(val);
    else if (key === 'tf32') tensorTuning.f32 = val !== '0';
    else if (key === 'tf32min') tensorTuning.f32MinBatch = Number(val);
    else if (key === 'tf32rt') tensorTuning.f32RowTiles = Number(val);
    else if (key === 'tf32rtb') tensorTuning.f32RowTilesBig = Number(val);
    else if (key === 'tf32rtf') tensorTuning.f32RowTilesFrom = Number(val);
    else if (key === 'tf32w') tensorTuning.f32Warps = Number(val);
    else if (key === 'tf32wf') tensorTuning.f32WarpsFrom = Number(val);
    else if (key === 'trtb') tensorTuning.rowTilesBig = Number(val);
    else if (key === 'm1max') kernelTuning.mergeOneMaxBatch = Number(val);
    else if (key === 'tw') tensorTuning.warps = Number(val);
    else if (key === 'twbr') tensorTuning.warpBranch = val !== '0';
    else throw new Error(`split: unknown knob ${key}`);
  }
  for (const nq of values.nq!.split(',').map(Number)) {
    const q = queries.subarray(0, nq * d);
    // Per search: the timestamps of each of its batches (1024 queries: two batches of 512).
    const runs: { labels: string[]; groups: string[]; us: number[] }[][] = [];
    for (let r = 0; r <= reps; r++) {
      const batches: { labels: string[]; groups: string[]; us: number[] }[] = [];
      // The shard's search alone (no host re-rank: run 16's searches through the index left the GPU
      // idle for the regenerated rows' re-rank between searches, and its clocks fell). Batches of up
      // to 512 queries run one after another: the stamps read are the last batch's.
      await shard.search(q, nq, index.gpuK(k, nq), undefined, k); // certifyK: f32 lists are certified for k, as the index asks
      if (last) {
        await read.mapAsync(MapMode.READ);
        const t = new BigUint64Array(read.getMappedRange(0, 16 * last.labels.length).slice(0));
        read.unmap();
        const us = last.labels.map((_, i) => Number(t[2 * i + 1]! - t[2 * i]!) / 1e3);
        const span = Number(t[2 * last.labels.length - 1]! - t[0]!) / 1e3;
        batches.push({ labels: last.labels, groups: last.groups, us: [...us, span] });
      }
      if (r > 0) runs.push(batches); // the first search warms up (pipelines, buffers)
    }
    const lastBatch = runs.map((b) => b[b.length - 1]!);
    const steps = lastBatch[0]!.labels.map((label, i) => ({ label, groups: lastBatch[0]!.groups[i], us: +median(lastBatch.map((b) => b.us[i]!)).toFixed(1) }));
    const sum = (kd: string) => +steps.filter((s, i) => kind(s.label, i) === kd).reduce((a, s) => a + s.us, 0).toFixed(1);
    const span = +median(lastBatch.map((b) => b.us[b.us.length - 1]!)).toFixed(1);
    console.log(JSON.stringify({ variant: name, precision, n, nq, batch: Math.min(nq, 512), key: shard.scorerFor(Math.min(nq, 512), index.gpuK(k, nq)).key, prep_us: sum('prep'), score_us: sum('score'), merge_us: sum('merge'), rerank_us: sum('rerank'), span_us: span, steps }));
  }
}
await index.dispose();
