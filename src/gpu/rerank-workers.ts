/**
 * Worker threads for the GPU int8 index's host re-rank (src/gpu/flat-index.ts, rerankNow). Each
 * worker instantiates the "threads" build of the module on the re-rank's shared memory. A job scores
 * a range of (row, query) pairs with rerank_pairs; where the float32 rows are kept in
 * SharedArrayBuffer chunks (MemoryRows.sharedChunks), the job first copies its own range of
 * candidate rows from them into the memory, so the gather (the larger part of the re-rank: random
 * 4d-byte reads) runs on every worker instead of the calling thread alone.
 */
import { TesseraError } from '../core/errors.js';
import type { WasmHeap } from '../wasm/module.js';
import { startWorker, type WorkerLike, workerScript } from '../wasm/worker-pool.js';

/** Shadow stack per worker (rerank_pairs keeps nothing on it). */
const STACK_BYTES = 64 << 10;

/**
 * The worker's script. 'rows' hands over the row chunks (shared, never copied) and their first ids;
 * a job gathers rows ids[from, to) (ascending; into the buffer at slots from..to) when asked, then
 * calls rerank_pairs with its arguments.
 */
const SOURCE = workerScript(`
let ex = null, memory = null, chunks = [], starts = [];
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
  if (m.type === 'rows') { chunks = m.chunks; starts = m.starts; return; }
  try {
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

export class RerankWorkers {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  /** The chunk list each worker holds (MemoryRows appends to the same array: compared with its length). */
  private sent: readonly Float32Array[] | undefined;
  private sentCount = 0;
  private released = false;
  /** Jobs in flight per worker: a worker keeps Node alive only while it has some. */
  private readonly busy: number[];

  private constructor(
    private readonly heap: WasmHeap,
    private readonly workers: WorkerLike[],
    private readonly stacks: number[],
  ) {
    this.busy = workers.map(() => 0);
    workers.forEach((w, t) => {
      w.onMessage((m) => {
        if (m.type !== 'done') return;
        const p = this.pending.get(m.id);
        if (!p) return;
        this.pending.delete(m.id);
        if (--this.busy[t]! === 0) w.hold?.(false);
        if (m.error) p.reject(new TesseraError('INVALID_ARGUMENT', `re-rank worker failed: ${m.error}`));
        else p.resolve();
      });
      w.hold?.(false); // idle: an index left undisposed must not keep the process alive
    });
  }

  get size(): number {
    return this.workers.length;
  }

  /** `threads` workers on `heap`'s shared memory (the threads build). */
  static async start(heap: WasmHeap, threads: number): Promise<RerankWorkers> {
    if (!heap.shared) throw new TesseraError('UNSUPPORTED', 're-rank workers need the shared-memory build of the module');
    const workers: WorkerLike[] = [];
    const stacks: number[] = [];
    try {
      for (let t = 0; t < threads; t++) {
        const w = await startWorker(SOURCE);
        workers.push(w);
        const stack = heap.alloc(STACK_BYTES);
        stacks.push(stack);
        await new Promise<void>((resolve, reject) => {
          w.onMessage((m) => {
            if (m.type === 'ready') resolve();
            else if (m.type === 'error') reject(new TesseraError('UNSUPPORTED', `re-rank worker did not start: ${m.message}`));
          });
          w.post({ type: 'init', module: heap.module, memory: heap.memory, stackTop: stack + STACK_BYTES });
        });
      }
    } catch (e) {
      await Promise.all(workers.map((w) => w.terminate()));
      for (const s of stacks) heap.release(s);
      throw e;
    }
    return new RerankWorkers(heap, workers, stacks);
  }

  /** Hands the row chunks to every worker when they changed since the last time (rows appended). */
  setRows(rows: SharedRowChunks): void {
    if (this.sent === rows.chunks && this.sentCount === rows.chunks.length) return;
    this.sent = rows.chunks;
    this.sentCount = rows.chunks.length;
    for (const w of this.workers) w.post({ type: 'rows', chunks: rows.chunks.slice(), starts: rows.starts.slice() });
  }

  /** Runs jobs[i] on worker i (at most size jobs); resolves when all are done. */
  run(jobs: readonly RerankJob[]): Promise<void> {
    if (jobs.length > this.workers.length) throw new TesseraError('INVALID_ARGUMENT', `${jobs.length} re-rank jobs for ${this.workers.length} workers`);
    return Promise.all(
      jobs.map(
        (job, t) =>
          new Promise<void>((resolve, reject) => {
            const id = this.nextId++;
            this.pending.set(id, { resolve, reject });
            if (this.busy[t]!++ === 0) this.workers[t]!.hold?.(true);
            this.workers[t]!.post({ type: 'job', id, gather: job.gather, args: job.args });
          }),
      ),
    ).then(() => undefined);
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
    for (const s of this.stacks) this.heap.release(s);
  }
}
