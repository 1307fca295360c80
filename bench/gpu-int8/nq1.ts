/**
 * bench/gpu-int8/nq1: where a one-query search's GPU time goes (int8, f16 and f32 storage; issue 10's
 * "1.25x the int8 read" and issue 4's f16 nq = 1 target). For each variant and storage:
 *   gpu      the shard's own search (timestamps around its one pass: scan, then merge levels), median;
 *   one      the same dispatches rebuilt here in one timed pass (should equal gpu);
 *   split    each dispatch in its own timed pass: per-step ms (scan, merge level 1, level 2, ...);
 *   scan     the scorer dispatches alone in one pass; merge: the merge levels alone in one pass;
 *   nop      one pass with one 1-workgroup dispatch (what a pass and its timestamps cost);
 *   read     a streaming read of the same bytes as the tile (the read floor at this size, not 2 GB);
 *   wall     index.search(q, 10) end to end with timestamps off (re-rank rows regenerated: pessimistic).
 * Results of 'one' are checked against the shard's search (same pairs), and each variant's ids
 * against the first variant's. Dawn opens without timestamp quantisation (65.5 us steps otherwise).
 *
 *   npx esbuild bench/gpu-int8/nq1.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
 *     --external:webgpu --ignore-annotations --outfile=out/a1/nq1.mjs
 *   node out/a1/nq1.mjs --n 1000000 --ceil 1 --precisions int8,f16 --variants 'old:m1ord=0;new'
 * --toggles a,b adds Dawn toggles to the device of the whole process (e.g. disable_robustness).
 *
 * Knobs: gt / ru / sp / ci / lanes / uw / sgs / share / shareEvery / shareOne / qbits (int8GemvTuning), m1ord
 * (mergeOneTuning.order), m1fan / m1slots / m1 (kernelTuning.mergeOneFan / mergeOneSlots /
 * mergeOne), target (kernelTuning.targetWorkgroups), hgt (kernelTuning.gemvTargetF16), nq.
 * patch=NAME (int8_gemv only): the rebuilt passes (one / scan / split, not gpu) run an edited kernel,
 * to see what a part of the scan costs; its answers are not the shard's (same_as_shard false):
 *   noselect  no row enters the candidate buffers (the scores are still computed: the compare
 *             stays, against a bound no key reaches), so no appends and no sorts;
 *   nodot     xor-folds in place of dot4I8Packed (the integer dot products' cost);
 *   noxor     codes taken as i8 without flipping their top bit;
 *   nofold    (shared bounds) publishers never write the bound word; noapply  (shared bounds) the
 *             apply kept behind a condition never true;
 *   deadatomic / deadload / deadlen  one storage atomicAdd / atomicLoad / atomicAdd at arrayLength
 *             at each check behind a condition never true (the compiler cannot prove it);
 *   ub1+ub2+ub3+ub4  (one query, shared bounds) the bound through the check's uniform load;
 *   endlen / endcnt  one lane's storage atomicLoad at the end of each check (after the sort), into
 *             the bound or the count, without bounds;
 *   xpub / xfinal / xword / xapply  (shared bounds) one part deleted;
 *   bulk64 / bulk256 / bulk1024  that many steps of straight-line code at each check, never run
 *             (the compiler cannot prove it): does the loop's code size matter?
 *   liveload / livelen  one lane's storage atomicLoad at each check, run (its value & 1 max-ed into a
 *             count: the lists change only where the loaded word is odd, which a zeroed scratch is not).
 *   wg512 / wg1024  workgroups of 512 / 1024 invocations (with gt: 264 / 132 for one wave); one
 *             query at k' 40 only (the plan's buffers are sized for 256);
 *   ldsel     each load of a row's words unconditional (index 0 where out of range), the value selected
 *             (same answers as the shard's).
 * Call g5's merge_one patch (mpatch=msel) became merge_one's own loads; nq1.ts at g5's COMMIT has it.
 * Several patches: patch=a+b+c. Patches written for earlier versions of the bounds' code (calls
 * e5-e13: nopublish, nowordread, noword, nopub, xleave) are gone with that code; nq1.ts at each
 * call's COMMIT has them.
 * One JSON line a case on stdout, a table on stderr.
 */
