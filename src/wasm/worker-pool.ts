/**
 * Worker threads that share one WebAssembly memory: each worker instantiates the "threads" build of
 * the module on the same shared memory with its own shadow stack, and runs exported C functions on
 * request. The calling thread takes a share of every parallel loop itself, so `threads` workers of
 * work use threads - 1 extra workers. A *dedicated* pool (the shards of src/wasm/shards.ts) keeps the
 * calling thread out: all native work runs on its own workers, so several such pools (one per
 * shard) compute at the same time while the caller only lays out memory and merges. Works with
 * Node's worker_threads and with Web Workers (browsers when cross-origin isolated, Deno); elsewhere
 * everything runs single-threaded on the caller.
 */
import { TesseraError } from '../core/errors.js';
import { describeArg } from '../core/validate.js';
import { platform } from '../platform.js';
import { type WasmHeap, sharedMemoryAvailable } from './module.js';

/** One C call: an export name and its (numeric) arguments. */
export interface NativeCall {
  fn: string;
  args: readonly number[];
}

/**
 * native/flat.c scores queries four at a time and the rest one at a time, which rounds differently:
 * query ranges split over threads (or batches) start at multiples of this, so a query's distances
 * and neighbours do not depend on the thread count.
 */
export const QUERY_GROUP = 4;

/** `batch` of `nq` queries, rounded down to whole QUERY_GROUPs (at least one) where it splits them, so every batch starts on a group. */
export function groupedBatch(batch: number, nq: number): number {
  return batch < nq ? Math.max(QUERY_GROUP, batch - (batch % QUERY_GROUP)) : batch;
}

/** Shadow stack per worker; the C code keeps large arrays in caller-provided memory. */
const STACK_BYTES = 256 << 10;

/**
 * A worker script, self-contained so it can be started from a string in every runtime: `body`
 * defines `onMessage(m)` and may use `node`, `port` and `send(m)`. Node runs it as CommonJS
 * (require is there); Web Workers see `self`. The one place a worker names a Node built-in, so the
 * bundle audit (test/runtimes/bundle.test.ts) knows it.
 */
export function workerScript(body: string): string {
  return `
const node = typeof self === 'undefined';
const port = node ? require('node:worker_threads').parentPort : self;
const send = (m) => port.postMessage(m);
${body}
if (node) port.on('message', onMessage); else port.onmessage = (e) => onMessage(e.data);
`;
}

/** The pool's worker: instantiates the module on the shared memory, then runs C calls. */
const WORKER_SOURCE = workerScript(`
let ex = null;
const onMessage = async (m) => {
  if (m.type === 'init') {
    try {
      const inst = await WebAssembly.instantiate(m.module, { env: { memory: m.memory } });
      ex = inst.exports;
      ex.__stack_pointer.value = m.stackTop;
      send({ type: 'ready' });
    } catch (e) { send({ type: 'error', message: String(e && e.stack || e) }); }
    return;
  }
  try { ex[m.fn](...m.args); send({ type: 'done', id: m.id }); }
  catch (e) { send({ type: 'done', id: m.id, error: String(e && e.stack || e) }); }
};
`);

export interface WorkerLike {
  post(message: unknown): void;
  onMessage(handler: (message: any) => void): void;
  terminate(): Promise<void>;
  /** Node: whether the worker keeps the process alive (a 'message' listener refs it again); absent elsewhere. */
  hold?(on: boolean): void;
  /** Calls `handler` when the worker stops on its own (an uncaught error, out of memory, exit); terminate() may call it too. */
  onExit?(handler: (why: string) => void): void;
}

let nodeWorkerThreads: Promise<any> | undefined;

