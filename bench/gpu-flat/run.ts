/**
 * bench/gpu-flat: exact flat search on the GPU at N in {1M, 21M} x d=768, nq in {1..1024}, k=10,
 * for each storage precision, with GPU timestamps and wall time. Base rows are generated on the GPU
 * (shaders/fill_random.wgsl) so tens of GB need no upload. Prints one JSON line per case and a
 * table at the end. Bundled into one file for the device machine, with the WGSL text the package
 * ships (calls up to h13 used esbuild's plain text loader, which keeps the shaders' comments):
 *   node bench/device-bundle.mjs bench/gpu-flat/run.ts out/device-gpu/gpu-flat.mjs
 *   node out/device-gpu/gpu-flat.mjs --n 1000000 --nq 1,16,64,256,1024 --precisions f32,f16,int8
 * --ceilings 1 measures the device's fp32 FMA rate (and f16's, with shader-f16), read and copy bandwidth first (bench/gpu-flat/ceilings.ts).
 * --variants 'a:big=4x8,kc=4;b:big=8x8,target=4096' times each kernel variant (kernelTuning knobs:
 *   big, bigF32, bigF32L, midF32, swz, nosel, kc, ru, uw, hru, huw, chain, target = targetWorkgroups, gt = gemmTarget,
 *   gtl = gemmTargetL, hgt = gemmTargetF16, fan = mergeFanIn, gemvTiles / gemvMultiTiles / int8GemvTiles; flat_gemv_multi: gemvMulti, gemvMultiFrom, mq4, h4uw, h4target, mfma, mq16, mqx, h16split, m16split, meven, mqw,
 *   mru, muw, hmru, hmuw, hqp, mpart, mlpr, hlpr, h16ru, msp, mci, mtarget; the tensor scorer's tensorTuning: tf16 = f16 on / off,
 *   tf16min = f16MinBatch, tf16mu = f16MultiUpTo, tf16rt = f16RowTiles, trtb = rowTilesBig, tensor = enabled, tf32 = f32 on / off,
 *   tf32min / tf32rt / tf32w / tf32wf = f32MinBatch / f32RowTiles / f32Warps / f32WarpsFrom, twb / tws / twt =
 *   targetWorkgroups / targetWorkgroupsSmall / targetWorkgroupsTiny, tf16c = f16Codes, tpfd = prefetchDepth,
 *   tpft = prefetchTiles, tf16s = f16Split, tf16pfd / tf16pft = f16PrefetchDepth / f16PrefetchTiles; the f16 two-pass scan:
 *   tf16scan = f16Scan on / off, tf16sw / tf16sqc / tf16sd / tf16sa / tf16smin / tf16smax = f16ScanWorkgroups / f16ScanQueryChunk /
 *   f16ScanSampleDiv / f16ScanAhead / f16ScanMinBatch / f16ScanMaxBatch; tf16swp / tf16sds / tf16ssw / tf16sg / tf16sgm / tf16sst / tf16sss / tf16sdl / tf16srh / tf16ssr / tf16sgw = f16ScanWarps /
 *   f16ScanDoubleStage / f16ScanSampleWorkgroups / f16ScanGroup / f16ScanGroupMinBatch / f16ScanSampleTiles / f16ScanSampleSplit / f16ScanDirectList / f16ScanRadixHeld / f16ScanSampleRun / f16ScanGroupWorkgroups) at every case; rows
 *   carry `variant`. H200 run 3's sweep: out/device-gpu2/run.sh, kept as results/h200-2026-12-03/run3/run.sh.
 * --toggles a,b opens Dawn with those toggles (enable-dawn-features=a,b), e.g. disable_robustness (which the
 *   index is then told: IndexOptions.disableRobustness, so f16TwoPass defaults on).
 * --digit-planes 0|1 sets IndexOptions.digitPlanes (0: f16 at exactly half of f32's memory, no code plane).
 * --step-times 1 times each dispatch in a compute pass of its own (GpuFlatIndex.enableStepTimestamps):
 *   rows carry step_ms, GPU ms a search by pipeline label.
 * --in-flight N keeps N searches running at once while timing (default 1): the GPU stays fed between
 *   searches, as torch's back-to-back repetitions keep it (rows carry in_flight where N > 1).
 * --fresh-scratch 1 frees the shards' batch scratch before each variant (FlatShard.dropScratch): each
 *   variant allocates its own, to see whether a timing follows where the scratch lands in memory.
 * --warm-ms W searches untimed for W ms before each case's timed searches; the first case after each
 *   fill for at least --first-warm-ms (default 1000), whose clocks are otherwise still low.
 * --experimental 1 opens the devices with allowExperimental (Dawn's allow_unsafe_apis): the
 *   tensor-core scorer then takes int8 batches, and f16 ones from tensorTuning.f16MinBatch queries.
 * --oracle-queries Q checks the first Q queries of every case against a float64 scan of all rows
 *   on the host (exact ids for f32 up to ties, recall for f16/int8).
 */
