/**
 * bench/gpu-flat/ceilings.ts, the device ceilings the flat benchmark prints beside its cases (small
 * scale on the software adapter): the fp32 FMA, read and copy rates, and the f16 FMA rate exactly
 * where the device has shader-f16 (its kernel must compile wherever that feature is offered).
 */
import { describe, expect, it } from 'vitest';
import { measureCeilings } from '../../bench/gpu-flat/ceilings.js';
import { loadDawnGpu } from '../../src/gpu/dawn.js';
import { gpuForTests } from '../helpers/gpu.js';

const hasGpu = await gpuForTests('the benchmark ceilings');

describe.skipIf(!hasGpu)('bench/gpu-flat ceilings', () => {
  it('measures the f16 FMA rate where the device has shader-f16, and says null where not', async () => {
    const gpu = (await loadDawnGpu([]))!; // hasGpu: Dawn loaded
    const offered = (await gpu.requestAdapter())!.features.has('shader-f16');
    for (const f16 of offered ? [true, false] : [false]) {
      // An adapter makes one device.
      const adapter = (await gpu.requestAdapter())!;
      const device = await adapter.requestDevice({ requiredFeatures: ['timestamp-query', ...(f16 ? (['shader-f16'] as const) : [])] });
      const errors: string[] = [];
      device.addEventListener('uncapturederror', (e) => errors.push((e as GPUUncapturedErrorEvent).error.message));
      try {
        const c = await measureCeilings(device, 0.002);
        expect(errors).toEqual([]);
        expect(c.fma_tflops).toBeGreaterThan(0);
        expect(c.read_gbps).toBeGreaterThan(0);
        expect(c.copy_gbps).toBeGreaterThan(0);
        if (f16) expect(c.fma16_tflops).toBeGreaterThan(0);
        else expect(c.fma16_tflops).toBeNull();
      } finally {
        device.destroy();
      }
    }
  });
});
