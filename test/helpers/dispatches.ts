/**
 * The compute dispatches a device encodes, by the label of the pipeline each one runs: a test can
 * then tell how many dispatches a search took and of which kernels (e.g. tiles grouped into one).
 */
export interface DispatchLog {
  /** The pipeline label of each dispatch, in encoding order (clear it between searches). */
  labels: string[];
  /** Puts the device's createCommandEncoder back. */
  restore: () => void;
}

export function countDispatches(device: GPUDevice): DispatchLog {
  const labels: string[] = [];
  const own = Object.prototype.hasOwnProperty.call(device, 'createCommandEncoder');
  const real = device.createCommandEncoder;
  const create = real.bind(device);
  Object.defineProperty(device, 'createCommandEncoder', {
    configurable: true,
    writable: true,
    value: (desc?: GPUCommandEncoderDescriptor) => {
      const enc = create(desc);
      const begin = enc.beginComputePass.bind(enc);
      enc.beginComputePass = (passDesc?: GPUComputePassDescriptor) => {
        const pass = begin(passDesc);
        const setPipeline = pass.setPipeline.bind(pass);
        const dispatch = pass.dispatchWorkgroups.bind(pass);
        let label = '';
        pass.setPipeline = (p: GPUComputePipeline) => {
          label = p.label;
          setPipeline(p);
        };
        pass.dispatchWorkgroups = (x: number, y?: number, z?: number) => {
          labels.push(label);
          dispatch(x, y, z);
        };
        return pass;
      };
      return enc;
    },
  });
  return {
    labels,
    restore: () => {
      if (own) Object.defineProperty(device, 'createCommandEncoder', { configurable: true, writable: true, value: real });
      else delete (device as { createCommandEncoder?: unknown }).createCommandEncoder;
    },
  };
}