import { parseArgs } from 'node:util';
import { writeFileSync } from 'node:fs';
import '../../src/node.js';
import { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import { kernelTuning, targetsBeyondPlan } from '../../src/gpu/flat-shard.js';
import { tensorTuning } from '../../src/gpu/tensor/hook.js';
import { measureCeilings } from './ceilings.js';
import { loadDawnGpu } from '../../src/gpu/dawn.js';
import { EXPERIMENTAL_TOGGLES } from '../../src/gpu/device.js';
import type { SearchResult } from '../../src/core/types.js';
import { syntheticQueries, syntheticRow } from './synthetic.js';
import { repeatSearch } from './repeat.js';
import { writeFlatIndex } from '../../src/io/faiss/flat.js';
import { readIndex } from '../../src/io/read-index.js';
import { rmSync } from 'node:fs';
import { join } from 'node:path';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '1000000' },
    d: { type: 'string', default: '768' },
    nq: { type: 'string', default: '1,16,64,256,1024' },
    k: { type: 'string', default: '10' },
    precisions: { type: 'string', default: 'f32,f16,int8' },
    'min-ms': { type: 'string', default: '1500' },
    'max-reps': { type: 'string', default: '20' },
    // Untimed searches before each case's timed ones (ms; bench/gpu-flat/repeat.ts).
    'warm-ms': { type: 'string', default: '0' },
    // The first case after each fill warms at least this long (ms): after the 64 GB fill and the
    // host's row check, --warm-ms 200 left the first f32 search over 21M at 26.61 ms against 21.50
    // warm (H100 h68: the clocks still low).
    'first-warm-ms': { type: 'string', default: '1000' },
    json: { type: 'string' },
    'check-rows': { type: 'string', default: '0' },
    'load-rows': { type: 'string', default: '0' },
    'load-dir': { type: 'string', default: '/dev/shm' },
    'rerank-factors': { type: 'string', default: '4' },
    // f16 on the tensor cores: k' = factor x k for each factor listed (empty: the index's default).
    'f16-rerank-factors': { type: 'string', default: '' },
    ceilings: { type: 'string', default: '0' },
    variants: { type: 'string', default: '' },
    'oracle-queries': { type: 'string', default: '0' },
    // Dawn toggles for the devices of this run, comma-separated (e.g. disable_robustness): the
    // index gets a GPU object created with them (enable-dawn-features=...).
    toggles: { type: 'string', default: '' },
    experimental: { type: 'string', default: '0' },
    // 1: each dispatch in a compute pass of its own, timed (rows carry step_ms by pipeline label).
    'step-times': { type: 'string', default: '0' },
    // Searches kept running at once while timing (bench/gpu-flat/repeat.ts): 2 keeps the GPU fed
    // between a 1M search's host work, whose idle gaps let its clocks fall (H100 call h92).
    'in-flight': { type: 'string', default: '1' },
    // 1: the shards' batch scratch (queries, candidates, the two-pass buffer) freed before each
    // variant, so each allocates its own (does a timing follow where the scratch lands?).
    'fresh-scratch': { type: 'string', default: '0' },
    // IndexOptions.digitPlanes: 0 leaves them out (f16 at exactly half of f32's memory), 1 asks for them; '' the default.
    'digit-planes': { type: 'string', default: '' },
    // The GPU memory the planner is told (GiB; IndexOptions.gpuMemory), e.g. 79.6 for an 80 GB H100's
    // plan on a larger card: which digit planes fit. 0: the adapter's own.
    'gpu-memory': { type: 'string', default: '0' },
    // Tiles smaller than the binding limit (GiB; 0: the limit): more dispatches a search, to weigh what each costs.
    'max-tile-gib': { type: 'string', default: '0' },
    // Dawn devices opened on the adapter (IndexOptions.devicesPerGpu): one shard each, searched
    // concurrently and merged on the host (the multi-adapter path on one GPU).
    'devices-per-gpu': { type: 'string', default: '1' },
    // 1: time index.warmUp(k) once, with the first variant's knobs, before the searches (a JSON line
    // with warm_up_ms and the pipelines compiled); run one variant a process to compare variants.
    'warm-up': { type: 'string', default: '0' },
  },
});
const d = Number(values.d);
const k = Number(values.k);
const nqs = values.nq!.split(',').map(Number);
const minMs = Number(values['min-ms']);
const maxReps = Number(values['max-reps']);
const inFlight = Number(values['in-flight']);
if (!Number.isInteger(inFlight) || inFlight < 1) throw new Error(`--in-flight ${values['in-flight']}: searches kept running at once, a whole number from 1`);
const SEED = 12345;