/** Starts a worker running `source` (another script than the pool's: src/gpu/rerank-workers.ts). */
export async function startWorker(source: string = WORKER_SOURCE): Promise<WorkerLike> {
  const g = globalThis as any;
  const isNode = typeof g.process?.versions?.node === 'string' && typeof g.Deno === 'undefined';
  if (isNode) {
    // Behind a variable so browser bundlers never try to resolve it.
    const spec = 'node:worker_threads';
    nodeWorkerThreads ??= import(/* @vite-ignore */ spec);
    const { Worker } = await nodeWorkerThreads;
    const w = new Worker(source, { eval: true });
    w.unref(); // an index left undisposed must not keep the process alive
    return {
      post: (m) => w.postMessage(m),
      onMessage: (h) => w.on('message', h),
      hold: (on) => (on ? w.ref() : w.unref()),
      terminate: async () => void (await w.terminate()),
      onExit: (h) => {
        w.on('error', (e: unknown) => h(String((e as Error)?.message ?? e)));
        w.on('exit', (code: number) => h(`exited with code ${code}`));
      },
    };
  }
  const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
  const w = new g.Worker(url, { type: g.Deno ? 'module' : 'classic' });
  URL.revokeObjectURL(url);
  return {
    post: (m) => w.postMessage(m),
    onMessage: (h) => w.addEventListener('message', (e: MessageEvent) => h(e.data)),
    terminate: async () => w.terminate(),
    onExit: (h) => w.addEventListener('error', (e: ErrorEvent) => h(e.message || 'worker error')),
  };
}

/** True when this runtime can start workers (Node's worker_threads or Web Workers). */
export function workersSupported(): boolean {
  const g = globalThis as any;
  // Node's permission model (--experimental-permission, --permission) without --allow-worker throws
  // ERR_ACCESS_DENIED at new Worker: such a process runs on its one thread, as a page without
  // cross-origin isolation does, rather than failing every threaded index with Node's raw error.
  if (g.process?.permission?.has?.('worker') === false) return false;
  return typeof g.Worker === 'function' || typeof g.process?.versions?.node === 'string';
}

/** Cores the runtime offers: navigator.hardwareConcurrency, else the platform's count (Node 20). */
export function hardwareThreads(): number {
  const n = (globalThis as any).navigator?.hardwareConcurrency ?? platform().cpuCount?.();
  return typeof n === 'number' && n >= 1 ? n : 1;
}

/** Threads the default stops at (a machine with more gets them when asked: maxThreads). */
const DEFAULT_THREADS_CAP = 256;

/**
 * Most threads an index (and the CLI's --threads) takes: 256, or the machine's cores where it has more
 * (two 128-core CPUs with SMT report 512, which 256 refused). Each thread is a worker with a WebAssembly
 * instance of its own (megabytes) and a 256 KiB stack in the index's memory, and threads past the
 * cores only share them: the bound turns a stray digit (100000) into an error, not an out-of-memory.
 */
export function maxThreads(): number {
  return Math.max(DEFAULT_THREADS_CAP, hardwareThreads());
}

/** What bounds maxThreads(), for the error refusing more. */
export function maxThreadsReason(): string {
  const cores = hardwareThreads();
  const bound = cores > DEFAULT_THREADS_CAP ? `this machine's ${cores} cores` : `${DEFAULT_THREADS_CAP}, or the cores of a machine with more (this one has ${cores})`;
  return `at most ${bound}: each thread is a worker with a WebAssembly instance of its own, and threads past the cores only share them`;
}

/**
 * Threads to use for `requested` (default: all cores, at most 256): 1 where memory cannot be shared
 * with workers. Throws INVALID_ARGUMENT for a non-integer, < 1 or > maxThreads().
 */
export function resolveThreads(requested?: number): number {
  if (requested !== undefined && (!Number.isInteger(requested) || requested < 1 || requested > maxThreads())) {
    const why = typeof requested === 'number' && requested > maxThreads() ? ` (${maxThreadsReason()})` : '';
    throw new TesseraError('INVALID_ARGUMENT', `threads must be an integer in [1, ${maxThreads()}]${why}, got ${describeArg(requested)}`);
  }
  const want = requested ?? Math.min(DEFAULT_THREADS_CAP, hardwareThreads());
  if (want <= 1 || !sharedMemoryAvailable() || !workersSupported()) return 1;
  return want;
}

/** Multiply-adds of one native call of a search given an AbortSignal, which is looked at between calls: tens of ms. */
const ABORTABLE_WORK = 1 << 27;

/**
 * Queries per native call (per thread) of a search that can be aborted, each costing
 * `workPerQuery` multiply-adds: about ABORTABLE_WORK, and at least 4 queries so rows still stream
 * from memory once for several of them. Without a signal searches take the largest batches.
 */
export function abortableBatch(workPerQuery: number): number {
  return Math.max(4, Math.floor(ABORTABLE_WORK / Math.max(1, workPerQuery)));
}

