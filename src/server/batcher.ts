/**
 * Micro-batching queue: the queries of concurrent requests are gathered into one batch that makes
 * one encoder call and one index search, and the results are split back per request, in order.
 *
 * One batch runs at a time (the encoder and the GPU are each one device); requests arriving while
 * it runs wait and form the next batch, so batches grow with load and a lone request pays at most
 * `maxWaitMs`. A request with more than `maxBatch` queries is split into several batches (Search-R1's
 * trainer posts every rollout's query in one request: 512 x 5 with GRPO). A batch holds requests of
 * one topk only: an approximate index searches deeper for a larger k (HNSW's ef = max(efSearch, k)),
 * so a request searched at a neighbour's larger topk could get other results than alone. The queue
 * is bounded in queries (QueueFullError -> HTTP 503 + Retry-After); every request has a deadline
 * from its arrival (RequestTimeoutError -> 504).
 */
import { TesseraError, isTesseraError } from '../core/errors.js';
import { concatResults } from '../core/topk.js';
import { MAX_RESULTS } from '../core/validate.js';
import type { SearchResult } from '../core/types.js';

/** Encodes and searches `queries` (one encoder call, one search), returning queries.length x k results. */
export type BatchRunner = (queries: string[], k: number) => Promise<SearchResult>;

export interface BatcherOptions {
  run: BatchRunner;
  /** Most queries in one batch; a request with more is split over several batches. */
  maxBatch: number;
  /** How long the first waiting request may wait for others before its batch starts, in ms. */
  maxWaitMs: number;
  /** Most queries waiting (not running) at once; beyond it requests are refused with QueueFullError (a request larger than this, always: HTTP 413 at the edge). */
  maxQueue: number;
  /** Deadline of each request from its arrival, in ms; a request split over n batches has n times it. */
  timeoutMs: number;
  /** Called after every batch (metrics). */
  onBatch?: (info: BatchInfo) => void;
  /** Most queries x k in one batch (default MAX_RESULTS, what one index search returns): a batch at a large k holds fewer queries. */
  maxResults?: number;
}

export interface BatchInfo {
  queries: number;
  requests: number;
  k: number;
  /** Wall time of `run`, seconds. */
  seconds: number;
  ok: boolean;
}

/** One request's share of a batch: its queries' rows of the batch result, cut to its own k. */
export interface RequestResult {
  nq: number;
  k: number;
  /** nq x k, best first, label -1 where the index had fewer than k vectors. */
  labels: BigInt64Array;
  distances: Float32Array;
}

/** The queue is full: retry after `retryAfterSeconds`. */
export class QueueFullError extends Error {
  override readonly name = 'QueueFullError';
  constructor(readonly retryAfterSeconds: number, message: string) {
    super(message);
  }
}

/** The request's deadline passed before its batch finished. */
export class RequestTimeoutError extends Error {
  override readonly name = 'RequestTimeoutError';
}

/**
 * Longest delay a Node timer keeps: setTimeout takes a longer one as 1 ms (TimeoutOverflowWarning),
 * so `--timeout-ms 3000000000`, meant as "never", timed every request out at once (504). A wait this
 * long (24.8 days) is never reached; longer ones are cut to it.
 */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** `ms` as a setTimeout delay: at most MAX_TIMER_MS. */
export function timerDelay(ms: number): number {
  return Math.min(ms, MAX_TIMER_MS);
}

/** The batcher is closed (server shutting down): no new requests. */
export class ShuttingDownError extends Error {
  override readonly name = 'ShuttingDownError';
}

interface Job {
  queries: string[];
  k: number;
  arrived: number;
  settled: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
  resolve: (r: RequestResult) => void;
  reject: (e: unknown) => void;
  /** The other parts of a request split over several batches: failed with it, so none runs for nothing. */
  siblings?: Job[];
}

export class MicroBatcher {
  private readonly queue: Job[] = [];
  private queued = 0;
  private running = false;
  private runningQueries = 0;
  private closed = false;
  private waitTimer: ReturnType<typeof setTimeout> | undefined;
  private idleWaiters: (() => void)[] = [];
  /** Exponential moving average of batch run time, seconds (for Retry-After). */
  private batchSecondsEma = 0.05;

  constructor(private readonly opts: BatcherOptions) {
    for (const [name, v, min] of [
      ['maxBatch', opts.maxBatch, 1],
      ['maxWaitMs', opts.maxWaitMs, 0],
      ['maxQueue', opts.maxQueue, 1],
      ['timeoutMs', opts.timeoutMs, 1],
    ] as const) {
      if (!Number.isFinite(v) || v < min) {
        throw new TesseraError('INVALID_ARGUMENT', `batcher ${name} must be a number >= ${min}, got ${String(v)}`);
      }
    }
  }

