/**
 * bench/gpu-int8: the int8 GpuFlatIndex (SQ8 codes on the GPU, exact f32 re-rank on the host) at
 * N x 768 for nq in {1, 16, 64, 256, 1024}, k = 10: GPU ms (timestamps around each search), wall
 * ms (search() end to end: GPU, readback, host re-rank), host re-rank ms, recall@10 against the
 * f32 index's exact answer over the same generated rows, for several kernel / re-rank variants.
 * Rows are generated on the GPU (shaders/fill_random.wgsl); the re-rank reads float32 rows kept in
 * host memory (--host-rows memory: generated once on the host, as rerankFrom 'memory') or
 * regenerates each candidate row (--host-rows regen: slow, ~16 us a row on one thread) or copies
 * the f32 reference index's rows back from the GPU in 512K-row pieces into the int8 index's host rows
 * (--host-rows gpu: 21M rows are 64.5 GB of host memory, read back in seconds where generating them
 * on the host takes minutes).
 *
 *   npx esbuild bench/gpu-int8/run.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
 *     --external:webgpu --ignore-annotations --outfile=out/gpu-int8/run.mjs
 *   node out/gpu-int8/run.mjs --n 1000000 --ceilings 1 --variants 'default;old:gemv=0,tensor=0'
 *
 * --variants 'name:knob=v,...;...' with knobs: gemv (int8_gemv on/off), maxb (its largest batch),
 * qbits, lanes, uw, gt (its targetWorkgroups), ru / sp / ci / qr / sgs / share / shareEvery / shareOne (its rows in flight, buffer slots, checks, query registers, in-register sorts, shared bounds), tensor (tensor-core scorer on/off),
 * twb / tbb (tensorTuning.targetWorkgroups, bigBatch), mfi (kernelTuning.mergeFanIn), tsh / tshf (tensorTuning.share: buckets of shared bounds, 0 off; shareFrom),
 * tkc / tkcs / tws / twt / tpf / tb16 / tb16k / tmin (tensorTuning.kc, kcSmall, targetWorkgroupsSmall, targetWorkgroupsTiny, prefetch, block16, block16MaxK, minBatch),
 * tq (tensorTuning.queries: 1 'hold', 0 'auto') / tins (tensorTuning.insert: 1 'flat', 0 'chain') / trt / trtb (rowTiles, rowTilesBig) / tl (tensorTuning.lists: 1 'packed', 0 'reg') / tsr (selectRows) / trtm / tmid / tinf (rowTilesMid, midBatch, insertFrom), target
 * (kernelTuning.targetWorkgroups), m1 / m1fan (kernelTuning.mergeOne / mergeOneFan), m1ord (mergeOneTuning.order), rb (searchTuning.readbackSlots: 1 or 2), bgc (searchTuning.cacheBinds 0 / 1), depth (rerankDepth = k'), sub (rerankSubBatch), rt (rerankThreads), rd (rerankTuning.dispatch: 1 shared jobs, 0 one message a worker), rc (rerankTuning.caller: 0 = the workers alone score), bpt / ppt (rerankTuning.blocksPerThread / pairsPerThread), mp
 * (rerankThreadsMinPairs), buf (rerankBufferBytes), ts (0: GPU timestamps off for this variant, so
 * the wall time has no second readback; gpu ms is then null), conc (searches in flight at once:
 * qps_wall is then their throughput), nq (a '/'-list of batch sizes for
 * this variant; default --nq). --unquantised 1 opens Dawn without timestamp quantisation (otherwise
 * GPU ms are means of 65.5 us steps). One JSON line per case, a table at the end. Each line carries the
 * index's host profile (GpuFlatIndex.takeProfile, ms a search, summed over sub-batches, which
 * overlap): submit (queries padded, kernels encoded and submitted), gpu_wait (submitted -> results
 * read back: GPU time, the map round trips, the readback copy), ids (shard ids -> global ids),
 * rerank_setup / rerank_score / rerank_out (the re-rank from rows in memory: ids and queries into
 * WebAssembly memory; scoring and top-k on the workers or this thread; labels), concat (sub-batch
 * results joined).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import '../../src/node.js';
import type { SearchResult } from '../../src/core/types.js';
import { loadDawnGpu } from '../../src/gpu/dawn.js';
import { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import { kernelTuning, searchTuning } from '../../src/gpu/flat-shard.js';
import { int8GemvTuning } from '../../src/gpu/int8-gemv.js';
import { mergeOneTuning } from '../../src/gpu/merge-one.js';
import { rerankTuning } from '../../src/gpu/rerank-workers.js';
import { tensorTuning } from '../../src/gpu/tensor/hook.js';
import { measureCeilings } from '../gpu-flat/ceilings.js';
import { syntheticQueries, syntheticRow } from '../gpu-flat/synthetic.js';

/**
 * One warm-up search, then searches until at least 3 and either maxReps or minMs, `conc` of them in
 * flight at once (each starts its next search when its last one returns). wallMs: the median
 * search's latency; meanMs: elapsed time over searches (= the mean latency when conc is 1; the
 * time a search at that throughput otherwise).
 */
