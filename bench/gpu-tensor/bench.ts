/**
 * Device benchmark of the int8 tensor-core scorer (src/gpu/tensor) beside PyTorch on the same GPU.
 *
 *   node out/device-tensor/bench.mjs --n 1000000 --d 768 --nq 1,16,64,256,1024 --k 10 --kp 32,64 \
 *        --torch .device/torch_flat_baseline.py [--n21 21015324] --out $OUT
 *
 * Phase 1M: float32 rows made on the host (uniform, L2-normalised), written to /dev/shm so that
 * torch_flat_baseline.py times fp32/fp16 on the very same data and writes the exact fp32 top-k
 * (ground truth). The rows are SQ8-encoded, queries quantised per query; the kernel's candidate
 * keys are checked bit-exactly against CPU integer dots (all rows, the first queries), every layout
 * against the first, and recall@k after exact f32 re-rank against torch's fp32 ids.
 * Phase 21M: codes made on the GPU by a hash (no 64 GB host copy), timing only, with the returned
 * keys recomputed on the CPU from the same hash; torch runs its own synthetic data (--chunk 4194304).
 * Prints JSON lines while running and a table last; writes tensor.json under --out.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { create } from 'webgpu';
import { BufferUsage, MapMode } from '../../src/gpu/device.js';
import { chooseKernel, type KernelChoice, type LayoutName, layoutFor, matrixConfigsOf, UNSAFE_APIS_FLAG } from '../../src/gpu/tensor/choose.js';
import { detectMatrixSyntax, Int8TensorScorer, rerankExact } from '../../src/gpu/tensor/int8-scorer.js';
import { DEFAULT_QUIRK, type MatrixQuirk, type MatrixSyntax, type StageOptions } from '../../src/gpu/tensor/kernel-source.js';
import { keyOf, paddedDim, quantizeQueries, type SqParams } from '../../src/gpu/tensor/quantize.js';
import { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import { tensorTuning } from '../../src/gpu/tensor/hook.js';

const args = new Map<string, string>();
for (let i = 2; i < process.argv.length; i += 2) args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1] ?? '');
const N = Number(args.get('n') ?? 1_000_000);
const D = Number(args.get('d') ?? 768);
const NQS = (args.get('nq') ?? '1,16,64,256,1024').split(',').map(Number);
const K = Number(args.get('k') ?? 10);
const KPS = (args.get('kp') ?? '32,64').split(',').map(Number);
const TORCH = args.get('torch');
const N21 = Number(args.get('n21') ?? 0);
const OUT = args.get('out') ?? 'out';
const CHECKQ = Number(args.get('check-queries') ?? 2);
const LAYOUTS = (args.get('layouts') ?? 'single,mid,large,xl').split(',') as LayoutName[];
const SKIP1M = args.get('skip-1m') === '1';
/** GpuFlatIndex int8 at N (1M phase): the tensor scorer through the flat index vs the built-in kernels. */
const FLAT = args.get('flat') === '1';
/**
 * Index modes, in order: 'pre' = tensor scorer, query mode 'pre', defaults otherwise; 'pre@2048/r4'
 * = 2048 workgroups a tile, 64-row tiles; 'whole@512/r4' = run 3's configuration; '/k26' = 26
 * candidates re-ranked a query; '/m' = mask selection, '/p' = prefetch (each left out: 'row' / off,
 * as in run 5, not the tuning's default); '/c32' = 32-dim chunks; '/w2' = 2 warps a workgroup
 * (tensorTuning.warps; default 1), '/b' with it: each warp's matrix code in its own sid branch
 * (tensorTuning.warpBranch); '/l' = the lists in workgroup memory (tensorTuning.lists 'wg'); '/n8' =
 * the M16 N8 K32 config (tensorTuning.matrixN 8); 'built-in' = the index's own kernels.
 */
const FLAT_MODES = (args.get('flat-modes') ?? 'pre,whole@512,built-in').split(',');
/** Dawn toggle sets (';' between sets) for a further index each, timed with FLAT_TOGGLE_MODES. */
const FLAT_TOGGLE_SETS = (args.get('flat-toggle-sets') ?? '').split(';').filter(Boolean);
const FLAT_TOGGLE_MODES = (args.get('flat-toggle-modes') ?? 'pre').split(',');
/** Batch sizes of the index phase (default: --nq); torch ratios where torch ran the same nq. */
const FLAT_NQS = (args.get('flat-nq') ?? '').split(',').filter(Boolean).map(Number);
const DOT4 = args.get('dot4') !== '0';
const TARGETS = (args.get('targets') ?? '2048').split(',').map(Number);
const TARGET = TARGETS[0]!;
const TOGGLES = (args.get('toggles') ?? '').split(',').filter(Boolean);
/** Further Dawn toggle sets (';' between sets, ',' inside one) timed after the 1M sweep on TOGGLE_STAGES at TOGGLE_NQ. */
const TOGGLE_SETS = (args.get('toggle-sets') ?? '').split(';').filter(Boolean);
const TOGGLE_STAGES = (args.get('toggle-stages') ?? 'direct,64p4wgu').split(',');
/** The direct kernel (fragments from storage) at the 'large' layout only (it is the toggles' comparison). */
const DIRECT_LARGE_ONLY = args.get('direct-large-only') === '1';
const TOGGLE_NQ = (args.get('toggle-nq') ?? '1,64,1024').split(',').map(Number);
/** Kernel variants: 'direct' (fragments from storage) or e.g. '128p4wg' (stage 128 dims, pad 4 words, queries staged too; 'st': query fragments from storage). */
const STAGES = (args.get('stages') ?? 'direct').split(',');
// Suffixes after 'u': 'm' = mask selection, 'f' = prefetch (e.g. '64p4wgumf'); a final 'n8' runs the
// variant on the M16 N8 K32 config (32 x 16 tiles at 'mid': two invocations a query, 'row' selection).
function parseStage(v: string): StageOptions | undefined {
  const m = /^(\d+)p(\d+)(wg|st)(u?)(m?)(f?)(?:n8)?$/.exec(v);
  return m ? { kc: Number(m[1]), padWords: Number(m[2]), queries: m[3] === 'wg' ? 'wg' : 'storage', unroll: m[4] === 'u', ...(m[5] ? { select: 'mask' as const } : {}), ...(m[6] ? { prefetch: true } : {}) } : undefined;
}
mkdirSync(OUT, { recursive: true });
const results: Record<string, unknown>[] = [];
const log = (o: Record<string, unknown>) => {
  results.push(o);
  console.log(JSON.stringify(o));
  // Line by line as well: a run cut off by its time limit keeps what it measured.
  appendFileSync(join(OUT, 'tensor.jsonl'), JSON.stringify(o) + '\n');
};
/** Short lines of the index phase, printed last (the reply carries the end of the output). */
const flatTable: string[] = [];
const t0 = performance.now();
const since = () => ((performance.now() - t0) / 1000).toFixed(1) + 's';

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

