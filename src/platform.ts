/**
 * Runtime hooks for what only some runtimes have (files, Dawn). The Node entry (src/node.ts)
 * installs them; browser and Deno bundles never import Node-only modules, and code that needs a
 * hook asks for it here and gets a clear UNSUPPORTED error where the runtime lacks it.
 */
import { TesseraError } from './core/errors.js';
import type { ByteSink, ByteSource } from './core/types.js';

declare global {
  // Declared empty so the published .d.ts stand alone: a project with @webgpu/types (or a DOM lib
  // that has WebGPU) merges the full interface in; one without still compiles with skipLibCheck off.
  interface GPU {}
  // Likewise WebAssembly's, which only the DOM lib declares (a Node project's ES lib has none):
  // index classes name them in members the published types include.
  namespace WebAssembly {
    interface Memory {}
    interface Module {}
    interface Global {}
  }
}

export interface FileSystemHooks {
  openRead(path: string): Promise<ByteSource>;
  /** A sink that writes `path` atomically: a temp file beside it, renamed over `path` on close. */
  openWriteAtomic(path: string): Promise<ByteSink>;
}

export interface PlatformHooks {
  fs?: FileSystemHooks;
  /** Loads a WebGPU `GPU` object where the runtime has no navigator.gpu (Dawn's `webgpu` in Node). */
  loadGpu?: (dawnFlags?: readonly string[]) => Promise<GPU | undefined>;
  /** Cores usable by this process, where navigator.hardwareConcurrency is missing (Node 20). */
  cpuCount?: () => number;
}

const hooks: PlatformHooks = {};

export function installPlatform(more: PlatformHooks): void {
  Object.assign(hooks, more);
}

export function platform(): Readonly<PlatformHooks> {
  return hooks;
}

export function fileSystem(): FileSystemHooks {
  if (!hooks.fs) {
    throw new TesseraError(
      'UNSUPPORTED',
      "file paths need tessera's Node entry (what Node resolves \"tessera\" to); in Deno and browsers give bytes instead: for index files memorySource(bytes) or blobSource(file) to read, memorySink() to save (then sink.bytes()), or another ByteSource/ByteSink; a URL for a model folder (in Deno new URL('file:///models/e5-base-v2/'))",
    );
  }
  return hooks.fs;
}

/** Opens a path through the platform, or passes a ByteSource through unchanged. */
export async function openSource(target: string | ByteSource): Promise<ByteSource> {
  return typeof target === 'string' ? fileSystem().openRead(target) : target;
}

export async function openSink(target: string | ByteSink): Promise<ByteSink> {
  return typeof target === 'string' ? fileSystem().openWriteAtomic(target) : target;
}
