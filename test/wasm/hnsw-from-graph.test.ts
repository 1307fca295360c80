/**
 * README "The graph": `WasmHnswIndex` is public, `graph()` / `vectors()` hand out FAISS's arrays and
 * `fromGraph` builds the same index from them; its calls are ordered like the factory's indexes.
 */
import { describe, expect, it } from 'vitest';
import { indexFactory, WasmHnswIndex } from '../../src/index.js';
import { randomVectors } from '../helpers/data.js';

const d = 24;
const base = randomVectors(1500, d, 21);
const more = randomVectors(500, d, 22);
const queries = randomVectors(10, d, 23);

describe('WasmHnswIndex from the package entry', () => {
  it('fromGraph over graph() and vectors() answers as the index it came from, and keeps an add issued beside a search in call order', async () => {
    const built = await indexFactory(d, 'HNSW16', 'ip', { backend: 'wasm', threads: 1, seed: 3, efSearch: 48 });
    expect(built).toBeInstanceOf(WasmHnswIndex);
    await built.add(base);
    const hnsw = built as WasmHnswIndex;
    const copy = await WasmHnswIndex.fromGraph(d, 'ip', hnsw.graph(), hnsw.vectors(), { threads: 1, seed: 3 });
    try {
      const a = await built.search(queries, 10);
      const b = await copy.search(queries, 10);
      expect(Array.from(b.labels)).toEqual(Array.from(a.labels));
      expect(Array.from(b.distances)).toEqual(Array.from(a.distances));
      // Not awaited one by one: the search must see the add issued before it.
      const [, after] = await Promise.all([copy.add(more), copy.search(more.subarray(0, d), 1)]);
      expect(Number(after.labels[0])).toBe(1500);
    } finally {
      await built.dispose();
      await copy.dispose();
    }
  });
});
