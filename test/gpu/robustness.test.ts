/**
 * `disableRobustness`: Dawn opened with `disable_robustness` drops every bounds clamp Tint adds and
 * Vulkan's robustBufferAccess, so the kernels must stay in bounds on their own. The flat kernels
 * (flat_gemv, one tile or several a dispatch; flat_fused in its shapes, merge_lists, fill_random,
 * f16 / int8 decoding), int8_gemv and the tensor hook's pre-pass (int8_mma_prep, with the hook's
 * matrix calls emulated) run here on such a device with poisoned candidate buffers: results equal,
 * bit for bit, those of a default device, and match the float64 oracle (int8_gemv: of its
 * quantised scores).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadDawnGpu } from '../../src/gpu/dawn.js';
import { acquireDevice, BufferUsage, dawnFlags, type GpuContext, MapMode } from '../../src/gpu/device.js';
import { GpuFlatIndex, type GpuFlatOptions } from '../../src/gpu/flat-index.js';
import { FlatShard, kernelTuning, registerChunkScorer, type ShardResult } from '../../src/gpu/flat-shard.js';
import { int8GemvPipeline, int8GemvScratch, int8GemvTuning, planInt8Gemv, quantizeInt8Queries, quantizeQuery } from '../../src/gpu/int8-gemv.js';
import { tensorTuning } from '../../src/gpu/tensor/hook.js';
import { encodeRows, paddedDim, trainSq } from '../../src/gpu/tensor/quantize.js';
import type { Metric, SearchResult } from '../../src/core/types.js';
import { clusteredVectors, normalizeRows, randomVectors } from '../helpers/data.js';
import { syntheticRow } from '../../bench/gpu-flat/synthetic.js';
import { bruteForce, distanceTolerance, expectMatchesOracle, recallAtK, trueDistance } from '../helpers/oracle.js';
import { emulatedHookScorer } from '../helpers/emulate-matrices.js';
import { gpuForTests } from '../helpers/gpu.js';
import { expectInt8KeysMatchOracle } from '../helpers/int8-keys.js';

const hasGpu = await gpuForTests('GPU kernels without robustness');
const defaults = { ...kernelTuning };
let seed = 9100;

/** Searches the same rows on a default device and on one without robustness; returns both. */
async function both(d: number, metric: Metric, base: Float32Array, q: Float32Array, k: number, opts: GpuFlatOptions): Promise<[SearchResult, SearchResult]> {
  const out: SearchResult[] = [];
  for (const disableRobustness of [false, true]) {
    const index = await GpuFlatIndex.create(d, metric, { ...opts, disableRobustness, debugPoison: true });
    try {
      await index.add(base);
      out.push(await index.search(q, k));
    } finally {
      await index.dispose();
    }
  }
  return [out[0]!, out[1]!];
}

function expectSame(a: SearchResult, b: SearchResult, what: string): void {
  expect(Array.from(b.labels), what).toEqual(Array.from(a.labels));
  expect(Array.from(new Uint32Array(b.distances.buffer, b.distances.byteOffset, b.distances.length)), what).toEqual(
    Array.from(new Uint32Array(a.distances.buffer, a.distances.byteOffset, a.distances.length)),
  );
}

describe('dawnFlags', () => {
  it('names the toggles in one enable-dawn-features flag, none by default', () => {
    expect(dawnFlags({})).toEqual([]);
    expect(dawnFlags({ allowExperimental: true })).toEqual(['enable-dawn-features=allow_unsafe_apis']);
    expect(dawnFlags({ disableRobustness: true })).toEqual(['enable-dawn-features=disable_robustness']);
    // Both: the f16 two-pass scan's f16 matrices on NVIDIA too (IndexOptions.f16TwoPass defaults on there).
    expect(dawnFlags({ allowExperimental: true, disableRobustness: true })).toEqual(['enable-dawn-features=allow_unsafe_apis,vulkan_enable_f16_on_nvidia,disable_robustness']);
  });
});

