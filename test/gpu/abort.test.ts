/**
 * AbortSignal on GPU search: an abort rejects the search at once with signal.reason (it used to
 * wait for the batch's GPU work and readback, the whole search when it is one batch), leaves no
 * unhandled rejection, and the index answers the next search as before.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import { indexFactory } from '../../src/core/factory.js';
import { randomVectors } from '../helpers/data.js';
import { expectSameResult } from '../helpers/oracle.js';
import { gpuForTests } from '../helpers/gpu.js';

const hasGpu = await gpuForTests('GPU search abort');

describe.skipIf(!hasGpu)('gpu search abort', () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  beforeAll(() => void process.on('unhandledRejection', onUnhandled));
  afterAll(() => void process.off('unhandledRejection', onUnhandled));

  it.each(['f32', 'int8'] as const)('%s: aborted before or during a search: rejects promptly with the reason; the next search is unchanged', async (precision) => {
    const d = 64;
    const index = await GpuFlatIndex.create(d, 'ip', { precision });
    try {
      await index.add(randomVectors(20000, d, 1));
      // One batch of 3000 queries: seconds of work on the software adapter.
      const q = randomVectors(3000, d, 2);
      const small = q.subarray(0, 4 * d);
      const want = await index.search(small, 10);

      const before = new AbortController();
      const reason = new Error('stop before');
      before.abort(reason);
      await expect(index.search(q, 10, { signal: before.signal })).rejects.toBe(reason);

      const during = new AbortController();
      const reason2 = new Error('stop during');
      const t0 = performance.now();
      const p = index.search(q, 10, { signal: during.signal });
      const running = p.then(() => 'resolved', (e: unknown) => e);
      await new Promise((r) => setTimeout(r, 20));
      const abortedAt = performance.now();
      during.abort(reason2);
      expect(await running).toBe(reason2);
      const afterAbortMs = performance.now() - abortedAt;
      // Time of the same search unaborted, for the bound.
      const t1 = performance.now();
      await index.search(q, 10);
      const searchMs = performance.now() - t1;
      expect(afterAbortMs, `abort took ${afterAbortMs.toFixed(0)} ms, a whole search ${searchMs.toFixed(0)} ms (started ${(abortedAt - t0).toFixed(0)} ms in)`).toBeLessThan(Math.max(50, searchMs / 4));

      expectSameResult(await index.search(small, 10), want, 'after the aborts');
      expect(unhandled).toEqual([]);
    } finally {
      await index.dispose();
    }
  }, 60000);

  it.each(['f32', 'int8'] as const)('%s: an add right after an abort waits for the batch the abort left running, then searches see every row', async (precision) => {
    const d = 64;
    const index = (await indexFactory(d, 'Flat', 'ip', { backend: 'gpu', precision })) as GpuFlatIndex;
    const fresh = await GpuFlatIndex.create(d, 'ip', { precision });
    try {
      const base = randomVectors(20000, d, 7);
      const more = randomVectors(300, d, 8);
      await index.add(base);
      // One search first, so the rows' magnitudes (measured once, before a search's first batch) are
      // known and the abort below meets a batch on its way.
      await index.search(randomVectors(1, d, 11), 10);
      // When the aborted search's GPU batch (and for int8 its re-rank) settles.
      let settledAt = 0;
      const inner = index as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
      for (const name of ['searchShards', 'searchCandidates', 'rerank']) {
        const call = inner[name]!;
        inner[name] = (...a: unknown[]) => {
          const p = call.apply(index, a);
          void p.then(() => (settledAt = performance.now()), () => (settledAt = performance.now()));
          return p;
        };
      }
      const ac = new AbortController();
      const p = index.search(randomVectors(3000, d, 9), 10, { signal: ac.signal });
      await new Promise((r) => setTimeout(r, 20));
      ac.abort(new Error('stop'));
      await expect(p).rejects.toThrow('stop');
      await index.add(more);
      const addedAt = performance.now();
      expect(settledAt, 'the aborted batch settled before the add returned').toBeGreaterThan(0);
      expect(addedAt).toBeGreaterThanOrEqual(settledAt);
      await fresh.add(base);
      await fresh.add(more);
      const q = randomVectors(5, d, 10);
      expectSameResult(await index.search(q, 10), await fresh.search(q, 10), 'after the add');
      expect(index.ntotal).toBe(20300);
    } finally {
      await index.dispose();
      await fresh.dispose();
    }
  }, 60000);

  it('a signal that is not an AbortSignal: INVALID_ARGUMENT naming it (was a TypeError from removeEventListener)', async () => {
    const index = await GpuFlatIndex.create(16, 'ip', {});
    try {
      await index.add(randomVectors(10, 16, 5));
      for (const signal of [{}, 'stop']) {
        await expect(index.search(randomVectors(1, 16, 6), 3, { signal: signal as never })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/^signal must be an AbortSignal/) });
      }
      // undefined and null mean none, as on the WASM backends.
      for (const signal of [undefined, null]) expect((await index.search(randomVectors(1, 16, 6), 3, { signal: signal as never })).labels.length).toBe(3);
    } finally {
      await index.dispose();
    }
  });

  it('a signal that is never aborted leaves no listener behind', async () => {
    const index = await GpuFlatIndex.create(16, 'ip', {});
    try {
      await index.add(randomVectors(100, 16, 3));
      const ac = new AbortController();
      let added = 0;
      let removed = 0;
      const add = ac.signal.addEventListener.bind(ac.signal);
      const remove = ac.signal.removeEventListener.bind(ac.signal);
      ac.signal.addEventListener = ((...a: Parameters<typeof add>) => (added++, add(...a))) as typeof add;
      ac.signal.removeEventListener = ((...a: Parameters<typeof remove>) => (removed++, remove(...a))) as typeof remove;
      for (let i = 0; i < 3; i++) await index.search(randomVectors(2, 16, 4), 5, { signal: ac.signal });
      expect(removed).toBe(added);
    } finally {
      await index.dispose();
    }
  });
});