async function main() {
  const gpu = create([TOGGLES.length ? `${UNSAFE_APIS_FLAG},${TOGGLES.join(',')}` : UNSAFE_APIS_FLAG]);
  // Dawn's instance must outlive every pending callback: a collected `gpu` leaves them unresolved.
  (globalThis as { keepGpu?: unknown }).keepGpu = gpu;
  const adapter = (await gpu.requestAdapter({ powerPreference: 'high-performance' }))!;
  const configs = matrixConfigsOf(adapter.info);
  const info = adapter.info as GPUAdapterInfo & { subgroupMinSize?: number; subgroupMaxSize?: number };
  log({
    what: 'adapter', vendor: info.vendor, arch: info.architecture, desc: info.description,
    features: [...adapter.features].sort(), configs, subgroupMin: info.subgroupMinSize, subgroupMax: info.subgroupMaxSize,
    maxBinding: adapter.limits.maxStorageBufferBindingSize, maxBuffer: adapter.limits.maxBufferSize,
    maxWgStorage: adapter.limits.maxComputeWorkgroupStorageSize,
  });
  const want = ['subgroups', 'chromium-experimental-subgroup-matrix', 'timestamp-query'].filter((f) => adapter.features.has(f)) as GPUFeatureName[];
  const device = await adapter.requestDevice({
    requiredFeatures: want,
    requiredLimits: {
      maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize,
      maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: Math.min(1024, adapter.limits.maxComputeInvocationsPerWorkgroup),
    },
  });
  device.onuncapturederror = (e) => console.log('UNCAPTURED', e.error.message);
  const mma = chooseKernel({ allowExperimental: true, deviceFeatures: device.features, configs, signed: true });
  const syntaxErrors: string[] = [];
  const syntax = mma.kind === 'mma' ? await detectMatrixSyntax(device, 'i8', mma.config!.M, mma.config!.N, mma.config!.K, syntaxErrors) : undefined;
  log({ what: 'kernel', choice: mma, syntax, syntaxErrors: syntaxErrors.map((e) => e.slice(0, 400)) });
  /** bad: layouts whose probe was wrong (only 'wide' may be dropped alone; the others drop the variant). */
  const kernels: { name: string; kernel: KernelChoice; stage?: StageOptions; bad?: Set<LayoutName> }[] = [];
  let quirk: MatrixQuirk | undefined;
  let mmaSyntax = syntax;
  if (mma.kind === 'mma' && syntax) {
    const found = await probeMma(device, mma, (info.subgroupMaxSize ?? 32));
    if (found) {
      quirk = found.quirk;
      mmaSyntax = found.syntax;
      for (const v of STAGES) {
        const stage = parseStage(v);
        const bad = new Set<LayoutName>();
        const kernel = v.endsWith('n8') ? chooseKernel({ allowExperimental: true, deviceFeatures: device.features, configs, signed: true, preferN: 8 }) : mma;
        if (v.endsWith('n8') && kernel.config?.N !== 8) {
          log({ what: 'skip', stage: v, reason: `no N = 8 config: ${kernel.reason}` });
          continue;
        }
        if (stage && !(await probeStage(device, kernel, info.subgroupMaxSize ?? 32, found, stage, bad))) continue;
        kernels.push({ name: stage ? `mma-${v}` : 'mma', kernel, stage, bad });
      }
    }
  }
  if (DOT4) kernels.push({ name: 'dot4', kernel: { kind: 'dot4', reason: 'comparison' } });
  const sgMax = info.subgroupMaxSize ?? 32;
  const copyGBs = args.get('copy') === '0' ? 0 : await copyBandwidth(device);
  log({ what: 'copy', gbps: copyGBs, readOnce1MMs: copyGBs ? +(((N * paddedDim(D)) / (copyGBs * 1e9)) * 1e3).toFixed(3) : undefined });
  const torchRows: Record<string, unknown>[] = [];
  let mmaExact = false;
  /** Per kernel variant and nq: the best layout and time at 1M (the 21M phase takes the best variant). */
  const best1M = new Map<string, Map<number, { layout: LayoutName; ms: number }>>();
  const table: string[] = [];

  if (!SKIP1M) {
    // ---- Phase 1M: host data, torch on the same data, exactness and recall.
    const dPad = paddedDim(D);
    const CH = 65536;
    const chunks: Float32Array[] = [];
    const r = rng(12345);
    for (let s = 0; s < N; s += CH) {
      const rows = Math.min(CH, N - s);
      const c = new Float32Array(rows * D);
      for (let i = 0; i < rows; i++) {
        let nrm = 0;
        for (let j = 0; j < D; j++) {
          const v = r() - 0.5; // uniform: host time on the device machine is device time
          c[i * D + j] = v;
          nrm += v * v;
        }
        const inv = 1 / Math.sqrt(nrm);
        for (let j = 0; j < D; j++) c[i * D + j]! *= inv;
      }
      chunks.push(c);
    }
    const row = (id: number) => chunks[Math.floor(id / CH)]!.subarray((id % CH) * D, (id % CH + 1) * D);
    const nqMax = Math.max(...NQS);
    const q = new Float32Array(nqMax * D);
    for (let i = 0; i < nqMax; i++) {
      let nrm = 0;
      for (let j = 0; j < D; j++) {
        const v = r() - 0.5;
        q[i * D + j] = v;
        nrm += v * v;
      }
      for (let j = 0; j < D; j++) q[i * D + j]! /= Math.sqrt(nrm);
    }
    log({ what: 'data', n: N, d: D, at: since() });
    let gt: Int32Array | undefined;
    if (TORCH) {
      const fd = openSync('/dev/shm/tq_base.f32', 'w');
      for (const c of chunks) writeSync(fd, new Uint8Array(c.buffer, c.byteOffset, c.byteLength));
      closeSync(fd);
      writeFileSync('/dev/shm/tq_q.f32', new Uint8Array(q.buffer));
      const nqSorted = [...NQS].sort((a, b) => a - b).join(',');
      const p = spawnSync('python3', [TORCH, '--base', '/dev/shm/tq_base.f32', '--queries', '/dev/shm/tq_q.f32', '--d', String(D), '--nq', nqSorted, '--k', String(K), '--ids-out', '/dev/shm/tq_gt.i32'], { encoding: 'utf8', maxBuffer: 1 << 26 });
      for (const line of p.stdout.split('\n').filter((l) => l.startsWith('{'))) {
        const o = JSON.parse(line) as Record<string, unknown>;
        torchRows.push(o);
        log({ what: 'torch', ...o });
      }
      if (p.status !== 0) console.log('torch failed', p.stderr.slice(-2000));
      else gt = new Int32Array(readFileSync('/dev/shm/tq_gt.i32').buffer.slice(0));
    }
    // SQ8 over all rows, then codes (signed: code - 128).
    const vmin = new Float32Array(D).fill(Infinity);
    const vmax = new Float32Array(D).fill(-Infinity);
    for (const c of chunks) for (let i = 0; i < c.length; i++) {
      const j = i % D;
      const v = c[i]!;
      if (v < vmin[j]!) vmin[j] = v;
      if (v > vmax[j]!) vmax[j] = v;
    }
    const sq: SqParams = { vmin, step: new Float32Array(D).map((_, j) => (vmax[j]! - vmin[j]!) / 255) };
    const codes = new Uint8Array(N * dPad);
    const inv = sq.step.map((s) => (s > 0 ? 1 / s : 0));
    for (let id = 0; id < N; id++) {
      const x = row(id);
      const o = id * dPad;
      for (let j = 0; j < D; j++) {
        const c = Math.min(255, Math.max(0, ((x[j]! - vmin[j]!) * inv[j]! + 0.5) | 0));
        codes[o + j] = c ^ 0x80;
      }
    }
    const qq = quantizeQueries(q, nqMax, D, sq, true, dPad);
    log({ what: 'encoded', at: since() });
    // CPU integer reference for the first CHECKQ queries over all rows (max key list per kp).
    const kpMax = Math.max(...KPS);
    const ref: { id: number; key: number }[][] = [];
    for (let i = 0; i < CHECKQ; i++) {
      const all: { id: number; key: number }[] = [];
      let kth = -Infinity;
      for (let id = 0; id < N; id++) {
        const key = keyOf(qq.codes, i, codes, id, dPad, true);
        if (key >= kth || all.length < kpMax) {
          all.push({ id, key });
          if (all.length >= 4 * kpMax) {
            all.sort((a, b) => b.key - a.key || a.id - b.id);
            all.length = kpMax;
            kth = all[kpMax - 1]!.key;
          }
        }
      }
      all.sort((a, b) => b.key - a.key || a.id - b.id);
      ref.push(all.slice(0, kpMax));
    }
    log({ what: 'int-reference', queries: CHECKQ, at: since() });
    for (const { name, kernel, stage, bad } of kernels) {
      for (const [kp, target] of KPS.flatMap((kp) => (name.startsWith('mma') ? TARGETS : [TARGET]).map((t) => [kp, t] as const))) {
        const scorer = new Int8TensorScorer(device, { dPad, kPrime: kp, signed: true, kernel, subgroupSize: sgMax, syntax: mmaSyntax, quirk, targetWorkgroups: target, stage });
        scorer.addTile(N, codes);
        for (const nq of NQS) {
          let first: Int32Array | undefined;
          let best = { ms: Infinity, layout: '' as string };
          for (const layout of LAYOUTS) {
            if ((layout === 'single' || layout === 'tall') && nq > 16) continue;
            if (!stage && name !== 'dot4' && layout !== 'large' && DIRECT_LARGE_ONLY) continue;
            if (bad?.has(layout) || (layout === 'wide' && (!stage || stage.queries !== 'wg' || nq < 64))) continue;
            if (name === 'dot4' && (layout !== layoutFor(nq, 16) || nq > 64)) continue;
            const row1 = await runOne(device, scorer, nq, layout, qq.codes, name === 'dot4' ? 2 : 20);
            if (!row1) continue;
            const { ms, keys, ids, tempBytes } = row1;
            // Exactness: keys (and ids) equal the CPU integer reference; layouts agree with each other.
            let exact = true;
            for (let i = 0; i < Math.min(CHECKQ, nq); i++) {
              for (let j = 0; j < kp; j++) {
                if (keys[i * kp + j] !== ref[i]![j]!.key || ids[i * kp + j] !== ref[i]![j]!.id) exact = false;
              }
            }
            let agree = true;
            if (first) for (let i = 0; i < first.length; i++) if (first[i] !== keys[i]) agree = false;
            first ??= keys;
            const tr = performance.now();
            const rr = rerankExact(q, nq, D, ids, kp, K, row);
            const rerankMs = performance.now() - tr;
            let recall: number | undefined;
            if (gt && gt.length >= nqMax * K) {
              let hit = 0;
              for (let i = 0; i < nq; i++) {
                const truth = new Set(gt.subarray(i * K, (i + 1) * K));
                for (let j = 0; j < K; j++) if (truth.has(rr.labels[i * K + j]!)) hit++;
              }
              recall = hit / (nq * K);
            }
            const tops = (2 * nq * N * D) / (ms * 1e-3) / 1e12;
            log({ what: 'int8', kernel: name, n: N, nq, kp, target, layout, ms: +ms.toFixed(4), qps: +((nq / ms) * 1e3).toFixed(1), tops: +tops.toFixed(1), exact, agree, recall, rerankMs: +rerankMs.toFixed(2), tempMiB: +(tempBytes / 2 ** 20).toFixed(1), at: since() });
            if (ms < best.ms) best = { ms, layout };
            if (exact && agree) {
              const m = best1M.get(name) ?? new Map<number, { layout: LayoutName; ms: number }>();
              best1M.set(name, m);
              if (ms < (m.get(nq)?.ms ?? Infinity)) m.set(nq, { layout, ms });
            }
            if (name.startsWith('mma') && exact && agree) mmaExact = true;
          }
          if (best.ms < Infinity) table.push(row1M(`${name}/${target}`, N, nq, kp, best, torchRows));
        }
        scorer.destroy();
      }
    }
    // Dawn toggles (a fresh instance and device each): the same kernels and rows, keys checked again.
    for (const set of TOGGLE_SETS) {
      if (!mmaExact) break;
      const gpu2 = create([`${UNSAFE_APIS_FLAG},${set}`]);
      (globalThis as { keepGpu2?: unknown }).keepGpu2 = gpu2;
      const adapter2 = (await gpu2.requestAdapter({ powerPreference: 'high-performance' }))!;
      const device2 = await adapter2.requestDevice({
        requiredFeatures: want,
        requiredLimits: {
          maxStorageBufferBindingSize: adapter2.limits.maxStorageBufferBindingSize,
          maxBufferSize: adapter2.limits.maxBufferSize,
          maxComputeWorkgroupStorageSize: adapter2.limits.maxComputeWorkgroupStorageSize,
          maxComputeInvocationsPerWorkgroup: Math.min(1024, adapter2.limits.maxComputeInvocationsPerWorkgroup),
        },
      });
      device2.onuncapturederror = (e) => console.log('UNCAPTURED', e.error.message);
      for (const kv of kernels.filter((x) => TOGGLE_STAGES.includes(x.name.replace(/^mma-?/, '') || 'direct'))) {
        const kp = KPS[0]!;
        const scorer = new Int8TensorScorer(device2, { dPad, kPrime: kp, signed: true, kernel: kv.kernel, subgroupSize: sgMax, syntax: mmaSyntax, quirk, targetWorkgroups: TARGET, stage: kv.stage });
        scorer.addTile(N, codes);
        for (const nq of TOGGLE_NQ) {
          const layout = best1M.get(kv.name)?.get(nq)?.layout ?? 'large';
          const row1 = await runOne(device2, scorer, nq, layout, qq.codes, 20);
          if (!row1) continue;
          let exact = true;
          for (let i = 0; i < Math.min(CHECKQ, nq); i++) {
            for (let j = 0; j < kp; j++) if (row1.keys[i * kp + j] !== ref[i]![j]!.key || row1.ids[i * kp + j] !== ref[i]![j]!.id) exact = false;
          }
          const tops = (2 * nq * N * D) / (row1.ms * 1e-3) / 1e12;
          const base = best1M.get(kv.name)?.get(nq)?.ms;
          log({ what: 'toggle', toggles: set, kernel: kv.name, nq, layout, ms: +row1.ms.toFixed(4), tops: +tops.toFixed(1), exact, defaultMs: base, speedup: base ? +(base / row1.ms).toFixed(2) : undefined, at: since() });
          table.push(`toggle ${set.slice(0, 40).padEnd(40)} ${kv.name.padEnd(14)} nq=${String(nq).padEnd(5)} ${layout.padEnd(6)} ${row1.ms.toFixed(3)} ms (default ${base?.toFixed(3)}) exact=${exact}`);
        }
        scorer.destroy();
      }
      device2.destroy();
    }
    if (FLAT) {
      // The hook takes the staging and row tiles of the fastest unrolled variant at the largest batch.
      const nqTop = Math.max(...NQS);
      let pick: { stage: StageOptions; layout: LayoutName; ms: number } | undefined;
      for (const kv of kernels) {
        const b = best1M.get(kv.name)?.get(nqTop);
        if (kv.stage?.unroll && b && ['mid', 'large', 'xl', 'wide'].includes(b.layout) && b.ms < (pick?.ms ?? Infinity)) pick = { stage: kv.stage, layout: b.layout, ms: b.ms };
      }
      if (pick) {
        tensorTuning.kc = pick.stage.kc;
        tensorTuning.padWords = pick.stage.padWords;
      }
      log({ what: 'flat-tuning', tuning: { ...tensorTuning }, from: pick });
      await flatPhase(gpu, chunks, q, gt, torchRows, FLAT_MODES, '');
      for (const set of FLAT_TOGGLE_SETS) {
        const gpu2 = create([`${UNSAFE_APIS_FLAG},${set}`]);
        (globalThis as { keepGpuFlat?: unknown[] }).keepGpuFlat = [...((globalThis as { keepGpuFlat?: unknown[] }).keepGpuFlat ?? []), gpu2];
        await flatPhase(gpu2, chunks, q, gt, torchRows, FLAT_TOGGLE_MODES, set);
      }
    }
    chunks.length = 0;
  }

  if (N21 > 0 && (SKIP1M || mmaExact)) {
    // ---- Phase 21M: torch first (its own synthetic data), then our codes from a GPU hash.
    const torch21: Record<string, unknown>[] = [];
    if (TORCH) {
      // fp32 at nq = 1024 needs 64.6 GB of rows plus 1024 x 4M fp32 scores: fits an H200 (141 GB), not an 80 GB H100.
      const fp32Max = Number(args.get('fp32-max-nq21') ?? 1024);
      for (const [dt, nqs] of [['float16', NQS], ['float32', NQS.filter((x) => x <= fp32Max)]] as const) {
        if (nqs.length === 0) continue;
        const p = spawnSync('python3', [TORCH, '--n', String(N21), '--d', String(D), '--nq', nqs.join(','), '--k', String(K), '--chunk', '4194304', '--reps', '5', '--dtypes', dt], { encoding: 'utf8', maxBuffer: 1 << 26 });
        for (const line of p.stdout.split('\n').filter((l) => l.startsWith('{'))) {
          const o = JSON.parse(line) as Record<string, unknown>;
          torch21.push(o);
          log({ what: 'torch', ...o });
        }
        if (p.status !== 0) console.log('torch 21M failed', dt, p.stderr.slice(-1000));
      }
    }
    const dPad = paddedDim(D);
    // The variant fastest at the largest batch at 1M, each nq with its best 1M layout.
    let kernel = kernels[0]!;
    const nqTop = Math.max(...NQS);
    for (const kv of kernels) {
      const a = best1M.get(kv.name)?.get(nqTop)?.ms ?? Infinity;
      if (a < (best1M.get(kernel.name)?.get(nqTop)?.ms ?? Infinity)) kernel = kv;
    }
    log({ what: 'variant21', kernel: kernel.name, stage: kernel.stage, layouts: Object.fromEntries(best1M.get(kernel.name) ?? []) });
    const kp = Number(args.get('kp21') ?? KPS[0]);
    const target21 = Number(args.get('target21') ?? TARGET);
    const scorer = new Int8TensorScorer(device, { dPad, kPrime: kp, signed: true, kernel: kernel.kernel, subgroupSize: sgMax, syntax: mmaSyntax, quirk, targetWorkgroups: target21, stage: kernel.stage });
    const targets21 = (args.get('targets21') ?? String(target21)).split(',').map(Number);
    const tileRows = Math.floor(Math.min(Number(device.limits.maxStorageBufferBindingSize), 2 ** 31 - 1) / dPad / 256) * 256;
    const fill = await fillPipeline(device);
    let tiles = 0;
    for (let s = 0; s < N21; s += tileRows) {
      const rows = Math.min(tileRows, N21 - s);
      const buf = scorer.addTile(rows);
      fillTile(device, fill, buf, tiles++);
    }
    await device.queue.onSubmittedWorkDone();
    log({ what: 'filled21', n: N21, tiles, gib: +((N21 * dPad) / 2 ** 30).toFixed(2), at: since() });
    const smi = spawnSync('nvidia-smi', ['--query-gpu=memory.used,memory.total', '--format=csv,noheader'], { encoding: 'utf8' });
    log({ what: 'gpu-memory21', nvidiaSmi: (smi.stdout ?? '').trim(), tileBytes: scorer.tiles.reduce((a, t) => a + t.buffer.size, 0) });
    const r = rng(777);
    const nqMax = Math.max(...NQS);
    const qc = new Uint8Array(nqMax * dPad);
    for (let i = 0; i < qc.length; i++) qc[i] = (Math.floor(r() * 255) - 127) & 0xff;
    for (const nq of NQS) {
      const layouts = (args.get('layouts21') ?? '').split(',').filter(Boolean) as LayoutName[];
      const b1 = best1M.get(kernel.name)?.get(nq)?.layout;
      const cands = b1 ? [b1] : layouts.length ? layouts.filter((l) => !(l === 'single' && nq > 16)) : [layoutFor(nq, 16)];
      let best = { ms: Infinity, layout: '' };
      for (const [layout, tg] of cands.flatMap((l) => targets21.map((t) => [l, t] as const))) {
        scorer.opts.targetWorkgroups = tg;
        const row1 = await runOne(device, scorer, nq, layout, qc, 5);
        if (!row1) continue;
        // The returned keys equal CPU dots of the hashed codes of the returned ids (values, not completeness).
        let keysOk = true;
        for (let i = 0; i < Math.min(nq, 4); i++) {
          for (let j = 0; j < kp; j++) {
            const id = row1.ids[i * kp + j]!;
            if (id < 0 || hashKey(qc, i, id, tileRows, dPad) !== row1.keys[i * kp + j]) keysOk = false;
          }
        }
        const tops = (2 * nq * N21 * D) / (row1.ms * 1e-3) / 1e12;
        log({ what: 'int8', kernel: kernel.name, n: N21, nq, kp, target: tg, layout, ms: +row1.ms.toFixed(3), qps: +((nq / row1.ms) * 1e3).toFixed(1), tops: +tops.toFixed(1), keysOk, tempMiB: +(row1.tempBytes / 2 ** 20).toFixed(1), at: since() });
        if (row1.ms < best.ms) best = { ms: row1.ms, layout: `${layout}/${tg}` };
      }
      if (best.ms < Infinity) table.push(row1M(kernel.name, N21, nq, kp, best, torch21));
    }
    scorer.destroy();
    // copy GB/s counts bytes read + written: reading the codes once at that byte rate.
    const floorMs = ((N21 * dPad) / (copyGBs * 1e9)) * 1e3;
    log({ what: 'floor21', readOnceMs: +floorMs.toFixed(3), copyGBs });
  }
  writeFileSync(join(OUT, 'tensor.json'), JSON.stringify(results, null, 1));
  for (const r of results.filter((o) => o.what === 'flat')) console.log(`flat ${r.mode} nq=${r.nq} wall ${r.wallMs} ms gpu ${r.gpuMs} ms recall ${r.recall} gpu-vs-f16 ${r.gpuVsTorchF16} wall-vs-f16 ${r.wallVsTorchF16} ${r.kernel}`);
  console.log('\nin-index (GPU ms from timestamps; alone = pre-pass + scorer over the tile; ratios = torch ms / ours)');
  for (const t of flatTable) console.log(t);
  console.log('\nkernel   N        nq    kp  layout  ms       QPS        vs torch fp16  vs fp32');
  for (const t of table) console.log(t);
  console.log(`done ${since()}`);
  process.exit(0);
}