async function timeSearches<R>(search: () => Promise<R>, o: { minMs: number; maxReps: number; conc: number; beforeTimed: () => void }): Promise<{ wallMs: number; meanMs: number; reps: number; last: R }> {
  let last = await search();
  o.beforeTimed();
  const lat: number[] = [];
  const start = performance.now();
  const lane = async (): Promise<void> => {
    while (lat.length < o.maxReps && (lat.length < 3 || performance.now() - start < o.minMs)) {
      const t = performance.now();
      lat.push(-1);
      const at = lat.length - 1;
      last = await search();
      lat[at] = performance.now() - t;
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, o.conc) }, lane));
  const meanMs = (performance.now() - start) / lat.length;
  lat.sort((a, b) => a - b);
  return { wallMs: lat[lat.length >> 1]!, meanMs, reps: lat.length, last };
}

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '1000000' },
    d: { type: 'string', default: '768' },
    nq: { type: 'string', default: '1,16,64,256,1024' },
    k: { type: 'string', default: '10' },
    variants: { type: 'string', default: 'default' },
    'min-ms': { type: 'string', default: '200' },
    'max-reps': { type: 'string', default: '10' },
    'host-rows': { type: 'string', default: 'memory' },
    ceilings: { type: 'string', default: '0' },
    // Dawn toggles (comma-separated) besides allow_unsafe_apis, which --experimental 1 adds.
    toggles: { type: 'string', default: '' },
    experimental: { type: 'string', default: '1' },
    // 1: Dawn without timestamp quantisation (GPU ms exact, not a mean of 65.5 us steps).
    unquantised: { type: 'string', default: '0' },
    json: { type: 'string' },
  },
});
const n = Number(values.n);
const d = Number(values.d);
const k = Number(values.k);
const nqs = values.nq!.split(',').map(Number);
const minMs = Number(values['min-ms']);
const maxReps = Number(values['max-reps']);
const SEED = 12345;
const experimental = values.experimental === '1';
const toggles = [...(experimental ? ['allow_unsafe_apis'] : []), ...values.toggles!.split(',').filter(Boolean)];
const gpu = (await loadDawnGpu([...(toggles.length ? [`enable-dawn-features=${toggles.join(',')}`] : []), ...(values.unquantised === '1' ? ['disable-dawn-features=timestamp_quantization'] : [])]))!;
const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
console.error(`adapter: ${JSON.stringify(adapter?.info)} subgroups ${adapter?.info.subgroupMinSize}..${adapter?.info.subgroupMaxSize} wgsl: ${[...gpu.wgslLanguageFeatures].join(',')}`);
const t00 = performance.now();
const since = () => ((performance.now() - t00) / 1000).toFixed(1);

if (Number(values.ceilings) > 0) {
  const dev = await adapter!.requestDevice({ requiredFeatures: ['timestamp-query'], requiredLimits: { maxStorageBufferBindingSize: adapter!.limits.maxStorageBufferBindingSize, maxBufferSize: adapter!.limits.maxBufferSize } });
  const c = await measureCeilings(dev, Number(values.ceilings));
  // The int8 base (n x d bytes) read once at the measured read bandwidth: the nq = 1 floor.
  console.log(JSON.stringify({ engine: 'tessera', case: 'ceilings', ...c, int8_read_floor_ms: +((n * d) / (c.read_gbps * 1e9) * 1e3).toFixed(4), n, d }));
  dev.destroy();
}