/**
 * Throws the signal's reason once it has aborted. Between the batches of a search: first lets
 * timers and events run (a search on the calling thread never awaits otherwise, so an abort from a
 * timeout or a closed request would only land after the last batch).
 */
export async function checkAbort(signal: AbortSignal | undefined, pause: boolean): Promise<void> {
  if (!signal) return;
  if (pause && !signal.aborted) await yieldToEventLoop();
  signal.throwIfAborted();
}

/**
 * Lets timers, I/O and (in a page) input and a repaint run, then resumes. Not setTimeout(0): Node
 * waits 1 ms and browsers 4 ms once timeouts nest (a pause every 50 ms of work cost 2% and 8%);
 * setImmediate (Node, Bun) and a MessageChannel message (browsers, Deno) are not clamped.
 * scheduler.yield() is not used either: its continuation runs ahead of timers, which starved a 10 ms
 * interval in Chromium.
 */
export function yieldToEventLoop(): Promise<void> {
  if (typeof setImmediate === 'function') return new Promise((resolve) => setImmediate(resolve));
  if (typeof MessageChannel !== 'function') return new Promise((resolve) => setTimeout(resolve, 0));
  return new Promise((resolve) => {
    const { port1, port2 } = new MessageChannel();
    port1.onmessage = () => {
      port1.close();
      resolve();
    };
    port2.postMessage(null);
  });
}

/** Native work on the calling thread between two pauses of a long operation (see breather). */
export const BREATHE_MS = 50;

/**
 * For a long operation whose native calls run on the calling thread (threads: 1, no shared memory,
 * or its share beside workers): call the returned function between calls; once BREATHE_MS of work has gone by since the
 * operation began or last paused, it lets timers and events run (a progress bar's redraw, Ctrl-C's
 * handler, a page's repaint). Without it an HNSW build or k-means training held the event loop for
 * its whole length. Short operations never pause.
 */
export function breather(): () => Promise<void> {
  let since = performance.now();
  return async () => {
    if (performance.now() - since < BREATHE_MS) return;
    await yieldToEventLoop();
    since = performance.now();
  };
}

/** Values a pass over rows on the calling thread (copies, sums, checks: k-means, IVF training and adds) handles between two breathe() calls: a few ms. */
const ROW_PIECE_VALUES = 1 << 20;

/**
 * Rows of width d in one piece of such a pass. At 1M x 768 training rows a whole pass held the event
 * loop (Ctrl-C's handler, a progress bar) for seconds: the centroid sums about 1 s an iteration, the
 * copy into the module 3 s.
 */
export function rowPiece(d: number): number {
  return Math.max(1, Math.floor(ROW_PIECE_VALUES / d));
}

/** Calls fn on the n x d rows of x a piece at a time (its first row's number with it), breathe() after each. */
export async function forRowPieces(x: Float32Array, d: number, breathe: () => Promise<void>, fn: (piece: Float32Array, firstRow: number) => void): Promise<void> {
  const piece = rowPiece(d) * d;
  for (let o = 0; o < x.length; o += piece) {
    fn(x.subarray(o, o + piece), o / d);
    await breathe();
  }
}

/** True when dedicated worker pools can run here: shared memory and workers. */
export function dedicatedWorkersAvailable(): boolean {
  return sharedMemoryAvailable() && workersSupported();
}

/**
 * Workers that instantiate the module on a heap's shared memory (the threads build), each with its
 * own shadow stack, and run jobs posted as messages answered by `{ type: 'done', id, error? }`.
 * A worker keeps Node alive only while it has jobs in flight (see WorkerLike.hold), so an index
 * left undisposed does not hang the process. Used by WorkerPool and by the GPU int8 re-rank's
 * workers (src/gpu/rerank-workers.ts), whose scripts differ.
 */
export class WasmWorkers {
  private nextId = 1;
  private readonly pending = new Map<number, { t: number; resolve: () => void; reject: (e: Error) => void }>();
  private isReleased = false;
  /** Why a worker stopped on its own (undefined while all run): every later job fails with it. */
  private lostReason: string | undefined;
  /** Jobs in flight per worker. */
  private readonly busy: number[];

