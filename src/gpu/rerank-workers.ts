/**
 * Worker threads for the GPU int8 index's host re-rank (src/gpu/flat-index.ts, rerankNow). Each
 * worker instantiates the "threads" build of the module on the re-rank's shared memory. Two kinds of
 * job: with rows kept in memory (SharedArrayBuffer chunks, MemoryRows.sharedChunks), a 'blocks' job
 * re-ranks a range of queries from start to end (scoreQueryBlocks: each query's candidate rows
 * copied into its buffer in candidate order, no sort, scored with rerank_pairs, best k with
 * rerank_topk), so a search is one message per worker; with rows read by the calling thread (file,
 * generator), a 'job' scores a range of (row, query) pairs of a run this thread gathered.
 *
 * Searches from rows in memory are handed over through shared memory instead of messages where
 * the workers have Atomics.waitAsync (runShared): the calling thread writes the job into a control
 * block, wakes as many workers as there are blocks to spare, and scores blocks itself; every
 * thread claims blocks of queries one at a time (a compare-exchange on one counter), so a worker
 * that wakes late only does less. No message, no reply per worker: on the H200 host 15 replies a
 * search cost more than the scoring at nq 16-64 (BENCHMARKS gpu-int8, run 8).
 */
import { TesseraError } from '../core/errors.js';
import type { WasmHeap } from '../wasm/module.js';
import { WasmWorkers, workerScript } from '../wasm/worker-pool.js';

/** Shadow stack per worker (rerank_pairs keeps nothing on it). */
const STACK_BYTES = 64 << 10;

/**
 * One part of a re-rank from rows in memory: queries [q0, q1) of the search, each with w candidate
 * ids (int32 at `ids`, query-major; -1 = none), in blocks of `block` queries: the block's candidate
 * rows are copied from the row chunks into `rows` in candidate order (slot i = candidate i of the
 * block; a -1 candidate's slot is left as it is and skipped by rerank_topk), scored against their
 * queries by rerank_pairs (pairRow[i] = i, pairQ[i] = floor(i / w): constant arrays), and the best
 * k of each query written to topD / topI at the query's place. Runs on the calling thread and, as
 * source text, in the workers (so it is self-contained: no closures, no nested functions).
 */
export interface QueryBlocksJob {
  d: number;
  w: number;
  k: number;
  metric: number;
  q0: number;
  q1: number;
  block: number;
  /** Byte offsets into the module's memory. */
  queries: number;
  ids: number;
  rows: number;
  pairRow: number;
  pairQ: number;
  scores: number;
  topD: number;
  topI: number;
}

export function scoreQueryBlocks(ex: Record<string, any>, buffer: ArrayBufferLike, chunks: readonly Float32Array[], starts: readonly number[], j: QueryBlocksJob): void {
  for (let a = j.q0; a < j.q1; a += j.block) {
    scoreBlock(ex, buffer, chunks, starts, j.d, j.w, j.k, j.metric, a, Math.min(j.q1, a + j.block), j.queries, j.ids, j.rows, j.pairRow, j.pairQ, j.scores, j.topD, j.topI);
  }
}

/**
 * Queries [a, b) of a search (see QueryBlocksJob): candidate rows copied into `rows` in candidate
 * order, scored by rerank_pairs, best k by rerank_topk. Self-contained (worker source text).
 */
export function scoreBlock(ex: Record<string, any>, buffer: ArrayBufferLike, chunks: readonly Float32Array[], starts: readonly number[], d: number, w: number, k: number, metric: number, a: number, b: number, queries: number, idsAt: number, rowsAt: number, pairRow: number, pairQ: number, scores: number, topD: number, topI: number): void {
  const ids = new Int32Array(buffer, idsAt + a * w * 4, (b - a) * w);
  const rows = new Float32Array(buffer, rowsAt, (b - a) * w * d);
  const last = starts.length - 1;
  for (let s = 0; s < (b - a) * w; s++) {
    const id = ids[s]!;
    if (id < 0) continue;
    // The row's chunk: the last with starts[c] <= id (usually one chunk).
    let c = 0;
    if (last > 0) {
      let hi = last;
      while (c < hi) {
        const mid = (c + hi + 1) >> 1;
        if (starts[mid]! <= id) c = mid;
        else hi = mid - 1;
      }
    }
    const l = (id - starts[c]!) * d;
    rows.set(chunks[c]!.subarray(l, l + d), s * d);
  }
  ex.rerank_pairs(rowsAt, d, queries + a * d * 4, pairRow, pairQ, (b - a) * w, metric, scores);
  ex.rerank_topk(scores, idsAt + a * w * 4, b - a, w, k, metric, topD + a * k * 4, topI + a * k * 4);
}