/** A probe problem: random u8 codes, i8 queries, and each query's best kp keys by the CPU integer reference. */
function probeProblem(dPad: number, rows: number, nq: number, kp: number, seed: number): { codes: Uint8Array; qc: Uint8Array; want: number[][] } {
  const r = rng(seed);
  const codes = new Uint8Array(rows * dPad).map(() => Math.floor(r() * 256));
  const qc = new Uint8Array(nq * dPad).map(() => (Math.floor(r() * 255) - 127) & 0xff);
  const want: number[][] = [];
  for (let i = 0; i < nq; i++) {
    const all = Array.from({ length: rows }, (_, id) => ({ id, key: keyOf(qc, i, codes, id, dPad, true) }));
    all.sort((a, b) => b.key - a.key || a.id - b.id);
    want.push(all.slice(0, kp).map((e) => e.key));
  }
  return { codes, qc, want };
}

/**
 * Finds the spelling and operand reading under which the tensor kernel equals the CPU integer
 * reference on a small random problem (the extension's semantics first). Logs every variant.
 */
async function probeMma(device: GPUDevice, kernel: KernelChoice, sg: number): Promise<{ syntax: MatrixSyntax; quirk: MatrixQuirk } | undefined> {
  const dPad = 128, rows = 512, nq = 32, kp = 8;
  const { codes, qc, want } = probeProblem(dPad, rows, nq, kp, 99);
  const variants: { syntax: MatrixSyntax; quirk: MatrixQuirk }[] = [];
  for (const syntax of ['bool-arg', 'template-enum'] as MatrixSyntax[]) {
    for (const strideMul of [1, 4]) {
      for (const [lc, rc] of [[false, true], [true, false], [false, false], [true, true]] as const) {
        variants.push({ syntax, quirk: { strideMul, leftColMajor: lc, rightColMajor: rc } });
      }
    }
  }
  variants.sort((a, b) => Number(b.quirk === DEFAULT_QUIRK) - Number(a.quirk === DEFAULT_QUIRK));
  let found: { syntax: MatrixSyntax; quirk: MatrixQuirk } | undefined;
  for (const v of variants) {
    const scorer = new Int8TensorScorer(device, { dPad, kPrime: kp, signed: true, kernel, subgroupSize: sg, syntax: v.syntax, quirk: v.quirk, targetWorkgroups: 4 });
    scorer.addTile(rows, codes);
    try {
      const got = await scorer.search(qc, nq, 'large');
      let ok = true;
      for (let i = 0; i < nq; i++) for (let j = 0; j < kp; j++) if (got.keys[i * kp + j] !== want[i]![j]) ok = false;
      log({ what: 'probe', ...v, ok, got0: Array.from(got.keys.subarray(0, 4)), want0: want[0]!.slice(0, 4) });
      if (ok && !found) found = v;
    } catch (e) {
      log({ what: 'probe', ...v, error: (e as Error).message.slice(0, 300) });
    }
    scorer.destroy();
    if (found) break;
  }
  return found;
}

