/**
 * search(q, k, { signal }) on the WASM indexes: the signal is looked at between batches, and
 * batches are short when a signal is given, so an abort in the middle of a long search rejects with
 * signal.reason within a batch, on one thread and on workers (before, batches of thousands of
 * queries ran to the end and the aborted search resolved). The index stays usable.
 */
import { describe, expect, it } from 'vitest';
import '../../src/node.js';
import { indexFactory } from '../../src/core/factory.js';
import type { Index } from '../../src/core/types.js';
import { shardedIndex } from '../../src/wasm/shards.js';
import { randomVectors } from '../helpers/data.js';

const d = 64;
const n = 40_000;
const base = randomVectors(n, d, 11);
// about 2.5 G multiply-adds for Flat: seconds on this machine, far past the abort
const queries = randomVectors(1000, d, 12);

async function abortMidway(index: Index, opts: object = {}): Promise<void> {
  const reason = new DOMException('stop', 'AbortError');
  const ac = new AbortController();
  const t0 = performance.now();
  setTimeout(() => ac.abort(reason), 20);
  const err = await index.search(queries, 10, { ...opts, signal: ac.signal }).then(
    () => 'resolved',
    (e: unknown) => e,
  );
  expect(err).toBe(reason);
  expect(performance.now() - t0).toBeLessThan(1500);
  // still usable
  const r = await index.search(base.subarray(7 * d, 8 * d), 1, opts);
  expect(r.labels[0]).toBe(7n);
}

describe('abort in the middle of a WASM search', () => {
  for (const threads of [1, 2]) {
    it.each([
      ['Flat', {}],
      ['SQ8', {}],
      ['IVF16,Flat', { nprobe: 16 }],
    ] as const)(`%s, threads ${threads}`, async (factory, opts) => {
      const index = await indexFactory(d, factory, 'l2', { backend: 'wasm', threads, seed: 1 });
      try {
        await index.train(base.subarray(0, 5000 * d));
        await index.add(base);
        await abortMidway(index, opts);
      } finally {
        await index.dispose();
      }
    });
  }

  it('HNSW, threads 2, high efSearch', async () => {
    const index = await indexFactory(d, 'HNSW8', 'l2', { backend: 'wasm', threads: 2, efConstruction: 16 });
    try {
      await index.add(base.subarray(0, 8000 * d));
      const many = new Float32Array(20 * queries.length);
      for (let i = 0; i < 20; i++) many.set(queries, i * queries.length);
      const ac = new AbortController();
      const reason = new Error('stop');
      setTimeout(() => ac.abort(reason), 20);
      const t0 = performance.now();
      await expect(index.search(many, 10, { efSearch: 512, signal: ac.signal })).rejects.toBe(reason);
      expect(performance.now() - t0).toBeLessThan(1500);
    } finally {
      await index.dispose();
    }
  });

  it('sharded Flat on workers of its own', async () => {
    const index = shardedIndex(d, 'Flat', 'l2', { threads: 2, shardBytes: 4 << 20 });
    try {
      await index.add(base);
      expect(index.shardCount).toBeGreaterThan(1);
      await abortMidway(index);
    } finally {
      await index.dispose();
    }
  });
});
