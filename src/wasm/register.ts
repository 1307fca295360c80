/** Registers the WASM index types with the factory: Flat and HNSW (IVF/SQ register in their own modules). */
import { registerIndexType } from '../core/factory.js';
import { WasmFlatIndex, loadFlat } from './flat-index.js';

registerIndexType('wasm', 'flat', {
  create: (d, _spec, metric, opts) => WasmFlatIndex.create(d, metric, opts),
  load: loadFlat,
});
import './sq-index.js';
import './ivf-index.js';
