/**
 * shaders/int8_gemv.wgsl (int8 inner products of a few queries through dot4I8Packed): the shard's
 * keys and ids against a float64 oracle of the same quantised scores (key = s * sum_j t_j c_j +
 * q . vmin, src/gpu/int8-gemv.ts quantizeQuery), with the candidate buffers poisoned first; the
 * selection against a brute-force one over integer keys the kernel computes exactly (ties, rows in
 * rising / falling order, k' near the tile and segment sizes, small candidate buffers that sort
 * often); then the index's re-ranked results against exact float64 search and against the
 * f32-decoding kernels.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireDevice, BufferUsage, type GpuContext, MapMode } from '../../src/gpu/device.js';
import { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import { int8ScorerExtraBytes } from '../../src/core/planner.js';
import { FlatShard, heapSlots } from '../../src/gpu/flat-shard.js';
import { int8GemvPipeline, int8GemvScratch, int8GemvTuning, planInt8Gemv, quantizeInt8Queries } from '../../src/gpu/int8-gemv.js';
import { encodeRows, trainSq } from '../../src/gpu/tensor/quantize.js';
import { clusteredVectors, normalizeRows, randomVectors, rng } from '../helpers/data.js';
import { gpuForTests } from '../helpers/gpu.js';
import { keyOfOrdered } from '../helpers/ordered-keys.js';
import { expectInt8KeysMatchOracle } from '../helpers/int8-keys.js';
import { bruteForce, recallAtK } from '../helpers/oracle.js';

const hasGpu = await gpuForTests('int8_gemv');

interface Case {
  name: string;
  n: number;
  d: number;
  nq: number;
  k: number;
  clustered: boolean;
  /** Rows a tile (several tiles: the lists of every tile merged). */
  tileRows: number;
  qbits: 8 | 16;
  lanes?: number;
  uw?: number;
  /** Other int8GemvTuning knobs (rows in flight, buffer slots, checks, query registers, workgroups). */
  tuning?: Partial<typeof int8GemvTuning>;
}

function dataFor(c: Case, seed: number): { base: Float32Array; queries: Float32Array } {
  if (c.clustered) {
    return { base: normalizeRows(clusteredVectors(c.n, c.d, 12, seed), c.d), queries: normalizeRows(clusteredVectors(c.nq, c.d, 12, seed + 1), c.d) };
  }
  return { base: randomVectors(c.n, c.d, seed), queries: randomVectors(c.nq, c.d, seed + 1) };
}

/** 'spread' rows (query: 256 on dim 1, 1 on dim 2): rank r <= 8 is row 0 of segment r - 1, ranks 9-10 the last rows of segment 11, the rest far below. */
function spreadCode(i: number, j: number, segLen: number, r: () => number): number {
  const seg = Math.floor(i / segLen);
  const at = i % segLen;
  if (j === 1) return seg < 8 && at === 0 ? 255 : seg === 11 && at >= segLen - 2 ? 254 : Math.floor(r() * 200);
  if (j === 2) return seg < 8 && at === 0 ? 200 - seg : Math.floor(r() * 256);
  return 128;
}