// Exact answers: the f32 index over the same generated rows (its kernels are exact up to ties);
// query i is the same in every batch size, so the largest batch answers every prefix.
const maxNq = Math.max(...nqs, 1024);
const queries = syntheticQueries(maxNq, d, 777);
let exact: SearchResult;
const f32 = await GpuFlatIndex.create(d, 'ip', { precision: 'f32', gpu });
try {
  await f32.addGenerated(n, SEED, () => undefined);
  exact = await f32.search(queries, k);
} catch (e) {
  await f32.dispose();
  throw e;
}
console.error(`[${since()} s] f32 reference of ${maxNq} queries over ${n} rows`);
if (values['host-rows'] !== 'gpu') await f32.dispose();
function recall(got: SearchResult, nq: number): number {
  let hit = 0;
  for (let q = 0; q < nq; q++) {
    const truth = new Set(Array.from(exact.labels.subarray(q * k, (q + 1) * k)));
    for (let j = 0; j < k; j++) if (truth.has(got.labels[q * got.k + j]!)) hit++;
  }
  return hit / (nq * k);
}

let hostRow: ((id: number, out: Float32Array) => void) | Float32Array;
if (values['host-rows'] === 'gpu') {
  hostRow = new Float32Array(0); // read back from the f32 index below
} else if (values['host-rows'] === 'memory') {
  // Kept by the index as add() keeps rows (MemoryRows: shared chunks the re-rank workers copy from).
  const rows = new Float32Array(n * d);
  for (let i = 0; i < n; i++) syntheticRow(SEED, i, d, rows.subarray(i * d, (i + 1) * d));
  hostRow = rows;
  console.error(`[${since()} s] ${n} host rows generated (${((n * d * 4) / 1e9).toFixed(2)} GB)`);
} else {
  hostRow = (id, out) => syntheticRow(SEED, id, d, out);
}

const index = await GpuFlatIndex.create(d, 'ip', { precision: 'int8', gpu, allowExperimental: experimental });
// Synthetic rows are uniform in [-1, 1) scaled to unit norm: |x_j| <= ~sqrt(3/d) (as bench/gpu-flat).
const range = Math.sqrt(3 / d) * 1.05;
if (values['host-rows'] === 'gpu') {
  // The f32 reference's rows (the same generator, on the GPU) read back piece by piece: the int8
  // index generates each piece's codes at the same global ids and appends the piece to its host rows.
  const piece = 1 << 19; // 1.5 GB of f32 rows: one staging buffer under the 2 GiB binding size
  const readRows = (f32 as unknown as { rows(start: number, count: number): Promise<Float32Array> }).rows.bind(f32);
  try {
    for (let at = 0; at < n; at += piece) {
      const take = Math.min(piece, n - at);
      await index.addGenerated(take, SEED, await readRows(at, take), range);
    }
  } finally {
    await f32.dispose();
  }
  console.error(`[${since()} s] ${n} host rows read back from the f32 index (${((n * d * 4) / 1e9).toFixed(2)} GB)`);
} else await index.addGenerated(n, SEED, hostRow, range);
const timed = index.enableTimestamps();
console.error(`[${since()} s] int8 index: ${n} rows, ${(index.plan!.shards[0]!.baseBytes / 2 ** 30).toFixed(2)} GiB, timestamps ${timed}`);
const inner = index as unknown as {
  opts: { rerankDepth?: number; rerankSubBatch?: number; rerankThreads?: number; rerankThreadsMinPairs?: number; rerankBufferBytes?: number };
  heap?: Promise<{ workers?: { release(): Promise<void> } }>;
};
const opts = inner.opts;
const shard0 = (index as unknown as { shards: { scorerFor(nq: number, k: number): { key: string }; tempBytes: number; timer?: unknown }[] }).shards[0]!;
const timer = shard0.timer;
const defaults = { gemv: { ...int8GemvTuning }, tensor: { ...tensorTuning }, kernel: { ...kernelTuning }, search: { ...searchTuning }, rerank: { ...rerankTuning }, merge: { ...mergeOneTuning } };

