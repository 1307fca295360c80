/**
 * TensorInt8Flat (src/gpu/tensor/tensor-flat.ts) against the float64 oracle on the WebGPU adapter.
 * CI's software adapter has no subgroup matrices: allowExperimental falls back to the dot4 kernel
 * and says why; bench/gpu-tensor runs the tensor-core kernel on the H100.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TensorInt8Flat } from '../../src/gpu/tensor/tensor-flat.js';
import { randomVectors } from '../helpers/data.js';
import { gpuForTests } from '../helpers/gpu.js';
import { bruteForce } from '../helpers/oracle.js';

describe('TensorInt8Flat', () => {
  let ok = false;
  beforeAll(async () => {
    ok = await gpuForTests('int8 tensor flat');
  });
  const made: TensorInt8Flat[] = [];
  afterAll(() => made.forEach((i) => i.dispose()));

  it('recalls the exact top-10 over several tiles and two adds', async () => {
    if (!ok) return;
    const d = 72, n1 = 400, n2 = 313, nq = 8, k = 10;
    const index = await TensorInt8Flat.create({ d, kPrime: 24, maxTileBytes: 256 * 96 });
    made.push(index);
    const x1 = randomVectors(n1, d, 1);
    const x2 = randomVectors(n2, d, 2);
    await index.add(x1);
    await index.add(x2);
    expect(index.ntotal).toBe(n1 + n2);
    const base = new Float32Array((n1 + n2) * d);
    base.set(x1);
    base.set(x2, n1 * d);
    const q = randomVectors(nq, d, 3);
    const got = await index.search(q, k);
    const want = bruteForce(base, q, d, k, 'ip');
    let hit = 0;
    for (let i = 0; i < nq; i++) {
      const truth = new Set(want.labels.subarray(i * k, (i + 1) * k));
      for (let j = 0; j < k; j++) if (truth.has(got.labels[i * k + j]!)) hit++;
      // Re-ranked distances are exact inner products of the returned rows.
      const id = got.labels[i * k]!;
      let s = 0;
      for (let t = 0; t < d; t++) s += q[i * d + t]! * base[id * d + t]!;
      expect(got.distances[i * k]).toBeCloseTo(s, 4);
    }
    expect(hit / (nq * k)).toBeGreaterThanOrEqual(0.99);
  });

  it('dispose during a search lets it finish (the device goes after it), and refuses later calls', async () => {
    if (!ok) return;
    const d = 32, k = 5;
    const index = await TensorInt8Flat.create({ d, kPrime: 8 });
    const base = randomVectors(300, d, 11);
    await index.add(base);
    const q = randomVectors(4, d, 12);
    const running = index.search(q, k);
    index.dispose();
    const got = await running;
    expect(Array.from(got.labels.subarray(0, 1))).toEqual(Array.from(bruteForce(base, q, d, k, 'ip').labels.subarray(0, 1)));
    await expect(index.search(q, k)).rejects.toThrow(/disposed/);
  });

  it('with allowExperimental takes the tensor kernel only where the adapter has it, else says why', async () => {
    if (!ok) return;
    const index = await TensorInt8Flat.create({ d: 32, kPrime: 8, allowExperimental: true });
    made.push(index);
    if (index.kernel.kind === 'dot4') expect(index.kernel.reason).toMatch(/lacks|config|compile/);
    else expect(index.kernel.config?.componentType).toBe('i8');
    await index.add(randomVectors(40, 32, 7));
    const r = await index.search(randomVectors(1, 32, 8), 5);
    expect(r.labels[0]).toBeGreaterThanOrEqual(0);
  });

  it('a gpu option that is not a GPU object is INVALID_ARGUMENT naming it (it was a TypeError from inside create)', async () => {
    if (!ok) return;
    await expect(TensorInt8Flat.create({ d: 32, gpu: {} as GPU })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/gpu must be a WebGPU GPU object/) });
  });

  it('is off by default and refuses k above k\' with the fix', async () => {
    if (!ok) return;
    const index = await TensorInt8Flat.create({ d: 32, kPrime: 8 });
    made.push(index);
    expect(index.kernel).toMatchObject({ kind: 'dot4', reason: 'allowExperimental is off' });
    await index.add(randomVectors(50, 32, 4));
    await expect(index.search(randomVectors(1, 32, 5), 9)).rejects.toThrow(/k=9/);
    const r = await index.search(randomVectors(2, 32, 6), 8);
    expect(Array.from(r.labels).every((l) => l >= 0 && l < 50)).toBe(true);
  });
});
