/** What a GPU index's plan says about its memory: an L2 index plans no digit planes (the tensor scorer ranks inner products only). */
import { describe, expect, it } from 'vitest';
import '../../src/node.js';
import { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import { gpuForTests } from '../helpers/gpu.js';

const hasGpu = await gpuForTests('GPU plan report');

describe.skipIf(!hasGpu)('gpu plan report', () => {
  it('digitPlanes on an L2 index: no planes nor tensor-path bytes planned (the tensor scorer never takes L2)', async () => {
    const opts = { precision: 'f32' as const, digitPlanes: true, gpuMemory: 1 << 30 };
    const ip = await GpuFlatIndex.create(96, 'ip', opts, 1000);
    const l2 = await GpuFlatIndex.create(96, 'l2', opts, 1000);
    const plain = await GpuFlatIndex.create(96, 'l2', { ...opts, digitPlanes: false }, 1000);
    try {
      expect(ip.plan!.digits).toBe(true);
      expect(ip.plan!.shards[0]!.digitBytes).toBe(1000 * 96 * 2);
      expect(l2.plan!.digits).toBe(false);
      expect(l2.plan!.shards[0]!.digitBytes).toBe(0);
      expect(l2.plan!.tempBytes).toBe(plain.plan!.tempBytes);
    } finally {
      await Promise.all([ip.dispose(), l2.dispose(), plain.dispose()]);
    }
  });
});