import { parseArgs } from 'node:util';
import '../../src/node.js';
import { BufferUsage, MapMode } from '../../src/gpu/device.js';
import { loadDawnGpu } from '../../src/gpu/dawn.js';
import { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import { heapSlots, kernelTuning } from '../../src/gpu/flat-shard.js';
import { int8GemvBoundAt, int8GemvPipeline, int8GemvTuning, planInt8Gemv, quantizeInt8Queries } from '../../src/gpu/int8-gemv.js';
import int8GemvWgsl from '../../shaders/int8_gemv.wgsl';
import { mergeOneFan, mergeOneKey, mergeOnePipeline, mergeOneTuning, planMergeOne } from '../../src/gpu/merge-one.js';
import { measureCeilings } from '../gpu-flat/ceilings.js';
import { syntheticQueries, syntheticRow } from '../gpu-flat/synthetic.js';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '1000000' },
    d: { type: 'string', default: '768' },
    nq: { type: 'string', default: '1' },
    precisions: { type: 'string', default: 'int8,f16' },
    variants: { type: 'string', default: 'default' },
    reps: { type: 'string', default: '40' },
    ceil: { type: 'string', default: '0' },
    wall: { type: 'string', default: '1' },
    // More Dawn toggles for this process's device, comma-separated (e.g. disable_robustness).
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
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const r4 = (x: number) => +x.toFixed(4);

if (values.ceil === '1') {
  const dev = await adapter.requestDevice({ requiredFeatures: ['timestamp-query'], requiredLimits: { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize } });
  const c = await measureCeilings(dev, 1);
  console.log(JSON.stringify({ case: 'ceilings', ...c, int8_read_floor_ms: r4(((n * d) / (c.read_gbps * 1e9)) * 1e3), f16_read_floor_ms: r4(((n * d * 2) / (c.read_gbps * 1e9)) * 1e3), f32_read_floor_ms: r4(((n * d * 4) / (c.read_gbps * 1e9)) * 1e3), n, d }));
  dev.destroy();
}

const queries = syntheticQueries(16, d, 777);
const READ_WGSL = /* wgsl */ `
@group(0) @binding(0) var<storage, read> src: array<vec4<u32>>;
@group(0) @binding(1) var<storage, read_write> sink: array<vec4<u32>>;
@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) g: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let stride = nw.x * 256u;
  let n = arrayLength(&src);
  var acc = vec4<u32>(0u);
  var acc2 = vec4<u32>(0u);
  var i = g.x;
  for (; i + stride < n; i += 2u * stride) { acc ^= src[i]; acc2 ^= src[i + stride]; }
  if (i < n) { acc ^= src[i]; }
  let r = acc ^ acc2;
  if (r.x == 0x12345678u && r.y == 0x9abcdef0u) { sink[0] = r; }
}`;
const NOP_WGSL = /* wgsl */ `
@group(0) @binding(0) var<storage, read_write> sink: array<u32>;
@compute @workgroup_size(64)
fn main(@builtin(local_invocation_index) i: u32) { if (i == 0u) { sink[0] = sink[0] + 1u; } }`;