/**
 * Control block of a shared job (int32 words at its byte offset in the module's memory, 8-aligned).
 * Word pair 0-1: the claim word (BigInt64: generation << 32 | blocks << 16 | next block); 2: the
 * generation workers wait on; 3: blocks done; 4: a worker failed; then the job's fields.
 */
export const CTL = { GEN: 2, DONE: 3, FAILED: 4, D: 5, W: 6, K: 7, METRIC: 8, NQ: 9, BLOCK: 10, QUERIES: 11, IDS: 12, PAIR_ROW: 13, PAIR_Q: 14, TOP_D: 15, TOP_I: 16, ROWS: 17, ROWS_STRIDE: 18, SCORES: 19, SCORES_STRIDE: 20, WORDS: 24 } as const;

/**
 * Claims blocks of the shared job at `ctlAt` until none is left and scores each (scoreBlock) in the
 * buffers of `slot` (0: the calling thread, t + 1: worker t); returns the blocks it scored. A block
 * claimed belongs to the current job: the caller does not start the next before every claimed
 * block is done, so the job's fields are read after the claim. Self-contained (worker source text).
 */
export function claimBlocks(ex: Record<string, any>, buffer: ArrayBufferLike, chunks: readonly Float32Array[], starts: readonly number[], ctlAt: number, slot: number): number {
  const c32 = new Int32Array(buffer, ctlAt, 24);
  const c64 = new BigInt64Array(buffer, ctlAt, 1);
  let n = 0;
  for (;;) {
    const word = Atomics.load(c64, 0);
    const next = Number(word & 0xffffn);
    const total = Number((word >> 16n) & 0xffffn);
    if (next >= total) return n;
    if (Atomics.compareExchange(c64, 0, word, word + 1n) !== word) continue;
    try {
      const block = c32[10]!;
      const a = next * block;
      const b = Math.min(c32[9]!, a + block);
      scoreBlock(ex, buffer, chunks, starts, c32[5]!, c32[6]!, c32[7]!, c32[8]!, a, b, c32[11]!, c32[12]!, c32[17]! + slot * c32[18]!, c32[13]!, c32[14]!, c32[19]! + slot * c32[20]!, c32[15]!, c32[16]!);
    } catch {
      Atomics.store(c32, 4, 1);
    }
    n++;
    if (Atomics.add(c32, 3, 1) + 1 === total) Atomics.notify(c32, 3);
  }
}

/**
 * The worker's script. 'rows' hands over the row chunks (shared, never copied) and their first ids;
 * a 'blocks' job runs scoreQueryBlocks; a 'job' gathers rows ids[from, to) (ascending; into the
 * buffer at slots from..to) when asked, then calls rerank_pairs with its arguments.
 */
