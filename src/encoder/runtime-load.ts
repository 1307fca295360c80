/**
 * Loads the ONNX Runtime that runs a model (runtime.ts says which). Only Encoder.fromDirectory calls
 * it, from the chunk a page downloads at its first use (src/on-demand.ts).
 */
import { TesseraError } from '../core/errors.js';
import { lazyChunk } from '../core/lazy.js';
import { platform } from '../platform.js';
import { workersSupported } from '../wasm/worker-pool.js';
import { type ExecutionProvider, type ExecutionProviderChoice, nativeRuntimeHooks, type OrtModule } from './runtime.js';

export interface RuntimeChoice {
  ort: OrtModule;
  provider: ExecutionProvider;
  threads: number;
}

// A page's bundler makes each a chunk of its own: one whose download failed is imported again at
// the next fromDirectory (core/lazy.ts), not kept as a rejection that failed every later one.
const ORT_FIX = 'it is a dependency of tessera: in Node install it (npm install); a page serves the chunks its bundler wrote for it';
const webOrt = lazyChunk('ONNX Runtime (onnxruntime-web)', () => import('onnxruntime-web') as Promise<OrtModule>, ORT_FIX);
const webGpuOrt = lazyChunk('ONNX Runtime for WebGPU (onnxruntime-web/webgpu)', () => import('onnxruntime-web/webgpu') as Promise<OrtModule>, ORT_FIX);
/** Threads each onnxruntime-web module was set up with (the WASM and WebGPU builds are separate modules). */
const configured = new WeakMap<OrtModule['env'], number>();

function defaultCores(): number {
  const fromHook = nativeRuntimeHooks()?.cores?.();
  if (fromHook) return fromHook;
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  return nav?.hardwareConcurrency ?? 1;
}

/** Loads the runtime for `choice`; `threads` applies to WASM (set once per process: the first session fixes it). */
export async function loadRuntime(choice: ExecutionProviderChoice, threads?: number): Promise<RuntimeChoice> {
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1)) {
    throw new TesseraError('INVALID_ARGUMENT', `threads must be a positive integer, got ${threads}`);
  }
  const want = threads ?? defaultCores();
  if (choice === 'native' || choice === 'auto') {
    const native = await nativeRuntimeHooks()?.loadNative();
    if (native) return { ort: native, provider: 'native', threads: want };
    if (choice === 'native') {
      throw new TesseraError(
        'UNSUPPORTED',
        'execution provider "native" needs onnxruntime-node: install it (npm install onnxruntime-node) or use "wasm" (CLI: --encoder wasm)',
      );
    }
  }
  if (choice !== 'auto' && choice !== 'wasm' && choice !== 'webgpu') {
    throw new TesseraError('INVALID_ARGUMENT', `execution provider must be auto, wasm, webgpu or native, got ${JSON.stringify(choice)}`);
  }
  const provider: ExecutionProvider = choice === 'webgpu' ? 'webgpu' : 'wasm';
  const ort = await (provider === 'webgpu' ? webGpuOrt() : webOrt());
  if (!configured.has(ort.env)) {
    // onnxruntime-web reads these once, at its first session. Its threads are workers: where none may
    // start (Node's permission model without --allow-worker) it failed to load any model, so one.
    ort.env.wasm.numThreads = workersSupported() ? want : 1;
    const dir = nativeRuntimeHooks()?.wasmDir?.();
    if (dir) ort.env.wasm.wasmPaths = dir;
    if (provider === 'webgpu') {
      const binary = await nativeRuntimeHooks()?.wasmBinary?.('ort-wasm-simd-threaded.asyncify.wasm');
      if (binary) {
        ort.env.wasm.wasmBinary = binary;
        // Its worker threads would fetch the glue script by URL too; the GPU does the work, so one thread.
        ort.env.wasm.numThreads = 1;
      }
    }
    configured.set(ort.env, ort.env.wasm.numThreads ?? want);
  }
  if (provider === 'webgpu') await provideNavigatorGpu();
  return { ort, provider, threads: configured.get(ort.env)! };
}

/**
 * onnxruntime-web's WebGPU provider looks for navigator.gpu. In Node, give it Dawn's GPU, with
 * writeBuffer copying views of SharedArrayBuffer memory (threaded WASM heaps) into a plain buffer
 * first: Dawn rejects shared memory.
 */
async function provideNavigatorGpu(): Promise<void> {
  const g = globalThis as { navigator?: { gpu?: GPU } };
  if (g.navigator?.gpu) return;
  const gpu = await platform().loadGpu?.();
  if (!gpu) {
    throw new TesseraError('GPU_UNAVAILABLE', 'execution provider "webgpu" needs WebGPU: none here (install the optional "webgpu" package in Node, or use "wasm")');
  }
  const requestAdapter = gpu.requestAdapter.bind(gpu);
  const wrapped = {
    wgslLanguageFeatures: gpu.wgslLanguageFeatures,
    getPreferredCanvasFormat: () => 'rgba8unorm',
    async requestAdapter(opts?: GPURequestAdapterOptions) {
      const a = await requestAdapter(opts);
      if (a) {
        const requestDevice = a.requestDevice.bind(a);
        (a as { requestDevice: unknown }).requestDevice = async (d?: GPUDeviceDescriptor) => patchQueue(await requestDevice(d));
      }
      return a;
    },
  };
  if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
  Object.defineProperty(g.navigator!, 'gpu', { value: wrapped, configurable: true });
}

function patchQueue(device: GPUDevice): GPUDevice {
  const queue = device.queue;
  const write = queue.writeBuffer.bind(queue);
  (queue as { writeBuffer: unknown }).writeBuffer = (buffer: GPUBuffer, offset: number, data: BufferSource, dataOffset?: number, size?: number) => {
    const view = ArrayBuffer.isView(data) ? data : new Uint8Array(data);
    if (typeof SharedArrayBuffer !== 'undefined' && view.buffer instanceof SharedArrayBuffer) {
      const el = 'BYTES_PER_ELEMENT' in view ? (view as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT : 1;
      const start = view.byteOffset + (dataOffset ?? 0) * el;
      const len = size !== undefined ? size * el : view.byteLength - (dataOffset ?? 0) * el;
      const copy = new Uint8Array(len);
      copy.set(new Uint8Array(view.buffer, start, len));
      return write(buffer, offset, copy);
    }
    return write(buffer, offset, data, dataOffset, size);
  };
  return device;
}