/**
 * GpuFlatIndex int8 with allowExperimental on the same rows: search wall time (GPU scoring, merge,
 * readback and the exact host re-rank), GPU time (timestamps), recall@k against torch's fp32 ids;
 * the tensor scorer on, then off (the built-in flat_gemv / flat_fused kernels).
 */
async function flatPhase(gpu: GPU, chunks: Float32Array[], q: Float32Array, gt: Int32Array | undefined, torch: Record<string, unknown>[], modeNames: string[], toggles: string): Promise<void> {
  const all = new Float32Array(N * D);
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  let index: GpuFlatIndex | undefined;
  const minBatch0 = tensorTuning.minBatch;
  const tuning0 = { ...tensorTuning };
  try {
    const t0 = performance.now();
    index = await GpuFlatIndex.create(D, 'ip', { precision: 'int8', allowExperimental: true, gpu });
    await index.add(all);
    const smi = spawnSync('nvidia-smi', ['--query-gpu=memory.used,memory.total', '--format=csv,noheader'], { encoding: 'utf8' });
    log({ what: 'flat-built', n: N, toggles, s: +((performance.now() - t0) / 1e3).toFixed(1), timestamps: index.enableTimestamps(), nvidiaSmi: (smi.stdout ?? '').trim() });
    const shard = (index as unknown as { shards: ShardInternals[] }).shards[0]!;
    // Tensor scorer modes, then the built-in kernels, in one index and one process; the tensor scorer
    // takes every batch here (minBatch 1) so the crossover is measured, not assumed.
    // 'pre@2048/r2/k26': query mode, workgroups a tile, result matrices along rows (each left out:
    // the tuning's), candidates re-ranked per query (default: the index's, max(k + 16, 4k)).
    const opts = (index as unknown as { opts: { rerankFactor?: number } }).opts;
    const modes = modeNames.map((m) => {
      const [head, ...rest] = m.split('/');
      const [queries, target] = head!.split('@');
      const rt = rest.find((x) => /^r\d+$/.test(x));
      const kk = rest.find((x) => /^k\d+$/.test(x));
      const kc = rest.find((x) => /^c\d+$/.test(x));
      const w = rest.find((x) => /^w\d+$/.test(x));
      return {
        name: m === 'built-in' ? m : `tensor-${m}`,
        on: m !== 'built-in',
        queries: m === 'built-in' ? undefined : (queries as 'pre' | 'quant' | 'whole'),
        target: m === 'built-in' || target === undefined ? undefined : Number(target),
        rowTiles: rt ? Number(rt.slice(1)) : undefined,
        kp: kk ? Number(kk.slice(1)) : Math.max(K + 16, 4 * K),
        select: rest.includes('m') ? ('mask' as const) : ('row' as const),
        prefetch: rest.includes('p'),
        kc: kc ? Number(kc.slice(1)) : tuning0.kc,
        warps: w ? Number(w.slice(1)) : 1,
        warpBranch: rest.includes('b'),
        lists: rest.includes('l') ? ('wg' as const) : ('reg' as const),
        matrixN: rest.includes('n8') ? (8 as const) : (16 as const),
      };
    });
    // Labels of the first tensor mode per (nq, k'): every later tensor mode must return the same
    // (the exact top k' of the int8 keys, ties to the lower id, re-ranked the same way).
    const firstLabels = new Map<string, BigInt64Array | Float64Array | Int32Array | number[]>();
    tensorTuning.minBatch = 1;
    // Warm-up: the largest batch for ~2 s with the index's default scorer (clocks up, pipelines built).
    const nqs = FLAT_NQS.length ? FLAT_NQS : NQS;
    const qWarm = q.subarray(0, Math.max(...nqs) * D);
    for (const w = performance.now(); performance.now() - w < 2000; ) await index.search(qWarm, K);
    index.takeGpuMs();
    for (const mode of modes) {
      const on = mode.on;
      tensorTuning.enabled = on;
      if (mode.queries) tensorTuning.queries = mode.queries;
      // A mode's workgroup target applies to every batch size.
      if (mode.target) tensorTuning.targetWorkgroups = tensorTuning.targetWorkgroupsSmall = mode.target;
      // '/rN' sets the row tiles at every batch size; without it, the tuning's (rowTiles, rowTilesBig).
      tensorTuning.rowTiles = mode.rowTiles ?? tuning0.rowTiles;
      tensorTuning.rowTilesBig = mode.rowTiles ?? tuning0.rowTilesBig;
      tensorTuning.select = mode.select ?? 'row';
      tensorTuning.prefetch = mode.prefetch ?? false;
      tensorTuning.kc = mode.kc ?? tuning0.kc;
      tensorTuning.warps = mode.warps;
      tensorTuning.warpBranch = mode.warpBranch;
      tensorTuning.lists = mode.lists;
      tensorTuning.matrixN = mode.matrixN;
      opts.rerankFactor = mode.kp / K;
      for (const nq of nqs) {
        const qs = q.subarray(0, nq * D);
        const kp = mode.kp;
        let kernelKey = '';
        try {
          kernelKey = shard.scorerFor(nq, kp).key;
        } catch (e) {
          kernelKey = `error: ${(e as Error).message}`;
        }
        try {
          // Searches for 300 ms first: a new shape's compile pause lets the clocks drop, and 5 timed
          // searches at 256 queries did not bring them back (NOTES item 33).
          for (const w0 = performance.now(); performance.now() - w0 < 300; ) await index.search(qs, K);
        } catch (e) {
          // A mode that does not compile or run here (e.g. a config the driver rejects) skips to the next.
          log({ what: 'flat-error', mode: mode.name, nq, error: (e as Error).message.slice(0, 1500) });
          flatTable.push(`${mode.name.padEnd(26)} nq ${String(nq).padStart(4)}  error ${(e as Error).message.slice(0, 80)}`);
          continue;
        }
        index.takeGpuMs();
        const reps = nq >= 256 ? 5 : 20;
        index.takeRerankStats();
        const t = performance.now();
        let res;
        for (let r = 0; r < reps; r++) res = await index.search(qs, K);
        const wallMs = (performance.now() - t) / reps;
        const gpuMs = index.takeGpuMs() / reps;
        const rerankMs = +(index.takeRerankStats().ms / reps).toFixed(3);
        let recall: number | undefined;
        if (gt && res) {
          let hit = 0;
          for (let i = 0; i < nq; i++) {
            const truth = new Set(gt.subarray(i * K, (i + 1) * K));
            for (let j = 0; j < K; j++) if (truth.has(Number(res.labels[i * K + j]))) hit++;
          }
          recall = hit / (nq * K);
        }
        const f16 = torch.find((o) => o.dtype === 'float16' && o.nq === nq && o.n === N)?.ms as number | undefined;
        // The scoring dispatches alone (pre-pass and one tile's scorer, no merge): where the index's time goes.
        const alone = on ? await scorerAlone(shard, q, nq, kp) : undefined;
        let agree: boolean | undefined;
        if (on && res) {
          const labels = Array.from(res.labels as ArrayLike<number | bigint>, Number);
          const prev = firstLabels.get(`${nq}:${kp}`);
          if (prev) agree = labels.every((x, i) => x === Number(prev[i]));
          else firstLabels.set(`${nq}:${kp}`, labels);
        }
        const f32 = torch.find((o) => o.dtype === 'float32' && o.nq === nq && o.n === N)?.ms as number | undefined;
        const tops = +((2 * nq * N * D) / (gpuMs * 1e-3) / 1e12).toFixed(1);
        log({ what: 'flat', toggles, tensor: on, mode: mode.name, kp, aloneMs: alone?.ms, aloneSegs: alone?.nseg, rerankMs, kernel: kernelKey.slice(0, 40) + '..' + kernelKey.slice(-60), n: N, nq, k: K, wallMs: +wallMs.toFixed(3), gpuMs: +gpuMs.toFixed(3), qps: +((nq / wallMs) * 1e3).toFixed(1), recall, agree, tops, gpuVsTorchF16: f16 ? +(f16 / gpuMs).toFixed(2) : undefined, gpuVsTorchF32: f32 ? +(f32 / gpuMs).toFixed(2) : undefined, wallVsTorchF16: f16 ? +(f16 / wallMs).toFixed(2) : undefined, at: since() });
        flatTable.push(`${mode.name.padEnd(26)} kp ${String(kp).padStart(2)} nq ${String(nq).padStart(4)}  gpu ${gpuMs.toFixed(3).padStart(8)} ms  alone ${(alone?.ms ?? NaN).toFixed(3).padStart(8)}  x fp16 ${f16 ? (f16 / gpuMs).toFixed(2) : '-'}  x fp32 ${f32 ? (f32 / gpuMs).toFixed(2) : '-'}  ${String(tops).padStart(6)} TOPS  recall ${recall ?? '-'}  agree ${agree ?? '-'}`);
      }
    }
  } catch (e) {
    log({ what: 'flat-error', error: (e as Error).message.slice(0, 1500) });
  } finally {
    tensorTuning.minBatch = minBatch0;
    tensorTuning.enabled = true;
    tensorTuning.queries = 'auto';
    Object.assign(tensorTuning, tuning0);
    await index?.dispose();
  }
}