interface ScorerChoice { pipeline: GPUComputePipeline; BR: number; BQ: number; key: string; fold?: boolean; quant?: number; target?: number; prep?: unknown; scratch?: number; boundWords?: boolean }
interface ShardInner {
  search(q: Float32Array, nq: number, k: number): Promise<{ keys: Float32Array; ids: Uint32Array }>;
  enableTimestamps(): boolean;
  gpuNs: number;
  timer: unknown;
  scorerFor(nq: number, k: number): ScorerChoice;
  segmentPlan(rows: number, nq: number, k: number, BR: number, BQ: number, target?: number): { segLen: number; nseg: number };
  foldQueries(q: Float32Array, nq: number): Float32Array;
  dummySq(): Promise<GPUBuffer>;
  tiles: { buffer: GPUBuffer; rows: number; capacity: number }[];
  rowWords: number;
  rowBytes: number;
  subgroupMinSize: number | undefined;
  hasDot4: boolean;
  q4: number;
  sqHost?: Float32Array;
  sqBuffer?: GPUBuffer;
  ctx: { device: GPUDevice; maxWorkgroupStorage: number };
}

const defaults = { g: { ...int8GemvTuning }, k: { ...kernelTuning }, m: { ...mergeOneTuning } };
// A block of straight-line integer code (n steps of an LCG on the row counter), stored to `out`.
const bulk = (n: number) => `      if (li == 0u && it == 0xfffffff0u) {\n        var z = it + seg;\n${'        z = z * 1664525u + (z >> 7u) + 1013904223u;\n'.repeat(n)}        atomicStore(&out[0], z);\n      }\n`;
const CHECK_HEAD = '      workgroupBarrier();\n      if (li == 0u) {\n        var m = 0u;';
const PATCHES: Record<string, [string, string]> = {
  noselect: ['if (better(key, id, thK, thI)) {', 'if (better(key, id, thK, thI) && key > 3.0e38) {'],
  nodot: ['return dot4I8Packed(c.x, q.x) + dot4I8Packed(c.y, q.y) + dot4I8Packed(c.z, q.z) + dot4I8Packed(c.w, q.w);', 'return bitcast<i32>((c.x ^ q.x) + (c.y ^ q.y) + (c.z ^ q.z) + (c.w ^ q.w));'],
  noxor: ['let c = raw[u * UW + x] ^ vec4<u32>(0x80808080u);', 'let c = raw[u * UW + x];'],
  nofold: ['atomicMax(&out[boundAt() + q0 + li], bucketsMin(q0 + li));', ''],
  noapply: ['if (w > thK) {', 'if (w > thK && w < negInf()) {'],
  deadatomic: ['      workgroupBarrier();\n      if (li == 0u) {\n        var m = 0u;', '      if (li == 0u && it == 0xfffffff0u) { atomicAdd(&out[0], 1u); }\n      workgroupBarrier();\n      if (li == 0u) {\n        var m = 0u;'],
  deadlen: ['      workgroupBarrier();\n      if (li == 0u) {\n        var m = 0u;', '      if (li == 0u && it == 0xfffffff0u) { atomicAdd(&out[arrayLength(&out) - 1u], 1u); }\n      workgroupBarrier();\n      if (li == 0u) {\n        var m = 0u;'],
  livelen: ['      workgroupBarrier();\n      if (li == 0u) {\n        var m = 0u;', '      if (li == 0u) { atomicMax(&cnt[0], atomicLoad(&out[arrayLength(&out) - 1u]) & 1u); }\n      workgroupBarrier();\n      if (li == 0u) {\n        var m = 0u;'],
  liveload: ['      workgroupBarrier();\n      if (li == 0u) {\n        var m = 0u;', '      if (li == 0u) { atomicMax(&cnt[0], atomicLoad(&out[0]) & 1u); }\n      workgroupBarrier();\n      if (li == 0u) {\n        var m = 0u;'],
  // One query (shareOne=1): the bound reaches every lane through the check's workgroupUniformLoad
  // (a uniform value), not a per-lane atomicLoad.
  ub1: ['var<workgroup> pend: u32;', 'var<workgroup> pend: vec2<u32>;'],
  ub2: ['        pend = m;', '        pend = vec2<u32>(m, atomicLoad(&bound[0]));'],
  ub3: ['      let m = min(workgroupUniformLoad(&pend), SP);', '      let pu = workgroupUniformLoad(&pend);\n      let m = min(pu.x, SP);'],
  ub4: ['        let w = keyOfOrdered(atomicLoad(&bound[mq]));', '        let w = keyOfOrdered(pu.y);'],
  // Code size: 64 / 256 / 1024 steps of dead (never run, not provably) straight-line code at each check.
  bulk64: [CHECK_HEAD, bulk(64) + CHECK_HEAD],
  bulk256: [CHECK_HEAD, bulk(256) + CHECK_HEAD],
  bulk1024: [CHECK_HEAD, bulk(1024) + CHECK_HEAD],
  // The end of the check (after the sort): one lane's storage atomicLoad there, without bounds
  // (endlen; endcnt into the count as liveload).
  endlen: ['      if (SHB > 0u) {\n        let w = keyOfOrdered', '      if (li == 0u) { atomicMax(&bound[0], atomicLoad(&out[arrayLength(&out) - 1u]) & 1u); }\n      if (SHB > 0u) {\n        let w = keyOfOrdered'],
  endcnt: ['      if (SHB > 0u) {\n        let w = keyOfOrdered', '      if (li == 0u) { atomicMax(&cnt[0], atomicLoad(&out[arrayLength(&out) - 1u]) & 1u); }\n      if (SHB > 0u) {\n        let w = keyOfOrdered'],
  // Delete the publish at the check (xpub), the one after the loop (xfinal), the word's read
  // (xword), the apply (xapply).
  xpub: ['        publish(li, seg, q0, atomicExchange(&toPublish[li], 0u));\n', ''],
  xfinal: ['  if (SHB > 0u && li < nq) { publish(li, seg, q0, atomicLoad(&toPublish[li])); }\n', ''],
  xword: ['        if (((it + 1u) / CI + params.segAt + seg) % SHS == 0u) {\n          atomicMax(&bound[li], atomicLoad(&out[boundAt() + q0 + li]));\n        }\n', ''],
  xapply: ['        let w = keyOfOrdered(atomicLoad(&bound[mq]));\n        if (w > thK) {\n          thK = w;\n          thI = EMPTY_ID;\n        }\n', ''],
  // Larger workgroups (fewer lists at the same occupancy; the plan's SP / CI, made for 256, still
  // leave room: SP 512 >= 40 + 3 * 128 at one query, k' 40).
  wg512: ['const WG: u32 = 256u;', 'const WG: u32 = 512u;'],
  wg1024: ['const WG: u32 = 256u;', 'const WG: u32 = 1024u;'],
  // Each load of a row's words unconditional (from index 0 where out of range), its value selected.
  ldsel: ['          var v = vec4<u32>(0u);\n          if (row < end && w < rw) { v = base[row * rw + w]; }\n          raw[u * UW + x] = v;', '          let ok = row < end && w < rw;\n          let v = base[select(0u, row * rw + w, ok)];\n          raw[u * UW + x] = select(vec4<u32>(0u), v, ok);'],
  deadload: ['      workgroupBarrier();\n      if (li == 0u) {\n        var m = 0u;', '      if (li == 0u && it == 0xfffffff0u) { atomicStore(&cnt[0], atomicLoad(&out[0])); }\n      workgroupBarrier();\n      if (li == 0u) {\n        var m = 0u;'],
};