describe.skipIf(!hasGpu)('gpu flat kernels with disable_robustness', () => {
  afterEach(() => void Object.assign(kernelTuning, defaults));

  it('the option opens its own Dawn instance with the toggle; a given GPU object is used as it is', async () => {
    const ctx = await acquireDevice({ disableRobustness: true });
    try {
      expect(ctx.gpu).toBe(await loadDawnGpu(['enable-dawn-features=disable_robustness']));
    } finally {
      ctx.destroy();
    }
    const plain = await loadDawnGpu([]);
    const given = await acquireDevice({ gpu: plain, disableRobustness: true });
    try {
      expect(given.gpu).toBe(plain);
    } finally {
      given.destroy();
    }
  });

  // nq 1 / 4: flat_gemv (subgroups) or the small flat_fused block; 33: the mid block; 70: the
  // compute-bound 4 x 8 block. d not a multiple of 4; 3 tiles with a partial last segment and block.
  it.each([
    [1, 13, 'ip'],
    [1, 770, 'l2'], // a row longer than a subgroup covers in one pass (flat_gemv without query registers)
    [4, 30, 'l2'],
    [33, 99, 'ip'],
    [70, 131, 'l2'],
  ] as const)('nq=%i d=%i %s: f32 equals the default device bit for bit and the float64 oracle (both subgroup paths)', async (nq, d, metric) => {
    const n = 1537;
    const base = randomVectors(n, d, seed++);
    const q = randomVectors(nq, d, seed++);
    const want = bruteForce(base, q, d, 10, metric);
    kernelTuning.targetWorkgroups = kernelTuning.gemmTarget = kernelTuning.gemmTargetF16 = 4; // segments of several blocks
    for (const noSubgroups of [false, true]) {
      const [robust, bare] = await both(d, metric, base, q, 10, { maxTileBytes: Math.ceil(d / 4) * 16 * 600, noSubgroups });
      expectSame(robust, bare, `noSubgroups=${noSubgroups}`);
      expectMatchesOracle(bare, want, distanceTolerance(d, metric === 'l2' ? 8 * d : 4 * d), base, q, d, metric);
    }
  });

  // flat_gemv over several tiles a dispatch (gemvTilesSource; the default on a GPU, while lavapipe keeps
  // one): each tile's copy of the scan reads its own binding, within its tile's rows (the last pair's
  // second tile is the smaller one, read within its own rows and segments).
  it.each([
    [1, 13, 'ip'],
    [3, 13, 'l2'],
    [1, 770, 'ip'],
  ] as const)('nq=%i d=%i %s, 2 tiles a dispatch (5 tiles of 240 rows and one of 97): equal to the default device bit for bit and the float64 oracle', async (nq, d, metric) => {
    const n = 1297;
    const base = randomVectors(n, d, seed++);
    const q = randomVectors(nq, d, seed++);
    Object.assign(kernelTuning, { targetWorkgroups: 3, gemvTiles: 2, gemvMultiFrom: 5 }); // segments of several rows, the last one partial; 3 queries on flat_gemv
    // Dispatches that took two tiles (FlatShard.gemvRun), on both devices.
    const shard = FlatShard.prototype as unknown as { gemvRun: (...a: unknown[]) => number };
    const gemvRun = shard.gemvRun;
    const groups: number[] = [];
    shard.gemvRun = function (this: unknown, ...a: unknown[]) {
      const n = gemvRun.apply(this, a);
      if (n > 1) groups.push(n);
      return n;
    };
    let robust: SearchResult, bare: SearchResult;
    try {
      [robust, bare] = await both(d, metric, base, q, 10, { maxTileBytes: Math.ceil(d / 4) * 16 * 240 });
    } finally {
      shard.gemvRun = gemvRun;
    }
    // 3 pairs a search (compiled before the submit lock, then dispatched) on each device.
    expect(groups).toEqual(Array<number>(12).fill(2));
    expectSame(robust, bare, 'gemvTiles 2');
    expectMatchesOracle(bare, bruteForce(base, q, d, 10, metric), distanceTolerance(d, metric === 'l2' ? 8 * d : 4 * d), base, q, d, metric);
  });

  it('f16 (native and packed) and int8 (folded ip, decoded l2; KC 8 over an odd row) equal the default device', async () => {
    const d = 45; // f16: 6 words a row; int8: 3 words (a KC 8 step runs past the row)
    const n = 900;
    const base = randomVectors(n, d, seed++);
    for (const nq of [2, 64]) {
      const q = randomVectors(nq, d, seed++);
      for (const [precision, metric, noShaderF16, kc] of [['f16', 'ip', false, 4], ['f16', 'l2', true, 4], ['int8', 'ip', false, 4], ['int8', 'l2', false, 8]] as const) {
        kernelTuning.kc = kc;
        const [robust, bare] = await both(d, metric, base, q, 10, { precision, noShaderF16, maxTileBytes: 1 << 13 });
        expectSame(robust, bare, `${precision} ${metric} nq=${nq} packed=${noShaderF16} kc=${kc}`);
      }
    }
    // f16 rows of several words a lane (flat_gemv loads the lane's share of one row; d = 770: 97 words).
    const long = randomVectors(600, 770, seed++);
    const q = randomVectors(3, 770, seed++);
    const [robust, bare] = await both(770, 'ip', long, q, 10, { precision: 'f16' });
    expectSame(robust, bare, 'f16 d=770');
    expect(recallAtK(bare, bruteForce(long, q, 770, 10, 'ip'))).toBeGreaterThanOrEqual(0.9);
  });

  it('k beyond N pads with -1, k = 1024 over tiles, many merge levels: equal and exact', async () => {
    const d = 6;
    kernelTuning.mergeFanIn = 2;
    for (const [n, k, nq] of [[300, 310, 1], [300, 300, 5], [2500, 1024, 3]] as const) {
      const base = randomVectors(n, d, seed++);
      const q = randomVectors(nq, d, seed++);
      const [robust, bare] = await both(d, 'ip', base, q, k, { maxTileBytes: 16 * 1000 });
      expectSame(robust, bare, `n=${n} k=${k}`);
      expectMatchesOracle(bare, bruteForce(base, q, d, k, 'ip'), distanceTolerance(d, d), base, q, d, 'ip');
    }
  });

  it('rows generated on the GPU (fill_random, f32 / f16 / int8) search the same as on the default device', async () => {
    const d = 37;
    const n = 1200;
    const q = randomVectors(5, d, seed++);
    const row = (id: number, out: Float32Array) => syntheticRow(42, id, d, out); // int8 re-ranks against these
    for (const precision of ['f32', 'f16', 'int8'] as const) {
      const got: SearchResult[] = [];
      for (const disableRobustness of [false, true]) {
        const index = await GpuFlatIndex.create(d, 'ip', { precision, disableRobustness, debugPoison: true, maxTileBytes: 1 << 14 });
        try {
          await index.addGenerated(n, 42, row, Math.sqrt(3 / d) * 1.05);
          got.push(await index.search(q, 8));
        } finally {
          await index.dispose();
        }
      }
      expectSame(got[0]!, got[1]!, precision);
    }
  });
});

