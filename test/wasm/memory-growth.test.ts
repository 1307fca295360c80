/**
 * How much of one 4 GiB WebAssembly memory an index can fill: an array that grows must not need
 * its old and new copies at once (a Flat index built by add failed with OUT_OF_MEMORY past 1.4 GiB
 * of rows, "needs 4.6 GiB"). Checked at small sizes through the memory's high-water mark.
 */
import { describe, expect, it } from 'vitest';
import '../../src/node.js';
import { WasmHeap } from '../../src/wasm/module.js';
import { WasmFlatIndex } from '../../src/wasm/flat-index.js';

describe('WebAssembly memory growth', () => {
  it('realloc grows the highest allocation in place, keeping its bytes', async () => {
    const heap = await WasmHeap.create(false);
    const a = heap.alloc(1000);
    heap.u8(a, 1000).fill(7);
    const b = heap.realloc(a, 1000, 1 << 20);
    expect(b).toBe(a);
    expect(heap.used).toBeLessThan(a + (1 << 20) + 64);
    expect(heap.u8(b, 1000).every((v) => v === 7)).toBe(true);
    // not the highest: copied
    const c = heap.alloc(64);
    const a2 = heap.realloc(b, 1 << 20, 2 << 20);
    expect(a2).toBeGreaterThan(c);
    expect(heap.u8(a2, 1000).every((v) => v === 7)).toBe(true);
  });

  it('a Flat index filled by many adds uses about its rows, not rows plus the previous copy', async () => {
    const d = 64;
    const chunk = 2000;
    const x = new Float32Array(chunk * d).map((_, i) => Math.sin(i));
    const index = await WasmFlatIndex.create(d, 'l2', { threads: 1 });
    try {
      for (let i = 0; i < 20; i++) await index.add(x);
      const rowBytes = index.ntotal * d * 4;
      const used = (index as unknown as { heap: WasmHeap }).heap.used;
      // x1.5 slack at most; copying on growth had the old array under the new one (about 2.5x)
      expect(used).toBeLessThan(1.55 * rowBytes);
      const r = await index.search(x.subarray(5 * d, 6 * d), 1);
      expect(r.labels[0]).toBe(5n);
    } finally {
      await index.dispose();
    }
  });
});