  private constructor(
    private readonly heap: WasmHeap,
    private readonly workers: WorkerLike[],
    private readonly stacks: number[],
    private readonly label: string,
  ) {
    this.busy = workers.map(() => 0);
    workers.forEach((w, t) => {
      // A worker that stops on its own never answers: fail its jobs (and every later one) instead of
      // waiting forever; the other workers' jobs in flight finish as usual, unless their worker stops
      // too (the first one's reason stays the pool's).
      w.onExit?.((why) => {
        if (this.isReleased) return;
        this.lostReason ??= `${label} ${t} stopped (${why}); dispose the index and create it again`;
        const lost = this.lost!;
        for (const [id, p] of this.pending) {
          if (p.t !== t) continue;
          this.pending.delete(id);
          p.reject(lost);
        }
      });
      w.onMessage((m) => {
        if (m.type !== 'done') return;
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (--this.busy[t]! === 0) w.hold?.(false);
        if (m.error) p.reject(new TesseraError('INVALID_ARGUMENT', `${label} failed: ${m.error}`));
        else p.resolve();
      });
      // Idle: the 'message' listeners ref'd the worker again, and an index left undisposed must not keep the process alive.
      w.hold?.(false);
    });
  }

  /**
   * `count` workers running `source` (a workerScript) on `heap`'s shared memory, each given
   * `stackBytes` of shadow stack; `label` names them in errors.
   */
  static async start(heap: WasmHeap, count: number, opts: { source?: string; stackBytes?: number; label: string }): Promise<WasmWorkers> {
    if (!heap.shared) throw new TesseraError('UNSUPPORTED', `${opts.label}s need the shared-memory build of the module`);
    const stackBytes = opts.stackBytes ?? STACK_BYTES;
    const workers: WorkerLike[] = [];
    const stacks: number[] = [];
    try {
      for (let t = 0; t < count; t++) {
        const w = await startWorker(opts.source);
        workers.push(w);
        const stack = heap.alloc(stackBytes);
        stacks.push(stack);
        await new Promise<void>((resolve, reject) => {
          w.onMessage((m) => {
            if (m.type === 'ready') resolve();
            else if (m.type === 'error') reject(new TesseraError('UNSUPPORTED', `${opts.label} did not start: ${m.message}`));
          });
          w.post({ type: 'init', module: heap.module, memory: heap.memory, stackTop: stack + stackBytes });
        });
      }
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate()));
      for (const s of stacks) heap.release(s);
      throw e;
    }
    return new WasmWorkers(heap, workers, stacks, opts.label);
  }

  get size(): number {
    return this.workers.length;
  }

  /** DEVICE_LOST naming the worker that stopped on its own, or undefined while all run. */
  get lost(): TesseraError | undefined {
    return this.lostReason === undefined ? undefined : new TesseraError('DEVICE_LOST', this.lostReason);
  }

  /** Posts a job (`message` plus an id) to worker `t`; resolves when it answers done. */
  run(t: number, message: Record<string, unknown>): Promise<void> {
    const lost = this.lost;
    if (lost) return Promise.reject(lost);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { t, resolve, reject });
      if (this.busy[t]!++ === 0) this.workers[t]!.hold?.(true);
      this.workers[t]!.post({ ...message, id });
    });
  }

  /** Posts a message that expects no answer to every worker. */
  broadcast(message: unknown): void {
    for (const w of this.workers) w.post(message);
  }

  /** Whether release() was called (the workers are terminated or terminating). */
  get released(): boolean {
    return this.isReleased;
  }

  async release(): Promise<void> {
    if (this.isReleased) return;
    this.isReleased = true;
    // Terminated workers never answer: a job still in flight fails instead of waiting forever.
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      p.reject(new TesseraError('INVALID_ARGUMENT', `${this.label} was stopped by dispose() while a call ran on it: dispose an index after its calls settle`));
    }
    await Promise.all(this.workers.map((w) => w.terminate()));
    for (const s of this.stacks) this.heap.release(s);
  }
}

export class WorkerPool {
  private constructor(
    private readonly heap: WasmHeap,
    private readonly workers: WasmWorkers,
    /** The calling thread takes no part: every call runs on a worker. */
    readonly dedicated: boolean,
  ) {}

  /** Threads taking part in a parallel loop: the workers, and the caller unless dedicated. */
  get size(): number {
    return this.workers.size + (this.dedicated ? 0 : 1);
  }

