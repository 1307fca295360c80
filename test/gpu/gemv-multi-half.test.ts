/**
 * flat_gemv_multi's half multiply-adds (kernelTuning.hhalf; the shader's HA): f16 rows on a device
 * with shader-f16, inner product, 2-64 queries (past 16 as blocks of 16 launched together). The queries are scaled by a power of two each
 * (scaleQueriesForHalves) and staged as halves, each lane's share of a row summed in f16 pairs;
 * those approximate keys pick k' candidates that the shard re-ranks exactly from the rows. Checked
 * against the float64 oracle over the half-rounded rows with the lists poisoned, on random,
 * clustered, large (products past f16's range unless scaled) and tiny (products in f16's subnormal
 * range unless scaled) data, and after an add that widens the rows' magnitudes.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { Metric } from '../../src/core/types.js';
import { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import { type FlatShard, kernelTuning } from '../../src/gpu/flat-shard.js';
import { gemvMultiKey, planGemvMulti, scaleQueriesForHalves } from '../../src/gpu/gemv-multi.js';
import { fromHalfBits, toHalfBits } from '../../src/gpu/half.js';
import { clusteredVectors, randomVectors, rng } from '../helpers/data.js';
import { expectOracle } from '../helpers/gemv-multi-case.js';
import { gpuForTests } from '../helpers/gpu.js';

const hasGpu = await gpuForTests('GPU flat_gemv_multi half multiply-adds');
const defaults = { ...kernelTuning };
let seed = 77000;

describe('planGemvMulti: half multiply-adds (HA)', () => {
  const facts = { rowWords: 96, q4: 192, subgroupSize: 32, maxWorkgroupStorage: 49152, halfMath: true };
  const knobs = { ru: 2, uw: 2, sp: 0, ci: 6, qw: 1, split: 0, part: 1, half: 1 };
  it('stages the block as halves (NQ x rowWords words, no f32 staging) only where the shard may multiply halves', () => {
    for (const nq of [2, 8, 13, 16]) {
      const p = planGemvMulti(facts, nq, 16, knobs)!;
      expect([p.HA, p.QH, p.QWG, p.QS]).toEqual([1, p.NQ * 96, 0, 1]);
      expect(gemvMultiKey(p, 1, 0, true, 16)).toMatch(/:ha$/);
      // Within workgroup memory: the buffers, counts, thresholds, one word and the staged halves.
      expect(p.NQ * p.SP * 8 + 12 * p.NQ + 16 + 16 * p.QH).toBeLessThanOrEqual(facts.maxWorkgroupStorage);
    }
    // Past 16 queries, blocks of 16 launched together; without HA, none.
    const wide = planGemvMulti(facts, 40, 16, knobs)!;
    expect([wide.NQ, wide.QX, wide.QB, wide.HA, wide.NG, wide.NQR]).toEqual([16, 1, 16, 1, 4, 4]);
    expect(planGemvMulti(facts, 65, 16, knobs)).toBeUndefined();
    expect(planGemvMulti(facts, 40, 16, { ...knobs, half: 0 })).toBeUndefined();
    expect(planGemvMulti({ ...facts, halfMath: false }, 8, 16, knobs)!.HA).toBe(0);
    expect(planGemvMulti(facts, 8, 16, { ...knobs, half: 0 })!.HA).toBe(0);
    // Rows too long for the staged halves beside the buffers: the plan without them.
    expect(planGemvMulti({ ...facts, rowWords: 384, q4: 768 }, 16, 16, knobs)).toEqual(planGemvMulti({ ...facts, rowWords: 384, q4: 768 }, 16, 16, { ...knobs, half: 0 }));
    expect(planGemvMulti({ ...facts, rowWords: 384, q4: 768 }, 16, 16, knobs)!.HA).toBe(0);
  });
});

describe('scaleQueriesForHalves', () => {
  it('scales each query by a power of two to just under the half sums bound and the largest half', () => {
    const r = rng(5);
    const q4 = 3;
    const dp = q4 * 4;
    for (const [qScale, rowScale] of [[1, 1], [1e4, 30], [1e-6, 1e-3], [0.05, 2000]] as const) {
      const maxima = Float32Array.from({ length: dp }, (_, j) => (j === dp - 1 ? 0 : r() * rowScale));
      const queries = Float32Array.from({ length: 4 * dp }, (_, i) => (i % dp === dp - 1 ? 0 : (r() * 2 - 1) * qScale));
      const out = scaleQueriesForHalves(queries, q4, maxima);
      for (let at = 0; at < queries.length; at += dp) {
        const scale = out[at]! / queries[at]!;
        expect(Number.isInteger(Math.log2(scale))).toBe(true);
        let bound = 0;
        let largest = 0;
        for (let j = 0; j < dp; j++) {
          expect(out[at + j]).toBe(queries[at + j]! * scale);
          bound += Math.abs(out[at + j]!) * maxima[j]!;
          largest = Math.max(largest, Math.abs(out[at + j]!));
        }
        expect(bound).toBeLessThanOrEqual(2 ** 14);
        expect(largest).toBeLessThanOrEqual(2 ** 15);
        // Tight: twice the scale would pass one of the bounds.
        expect(2 * bound > 2 ** 14 || 2 * largest > 2 ** 15).toBe(true);
      }
    }
    // A zero query stays zero; rows all zero leave the query's largest half as the bound.
    expect([...scaleQueriesForHalves(new Float32Array(4), 1, new Float32Array(4).fill(1))]).toEqual([0, 0, 0, 0]);
    expect([...scaleQueriesForHalves(Float32Array.of(1, -0.5, 0, 0), 1, new Float32Array(4))]).toEqual([2 ** 15, -(2 ** 14), 0, 0]);
  });
});

/** An f16 index of `base` (native shader-f16 decoding), lists poisoned, in tiles of tileRows rows. */
async function halfIndex(d: number, metric: Metric, base: Float32Array, tileRows: number): Promise<{ index: GpuFlatIndex; shard: FlatShard }> {
  const index = await GpuFlatIndex.create(d, metric, { precision: 'f16', debugPoison: true, maxTileBytes: Math.ceil(d / 8) * 16 * tileRows });
  await index.add(base);
  return { index, shard: (index as unknown as { shards: FlatShard[] }).shards[0]! };
}

