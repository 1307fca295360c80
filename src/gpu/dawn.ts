/** Loads Dawn's Node binding (npm `webgpu`) lazily: only the Node entry references this module. */
import { TesseraError } from '../core/errors.js';

/**
 * One Dawn instance per set of flags, kept for the life of the process: a collected instance takes
 * its devices down with it (a native crash), and instances are not cheap to make.
 */
const instances = new Map<string, GPU>();

export async function loadDawnGpu(dawnFlags: readonly string[] = []): Promise<GPU | undefined> {
  const key = dawnFlags.join('\n');
  const have = instances.get(key);
  if (have) return have;
  let dawn: { create(flags: string[]): GPU };
  try {
    dawn = (await import('webgpu')) as unknown as { create(flags: string[]): GPU };
  } catch (e) {
    // Dawn is an optional dependency: without it Node has no WebGPU and the WASM backend serves.
    if ((e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND') return undefined;
    throw new TesseraError('GPU_UNAVAILABLE', `Dawn's webgpu package failed to load: ${(e as Error).message}`, { cause: e });
  }
  const gpu = dawn.create([...dawnFlags]);
  instances.set(key, gpu);
  return gpu;
}
