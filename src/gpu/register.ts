/** Registers the GPU flat index with the factory and readIndex. */
import { registerIndexType } from '../core/factory.js';
import type { FlatLayout } from '../io/faiss/flat.js';
import { checkGpuObjects, gpuAvailable, gpuUnavailableReason, softwareAdapterNote } from './device.js';
import { createGpuFlat, GpuFlatIndex } from './flat-index.js';

registerIndexType('gpu', 'flat', {
  create: createGpuFlat,
  available: (opts) => {
    checkGpuObjects(opts);
    // onNotice: the probe's wait and give-up lines are the caller's to route, as its other notices.
    return gpuAvailable(opts.gpu ?? opts.gpus?.[0], { onNotice: opts.onNotice });
  },
  unavailableWhy: (opts) => gpuUnavailableReason(opts.gpu ?? opts.gpus?.[0], { onNotice: opts.onNotice }),
  autoSkip: (opts) => softwareAdapterNote(opts),
  load: (source, opts, structure) => GpuFlatIndex.load(source, opts, structure as FlatLayout | undefined),
});
