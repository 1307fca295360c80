/**
 * Threaded WebAssembly indexes under concurrent use: searches run together (core/call-order.ts),
 * so per-index work memory that one search replaces must not be freed under another's workers.
 */
import { describe, expect, it } from 'vitest';
import '../../src/node.js';
import { WasmHnswIndex } from '../../src/wasm/hnsw-index.js';
import { dedicatedWorkersAvailable } from '../../src/wasm/worker-pool.js';
import { randomVectors } from '../helpers/data.js';

const d = 16;

describe.runIf(dedicatedWorkersAvailable())('threaded HNSW, searches in flight together', () => {
  it('searches with growing efSearch and k started together give the results each gives alone', async () => {
    const n = 8000;
    const base = randomVectors(n, d, 71);
    const queries = randomVectors(300, d, 72);
    const alone = await WasmHnswIndex.create(d, 16, 'l2', { threads: 1, seed: 5 });
    await alone.add(base);
    // The same graph on two threads (a threaded build's graph depends on timing).
    const threaded = await WasmHnswIndex.fromGraph(d, 'l2', alone.graph(), alone.vectors(), { threads: 2 });
    try {
      expect(threaded.threads).toBe(2);
      // Each search needs a larger work buffer than the ones before it: before the fix the buffers
      // in use by the earlier searches' workers were freed and handed to the later searches'
      // queries and results (wrong neighbours, 'memory access out of bounds' traps).
      const calls = [16, 32, 64, 128, 256, 512, 1024, 2048].map((efSearch, i) => ({ efSearch, k: 5 + i }));
      const got = await Promise.all(calls.map((c) => threaded.search(queries, c.k, { efSearch: c.efSearch })));
      for (const [i, c] of calls.entries()) {
        const want = await alone.search(queries, c.k, { efSearch: c.efSearch });
        expect(Array.from(got[i]!.labels), `efSearch ${c.efSearch}`).toEqual(Array.from(want.labels));
        expect(Array.from(got[i]!.distances)).toEqual(Array.from(want.distances));
      }
    } finally {
      await Promise.all([alone.dispose(), threaded.dispose()]);
    }
  });
});
