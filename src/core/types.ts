/** The Index contract of tessera: FAISS semantics (row-major flat arrays, -1 padding), TypeScript manners. */

export type Metric = 'ip' | 'l2';
export type Backend = 'gpu' | 'wasm';
export type BackendChoice = Backend | 'auto';

/**
 * Search output for nq queries and k neighbours, row-major (nq x k), best first.
 * `ip`: larger is better (inner products); `l2`: smaller is better (squared L2, as FAISS IndexFlatL2).
 * Missing results (k > ntotal) are padded with label -1n and distance -Infinity (ip) or +Infinity (l2).
 * Ties in distance are ordered by the lower label first.
 */
export interface SearchResult {
  readonly nq: number;
  readonly k: number;
  readonly distances: Float32Array;
  readonly labels: BigInt64Array;
}

/** Per-call knobs, as FAISS passes them per search. Indexes ignore knobs that do not apply to them. */
export interface SearchOptions {
  /** HNSW: size of the dynamic candidate list (FAISS `efSearch`). */
  efSearch?: number;
  /** IVF: number of inverted lists visited (FAISS `nprobe`). */
  nprobe?: number;
  /**
   * Aborts a search: it rejects with `signal.reason` (an AbortError), as fetch does; on the GPU as
   * soon as the signal aborts, on WASM between batches of queries (with a signal, batches of tens
   * of milliseconds of work, on the calling thread and on workers); a search still waiting for an
   * add or train issued before it (core/call-order.ts) at once, without running. The index stays
   * usable.
   */
  signal?: AbortSignal;
}

/** A destination for index bytes: `save` streams through it so no buffer the size of the index is made. */
export interface ByteSink {
  write(chunk: Uint8Array): Promise<void>;
  close(): Promise<void>;
}

export interface Index {
  /** Vector dimension. */
  readonly d: number;
  /** Number of vectors added; ids are 0..ntotal-1 in add order. */
  readonly ntotal: number;
  readonly metric: Metric;
  /** False for IVF/SQ indexes until `train` ran; always true for Flat and HNSW. */
  readonly isTrained: boolean;
  /** Where the search runs. */
  readonly backend: Backend;
  /** FAISS factory string this index was made from, e.g. "Flat", "HNSW32", "IVF4096,SQ8". */
  readonly description: string;
  /** IVF: lists a search visits when it passes no `nprobe`, set as FAISS's `index.nprobe = 32` is; absent on other types. */
  nprobe?: number;
  /** HNSW: the beam of a search that passes no `efSearch`, set as FAISS's is; absent on other types. */
  efSearch?: number;

  /** x: n x d row-major. IVF/SQ learn their parameters; other indexes do nothing. */
  train(x: Float32Array): Promise<void>;
  /**
   * x: n x d row-major, appended with ids ntotal..ntotal+n-1. x is read until the promise settles
   * (a large add pauses between pieces, letting other code run): keep it unchanged until then.
   */
  add(x: Float32Array): Promise<void>;
  /** q: nq x d row-major; returns nq x k results (see SearchResult). */
  search(q: Float32Array, k: number, opts?: SearchOptions): Promise<SearchResult>;
  /** Writes FAISS-compatible bytes to a file path (Node/Deno) or a sink. Atomic for paths. */
  save(target: string | ByteSink): Promise<void>;
  /** Frees GPU buffers, WASM memory and workers; the index is unusable afterwards. Idempotent. */
  dispose(): Promise<void>;
}

/** Progress of long work (load, build, encode): callers render it (CLI: a progress bar). */
export interface ProgressEvent {
  /** What is happening, e.g. "loading index", "encoding passages". */
  readonly phase: string;
  readonly done: number;
  /** Total units when known. */
  readonly total?: number;
  /** Unit of done/total, e.g. "bytes", "rows", "vectors". */
  readonly unit: string;
}
export type ProgressCallback = (event: ProgressEvent) => void;

/** Random-access bytes (a file in Node/Deno, a Blob or ArrayBuffer in browsers): readers never need the whole. */
export interface ByteSource {
  readonly size: number;
  /** Reads exactly `length` bytes at `offset`, or fewer only at the end of the source. */
  read(offset: number, length: number): Promise<Uint8Array>;
  close(): Promise<void>;
}
