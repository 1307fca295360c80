import { type ErrorCode, TesseraError } from './errors.js';

/**
 * The fix for tessera's own chunks: its build writes them beside the entry (dist/*.js), and a page's
 * bundler writes them again beside the page's script under names of its own (vite: assets/*.js),
 * where a site that copied only the entry lacks them. The failed URL is in the message before this.
 */
export const SERVE_CHUNKS = "serve every chunk file beside the script that imports it (tessera's dist/*.js; in a bundled page all of the bundler's output, e.g. vite's assets/*.js)";

/**
 * Code a search-only page never runs (vector files, loading a model: src/on-demand.ts), behind
 * import() so that a browser downloads it at its first use rather than at load (the bundle budget,
 * BENCHMARKS.md section bundle). `load` runs once; a failed load fails naming `what` and `fix` (as
 * `code`: NOT_FOUND, or GPU_UNAVAILABLE for GPU code, which backend 'auto' then leaves for WASM), and
 * is not kept: the next call runs `load` again. Whether that import fetches again is the runtime's
 * (the import specifier is fixed at build time, so no query can make it a new request): browsers
 * that follow whatwg/html#10327 do (Chromium 156, measured), and Node when the chunk file itself
 * was missing; Deno (2.9, measured), older browsers and Node for a chunk whose own imports failed
 * remember the failure until a reload or restart, and a chunk that fails to parse or run stays
 * failed everywhere.
 */
export function lazyChunk<T>(what: string, load: () => Promise<T>, fix = SERVE_CHUNKS, code: ErrorCode = 'NOT_FOUND'): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () =>
    (pending ??= load().catch((e: unknown) => {
      pending = undefined;
      throw new TesseraError(
        code,
        `loading ${what} failed: ${(e as Error)?.message ?? String(e)}; ${fix}, then call again (a runtime that remembers a failed import, as Deno and older browsers do, loads it only after a reload or restart)`,
        { cause: e },
      );
    }));
}
