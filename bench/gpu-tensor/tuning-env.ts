/**
 * Sets the GpuFlatIndex tensor scorer's tuning from the TENSOR_TUNING environment variable (JSON,
 * e.g. '{"select":"mask","prefetch":true}'); imported first by index-21m.ts so that
 * bench/gpu-int8/run.ts reads these values as its defaults.
 */
import { tensorTuning } from '../../src/gpu/tensor/hook.js';

const text = process.env.TENSOR_TUNING;
if (text) Object.assign(tensorTuning, JSON.parse(text) as Partial<typeof tensorTuning>);
console.error(`tensor tuning: ${JSON.stringify(tensorTuning)}`);