interface Row {
  engine: 'tessera';
  precision: string;
  n: number;
  d: number;
  nq: number;
  k: number;
  reps: number;
  wall_ms: number;
  gpu_ms: number | null;
  qps_wall: number;
  qps_gpu: number | null;
  recall_vs_f32?: number;
  rerank_factor?: number;
  base_gib: number;
  temp_gib: number;
  fill_s: number;
  first_ms: number;
  /** Untimed searches' time before the timed ones (--warm-ms, or --first-warm-ms for a fill's first case). */
  warm_ms: number;
  variant?: string;
  oracle_ok?: string;
  ids_as_first?: string;
  dist_gap_vs_first?: number;
  oracle_recall?: number;
  gpu_k?: number;
  uncertified?: number;
  scorer?: string;
  step_ms?: Record<string, number>;
  toggles?: string;
  digits_refused?: string;
  digits_cut?: string;
  digit_gib_made?: number;
  f16_native?: boolean;
  /** Shards (devices) the rows are split over. */
  shards: number;
  /** Host milliseconds a search by phase (GpuFlatIndex.takeProfile: submit, gpu_wait, ids = id conversion and the shards' merge). */
  host_ms: Record<string, number>;
}
const rows: Row[] = [];
const exact = new Map<string, SearchResult>();
const firstLists = new Map<string, SearchResult>();

function recall(got: SearchResult, want: SearchResult): number {
  let hit = 0;
  for (let q = 0; q < want.nq; q++) {
    const truth = new Set<bigint>(Array.from(want.labels.subarray(q * want.k, (q + 1) * want.k)));
    for (let j = 0; j < got.k; j++) if (truth.has(got.labels[q * got.k + j]!)) hit++;
  }
  return hit / (want.nq * want.k);
}

const experimental = values.experimental === '1';
const toggles = [...(experimental ? EXPERIMENTAL_TOGGLES : []), ...values.toggles!.split(',').filter(Boolean)];
// Dawn rounds GPU timestamps to 65.5 us steps unless told not to (a privacy guard for browsers):
// at nq = 1 that step is ~8% of a 1M search, so the bench always lifts it.
const unquantised = 'disable-dawn-features=timestamp_quantization';
const gpu = await loadDawnGpu(toggles.length ? [`enable-dawn-features=${toggles.join(',')}`, unquantised] : [unquantised]);
const adapter = await gpu!.requestAdapter({ powerPreference: 'high-performance' });
console.error(`adapter: ${JSON.stringify(adapter?.info)} maxBinding=${adapter?.limits.maxStorageBufferBindingSize} wgStorage=${adapter?.limits.maxComputeWorkgroupStorageSize} features=${[...(adapter?.features ?? [])].join(',')}`);