describe.skipIf(!hasGpu)('int8_gemv', () => {
  let ctx: GpuContext;
  const saved = { ...int8GemvTuning };
  beforeAll(async () => {
    ctx = await acquireDevice({ label: 'int8_gemv test' });
  });
  afterAll(() => {
    Object.assign(int8GemvTuning, saved);
    ctx?.destroy();
  });

  const cases: Case[] = [
    { name: 'random, d=768, one query, 3 tiles', n: 2500, d: 768, nq: 1, k: 10, clustered: false, tileRows: 1000, qbits: 16 },
    { name: 'clustered, odd d=100, 3 queries, 4 tiles', n: 1999, d: 100, nq: 3, k: 24, clustered: true, tileRows: 600, qbits: 16 },
    { name: 'random, d=37, 4 queries, 8-bit queries', n: 1234, d: 37, nq: 4, k: 17, clustered: false, tileRows: 500, qbits: 8 },
    { name: 'clustered, d=200, 2 queries, 4 lanes a row (2 rows a subgroup), 1 word in flight', n: 1500, d: 200, nq: 2, k: 10, clustered: true, tileRows: 700, qbits: 16, lanes: 4, uw: 1 },
    { name: 'k near N: 30 rows, k = 29 and k = 30', n: 30, d: 64, nq: 4, k: 30, clustered: false, tileRows: 7, qbits: 16 },
    { name: 'random, d=96, 13 queries in blocks of 8', n: 800, d: 96, nq: 13, k: 10, clustered: false, tileRows: 300, qbits: 16 },
    // Few workgroups a tile (hundreds of rows each), so the candidate buffers fill and sort.
    { name: 'clustered, d=64, 4 queries, 3 workgroups a tile, buffers sorted at every check', n: 1800, d: 64, nq: 4, k: 10, clustered: true, tileRows: 900, qbits: 16, tuning: { targetWorkgroups: 3, sp: 128, ci: 1, ru: 1 } },
    { name: 'random, d=768, one query, 2 workgroups, 4 rows a lane, query words from memory, sorts through workgroup memory (sgs 0)', n: 2000, d: 768, nq: 1, k: 40, clustered: false, tileRows: 2000, qbits: 16, tuning: { targetWorkgroups: 2, ru: 4, qr: 0, sgs: 0 } },
    { name: 'clustered, d=100, 2 queries, 2 workgroups, 8-bit queries, one row a lane', n: 1500, d: 100, nq: 2, k: 24, clustered: true, tileRows: 1500, qbits: 8, tuning: { targetWorkgroups: 2, ru: 1 } },
    // sgs: early first sort, one query's sorts in registers through subgroup shuffles.
    { name: 'random, d=768, one query, sgs, 5 workgroups, 3 tiles', n: 2999, d: 768, nq: 1, k: 40, clustered: false, tileRows: 1100, qbits: 16, tuning: { targetWorkgroups: 5, sgs: 1 } },
    { name: 'clustered, d=100, 3 queries, sgs (workgroup-memory sorts for several queries), small buffers', n: 1999, d: 100, nq: 3, k: 24, clustered: true, tileRows: 600, qbits: 16, tuning: { targetWorkgroups: 4, sgs: 1, sp: 256, ci: 1 } },
  ];

  it.each(cases)('$name: keys and ids match the float64 oracle of the quantised scores', async (c) => {
    Object.assign(int8GemvTuning, saved, { qbits: c.qbits, lanes: c.lanes ?? 0, uw: c.uw ?? 0, maxBatch: Math.max(4, c.nq) }, c.tuning ?? {});
    for (const seed of [11, 12]) {
      const { base, queries } = dataFor(c, seed * 100 + c.d);
      const shard = new FlatShard(ctx, { d: c.d, metric: 'ip', precision: 'int8', maxTileBytes: c.tileRows * Math.ceil(c.d / 16) * 16, debugPoison: true });
      try {
        const sq = trainSq(base, c.n, c.d);
        await shard.setSq(sq.vmin, sq.step);
        const dp = shard.rowWords * 16;
        const codes = encodeRows(base, c.n, c.d, sq, false, dp);
        await shard.add(new Uint32Array(codes.buffer));
        expect(shard.tileCount).toBe(Math.ceil(c.n / c.tileRows));
        const padded = new Float32Array(c.nq * dp);
        for (let q = 0; q < c.nq; q++) padded.set(queries.subarray(q * c.d, (q + 1) * c.d), q * dp);
        const sqHost = new Float32Array(2 * dp);
        sqHost.set(sq.vmin, 0);
        sqHost.set(sq.step, dp);
        for (const k of c.k === c.n ? [c.k - 1, c.k] : [c.k]) {
          const key = shard.scorerFor(c.nq, k).key;
          expect(key).toMatch(/^i8gemv:/);
          if (c.tuning?.sgs !== undefined) expect(/:sgs(:|$)/.test(key), 'subgroup sorts').toBe(c.tuning.sgs === 1 && c.nq === 1);
          const got = await shard.search(padded, c.nq, k);
          expectInt8KeysMatchOracle(got, { queries: padded, codes, sq: sqHost, n: c.n, dp, parts: c.qbits === 16 ? 2 : 1 }, c.nq, k);
        }
      } finally {
        shard.destroy();
      }
    }
  });

  /**
   * Keys the kernel computes exactly: SQ vmin 0 and step 1 (codes are the values), and queries
   * whose largest |q_j| is the quantiser's T (127 for 8-bit queries; 32639 for 16-bit, on dimension
   * 0, whose code is 128 in every row, so it only moves the query's constant), so the scale is 1
   * and t_j = q_j; every partial sum stays under 2^24, where f32 is exact. The shard's best k must
   * then be those of a brute-force selection by (key desc, id asc): the same ids in the same order.
   */
  interface ExactCase {
    name: string;
    n: number;
    d: number;
    nq: number;
    ks: number[];
    tileRows: number;
    qbits: 8 | 16;
    /** Code of row i, dimension j >= 1 (dimension 0 is 128 for 16-bit queries). */
    code: (i: number, j: number, r: () => number) => number;
    /** Query q's value on dimension j >= 1 (|value| small: the key stays exact). */
    query: (q: number, j: number, r: () => number) => number;
    tuning?: Partial<typeof int8GemvTuning>;
  }
  const pick3 = (r: () => number) => Math.floor(r() * 3) - 1;
  const exactCases: ExactCase[] = [
    // Keys within a few dozen values over 3000 rows: ties everywhere, broken by the lower id.
    { name: 'ties, 8-bit, one query, 3 workgroups, buffers sorted at every check (sgs 0)', n: 3000, d: 64, nq: 1, ks: [40], tileRows: 3000, qbits: 8, code: (_i, _j, r) => 128 + pick3(r), query: (_q, _j, r) => pick3(r), tuning: { targetWorkgroups: 3, sp: 256, ci: 1, sgs: 0 } },
    { name: 'ties, 16-bit, 3 queries, 4 tiles of 2 workgroups', n: 2500, d: 64, nq: 3, ks: [24], tileRows: 700, qbits: 16, code: (_i, _j, r) => 128 + pick3(r), query: (_q, _j, r) => pick3(r), tuning: { targetWorkgroups: 2 } },
    // Query 0 ranks rows in rising order (every row beats the ones before: the buffer fills at
    // every check), query 1 in falling order (the first rows of each segment win).
    { name: 'rows in rising and falling order, 2 queries, 2 workgroups, small buffers', n: 2000, d: 48, nq: 2, ks: [40], tileRows: 2000, qbits: 16, code: (i, j) => (j === 1 ? i >> 8 : j === 2 ? i & 255 : 128), query: (q, j) => (j === 1 ? 256 : j === 2 ? 1 : 0) * (q === 0 ? 1 : -1), tuning: { targetWorkgroups: 2, sp: 256, ci: 1, ru: 1 } },
    // k' around the tile's 40 rows (one segment a tile: lists past their rows hold empty slots).
    { name: "k' near the tile size: tiles of 40 rows, k = 39 / 40 / 41", n: 200, d: 32, nq: 4, ks: [39, 40, 41], tileRows: 40, qbits: 8, code: (_i, _j, r) => 128 + pick3(r), query: (_q, _j, r) => pick3(r), tuning: { targetWorkgroups: 1 } },
    // Every key equal: the lowest ids win.
    { name: 'every key equal, 3 workgroups', n: 1000, d: 32, nq: 1, ks: [40], tileRows: 1000, qbits: 16, code: () => 128, query: (_q, _j, r) => pick3(r), tuning: { targetWorkgroups: 3, sp: 256, ci: 2 } },
    { name: "sgs: ties, 1 query, tiles of 45 rows, k' 39 / 40 / 41", n: 200, d: 64, nq: 1, ks: [39, 40, 41], tileRows: 45, qbits: 16, code: (_i, _j, r) => 128 + pick3(r), query: (_q, _j, r) => pick3(r), tuning: { targetWorkgroups: 1, sgs: 1 } },
    { name: 'sgs: rising rows, 1 query, 2 workgroups (sorts of 256 in registers, 512 in memory)', n: 3000, d: 48, nq: 1, ks: [40], tileRows: 3000, qbits: 16, code: (i, j) => (j === 1 ? i >> 8 : j === 2 ? i & 255 : 128), query: (_q, j) => (j === 1 ? 256 : j === 2 ? 1 : 0), tuning: { targetWorkgroups: 2, sp: 512, ci: 3, sgs: 1 } },
    { name: 'sgs: every key equal, 3 workgroups', n: 1000, d: 32, nq: 1, ks: [40], tileRows: 1000, qbits: 16, code: () => 128, query: (_q, _j, r) => pick3(r), tuning: { targetWorkgroups: 3, sgs: 1 } },
  ];

  it.each(exactCases)('$name: the same ids and keys as a brute-force selection of exact integer keys', async (c) => {
    Object.assign(int8GemvTuning, saved, { qbits: c.qbits }, c.tuning ?? {});
    const r = rng(c.n * 31 + c.d);
    const shard = new FlatShard(ctx, { d: c.d, metric: 'ip', precision: 'int8', maxTileBytes: c.tileRows * Math.ceil(c.d / 16) * 16, debugPoison: true });
    try {
      const ones = new Float32Array(c.d).fill(1);
      await shard.setSq(new Float32Array(c.d), ones);
      const dp = shard.rowWords * 16;
      const codes = new Uint8Array(c.n * dp).fill(128);
      for (let i = 0; i < c.n; i++) for (let j = 1; j < c.d; j++) codes[i * dp + j] = c.code(i, j, r);
      await shard.add(new Uint32Array(codes.buffer));
      expect(shard.tileCount).toBe(Math.ceil(c.n / c.tileRows));
      const padded = new Float32Array(c.nq * dp);
      for (let q = 0; q < c.nq; q++) {
        padded[q * dp] = c.qbits === 8 ? 127 : 32639;
        for (let j = 1; j < c.d; j++) padded[q * dp + j] = c.query(q, j, r);
      }
      for (const k of c.ks) {
        const key = shard.scorerFor(c.nq, k).key;
        expect(key).toMatch(/^i8gemv:/);
        if (c.tuning?.sgs !== undefined) expect(/:sgs(:|$)/.test(key), 'subgroup sorts').toBe(c.tuning.sgs === 1);
        const got = await shard.search(padded, c.nq, k);
        for (let q = 0; q < c.nq; q++) {
          const keys = new Float64Array(c.n);
          for (let i = 0; i < c.n; i++) {
            let s = 0;
            for (let j = 0; j < dp; j++) s += padded[q * dp + j]! * codes[i * dp + j]!;
            keys[i] = s;
          }
          const order = Array.from({ length: c.n }, (_, i) => i).sort((a, b) => keys[b]! - keys[a]! || a - b);
          const want = Array.from({ length: k }, (_, i) => (i < c.n ? order[i]! : 0xffffffff));
          const what = `k=${k} query ${q}`;
          expect(Array.from(got.ids.subarray(q * k, (q + 1) * k)), what).toEqual(want);
          expect(Array.from(got.keys.subarray(q * k, (q + 1) * k)).map((x, i) => (want[i] === 0xffffffff ? 0 : x)), `${what} keys`).toEqual(want.map((id) => (id === 0xffffffff ? 0 : keys[id]!)));
        }
      }
    } finally {
      shard.destroy();
    }
  });

  /**
   * int8_gemv dispatched alone over one tile with a chosen segment length: each segment's list
   * (any order) against a brute-force selection of that segment's rows over exact integer keys
   * (as above), poisoned output. Rows designed against the threshold: the first k - 1 rows of each
   * segment far ahead, then keys rising, so every later row is the segment's k-th best so far and
   * must enter (a threshold one slot too strict drops them all); also random wide-range keys.
   * With shared bounds (share > 0) a list holds only what its segment needs for the query's best k,
   * and what else entered before the bound rose: every row of the query's best k is in its segment's
   * list, every pair is a row of the segment with its exact key (or empty), the lists merge to the
   * brute-force best k, and the buckets' minimum (read back) is at most the query's k-th best key.
   */
  it.each([
    { name: "each later row the k-th best so far, 1 query, buffer sorted often (sgs 0)", nq: 1, k: 40, n: 1500, segLen: 700, pattern: 'kth', tuning: { sp: 256, ci: 1, sgs: 0 } },
    { name: "each later row the k-th best so far, 3 queries, default buffers", nq: 3, k: 24, n: 1300, segLen: 600, pattern: 'kth', tuning: {} },
    { name: 'each later row the k-th best so far, 1 query, sgs', nq: 1, k: 40, n: 1500, segLen: 700, pattern: 'kth', tuning: { sgs: 1 } },
    { name: 'random wide keys, 1 query, k=40, sgs, segments of 333 rows', nq: 1, k: 40, n: 1000, segLen: 333, pattern: 'wide', tuning: { sgs: 1, ci: 1 } },
    { name: 'random wide keys, 1 query, k=10, sgs, segments of 1500 rows, small buffers', nq: 1, k: 10, n: 3000, segLen: 1500, pattern: 'wide', tuning: { sgs: 1, ci: 1, sp: 256 } },
    { name: 'random wide keys, 1 query, k=17, sgs, segments of 900 rows', nq: 1, k: 17, n: 2700, segLen: 900, pattern: 'wide', tuning: { sgs: 1, ci: 2 } },
    { name: 'each later row the k-th best so far, 1 query, k=10, sgs, small buffers', nq: 1, k: 10, n: 2000, segLen: 1000, pattern: 'kth', tuning: { sgs: 1, sp: 256, ci: 1 } },
    { name: 'random wide keys, 4 queries, k=10, segments of 333 rows, 4 rows a lane', nq: 4, k: 10, n: 1000, segLen: 333, pattern: 'wide', tuning: { ci: 1, ru: 4 } },
    { name: 'random wide keys, 2 queries, k=17, segments shorter than k', nq: 2, k: 17, n: 100, segLen: 13, pattern: 'wide', tuning: {} },
    // Shared bounds: segments of several iterations (128 rows each here), so bounds read at one
    // check apply from the next on.
    { name: 'shared bounds: random wide keys, 1 query, k=10, sgs, 40 segments', nq: 1, k: 10, n: 40960, segLen: 1024, pattern: 'wide', tuning: { sgs: 1, ci: 1, share: 8 } },
    { name: 'shared bounds: each later row the k-th best so far, 1 query, k=40, sgs, 3 buckets', nq: 1, k: 40, n: 8192, segLen: 1024, pattern: 'kth', tuning: { sgs: 1, ci: 1, share: 3 } },
    { name: 'shared bounds: random wide keys, 3 queries, k=17, buckets as many as k', nq: 3, k: 17, n: 6000, segLen: 600, pattern: 'wide', tuning: { ci: 1, share: 64 } },
    { name: 'shared bounds: ties (keys of 4 values), 1 query, k=12, sgs', nq: 1, k: 12, n: 8192, segLen: 1024, pattern: 'ties', tuning: { sgs: 1, ci: 1, share: 8 } },
    { name: 'shared bounds read at every check: random wide keys, 2 queries, k=10', nq: 2, k: 10, n: 40960, segLen: 1024, pattern: 'wide', tuning: { ci: 1, share: 8, shareEvery: 1 } },
    // Ranks 1-8 one a segment (segments 0-7, one a bucket), ranks 9-10 at the end of segment 11: a
    // bucket publishing more than its m-th key (a segment's best, say) would drop ranks 9-10.
    { name: 'shared bounds: the best 8 one a segment, the next 2 late in another', nq: 1, k: 10, n: 12288, segLen: 1024, pattern: 'spread', tuning: { sgs: 1, ci: 1, share: 8 } },
    { name: 'shared bounds read at every check: the best 8 one a segment, the next 2 late in another', nq: 1, k: 10, n: 12288, segLen: 1024, pattern: 'spread', tuning: { sgs: 1, ci: 1, share: 8, shareEvery: 1 } },
  ])('$name: every segment list equals brute force', async (c) => {
    Object.assign(int8GemvTuning, saved, { qbits: 16, share: 0, shareOne: 1 }, c.tuning);
    const d = 48;
    const rw = d / 16;
    const dp = d;
    const device = ctx.device;
    const kf = Math.max(8, Math.ceil(c.k / 8) * 8);
    const plan = planInt8Gemv({ rowWords: rw, subgroupMinSize: (ctx.adapter?.info as { subgroupMinSize?: number } | undefined)?.subgroupMinSize, hasDot4: ctx.gpu?.wgslLanguageFeatures?.has('packed_4x8_integer_dot_product') ?? false, maxWorkgroupStorage: ctx.maxWorkgroupStorage }, c.nq, kf);
    if (!('NQ' in plan)) throw new Error(plan.reason);
    const r = rng(c.n + c.k);
    const codes = new Uint8Array(c.n * dp).fill(128);
    const queries = new Float32Array(c.nq * dp);
    for (let q = 0; q < c.nq; q++) {
      queries[q * dp] = 32639; // scale 1 (its code is 128 in every row)
      for (let j = 1; j < d; j++) queries[q * dp + j] = c.pattern === 'kth' ? (j === 1 ? 256 : j === 2 ? 1 : j === 3 ? 100 + q : 0) : c.pattern === 'ties' ? (j === 1 ? 1 : 0) : c.pattern === 'spread' ? (j === 1 ? 256 : j === 2 ? 1 : 0) : Math.floor(r() * 7) - 3;
    }
    for (let i = 0; i < c.n; i++) {
      for (let j = 1; j < d; j++) {
        codes[i * dp + j] = c.pattern === 'kth' ? (j === 1 ? i >> 8 : j === 2 ? i & 255 : j === 3 && i % c.segLen < c.k - 1 ? 255 : 128) : c.pattern === 'ties' ? 128 + Math.floor(r() * 4) : c.pattern === 'spread' ? spreadCode(i, j, c.segLen, r) : Math.floor(r() * 256);
      }
    }
    const sqHost = new Float32Array(2 * dp);
    sqHost.fill(1, dp);
    const qd = quantizeInt8Queries(queries, c.nq, rw, sqHost, plan.QB);
    const nseg = Math.ceil(c.n / c.segLen);
    expect(plan.SHB, 'buckets').toBe(Math.min(c.tuning.share ?? 0, kf));
    const listBytes = c.nq * nseg * c.k * 8;
    // The shared bounds' words end the out binding (zero: no bound yet): SHB + 1 blocks of nq
    // words rounded up to 32, the bound words then each bucket's.
    const block = Math.ceil(c.nq / 32) * 32;
    const outBytes = Math.ceil((listBytes + (plan.SHB ? (plan.SHB + 1) * block : 0) * 4) / 16) * 16;
    const boundAt = outBytes / 4 - (plan.SHB + 1) * block;
    const buffer = (size: number, usage: number, data?: ArrayBufferView) => {
      const b = device.createBuffer({ size: Math.ceil(size / 16) * 16, usage: usage | BufferUsage.COPY_DST });
      if (data) device.queue.writeBuffer(b, 0, data.buffer, data.byteOffset, data.byteLength);
      return b;
    };
    const poison = new Uint32Array(outBytes / 4);
    for (let i = 0; i < listBytes / 4; i += 2) { poison[i] = 0x7fbadbad; poison[i + 1] = 0xdeadbeef; }
    const bufs = [
      buffer(48, BufferUsage.UNIFORM, new Uint32Array([c.nq, c.n, rw, rw * 4, c.k, c.segLen, nseg, 0, 0, 0, 0, 0])),
      buffer(codes.byteLength, BufferUsage.STORAGE, codes),
      buffer(qd.byteLength, BufferUsage.STORAGE, qd),
      buffer(16, BufferUsage.STORAGE),
      buffer(outBytes, BufferUsage.STORAGE | BufferUsage.COPY_SRC, poison),
    ];
    const read = device.createBuffer({ size: bufs[4]!.size, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
    try {
      const pipeline = int8GemvPipeline(device, plan);
      const enc = device.createCommandEncoder();
      const pass = enc.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: bufs.map((buffer, binding) => ({ binding, resource: { buffer } })) }));
      pass.dispatchWorkgroups(nseg, Math.ceil(c.nq / plan.NQ));
      pass.end();
      enc.copyBufferToBuffer(bufs[4]!, 0, read, 0, bufs[4]!.size);
      device.queue.submit([enc.finish()]);
      await read.mapAsync(MapMode.READ);
      const words = new Uint32Array(read.getMappedRange().slice(0, outBytes));
      read.unmap();
      const keysOut = new Float32Array(words.buffer);
      for (let q = 0; q < c.nq; q++) {
        if (plan.SHB > 0) {
          const key = (id: number) => {
            let s = 0;
            for (let j = 0; j < dp; j++) s += queries[q * dp + j]! * codes[id * dp + j]!;
            return s;
          };
          const exact = Array.from({ length: c.n }, (_, id) => [key(id), id] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
          const best = exact.slice(0, c.k);
          const pairs: [number, number][] = [];
          for (let g = 0; g < nseg; g++) {
            const list = new Set<number>();
            for (let i = 0; i < c.k; i++) {
              const at = (q * nseg + g) * c.k + i;
              const [kk, id] = [keysOut[2 * at]!, words[2 * at + 1]!];
              if (id === 0xffffffff) {
                expect(kk, `query ${q} segment ${g}: empty slot`).toBe(-3.4028234663852886e38);
                continue;
              }
              expect(Math.floor(id / c.segLen), `query ${q} segment ${g}: row ${id} of the segment`).toBe(g);
              expect(kk, `query ${q} row ${id}: exact key`).toBe(key(id));
              expect(list.has(id), `query ${q} segment ${g}: row ${id} once`).toBe(false);
              list.add(id);
              pairs.push([kk, id]);
            }
            for (const [, id] of best) if (Math.floor(id / c.segLen) === g) expect(list.has(id), `query ${q}: best row ${id} in segment ${g}'s list`).toBe(true);
          }
          pairs.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
          expect(pairs.slice(0, c.k), `query ${q}: merged best k`).toEqual(best.map(([kk, id]) => [kk, id]));
          // Buckets hold ordered bits of keys (0: none); their minimum bounds the k-th best key.
          const buckets = Array.from({ length: plan.SHB }, (_, b) => words[boundAt + (b + 1) * block + q]!);
          if (buckets.every((u) => u !== 0)) {
            const w = Math.min(...buckets.map(keyOfOrdered));
            expect(w, `query ${q}: bound ${w} <= k-th best ${best[c.k - 1]![0]}`).toBeLessThanOrEqual(best[c.k - 1]![0]);
          }
          // The bound word: the largest bucket minimum a publisher saw (0 while a bucket was empty).
          const bound = words[boundAt + q]!;
          if (bound !== 0) {
            expect(keyOfOrdered(bound), `query ${q}: bound word <= k-th best`).toBeLessThanOrEqual(best[c.k - 1]![0]);
            expect(keyOfOrdered(bound), `query ${q}: bound word <= the buckets' minimum now`).toBeLessThanOrEqual(Math.min(...buckets.map(keyOfOrdered)));
          }
          if (nseg >= 4 * plan.SHB) expect(bound, `query ${q}: bound word set`).not.toBe(0);
          const keySet = new Set(exact.map(([kk]) => Math.fround(kk)));
          for (const u of buckets) if (u !== 0) expect(keySet.has(keyOfOrdered(u)), `query ${q}: bucket ${u.toString(16)} is a row's key`).toBe(true);
          // The bounds engage where there are segments enough to fill every bucket.
          if (nseg >= 4 * plan.SHB) expect(buckets.every((u) => u !== 0), `query ${q}: every bucket published`).toBe(true);
          continue;
        }
        for (let g = 0; g < nseg; g++) {
          const rows = Array.from({ length: Math.min(c.segLen, c.n - g * c.segLen) }, (_, i) => g * c.segLen + i);
          const key = (id: number) => {
            let s = 0;
            for (let j = 0; j < dp; j++) s += queries[q * dp + j]! * codes[id * dp + j]!;
            return s;
          };
          const want = rows.map((id) => [key(id), id] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, c.k);
          const got: [number, number][] = [];
          for (let i = 0; i < c.k; i++) {
            const at = (q * nseg + g) * c.k + i;
            got.push([keysOut[2 * at]!, words[2 * at + 1]!]);
          }
          got.sort((a, b) => (a[1] === 0xffffffff ? 1 : 0) - (b[1] === 0xffffffff ? 1 : 0) || b[0] - a[0] || a[1] - b[1]);
          const empty = got.slice(want.length);
          expect(got.slice(0, want.length), `query ${q} segment ${g}`).toEqual(want.map(([kk, id]) => [kk, id]));
          expect(empty.every(([kk, id]) => id === 0xffffffff && kk === -3.4028234663852886e38), `query ${q} segment ${g}: empty slots`).toBe(true);
        }
      }
    } finally {
      for (const b of [...bufs, read]) b.destroy();
    }
  });

  it('the index re-ranks int8_gemv candidates to the exact answer, as the f32-decoding kernels do', async () => {
    const d = 96;
    const n = 3000;
    // k' = k + 16 = 21 candidates; int8_gemv serves here (checked below).
    const k = 5;
    const probe = new FlatShard(ctx, { d, metric: 'ip', precision: 'int8' });
    const sq0 = trainSq(randomVectors(10, d, 5), 10, d);
    await probe.setSq(sq0.vmin, sq0.step);
    Object.assign(int8GemvTuning, saved);
    expect(probe.scorerFor(4, k + 16).key).toMatch(/^i8gemv:/);
    probe.destroy();
    for (const [base, q] of [
      [normalizeRows(clusteredVectors(n, d, 20, 71), d), normalizeRows(clusteredVectors(4, d, 20, 72), d)],
      [randomVectors(n, d, 73), randomVectors(4, d, 74)],
    ] as const) {
      const results = [];
      for (const enabled of [true, false]) {
        Object.assign(int8GemvTuning, saved, { enabled });
        const index = await GpuFlatIndex.create(d, 'ip', { precision: 'int8', maxTileBytes: 1 << 16, debugPoison: true });
        try {
          await index.add(base);
          for (const nq of [1, 4]) {
            const sub = q.subarray(0, nq * d);
            const got = await index.search(sub, k);
            const want = bruteForce(base, sub, d, k, 'ip');
            expect(recallAtK(got, want), `int8_gemv ${enabled}, nq ${nq}`).toBeGreaterThanOrEqual(0.95);
            if (nq === 4) results.push(got);
          }
        } finally {
          await index.dispose();
        }
      }
      // Same candidates up to quantisation ties: the same re-ranked answer.
      let same = 0;
      for (let i = 0; i < results[0]!.labels.length; i++) if (results[0]!.labels[i] === results[1]!.labels[i]) same++;
      expect(same / results[0]!.labels.length).toBeGreaterThanOrEqual(0.95);
    }
  });

  it('re-ranking one sub-batch while the GPU scores the next gives the same results as one batch', async () => {
    const d = 48;
    const n = 2000;
    const nq = 37;
    const k = 5;
    const base = normalizeRows(clusteredVectors(n, d, 10, 81), d);
    const q = normalizeRows(clusteredVectors(nq, d, 10, 82), d);
    const want = bruteForce(base, q, d, k, 'ip');
    const results = [];
    // 0: one batch; 8: five sub-batches (the last partial); 4: int8_gemv for every sub-batch.
    for (const rerankSubBatch of [0, 8, 4]) {
      Object.assign(int8GemvTuning, saved);
      const index = await GpuFlatIndex.create(d, 'ip', { precision: 'int8', rerankSubBatch, debugPoison: true });
      try {
        await index.add(base);
        const got = await index.search(q, k);
        expect(recallAtK(got, want), `sub-batch ${rerankSubBatch}`).toBeGreaterThanOrEqual(0.95);
        results.push(got);
      } finally {
        await index.dispose();
      }
    }
    // One batch of 37 and sub-batches of 8 run the same kernel on the same candidates: identical.
    expect(Array.from(results[1]!.labels)).toEqual(Array.from(results[0]!.labels));
    expect(Array.from(results[1]!.distances)).toEqual(Array.from(results[0]!.distances));
    // Sub-batches of 4 score with int8_gemv: the same exact distances wherever the same ids came back.
    let same = 0;
    for (let i = 0; i < results[2]!.labels.length; i++) if (results[2]!.labels[i] === results[0]!.labels[i]) same++;
    expect(same / results[0]!.labels.length).toBeGreaterThanOrEqual(0.95);
  });

  it('the next sub-batch is on the GPU queue before the host re-ranks the current one', async () => {
    const d = 32;
    const base = randomVectors(500, d, 91);
    const index = await GpuFlatIndex.create(d, 'ip', { precision: 'int8', rerankSubBatch: 8 });
    try {
      await index.add(base);
      const events: string[] = [];
      const queue = (index as unknown as { shards: { ctx: { device: GPUDevice } }[] }).shards[0]!.ctx.device.queue;
      const submit = queue.submit.bind(queue);
      queue.submit = (b: Iterable<GPUCommandBuffer>) => {
        events.push('submit');
        submit(b);
      };
      const inner = index as unknown as { rerankNow: (...a: unknown[]) => Promise<unknown> };
      const rerankNow = inner.rerankNow.bind(index);
      inner.rerankNow = async (...a: unknown[]) => {
        events.push('rerank');
        return rerankNow(...a);
      };
      await index.search(randomVectors(24, d, 92), 5);
      // Three sub-batches: scoring i + 1 is submitted before re-ranking i starts.
      expect(events).toEqual(['submit', 'submit', 'rerank', 'submit', 'rerank', 'rerank']);
    } finally {
      await index.dispose();
    }
  });

  it('one query aims for targetOne workgroups (528: 4 on each of 132 SMs), more queries and an explicit target for targetWorkgroups', () => {
    Object.assign(int8GemvTuning, saved);
    const facts = { rowWords: 48, subgroupMinSize: 32, hasDot4: true, maxWorkgroupStorage: 32768 };
    const target = (nq: number) => { const p = planInt8Gemv(facts, nq, 40); return 'NQ' in p ? p.target : p.reason; };
    expect(target(1)).toBe(528);
    expect(target(2)).toBeUndefined();
    expect(target(4)).toBeUndefined();
    int8GemvTuning.targetWorkgroups = 300;
    expect(target(1)).toBe(300);
    int8GemvTuning.targetWorkgroups = 0;
    int8GemvTuning.targetOne = 0;
    expect(target(1)).toBeUndefined();
    Object.assign(int8GemvTuning, saved);
  });

  it('falls back to the f32-decoding kernels where int8_gemv does not apply', async () => {
    const shard = new FlatShard(ctx, { d: 64, metric: 'l2', precision: 'int8' });
    const sq = trainSq(randomVectors(10, 64, 5), 10, 64);
    await shard.setSq(sq.vmin, sq.step);
    expect(shard.scorerFor(1, 10).key).not.toMatch(/^i8gemv:/);
    shard.destroy();
    const ip = new FlatShard(ctx, { d: 64, metric: 'ip', precision: 'int8' });
    await ip.setSq(sq.vmin, sq.step);
    Object.assign(int8GemvTuning, saved);
    expect(ip.scorerFor(1, 10).key).toMatch(/^i8gemv:/);
    expect(ip.scorerFor(int8GemvTuning.maxBatch + 1, 10).key).not.toMatch(/^i8gemv:/);
    ip.destroy();
  });
});

