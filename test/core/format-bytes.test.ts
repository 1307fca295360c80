import { describe, expect, it } from 'vitest';
import { formatBytes } from '../../src/core/errors.js';
import { WasmHnswIndex } from '../../src/wasm/hnsw-index.js';

describe('formatBytes', () => {
  it('writes whole bytes as they are and a fraction to one decimal', () => {
    expect(formatBytes(768)).toBe('768 B');
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(274.26666666666665)).toBe('274.3 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
  });

  it("an HNSW add past memoryLimit names its bytes per vector to one decimal (it printed 274.26666666666665 B)", async () => {
    const d = 32;
    const vectors = new Float32Array(3000 * d).map((_, i) => Math.sin(i));
    const index = await WasmHnswIndex.create(d, 16, 'ip', { memoryLimit: 1 << 20, threads: 1 });
    try {
      const err = await index.add(vectors).then(() => null, (e: unknown) => e as Error);
      expect(err?.message).toMatch(/at \d+(\.\d)? B per vector/);
    } finally {
      await index.dispose();
    }
  });
});
