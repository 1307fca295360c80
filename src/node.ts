/** Node entry: everything of the universal entry, plus file paths and Dawn as the WebGPU provider. */
import { nodeFileSystem } from './io/node-fs.js';
import { loadDawnGpu, probeDawnAdapter } from './gpu/dawn.js';
import { availableParallelism } from 'node:os';
import { installPlatform } from './platform.js';

installPlatform({ fs: nodeFileSystem, loadGpu: loadDawnGpu, probeAdapter: probeDawnAdapter, cpuCount: availableParallelism });

export * from './index.js';
export { openFileSource, openAtomicFileSink } from './io/node-fs.js';
export type { RandomAccessSource } from './io/row-source.js';
export { loadOnnxRuntimeNode } from './encoder/node-runtime.js';
