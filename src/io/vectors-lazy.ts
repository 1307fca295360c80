/**
 * The library's vector-file functions (src/index.ts). Reading and writing .npy, .fvecs and .f32 files
 * is for tools and offline builds, not for a page that searches, so io/vectors.ts is in the chunk
 * of src/on-demand.ts, downloaded at the first call of one of these (BENCHMARKS.md, section bundle).
 * Each is async as before; vectorFormatOf stays synchronous. The CLI imports io/vectors.ts directly.
 */
import type { ByteSink, ByteSource } from '../core/types.js';
import { lazyChunk } from '../core/lazy.js';
import type { RowChunk, StreamRowsOptions } from './faiss/flat.js';
import type { VectorFileFormat, VectorFileLayout, VectorFileOptions } from './vectors.js';

export { vectorFormatOf } from './vector-format.js';

const vectors = lazyChunk("tessera's code for vector files (readVectors, writeVectors, inspectVectors, streamVectors)", () => import('../on-demand.js'));

/** Reads the header of a vector file and checks its size; no rows are read. */
export async function inspectVectors(source: ByteSource, opts?: VectorFileOptions): Promise<VectorFileLayout> {
  return (await vectors()).inspectVectors(source, opts);
}

/** Streams rows [firstRow, firstRow + rowCount) in chunks of at most opts.chunkBytes (default 16 MiB). */
export async function* streamVectors(source: ByteSource, layout: VectorFileLayout, opts?: StreamRowsOptions): AsyncGenerator<RowChunk> {
  yield* (await vectors()).streamVectors(source, layout, opts);
}

/** Reads a whole vector file (queries, small sets): n x d row-major float32. */
export async function readVectors(target: string | ByteSource, opts?: VectorFileOptions): Promise<{ data: Float32Array; n: number; d: number; format: VectorFileFormat }> {
  return (await vectors()).readVectors(target, opts);
}

/** Writes n x d float32 rows as .npy (v1.0), .fvecs or raw .f32; a path is written atomically. */
export async function writeVectors(target: string | ByteSink, data: Float32Array, d: number, format?: VectorFileFormat): Promise<void> {
  return (await vectors()).writeVectors(target, data, d, format);
}
