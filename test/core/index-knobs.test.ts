/**
 * README: "`index.nprobe = 32` sets it, as FAISS's does" and "`index.efSearch = 64` sets it", on the
 * `Index` that indexFactory and readIndex return. Typed here as `Index`, as a TypeScript user holds it:
 * without `nprobe` / `efSearch` on the interface this file failed `tsc` (TS2339), the README's line
 * needing a cast.
 */
import { describe, expect, it } from 'vitest';
import '../../src/node.js';
import { indexFactory } from '../../src/core/factory.js';
import type { Index, SearchResult } from '../../src/core/types.js';
import { randomVectors } from '../helpers/data.js';

const d = 8;
const n = 2000;
const base = randomVectors(n, d, 7);
const queries = base.subarray(0, 20 * d);
const sameIds = (a: SearchResult, b: SearchResult): boolean => a.labels.every((l, i) => l === b.labels[i]);

describe('Index.nprobe / Index.efSearch', () => {
  it.each([
    ['IVF32,Flat', 'nprobe'],
    ['HNSW8', 'efSearch'],
  ] as const)('%s: setting %s on an Index is what a search that passes it gets', async (type, knob) => {
    const index: Index = await indexFactory(d, type, 'ip', { backend: 'wasm', threads: 1, efConstruction: 16 });
    try {
      await index.train(base);
      await index.add(base);
      const wide = await index.search(queries, 10, { [knob]: 32 });
      expect(sameIds(await index.search(queries, 10), wide)).toBe(false); // the default (1 / 16) differs
      if (knob === 'nprobe') index.nprobe = 32;
      else index.efSearch = 32;
      expect(index[knob]).toBe(32);
      expect(sameIds(await index.search(queries, 10), wide)).toBe(true);
    } finally {
      await index.dispose();
    }
  });
});
