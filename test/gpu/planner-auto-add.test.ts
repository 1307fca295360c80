/**
 * precision 'auto' on an index made empty (indexFactory) chooses at creation, from no rows; an add
 * that then does not fit is refused saying so, instead of "use precision 'f16'" alone, which the
 * caller who asked for 'auto' cannot act on.
 */
import { describe, expect, it } from 'vitest';
import { indexFactory } from '../../src/core/factory.js';
import { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import { randomVectors } from '../helpers/data.js';
import { gpuForTests, wrapGpu } from '../helpers/gpu.js';
import { resolveGpu } from '../../src/gpu/device.js';

const hasGpu = await gpuForTests("GPU planner, 'auto' and add");

describe.skipIf(!hasGpu)("gpu planner: 'auto' and add", () => {
  it("an add too big for the precision 'auto' chose when empty: OUT_OF_MEMORY saying when it chose and what to do, before allocating", async () => {
    const n = 20_000;
    const d = 64;
    const spy = { buffers: [] as number[] };
    const gpu = wrapGpu((await resolveGpu())!, spy);
    const index = (await indexFactory(d, 'Flat', 'ip', { backend: 'gpu', gpu, precision: 'auto', gpuMemory: 20 << 20, scratchBytes: 1 << 16 } as never)) as GpuFlatIndex;
    try {
      expect(index.precision).toBe('f32');
      const before = spy.buffers.length;
      const e = await index.add(randomVectors(n, d, 1)).then(() => undefined, (err: unknown) => err as { code: string; message: string });
      expect(e?.code).toBe('OUT_OF_MEMORY');
      expect(e?.message).toMatch(/use precision 'f16'/);
      expect(e?.message).toContain("precision 'auto' chose 'f32' when the index was created, for the 0 rows it had then");
      expect(e?.message).toContain('create the index with the precision that fits');
      expect(spy.buffers.length).toBe(before);
      expect(index.ntotal).toBe(0);
    } finally {
      await index.dispose();
    }
  });

  it("a stated precision keeps the plain refusal", async () => {
    const index = await GpuFlatIndex.create(64, 'ip', { precision: 'f32', gpuMemory: 20 << 20, scratchBytes: 1 << 16 });
    try {
      const e = await index.add(randomVectors(20_000, 64, 1)).then(() => undefined, (err: unknown) => err as { code: string; message: string });
      expect(e?.code).toBe('OUT_OF_MEMORY');
      expect(e?.message).not.toContain("'auto'");
    } finally {
      await index.dispose();
    }
  });
});