interface Variant { name: string; knobs: Partial<typeof kernelTuning>; tensor: Partial<typeof tensorTuning> }
const defaults = { ...kernelTuning };
const tensorDefaults = { ...tensorTuning };
/** Variant keys for the tensor scorer's knobs. */
const TENSOR_KNOBS: Record<string, keyof typeof tensorTuning> = { tf16: 'f16', tf16min: 'f16MinBatch', tf16mu: 'f16MultiUpTo', tf16rt: 'f16RowTiles', trtb: 'rowTilesBig', tensor: 'enabled', tf32: 'f32', tf32min: 'f32MinBatch', tf32rt: 'f32RowTiles', tf32rtb: 'f32RowTilesBig', tf32rtf: 'f32RowTilesFrom', tf32w: 'f32Warps', tf32wf: 'f32WarpsFrom', tf16c: 'f16Codes', tf16cmin: 'f16CodesMinBatch', tf16crt: 'f16CodesRowTiles', tf16h: 'f16Half', tf16hf: 'f16HalfFirst', tf16hmin: 'f16HalfMinBatch', tf16hrt: 'f16HalfRowTiles', tkcs: 'kcSmall', trt: 'rowTiles', twb: 'targetWorkgroups', tws: 'targetWorkgroupsSmall', twt: 'targetWorkgroupsTiny', tpfd: 'prefetchDepth', tpft: 'prefetchTiles', tf16s: 'f16Split', tf16pfd: 'f16PrefetchDepth', tf16pft: 'f16PrefetchTiles', tf16scan: 'f16Scan', tf16sw: 'f16ScanWorkgroups', tf16sqc: 'f16ScanQueryChunk', tf16sd: 'f16ScanSampleDiv', tf16sa: 'f16ScanAhead', tf16smax: 'f16ScanMaxBatch', tf16smin: 'f16ScanMinBatch', tf16swp: 'f16ScanWarps', tf16sds: 'f16ScanDoubleStage', tf16ssw: 'f16ScanSampleWorkgroups', tf16sg: 'f16ScanGroup', tf16sgm: 'f16ScanGroupMinBatch', tf16sst: 'f16ScanSampleTiles', tf16sss: 'f16ScanSampleSplit', tf16sdl: 'f16ScanDirectList', tf16srh: 'f16ScanRadixHeld', tf16ssr: 'f16ScanSampleRun', tf16sgw: 'f16ScanGroupWorkgroups' };
const variants: Variant[] = values.variants
  ? values.variants.split(';').map((v) => {
      const [name, spec = ''] = v.split(':');
      const knobs: Record<string, unknown> = {};
      const tensor: Record<string, unknown> = {};
      for (const kv of spec.split(',').filter(Boolean)) {
        const [key, val] = kv.split('=');
        const t = TENSOR_KNOBS[key!];
        if (t) {
          tensor[t] = typeof tensorTuning[t] === 'boolean' ? val !== '0' : Number(val);
          continue;
        }
        const field = key === 'target' ? 'targetWorkgroups' : key === 'gt' ? 'gemmTarget' : key === 'gtl' ? 'gemmTargetL' : key === 'hgt' ? 'gemmTargetF16' : key === 'fan' ? 'mergeFanIn' : key!;
        // A knob that is not (or no longer) in kernelTuning would be set and silently ignored.
        if (!(field in kernelTuning)) throw new Error(`unknown knob ${key} in variant ${name}`);
        knobs[field] = ['big', 'bigF32', 'bigF32L', 'midF32', 'midBF32', 'midBF32L', 'midF16L'].includes(field) ? val : Number(val);
      }
      return { name: name!, knobs: knobs as Partial<typeof kernelTuning>, tensor: tensor as Partial<typeof tensorTuning> };
    })
  : [{ name: 'default', knobs: {}, tensor: {} }];