interface Int8Case {
  name: string;
  n: number;
  d: number;
  /** Batch sizes searched on the same shards (int8_gemv blocks of 4 queries: 1..4 cover a partial block). */
  nqs: number[];
  ks: number[];
  /** Rows a tile. */
  tileRows: number;
  tuning?: Partial<typeof int8GemvTuning>;
}

describe.skipIf(!hasGpu)('int8_gemv with disable_robustness', () => {
  const saved = { ...int8GemvTuning };
  const ctxs: GpuContext[] = [];
  beforeAll(async () => {
    ctxs.push(await acquireDevice({ label: 'robust' }), await acquireDevice({ label: 'no robustness', disableRobustness: true }));
  });
  afterAll(() => {
    Object.assign(int8GemvTuning, saved);
    for (const c of ctxs) c.destroy();
  });

  // lavapipe: 8-lane subgroups, so 32 heaps a workgroup in 32 KiB: k' <= 32 (heap slots) here.
  const cases: Int8Case[] = [
    // 7 words a row (4 lanes a row, 2 rows a subgroup), tiles of 600 / last 199 rows (an odd row
    // count: the subgroup's second row past the end); the default target (2 rows a workgroup, most
    // subgroups idle) and 3 workgroups a tile (4 passes of 64 rows, the last partial).
    { name: 'd=100, 4 tiles, default target', n: 1999, d: 100, nqs: [1, 2, 3, 4], ks: [10], tileRows: 600 },
    { name: 'd=100, 4 tiles, 3 workgroups a tile', n: 1999, d: 100, nqs: [1, 3, 4], ks: [10], tileRows: 600, tuning: { targetWorkgroups: 3 } },
    // 3 words a row (one a lane, the last lane's word past the row), 8-bit queries.
    { name: 'd=37, 8-bit queries, 1 word in flight', n: 777, d: 37, nqs: [2, 3], ks: [17], tileRows: 300, tuning: { qbits: 8, uw: 1 } },
    // 49 words a row over 8 lanes, 2 words in flight: several passes, the last one past the row.
    { name: 'd=770, 8 lanes, 2 words in flight', n: 500, d: 770, nqs: [1, 4], ks: [10], tileRows: 200, tuning: { lanes: 8, uw: 2 } },
    // k' past a tile's rows and up to N: empty heap slots written out and merged.
    { name: 'k near N: 30 rows in tiles of 7', n: 30, d: 64, nqs: [1, 4], ks: [29, 30], tileRows: 7 },
    { name: 'small candidate buffers sorted at every check, 2 workgroups a tile, k=3', n: 900, d: 64, nqs: [1, 4], ks: [3], tileRows: 400, tuning: { sp: 128, ci: 1, ru: 1, targetWorkgroups: 2 } },
  ];

  it.each(cases)('$name: equal bit for bit on both devices and to the float64 oracle of the quantised scores', async (c) => {
    Object.assign(int8GemvTuning, saved, c.tuning ?? {});
    const base = normalizeRows(clusteredVectors(c.n, c.d, 8, seed++), c.d);
    const sq = trainSq(base, c.n, c.d);
    const shards = ctxs.map((ctx) => new FlatShard(ctx, { d: c.d, metric: 'ip', precision: 'int8', maxTileBytes: c.tileRows * Math.ceil(c.d / 16) * 16, debugPoison: true }));
    try {
      const dp = shards[0]!.rowWords * 16;
      const codes = encodeRows(base, c.n, c.d, sq, false, dp);
      for (const shard of shards) {
        await shard.setSq(sq.vmin, sq.step);
        await shard.add(new Uint32Array(codes.buffer));
        expect(shard.tileCount).toBe(Math.ceil(c.n / c.tileRows));
      }
      const sqHost = new Float32Array(2 * dp);
      sqHost.set(sq.vmin, 0);
      sqHost.set(sq.step, dp);
      const qb = int8GemvTuning.qbits === 16 ? 2 : 1;
      for (const nq of c.nqs) {
        const queries = randomVectors(nq, c.d, seed++);
        const padded = new Float32Array(nq * dp);
        for (let q = 0; q < nq; q++) padded.set(queries.subarray(q * c.d, (q + 1) * c.d), q * dp);
        for (const k of c.ks) {
          const what = `nq=${nq} k=${k}`;
          const got: ShardResult[] = [];
          for (const shard of shards) {
            expect(shard.scorerFor(nq, k).key, what).toMatch(/^i8gemv:/);
            got.push(await shard.search(padded, nq, k));
          }
          expect(Array.from(got[1]!.ids), what).toEqual(Array.from(got[0]!.ids));
          expect(Array.from(new Uint32Array(got[1]!.keys.buffer)), what).toEqual(Array.from(new Uint32Array(got[0]!.keys.buffer)));
          expectInt8KeysMatchOracle(got[1]!, { queries: padded, codes, sq: sqHost, n: c.n, dp, parts: qb }, nq, k, what);
        }
      }
    } finally {
      for (const shard of shards) shard.destroy();
    }
  });
});

