/**
 * shaders/merge_one.wgsl (kernelTuning.mergeOne: few-query lists merged by wide workgroups behind a
 * threshold in registers): the kernel alone against a brute-force selection (key desc, then lower
 * id) over lists with heavy ties, equal keys, rising / falling keys (the buffer sorts at every
 * check), mostly empty lists, k larger than the pairs, partial workgroups and the running list
 * merged in place, every byte outside the output lists poisoned and checked afterwards; then the
 * shard with the knob on against the knob off (merge_lists: the same lists bit for bit) and a
 * brute force over exact keys, with thousands of segments, several levels and per-tile chains.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireDevice, BufferUsage, type GpuContext, MapMode } from '../../src/gpu/device.js';
import { FlatShard, kernelTuning } from '../../src/gpu/flat-shard.js';
import { int8GemvTuning } from '../../src/gpu/int8-gemv.js';
import { mergeOneFan, mergeOnePipeline, mergeOneSource, mergeOneTuning, planMergeOne } from '../../src/gpu/merge-one.js';
import { rng } from '../helpers/data.js';
import { gpuForTests } from '../helpers/gpu.js';
import { orderedBits } from '../helpers/ordered-keys.js';

const hasGpu = await gpuForTests('merge_one');

const EMPTY = 0xffffffff;
const NEG_MAX_BITS = 0xff7fffff; // -FLT_MAX
const POISON = [0x7fbadbad, 0xdeadbeef] as const;

// One pair of views for every conversion: two typed arrays a call made the brute force below (keys
// decoded in its sort's comparator) most of this file's time.
const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);
const bitsOf = (x: number): number => { f32Scratch[0] = x; return u32Scratch[0]!; };
const keyOf = (bits: number): number => { u32Scratch[0] = bits; return f32Scratch[0]!; };

/** Best k of (key bits, id) pairs by key desc then id asc, padded with empty pairs. */
function bruteForce(pairs: [number, number][], k: number): [number, number][] {
  // Keys decoded once, not at each comparison.
  const valid = pairs.filter(([, id]) => id !== EMPTY).map(([kb, id]) => ({ key: keyOf(kb), pair: [kb, id] as [number, number] }));
  valid.sort((a, b) => b.key - a.key || a.pair[1] - b.pair[1]);
  const out = valid.slice(0, k).map((v) => v.pair);
  while (out.length < k) out.push([NEG_MAX_BITS, EMPTY]);
  return out;
}

interface KernelCase {
  name: string;
  nq: number;
  nIn: number;
  k: number;
  /** Lists a workgroup. */
  G: number;
  /** Key of pair i of list l of query q (f32), or null: an empty slot. */
  key: (q: number, l: number, i: number, r: () => number) => number | null;
  /** A running list (sorted, k pairs) merged too, the output written over it. */
  running?: boolean;
  /** planMergeOne's slots (1: the smallest buffer, one pair an invocation between checks). */
  slots?: number;
  /**
   * A lower bound of query q's k-th best key (int8_gemv's shared bound word, params.boundAt), from
   * its pairs sorted best first; null: the word is 0 (no bound). Pairs below it may be left out.
   */
  bound?: (q: number, sortedKeys: number[]) => number | null;
}

