import { TesseraError } from './errors.js';

/**
 * Code a search-only page never runs (vector files, loading a model: src/on-demand.ts), behind
 * import() so that a browser downloads it at its first use rather than at load (the bundle budget,
 * BENCHMARKS.md section bundle). `load` runs once; a failed load (a page's chunk request may fail
 * once) is tried again at the next call, and fails naming what it was for and the fix.
 */
export function lazyChunk<T>(what: string, load: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () =>
    (pending ??= load().catch((e: unknown) => {
      pending = undefined;
      throw new TesseraError(
        'NOT_FOUND',
        `loading tessera's code for ${what} failed: ${(e as Error)?.message ?? String(e)}; serve all of tessera's chunk files (dist/*.js) beside its entry`,
        { cause: e },
      );
    }));
}
