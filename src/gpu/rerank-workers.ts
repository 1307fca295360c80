/**
 * Worker threads for the GPU int8 index's host re-rank (src/gpu/flat-index.ts, rerankNow). Each
 * worker instantiates the "threads" build of the module on the re-rank's shared memory. Two kinds of
 * job: with rows kept in memory (SharedArrayBuffer chunks, MemoryRows.sharedChunks), a 'blocks' job
 * re-ranks a range of queries from start to end (scoreQueryBlocks: each query's candidate rows
 * copied into its buffer in candidate order, no sort, scored with rerank_pairs, best k with
 * rerank_topk), so a search is one message per worker; with rows read by the calling thread (file,
 * generator), a 'job' scores a range of (row, query) pairs of a run this thread gathered.
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
  const d = j.d;
  const w = j.w;
  const ids = new Int32Array(buffer, j.ids + j.q0 * w * 4, (j.q1 - j.q0) * w);
  const last = starts.length - 1;
  for (let a = j.q0; a < j.q1; a += j.block) {
    const b = Math.min(j.q1, a + j.block);
    const rows = new Float32Array(buffer, j.rows, (b - a) * w * d);
    const base = (a - j.q0) * w;
    for (let s = 0; s < (b - a) * w; s++) {
      const id = ids[base + s]!;
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
    ex.rerank_pairs(j.rows, d, j.queries + a * d * 4, j.pairRow, j.pairQ, (b - a) * w, j.metric, j.scores);
    ex.rerank_topk(j.scores, j.ids + a * w * 4, b - a, w, j.k, j.metric, j.topD + a * j.k * 4, j.topI + a * j.k * 4);
  }
}

/**
 * The worker's script. 'rows' hands over the row chunks (shared, never copied) and their first ids;
 * a 'blocks' job runs scoreQueryBlocks; a 'job' gathers rows ids[from, to) (ascending; into the
 * buffer at slots from..to) when asked, then calls rerank_pairs with its arguments.
 */
const SOURCE = workerScript(`
let ex = null, memory = null, chunks = [], starts = [];
const scoreQueryBlocks = ${scoreQueryBlocks.toString()};
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

  /** Runs scoreQueryBlocks(jobs[i]) on worker i over the rows last given to setRows; resolves when all are done. */
  runBlocks(jobs: readonly QueryBlocksJob[]): Promise<void> {
    if (jobs.length > this.workers.size) throw new TesseraError('INVALID_ARGUMENT', `${jobs.length} re-rank jobs for ${this.workers.size} workers`);
    return Promise.all(jobs.map((job, t) => this.workers.run(t, { type: 'blocks', job }))).then(() => undefined);
  }

  get released(): boolean {
    return this.workers.released;
  }

  release(): Promise<void> {
    return this.workers.release();
  }
}