/**
 * int8_gemv dispatched alone, each binding a range inside a larger buffer of canary words, on the
 * device without robustness: each segment's list checked on its own (heap contents, empty slots)
 * and the canaries around `out` left alone. lavapipe bounds-checks storage accesses by itself (a
 * write placed past `out` on purpose was dropped, not clamped), so here the canaries can only fail
 * on an adapter without that check; reads past the rows or queries would feed lanes whose scores
 * the kernel discards, so no result can show them: the audit of the guards is what covers those.
 */
describe.skipIf(!hasGpu)('int8_gemv bindings inside canaries, without robustness', () => {
  const CANARY = 0xdeadbeef;
  const PAD = 256; // the storage offset alignment: canaries before and after each range

  // share: int8_gemv's shared bounds (their words end the out binding); with them a list holds its
  // segment's rows that passed the bound, so only ids and keys are checked, not the ranks.
  it.each([
    { nq: 1, d: 100, n: 199, k: 10, segLen: 16, share: 0 },
    { nq: 3, d: 37, n: 61, k: 24, segLen: 20, share: 0 }, // lists longer than their rows (the last has 1)
    { nq: 1, d: 100, n: 1999, k: 10, segLen: 160, share: 8 },
    { nq: 3, d: 37, n: 610, k: 24, segLen: 200, share: 8 },
  ])('nq=$nq d=$d n=$n k=$k share=$share: every list written, nothing outside the bindings, lists exact', async (c) => {
    const ctx = await acquireDevice({ label: 'no robustness', disableRobustness: true });
    const saved = { ...int8GemvTuning };
    Object.assign(int8GemvTuning, { share: c.share, shareOne: 1 });
    try {
      const device = ctx.device;
      const rw = Math.ceil(c.d / 16);
      const dp = rw * 16;
      const plan = planInt8Gemv(
        {
          rowWords: rw,
          subgroupMinSize: (ctx.adapter?.info as { subgroupMinSize?: number } | undefined)?.subgroupMinSize,
          hasDot4: ctx.gpu?.wgslLanguageFeatures?.has('packed_4x8_integer_dot_product') ?? false,
          maxWorkgroupStorage: ctx.maxWorkgroupStorage,
        },
        c.nq,
        Math.max(8, Math.ceil(c.k / 8) * 8),
      );
      if (!('NQ' in plan)) throw new Error(plan.reason);
      const base = normalizeRows(clusteredVectors(c.n, c.d, 6, seed++), c.d);
      const sq = trainSq(base, c.n, c.d);
      const codes = encodeRows(base, c.n, c.d, sq, false, dp);
      const sqHost = new Float32Array(2 * dp);
      sqHost.set(sq.vmin, 0);
      sqHost.set(sq.step, dp);
      const queries = new Float32Array(c.nq * dp);
      const raw = randomVectors(c.nq, c.d, seed++);
      for (let q = 0; q < c.nq; q++) queries.set(raw.subarray(q * c.d, (q + 1) * c.d), q * dp);
      const qd = quantizeInt8Queries(queries, c.nq, rw, sqHost, plan.QB);
      const nseg = Math.ceil(c.n / c.segLen);
      const listBytes = c.nq * nseg * c.k * 8;
      expect(plan.SHB, 'buckets').toBe(c.share);
      const outBytes = listBytes + int8GemvScratch(plan, c.nq) * 8;
      // A storage buffer holding `bytes` (or canaries) at PAD, with canaries around.
      const fenced = (bytes: number, data?: ArrayBufferView) => {
        const size = PAD + Math.ceil(bytes / PAD) * PAD + PAD;
        const buf = device.createBuffer({ size, usage: BufferUsage.STORAGE | BufferUsage.COPY_DST | BufferUsage.COPY_SRC });
        device.queue.writeBuffer(buf, 0, new Uint32Array(size / 4).fill(CANARY));
        if (data) device.queue.writeBuffer(buf, PAD, data.buffer, data.byteOffset, data.byteLength);
        return { buffer: buf, offset: PAD, size: bytes };
      };
      const baseB = fenced(codes.byteLength, codes);
      const qdB = fenced(qd.byteLength, qd);
      const sqB = fenced(16);
      const outB = fenced(outBytes);
      // The shared bounds' words start at zero (no bound), as the shard clears them.
      if (outBytes > listBytes) device.queue.writeBuffer(outB.buffer, PAD + listBytes, new Uint8Array(outBytes - listBytes));
      const params = device.createBuffer({ size: 48, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST });
      device.queue.writeBuffer(params, 0, new Uint32Array([c.nq, c.n, rw, rw * 4, c.k, c.segLen, nseg, 0, 0, 0, 0, 0]));
      const pipeline = int8GemvPipeline(device, plan);
      const enc = device.createCommandEncoder();
      const pass = enc.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: [{ buffer: params }, baseB, qdB, sqB, outB].map((resource, binding) => ({ binding, resource })),
      }));
      pass.dispatchWorkgroups(nseg, Math.ceil(c.nq / plan.NQ));
      pass.end();
      const read = device.createBuffer({ size: outB.buffer.size, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
      enc.copyBufferToBuffer(outB.buffer, 0, read, 0, outB.buffer.size);
      device.queue.submit([enc.finish()]);
      await read.mapAsync(MapMode.READ);
      const words = new Uint32Array(read.getMappedRange().slice(0));
      read.unmap();
      for (const b of [baseB.buffer, qdB.buffer, sqB.buffer, outB.buffer, params, read]) b.destroy();
      const inside = words.subarray(PAD / 4, (PAD + outBytes) / 4);
      expect(Array.from(words.subarray(0, PAD / 4)).every((w) => w === CANARY), 'canaries before out').toBe(true);
      expect(Array.from(words.subarray((PAD + outBytes) / 4)).every((w) => w === CANARY), 'canaries after out').toBe(true);
      const keys = new Float32Array(inside.buffer, inside.byteOffset, inside.length);
      for (let q = 0; q < c.nq; q++) {
        const qq = quantizeQuery(queries.subarray(q * dp, (q + 1) * dp), dp, sqHost, plan.QB);
        let mag = Math.abs(qq.vminDot);
        for (let j = 0; j < dp; j++) mag += qq.scale * Math.abs(qq.t[j]!) * 255;
        for (let g = 0; g < nseg; g++) {
          // Segment g's list: the best k of its rows (then empty slots), by the float64 oracle.
          const rows = Array.from({ length: Math.min(c.segLen, c.n - g * c.segLen) }, (_, i) => g * c.segLen + i);
          const oracle = rows.map((id) => {
            let s2 = 0;
            for (let j = 0; j < dp; j++) s2 += qq.t[j]! * codes[id * dp + j]!;
            return qq.scale * s2 + qq.vminDot;
          });
          const best = [...oracle].sort((a, b) => b - a);
          // The list is a heap (merge_lists orders it): compare it sorted.
          const what = `query ${q} list ${g}`;
          const got: number[] = [];
          const seen = new Set<number>();
          let empty = 0;
          for (let i = 0; i < c.k; i++) {
            const at = (q * nseg + g) * c.k + i;
            const id = inside[2 * at + 1]!;
            if (id === 0xffffffff) {
              empty++;
              continue;
            }
            expect(rows.includes(id) && !seen.has(id), `${what}: id ${id} (0xdeadbeef: unwritten)`).toBe(true);
            seen.add(id);
            expect(Math.abs(keys[2 * at]! - oracle[id - g * c.segLen]!), `${what} id ${id}`).toBeLessThanOrEqual(1e-5 * mag);
            got.push(keys[2 * at]!);
          }
          if (c.share) continue;
          expect(empty, `${what}: empty slots`).toBe(Math.max(0, c.k - rows.length));
          got.sort((a, b) => b - a);
          got.forEach((key, i) => expect(Math.abs(key - best[i]!), `${what} rank ${i}`).toBeLessThanOrEqual(1e-5 * mag));
        }
      }
    } finally {
      Object.assign(int8GemvTuning, saved);
      ctx.destroy();
    }
  });
});


