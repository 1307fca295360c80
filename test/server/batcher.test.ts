import { describe, expect, it } from 'vitest';
import { TesseraError, isTesseraError } from '../../src/core/errors.js';
import type { SearchResult } from '../../src/core/types.js';
import { MicroBatcher, QueueFullError, RequestTimeoutError, ShuttingDownError } from '../../src/server/batcher.js';
import type { BatcherOptions, BatchInfo } from '../../src/server/batcher.js';

/** A runner whose result row for query "q<n>" has labels n*100 + j and score n - j, so every answer is checkable. */
function recordingRunner(delayMs = 0) {
  const calls: { queries: string[]; k: number }[] = [];
  let release: (() => void) | undefined;
  let gate: Promise<void> | undefined;
  const run = async (queries: string[], k: number): Promise<SearchResult> => {
    calls.push({ queries: [...queries], k });
    if (gate) await gate;
    if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
    const labels = new BigInt64Array(queries.length * k);
    const distances = new Float32Array(queries.length * k);
    queries.forEach((q, i) => {
      const n = Number(q.slice(1));
      for (let j = 0; j < k; j++) {
        labels[i * k + j] = BigInt(n * 100 + j);
        distances[i * k + j] = n - j;
      }
    });
    return { nq: queries.length, k, labels, distances };
  };
  return {
    run,
    calls,
    hold() {
      gate = new Promise((r) => (release = r));
    },
    release() {
      gate = undefined;
      release?.();
    },
  };
}

function batcher(run: BatcherOptions['run'], more: Partial<BatcherOptions> = {}) {
  const batches: BatchInfo[] = [];
  const b = new MicroBatcher({ run, maxBatch: 8, maxWaitMs: 0, maxQueue: 64, timeoutMs: 5000, onBatch: (i) => batches.push(i), ...more });
  return { b, batches };
}

const qs = (...ns: number[]) => ns.map((n) => `q${n}`);

function expectAnswers(r: { nq: number; k: number; labels: BigInt64Array; distances: Float32Array }, ns: number[], k: number) {
  expect(r.nq).toBe(ns.length);
  expect(r.k).toBe(k);
  ns.forEach((n, i) => {
    for (let j = 0; j < k; j++) {
      expect(r.labels[i * k + j]).toBe(BigInt(n * 100 + j));
      expect(r.distances[i * k + j]).toBe(n - j);
    }
  });
}

