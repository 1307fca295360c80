/**
 * Code a page that only searches never runs, in one chunk that bundlers load at its first use
 * (core/lazy.ts): vector files (io/vectors-lazy.ts) and loading a model folder (Encoder.fromDirectory:
 * encoder/encoder-load.ts, runtime-load.ts), the GPU synthetic-row generator (benchmarks). One chunk for all such code, not one each: every
 * chunk loaded on demand splits the code it shares with the entry into more files, and more files
 * cost more at load, gzipped one by one (BENCHMARKS.md, section bundle).
 */
export { inspectVectors, readVectors, streamVectors, writeVectors } from './io/vectors.js';
export { openEncoder } from './encoder/encoder-load.js';
export { default as fillRandomWgsl } from '../shaders/fill_random.wgsl';
