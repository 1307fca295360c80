/**
 * The fused scoring + per-workgroup top-k kernels (flat_fused.wgsl, flat_gemv.wgsl) and the
 * merge_lists levels, against the float64 oracle on fresh data, with candidate buffers poisoned
 * before every search (an unwritten pair carries a NaN key and an id no row has).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import { type FlatShard, fusedStagingFits, GEMM_MIN_BATCH, heapSlots, kernelTuning, pickFusedShape } from '../../src/gpu/flat-shard.js';
import { clusteredVectors, randomVectors } from '../helpers/data.js';
import { bruteForce, distanceTolerance, expectMatchesOracle, recallAtK } from '../helpers/oracle.js';
import { gpuForTests } from '../helpers/gpu.js';
import { fromHalfBits, toHalfBits } from '../../src/gpu/half.js';

const hasGpu = await gpuForTests('GPU fused kernels');
const defaults = { ...kernelTuning };
const shardsOf = (index: GpuFlatIndex): FlatShard[] => (index as unknown as { shards: FlatShard[] }).shards;
let seed = 7000;

describe.skipIf(!hasGpu)('gpu fused flat kernels', () => {
  afterEach(() => void Object.assign(kernelTuning, defaults));

  // nq = 1 and 4: flat_gemv (subgroups) and flat_fused (without); 7, 16, 33: the small and mid
  // block shapes; 70: the compute-bound block. d values not multiples of 4 (nor of 8/16 for f16/int8).
  it.each([
    [1, 13, 'ip'],
    [4, 30, 'l2'],
    [7, 61, 'ip'],
    [16, 5, 'l2'],
    [33, 99, 'ip'],
    [70, 131, 'l2'],
  ] as const)('nq=%i d=%i %s: f32 exact ids vs float64, random and clustered, several tiles, both subgroup paths', async (nq, d, metric) => {
    const n = 1537; // not a multiple of any block (128 rows) or segment
    for (const clustered of [false, true]) {
      const base = clustered ? clusteredVectors(n, d, 7, seed++) : randomVectors(n, d, seed++);
      const q = clustered ? clusteredVectors(nq, d, 7, seed++) : randomVectors(nq, d, seed++);
      const want = bruteForce(base, q, d, 10, metric);
      for (const noSubgroups of [false, true]) {
        // ~3 tiles; few target workgroups so segments span several blocks.
        kernelTuning.targetWorkgroups = kernelTuning.gemmTarget = kernelTuning.gemmTargetF16 = clustered ? 4 : 2048;
        const index = await GpuFlatIndex.create(d, metric, { maxTileBytes: Math.ceil(d / 4) * 16 * 600, debugPoison: true, noSubgroups });
        try {
          await index.add(base);
          expect(index.tilesPerShard[0]).toBe(3);
          const got = await index.search(q, 10);
          expectMatchesOracle(got, want, distanceTolerance(d, metric === 'l2' ? 8 * d : 4 * d), base, q, d, metric);
        } finally {
          await index.dispose();
        }
      }
    }
  });

  it.each([1, 3, 20, 64])('nq=%i: f16 (native shader-f16 and packed u32) and int8 keep recall against float64', async (nq) => {
    const d = 45;
    const n = 2000;
    const base = clusteredVectors(n, d, 9, seed++);
    const q = clusteredVectors(nq, d, 9, seed++);
    for (const metric of ['ip', 'l2'] as const) {
      const want = bruteForce(base, q, d, 10, metric);
      for (const [precision, noShaderF16] of [['f16', false], ['f16', true], ['int8', false]] as const) {
        const index = await GpuFlatIndex.create(d, metric, { precision, noShaderF16, maxTileBytes: 1 << 14, debugPoison: true });
        try {
          await index.add(base);
          const got = await index.search(q, 10);
          for (const l of got.labels) expect(Number(l)).toBeGreaterThanOrEqual(0);
          // Stated bounds on clustered data (near-ties): f16 keeps 11 significant bits, int8 re-ranks 4k candidates.
          expect(recallAtK(got, want), `${precision} ${metric} packed=${noShaderF16}`).toBeGreaterThanOrEqual(0.93);
        } finally {
          await index.dispose();
        }
      }
    }
  });

  // flat_gemv with up to 16 words in flight a lane (RU rows x UW words): f32 (ru / uw) and f16 (hru /
  // huw) exact ids vs float64, f16 against the oracle over the half-rounded rows (the kernel's f32 sums
  // of exact halves). Shares of a row of 1 to 12+ words (lavapipe's subgroups: d = 768 f16 is 96 words).
  // tr / htr (nq = 1, one row a pass): rows of tr passes reduced together; lavapipe's subgroups have
  // 8 lanes, so tr <= 8 takes the transposed reduction (8: one lane a row; 4, 2: 2 and 4 lanes a row,
  // the tail shuffles), 16 / 32 fall back to a subgroupAdd a row; ru > 1 keeps tr 1. Segments end
  // inside a batch of passes.
  it.each([
    [1, 768, 'ip', { ru: 1, uw: 16, hru: 1, huw: 3, pf: 1, hpf: 1, tr: 1, htr: 8 }],
    [4, 768, 'l2', { ru: 2, uw: 8, hru: 4, huw: 4, pf: 0, hpf: 1, tr: 4, htr: 2 }],
    [3, 200, 'ip', { ru: 3, uw: 5, hru: 5, huw: 3, pf: 1, hpf: 0, gemvTargetF16: 5, tr: 1, htr: 1 }],
    [2, 61, 'l2', { ru: 8, uw: 2, hru: 1, huw: 12, pf: 1, hpf: 1, tr: 1, htr: 1 }],
    [1, 200, 'l2', { ru: 2, uw: 0, hru: 1, huw: 2, pf: 0, hpf: 0, gemvTargetF16: 0, tr: 2, htr: 2 }],
    [4, 133, 'ip', { ru: 1, uw: 3, hru: 2, huw: 3, pf: 1, hpf: 1, tr: 1, htr: 1 }],
    [1, 768, 'l2', { ru: 1, uw: 0, hru: 1, huw: 3, pf: 0, hpf: 0, gemvTargetF16: 1024, tr: 8, htr: 4 }],
    [1, 133, 'ip', { ru: 1, uw: 0, hru: 1, huw: 3, pf: 1, hpf: 0, gemvTargetF16: 7, tr: 4, htr: 2 }],
    [1, 61, 'ip', { ru: 1, uw: 0, hru: 1, huw: 3, pf: 0, hpf: 0, gemvTargetF16: 3, tr: 16, htr: 32 }],
  ] as const)('nq=%i d=%i %s %o: flat_gemv rows x words in flight up to 16, next pass prefetched (pf), batched reduction (tr), f32 and f16 exact ids vs float64', async (nq, d, metric, knobs) => {
    Object.assign(kernelTuning, { gemvMultiFrom: 5 }, knobs); // flat_gemv at 2-4 queries too, not flat_gemv_multi
    kernelTuning.targetWorkgroups = 3; // segments of several hundred rows: each subgroup loops over many row groups
    const n = 1537;
    const base = randomVectors(n, d, seed++);
    const q = randomVectors(nq, d, seed++);
    const halves = base.map((x) => fromHalfBits(toHalfBits(x)));
    for (const [precision, rows] of [['f32', base], ['f16', halves]] as const) {
      const index = await GpuFlatIndex.create(d, metric, { precision, noShaderF16: true, maxTileBytes: Math.ceil(d / 4) * 16 * 600, debugPoison: true });
      try {
        await index.add(base);
        const shard = shardsOf(index)[0]!;
        const key = shard.scorerFor(nq, 10).key;
        const ru = precision === 'f32' ? knobs.ru : knobs.hru;
        const uw = Math.min(precision === 'f32' ? knobs.uw || Math.floor(8 / ru) : knobs.huw, Math.floor(16 / ru));
        const pf = precision === 'f32' ? knobs.pf : knobs.hpf;
        const tr = ru === 1 ? (precision === 'f32' ? knobs.tr : knobs.htr) : 1;
        expect(key, precision).toMatch(new RegExp(`^gemv:.*:${ru}:${uw}:0:${pf}:${tr}$`));
        // f16's own workgroup target for one query (segments of 1-2 rows at 1024 here), else targetWorkgroups.
        expect(shard.scorerFor(nq, 10).target, precision).toBe(precision === 'f16' && nq === 1 ? kernelTuning.gemvTargetF16 || undefined : undefined);
        const got = await index.search(q, 10);
        expectMatchesOracle(got, bruteForce(rows, q, d, 10, metric), distanceTolerance(d, metric === 'l2' ? 8 * d : 4 * d), rows, q, d, metric);
      } finally {
        await index.dispose();
      }
    }
  });

  it('f16Cls: f16 batches take the f32 class blocks (midF16, bigF32, bigF32L) and spread owners, exact ids vs float64 over the half rows', async () => {
    // gemvMulti without bit 8: 16 f16 queries on flat_fused's class blocks, not flat_gemv_multi.
    Object.assign(kernelTuning, { f16Cls: 1, midF16: '4x8h', midF32: '4x8h', bigF32: '8x8s', bigF32L: '8x8w', selOwn: 7, gemmTarget: 3, targetWorkgroups: 3, gemvMulti: kernelTuning.gemvMulti & ~8 });
    const d = 61;
    const n = 1537;
    const base = randomVectors(n, d, seed++);
    const halves = base.map((x) => fromHalfBits(toHalfBits(x)));
    const index = await GpuFlatIndex.create(d, 'ip', { precision: 'f16', maxTileBytes: Math.ceil(d / 4) * 16 * 600, debugPoison: true });
    try {
      await index.add(base);
      const shard = shardsOf(index)[0]!;
      for (const nq of [16, 70, 130]) {
        const q = randomVectors(nq, d, seed++);
        const lim = [heapSlots(10), shard.ctx.maxWorkgroupStorage, shard.ctx.device.limits.maxComputeInvocationsPerWorkgroup] as const;
        const pick = pickFusedShape(nq, ...lim, 'f16')!;
        expect(pick, `nq=${nq}: the f32 pick`).toEqual(pickFusedShape(nq, ...lim, 'f32'));
        expect(pick.own, `nq=${nq}`).toBe(1);
        const { WX, WY, TR, TQ } = pick.shape;
        expect(shard.scorerFor(nq, 10).key).toContain(`:${WX}x${WY}x${TR}x${TQ}:`);
        const got = await index.search(q, 10);
        // Exact against the half-rounded rows (f32 sums of exact halves; native or packed decode).
        expectMatchesOracle(got, bruteForce(halves, q, d, 10, 'ip'), distanceTolerance(d, 4 * d), halves, q, d, 'ip');
      }
    } finally {
      await index.dispose();
    }
  });

  it('k near and beyond N, k = 1024 over several tiles, and k up to the limit exact (both paths)', async () => {
    const d = 6;
    for (const [n, k, nq] of [[300, 299, 2], [300, 300, 5], [300, 310, 1], [2500, 1024, 3], [2500, 1024, 9]] as const) {
      const base = randomVectors(n, d, seed++);
      const q = randomVectors(nq, d, seed++);
      for (const noSubgroups of [false, true]) {
        const index = await GpuFlatIndex.create(d, 'ip', { maxTileBytes: 16 * 1000, debugPoison: true, noSubgroups });
        try {
          await index.add(base);
          const got = await index.search(q, k);
          expectMatchesOracle(got, bruteForce(base, q, d, k, 'ip'), distanceTolerance(d, d), base, q, d, 'ip');
        } finally {
          await index.dispose();
        }
      }
    }
  });

  it('lists merged per tile (small candidate budget) equal lists merged once; many merge levels', async () => {
    const d = 20;
    const n = 4000;
    const nq = 50;
    const base = randomVectors(n, d, seed++);
    const q = randomVectors(nq, d, seed++);
    const want = bruteForce(base, q, d, 10, 'ip');
    kernelTuning.mergeFanIn = 2; // depth: log2(segments) levels
    for (const scratchBytes of [256 << 20, nq * 10 * 8 * 8]) {
      const index = await GpuFlatIndex.create(d, 'ip', { maxTileBytes: 80 * 1000, scratchBytes, debugPoison: true });
      try {
        await index.add(base);
        expectMatchesOracle(await index.search(q, 10), want, distanceTolerance(d, d), base, q, d, 'ip');
      } finally {
        await index.dispose();
      }
    }
  });

  it('nq above the 4096 batch limit is split (compute-bound block shape), exact', async () => {
    const d = 9;
    const base = randomVectors(700, d, seed++);
    const q = randomVectors(4200, d, seed++);
    expect(4200).toBeGreaterThan(GEMM_MIN_BATCH);
    const index = await GpuFlatIndex.create(d, 'l2', { maxTileBytes: 48 * 300, debugPoison: true });
    try {
      await index.add(base);
      expectMatchesOracle(await index.search(q, 7), bruteForce(base, q, d, 7, 'l2'), distanceTolerance(d, 8 * d), base, q, d, 'l2');
    } finally {
      await index.dispose();
    }
  });

  it('temporary memory is nq x segments x k pairs, not nq x rows: it does not grow with N', async () => {
    const d = 16;
    const nq = 64;
    const k = 10;
    kernelTuning.targetWorkgroups = 8;
    kernelTuning.gemmTarget = kernelTuning.gemmTargetF16 = 8; // nq = 64 takes the compute-bound block, which has its own target
    const temps: number[] = [];
    for (const n of [20_000, 80_000]) {
      const index = await GpuFlatIndex.create(d, 'ip', {});
      try {
        await index.add(randomVectors(n, d, seed++));
        await index.search(randomVectors(nq, d, seed++), k);
        const shard = shardsOf(index)[0]!;
        temps.push(shard.tempBytes);
        // A scores matrix would be nq x n x 4 bytes: 5 MB and 20 MB here.
        expect(shard.tempBytes).toBeLessThan((nq * n * 4) / 20);
        expect(shard.tempBytes).toBeLessThanOrEqual(shard.batchPlan(nq, k).tempBytes + 64 * 1024);
      } finally {
        await index.dispose();
      }
    }
    expect(temps[1]).toBe(temps[0]);
  });

  // f32 per-class blocks (midF32 for nq 9..16, bigF32 for 48..127, bigF32L from 128) and SWZ (8 x 4
  // invocation patches per 32-lane subgroup, by class bit), several tiles, segments of several blocks.
  it.each([
    [16, 61, 'ip', { midF32: '4x8', swz: 1 }],
    [12, 131, 'l2', { midF32: '4x8h', swz: 1 }],
    [16, 30, 'ip', { midF32: '4x8w', swz: 0 }],
    [33, 61, 'l2', { swz: 1 }],
    [70, 131, 'ip', { bigF32: '8x8s', swz: 2 }],
    [64, 61, 'l2', { bigF32: '8x8w', swz: 2 }],
    [70, 61, 'ip', { bigF32: '4x8r', swz: 2 }],
    [70, 131, 'l2', { swz: 6 }],
    [130, 131, 'l2', { bigF32: '8x8s', bigF32L: '8x8w', swz: 4, gemmTargetL: 3 }],
    [200, 45, 'ip', { bigF32L: '8x8s', swz: 4 }],
    [16, 61, 'ip', { midF32: '4x8h', selOwn: 7, selQ: 7, selCap: 2 }],
    [70, 131, 'l2', { bigF32: '8x8s', selOwn: 7, selQ: 7, selCap: 8 }],
    [64, 61, 'ip', { selOwn: 7, selQ: 7, selCap: 4 }],
    [200, 45, 'l2', { bigF32L: '8x8w', selOwn: 7, selQ: 7, selCap: 8 }],
    [33, 30, 'ip', { selOwn: 7, selQ: 7, selCap: 1 }],
    [12, 13, 'l2', { selOwn: 7 }],
  ] as const)('nq=%i d=%i %s %o: f32 block per class and SWZ, exact ids vs float64', async (nq, d, metric, knobs) => {
    // flat_fused's own classes: flat_gemv_multi (default for 5-16 f32 queries) off; the scan (TSEL /
    // ROT, on by default from 48 queries: test/gpu/fused-tsel), and 4 x 8 at 48..127 unless asked.
    Object.assign(kernelTuning, { gemvMulti: 0, tsel: 0, rot: 0, bigF32: '' }, knobs);
    kernelTuning.targetWorkgroups = kernelTuning.gemmTarget = 4;
    const n = 1537;
    const base = randomVectors(n, d, seed++);
    const q = randomVectors(nq, d, seed++);
    const want = bruteForce(base, q, d, 10, metric);
    const index = await GpuFlatIndex.create(d, metric, { maxTileBytes: Math.ceil(d / 4) * 16 * 600, debugPoison: true });
    try {
      await index.add(base);
      const shard = shardsOf(index)[0]!;
      const got = await index.search(q, 10);
      expectMatchesOracle(got, want, distanceTolerance(d, metric === 'l2' ? 8 * d : 4 * d), base, q, d, metric);
      // The block asked for ran where it fits the adapter's workgroup memory (lavapipe: 32 KiB).
      const key = shard.scorerFor(nq, 10).key;
      const pick = pickFusedShape(nq, heapSlots(10), shard.ctx.maxWorkgroupStorage, shard.ctx.device.limits.maxComputeInvocationsPerWorkgroup)!;
      const { WX, WY, TR, TQ } = pick.shape;
      expect(key).toContain(`:${WX}x${WY}x${TR}x${TQ}:`);
      expect(key.endsWith(`:${pick.swz}:0:${pick.own}:${pick.cap}`), key).toBe(true);
      console.log(`${JSON.stringify(knobs)} nq=${nq}: ${key}`);
    } finally {
      await index.dispose();
    }
  });

  // Selection queues (CAP) that fill and fold mid-scan (cap 1-3 against k up to 100), owners spread
  // over the subgroups (OWN), clustered rows (near-ties), several tiles and blocks a segment.
  it.each([
    [16, 'ip', { midF32: '4x8', selOwn: 7, selQ: 7, selCap: 3 }],
    [70, 'l2', { bigF32: '8x8s', selOwn: 7, selQ: 7, selCap: 2 }],
    [130, 'ip', { selOwn: 7, selQ: 7, selCap: 1 }],
  ] as const)('nq=%i %s %o: selection queues and spread owners, k 1 / 40 / 100, exact ids vs float64', async (nq, metric, knobs) => {
    Object.assign(kernelTuning, { tsel: 0, rot: 0, bigF32: '' }, knobs);
    kernelTuning.targetWorkgroups = kernelTuning.gemmTarget = 3;
    const d = 37;
    const n = 1400;
    const base = clusteredVectors(n, d, 5, seed++);
    const q = clusteredVectors(nq, d, 5, seed++);
    const index = await GpuFlatIndex.create(d, metric, { maxTileBytes: Math.ceil(d / 4) * 16 * 500, debugPoison: true });
    try {
      await index.add(base);
      for (const k of [1, 40, 100]) {
        const got = await index.search(q, k);
        expectMatchesOracle(got, bruteForce(base, q, d, k, metric), distanceTolerance(d, metric === 'l2' ? 8 * d : 4 * d), base, q, d, metric);
        console.log(`${JSON.stringify(knobs)} nq=${nq} k=${k}: ${shardsOf(index)[0]!.scorerFor(nq, k).key}`);
      }
    } finally {
      await index.dispose();
    }
  });

  it('f32 class knobs pick their blocks; f16 with f16Cls 0 / int8 keep big; SWZ only where 8 x 4 patches tile the block', () => {
    Object.assign(kernelTuning, { big: '4x8', bigF32: '8x8s', bigF32L: '8x8w', midF32: '4x8', swz: 7, f16Cls: 0, tsel: 0, rot: 0 });
    const shape = (nq: number, precision: 'f32' | 'f16' | 'int8' = 'f32') => {
      const p = pickFusedShape(nq, heapSlots(10), 49152, 256, precision)!;
      return `${p.shape.WX}x${p.shape.WY}x${p.shape.TR}x${p.shape.TQ}:${p.swz}`;
    };
    expect(shape(16)).toBe('32x4x8x4:1');
    expect(shape(8)).toBe('64x2x2x4:0');
    // 17..32 / 33..48 (midBF32 / midBF32L: up to its block's 48 queries, fewer than bigF32's 64):
    // 32 x 8 of 4 x 8, then 6x8w; f16 (midF16L 8x8w, no fewer than 64) from 48 the bigF32 block.
    expect(shape(32)).toBe('32x8x8x4:1');
    expect(shape(40)).toBe('32x8x8x6:1');
    expect(shape(GEMM_MIN_BATCH)).toBe('32x8x8x6:1');
    expect(shape(49)).toBe('16x8x8x8:1');
    kernelTuning.midBF32L = '8x8w';
    expect(shape(40)).toBe('32x8x8x8:1');
    kernelTuning.midBF32 = kernelTuning.midBF32L = '';
    expect(shape(40)).toBe('32x8x4x4:1');
    expect(shape(GEMM_MIN_BATCH)).toBe('16x8x8x8:1');
    expect(shape(127)).toBe('16x8x8x8:1');
    expect(shape(128)).toBe('32x8x8x8:1');
    expect(shape(1024, 'f16')).toBe('16x16x8x4:0');
    expect(shape(64, 'int8')).toBe('16x16x8x4:0');
    expect(shape(16, 'f16')).toBe('32x4x4x4:0');
    // f16Cls 1: f16 takes f32's blocks, with midF16 (not midF32) at 9..16 queries.
    Object.assign(kernelTuning, { f16Cls: 1, midF16: '4x8h' });
    expect(shape(1024, 'f16')).toBe('32x8x8x8:1');
    expect(shape(64, 'f16')).toBe('16x8x8x8:1');
    expect(shape(16, 'f16')).toBe('16x4x8x4:1');
    kernelTuning.midF16 = '';
    expect(shape(16, 'f16')).toBe('32x4x4x4:1');
    kernelTuning.swz = 2;
    expect(shape(16)).toBe('32x4x8x4:0');
    expect(shape(64)).toBe('16x8x8x8:1');
    expect(shape(256)).toBe('32x8x8x8:0');
  });

  it('block shapes fit the workgroup memory they are picked for (16 KiB, 32 KiB, 48 KiB), up to k = 1024, and the prefetch registers', () => {
    for (const [storage, kc, big] of [[16384, 4, ''], [32768, 4, ''], [49152, 4, ''], [49152, 8, ''], [32768, 8, ''], [16384, 4, '8x8w'], [32768, 4, '8x8s'], [49152, 4, '8x8w'], [49152, 4, '4x8r'], [32768, 4, '4x8r']] as const) {
      kernelTuning.kc = kc;
      // f32 class blocks: the big ones for both big classes, and the widest mid block.
      // The scan's score area (TSEL's layout: test/gpu/fused-tsel).
      Object.assign(kernelTuning, { tsel: 0, rot: 0 }, big ? { bigF32: big, bigF32L: big, midF32: '4x8w', swz: 7 } : { bigF32: '', bigF32L: '', midF32: '', swz: 0 });
      for (const nq of [1, 8, 16, 40, 64, 200, 4096]) {
        for (const k of [1, 10, 40, 100, 512]) {
          const pick = pickFusedShape(nq, heapSlots(k), storage);
          expect(pick, `nq=${nq} k=${k} storage=${storage}`).toBeDefined();
          const { shape, selp, smv, kc } = pick!;
          const BQ = shape.WY * shape.TQ;
          const BR = shape.WX * shape.TR;
          expect(smv * 16 + BQ * heapSlots(k) * 8).toBeLessThanOrEqual(storage);
          // The staging step and a selection piece of scores both fit `sm`.
          expect(smv).toBeGreaterThanOrEqual(kc * (BQ + BR));
          expect(smv * 4).toBeGreaterThanOrEqual((BQ / selp) * (BR + 4));
          expect(fusedStagingFits(shape, kc)).toBe(true);
          expect(BR * kc).toBeLessThanOrEqual(8 * shape.WX * shape.WY);
        }
      }
      expect(pickFusedShape(1, heapSlots(1024), storage), `k=1024 storage=${storage}`).toBeDefined();
    }
  });
});