function applyKnobs(knobText: string): { nqs?: number[]; patch?: string[] } {
  Object.assign(int8GemvTuning, defaults.g);
  Object.assign(kernelTuning, defaults.k);
  Object.assign(mergeOneTuning, defaults.m);
  let nqs: number[] | undefined;
  let patch: string[] | undefined;
  for (const kv of knobText.split(',').filter(Boolean)) {
    const [key, val = ''] = kv.split('=');
    const v = Number(val);
    if (key === 'ru' || key === 'sp' || key === 'ci' || key === 'lanes' || key === 'uw' || key === 'sgs' || key === 'share' || key === 'shareEvery' || key === 'shareOne') int8GemvTuning[key] = v;
    else if (key === 'qbits') int8GemvTuning.qbits = v as 8 | 16;
    else if (key === 'gt') int8GemvTuning.targetWorkgroups = v;
    else if (key === 'm1ord') mergeOneTuning.order = v;
    else if (key === 'm1') kernelTuning.mergeOne = v;
    else if (key === 'm1fan') kernelTuning.mergeOneFan = v;
    else if (key === 'm1slots') kernelTuning.mergeOneSlots = v;
    else if (key === 'target') kernelTuning.targetWorkgroups = v;
    else if (key === 'hgt') kernelTuning.gemvTargetF16 = v;
    else if (key === 'nq') nqs = val.split('/').map(Number);
    else if (key === 'patch' && val.split('+').every((x) => x in PATCHES)) patch = val.split('+');
    else throw new Error(`unknown knob ${key}${key === 'patch' ? `=${val}` : ''}`);
  }
  return { nqs, patch };
}

