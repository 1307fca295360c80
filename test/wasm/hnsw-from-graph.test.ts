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

describe('fromGraph with vectors in chunks', () => {
  it('takes chunks that cover the nodes, and refuses one outside them (it was written over the graph arrays) or too few rows', async () => {
    const index = await WasmHnswIndex.create(d, 8, 'l2', { threads: 1 });
    await index.add(base.subarray(0, 200 * d));
    const graph = index.graph();
    const rows = index.vectors();
    const chunks = (parts: [number, number][]) =>
      (async function* () {
        for (const [start, count] of parts) yield { start, data: rows.slice(start * d, (start + count) * d) };
      })();
    const ok = await WasmHnswIndex.fromGraph(d, 'l2', graph, chunks([[100, 100], [0, 100]]), { threads: 1 });
    expect(ok.vectors()).toEqual(rows);
    expect(ok.graph()).toEqual(graph);
    await ok.dispose();
    const past = async function* () {
      yield { start: 150, data: rows.slice(0, 100 * d) };
    };
    await expect(WasmHnswIndex.fromGraph(d, 'l2', graph, past(), { threads: 1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('not whole rows of d=24 within the graph\'s 200 nodes') });
    await expect(WasmHnswIndex.fromGraph(d, 'l2', graph, chunks([[0, 150]]), { threads: 1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('the chunks hold 150 rows, the graph 200 nodes') });
    await index.dispose();
  });
});