/** The staged tensor kernel equals the CPU reference on the probe problem (tries the direct kernel's reading, then stride x 4). */
/** What scorerAlone reads of a FlatShard (private fields: benchmark only). */
interface ShardInternals {
  scorerFor(nq: number, k: number): { key: string; pipeline: GPUComputePipeline; BR: number; BQ: number; target?: number; prep?: { pipeline: GPUComputePipeline; bytes: number; groups: [number, number] } };
  segmentPlan(rows: number, nq: number, k: number, BR: number, BQ: number, target?: number): { segLen: number; nseg: number };
  tiles: { buffer: GPUBuffer; rows: number; capacity: number }[];
  sqBuffer: GPUBuffer;
  q4: number;
  rowWords: number;
  rowBytes: number;
  ctx: { device: GPUDevice };
}

/**
 * GPU time of the index's scoring dispatches alone for nq queries and k' = kp: the pre-pass (if
 * any) and the scorer over the shard's first tile, as the shard encodes them, without the merge
 * levels, readback or re-rank; 10 repetitions in one pass between timestamps.
 */
async function scorerAlone(shard: ShardInternals, q: Float32Array, nq: number, kp: number): Promise<{ ms: number; nseg: number } | undefined> {
  const device = shard.ctx.device;
  if (!device.features.has('timestamp-query')) return undefined;
  const sc = shard.scorerFor(nq, kp);
  const tile = shard.tiles[0]!;
  const { segLen, nseg } = shard.segmentPlan(tile.rows, nq, kp, sc.BR, sc.BQ, sc.target);
  const dp = shard.q4 * 4;
  const qp = new Float32Array(nq * dp);
  for (let i = 0; i < nq; i++) qp.set(q.subarray(i * D, (i + 1) * D), i * dp);
  const bufs: GPUBuffer[] = [];
  const mk = (size: number, usage: number) => {
    const b = device.createBuffer({ size: Math.max(16, Math.ceil(size / 16) * 16), usage });
    bufs.push(b);
    return b;
  };
  const qBuf = mk(qp.byteLength, BufferUsage.STORAGE | BufferUsage.COPY_DST);
  device.queue.writeBuffer(qBuf, 0, qp);
  const prepBuf = sc.prep ? mk(sc.prep.bytes, BufferUsage.STORAGE) : undefined;
  const out = mk(nq * nseg * kp * 8, BufferUsage.STORAGE);
  const uni = mk(512, BufferUsage.UNIFORM | BufferUsage.COPY_DST);
  device.queue.writeBuffer(uni, 0, new Uint32Array([nq, 0, shard.rowWords, shard.q4, kp, 0, 0, 0, 0]));
  device.queue.writeBuffer(uni, 256, new Uint32Array([nq, tile.rows, shard.rowWords, shard.q4, kp, segLen, nseg, 0, 0]));
  const set = device.createQuerySet({ type: 'timestamp', count: 2 });
  const resolve = mk(16, BufferUsage.QUERY_RESOLVE | BufferUsage.COPY_SRC);
  const read = mk(16, BufferUsage.MAP_READ | BufferUsage.COPY_DST);
  const qBinding = prepBuf ? { buffer: prepBuf, offset: 0, size: sc.prep!.bytes } : { buffer: qBuf };
  const scoreGroup = device.createBindGroup({
    layout: sc.pipeline.getBindGroupLayout(0),
    entries: [
      { binding: 0, resource: { buffer: uni, offset: 256, size: 48 } },
      { binding: 1, resource: { buffer: tile.buffer, offset: 0, size: tile.capacity * shard.rowBytes } },
      { binding: 2, resource: qBinding },
      { binding: 3, resource: { buffer: shard.sqBuffer } },
      { binding: 4, resource: { buffer: out } },
    ],
  });
  const prepGroup = sc.prep && prepBuf
    ? device.createBindGroup({
        layout: sc.prep.pipeline.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: { buffer: uni, offset: 0, size: 48 } },
          { binding: 1, resource: { buffer: qBuf } },
          { binding: 2, resource: { buffer: shard.sqBuffer } },
          { binding: 3, resource: { buffer: prepBuf } },
        ],
      })
    : undefined;
  const reps = 10;
  const run = async (timed: boolean) => {
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass(timed ? { timestampWrites: { querySet: set, beginningOfPassWriteIndex: 0, endOfPassWriteIndex: 1 } } : {});
    for (let r = 0; r < reps; r++) {
      if (prepGroup) {
        pass.setPipeline(sc.prep!.pipeline);
        pass.setBindGroup(0, prepGroup);
        pass.dispatchWorkgroups(sc.prep!.groups[0], sc.prep!.groups[1]);
      }
      pass.setPipeline(sc.pipeline);
      pass.setBindGroup(0, scoreGroup);
      pass.dispatchWorkgroups(nseg, Math.ceil(nq / sc.BQ));
    }
    pass.end();
    if (timed) {
      enc.resolveQuerySet(set, 0, 2, resolve, 0);
      enc.copyBufferToBuffer(resolve, 0, read, 0, 16);
    }
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
  };
  try {
    await run(false);
    await run(true);
    await read.mapAsync(MapMode.READ);
    const t = new BigUint64Array(read.getMappedRange().slice(0));
    read.unmap();
    return { ms: +(Number(t[1]! - t[0]!) / 1e6 / reps).toFixed(3), nseg };
  } finally {
    set.destroy();
    for (const b of bufs) b.destroy();
  }
}