async function profileIndex(precision: 'int8' | 'f16' | 'f32'): Promise<void> {
  const index = await GpuFlatIndex.create(d, 'ip', { precision, gpu, allowExperimental: true });
  const hostRow = (id: number, out: Float32Array) => syntheticRow(SEED, id, d, out);
  await index.addGenerated(n, SEED, hostRow, Math.sqrt(3 / d) * 1.05);
  console.error(`${since()} ${precision} index of ${n} rows`);
  const shard = (index as unknown as { shards: ShardInner[] }).shards[0]!;
  shard.enableTimestamps();
  const timer = shard.timer;
  const device = shard.ctx.device;
  const dp = shard.q4 * 4;
  // The index's k for its batches of 1-4 queries (f16 selects k' only from tensorTuning.f16MinBatch:
  // call h10 ran f16 with gpuK(10)'s k' = 40, 0.58 ms against the index's 0.41).
  const kp = index.gpuK(10, 1);
  const padded = (nq: number): Float32Array => {
    const out = new Float32Array(nq * dp);
    for (let q = 0; q < nq; q++) out.set(queries.subarray(q * d, (q + 1) * d), q * dp);
    return out;
  };
  const sq = shard.sqBuffer ?? (await shard.dummySq());
  const tile0 = shard.tiles[0]!;
  const tileBytes = Math.floor((tile0.rows * shard.rowBytes) / 16) * 16;
  const sink = device.createBuffer({ size: 4096, usage: BufferUsage.STORAGE });
  const setN = 64;
  const set = device.createQuerySet({ type: 'timestamp', count: setN });
  const resolve = device.createBuffer({ size: setN * 8, usage: BufferUsage.QUERY_RESOLVE | BufferUsage.COPY_SRC });
  const read = device.createBuffer({ size: setN * 8, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });

  /** Runs `encode` (which writes timestamps 2i, 2i+1 for its passes) reps + 2 times; per-pass medians. */
  async function timePasses(passes: number, encode: (enc: GPUCommandEncoder, ts: (i: number) => GPUComputePassDescriptor) => void): Promise<number[]> {
    const times: number[][] = Array.from({ length: passes }, () => []);
    for (let r = 0; r < reps + 2; r++) {
      const enc = device.createCommandEncoder();
      encode(enc, (i) => ({ timestampWrites: { querySet: set, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } }));
      enc.resolveQuerySet(set, 0, 2 * passes, resolve, 0);
      enc.copyBufferToBuffer(resolve, 0, read, 0, 16 * passes);
      device.queue.submit([enc.finish()]);
      await read.mapAsync(MapMode.READ);
      const t = new BigUint64Array(read.getMappedRange(0, 16 * passes).slice(0));
      read.unmap();
      if (r >= 2) for (let i = 0; i < passes; i++) times[i]!.push(Number(t[2 * i + 1]! - t[2 * i]!) / 1e6);
    }
    return times.map(median);
  }

  // What a pass costs, and the tile's bytes read by a plain streaming kernel.
  const nop = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code: NOP_WGSL }), entryPoint: 'main' } });
  const nopBg = device.createBindGroup({ layout: nop.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: sink } }] });
  const [nopMs] = await timePasses(1, (enc, ts) => { const p = enc.beginComputePass(ts(0)); p.setPipeline(nop); p.setBindGroup(0, nopBg); p.dispatchWorkgroups(1); p.end(); });
  const rd = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code: READ_WGSL }), entryPoint: 'main' } });
  const rdBg = device.createBindGroup({ layout: rd.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: tile0.buffer, offset: 0, size: tileBytes } }, { binding: 1, resource: { buffer: sink } }] });
  const readMs: Record<string, number> = {};
  for (const wg of [528, 1056, 2112]) {
    readMs[wg] = r4((await timePasses(1, (enc, ts) => { const p = enc.beginComputePass(ts(0)); p.setPipeline(rd); p.setBindGroup(0, rdBg); p.dispatchWorkgroups(wg); p.end(); }))[0]!);
  }
  console.log(JSON.stringify({ case: 'base', precision, n, d, kp, tile_bytes: tileBytes, nop_pass_ms: r4(nopMs!), read_tile_ms: readMs, read_tile_gbps: Object.fromEntries(Object.entries(readMs).map(([w, ms]) => [w, Math.round(tileBytes / ms / 1e6)])) }));

  const firstIds = new Map<number, Uint32Array>();
  for (const spec of values.variants!.split(';').filter(Boolean)) {
    const [name, knobText = ''] = spec.split(':');
    const { nqs = values.nq!.split(',').map(Number), patch } = applyKnobs(knobText);
    for (const nq of nqs) {
      try {
        const q = padded(nq);
        // The shard's own search, its one pass timed.
        shard.timer = timer;
        const gpuTimes: number[] = [];
        let last: { keys: Float32Array; ids: Uint32Array } | undefined;
        for (let r = 0; r < reps + 2; r++) {
          shard.gpuNs = 0;
          last = await shard.search(q, nq, kp);
          if (r >= 2) gpuTimes.push(shard.gpuNs / 1e6);
        }
        // The same dispatches, rebuilt (flat-shard.ts submitBatch: all tiles' lists share one region).
        let sc = shard.scorerFor(nq, kp);
        if (sc.prep) throw new Error('scorer with a pre-pass: not rebuilt here');
        if (patch) {
          const plan = planInt8Gemv({ rowWords: shard.rowWords, subgroupMinSize: shard.subgroupMinSize, hasDot4: shard.hasDot4, maxWorkgroupStorage: shard.ctx.maxWorkgroupStorage }, nq, heapSlots(kp));
          if (!('NQ' in plan) || !sc.key.startsWith('i8gemv')) throw new Error('patch: int8_gemv only');
          let src = int8GemvWgsl;
          for (const name of patch) {
            const [from, to] = PATCHES[name]!;
            if (!src.includes(from)) throw new Error(`patch ${name}: its text is not in int8_gemv.wgsl`);
            src = src.replace(from, to);
          }
          sc = { ...sc, pipeline: int8GemvPipeline(device, plan, src), key: `${sc.key}:${patch.join('+')}` };
        }
        let qd = q;
        if (sc.fold) qd = shard.foldQueries(qd, nq);
        if (sc.quant) qd = quantizeInt8Queries(qd, nq, shard.rowWords, shard.sqHost!, sc.quant);
        const plans = shard.tiles.filter((t) => t.rows > 0).map((t) => ({ t, ...shard.segmentPlan(t.rows, nq, kp, sc.BR, sc.BQ, sc.target) }));
        const totalSegs = plans.reduce((s, p) => s + p.nseg, 0);
        const one = kernelTuning.mergeOne ? planMergeOne(kp, shard.ctx.maxWorkgroupStorage, kernelTuning.mergeOneSlots) : undefined;
        if (!one || nq > 4) throw new Error('merge_one off or nq > 4: not rebuilt here');
        const fan = mergeOneFan(totalSegs, kp, kernelTuning.mergeOneFan);
        // The scorer's scratch (int8_gemv's shared bounds) ends region A, zeroed before each pass that scans.
        const scratch = sc.scratch ?? 0;
        const regionA = nq * totalSegs * kp + scratch;
        const regionB = nq * Math.ceil(totalSegs / fan) * kp;
        const runAt = regionA + regionB;
        const candBytes = (runAt + nq * kp) * 8;
        const cand = device.createBuffer({ size: candBytes, usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST });
        const qBuf = device.createBuffer({ size: Math.ceil(qd.byteLength / 16) * 16, usage: BufferUsage.STORAGE | BufferUsage.COPY_DST });
        device.queue.writeBuffer(qBuf, 0, qd.buffer, qd.byteOffset, qd.byteLength);
        const mergePipe = mergeOnePipeline(device, one);
        const steps: { pipeline: GPUComputePipeline; bg: GPUBindGroup; groups: [number, number]; kind: string }[] = [];
        const uniData: number[][] = [];
        const uni = device.createBuffer({ size: 256 * 16, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST });
        let segAt = 0;
        let idBase = 0;
        for (const p of plans) {
          const i = uniData.length;
          uniData.push([nq, p.t.rows, shard.rowWords, shard.q4, kp, p.segLen, totalSegs, idBase, segAt]);
          steps.push({
            pipeline: sc.pipeline,
            bg: device.createBindGroup({
              layout: sc.pipeline.getBindGroupLayout(0),
              entries: [
                { binding: 0, resource: { buffer: uni, offset: 256 * i, size: 48 } },
                { binding: 1, resource: { buffer: p.t.buffer, offset: 0, size: p.t.capacity * shard.rowBytes } },
                { binding: 2, resource: { buffer: qBuf } },
                { binding: 3, resource: { buffer: sq } },
                { binding: 4, resource: { buffer: cand, offset: 0, size: regionA * 8 } },
              ],
            }),
            groups: [p.nseg, Math.ceil(nq / sc.BQ)],
            kind: 'scan',
          });
          segAt += p.nseg;
          idBase += p.t.rows;
        }
        let nIn = totalSegs;
        let inAt = 0;
        for (;;) {
          const nOut = Math.ceil(nIn / fan);
          const lastLevel = nOut === 1;
          const outAt = lastLevel ? runAt : inAt === 0 ? regionA : 0;
          const i = uniData.length;
          // merge_one starts from int8_gemv's bound words (the first of its scratch), as the shard does.
          uniData.push([nq, nIn, fan, nOut, kp, inAt, outAt, runAt, 0, scratch && sc.boundWords ? int8GemvBoundAt(regionA, scratch) : 0]);
          steps.push({
            pipeline: mergePipe,
            bg: device.createBindGroup({ layout: mergePipe.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: uni, offset: 256 * i, size: 48 } }, { binding: 1, resource: { buffer: cand } }] }),
            groups: [nOut, nq],
            kind: `merge${nIn}`,
          });
          if (lastLevel) break;
          nIn = nOut;
          inAt = outAt;
        }
        uniData.forEach((u, i) => device.queue.writeBuffer(uni, 256 * i, new Uint32Array(u)));
        const dispatch = (p: GPUComputePassEncoder, s: (typeof steps)[number]) => { p.setPipeline(s.pipeline); p.setBindGroup(0, s.bg); p.dispatchWorkgroups(s.groups[0], s.groups[1]); };
        const clearScratch = (enc: GPUCommandEncoder) => { if (scratch) enc.clearBuffer(cand, (regionA - scratch) * 8, scratch * 8); };
        const inOne = (sel: (s: (typeof steps)[number]) => boolean) => timePasses(1, (enc, ts) => { clearScratch(enc); const p = enc.beginComputePass(ts(0)); for (const s of steps.filter(sel)) dispatch(p, s); p.end(); });
        const [oneMs] = await inOne(() => true);
        // The rebuilt pass's answer against the shard's.
        const out = device.createBuffer({ size: nq * kp * 8, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
        {
          const enc = device.createCommandEncoder();
          clearScratch(enc);
          const p = enc.beginComputePass();
          for (const s of steps) dispatch(p, s);
          p.end();
          enc.copyBufferToBuffer(cand, runAt * 8, out, 0, nq * kp * 8);
          device.queue.submit([enc.finish()]);
          await out.mapAsync(MapMode.READ);
        }
        const pairs = new Uint32Array(out.getMappedRange().slice(0));
        out.destroy();
        let sameAsShard = true;
        for (let i = 0; i < nq * kp; i++) if (pairs[2 * i + 1] !== last!.ids[i]) sameAsShard = false;
        const split = await timePasses(steps.length, (enc, ts) => { clearScratch(enc); steps.forEach((s, i) => { const p = enc.beginComputePass(ts(i)); dispatch(p, s); p.end(); }); });
        const [scanMs] = await inOne((s) => s.kind === 'scan');
        const [mergeMs] = await inOne((s) => s.kind !== 'scan');
        for (const b of [cand, qBuf, uni]) b.destroy();
        const first = firstIds.get(nq);
        const ids = last!.ids.slice();
        if (!first) firstIds.set(nq, ids);
        const row: Record<string, unknown> = {
          case: 'nq1', precision, variant: name, n, d, nq, kp, kernel: sc.key, merge: mergeOneKey(one), fan, lists: totalSegs,
          gpu_ms: r4(median(gpuTimes)), gpu_min_ms: r4(Math.min(...gpuTimes)), one_ms: r4(oneMs!), scan_ms: r4(scanMs!), merge_ms: r4(mergeMs!),
          split_ms: Object.fromEntries(steps.map((s, i) => [`${i}:${s.kind}`, r4(split[i]!)])), split_sum_ms: r4(split.reduce((a, b) => a + b, 0)),
          same_as_shard: sameAsShard, same_as_first: first ? first.every((x, i) => x === ids[i]) : undefined,
        };
        if (values.wall === '1' && nq === 1) {
          shard.timer = undefined;
          const walls: number[] = [];
          for (let r = 0; r < reps + 2; r++) {
            const t = performance.now();
            await index.search(queries.subarray(0, d), 10);
            if (r >= 2) walls.push(performance.now() - t);
          }
          row.wall_ms = r4(median(walls));
          shard.timer = timer;
        }
        console.log(JSON.stringify(row));
        console.error(`${precision.padEnd(4)} ${String(name).padEnd(10)} nq=${nq} gpu ${row.gpu_ms} one ${row.one_ms} scan ${row.scan_ms} merge ${row.merge_ms} split ${JSON.stringify(row.split_ms)} wall ${row.wall_ms ?? '-'} ${sameAsShard ? '' : 'NOT-SAME-AS-SHARD'} ${row.same_as_first === false ? 'DIFF-FROM-FIRST' : ''}`);
      } catch (e) {
        console.log(JSON.stringify({ case: 'nq1', precision, variant: name, nq, error: (e as Error).message }));
      }
    }
  }
  for (const b of [sink, resolve, read]) b.destroy();
  set.destroy();
  await index.dispose();
}

for (const p of values.precisions!.split(',').filter(Boolean)) await profileIndex(p as 'int8' | 'f16' | 'f32');
console.error(`${since()} done`);
