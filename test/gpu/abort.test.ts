/**
 * AbortSignal on GPU search: an abort rejects the search at once with signal.reason (it used to
 * wait for the batch's GPU work and readback, the whole search when it is one batch), leaves no
 * unhandled rejection, and the index answers the next search as before.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GpuFlatIndex } from '../../src/gpu/flat-index.js';
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
