/** Compressed storage on the GPU: f16 (recall and half the memory) and int8 with exact re-ranking on the host. */
import { describe, expect, it } from 'vitest';
import { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import { clusteredVectors, normalizeRows, randomVectors } from '../helpers/data.js';
import { bruteForce, recallAtK, trueDistance } from '../helpers/oracle.js';
import { gpuForTests } from '../helpers/gpu.js';

const hasGpu = await gpuForTests('GPU precisions');

describe.skipIf(!hasGpu)('gpu precisions', () => {
  describe.each(['ip', 'l2'] as const)('%s', (metric) => {
    it.each(['f16', 'int8'] as const)('%s: recall@10 against the float64 oracle, clustered and random, several tiles', async (precision) => {
      const d = 100;
      const n = 3001;
      for (const [base, q] of [
        [normalizeRows(clusteredVectors(n, d, 20, 51), d), normalizeRows(clusteredVectors(16, d, 20, 52), d)],
        [randomVectors(n, d, 53), randomVectors(16, d, 54)],
      ] as const) {
        const index = await GpuFlatIndex.create(d, metric, { precision, maxTileBytes: 1 << 16, debugPoison: true });
        try {
          await index.add(base);
          expect(index.precision).toBe(precision);
          const k = 10;
          const got = await index.search(q, k);
          const want = bruteForce(base, q, d, k, metric);
          const recall = recallAtK(got, want);
          // Stated bounds: f16 keeps 11 significant bits, int8 re-ranks 4k candidates exactly.
          expect(recall, `${precision} recall@10`).toBeGreaterThanOrEqual(precision === 'f16' ? 0.97 : 0.95);
          for (let i = 0; i < got.labels.length; i++) {
            const l = Number(got.labels[i]!);
            expect(l).toBeGreaterThanOrEqual(0);
            const exact = trueDistance(base, q, d, Math.floor(i / k), l, metric);
            // int8 distances come from the exact re-rank; f16 distances from half-precision rows.
            const tol = precision === 'int8' ? 1e-4 * Math.max(1, Math.abs(exact)) : 2e-3 * Math.max(1, Math.abs(exact)) * Math.sqrt(d) / 10;
            expect(Math.abs(got.distances[i]! - exact)).toBeLessThanOrEqual(tol);
          }
        } finally {
          await index.dispose();
        }
      }
    });
  });

  it('f16 holds the base in half the bytes of f32, int8 in a quarter', async () => {
    const d = 64;
    const base = randomVectors(1000, d, 61);
    const bytes: Record<string, number> = {};
    for (const precision of ['f32', 'f16', 'int8'] as const) {
      const index = await GpuFlatIndex.create(d, 'ip', { precision });
      await index.add(base);
      bytes[precision] = index.plan!.shards[0]!.baseBytes;
      await index.dispose();
    }
    expect(bytes.f16).toBe(bytes.f32! / 2);
    expect(bytes.int8).toBe(bytes.f32! / 4);
  });
});
