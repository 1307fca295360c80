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
import { WasmWorkers, workerScript } from '../wasm/worker-pool.js';

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
  /** The chunk list each worker holds (MemoryRows appends to the same array: compared with its length). */
  private sent: readonly Float32Array[] | undefined;
  private sentCount = 0;

  private constructor(private readonly workers: WasmWorkers) {}

  get size(): number {
    return this.workers.size;
  }

  /** `threads` workers on `heap`'s shared memory (the threads build). */
  static async start(heap: WasmHeap, threads: number): Promise<RerankWorkers> {
    return new RerankWorkers(await WasmWorkers.start(heap, threads, { source: SOURCE, stackBytes: STACK_BYTES, label: 're-rank worker' }));
  }

  /** Hands the row chunks to every worker when they changed since the last time (rows appended). */
  setRows(rows: SharedRowChunks): void {
    if (this.sent === rows.chunks && this.sentCount === rows.chunks.length) return;
    this.sent = rows.chunks;
    this.sentCount = rows.chunks.length;
    this.workers.broadcast({ type: 'rows', chunks: rows.chunks.slice(), starts: rows.starts.slice() });
  }

  /** Runs jobs[i] on worker i (at most size jobs); resolves when all are done. */
  run(jobs: readonly RerankJob[]): Promise<void> {
    if (jobs.length > this.workers.size) throw new TesseraError('INVALID_ARGUMENT', `${jobs.length} re-rank jobs for ${this.workers.size} workers`);
    return Promise.all(jobs.map((job, t) => this.workers.run(t, { type: 'job', gather: job.gather, args: job.args }))).then(() => undefined);
  }

  get released(): boolean {
    return this.workers.released;
  }

  release(): Promise<void> {
    return this.workers.release();
  }
}
