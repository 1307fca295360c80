/** Public exports of tessera (universal entry: browsers, Deno, and Node through src/node.ts). */
import './gpu/register.js';
import './wasm/register.js';
import { orderCalls } from './core/call-order.js';
import { shardedIndex as makeShardedIndex } from './wasm/shards.js';
export { TesseraError, isTesseraError, formatBytes } from './core/errors.js';
export type { ErrorCode } from './core/errors.js';
export type {
  Backend,
  BackendChoice,
  ByteSink,
  ByteSource,
  Index,
  Metric,
  ProgressCallback,
  ProgressEvent,
  SearchOptions,
  SearchResult,
} from './core/types.js';
export { indexFactory, parseFactoryString, registerIndexType } from './core/factory.js';
export type { IndexOptions, IndexSpec, IndexKind, IndexConstructor, IndexLoader } from './core/factory.js';
export { mergeResults } from './core/topk.js';
export { installPlatform } from './platform.js';
export type { PlatformHooks, FileSystemHooks, SourceInput } from './platform.js';
export type { TextEncoder, TextPrefix } from './encoder/types.js';
export { readIndex, writeIndex, inspectIndex } from './io/read-index.js';
export type { IndexFileInfo } from './io/read-index.js';
export { readVectors, writeVectors, inspectVectors, streamVectors, vectorFormatOf } from './io/vectors-lazy.js';
export type { VectorFileFormat, VectorFileLayout, VectorFileOptions } from './io/vectors.js';
export { readFlatLayout, streamFlatRows, writeFlatIndex } from './io/faiss/flat.js';
export type { FlatLayout, RowChunk, RowsInput, StreamRowsOptions } from './io/faiss/flat.js';
export { memorySource, memorySink, blobSource } from './io/byte-reader.js';
export type { BlobLike, MemorySink } from './io/byte-reader.js';
export { urlSource } from './io/url-source.js';
export type { UrlSource, UrlSourceOptions } from './io/url-source.js';
export * from './encoder/index.js';
export { GpuFlatIndex } from './gpu/flat-index.js';
export type { GpuFlatOptions } from './gpu/flat-index.js';
export type { FlatPlan } from './core/planner.js';
export { TensorInt8Flat } from './gpu/tensor/tensor-flat.js';
export type { TensorFlatOptions } from './gpu/tensor/tensor-flat.js';
export { WasmHnswIndex } from './wasm/hnsw-index.js';
export type { HnswIndexOptions } from './wasm/hnsw-index.js';
export type { HnswGraph } from './io/faiss/hnsw.js';
export { planShards, formatShardPlan } from './wasm/shards.js';
/** wasm/shards.ts's builder, its calls ordered as the factory's indexes are (core/call-order.ts). */
export const shardedIndex: typeof makeShardedIndex = (...args) => orderCalls(makeShardedIndex(...args));
export type { ShardPlan, ShardOptions, ShardedIndex } from './wasm/shards.js';