const SOURCE = workerScript(`
let ex = null, memory = null, chunks = [], starts = [], ctlAt = -1, slot = 0, seen = 0;
const ${scoreBlock.name} = ${scoreBlock.toString()};
const ${claimBlocks.name} = ${claimBlocks.toString()};
const scoreQueryBlocks = ${scoreQueryBlocks.toString()};
// Shared jobs: wait (without blocking this thread's messages) for the generation word to move, claim blocks.
const watch = () => {
  for (;;) {
    const c32 = new Int32Array(memory.buffer, ctlAt, 24);
    const r = Atomics.waitAsync(c32, 2, seen);
    if (r.async) { r.value.then(watch); return; }
    seen = Atomics.load(c32, 2);
    ${claimBlocks.name}(ex, memory.buffer, chunks, starts, ctlAt, slot);
  }
};
const onMessage = async (m) => {
  if (m.type === 'init') {
    try {
      memory = m.memory;
      ex = (await WebAssembly.instantiate(m.module, { env: { memory } })).exports;
      ex.__stack_pointer.value = m.stackTop;
      send({ type: 'ready' });
    } catch (e) { send({ type: 'error', message: String(e && e.stack || e) }); }
    return;
  }
  try {
    if (m.type === 'rows') {
      chunks = m.chunks;
      starts = m.starts;
      if (m.id !== undefined) send({ type: 'done', id: m.id });
      return;
    }
    if (m.type === 'attach') {
      if (typeof Atomics.waitAsync !== 'function') throw new Error('no Atomics.waitAsync');
      ctlAt = m.ctl;
      slot = m.slot;
      seen = Atomics.load(new Int32Array(memory.buffer, ctlAt, 24), 2);
      watch();
      send({ type: 'done', id: m.id });
      return;
    }
    if (m.type === 'blocks') {
      scoreQueryBlocks(ex, memory.buffer, chunks, starts, m.job);
      send({ type: 'done', id: m.id });
      return;
    }
    const g = m.gather;
    if (g) {
      const d = g.d;
      const ids = new Uint32Array(memory.buffer, g.ids, g.to);
      const out = new Float32Array(memory.buffer, g.rows, g.to * d);
      let lo = 0, hi = starts.length - 1;
      const first = ids[g.from];
      while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (starts[mid] <= first) lo = mid; else hi = mid - 1; }
      let c = lo;
      for (let i = g.from; i < g.to; i++) {
        const id = ids[i];
        while (c + 1 < starts.length && starts[c + 1] <= id) c++;
        const l = id - starts[c];
        out.set(chunks[c].subarray(l * d, (l + 1) * d), i * d);
      }
    }
    ex.rerank_pairs(...m.args);
    send({ type: 'done', id: m.id });
  } catch (e) { send({ type: 'done', id: m.id, error: String(e && e.stack || e) }); }
};
`);

/** Row chunks in SharedArrayBuffers and the first id of each (ascending). */
export interface SharedRowChunks {
  chunks: readonly Float32Array[];
  starts: readonly number[];
}

/** One job: optionally gather rows ids[from, to) at `ids` into `rows` (d floats a row), then rerank_pairs(args). */
export interface RerankJob {
  gather?: { ids: number; rows: number; from: number; to: number; d: number };
  args: readonly number[];
}

/**
 * Knobs (benchmarks, tests). dispatch: 'shared' hands searches from rows in memory over through the
 * control block where the workers can (default), 'messages' posts one job a worker (the path before
 * gpu-int8 run 8). caller: the calling thread claims blocks too (false: only the workers score).
 * blocksPerThread: a shared job's queries cut into about this many blocks per thread.
 * pairsPerThread: wake only enough workers for this many (row, query) pairs a thread (0: all).
 * blockingMs: how long runShared may block this thread (Atomics.wait) for the workers' last blocks
 * before it waits without blocking, so that a worker that stopped can be seen (its exit event).
 */
export const rerankTuning = { dispatch: 'shared' as 'shared' | 'messages', caller: true, blocksPerThread: 2, pairsPerThread: 0, blockingMs: 200 };

/** One shared job: the fields of a QueryBlocksJob for every query, each thread's buffers at rows / scores + slot x stride. */
export interface SharedJob {
  d: number;
  w: number;
  k: number;
  metric: number;
  nq: number;
  block: number;
  queries: number;
  ids: number;
  pairRow: number;
  pairQ: number;
  topD: number;
  topI: number;
  rows: number;
  rowsStride: number;
  scores: number;
  scoresStride: number;
}

/** Whether this thread may block in Atomics.wait (Node's main thread may; a browser's main thread may not). */
let canBlock: boolean | undefined;

