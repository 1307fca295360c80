/**
 * Which ONNX Runtime runs the model: onnxruntime-web (WASM with SIMD and threads; its WebGPU provider
 * where a GPU exists) everywhere, or onnxruntime-node where the Node entry found it installed (optional,
 * faster native CPU path). Browsers never import onnxruntime-node: only src/encoder/node-runtime.ts,
 * reached from src/node.ts, knows its name. Loading a runtime (runtime-load.ts) is in the chunk that
 * Encoder.fromDirectory loads on demand (src/on-demand.ts).
 */
import type * as Ort from 'onnxruntime-web';

export type OrtModule = typeof Ort;
export type ExecutionProvider = 'wasm' | 'webgpu' | 'native';
/** 'auto': onnxruntime-node when installed (Node), else WASM. */
export type ExecutionProviderChoice = ExecutionProvider | 'auto';

export interface NativeRuntimeHooks {
  /** onnxruntime-node, or undefined when it is not installed. */
  loadNative(): Promise<OrtModule | undefined>;
  /** Directory URL of onnxruntime-web's dist/ (its .wasm files), so nothing is fetched from elsewhere. */
  wasmDir?(): string | undefined;
  /** CPU cores the runtime offers. */
  cores?(): number;
  /**
   * Bytes of one of onnxruntime-web's .wasm files. Its WebGPU build is a browser bundle that fetches
   * its .wasm, and Node's fetch cannot read file: URLs, so Node hands the bytes over instead.
   */
  wasmBinary?(file: string): Promise<Uint8Array | undefined>;
}

let nativeHooks: NativeRuntimeHooks | undefined;

/** Installed by the Node entry (src/encoder/node-runtime.ts). */
export function installNativeRuntime(hooks: NativeRuntimeHooks): void {
  nativeHooks = hooks;
}

/** The hooks installNativeRuntime set, if any. */
export function nativeRuntimeHooks(): NativeRuntimeHooks | undefined {
  return nativeHooks;
}