const ties = [-1, -0, 0, 1, 2];
const kernelCases: KernelCase[] = [
  { name: 'one workgroup over 512 lists of 40 (a 1M nq = 1 search), random keys', nq: 1, nIn: 512, k: 40, G: 512, key: (_q, _l, _i, r) => r() * 2 - 1 },
  { name: 'heavy ties (keys -1, -0, 0, 1, 2), 4 queries, 300 lists of 40', nq: 4, nIn: 300, k: 40, G: 300, key: (_q, _l, _i, r) => ties[Math.floor(r() * ties.length)]! },
  { name: 'every key equal: the lowest ids win, 2 queries', nq: 2, nIn: 100, k: 40, G: 100, key: () => 0.5 },
  { name: 'rising keys, smallest buffer (a sort at every check)', nq: 1, nIn: 200, k: 40, G: 200, slots: 1, key: (_q, l, i) => l * 40 + i },
  { name: 'falling keys, smallest buffer', nq: 2, nIn: 200, k: 40, G: 200, slots: 1, key: (q, l, i) => -(l * 40 + i) - q },
  { name: 'mostly empty lists (3 pairs of 40), fewer pairs than k', nq: 3, nIn: 10, k: 40, G: 10, key: (_q, _l, i, r) => (i < 3 ? Math.floor(r() * 4) : null) },
  { name: 'exactly k pairs in all, in no order (no sort before the end)', nq: 2, nIn: 4, k: 40, G: 4, key: (_q, _l, i, r) => (i < 10 ? r() - 0.5 : null) },
  { name: 'k = 250, lists half empty, 9 lists a workgroup of 50 (the last takes 5)', nq: 2, nIn: 50, k: 250, G: 9, key: (_q, _l, i, r) => (i % 2 ? Math.floor(r() * 20) : null) },
  // Shared bounds: the threshold starts at the query's bound word.
  { name: 'bound at the k-th best key, heavy ties (ties at it enter), 4 queries, one without a bound', nq: 4, nIn: 300, k: 40, G: 300, key: (_q, _l, _i, r) => ties[Math.floor(r() * ties.length)]!, bound: (q, sorted) => (q === 2 ? null : sorted[39]!) },
  { name: 'bound below the k-th best, 512 lists of 40 in workgroups of 32 (a level of several)', nq: 2, nIn: 512, k: 40, G: 32, key: (_q, _l, _i, r) => r() * 2 - 1, bound: (_q, sorted) => sorted[100]! },
  { name: 'bound above every key: every output list empty', nq: 1, nIn: 20, k: 40, G: 20, key: (_q, _l, _i, r) => r(), bound: () => 2 },
  { name: 'bound at the k-th best with the running list, negative keys', nq: 2, nIn: 60, k: 16, G: 60, running: true, key: (_q, _l, _i, r) => -r() * 40, bound: (_q, sorted) => sorted[15]! },
  { name: 'running list merged and written over in place, ties with it', nq: 3, nIn: 64, k: 40, G: 64, running: true, key: (_q, _l, _i, r) => Math.floor(r() * 30) },
  { name: 'k = 1 over 1000 lists, 7 workgroups of 150', nq: 1, nIn: 1000, k: 1, G: 150, key: (_q, _l, _i, r) => Math.floor(r() * 50) },
  { name: 'k = 17 (not a power of two), 2000 lists of 17, ties', nq: 1, nIn: 2000, k: 17, G: 2000, slots: 512, key: (_q, _l, _i, r) => Math.floor(r() * 8) },
  // Lists sorted best first (as the scorers write them): position-major reads see the heads first.
  { name: 'sorted lists (best first), 528 lists of 40 in one workgroup (a 1M f16 search)', nq: 1, nIn: 528, k: 40, G: 528, key: (_q, l, i) => 1e6 - i * 1000 - ((l * 7919) % 997) },
  { name: 'sorted lists with ties across lists, 3 queries, 37 lists a workgroup of 515 (the last takes 34)', nq: 3, nIn: 515, k: 40, G: 37, key: (_q, l, i) => 100 - i - (l % 3) },
  { name: 'sorted lists, running list better than every list (nothing enters after the first sort)', nq: 2, nIn: 300, k: 40, G: 300, running: true, key: (_q, _l, i) => -i },
  { name: 'sorted lists, k = 40, 6 lists (fewer than k pairs at the first check: no early sort)', nq: 1, nIn: 6, k: 40, G: 6, key: (_q, l, i) => (i < 5 ? 10 - i - l / 8 : null) },
  { name: 'lists sorted worst first (every pair beats the threshold: sorts of every prefix size)', nq: 1, nIn: 700, k: 40, G: 700, key: (_q, l, i) => i * 10 + (l % 10) },
  { name: 'sorted lists whose heads are the best k', nq: 1, nIn: 40, k: 40, G: 40, key: (_q, l, i) => 100 - i * 10 - l / 4 },
  { name: 'sorted lists whose heads are the best k, tied in pairs (ties at the k-th best)', nq: 2, nIn: 40, k: 40, G: 40, key: (_q, l, i) => 100 - i * 10 - Math.floor(l / 2) / 4 },
  { name: 'sorted lists, k = 100, 2 lists (one pair in the first check over k)', nq: 1, nIn: 2, k: 100, G: 2, slots: 1, key: (_q, l, i) => -2 * i - l },
];

