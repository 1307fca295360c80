/**
 * A refusal whose temporary bytes are what does not fit names scratchBytes (the candidate lists'
 * budget), not only backend 'wasm': a small stated gpuMemory could not tell why a few rows needed
 * tens of MiB.
 */
import { describe, expect, it } from 'vitest';
import { planFlat } from '../../src/core/planner.js';

const adapter = (memoryBytes: number) => ({ label: 'adapter 0', maxBinding: 128 << 20, maxBuffer: 256 << 20, memoryBytes });

describe('planner refusal: scratchBytes', () => {
  it('rows that fit beside a smaller scratch budget: the refusal names scratchBytes and what it would take', () => {
    const input = { n: 1000, d: 64, k: 100, maxBatch: 4096, precision: 'f32' as const, scratchBytes: 256 << 20, adapters: [adapter(24 << 20)] };
    expect(() => planFlat(input)).toThrowError(/scratchBytes: 1048576 \([\d.]+ MiB temporary instead of [\d.]+ MiB: fewer candidate lists a batch\)/);
    // And that budget does fit.
    expect(planFlat({ ...input, scratchBytes: 1 << 20 }).precision).toBe('f32');
  });

  it('not suggested where it would not fit either, nor when the budget is already small', () => {
    const big = { n: 1_000_000, d: 64, k: 100, maxBatch: 4096, precision: 'f32' as const, scratchBytes: 256 << 20, adapters: [adapter(24 << 20)] };
    expect(() => planFlat(big)).toThrowError(/^(?!.*scratchBytes).*$/s);
    const small = { n: 1000, d: 64, k: 100, maxBatch: 4096, precision: 'f32' as const, scratchBytes: 1 << 20, adapters: [adapter(1 << 20)] };
    expect(() => planFlat(small)).toThrowError(/^(?!.*scratchBytes).*$/s);
  });
});
