/**
 * flat_fused's TSEL (threshold test in registers, candidate slots a query folded by the owners) and
 * ROT (rotated staging slots) against the float64 oracle and against the same search with both off
 * (lists equal pair for pair), candidate buffers poisoned before every search. Small slot counts make
 * the slots overflow, so the rounds that retry the candidates not yet taken run too.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import { type FlatShard, heapSlots, kernelTuning, pickFusedShape } from '../../src/gpu/flat-shard.js';
import { clusteredVectors, randomVectors } from '../helpers/data.js';
import { bruteForce, distanceTolerance, expectMatchesOracle, type OracleResult } from '../helpers/oracle.js';
import { gpuForTests } from '../helpers/gpu.js';

const hasGpu = await gpuForTests('GPU fused TSEL / ROT');
const defaults = { ...kernelTuning };
const shardsOf = (index: GpuFlatIndex): FlatShard[] => (index as unknown as { shards: FlatShard[] }).shards;
let seed = 91000;

/**
 * For each k: the search with `knobs` matches the float64 oracle and returns, pair for pair, the lists
 * of the same search with TSEL and ROT off (the scan; same GEMM, same scores). Few workgroups
 * (segments of several blocks) and small tiles (several tiles). Returns the knobs' pipeline key by k.
 */
async function expectSameAsScan(nq: number, d: number, metric: 'ip' | 'l2', clustered: boolean, knobs: Partial<typeof kernelTuning>, ks: number[]): Promise<Map<number, string>> {
  const n = 1537;
  const base = clustered ? clusteredVectors(n, d, 5, seed++) : randomVectors(n, d, seed++);
  const q = clustered ? clusteredVectors(nq, d, 5, seed++) : randomVectors(nq, d, seed++);
  const keyByK = new Map<number, string>();
  // The float64 oracle once, at the largest k: its lists are in a total order (score, then id), so
  // a smaller k's are their first k (each k's own oracle was a quarter of this file's time).
  const kMax = Math.max(...ks);
  const all = bruteForce(base, q, d, kMax, metric);
  for (const k of ks) {
    const want: OracleResult = { nq, k, distances: new Float64Array(nq * k), labels: new Int32Array(nq * k) };
    for (let i = 0; i < nq; i++) {
      want.distances.set(all.distances.subarray(i * kMax, i * kMax + k), i * k);
      want.labels.set(all.labels.subarray(i * kMax, i * kMax + k), i * k);
    }
    const lists: { labels: BigInt64Array; distances: Float32Array }[] = [];
    const keys: string[] = [];
    for (const on of [true, false]) {
      // Off: the scan, no ROT (the defaults have both on from 17 queries).
      Object.assign(kernelTuning, defaults, { gemvMulti: 0, tsel: 0, rot: 0 }, on ? knobs : {});
      kernelTuning.targetWorkgroups = kernelTuning.gemmTarget = 3;
      const index = await GpuFlatIndex.create(d, metric, { maxTileBytes: Math.ceil(d / 4) * 16 * 600, debugPoison: true });
      try {
        await index.add(base);
        const got = await index.search(q, k);
        expectMatchesOracle(got, want, distanceTolerance(d, metric === 'l2' ? 8 * d : 4 * d), base, q, d, metric);
        lists.push(got);
        keys.push(shardsOf(index)[0]!.scorerFor(nq, k).key);
      } finally {
        await index.dispose();
      }
    }
    expect(Array.from(lists[0]!.labels)).toEqual(Array.from(lists[1]!.labels));
    expect(Array.from(lists[0]!.distances)).toEqual(Array.from(lists[1]!.distances));
    console.log(`${JSON.stringify(knobs)} nq=${nq} k=${k}: ${keys[0]}`);
    keyByK.set(k, keys[0]!);
  }
  return keyByK;
}