  /** `threads` in all: threads - 1 workers and the caller, or (dedicated) `threads` workers. */
  static async start(heap: WasmHeap, threads: number, dedicated = false): Promise<WorkerPool> {
    if (!heap.shared) throw new TesseraError('UNSUPPORTED', 'worker threads need the shared-memory build of the module');
    const workers = await WasmWorkers.start(heap, dedicated ? threads : threads - 1, { label: 'WebAssembly worker' });
    return new WorkerPool(heap, workers, dedicated);
  }

  /** Runs `call` on worker `t` (0-based). */
  private runOn(t: number, call: NativeCall): Promise<void> {
    return this.workers.run(t, { type: 'call', fn: call.fn, args: call.args });
  }

  /**
   * Splits [0, n) into `size` contiguous ranges; range 0 runs here (on worker 0 when dedicated), the
   * others on workers, and resolves when all are done. `make` also gets the part's index
   * (0..size-1), e.g. to hand each thread its own work buffer. `align`: ranges start at multiples of
   * it (QUERY_GROUP for queries of flat_search); an empty range makes no call.
   */
  async parallelFor(n: number, make: (from: number, to: number, part: number) => NativeCall, align = 1): Promise<void> {
    const parts = Math.min(this.size, n);
    const bound = (p: number) => (p >= parts ? n : Math.min(n, Math.round(Math.floor((n * p) / parts) / align) * align));
    const jobs: Promise<void>[] = [];
    if (this.dedicated) {
      for (let p = 0; p < parts; p++) if (bound(p) < bound(p + 1)) jobs.push(this.runOn(p, make(bound(p), bound(p + 1), p)));
      return settle(jobs);
    }
    for (let p = 1; p < parts; p++) if (bound(p) < bound(p + 1)) jobs.push(this.runOn(p - 1, make(bound(p), bound(p + 1), p)));
    return settle(jobs, () => {
      if (parts > 0 && bound(1) > 0) this.callHere(make(0, bound(1), 0));
    });
  }

  /** Runs the same call on every thread (each takes work from a shared counter in memory). */
  async everywhere(call: NativeCall): Promise<void> {
    const jobs = Array.from({ length: this.workers.size }, (_, t) => this.runOn(t, call));
    return settle(jobs, this.dedicated ? undefined : () => this.callHere(call));
  }

  private callHere(call: NativeCall): void {
    (this.heap.exports[call.fn] as (...a: number[]) => void)(...call.args);
  }

  release(): Promise<void> {
    return this.workers.release();
  }
}

/**
 * Runs `here` (the calling thread's part), then waits for every job, failing with the first error.
 * All of them, also after one failed: the callers free the buffers the jobs write into once this
 * settles, and a job still running would write into whatever is allocated there next.
 */
async function settle(jobs: Promise<void>[], here?: () => void): Promise<void> {
  const failures: unknown[] = [];
  try {
    here?.();
  } catch (e) {
    failures.push(e);
  }
  for (const r of await Promise.allSettled(jobs)) if (r.status === 'rejected') failures.push(r.reason);
  if (failures.length > 0) throw failures[0];
}

/** A pool of `threads` for this heap's memory; `dedicated`: all of them workers, the caller out. */
export function acquirePool(heap: WasmHeap, threads: number, dedicated = false): Promise<WorkerPool> {
  return WorkerPool.start(heap, threads, dedicated);
}

/** Options of the index classes for running as a shard (src/wasm/shards.ts). */
export interface DedicatedOptions {
  /** Run every native call on `threads` workers of the index's own (none on the calling thread); needs dedicatedWorkersAvailable(). */
  dedicated?: boolean;
}

/**
 * How an index instance runs: `shared` memory (threads build) and a pool of `threads` threads when
 * shared; dedicated pools whenever asked for and possible (even of one worker).
 */
export function threadPlan(opts: { threads?: number } & DedicatedOptions): { threads: number; shared: boolean; dedicated: boolean } {
  if (opts.dedicated && dedicatedWorkersAvailable()) {
    if (opts.threads !== undefined) resolveThreads(opts.threads); // validates
    return { threads: Math.max(1, opts.threads ?? 1), shared: true, dedicated: true };
  }
  const threads = resolveThreads(opts.threads);
  return { threads, shared: threads > 1, dedicated: false };
}
