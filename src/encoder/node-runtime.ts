/**
 * Node side of the encoder runtime: onnxruntime-node when installed (optional, never required), the
 * local onnxruntime-web dist/ for its .wasm files, and the core count. Reached only from src/node.ts.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { installNativeRuntime, type OrtModule } from './runtime.js';

let native: Promise<OrtModule | undefined> | undefined;

/** onnxruntime-node, or undefined when it is not installed (or TESSERA_NO_ORT_NODE=1 asks not to use it). */
export function loadOnnxRuntimeNode(): Promise<OrtModule | undefined> {
  if (process.env.TESSERA_NO_ORT_NODE === '1') return Promise.resolve(undefined);
  // A computed specifier keeps bundlers and the type checker from requiring the package.
  const name = ['onnxruntime', 'node'].join('-');
  native ??= import(name).then(
    (m: { default?: OrtModule } & OrtModule) => (m.InferenceSession ? m : m.default),
    () => undefined,
  );
  return native;
}

function wasmDir(): string | undefined {
  try {
    const wasm = createRequire(import.meta.url).resolve('onnxruntime-web/ort-wasm-simd-threaded.wasm');
    return `${pathToFileURL(dirname(wasm)).href}/`;
  } catch {
    return undefined;
  }
}

async function wasmBinary(file: string): Promise<Uint8Array | undefined> {
  try {
    return new Uint8Array(await readFile(createRequire(import.meta.url).resolve(`onnxruntime-web/${file}`)));
  } catch {
    return undefined;
  }
}

installNativeRuntime({ loadNative: loadOnnxRuntimeNode, wasmDir, wasmBinary, cores: () => availableParallelism() });
