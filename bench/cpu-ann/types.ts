/**
 * Shared shapes of the CPU ANN benchmark (bench/cpu-ann). One row per (library, index, d, threads,
 * search parameter). bench/cpu-ann/ivf.ts (owned by the IVF engineer) adds IVF rows: it exports
 * `default async function ivfRows(ctx: BenchContext): Promise<BenchRow[]>`; the harness calls it in a
 * child process of its own, like every library, when the file exists.
 */
export interface BenchRow {
  library: string;
  /** e.g. "HNSW16 efC200", "IVF1024,SQ8". */
  index: string;
  d: number;
  n: number;
  /** Threads used for the search rows (build threads are in `note`). */
  threads: number;
  /** Search knob name and value, e.g. efSearch 32, nprobe 16. */
  param: string;
  value: number;
  recall: number;
  /** Queries per second by wall clock. */
  qps: number;
  /** Queries per second of CPU time (user + system): steadier than wall time on a loaded machine; 1-thread rows only. */
  qpsCpu?: number;
  /** Build (train + add) seconds by wall clock, and CPU seconds. */
  buildS?: number;
  buildCpuS?: number;
  buildThreads?: number;
  /** Resident memory added by the index (MB), or the index's own count where the library reports it. */
  memoryMB?: number;
  note?: string;
}

export interface BenchContext {
  d: number;
  n: number;
  k: number;
  nq: number;
  base: Float32Array;
  queries: Float32Array;
  /** Exact top-k ids, nq x k. */
  truth: Int32Array;
  /** Threads of the "all threads" rows. */
  threadsAll: number;
  recall(labels: ArrayLike<number | bigint>, stride?: number): number;
  /** Times `run` over all queries after a warm-up; returns wall and CPU queries per second. */
  timeSearch(run: () => unknown | Promise<unknown>): Promise<{ qps: number; qpsCpu: number }>;
  /** Resident set size now, MB. */
  rssMB(): number;
}
