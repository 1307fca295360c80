/**
 * Registers the WASM index types with the factory. A file larger than one WebAssembly memory loads
 * as shards (shards.ts). shards.ts is imported statically: it is in every bundle anyway (index.ts
 * exports shardedIndex), and a dynamic import() of it downloaded nothing later but made bundlers
 * split the WASM code into one more file (BENCHMARKS.md, section bundle).
 */
import { registerIndexType } from '../core/factory.js';
import { WasmFlatIndex } from './flat-index.js';
import { WasmHnswIndex } from './hnsw-index.js';
import { createIvfIndex } from './ivf-index.js';
import { loadFlatAuto, loadHnswAuto, loadIvfAuto, loadSqAuto } from './shards.js';
import { createSqIndex } from './sq-index.js';

registerIndexType('wasm', 'flat', {
  create: (d, _spec, metric, opts) => WasmFlatIndex.create(d, metric, opts),
  load: (source, opts, structure) => loadFlatAuto(source, opts, structure as Parameters<typeof loadFlatAuto>[2]),
});
registerIndexType('wasm', 'hnsw', {
  // "HNSW32" and "HNSW32,Flat" both parse to { kind: 'hnsw', M: 32 }
  create: (d, spec, metric, opts) => WasmHnswIndex.create(d, spec.kind === 'hnsw' ? spec.M : 32, metric, opts),
  load: (source, opts, structure) => loadHnswAuto(source, opts, structure as Parameters<typeof loadHnswAuto>[2]),
});
registerIndexType('wasm', 'sq', { create: createSqIndex, load: (source, opts, structure) => loadSqAuto(source, opts, structure as Parameters<typeof loadSqAuto>[2]) });
registerIndexType('wasm', 'ivf', { create: createIvfIndex, load: (source, opts, structure) => loadIvfAuto(source, opts, structure as Parameters<typeof loadIvfAuto>[2]) });