describe('MicroBatcher', () => {
  it('merges concurrent requests of one topk into one run and gives each its own rows, in order; another topk runs apart', async () => {
    const runner = recordingRunner();
    const { b, batches } = batcher(runner.run);
    runner.hold();
    const first = b.submit(qs(1), 2); // starts a batch alone, held
    await Promise.resolve();
    const waiting = [b.submit(qs(2, 3), 3), b.submit(qs(4), 1), b.submit(qs(5, 6, 7), 3)];
    expect(b.depth).toBe(6);
    runner.release();
    expectAnswers(await first, [1], 2);
    const [a, c, d] = await Promise.all(waiting);
    expectAnswers(a!, [2, 3], 3);
    expectAnswers(c!, [4], 1);
    expectAnswers(d!, [5, 6, 7], 3);
    // One run for the lone first request, one for the two of topk 3 that queued behind it, one for
    // topk 1: searched at a neighbour's larger topk, an approximate index (HNSW's ef = max(efSearch, k))
    // could answer a request otherwise than alone.
    expect(runner.calls).toEqual([
      { queries: ['q1'], k: 2 },
      { queries: ['q2', 'q3', 'q5', 'q6', 'q7'], k: 3 },
      { queries: ['q4'], k: 1 },
    ]);
    expect(batches.map((x) => [x.queries, x.requests, x.ok])).toEqual([
      [1, 1, true],
      [5, 2, true],
      [1, 1, true],
    ]);
    expect(b.depth).toBe(0);
  });

  it('never puts more than maxBatch queries in a batch, and keeps request order across batches', async () => {
    const runner = recordingRunner();
    const { b } = batcher(runner.run, { maxBatch: 4 });
    runner.hold();
    const held = b.submit(qs(0), 1);
    await Promise.resolve();
    const rest = [b.submit(qs(1, 2, 3), 1), b.submit(qs(4, 5), 1), b.submit(qs(6, 7), 1), b.submit(qs(8), 1)];
    runner.release();
    await held;
    const got = await Promise.all(rest);
    got.forEach((r, i) => expectAnswers(r, [[1, 2, 3], [4, 5], [6, 7], [8]][i]!, 1));
    expect(runner.calls.map((c) => c.queries.length)).toEqual([1, 3, 4, 1]);
    for (const c of runner.calls) expect(c.queries.length).toBeLessThanOrEqual(4);
  });

  it('waits up to maxWaitMs for company before a lone request runs', async () => {
    const runner = recordingRunner();
    const { b } = batcher(runner.run, { maxWaitMs: 40 });
    const t0 = performance.now();
    const p1 = b.submit(qs(1), 1);
    await new Promise((r) => setTimeout(r, 10));
    const p2 = b.submit(qs(2), 1);
    await Promise.all([p1, p2]);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(35);
    expect(runner.calls).toHaveLength(1);
    expect(runner.calls[0]!.queries).toEqual(['q1', 'q2']);
  });

  it('starts at once when maxBatch queries are waiting, without waiting maxWaitMs', async () => {
    const runner = recordingRunner();
    const { b } = batcher(runner.run, { maxWaitMs: 10_000, maxBatch: 3 });
    const t0 = performance.now();
    await Promise.all([b.submit(qs(1, 2), 1), b.submit(qs(3), 1)]);
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('answers an empty request at once without a run', async () => {
    const runner = recordingRunner();
    const { b } = batcher(runner.run);
    const r = await b.submit([], 3);
    expect(r.nq).toBe(0);
    expect(runner.calls).toHaveLength(0);
  });

  it('splits a request larger than maxBatch over several batches and answers it in order (Search-R1 posts every rollout at once)', async () => {
    const runner = recordingRunner();
    const { b } = batcher(runner.run, { maxBatch: 2 });
    const ns = [1, 2, 3, 4, 5];
    const [big, small] = await Promise.all([b.submit(qs(...ns), 2), b.submit(qs(6), 1)]);
    expectAnswers(big!, ns, 2);
    expectAnswers(small!, [6], 1);
    expect(runner.calls.map((c) => c.queries)).toEqual([['q1', 'q2'], ['q3', 'q4'], ['q5'], ['q6']]);
    expect(b.depth).toBe(0);
  });

  it('a split request that fails in one batch is failed whole, and its parts still queued never run', async () => {
    const ok = recordingRunner();
    let runs = 0;
    const run = async (queries: string[], k: number) => {
      if (runs++ === 0) throw new Error('boom');
      return ok.run(queries, k);
    };
    const { b } = batcher(run, { maxBatch: 2 });
    await expect(b.submit(qs(1, 2, 3, 4, 5), 1)).rejects.toThrow('boom');
    await b.drain();
    expect(runs).toBe(1);
    expect(b.depth).toBe(0);
    expectAnswers(await b.submit(qs(7), 1), [7], 1);
  });

  it('a request whose signal aborts (the client hung up) leaves the queue at once, split parts too; its running part completes unread', async () => {
    const runner = recordingRunner();
    runner.hold();
    const { b } = batcher(runner.run, { maxBatch: 2 });
    const gone = new AbortController();
    const abandoned = b.submit(qs(1, 2, 3, 4, 5), 1, gone.signal);
    const others = [b.submit(qs(9), 1), b.submit(qs(8), 1)];
    await new Promise((r) => setTimeout(r, 5));
    expect(runner.calls.map((c) => c.queries)).toEqual([qs(1, 2)]); // the first part runs
    expect(b.depth).toBe(5); // q3..q5, q9, q8
    gone.abort(new Error('client gone'));
    await expect(abandoned).rejects.toThrow('client gone');
    expect(b.depth).toBe(2);
    runner.release();
    expectAnswers(await others[0]!, [9], 1);
    expectAnswers(await others[1]!, [8], 1);
    await b.drain();
    expect(runner.calls.map((c) => c.queries)).toEqual([qs(1, 2), qs(9, 8)]);
    await expect(b.submit(qs(6), 1, gone.signal)).rejects.toThrow('client gone'); // already aborted: never queued
    expect(b.depth).toBe(0);
  });

  it('a split request has a deadline per batch: its later parts wait for the earlier ones without timing out', async () => {
    const runner = recordingRunner(40);
    const { b } = batcher(runner.run, { maxBatch: 2, timeoutMs: 75 });
    expectAnswers(await b.submit(qs(1, 2, 3, 4, 5, 6), 1), [1, 2, 3, 4, 5, 6], 1); // 3 batches, ~120 ms; deadlines 75 / 150 / 225
    const slow = recordingRunner(100);
    const { b: b2 } = batcher(slow.run, { maxBatch: 2, timeoutMs: 60 });
    await expect(b2.submit(qs(1, 2, 3), 1)).rejects.toSatisfy((e) => e instanceof RequestTimeoutError && /within 60 ms/.test((e as Error).message));
    await b2.drain();
  });

  it('refuses a request larger than the whole queue (it could never be queued)', async () => {
    const { b } = batcher(recordingRunner().run, { maxBatch: 2, maxQueue: 4 });
    await expect(b.submit(qs(1, 2, 3, 4, 5), 1)).rejects.toSatisfy((e) => isTesseraError(e, 'INVALID_ARGUMENT') && /5 queries, more than the queue takes \(4\): split it or raise --max-queue/.test((e as Error).message));
  });

  it('refuses with QueueFullError and a Retry-After once maxQueue queries wait, and takes requests again after', async () => {
    const runner = recordingRunner();
    const { b } = batcher(runner.run, { maxQueue: 3 });
    runner.hold();
    const running = b.submit(qs(0), 1);
    await Promise.resolve();
    const queued = [b.submit(qs(1, 2), 1), b.submit(qs(3), 1)];
    const err = await b.submit(qs(4), 1).catch((e) => e);
    expect(err).toBeInstanceOf(QueueFullError);
    expect((err as QueueFullError).retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect((err as Error).message).toMatch(/holds 3 queries and takes at most 3/);
    runner.release();
    await Promise.all([running, ...queued]);
    expectAnswers(await b.submit(qs(4), 1), [4], 1);
  });

  it('times out a request still queued, and one whose batch runs too long, without harming the others', async () => {
    const runner = recordingRunner();
    const { b, batches } = batcher(runner.run, { timeoutMs: 50 });
    runner.hold();
    const running = b.submit(qs(1), 1).catch((e) => e);
    await Promise.resolve();
    const queued = b.submit(qs(2), 1).catch((e) => e);
    expect(await running).toBeInstanceOf(RequestTimeoutError);
    expect(await queued).toBeInstanceOf(RequestTimeoutError);
    expect(b.depth).toBe(0);
    runner.release();
    await b.drain();
    // The timed-out queued request never ran; the late batch's result went nowhere.
    expect(runner.calls.map((c) => c.queries)).toEqual([['q1']]);
    expect(batches).toHaveLength(1);
    expectAnswers(await b.submit(qs(3), 1), [3], 1);
  });

  it('fails every request of a batch whose run throws, then serves the next batch', async () => {
    let fail = true;
    const ok = recordingRunner();
    const run = async (queries: string[], k: number) => {
      if (fail) {
        fail = false;
        throw new Error('boom');
      }
      return ok.run(queries, k);
    };
    const { b, batches } = batcher(run);
    const results = await Promise.allSettled([b.submit(qs(1), 1), b.submit(qs(2), 1)]);
    expect(results[0]).toMatchObject({ status: 'rejected', reason: { message: 'boom' } });
    expect(batches[0]!.ok).toBe(false);
    expectAnswers(await b.submit(qs(5), 2), [5], 2);
  });

  it('a request the index refuses (INVALID_ARGUMENT) fails alone: the other requests of its batch are searched without it (they got its 400)', async () => {
    const runner = recordingRunner();
    const run: BatcherOptions['run'] = async (queries, k) => {
      if (queries.includes('q666')) {
        runner.calls.push({ queries: [...queries], k });
        throw new TesseraError('INVALID_ARGUMENT', 'query 666 refused (test)');
      }
      return runner.run(queries, k);
    };
    const { b, batches } = batcher(run);
    runner.hold();
    const first = b.submit(qs(1), 2);
    await Promise.resolve();
    const good = b.submit(qs(2, 3), 2);
    const bad = b.submit(qs(666), 2);
    const later = b.submit(qs(4), 2);
    runner.release();
    expectAnswers(await first, [1], 2);
    expectAnswers(await good, [2, 3], 2);
    await expect(bad).rejects.toSatisfy((e) => isTesseraError(e, 'INVALID_ARGUMENT') && /query 666 refused/.test((e as Error).message));
    expectAnswers(await later, [4], 2);
    expect(runner.calls.map((c) => c.queries)).toEqual([['q1'], ['q2', 'q3', 'q666', 'q4'], ['q2', 'q3'], ['q666'], ['q4']]);
    await b.drain();
    expect(batches.map((x) => x.ok)).toEqual([true, false]);
  });

  it('a batch at a large topk holds at most maxResults / topk queries, so no batch asks the index for more results than one search returns', async () => {
    const runner = recordingRunner();
    const { b } = batcher(runner.run, { maxBatch: 8, maxResults: 20 });
    runner.hold();
    const first = b.submit(qs(0), 1);
    await Promise.resolve();
    const large = b.submit(qs(1, 2, 3, 4, 5), 10); // 5 x 10 results: over 20, in parts of 2 queries
    const small = b.submit(qs(6, 7, 8), 5);
    runner.release();
    await first;
    expectAnswers(await large, [1, 2, 3, 4, 5], 10);
    expectAnswers(await small, [6, 7, 8], 5);
    for (const c of runner.calls) expect(c.queries.length * c.k).toBeLessThanOrEqual(20);
    expect(runner.calls.map((c) => c.queries)).toEqual([['q0'], ['q1', 'q2'], ['q3', 'q4'], ['q5'], ['q6', 'q7', 'q8']]);
  });

  it('fails a batch whose result has the wrong shape', async () => {
    const { b } = batcher(async () => ({ nq: 1, k: 1, labels: new BigInt64Array(1), distances: new Float32Array(1) }));
    await expect(b.submit(qs(1, 2), 1)).rejects.toSatisfy((e) => isTesseraError(e, 'FORMAT'));
  });

  it('after close refuses new requests but finishes queued and running ones; drain waits for them', async () => {
    const runner = recordingRunner(20);
    const { b } = batcher(runner.run);
    const inFlight = [b.submit(qs(1), 1), b.submit(qs(2), 1)];
    b.close();
    await expect(b.submit(qs(3), 1)).rejects.toBeInstanceOf(ShuttingDownError);
    await b.drain();
    const got = await Promise.all(inFlight);
    expectAnswers(got[0]!, [1], 1);
    expectAnswers(got[1]!, [2], 1);
  });

  it('a timeout or wait past what a Node timer holds (2^31 - 1 ms) is a long one, not 1 ms (--timeout-ms 3000000000 timed every request out: 504)', async () => {
    const r = recordingRunner(30);
    // A request over two batches: deadlines of 3e9 and 2 x 3e9 ms.
    const { b } = batcher(r.run, { maxBatch: 2, timeoutMs: 3e9 });
    expectAnswers(await b.submit(qs(1, 2, 3), 2), [1, 2, 3], 2);
    expect(r.calls.map((c) => c.queries.length)).toEqual([2, 1]);
    // A lone query waits for company the whole --max-wait-ms, not 1 ms.
    const waiting = batcher(r.run, { maxWaitMs: 3e9 }).b;
    const hangUp = new AbortController();
    const lone = waiting.submit(qs(4), 1, hangUp.signal);
    await new Promise((done) => setTimeout(done, 50));
    expect(r.calls).toHaveLength(2); // not run
    hangUp.abort(new Error('test done'));
    await expect(lone).rejects.toThrow('test done');
  });

  it('rejects nonsensical options', () => {
    const run = recordingRunner().run;
    expect(() => new MicroBatcher({ run, maxBatch: 0, maxWaitMs: 0, maxQueue: 1, timeoutMs: 1 })).toThrow(/maxBatch must be a number >= 1, got 0/);
    expect(() => new MicroBatcher({ run, maxBatch: 1, maxWaitMs: -1, maxQueue: 1, timeoutMs: 1 })).toThrow(/maxWaitMs/);
    expect(() => new MicroBatcher({ run, maxBatch: 1, maxWaitMs: 0, maxQueue: 1, timeoutMs: Number.NaN })).toThrow(/timeoutMs/);
  });
});