  /** Queries waiting for a batch (not counting the running one). */
  get depth(): number {
    return this.queued;
  }

  /** Queries in the running batch (0 when idle). */
  get inFlight(): number {
    return this.runningQueries;
  }

  /** True while a batch runs. */
  get busy(): boolean {
    return this.running;
  }

  /** Seconds a client should wait before retrying when the queue is full. */
  retryAfterSeconds(): number {
    const batchesAhead = Math.ceil(this.queued / this.opts.maxBatch) + 1;
    return Math.max(1, Math.ceil(batchesAhead * this.batchSecondsEma));
  }

  /**
   * Queues `queries` for search with `k` results each; resolves with this request's results in
   * query order. Rejects with QueueFullError, RequestTimeoutError, ShuttingDownError, or the error
   * the batch run raised. When `signal` aborts (the client hung up) the request's parts still
   * queued leave the queue and it rejects with `signal.reason`; a part already running finishes.
   */
  submit(queries: string[], k: number, signal?: AbortSignal): Promise<RequestResult> {
    if (this.closed) return Promise.reject(new ShuttingDownError('the server is shutting down: retry on another replica or after restart'));
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (queries.length > this.opts.maxQueue) {
      return Promise.reject(
        new TesseraError('INVALID_ARGUMENT', `a request holds ${queries.length} queries, more than the queue takes (${this.opts.maxQueue}): split it or raise --max-queue`),
      );
    }
    if (queries.length === 0) return Promise.resolve({ nq: 0, k, labels: new BigInt64Array(0), distances: new Float32Array(0) });
    if (this.queued + queries.length > this.opts.maxQueue) {
      const retry = this.retryAfterSeconds();
      return Promise.reject(
        new QueueFullError(retry, `the queue holds ${this.queued} queries and takes at most ${this.opts.maxQueue}: retry after ${retry} s`),
      );
    }
    // Parts of at most maxBatch queries (fewer at a k whose results would pass maxResults), queued
    // back to back so they run in order. Part i has i + 1 deadlines, as it waits for the batches
    // before it: a large request is not timed out for its size.
    const arrived = performance.now();
    const jobs: Job[] = [];
    const parts: Promise<RequestResult>[] = [];
    const partSize = this.batchLimit(k);
    for (let at = 0; at < queries.length; at += partSize) {
      const part = queries.slice(at, at + partSize);
      const deadlineMs = this.opts.timeoutMs * (parts.length + 1);
      parts.push(
        new Promise<RequestResult>((resolve, reject) => {
          const job: Job = { queries: part, k, arrived, settled: false, timer: undefined, resolve, reject };
          job.timer = setTimeout(() => this.expire(job, deadlineMs), timerDelay(deadlineMs));
          jobs.push(job);
        }),
      );
    }
    if (jobs.length > 1) for (const job of jobs) job.siblings = jobs;
    for (const job of jobs) this.queue.push(job);
    this.queued += queries.length;
    if (signal) {
      const withdraw = () => {
        for (const job of jobs) this.withdraw(job, signal.reason);
      };
      signal.addEventListener('abort', withdraw, { once: true });
      void Promise.allSettled(parts).then(() => signal.removeEventListener('abort', withdraw));
    }
    this.schedule();
    return parts.length === 1 ? parts[0]! : Promise.all(parts).then((done) => concatResults(done, k)); // the parts in query order
  }

  /** Stops taking requests; queued and running ones still finish. */
  close(): void {
    this.closed = true;
  }

