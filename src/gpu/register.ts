/** Registers the GPU flat index with the factory and readIndex. */
import { registerIndexType } from '../core/factory.js';
import type { FlatLayout } from '../io/faiss/flat.js';
import { checkGpuObjects, gpuAvailable, gpuUnavailableReason, softwareAdapterNote } from './device.js';
import { createGpuFlat, GpuFlatIndex } from './flat-index.js';

registerIndexType('gpu', 'flat', {
  create: createGpuFlat,
  available: (opts) => {
    checkGpuObjects(opts);
    return gpuAvailable(opts.gpu ?? opts.gpus?.[0]);
  },
  unavailableWhy: (opts) => gpuUnavailableReason(opts.gpu ?? opts.gpus?.[0]),
  autoSkip: (opts) => softwareAdapterNote(opts),
  load: (source, opts, structure) => GpuFlatIndex.load(source, opts, structure as FlatLayout | undefined),
});
