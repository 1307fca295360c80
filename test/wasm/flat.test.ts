import { describe, expect, it } from 'vitest';
import '../../src/wasm/register.js';
import { indexFactory } from '../../src/core/factory.js';
import { WasmFlatIndex } from '../../src/wasm/flat-index.js';
import { clusteredVectors, randomVectors } from '../helpers/data.js';
import { bruteForce, distanceTolerance, expectMatchesOracle } from '../helpers/oracle.js';

describe.each([1, 2])('wasm flat, %i thread(s)', (threads) => {
  describe.each(['ip', 'l2'] as const)('%s', (metric) => {
    it.each([
      [1, 50, 3, 1],
      [3, 200, 7, 10],
      [100, 1000, 9, 100],
      [768, 300, 5, 10],
      [769, 301, 6, 305],
    ])('d=%i n=%i nq=%i k=%i random and clustered', async (d, n, nq, k) => {
      for (const [base, q] of [
        [randomVectors(n, d, 1 + d), randomVectors(nq, d, 2 + d)],
        [clusteredVectors(n, d, 5, 3 + d), clusteredVectors(nq, d, 5, 4 + d)],
      ] as const) {
        const index = await WasmFlatIndex.create(d, metric, { threads });
        await index.add(base.subarray(0, Math.floor(n / 2) * d));
        await index.add(base.subarray(Math.floor(n / 2) * d));
        expect(index.ntotal).toBe(n);
        const got = await index.search(q, k);
        const want = bruteForce(base, q, d, k, metric);
        expectMatchesOracle(got, want, distanceTolerance(d, metric === 'l2' ? 4 * d : d), base, q, d, metric);
        await index.dispose();
      }
    });
  });
});

describe('wasm flat edges', () => {
  it('duplicate vectors tie to the lower id', async () => {
    const d = 4;
    const v = [1, 2, 3, 4];
    const base = new Float32Array([...v, 0, 0, 0, 1, ...v, ...v]);
    const index = await indexFactory(d, 'Flat', 'ip', { backend: 'wasm' });
    await index.add(base);
    const r = await index.search(new Float32Array(v), 4);
    expect(Array.from(r.labels)).toEqual([0n, 2n, 3n, 1n]);
    await index.dispose();
  });

  it('rejects bad input and use after dispose', async () => {
    const index = await WasmFlatIndex.create(3, 'l2', { threads: 1 });
    await expect(index.search(new Float32Array(3), 1)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await index.add(new Float32Array(6));
    await expect(index.add(new Float32Array(4))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(index.search(new Float32Array(3), 0)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await index.dispose();
    await index.dispose();
    await expect(index.search(new Float32Array(3), 1)).rejects.toThrow(/disposed/);
    await expect(WasmFlatIndex.create(3, 'l2', { threads: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