async function probeStage(device: GPUDevice, kernel: KernelChoice, sg: number, found: { syntax: MatrixSyntax; quirk: MatrixQuirk }, stage: StageOptions, bad: Set<LayoutName>): Promise<boolean> {
  const dPad = 256, rows = 512, nq = 64, kp = 8;
  const { codes, qc, want } = probeProblem(dPad, rows, nq, kp, 98);
  const kc = Math.min(stage.kc, dPad);
  let allOk = true;
  const wide = LAYOUTS.includes('wide') && stage.queries === 'wg';
  for (const layout of (wide ? ['single', 'large', 'tall', 'wide'] : ['single', 'large', 'tall']) as LayoutName[]) {
    const scorer = new Int8TensorScorer(device, { dPad, kPrime: kp, signed: true, kernel, subgroupSize: sg, syntax: found.syntax, quirk: found.quirk, targetWorkgroups: 4, stage: { ...stage, kc } });
    scorer.addTile(rows, codes);
    try {
      const got = await scorer.search(qc, nq, layout);
      let ok = true;
      for (let i = 0; i < nq; i++) for (let j = 0; j < kp; j++) if (got.keys[i * kp + j] !== want[i]![j]) ok = false;
      log({ what: 'probe-stage', stage, layout, ok, got0: Array.from(got.keys.subarray(0, 4)), want0: want[0]!.slice(0, 4) });
      if (!ok) bad.add(layout);
    } catch (e) {
      log({ what: 'probe-stage', stage, layout, error: (e as Error).message.slice(0, 1500) });
      bad.add(layout);
    }
    if (bad.has(layout) && layout !== 'wide') allOk = false;
    scorer.destroy();
  }
  return allOk;
}