describe.skipIf(!hasGpu)('tensor hook pre-pass (int8_mma_prep) with disable_robustness, matrices emulated', () => {
  let on = false; // the emulated scorer takes batches only inside this suite's test
  let prepasses = 0;
  registerChunkScorer(
    emulatedHookScorer({
      active: () => on,
      onPrepass: () => void prepasses++,
    }),
  );
  const saved = { ...tensorTuning };
  afterEach(() => {
    on = false;
    Object.assign(tensorTuning, saved);
  });

  it('d=96 (kc 32), 37 queries (a partial block of 32), 3 tiles, few workgroups: equal on both devices and exact after re-ranking', async () => {
    on = true;
    tensorTuning.queries = 'pre';
    tensorTuning.targetWorkgroups = tensorTuning.targetWorkgroupsSmall = 3; // segments of several blocks, the last partial
    const d = 96, n = 300, nq = 37, k = 5;
    const base = normalizeRows(clusteredVectors(n, d, 10, seed++), d);
    const q = normalizeRows(clusteredVectors(nq, d, 10, seed++), d);
    const tileBytes = Math.ceil(n / 3 / 32) * 32 * paddedDim(d);
    const [robust, bare] = await both(d, 'ip', base, q, k, { precision: 'int8', maxTileBytes: tileBytes });
    expect(prepasses, 'the pre-pass ran on both devices').toBe(2);
    expectSame(robust, bare, 'tensor hook');
    const want = bruteForce(base, q, d, k, 'ip');
    expect(recallAtK(bare, want)).toBeGreaterThanOrEqual(0.95);
    for (let i = 0; i < bare.labels.length; i++) {
      expect(Math.abs(bare.distances[i]! - trueDistance(base, q, d, Math.floor(i / k), Number(bare.labels[i]!), 'ip'))).toBeLessThanOrEqual(1e-4);
    }
  }, 60_000);
});