// The index's plan counts kernelTuning's default targets and is not made again per variant: a
// variant aiming for more workgroups keeps to the plan's candidate bytes, so runs fewer lists than it asks.
for (const v of variants) {
  const over = targetsBeyondPlan({ ...kernelTuning, ...v.knobs });
  if (over.length) console.error(`warning: variant ${v.name}: ${over.join(', ')}, beyond the targets the plan counts (src/core/planner.ts BUILTIN_TARGETS): its batches keep to the plan's temporary bytes, so where those are below the scratch budget (small indexes) they take fewer candidate lists a query than the target and time something else; raise BUILTIN_TARGETS with it to time it as asked`);
}

if (Number(values.ceilings) > 0) {
  const dev = await adapter!.requestDevice({ requiredFeatures: ['timestamp-query', ...(adapter!.features.has('shader-f16') ? (['shader-f16'] as const) : [])], requiredLimits: { maxStorageBufferBindingSize: adapter!.limits.maxStorageBufferBindingSize, maxBufferSize: adapter!.limits.maxBufferSize } });
  const c = await measureCeilings(dev, Number(values.ceilings));
  console.log(JSON.stringify({ engine: 'tessera', case: 'ceilings', ...c }));
  dev.destroy();
}

// float64 top-k of the first oq queries over all n generated rows (host), once per n.
const oq = Number(values['oracle-queries']);
function oracle(n: number, q: Float32Array, nq: number): bigint[][] {
  const best: { s: number; id: number }[][] = Array.from({ length: nq }, () => []);
  const row = new Float32Array(d);
  for (let id = 0; id < n; id++) {
    syntheticRow(SEED, id, d, row);
    for (let i = 0; i < nq; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += row[j]! * q[i * d + j]!;
      const b = best[i]!;
      if (b.length < k || s > b[b.length - 1]!.s) {
        b.push({ s, id });
        b.sort((x, y) => y.s - x.s || x.id - y.id);
        if (b.length > k) b.pop();
      }
    }
  }
  return best.map((b) => b.map((x) => BigInt(x.id)));
}