interface Row {
  engine: 'tessera';
  precision: 'int8';
  variant: string;
  n: number;
  d: number;
  nq: number;
  k: number;
  kprime: number;
  kernel: string;
  reps: number;
  conc: number;
  gpu_ms: number | null;
  /** Median search latency. */
  wall_ms: number;
  /** Elapsed time over searches: mean latency at conc 1, else ms a search at the measured throughput. */
  wall_mean_ms: number;
  rerank_ms: number;
  rerank_rows: number;
  rerank_threads: number;
  rerank_shared: boolean;
  profile: Record<string, number>;
  qps_wall: number;
  qps_gpu: number | null;
  recall_at_10: number;
  temp_mib: number;
  /** Same labels as the first variant at this nq (absent for the first). */
  agree?: boolean;
}
const firstLabels = new Map<number, (number | bigint)[]>();
const out: Row[] = [];
for (const spec of values.variants!.split(';').filter(Boolean)) {
  const [name, knobText = ''] = spec.split(':');
  Object.assign(int8GemvTuning, defaults.gemv);
  Object.assign(tensorTuning, defaults.tensor);
  Object.assign(kernelTuning, defaults.kernel);
  Object.assign(searchTuning, defaults.search);
  Object.assign(rerankTuning, defaults.rerank);
  Object.assign(mergeOneTuning, defaults.merge);
  opts.rerankDepth = undefined;
  opts.rerankSubBatch = undefined;
  opts.rerankThreadsMinPairs = undefined;
  opts.rerankBufferBytes = undefined;
  shard0.timer = timer;
  let list = nqs;
  let rt: number | undefined;
  let conc = 1;
  for (const kv of knobText.split(',').filter(Boolean)) {
    const [key, val = ''] = kv.split('=');
    const v = Number(val);
    if (key === 'gemv') int8GemvTuning.enabled = v !== 0;
    else if (key === 'maxb') int8GemvTuning.maxBatch = v;
    else if (key === 'qbits') int8GemvTuning.qbits = v as 8 | 16;
    else if (key === 'lanes') int8GemvTuning.lanes = v;
    else if (key === 'uw') int8GemvTuning.uw = v;
    else if (key === 'gt') int8GemvTuning.targetWorkgroups = v;
    else if (key === 'ru' || key === 'sp' || key === 'ci' || key === 'qr' || key === 'sgs' || key === 'share' || key === 'shareEvery' || key === 'shareOne') int8GemvTuning[key] = v;
    else if (key === 'm1ord') mergeOneTuning.order = v;
    else if (key === 'tensor') tensorTuning.enabled = v !== 0;
    else if (key === 'tkc') tensorTuning.kc = v;
    else if (key === 'tkcs') tensorTuning.kcSmall = v;
    else if (key === 'tws') tensorTuning.targetWorkgroupsSmall = v;
    else if (key === 'twb') tensorTuning.targetWorkgroups = v;
    else if (key === 'tbb') tensorTuning.bigBatch = v;
    else if (key === 'mfi') kernelTuning.mergeFanIn = v;
    else if (key === 'tsh') tensorTuning.share = v;
    else if (key === 'tshf') tensorTuning.shareFrom = v;
    else if (key === 'tpf') tensorTuning.prefetch = v !== 0;
    else if (key === 'twt') tensorTuning.targetWorkgroupsTiny = v;
    else if (key === 'tb16') tensorTuning.block16 = v !== 0;
    else if (key === 'tb16k') tensorTuning.block16MaxK = v;
    else if (key === 'tmin') tensorTuning.minBatch = v;
    else if (key === 'tq') tensorTuning.queries = v ? 'hold' : 'auto';
    else if (key === 'tins') tensorTuning.insert = v ? 'flat' : 'chain';
    else if (key === 'tl') tensorTuning.lists = v ? 'packed' : 'reg';
    else if (key === 'tsr') tensorTuning.selectRows = v;
    else if (key === 'trtm') tensorTuning.rowTilesMid = v;
    else if (key === 'tmid') tensorTuning.midBatch = v;
    else if (key === 'tinf') tensorTuning.insertFrom = v;
    else if (key === 'trt') tensorTuning.rowTiles = v;
    else if (key === 'trtb') tensorTuning.rowTilesBig = v;
    else if (key === 'target') kernelTuning.targetWorkgroups = v;
    else if (key === 'm1') kernelTuning.mergeOne = v;
    else if (key === 'm1fan') kernelTuning.mergeOneFan = v;
    else if (key === 'rb') searchTuning.readbackSlots = v;
    else if (key === 'bgc') searchTuning.cacheBinds = v;
    else if (key === 'depth') opts.rerankDepth = v;
    else if (key === 'sub') opts.rerankSubBatch = v;
    else if (key === 'rt') rt = v;
    else if (key === 'mp') opts.rerankThreadsMinPairs = v;
    else if (key === 'rd') rerankTuning.dispatch = v ? 'shared' : 'messages';
    else if (key === 'rc') rerankTuning.caller = v !== 0;
    else if (key === 'bpt') rerankTuning.blocksPerThread = v;
    else if (key === 'ppt') rerankTuning.pairsPerThread = v;
    else if (key === 'buf') opts.rerankBufferBytes = v;
    else if (key === 'ts') shard0.timer = v ? timer : undefined;
    else if (key === 'nq') list = val.split('/').map(Number);
    else if (key === 'conc') conc = v;
    else throw new Error(`unknown knob ${key} in variant ${spec}`);
  }
  if (rt !== opts.rerankThreads) {
    // The re-rank's module and workers are made once per index: start them afresh for this count.
    await (await inner.heap)?.workers?.release();
    inner.heap = undefined;
    opts.rerankThreads = rt;
  }
  for (const nq of list) {
    const q = queries.subarray(0, nq * d);
    try {
      const { wallMs: wall, meanMs, reps, last } = await timeSearches(() => index.search(q, k), {
        minMs,
        maxReps,
        conc,
        beforeTimed: () => {
          index.takeGpuMs();
          index.takeRerankStats();
          index.takeProfile();
        },
      });
      const gpuMs = timed && shard0.timer ? index.takeGpuMs() / reps : null;
      const profile = Object.fromEntries(Object.entries(index.takeProfile()).map(([key, v]) => [key, +(v / reps).toFixed(3)]));
      const rr = index.takeRerankStats();
      const kprime = index.gpuK(k);
      const sub = opts.rerankSubBatch ?? 512;
      const row: Row = {
        engine: 'tessera',
        precision: 'int8',
        variant: name!,
        n,
        d,
        nq,
        k,
        kprime,
        kernel: shard0.scorerFor(sub > 0 ? Math.min(nq, sub) : nq, kprime).key,
        reps,
        conc,
        gpu_ms: gpuMs === null ? null : +gpuMs.toFixed(3),
        wall_ms: +wall.toFixed(3),
        wall_mean_ms: +meanMs.toFixed(3),
        rerank_ms: +(rr.ms / reps).toFixed(3),
        rerank_rows: Math.round(rr.rows / reps),
        rerank_threads: (await (inner.heap as Promise<{ workers?: { size: number } }> | undefined))?.workers?.size ?? 0,
        rerank_shared: (await (inner.heap as Promise<{ workers?: { shared: boolean } }> | undefined))?.workers?.shared ?? false,
        profile,
        qps_wall: +((nq / meanMs) * 1e3).toFixed(1),
        qps_gpu: gpuMs ? +((nq / gpuMs) * 1e3).toFixed(1) : null,
        recall_at_10: +recall(last, nq).toFixed(4),
        temp_mib: +(shard0.tempBytes / 2 ** 20).toFixed(1),
      };
      // Labels against the first variant's at this nq (the same candidates re-ranked the same way).
      const first = firstLabels.get(nq);
      if (first) row.agree = first.length === last.labels.length && first.every((x, i) => x === last.labels[i]);
      else firstLabels.set(nq, Array.from(last.labels));
      out.push(row);
      console.log(JSON.stringify(row));
    } catch (e) {
      console.log(JSON.stringify({ engine: 'tessera', variant: name, n, nq, error: (e as Error).message }));
    }
  }
  console.error(`[${since()} s] variant ${name} done`);
}
await index.dispose();