  /** Resolves once nothing is queued or running. */
  drain(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private expire(job: Job, deadlineMs: number): void {
    if (job.settled) return;
    this.dequeue(job);
    this.withdraw(job, new RequestTimeoutError(`the request did not finish within ${deadlineMs} ms (queue depth ${this.queued} queries): retry, or raise --timeout-ms`));
  }

  /** Fails `job` with `error`, taking it out of the queue if it waits there (a running one's result is dropped). */
  private withdraw(job: Job, error: unknown): void {
    if (job.settled) return;
    this.dequeue(job);
    this.settle(job, undefined, error);
    this.notifyIdle();
  }

  private dequeue(job: Job): void {
    const i = this.queue.indexOf(job);
    if (i >= 0) {
      this.queue.splice(i, 1);
      this.queued -= job.queries.length;
    }
  }

  private settle(job: Job, result: RequestResult | undefined, error?: unknown): void {
    if (job.settled) return;
    job.settled = true;
    clearTimeout(job.timer);
    if (error !== undefined) {
      job.reject(error);
      // The request has failed: its parts still waiting leave the queue, running ones are ignored.
      for (const other of job.siblings ?? []) {
        if (other.settled) continue;
        this.dequeue(other);
        this.settle(other, undefined, error);
      }
    } else job.resolve(result!);
  }

  private schedule(): void {
    if (this.running || this.queue.length === 0) return;
    const waited = performance.now() - this.queue[0]!.arrived;
    if (this.queued >= this.opts.maxBatch || waited >= this.opts.maxWaitMs) {
      clearTimeout(this.waitTimer);
      this.waitTimer = undefined;
      void this.runBatch();
    } else if (this.waitTimer === undefined) {
      this.waitTimer = setTimeout(() => {
        this.waitTimer = undefined;
        this.schedule();
      }, timerDelay(this.opts.maxWaitMs - waited));
    }
  }

  /** Most queries of one batch at `k`: maxBatch, fewer where queries x k would pass maxResults. */
  private batchLimit(k: number): number {
    return Math.max(1, Math.min(this.opts.maxBatch, Math.floor((this.opts.maxResults ?? MAX_RESULTS) / k)));
  }

  private async runBatch(): Promise<void> {
    // The oldest request and those after it with the same topk (they pass requests of another topk,
    // which the next batch starts with): a request's answer never depends on who shared its batch.
    const k = this.queue[0]!.k;
    const limit = this.batchLimit(k);
    const jobs: Job[] = [];
    let n = 0;
    for (let i = 0; i < this.queue.length; ) {
      const job = this.queue[i]!;
      if (job.k !== k) {
        i++;
        continue;
      }
      if (n + job.queries.length > limit) break; // requests of one topk keep their order
      this.queue.splice(i, 1);
      jobs.push(job);
      n += job.queries.length;
    }
    this.queued -= n;
    this.running = true;
    this.runningQueries = n;
    const queries: string[] = [];
    for (const job of jobs) for (const q of job.queries) queries.push(q);
    const t0 = performance.now();
    let ok = false;
    try {
      const result = await this.search(queries, k);
      let row = 0;
      for (const job of jobs) {
        this.settle(job, slice(result, row, job.queries.length, job.k));
        row += job.queries.length;
      }
      ok = true;
    } catch (e) {
      if (jobs.length > 1 && isTesseraError(e, 'INVALID_ARGUMENT')) {
        // Refused for what one request holds (a query vector the index refuses): each request is
        // searched alone, so the refusal reaches that request only, not the others of its batch.
        for (const job of jobs) {
          await new Promise((r) => setImmediate(r)); // sockets are read between the runs (see finally)
          if (job.settled) continue; // its client hung up meanwhile
          await this.search(job.queries, k).then(
            (alone) => this.settle(job, alone),
            (error: unknown) => this.settle(job, undefined, error),
          );
        }
      } else for (const job of jobs) this.settle(job, undefined, e);
    } finally {
      const seconds = (performance.now() - t0) / 1000;
      this.batchSecondsEma = 0.8 * this.batchSecondsEma + 0.2 * seconds;
      this.running = false;
      this.runningQueries = 0;
      try {
        this.opts.onBatch?.({ queries: n, requests: jobs.length, k, seconds, ok });
      } finally {
        // The next batch starts on the event loop's next turn, not in this promise chain: the encoder
        // and a WASM search run on this thread, so batches chained directly read no socket until the
        // queue is empty (over a 2560-query request /health stalled, no request could join, and a
        // client that hung up went unseen and was searched anyway).
        setImmediate(() => this.schedule());
        this.notifyIdle();
      }
    }
  }

  /** One run over `queries` at `k`, checked to return queries.length x k results. */
  private async search(queries: string[], k: number): Promise<SearchResult> {
    const result = await this.opts.run(queries, k);
    if (result.nq !== queries.length || result.k !== k) {
      throw new TesseraError('FORMAT', `search returned ${result.nq} x ${result.k} results for ${queries.length} x ${k} asked`);
    }
    return result;
  }

  private notifyIdle(): void {
    if (this.running || this.queue.length > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}

/** Rows [row, row+nq) of `r`, each cut from r.k to its first k columns (still best first). */
function slice(r: SearchResult, row: number, nq: number, k: number): RequestResult {
  const labels = new BigInt64Array(nq * k);
  const distances = new Float32Array(nq * k);
  for (let q = 0; q < nq; q++) {
    const from = (row + q) * r.k;
    labels.set(r.labels.subarray(from, from + k), q * k);
    distances.set(r.distances.subarray(from, from + k), q * k);
  }
  return { nq, k, labels, distances };
}