describe.skipIf(!hasGpu)('merge_one', () => {
  let ctx: GpuContext;
  const savedKernel = { ...kernelTuning };
  const savedGemv = { ...int8GemvTuning };
  const savedMerge = { ...mergeOneTuning };
  beforeAll(async () => {
    ctx = await acquireDevice({ label: 'merge_one test' });
  });
  afterAll(() => {
    Object.assign(kernelTuning, savedKernel);
    Object.assign(int8GemvTuning, savedGemv);
    Object.assign(mergeOneTuning, savedMerge);
    ctx?.destroy();
  });

  // order 2: position-major reads, early first sort, sorts of <= 256 pairs by subgroup shuffles (the
  // default; sg false: its fallback without subgroups); 1: bitonic prefix sorts; 0: the previous kernel.
  const orderCases = [
    ...kernelCases.map((c) => ({ ...c, order: 2, sg: true })),
    ...kernelCases.map((c) => ({ ...c, order: 2, sg: false })),
    ...[1, 0].flatMap((order) => kernelCases.map((c) => ({ ...c, order, sg: false }))),
  ];
  it('order 2 uses subgroups where the device has them, and its source has none without', () => {
    const plan = planMergeOne(40, 32768)!;
    expect(plan.ORD).toBe(2);
    expect(mergeOneSource(plan, true)).toMatch(/^enable subgroups;/);
    expect(mergeOneSource(plan, true)).toContain('subgroupShuffleXor');
    expect(mergeOneSource(plan, false)).not.toMatch(/subgroup/);
    expect(mergeOneSource({ ...plan, ORD: 1 }, true)).not.toMatch(/subgroup/);
  });
  it.each(orderCases)('order $order (subgroups $sg), $name: the best k of every workgroup as a brute-force selection, nothing else written', async (c) => {
    if (c.sg && !ctx.device.features.has('subgroups')) return;
    const device = ctx.device;
    const plan = (() => {
      const saved = mergeOneTuning.order;
      mergeOneTuning.order = c.order;
      try {
        return planMergeOne(c.k, ctx.maxWorkgroupStorage, c.slots ?? 0);
      } finally {
        mergeOneTuning.order = saved;
      }
    })();
    expect(plan?.ORD).toBe(c.order);
    if (!plan) throw new Error(`merge_one does not fit k = ${c.k}`);
    if (c.slots === 1) expect(plan.CH).toBe(1);
    const r = rng(c.nIn * 131 + c.k);
    const nOut = Math.ceil(c.nIn / c.G);
    // Regions at odd offsets: inputs, then (apart) outputs, then the running lists.
    const inAt = 5;
    const outAt = inAt + c.nq * c.nIn * c.k + 3;
    const runAt = outAt + c.nq * nOut * c.k + 7;
    // The bound words (one a query) after everything, at an odd word offset.
    const boundAt = c.bound ? 2 * (runAt + c.nq * c.k + 9) + 1 : 0;
    const total = runAt + c.nq * c.k + 9 + (c.bound ? Math.ceil((c.nq + 1) / 2) : 0);
    const words = new Uint32Array(2 * total);
    for (let i = 0; i < total; i++) { words[2 * i] = POISON[0]; words[2 * i + 1] = POISON[1]; }
    // Distinct ids per query in a shuffled order (so the lower id is not the earlier pair).
    const nIds = c.nIn * c.k + c.k;
    const perm = Array.from({ length: nIds }, (_, i) => i * 3 + 1);
    for (let i = nIds - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [perm[i], perm[j]] = [perm[j]!, perm[i]!];
    }
    const lists: [number, number][][][] = [];
    const runs: [number, number][][] = [];
    for (let q = 0; q < c.nq; q++) {
      lists.push([]);
      for (let l = 0; l < c.nIn; l++) {
        const list: [number, number][] = [];
        for (let i = 0; i < c.k; i++) {
          const key = c.key(q, l, i, r);
          const pair: [number, number] = key === null ? [NEG_MAX_BITS, EMPTY] : [bitsOf(key), perm[l * c.k + i]!];
          list.push(pair);
          const at = inAt + (q * c.nIn + l) * c.k + i;
          words[2 * at] = pair[0];
          words[2 * at + 1] = pair[1];
        }
        lists[q]!.push(list);
      }
      if (c.running) {
        const own: [number, number][] = [];
        // Keys 30 and 31 only here: the running list must take part.
        for (let i = 0; i < c.k; i++) own.push([bitsOf(Math.floor(r() * 32)), perm[c.nIn * c.k + i]!]);
        const run = bruteForce(own, c.k);
        runs.push(run);
        run.forEach(([kb, id], i) => { words[2 * (runAt + q * c.k + i)] = kb; words[2 * (runAt + q * c.k + i) + 1] = id; });
      }
    }
    // Ordered f32 bits (flat_order orderedBits), 0 for no bound.
    const bounds: (number | null)[] = [];
    for (let q = 0; q < c.nq && c.bound; q++) {
      const all = [...lists[q]!.flat(), ...(c.running ? runs[q]! : [])].filter(([, id]) => id !== EMPTY).map(([kb]) => keyOf(kb)).sort((a, b) => b - a);
      const b = c.bound(q, all);
      bounds.push(b);
      words[boundAt + q] = b === null ? 0 : orderedBits(b);
    }
    const before = words.slice();
    const out = c.running ? runAt : outAt;
    const uni = device.createBuffer({ size: 48, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST });
    device.queue.writeBuffer(uni, 0, new Uint32Array([c.nq, c.nIn, c.G, nOut, c.k, inAt, out, runAt, c.running ? 1 : 0, boundAt, 0, 0]));
    const cand = device.createBuffer({ size: words.byteLength, usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST });
    device.queue.writeBuffer(cand, 0, words);
    const read = device.createBuffer({ size: words.byteLength, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
    try {
      const pipeline = mergeOnePipeline(device, plan, c.sg);
      const enc = device.createCommandEncoder();
      const pass = enc.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: uni } }, { binding: 1, resource: { buffer: cand } }] }));
      pass.dispatchWorkgroups(nOut, c.nq);
      pass.end();
      enc.copyBufferToBuffer(cand, 0, read, 0, words.byteLength);
      device.queue.submit([enc.finish()]);
      await read.mapAsync(MapMode.READ);
      const got = new Uint32Array(read.getMappedRange().slice(0));
      read.unmap();
      const expected = before.slice();
      for (let q = 0; q < c.nq; q++) {
        for (let g = 0; g < nOut; g++) {
          let pairs = lists[q]!.slice(g * c.G, (g + 1) * c.G).flat();
          if (c.running) pairs.push(...runs[q]!);
          const b = bounds[q];
          if (b !== undefined && b !== null) pairs = pairs.filter(([kb]) => keyOf(kb) >= b);
          const want = bruteForce(pairs, c.k);
          const at = out + (q * nOut + g) * c.k;
          const have: [number, number][] = [];
          for (let i = 0; i < c.k; i++) have.push([got[2 * (at + i)]!, got[2 * (at + i) + 1]!]);
          expect(have, `query ${q} workgroup ${g}`).toEqual(want);
          want.forEach(([kb, id], i) => { expected[2 * (at + i)] = kb; expected[2 * (at + i) + 1] = id; });
        }
      }
      // Inputs, poison between the regions and past them: untouched.
      let diff = -1;
      for (let i = 0; i < got.length && diff < 0; i++) if (got[i] !== expected[i]) diff = i;
      expect(diff, 'first word that differs outside the output lists').toBe(-1);
    } finally {
      for (const b of [uni, cand, read]) b.destroy();
    }
  });

  it('plans: one level while the lists hold <= 4096 pairs, else pow2Ceil(sqrt(lists)) a workgroup (the H200 runs 6-7 choices); buffers that fit', () => {
    expect(mergeOneFan(512, 40)).toBe(32);
    expect(mergeOneFan(4096, 40)).toBe(64);
    expect(mergeOneFan(100, 40)).toBe(100);
    expect(mergeOneFan(103, 40)).toBe(16);
    expect(mergeOneFan(4096, 40, 16)).toBe(16);
    expect(mergeOneFan(1, 40)).toBe(2);
    expect(planMergeOne(40, 32768)).toEqual({ KP: 1024, CH: 3, ORD: 2 });
    expect(planMergeOne(40, 32768, 1)).toEqual({ KP: 512, CH: 1, ORD: 2 });
    expect(planMergeOne(1000, 32768)).toEqual({ KP: 2048, CH: 4, ORD: 2 });
    expect(planMergeOne(1000, 16384)).toBeUndefined();
  });

  it('with the knob on, warmUp(k) compiles merge_one too: searches of 1 to 8 queries compile nothing', async () => {
    Object.assign(kernelTuning, savedKernel, { mergeOne: 1 });
    Object.assign(int8GemvTuning, savedGemv);
    const shard = new FlatShard(ctx, { d, metric: 'ip', precision: 'int8' });
    try {
      await shard.setSq(new Float32Array(d).fill(-1), new Float32Array(d).fill(2 / 255));
      const r = rng(5);
      await shard.add(Uint32Array.from({ length: 700 * (d / 4) }, () => Math.floor(r() * 2 ** 32)));
      shard.warmUp(10);
      const before = shard.pipelineCount;
      for (const nq of [1, 2, 3, 4, 8]) await shard.search(new Float32Array(nq * d).fill(0.5), nq, 10);
      expect(shard.pipelineCount).toBe(before);
      const pipes = [...(shard as unknown as { pipelines: Map<string, unknown> }).pipelines.keys()];
      expect(pipes.some((p) => p.startsWith('merge_one:'))).toBe(true);
    } finally {
      shard.destroy();
      Object.assign(kernelTuning, savedKernel);
    }
  });

  /**
   * The shard with the knob on and off: merge_lists' lists are today's, so keys and ids must be the
   * same bit for bit; rows of small integers make every key exact, so the ids are also checked
   * against a brute force (key desc, lower id first).
   */
  interface ShardCase {
    name: string;
    precision: 'f32' | 'int8';
    n: number;
    nq: number;
    ks: number[];
    /** Workgroups a tile's dispatch aims for (segments at nq <= 4). */
    target: number;
    tileRows: number;
    /** Candidate bytes: small enough and the tiles' lists are merged per tile into the running list. */
    scratchBytes?: number;
    fans: number[];
    /** int8: segments of all tiles (lists merged per query). */
    segs?: number;
  }
  const d = 32;
  // int8 takes int8_gemv here (one row a block: segments = the target); f32 whichever kernel applies.
  const shardCases: ShardCase[] = [
    { name: 'int8, 2000 segments of 3 rows (lists of 40 mostly empty), auto / 7 / all lists a workgroup', precision: 'int8', n: 6000, nq: 1, ks: [10, 40], target: 2000, tileRows: 6000, fans: [0, 7, 100000], segs: 2000 },
    { name: 'int8, 3 queries, 3 tiles of 600 segments, lists shared', precision: 'int8', n: 5400, nq: 3, ks: [24], target: 600, tileRows: 1800, fans: [0, 5], segs: 1800 },
    { name: 'int8, 3 tiles of 450 segments merged one by one into the running list', precision: 'int8', n: 5400, nq: 2, ks: [40], target: 500, tileRows: 1800, scratchBytes: 2 * 500 * 40 * 8, fans: [0, 9], segs: 1350 },
    { name: 'int8, 4 queries, 1000 segments', precision: 'int8', n: 8000, nq: 4, ks: [40], target: 1000, tileRows: 8000, fans: [0, 31], segs: 1000 },
    { name: 'f32, 4 queries, 3 tiles', precision: 'f32', n: 6000, nq: 4, ks: [40], target: 2000, tileRows: 2000, fans: [0, 3] },
    // Beyond 4 queries (kernelTuning.mergeOneMaxBatch: every batch since calls h7-h8).
    { name: 'f32, 37 queries, 3 tiles', precision: 'f32', n: 6000, nq: 37, ks: [10, 40], target: 300, tileRows: 2000, fans: [0, 4] },
    { name: 'int8, 70 queries (flat_fused), 3 tiles merged one by one into the running list', precision: 'int8', n: 5400, nq: 70, ks: [40], target: 200, tileRows: 1800, scratchBytes: 70 * 200 * 40 * 8, fans: [0] },
  ];

  it.each(shardCases)('$name: knob on = knob off = brute force', async (c) => {
    const r = rng(c.n + c.nq);
    // Entries in {-1, 0, 1} (int8: codes 127..129 with vmin -128, step 1): exact keys, many ties.
    const rows = new Float32Array(c.n * d);
    for (let i = 0; i < rows.length; i++) rows[i] = Math.floor(r() * 3) - 1;
    const queries = new Float32Array(c.nq * d);
    for (let i = 0; i < queries.length; i++) queries[i] = Math.floor(r() * 3) - 1;
    const shard = new FlatShard(ctx, { d, metric: 'ip', precision: c.precision, maxTileBytes: c.tileRows * (c.precision === 'f32' ? d * 4 : d), scratchBytes: c.scratchBytes, debugPoison: true });
    try {
      if (c.precision === 'f32') {
        await shard.add(new Uint32Array(rows.buffer));
      } else {
        await shard.setSq(new Float32Array(d).fill(-128), new Float32Array(d).fill(1));
        const codes = new Uint8Array(c.n * d);
        for (let i = 0; i < codes.length; i++) codes[i] = rows[i]! + 128;
        await shard.add(new Uint32Array(codes.buffer));
      }
      expect(shard.tileCount).toBe(Math.ceil(c.n / c.tileRows));
      for (const k of c.ks) {
        Object.assign(kernelTuning, savedKernel, { targetWorkgroups: c.target });
        Object.assign(int8GemvTuning, savedGemv, { targetWorkgroups: c.target });
        const sc = shard.scorerFor(c.nq, k);
        const segs = Math.ceil(c.n / c.tileRows) * shard.segmentPlan(c.tileRows, c.nq, k, sc.BR, sc.BQ, sc.target).nseg;
        const shared = c.nq * segs * k * 8 <= (c.scratchBytes ?? Infinity);
        if (c.precision === 'int8' && c.segs !== undefined) {
          expect(sc.key).toMatch(/^i8gemv:/);
          expect(segs).toBe(c.segs);
          expect(shared).toBe(c.scratchBytes === undefined);
        }
        const results: { keys: Float32Array; ids: Uint32Array }[] = [];
        // merge_lists, then merge_one at each fan in each read order.
        for (const [on, fan, order] of [[0, 0, 2], ...c.fans.flatMap((f) => [[1, f, 2], [1, f, 1], [1, f, 0]])] as [number, number, number][]) {
          Object.assign(kernelTuning, savedKernel, { targetWorkgroups: c.target, mergeOne: on, mergeOneFan: fan });
          Object.assign(int8GemvTuning, savedGemv, { targetWorkgroups: c.target });
          mergeOneTuning.order = order;
          try {
            results.push(await shard.search(queries, c.nq, k));
          } finally {
            Object.assign(mergeOneTuning, savedMerge);
          }
        }
        const pipes = [...(shard as unknown as { pipelines: Map<string, unknown> }).pipelines.keys()];
        expect(pipes.some((p) => p.startsWith('merge_one:')), 'merge_one ran').toBe(true);
        for (const [i, res] of results.entries()) {
          expect(Array.from(res.ids), `k ${k} variant ${i} ids`).toEqual(Array.from(results[0]!.ids));
          expect(Array.from(new Uint32Array(res.keys.buffer)), `k ${k} variant ${i} key bits`).toEqual(Array.from(new Uint32Array(results[0]!.keys.buffer)));
        }
        // Scores in a typed array and ids sorted by them (not a pair array a row): same order, less time.
        const scores = new Float64Array(c.n);
        for (let q = 0; q < c.nq; q++) {
          for (let i = 0; i < c.n; i++) {
            let s = 0;
            for (let j = 0; j < d; j++) s += queries[q * d + j]! * rows[i * d + j]!;
            scores[i] = s;
          }
          const best = Uint32Array.from({ length: c.n }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]! || a - b).subarray(0, k);
          expect(Array.from(results[1]!.ids.subarray(q * k, (q + 1) * k)), `query ${q} ids vs brute force`).toEqual(Array.from(best));
          if (c.precision === 'f32') expect(Array.from(results[1]!.keys.subarray(q * k, (q + 1) * k))).toEqual(Array.from(best, (id) => scores[id]!));
        }
      }
    } finally {
      shard.destroy();
    }
  });
});
