/**
 * Threaded WebAssembly indexes under concurrent use: searches run together (core/call-order.ts),
 * so per-index work memory that one search replaces must not be freed under another's workers.
 */
import { describe, expect, it } from 'vitest';
import '../../src/node.js';
import { indexFactory } from '../../src/core/factory.js';
import type { SearchResult } from '../../src/core/types.js';
import { WasmHnswIndex } from '../../src/wasm/hnsw-index.js';
import { WasmHeap } from '../../src/wasm/module.js';
import { WorkerPool, dedicatedWorkersAvailable } from '../../src/wasm/worker-pool.js';
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

describe.runIf(dedicatedWorkersAvailable())('a parallel loop with a failing part', () => {
  it('settles only when every part is done, so the caller frees no buffer a worker still writes', async () => {
    const heap = await WasmHeap.create(true);
    const pool = await WorkerPool.start(heap, 2, true);
    try {
      const n = 100_000;
      const dd = 64;
      const nq = 128;
      const k = 10;
      const base = heap.alloc(n * dd * 4);
      heap.f32(base, n * dd).fill(0.5);
      const qp = heap.alloc(nq * dd * 4);
      heap.f32(qp, nq * dd).fill(0.25);
      const dp = heap.alloc(nq * k * 4);
      const ip = heap.alloc(nq * k * 4);
      const fp = heap.alloc(nq * 4);
      // Part 0 traps at once (rows far outside the memory); part 1 scans 100k rows for 128 queries.
      const err = await pool
        .parallelFor(2, (_from, _to, part) => ({
          fn: 'flat_search',
          args: part === 0 ? [0x7fff0000, 1000, dd, qp, 1, k, 1, 0, dp, ip, fp] : [base, n, dd, qp, nq, k, 1, 0, dp, ip, fp],
        }))
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(err).toMatchObject({ message: expect.stringMatching(/WebAssembly worker failed: RuntimeError/) });
      // Every row is at squared distance 64 x 0.25^2 = 4. Before the fix the loop failed with part 0
      // while part 1 still ran: its results were still the padding (Infinity) it starts from.
      expect(Array.from(new Set(heap.f32(dp, nq * k)))).toEqual([4]);
    } finally {
      await pool.release();
    }
  });
});

describe.runIf(dedicatedWorkersAvailable())('threads 1 and 2 agree bit for bit', () => {
  // flat_search scores queries four at a time and the rest one by one, which rounds differently:
  // a split at query 301 (602 queries over two threads) changed distances in the last bits and
  // swapped near-tied neighbours, and a search with a signal (shorter batches) differed from one without.
  it.each(['Flat', 'SQ8', 'IVF16,Flat', 'IVF16,SQ8'] as const)('%s, 602 queries, with and without a signal', async (factory) => {
    const n = 20000;
    const dd = 64;
    const base = new Float32Array(n * dd).map((_, i) => Math.sin(i * 0.37) + Math.cos(i * 0.0011));
    const queries = base.slice(0, 602 * dd).map((x, i) => x + 0.05 * Math.sin(i * 1.3));
    const results: SearchResult[] = [];
    for (const threads of [1, 2]) {
      const index = await indexFactory(dd, factory, 'ip', { backend: 'wasm', threads, seed: 2 });
      try {
        await index.train(base.subarray(0, 5000 * dd));
        await index.add(base);
        results.push(await index.search(queries, 10, { nprobe: 8 }));
        results.push(await index.search(queries, 10, { nprobe: 8, signal: new AbortController().signal }));
      } finally {
        await index.dispose();
      }
    }
    for (const r of results.slice(1)) {
      expect(Array.from(r.labels)).toEqual(Array.from(results[0]!.labels));
      expect(Array.from(r.distances)).toEqual(Array.from(results[0]!.distances));
    }
  });
});