function row1M(name: string, n: number, nq: number, kp: number, best: { ms: number; layout: string }, torch: Record<string, unknown>[]): string {
  const tms = (dt: string) => torch.find((o) => o.dtype === dt && o.nq === nq && o.n === n)?.ms as number | undefined;
  const f16 = tms('float16');
  const f32 = tms('float32');
  const ratio = (t?: number) => (t ? (t / best.ms).toFixed(2) + 'x' : '-');
  return `${name.padEnd(8)} ${String(n).padEnd(8)} ${String(nq).padEnd(5)} ${String(kp).padEnd(3)} ${best.layout.padEnd(7)} ${best.ms.toFixed(3).padEnd(8)} ${((nq / best.ms) * 1e3).toFixed(0).padEnd(10)} ${ratio(f16).padEnd(14)} ${ratio(f32)}`;
}

async function runOne(device: GPUDevice, scorer: Int8TensorScorer, nq: number, layout: LayoutName, codes: Uint8Array, reps: number) {
  let p;
  try {
    p = await scorer.prepare(nq, layout);
  } catch (e) {
    log({ what: 'skip', nq, layout, error: (e as Error).message.slice(0, 600) });
    return undefined;
  }
  p.writeQueries(codes.subarray(0, nq * scorer.opts.dPad));
  await p.run();
  const enc0 = device.createCommandEncoder();
  p.encode(enc0);
  device.queue.submit([enc0.finish()]);
  await device.queue.onSubmittedWorkDone();
  const t = performance.now();
  const enc = device.createCommandEncoder();
  for (let i = 0; i < reps; i++) p.encode(enc);
  device.queue.submit([enc.finish()]);
  await device.queue.onSubmittedWorkDone();
  const ms = (performance.now() - t) / reps;
  const { keys, ids } = await p.run();
  const tempBytes = p.tempBytes;
  p.destroy();
  return { ms, keys, ids, tempBytes };
}

