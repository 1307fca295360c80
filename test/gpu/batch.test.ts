/** Large query batches take the compute-bound flat_fused block shape: exact against the oracle across its blocks. */
import { describe, expect, it } from 'vitest';
import { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import { GEMM_MIN_BATCH } from '../../src/gpu/flat-shard.js';
import { clusteredVectors, randomVectors } from '../helpers/data.js';
import { bruteForce, distanceTolerance, expectMatchesOracle, recallAtK } from '../helpers/oracle.js';
import { gpuForTests } from '../helpers/gpu.js';

const hasGpu = await gpuForTests('GPU large batches');

describe.skipIf(!hasGpu)('gpu large batches (fused GEMM scorer)', () => {
  it.each([
    ['ip', 769, 66],
    ['l2', 100, 131],
  ] as const)('%s d=%i nq=%i: f32 equals the oracle; f16/int8 keep recall', async (metric, d, nq) => {
    expect(nq).toBeGreaterThanOrEqual(GEMM_MIN_BATCH);
    const n = 333; // not a multiple of the 128-row block; two tiles
    const base = clusteredVectors(n, d, 5, 101);
    const q = clusteredVectors(nq, d, 5, 102);
    for (const precision of ['f32', 'f16', 'int8'] as const) {
      const index = await GpuFlatIndex.create(d, metric, { precision, maxTileBytes: Math.ceil(d / 4) * 16 * 200, debugPoison: true });
      try {
        await index.add(base);
        const k = 10;
        const got = await index.search(q, k);
        const want = bruteForce(base, q, d, k, metric);
        if (precision === 'f32') expectMatchesOracle(got, want, distanceTolerance(d, metric === 'l2' ? 8 * d : 4 * d), base, q, d, metric);
        else expect(recallAtK(got, want), precision).toBeGreaterThanOrEqual(0.95);
      } finally {
        await index.dispose();
      }
    }
  });

  it.each([1, 4])('nq=%i: the subgroup GEMV and the path without subgroups both equal the oracle (f32/f16/int8, l2)', async (nq) => {
    const d = 77;
    const n = 1000;
    const base = clusteredVectors(n, d, 5, 105);
    const q = clusteredVectors(nq, d, 5, 106);
    for (const noSubgroups of [false, true]) {
      for (const precision of ['f32', 'f16', 'int8'] as const) {
        const index = await GpuFlatIndex.create(d, 'l2', { precision, noSubgroups, maxTileBytes: 320 * 301, debugPoison: true });
        try {
          await index.add(base);
          const got = await index.search(q, 10);
          const want = bruteForce(base, q, d, 10, 'l2');
          if (precision === 'f32') expectMatchesOracle(got, want, distanceTolerance(d, 8 * d), base, q, d, 'l2');
          else expect(recallAtK(got, want), `${precision} noSubgroups=${noSubgroups}`).toBeGreaterThanOrEqual(0.95);
        } finally {
          await index.dispose();
        }
      }
    }
  });

  it('k = 1024 (the selection limit) over several tiles equals the oracle; k above it is refused naming the limit', async () => {
    const d = 8;
    const base = randomVectors(3000, d, 107);
    const q = randomVectors(2, d, 108);
    const index = await GpuFlatIndex.create(d, 'ip', { maxTileBytes: 32 * 1100, debugPoison: true });
    try {
      await index.add(base);
      expect(index.kLimit).toBeGreaterThanOrEqual(1024);
      const got = await index.search(q, 1024);
      expectMatchesOracle(got, bruteForce(base, q, d, 1024, 'ip'), distanceTolerance(d, d), base, q, d, 'ip');
      await expect(index.search(q, index.kLimit + 1)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    } finally {
      await index.dispose();
    }
  });

  it('nq above the 4096 batch limit is split and still exact (d=3)', async () => {
    const d = 3;
    const base = randomVectors(40, d, 103);
    const q = randomVectors(4100, d, 104);
    const index = await GpuFlatIndex.create(d, 'ip', {});
    try {
      await index.add(base);
      const got = await index.search(q, 5);
      expectMatchesOracle(got, bruteForce(base, q, d, 5, 'ip'), distanceTolerance(d, d), base, q, d, 'ip');
    } finally {
      await index.dispose();
    }
  });
});