export class RerankWorkers {
  /** The chunk list each worker holds (MemoryRows appends to the same array: compared with its length). */
  private sent: readonly Float32Array[] | undefined;
  private sentCount = 0;
  /** The control block of shared jobs (byte offset; -1: the workers cannot take them, messages only). */
  private ctl = -1;
  private gen = 0;
  /** The shared job in progress (one control block: a second search waits for the first). */
  private job: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly heap: WasmHeap,
    private readonly workers: WasmWorkers,
  ) {}

  get size(): number {
    return this.workers.size;
  }

  /** Whether searches can go through the control block (runShared): every worker has Atomics.waitAsync. */
  get shared(): boolean {
    return this.ctl >= 0 && rerankTuning.dispatch === 'shared';
  }

  /** `threads` workers on `heap`'s shared memory (the threads build). */
  static async start(heap: WasmHeap, threads: number): Promise<RerankWorkers> {
    const r = new RerankWorkers(heap, await WasmWorkers.start(heap, threads, { source: SOURCE, stackBytes: STACK_BYTES, label: 're-rank worker' }));
    const ctl = heap.alloc(CTL.WORDS * 4);
    heap.i32(ctl, CTL.WORDS).fill(0);
    try {
      await Promise.all(Array.from({ length: threads }, (_, t) => r.workers.run(t, { type: 'attach', ctl, slot: t + 1 })));
      r.ctl = ctl;
    } catch {
      // No Atomics.waitAsync in the workers' runtime: searches post one job a worker (runBlocks).
      // The block stays allocated: a worker that did attach must never see its words reused.
    }
    return r;
  }

  /** Hands the row chunks to every worker when they changed since the last time (rows appended); resolves when all have them. */
  async setRows(rows: SharedRowChunks): Promise<void> {
    if (this.sent === rows.chunks && this.sentCount === rows.chunks.length) return;
    this.sent = rows.chunks;
    this.sentCount = rows.chunks.length;
    const chunks = rows.chunks.slice();
    const starts = rows.starts.slice();
    // Acknowledged, so no worker claims a shared block before it holds the rows the block names.
    await Promise.all(Array.from({ length: this.workers.size }, (_, t) => this.workers.run(t, { type: 'rows', chunks, starts })));
  }

  /**
   * Scores queries [0, job.nq) in blocks of job.block, claimed by this thread (slot 0) and the
   * workers (slots 1..size) through the control block; resolves when every block is done. Wakes
   * at most as many workers as there are blocks besides the one this thread takes first. Waits
   * for the last claimed block (at most one block's time after its own last) with Atomics.wait
   * where this thread may block, for up to rerankTuning.blockingMs, then with Atomics.waitAsync,
   * so a worker that stopped holding a block fails the search (DEVICE_LOST) instead of hanging it.
   * Rows as last given to setRows. Resolves to the blocks this thread scored (the workers scored the rest).
   */
  runShared(job: SharedJob, rows: SharedRowChunks): Promise<number> {
    const run = this.job.then(() => this.runSharedNow(job, rows));
    this.job = run.catch(() => undefined);
    return run;
  }

  private async runSharedNow(job: SharedJob, rows: SharedRowChunks): Promise<number> {
    if (this.ctl < 0) throw new TesseraError('UNSUPPORTED', 're-rank workers cannot take shared jobs here (no Atomics.waitAsync)');
    const lost = this.workers.lost;
    if (lost) throw lost;
    const total = Math.ceil(job.nq / job.block);
    if (total > 0xffff) throw new TesseraError('INVALID_ARGUMENT', `${total} re-rank blocks in one job (at most 65535)`);
    const buffer = this.heap.memory.buffer;
    const c32 = new Int32Array(buffer, this.ctl, CTL.WORDS);
    const c64 = new BigInt64Array(buffer, this.ctl, 1);
    // Fields in CTL order, D to SCORES_STRIDE.
    c32.set([job.d, job.w, job.k, job.metric, job.nq, job.block, job.queries, job.ids, job.pairRow, job.pairQ, job.topD, job.topI, job.rows, job.rowsStride, job.scores, job.scoresStride], CTL.D);
    Atomics.store(c32, CTL.FAILED, 0);
    Atomics.store(c32, CTL.DONE, 0);
    this.gen = (this.gen + 1) | 0;
    // Publishing the claim word makes the fields above visible to whoever claims (seq-cst atomics).
    Atomics.store(c64, 0, (BigInt(this.gen >>> 0) << 32n) | (BigInt(total) << 16n));
    Atomics.store(c32, CTL.GEN, this.gen);
    const caller = rerankTuning.caller;
    const ppt = rerankTuning.pairsPerThread;
    const threads = ppt > 0 ? Math.max(1, Math.ceil((job.nq * job.w) / ppt)) : Infinity;
    const wake = Math.min(this.workers.size, caller ? total - 1 : total, caller ? threads - 1 : threads);
    if (wake > 0) Atomics.notify(c32, CTL.GEN, wake);
    const mine = caller ? claimBlocks(this.heap.exports as unknown as Record<string, any>, buffer, rows.chunks, rows.starts, this.ctl, 0) : 0;
    const blockUntil = performance.now() + rerankTuning.blockingMs;
    for (;;) {
      const done = Atomics.load(c32, CTL.DONE);
      if (done >= total) break;
      if (this.workers.released) throw new TesseraError('INVALID_ARGUMENT', 're-rank workers were released during a search');
      const stopped = this.workers.lost;
      if (stopped) throw stopped;
      if (canBlock !== false && performance.now() < blockUntil) {
        try {
          Atomics.wait(c32, CTL.DONE, done, 20);
          canBlock = true;
          continue;
        } catch {
          canBlock = false;
        }
      }
      // Without blocking: events (a worker's exit) get through between waits. The timer also keeps
      // Node's event loop alive, which a pending Atomics.waitAsync alone may not.
      const waitAsync = (Atomics as unknown as { waitAsync?: (a: Int32Array, i: number, v: number, ms: number) => { async: boolean; value: Promise<unknown> } }).waitAsync;
      const w = waitAsync?.(c32, CTL.DONE, done, 20);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const tick = new Promise((resolve) => (timer = setTimeout(resolve, w?.async ? 20 : 1)));
      await (w?.async ? Promise.race([w.value, tick]) : tick);
      clearTimeout(timer);
    }
    if (Atomics.load(c32, CTL.FAILED) !== 0) throw new TesseraError('INVALID_ARGUMENT', 're-rank worker failed while scoring a block');
    return mine;
  }

  /** Runs jobs[i] on worker i (at most size jobs); resolves when all are done. */
  run(jobs: readonly RerankJob[]): Promise<void> {
    if (jobs.length > this.workers.size) throw new TesseraError('INVALID_ARGUMENT', `${jobs.length} re-rank jobs for ${this.workers.size} workers`);
    return Promise.all(jobs.map((job, t) => this.workers.run(t, { type: 'job', gather: job.gather, args: job.args }))).then(() => undefined);
  }

  /** Runs scoreQueryBlocks(jobs[i]) on worker i over the rows last given to setRows; resolves when all are done. */
  runBlocks(jobs: readonly QueryBlocksJob[]): Promise<void> {
    if (jobs.length > this.workers.size) throw new TesseraError('INVALID_ARGUMENT', `${jobs.length} re-rank jobs for ${this.workers.size} workers`);
    return Promise.all(jobs.map((job, t) => this.workers.run(t, { type: 'blocks', job }))).then(() => undefined);
  }

  get released(): boolean {
    return this.workers.released;
  }

  /** DEVICE_LOST naming a worker that stopped on its own (WasmWorkers.lost), or undefined. */
  get lost(): TesseraError | undefined {
    return this.workers.lost;
  }

  async release(): Promise<void> {
    if (this.workers.released) return;
    await this.workers.release();
    if (this.ctl >= 0) this.heap.release(this.ctl);
    this.ctl = -1;
  }
}