console.log(`\nvariant        n    nq c  k'   gpu ms  wall med  mean  rerank  recall  submit gpuwait  ids rr_setup rr_score rr_out | prep  enc  sub   map unpack`);
const f = (v: number | undefined, w: number) => (v === undefined ? '-' : v.toFixed(2)).padStart(w);
for (const r of out) {
  const p = r.profile;
  console.log(
    `${r.variant.padEnd(10)} ${String(r.n).padStart(9)} ${String(r.nq).padStart(5)} ${r.conc} ${String(r.kprime).padStart(3)} ${(r.gpu_ms ?? NaN).toFixed(3).padStart(8)} ${r.wall_ms.toFixed(2).padStart(8)} ${r.wall_mean_ms.toFixed(2).padStart(5)} ${r.rerank_ms.toFixed(2).padStart(7)}  ${r.recall_at_10.toFixed(4)}` +
      ` ${f(p.submit, 6)} ${f(p.gpu_wait, 7)} ${f(p.ids, 4)} ${f(p.rerank_setup, 7)} ${f(p.rerank_score, 7)} ${f(p.rerank_out, 6)} |` +
      ` ${f(p.shard_prep, 4)} ${f(p.shard_encode, 4)} ${f(p.shard_submit, 4)} ${f(p.shard_map, 5)} ${f(p.shard_unpack, 5)}${r.agree === undefined ? '' : r.agree ? ' =' : ' DIFF'}`,
  );
}
if (values.json) writeFileSync(values.json, JSON.stringify(out, null, 1));
