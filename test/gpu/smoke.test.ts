import { describe, expect, it } from 'vitest';
import { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import { randomVectors } from '../helpers/data.js';
import { bruteForce, expectMatchesOracle } from '../helpers/oracle.js';
import { gpuForTests } from '../helpers/gpu.js';

const hasGpu = await gpuForTests('smoke');
describe.skipIf(!hasGpu)('smoke', () => {
  it('ip small', async () => {
    const d = 7, n = 3000, nq = 5, k = 10;
    const base = randomVectors(n, d, 1), q = randomVectors(nq, d, 2);
    const idx = await GpuFlatIndex.create(d, 'ip', {});
    await idx.add(base);
    const r = await idx.search(q, k);
    expectMatchesOracle(r, bruteForce(base, q, d, k, 'ip'), 1e-4, base, q, d, 'ip');
    await idx.dispose();
  });
});
