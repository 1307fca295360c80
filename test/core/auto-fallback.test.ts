/**
 * backend 'auto' with an adapter whose device request fails: the index must fall back to WASM with
 * one notice (the browser page, `tessera serve` and library users all rely on it), while 'gpu'
 * reports the failure.
 */
import { describe, expect, it } from 'vitest';
import '../../src/node.js';
import { indexFactory, readIndex, writeFlatIndex } from '../../src/index.js';
import { memorySink, memorySource } from '../../src/io/byte-reader.js';
import { randomVectors } from '../helpers/data.js';
import { bruteForce } from '../helpers/oracle.js';
import { refusingGpu } from '../helpers/gpu.js';

describe("backend 'auto' when the GPU device fails", () => {
  const d = 16;
  const base = randomVectors(200, d, 7);
  const queries = randomVectors(3, d, 8);

  it('indexFactory falls back to WASM, says so once, and searches correctly', async () => {
    const notices: string[] = [];
    const index = await indexFactory(d, 'Flat', 'ip', { backend: 'auto', gpu: refusingGpu(), onNotice: (m) => notices.push(m) });
    try {
      expect(index.backend).toBe('wasm');
      expect(notices).toHaveLength(1);
      expect(notices[0]).toMatch(/WebGPU device failed.*requestDevice refused.*WASM/);
      await index.add(base);
      const got = await index.search(queries, 5);
      const want = bruteForce(base, queries, d, 5, 'ip');
      expect([...got.labels].map(Number)).toEqual([...want.labels]);
    } finally {
      await index.dispose();
    }
  });

  it('readIndex falls back the same way', async () => {
    const sink = memorySink();
    await writeFlatIndex(sink, d, 'ip', 200, base);
    const bytes = sink.bytes();
    const notices: string[] = [];
    const index = await readIndex(memorySource(bytes), { backend: 'auto', gpu: refusingGpu(), onNotice: (m) => notices.push(m) });
    try {
      expect(index.backend).toBe('wasm');
      expect(index.ntotal).toBe(200);
      expect(notices).toHaveLength(1);
    } finally {
      await index.dispose();
    }
  });

  it("backend 'gpu' reports the failure instead of falling back", async () => {
    await expect(indexFactory(d, 'Flat', 'ip', { backend: 'gpu', gpu: refusingGpu() })).rejects.toThrow(/requestDevice refused|GPU|device/i);
  });
});