async function copyBandwidth(device: GPUDevice): Promise<number> {
  const size = 1 << 30;
  const a = device.createBuffer({ size, usage: BufferUsage.COPY_SRC | BufferUsage.COPY_DST });
  const b = device.createBuffer({ size, usage: BufferUsage.COPY_SRC | BufferUsage.COPY_DST });
  const go = async (n: number) => {
    const enc = device.createCommandEncoder();
    for (let i = 0; i < n; i++) enc.copyBufferToBuffer(i % 2 ? b : a, 0, i % 2 ? a : b, 0, size);
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
  };
  // Busy for ~2 s first: run 4's first timings (this copy, small standalone batches, the first
  // searches of each fresh index) were up to 4x slow, as from a GPU still at idle clocks.
  for (const w = performance.now(); performance.now() - w < 2000; ) await go(8);
  const t = performance.now();
  await go(10);
  const s = (performance.now() - t) / 1e3;
  a.destroy();
  b.destroy();
  return +((10 * 2 * size) / s / 1e9).toFixed(1);
}

const FILL_WGSL = `
@group(0) @binding(0) var<storage, read_write> dst: array<u32>;
@group(0) @binding(1) var<uniform> p: vec4<u32>;   // words, tile, 0, 0
fn hash(x: u32) -> u32 {
  var h = x * 0x9E3779B1u;
  h ^= h >> 16u; h *= 0x85EBCA6Bu; h ^= h >> 13u; h *= 0xC2B2AE35u; h ^= h >> 16u;
  return h;
}
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  let i = g.x + g.y * 65535u * 256u;
  if (i < p.x) { dst[i] = hash(i ^ (p.y * 0x01000193u + 0x5bd1e995u)); }
}`;

function hashJs(x: number): number {
  let h = Math.imul(x >>> 0, 0x9e3779b1) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return h >>> 0;
}

/** CPU key of query i and row id of the hash-filled base (i8 bytes of the hash words). */
function hashKey(qc: Uint8Array, i: number, id: number, tileRows: number, dPad: number): number {
  const tile = Math.floor(id / tileRows);
  const local = id % tileRows;
  const salt = (Math.imul(tile, 0x01000193) + 0x5bd1e995) >>> 0;
  let s = 0;
  for (let w = 0; w < dPad / 4; w++) {
    const word = hashJs(((local * (dPad / 4) + w) ^ salt) >>> 0);
    for (let b = 0; b < 4; b++) {
      const code = ((word >>> (8 * b)) << 24) >> 24;
      const a = (qc[i * dPad + w * 4 + b]! << 24) >> 24;
      s += a * code;
    }
  }
  return s;
}

async function fillPipeline(device: GPUDevice): Promise<GPUComputePipeline> {
  return device.createComputePipelineAsync({ layout: 'auto', compute: { module: device.createShaderModule({ code: FILL_WGSL }), entryPoint: 'main' } });
}

function fillTile(device: GPUDevice, pipe: GPUComputePipeline, buf: GPUBuffer, tile: number): void {
  const words = buf.size / 4;
  const ub = device.createBuffer({ size: 16, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST });
  device.queue.writeBuffer(ub, 0, new Uint32Array([words, tile, 0, 0]));
  const bg = device.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: buf } }, { binding: 1, resource: { buffer: ub } }] });
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipe);
  pass.setBindGroup(0, bg);
  const groups = Math.ceil(words / 256);
  pass.dispatchWorkgroups(Math.min(groups, 65535), Math.ceil(groups / 65535));
  pass.end();
  device.queue.submit([enc.finish()]);
}

main().catch((e) => {
  console.error('FAILED', e);
  writeFileSync(join(OUT, 'tensor.json'), JSON.stringify(results, null, 1));
  process.exit(1);
});