for (const n of values.n!.split(',').map(Number)) {
  let truth: bigint[][] | undefined;
  if (oq > 0) {
    const t0 = performance.now();
    truth = oracle(n, syntheticQueries(oq, d, 777), oq);
    console.error(`float64 oracle of ${oq} queries over ${n} rows: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  for (const precision of values.precisions!.split(',') as ('f32' | 'f16' | 'int8')[]) {
    const gpuMemory = Number(values['gpu-memory']) > 0 ? Number(values['gpu-memory']) * 2 ** 30 : undefined;
    const devicesPerGpu = Number(values['devices-per-gpu']);
    // The plan (digit planes, code plane) follows the knobs at creation: the defaults, not the
    // previous precision's last variant (an f16 index made after f32's tf16c=0 had no code plane).
    Object.assign(kernelTuning, defaults);
    Object.assign(tensorTuning, tensorDefaults);
    const maxTileBytes = Number(values['max-tile-gib']) > 0 ? Math.floor(Number(values['max-tile-gib']) * 2 ** 30) : undefined;
    // disableRobustness states what the toggles did to the GPU object (it turns IndexOptions.f16TwoPass on by default).
    const planes = values['digit-planes'] === '' ? {} : { digitPlanes: values['digit-planes'] === '1' };
    const index = await GpuFlatIndex.create(d, 'ip', { precision, gpu: gpu!, allowExperimental: experimental, disableRobustness: toggles.includes('disable_robustness'), devicesPerGpu, ...planes, ...(gpuMemory ? { gpuMemory } : {}), ...(maxTileBytes ? { maxTileBytes } : {}) });
    try {
      const t0 = performance.now();
      // Synthetic rows are uniform in [-1, 1) scaled to unit norm (norm^2 ~ d/3 before scaling), so
      // |x_j| <= ~sqrt(3/d): the int8 codes span that range (the shader clamps the rare excess).
      await index.addGenerated(n, SEED, (id, out) => syntheticRow(SEED, id, d, out), Math.sqrt(3 / d) * 1.05);
      const fillS = (performance.now() - t0) / 1000;
      const timed = index.enableTimestamps();
      const stepTimes = values['step-times'] === '1' && index.enableStepTimestamps();
      const plan = index.plan!;
      const checkRows = Number(values['check-rows']);
      if (checkRows > 0 && precision === 'f32') {
        // The GPU generator and its host mirror agree: search a few generated rows for themselves.
        const q = new Float32Array(checkRows * d);
        const row = new Float32Array(d);
        for (let i = 0; i < checkRows; i++) {
          syntheticRow(SEED, Math.floor((i * n) / checkRows), d, row);
          q.set(row, i * d);
        }
        const r = await index.search(q, 1);
        const ok = Array.from({ length: checkRows }, (_, i) => Number(r.labels[i]) === Math.floor((i * n) / checkRows)).filter(Boolean).length;
        console.error(`self-search check: ${ok}/${checkRows} generated rows find themselves`);
      }
      if (values['warm-up'] === '1') {
        Object.assign(kernelTuning, defaults, variants[0]!.knobs);
        Object.assign(tensorTuning, tensorDefaults, variants[0]!.tensor);
        const pipelines = () => (index as unknown as { shards: { pipelineCount: number }[] }).shards.reduce((s, x) => s + x.pipelineCount, 0);
        const before = pipelines();
        const t0 = performance.now();
        index.warmUp(k);
        console.log(JSON.stringify({ engine: 'tessera', warm_up_ms: +(performance.now() - t0).toFixed(1), pipelines: pipelines() - before, precision, n, d, k, variant: variants[0]!.name }));
      }
      const factors = precision === 'int8' ? values['rerank-factors']!.split(',').map(Number) : precision === 'f16' && values['f16-rerank-factors'] ? values['f16-rerank-factors'].split(',').map(Number) : [0];
      let firstWarmMs = Number(values['first-warm-ms']);
      for (const factor of factors)
      for (const nq of nqs)
      for (const variant of variants) {
        Object.assign(kernelTuning, defaults, variant.knobs);
        Object.assign(tensorTuning, tensorDefaults, variant.tensor);
        if (values['fresh-scratch'] === '1') for (const shard of (index as unknown as { shards: { dropScratch(): void }[] }).shards) shard.dropScratch();
        // int8: candidates re-ranked exactly per query = max(k + 16, factor * k) (the index option).
        if (factor) (index as unknown as { opts: { rerankFactor?: number } }).opts.rerankFactor = factor;
        const q = syntheticQueries(nq, d, 777);
        const uncertified = () => (index as unknown as { shards: { uncertifiedQueries: number }[] }).shards.reduce((sum, s) => sum + s.uncertifiedQueries, 0);
        const uncertifiedBefore = uncertified();
        const warmMs = Math.max(Number(values['warm-ms']), firstWarmMs);
        firstWarmMs = 0;
        const { firstMs, wallMs: wall, reps, last } = await repeatSearch(() => index.search(q, k), { minMs, maxReps, warmMs, inFlight, beforeTimed: () => {
          index.takeGpuMs();
          index.takeProfile();
          if (stepTimes) index.takeStepMs();
        } });
        const gpuMs = timed ? index.takeGpuMs() / reps : null;
        // --step-times: GPU ms a search of each dispatch, by pipeline label.
        const stepMs = stepTimes ? Object.fromEntries(Object.entries(index.takeStepMs()).map(([label, ms]) => [label, +(ms / reps).toFixed(4)])) : undefined;
        const hostMs = Object.fromEntries(Object.entries(index.takeProfile()).map(([phase, ms]) => [phase, +(ms / reps).toFixed(3)]));
        const key = `${n}:${nq}:${variant.name}`;
        if (precision === 'f32') exact.set(key, last);
        const row: Row = {
          engine: 'tessera',
          precision,
          n,
          d,
          nq,
          k,
          reps,
          wall_ms: +wall.toFixed(3),
          gpu_ms: gpuMs === null ? null : +gpuMs.toFixed(3),
          qps_wall: +((nq / wall) * 1e3).toFixed(1),
          qps_gpu: gpuMs ? +((nq / gpuMs) * 1e3).toFixed(1) : null,
          base_gib: +(plan.shards.reduce((s, x) => s + x.baseBytes, 0) / 2 ** 30).toFixed(3),
          // What the shards really hold for the search (queries, candidate lists, readback, uniforms).
          temp_gib: +(Math.max(...(index as unknown as { shards: { tempBytes: number }[] }).shards.map((s) => s.tempBytes)) / 2 ** 30).toFixed(4),
          fill_s: +fillS.toFixed(2),
          // The warm-up search: the first of a variant, so it includes compiling its pipelines.
          first_ms: +firstMs.toFixed(1),
          warm_ms: warmMs,
          shards: plan.shards.length,
          host_ms: hostMs,
        };
        if (factor) row.rerank_factor = factor;
        // Candidates the GPU selected a query (int8 and tensor-core f16: k' re-ranked exactly).
        row.gpu_k = index.gpuK(k, nq);
        // Queries searched again by the exact kernels, over every search of the variant: f32 lists the
        // tensor cores could not certify; f16 two-pass queries whose candidates overflowed.
        if (precision === 'f32' || precision === 'f16') row.uncertified = uncertified() - uncertifiedBefore;
        // The first shard's scorer for the batch (which route ran).
        row.scorer = (index as unknown as { shards: { scorerFor(nq: number, k: number): { key: string } }[] }).shards[0]!.scorerFor(nq, index.gpuK(k, nq)).key;
        if (stepMs) row.step_ms = stepMs;
        if (inFlight > 1) Object.assign(row, { in_flight: inFlight });
        // Digit planes planned: bytes and tiles with them, of all tiles (partial where memory holds only some).
        Object.assign(row, { tiles: plan.shards.reduce((s, x) => s + x.tiles.length, 0) });
        if (plan.digits) Object.assign(row, { digit_gib: +(plan.shards.reduce((s, x) => s + x.digitBytes, 0) / 2 ** 30).toFixed(3), digit_tiles: plan.shards.reduce((s, x) => s + x.digitTiles, 0) });
        // Planes planned but not allocated (OUT_OF_MEMORY at the first tensor search): the rows then ran without them.
        if (index.digitsRefused) row.digits_refused = index.digitsRefused.slice(0, 300);
        // Planes kept for only the first tiles (the rest failed to allocate): what the searches had.
        if (index.digitsCut) Object.assign(row, { digits_cut: index.digitsCut.slice(0, 300), digit_gib_made: +((index as unknown as { shards: { digitBytes: number }[] }).shards.reduce((s, x) => s + x.digitBytes, 0) / 2 ** 30).toFixed(3) });
        if (toggles.length) row.toggles = toggles.join(',');
        if (precision === 'f16') row.f16_native = (index as unknown as { shards: { ctx: { hasF16: boolean } }[] }).shards[0]!.ctx.hasF16;
        if (values.variants) row.variant = variant.name;
        if (truth) {
          // Ids of the first queries against the float64 oracle: f32 must match up to ties (a
          // differing id must score within 1e-6 of the oracle's k-th), f16/int8 report recall.
          let same = 0;
          let hits = 0;
          const m = Math.min(oq, nq);
          for (let i = 0; i < m; i++) {
            const want = truth[i]!;
            const got = Array.from(last.labels.subarray(i * k, (i + 1) * k));
            if (got.every((g, j) => g === want[j])) same++;
            hits += got.filter((g) => want.includes(g)).length;
          }
          row.oracle_ok = `${same}/${m}`;
          row.oracle_recall = +(hits / (m * k)).toFixed(4);
        }
        if (precision !== 'f32' && exact.has(key)) row.recall_vs_f32 = +recall(last, exact.get(key)!).toFixed(4);
        // Every query's list against the first variant's (same rows, queries, precision): exact
        // kernels give the same ids; ids_as_first counts the queries whose k ids are equal in order.
        const firstKey = `${precision}:${n}:${nq}`;
        if (values.variants) {
          const first = firstLists.get(firstKey);
          if (!first) firstLists.set(firstKey, last);
          else {
            let same = 0;
            for (let i = 0; i < nq; i++) {
              let eq = true;
              for (let j = 0; j < k; j++) if (last.labels[i * k + j] !== first.labels[i * k + j]) eq = false;
              if (eq) same++;
            }
            row.ids_as_first = `${same}/${nq}`;
            // Where ids differ: the largest gap between the two lists' j-th distances, relative to
            // the query's best. Lists equal up to ties (rows whose scores round differently) give
            // float32 rounding here; a row one list missed would give its gap to the next.
            let gap = 0;
            for (let i = 0; i < nq * k; i++) gap = Math.max(gap, Math.abs(last.distances[i]! - first.distances[i]!) / Math.max(1e-30, Math.abs(first.distances[Math.floor(i / k) * k]!)));
            row.dist_gap_vs_first = Number(gap.toExponential(2));
          }
        }
        rows.push(row);
        console.log(JSON.stringify(row));
      }
    } finally {
      await index.dispose();
    }
  }
}

// Streaming load: a FAISS IndexFlatIP file (written here, random rows) read into GPU tiles.
const loadRows = Number(values['load-rows']);
if (loadRows > 0) {
  const file = join(values['load-dir']!, `tessera-bench-${process.pid}.index`);
  try {
    let seed = 1;
    const chunkRows = 1 << 14;
    async function* chunks(): AsyncGenerator<Float32Array> {
      for (let r = 0; r < loadRows; r += chunkRows) {
        const x = new Float32Array(Math.min(chunkRows, loadRows - r) * d);
        for (let i = 0; i < x.length; i++) {
          seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
          x[i] = seed / 2 ** 31 - 1;
        }
        yield x;
      }
    }
    const tw = performance.now();
    await writeFlatIndex(file, d, 'ip', loadRows, chunks());
    const writeS = (performance.now() - tw) / 1000;
    let events = 0;
    const index = (await readIndex(file, { backend: 'gpu', precision: 'f32', onProgress: () => void events++ })) as GpuFlatIndex;
    const st = index.loadStats!;
    const r = await index.search(syntheticQueries(4, d, 1), 10);
    const line = { engine: 'tessera', case: 'load', file_gb: +(st.bytes / 1e9).toFixed(3), write_s: +writeS.toFixed(2), load_s: +st.seconds.toFixed(2), load_gbps: +st.gbPerSecond.toFixed(2), progress_events: events, first_label: Number(r.labels[0]) };
    console.log(JSON.stringify(line));
    await index.dispose();
  } finally {
    rmSync(file, { force: true });
  }
}

console.log('\nprecision        n  nq   wall ms    gpu ms   QPS(gpu)  recall  k\'/k  variant  oracle');
for (const r of rows) {
  console.log(
    `${r.precision.padEnd(5)} ${String(r.n).padStart(10)} ${String(r.nq).padStart(4)} ${r.wall_ms.toFixed(2).padStart(9)} ${(r.gpu_ms ?? NaN).toFixed(2).padStart(9)} ${String(r.qps_gpu ?? r.qps_wall).padStart(10)}  ${r.recall_vs_f32 ?? ''}  ${r.rerank_factor ?? ''}  ${r.variant ?? ''}  ${r.oracle_ok ?? ''} ${r.oracle_recall ?? ''} ${r.toggles ?? ''}`,
  );
}
if (values.json) writeFileSync(values.json, JSON.stringify(rows, null, 1));
