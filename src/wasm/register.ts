/** Registers the WASM index types with the factory: Flat and HNSW (IVF/SQ register in their own modules). */
import { registerIndexType } from '../core/factory.js';
import type { FlatLayout } from '../io/faiss/flat.js';
import type { HnswLayout } from '../io/faiss/hnsw.js';
import { WasmFlatIndex } from './flat-index.js';
import { WasmHnswIndex } from './hnsw-index.js';

registerIndexType('wasm', 'flat', {
  create: (d, _spec, metric, opts) => WasmFlatIndex.create(d, metric, opts),
  // a file larger than one WebAssembly memory loads as shards (shards.ts, imported lazily)
  load: async (source, opts, structure) => (await import('./shards.js')).loadFlatAuto(source, opts, structure as FlatLayout | undefined),
});
registerIndexType('wasm', 'hnsw', {
  // "HNSW32" and "HNSW32,Flat" both parse to { kind: 'hnsw', M: 32 }
  create: (d, spec, metric, opts) => WasmHnswIndex.create(d, spec.kind === 'hnsw' ? spec.M : 32, metric, opts),
  // a file larger than one WebAssembly memory is rebuilt as shards (shards.ts, imported lazily)
  load: async (source, opts, structure) => (await import('./shards.js')).loadHnswAuto(source, opts, structure as HnswLayout | undefined),
});
import './sq-index.js';
import './ivf-index.js';