const halves = (x: Float32Array): Float32Array => x.map((v) => fromHalfBits(toHalfBits(v)));
const scaled = (x: Float32Array, s: number): Float32Array => x.map((v) => v * s);

describe.skipIf(!hasGpu)('flat_gemv_multi half multiply-adds (hhalf)', () => {
  afterEach(() => void Object.assign(kernelTuning, defaults));

  // nq, d, k, tiles a dispatch, iterations a chunk, data: random / clustered / large (rows and
  // queries x 300: products up to 9e4, past f16's 65504) / tiny (x 1e-5: products below 1e-10, under
  // f16's smallest subnormal; lavapipe's halves may keep more precision). Tiles of 400 / 400 / 217 rows.
  it.each([
    [3, 61, 10, 1, 0, 'random'],
    [9, 136, 7, 3, 2, 'clustered'],
    [13, 256, 10, 2, 1, 'large'],
    [16, 45, 20, 1, 0, 'tiny'],
    [40, 72, 10, 2, 2, 'clustered'], // three blocks of 16 launched together, the last padded
  ] as const)('nq=%i d=%i k=%i, %i tiles a dispatch, chunks of %i, %s data: approximate keys re-ranked to the oracle', async (nq, d, k, tiles, dyn, data) => {
    const n = 1017;
    const scale = data === 'large' ? 300 : data === 'tiny' ? 1e-5 : 1;
    const base = scaled(data === 'clustered' ? clusteredVectors(n, d, 5, seed++) : randomVectors(n, d, seed++), scale);
    const q = scaled(data === 'clustered' ? clusteredVectors(nq, d, 5, seed++) : randomVectors(nq, d, seed++), scale);
    const { index, shard } = await halfIndex(d, 'ip', base, 400);
    try {
      Object.assign(kernelTuning, defaults, { hhalf: 1, gemvMultiTiles: tiles, hdyn: dyn, h16dyn: dyn, h4dyn: dyn });
      const kp = index.gpuK(k, nq);
      expect(kp).toBeGreaterThan(k);
      expect(shard.scorerFor(nq, kp).key).toMatch(nq > 16 ? /^gemvm:1:0:h:\d+:16:.*:qx:ha$/ : /^gemvm:1:0:h:.*:ha$/);
      expectOracle(await index.search(q, k), halves(base), q, d, k, 'ip', scale * scale);
      // The exact kernels (hhalf off) too.
      kernelTuning.hhalf = 0;
      expect(index.gpuK(k, nq)).toBe(k);
      expectOracle(await index.search(q, k), halves(base), q, d, k, 'ip', scale * scale);
    } finally {
      await index.dispose();
    }
  });

  it('rescales after an add widens the rows: rows 1000x larger added after a search', async () => {
    const d = 96;
    const nq = 8;
    const k = 10;
    const first = randomVectors(600, d, seed++);
    const q = randomVectors(nq, d, seed++);
    const { index, shard } = await halfIndex(d, 'ip', first, 400);
    try {
      kernelTuning.hhalf = 1;
      expect(shard.scorerFor(nq, index.gpuK(k, nq)).key).toMatch(/:ha$/);
      expectOracle(await index.search(q, k), halves(first), q, d, k, 'ip');
      // Unscaled again, the large rows' products with the first search's scaled queries pass 65504.
      const large = scaled(randomVectors(300, d, seed++), 1000);
      await index.add(large);
      const all = new Float32Array([...first, ...large]);
      expectOracle(await index.search(q, k), halves(all), q, d, k, 'ip', 1000);
    } finally {
      await index.dispose();
    }
  });

  it('keeps squared L2 and shards without shader-f16 on the exact kernels', async () => {
    const d = 40;
    const base = randomVectors(300, d, seed++);
    const q = randomVectors(6, d, seed++);
    kernelTuning.hhalf = 1;
    const l2 = await halfIndex(d, 'l2', base, 400);
    try {
      expect(l2.index.gpuK(10, 6)).toBe(10);
      expect(l2.shard.scorerFor(6, 10).key).not.toMatch(/:ha/);
      expectOracle(await l2.index.search(q, 10), halves(base), q, d, 10, 'l2');
    } finally {
      await l2.index.dispose();
    }
    const unpacked = await GpuFlatIndex.create(d, 'ip', { precision: 'f16', noShaderF16: true });
    try {
      await unpacked.add(base);
      expect(unpacked.gpuK(10, 6)).toBe(10);
      const shard = (unpacked as unknown as { shards: FlatShard[] }).shards[0]!;
      expect(shard.scorerFor(6, 10).key).not.toMatch(/:ha/);
    } finally {
      await unpacked.dispose();
    }
  });
});