describe.skipIf(!hasGpu)('flat_fused TSEL and ROT', () => {
  afterEach(() => void Object.assign(kernelTuning, defaults));

  it.each([
    [70, 131, 'ip', false, { tsel: 7, rot: 7, tselCap: 2 }],
    [64, 61, 'l2', true, { tsel: 7, tselCap: 1 }],
    [130, 45, 'ip', true, { tsel: 7, rot: 7, tselCap: 4, bigF32L: '8x8w' }],
    [200, 37, 'l2', false, { tsel: 4, rot: 4, swz: 4, tselCap: 3, bigF32L: '8x8w' }],
    [70, 30, 'ip', true, { tsel: 2, rot: 2, selOwn: 0, tselCap: 16 }],
    [33, 61, 'l2', true, { tsel: 1, rot: 1, tselCap: 2 }],
    [130, 131, 'ip', false, { rot: 7, bigF32L: '8x8s' }],
    [64, 99, 'ip', true, { rot: 2, swz: 2, kc: 8 }],
    [100, 61, 'l2', true, { tsel: 2, rot: 2, tselCap: 5, bigF32: '8x8w' }],
    // ROT at KC 2 (RSH 4) and KC 8 (RSH 1) on 8x8w / 8x8s.
    [130, 131, 'ip', false, { tsel: 7, rot: 7, kc: 2, tselCap: 4, bigF32L: '8x8w' }],
    [64, 45, 'ip', true, { tsel: 7, rot: 7, kc: 8, tselCap: 3, bigF32: '8x8s', swz: 2 }],
  ] as const)('nq=%i d=%i %s clustered=%s %o: f32 exact vs float64 and equal to the scan', async (nq, d, metric, clustered, knobs) => {
    // k 1 / 10 / 40 on the first cases (40: 8x8w's heaps leave no room for TSEL's slots on lavapipe).
    await expectSameAsScan(nq, d, metric, clustered, knobs, nq === 70 || nq === 64 || nq === 130 ? [1, 10, 40] : [10]);
  });

  // KC 8 with TSEL (kc8, heaps of exactly k where the rounded ones do not fit), the 512-invocation
  // blocks, the 17..47 block / target knobs. `want`: a piece of the pipeline key at k = 10
  // (block:KC:heap slots:), so the case fails if the path it names stops being taken. 32 KiB
  // (lavapipe): 8x8s at KC 8 is 24 KiB of staging, so k = 10 needs heaps of 10 slots, not 16.
  it.each([
    [130, 131, 'ip', false, { tsel: 7, rot: 7, kc8: 7, tselCap: 2, bigF32L: '8x8s' }, ['16x8x8x8:8:10:', 't1x2']],
    [64, 61, 'l2', true, { tsel: 7, rot: 7, kc8: 7, tselCap: 4, bigF32: '8x8s' }, ['16x8x8x8:8:10:', 't1x4']],
    // 8x8w at KC 4 with 32 slots asked: 32 and 16 a query do not fit beside the heaps in 32 KiB: 4.
    [70, 45, 'ip', true, { tsel: 7, rot: 7, tselCap: 32 }, ['32x8x8x8:4:16:', 't1x4']],
    // The 512-invocation blocks (KC 2, and 8x8x with one slot a query, to fit 32 KiB; the H200 swept them at KC 4).
    [130, 131, 'ip', false, { tsel: 7, rot: 7, kc: 2, tselCap: 1, bigF32L: '8x8x' }, ['32x16x8x8:2:16:', 't1x1']],
    [70, 61, 'l2', true, { tsel: 7, rot: 7, kc: 2, tselCap: 16, bigF32: '8x8t' }, ['64x8x8x8:2:16:', 't1x4']],
    [30, 37, 'l2', false, { tsel: 7, rot: 7, kc8: 7, tselCapMid: 2, midBF32: '4x8r', gemmTargetM: 5 }, ['32x8x8x4:4:16:', 't1x2']],
    // The defaults at 17..47 (kc2): 4x8r to 32 queries, 8x8w from 33, 132 workgroups.
    [20, 45, 'ip', true, { tsel: 7, rot: 7 }, ['32x8x8x4:4:16:', 't1x16']],
    [40, 61, 'l2', false, { tsel: 7, rot: 7 }, ['32x8x8x6:4:16:', 't1x16']],
    [48, 45, 'ip', true, { tsel: 7, rot: 7 }, ['32x8x8x6:4:16:', 't1x16']], // 32 slots need 37 KiB: lavapipe 16
    // 6 x 8 tiles (48-query blocks): 40 queries in one, 100 in three (the last partial).
    [40, 45, 'ip', true, { tsel: 7, rot: 7, midBF32L: '6x8w', tselCapMid: 16 }, ['32x8x8x6:4:16:', 't1x16']],
    [100, 131, 'l2', false, { tsel: 7, rot: 7, bigF32: '6x8w', tselCap: 3 }, ['32x8x8x6:4:16:', 't1x3']],
    [64, 37, 'ip', false, { tsel: 7, rot: 7, kc8: 2, bigF32: '6x8w', tselCap: 2 }, ['32x8x8x6:4:16:', 't1x2']], // KC 8: 38 KiB, not on lavapipe
    [200, 99, 'ip', true, { tsel: 4, rot: 4, kc8: 4, tselCap: 3, bigF32L: '8x8s' }, ['16x8x8x8:8:10:', 't1x3']],
  ] as const)('nq=%i d=%i %s clustered=%s %o: KC 8 / 512-invocation / class blocks, f32 exact vs float64 and equal to the scan', async (nq, d, metric, clustered, knobs, want10) => {
    const keys = await expectSameAsScan(nq, d, metric, clustered, knobs, nq === 130 || nq === 64 ? [1, 10, 40] : [10]);
    for (const w of want10) expect(keys.get(10), `k=10 takes ${w}`).toContain(w);
  });

  it('KC 8 on 8x8w fits 48 KiB only with heaps of exactly k slots (and 4 slots a query)', () => {
    Object.assign(kernelTuning, defaults, { kc8: 6 });
    const p = pickFusedShape(1024, heapSlots(10), 49152, 256, 'f32', 10)!;
    expect([p.shape.WX, p.shape.TQ, p.kc, p.kf, p.cq, p.smv, p.tsel, p.rot]).toEqual([32, 8, 8, 10, 4, 8 * 320, 1, 1]);
    // Without k the rounded heaps (16) leave no room: KC 4 as before.
    expect(pickFusedShape(1024, heapSlots(10), 49152, 256, 'f32')!.kc).toBe(4);
    // k = 16: 40 KiB staging + 8 KiB heaps + flags > 48 KiB: KC 4.
    expect(pickFusedShape(1024, heapSlots(16), 49152, 256, 'f32', 16)!.kc).toBe(4);
    const q = pickFusedShape(64, heapSlots(10), 49152, 256, 'f32', 10)!;
    expect([q.kc, q.kf, q.cq]).toEqual([8, 10, 4]);
    // Not asked for this class (17..47) or int8: KC 4.
    expect(pickFusedShape(32, heapSlots(10), 49152, 256, 'f32', 10)!.kc).toBe(4);
    expect(pickFusedShape(1024, heapSlots(10), 49152, 256, 'int8', 10)!.kc).toBe(4);
  });

  it('f16 (packed halves on the f32 blocks): TSEL and ROT give the lists of the scan, pair for pair', async () => {
    const d = 61;
    const n = 1537;
    const base = clusteredVectors(n, d, 5, seed++);
    for (const nq of [70, 130]) {
      const q = clusteredVectors(nq, d, 5, seed++);
      const lists: { labels: BigInt64Array; distances: Float32Array }[] = [];
      const keys: string[] = [];
      for (const on of [true, false]) {
        Object.assign(kernelTuning, defaults, { gemvMulti: 0, tsel: 0, rot: 0 }, on ? { tsel: 7, rot: 7, tselCap: 3, bigF32L: '8x8w' } : {});
        kernelTuning.targetWorkgroups = kernelTuning.gemmTarget = 3;
        const index = await GpuFlatIndex.create(d, 'ip', { precision: 'f16', noShaderF16: true, maxTileBytes: 16 * 8 * 600, debugPoison: true });
        try {
          await index.add(base);
          const got = await index.search(q, 10);
          for (const l of got.labels) expect(Number(l)).toBeGreaterThanOrEqual(0);
          lists.push(got);
          keys.push(shardsOf(index)[0]!.scorerFor(nq, 10).key);
        } finally {
          await index.dispose();
        }
      }
      expect(keys[0]).toContain(':r1:t1x3'); // ROT and TSEL ran
      expect(Array.from(lists[0]!.labels)).toEqual(Array.from(lists[1]!.labels));
      expect(Array.from(lists[0]!.distances)).toEqual(Array.from(lists[1]!.distances));
      console.log(`f16 nq=${nq}: ${keys[0]}`);
    }
  });

  it('TSEL / ROT are picked where asked and fit (lavapipe 32 KiB, H200 48 KiB), else the scan', () => {
    Object.assign(kernelTuning, { tsel: 7, rot: 7, tselCap: 16 });
    const p = pickFusedShape(1024, heapSlots(10), 49152, 256, 'f32')!;
    expect(p.shape).toEqual({ WX: 32, WY: 8, TR: 8, TQ: 8 });
    expect([p.tsel, p.rot, p.cq, p.smv]).toEqual([1, 1, 16, 4 * (64 + 256)]);
    // 8x8w with 16 slots a query needs 36.9 KB: the 32 KiB adapter takes 4 slots a query (30.9 KB).
    expect([pickFusedShape(1024, heapSlots(10), 32768, 256, 'f32')!.tsel, pickFusedShape(1024, heapSlots(10), 32768, 256, 'f32')!.cq]).toEqual([1, 4]);
    // 32 slots (45.3 KB) where they fit, else 16, then 4; the 17..47 class its own count.
    Object.assign(kernelTuning, { tselCap: 32, tselCapMid: 16 });
    expect(pickFusedShape(1024, heapSlots(10), 49152, 256, 'f32')!.cq).toBe(32);
    expect(pickFusedShape(1024, heapSlots(10), 40960, 256, 'f32')!.cq).toBe(16);
    expect(pickFusedShape(32, heapSlots(10), 49152, 256, 'f32')!.cq).toBe(16);
    // Large k: heaps take the room, TSEL falls back to the scan where it does not fit.
    expect(pickFusedShape(1024, heapSlots(1024), 49152, 256, 'f32')).toBeDefined();
    // int8 never (its folded bias), nor where not asked.
    expect(pickFusedShape(1024, heapSlots(10), 49152, 256, 'int8')!.tsel).toBe(0);
    // Defaults (H200 gf1-gf3): TSEL + ROT on 8x8w with 32 slots from 49 queries, (17..47: below)
    // with 16 at 17..47.
    Object.assign(kernelTuning, defaults);
    for (const nq of [49, 64, 127, 128, 1024]) {
      const d0 = pickFusedShape(nq, heapSlots(10), 49152, 256, 'f32')!;
      expect([d0.shape.WX, d0.shape.WY, d0.shape.TR, d0.shape.TQ, d0.tsel, d0.rot, d0.kc, d0.cq], `nq=${nq}`).toEqual([32, 8, 8, 8, 1, 1, 4, 32]);
    }
    // 17..47 (kc2-kc4): 32 x 8 of 4 x 8 to 32 queries, then 6 x 8 (48-query blocks, to 48), 16 slots a
    // query below 48, 32 from 48; f16 keeps 8x8w from 33 (midF16L).
    const d1 = pickFusedShape(40, heapSlots(10), 49152, 256, 'f32')!;
    expect([d1.shape.WX, d1.shape.WY, d1.shape.TR, d1.shape.TQ, d1.tsel, d1.rot, d1.cq]).toEqual([32, 8, 8, 6, 1, 1, 16]);
    const d48 = pickFusedShape(48, heapSlots(10), 49152, 256, 'f32')!;
    expect([d48.shape.TQ, d48.cq]).toEqual([6, 32]);
    expect(pickFusedShape(40, heapSlots(10), 49152, 256, 'f16')!.shape.TQ).toBe(8);
    expect(pickFusedShape(48, heapSlots(10), 49152, 256, 'f16')!.shape.TQ).toBe(8);
    const d2 = pickFusedShape(20, heapSlots(10), 49152, 256, 'f32')!;
    expect([d2.shape.WX, d2.shape.WY, d2.shape.TR, d2.shape.TQ, d2.tsel, d2.rot, d2.cq, d2.kc]).toEqual([32, 8, 8, 4, 1, 1, 16, 4]);
  });
});