// The planner counts int8 scorers' extra temporary bytes without importing GPU code
// (src/core/planner.ts int8ScorerExtraBytes): int8_gemv's shared-bound scratch must stay within it.
describe('int8_gemv scratch within the planner bound', () => {
  it('int8GemvScratch fits int8ScorerExtraBytes for d 64-1024, 1-16 queries, k\' 10-100, 0-64 buckets', () => {
    const saved = { ...int8GemvTuning };
    try {
      let checked = 0;
      for (const d of [64, 100, 768, 1024]) {
        for (const share of [0, 8, 64]) {
          Object.assign(int8GemvTuning, saved, { share, shareOne: 1, maxBatch: 16 });
          for (let nq = 1; nq <= 16; nq++) {
            for (const k of [10, 17, 40, 64, 100]) {
              const plan = planInt8Gemv({ rowWords: Math.ceil(d / 16), subgroupMinSize: 32, hasDot4: true, maxWorkgroupStorage: 49152 }, nq, heapSlots(k));
              if (!('NQ' in plan)) continue;
              expect(plan.SHB, 'buckets').toBe(Math.min(share, heapSlots(k)));
              expect(int8GemvScratch(plan, nq) * 8, `d ${d} nq ${nq} k ${k} share ${share}`).toBeLessThanOrEqual(int8ScorerExtraBytes(d, k, nq));
              checked++;
            }
          }
        }
      }
      expect(checked).toBeGreaterThan(500);
    } finally {
      Object.assign(int8GemvTuning, saved);
    }
  });
});
