/**
 * Runtime hooks for what only some runtimes have (files, Dawn). The Node entry (src/node.ts)
 * installs them; browser and Deno bundles never import Node-only modules, and code that needs a
 * hook asks for it here and gets a clear UNSUPPORTED error where the runtime lacks it.
 */
import { TesseraError } from './core/errors.js';
import type { ByteSink, ByteSource, ProgressCallback } from './core/types.js';
import { type BlobLike, blobSource, memorySource } from './io/byte-reader.js';
import { inBrowser, urlSource } from './io/url-source.js';

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

/** The fields of a GPUAdapter that backend 'auto' reads (its name, whether it is a software renderer). */
export interface AdapterSummary {
  info?: { description?: string; device?: string; architecture?: string; vendor?: string; isFallbackAdapter?: boolean };
  /** Older implementations put it on the adapter itself. */
  isFallbackAdapter?: boolean;
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
  /**
   * The adapter loadGpu's GPU gives, found without loading it here (Node: in a child process, so
   * Dawn's notices stay off a run that then takes WASM): null for none, undefined where it cannot
   * tell (the caller then asks loadGpu's GPU). What it has to say while it looks (a wait, a
   * give-up) goes to `onNotice`, the index options' one, not to stderr; where it gave up (null),
   * `onGiveUp` is told why, for callers that come later.
   */
  probeAdapter?: (opts?: { onNotice?: (message: string) => void; onGiveUp?: (reason: string) => void }) => Promise<AdapterSummary | null | undefined>;
  /** Cores usable by this process, where navigator.hardwareConcurrency is missing (Node 20). */
  cpuCount?: () => number;
}

const hooks: PlatformHooks = {};

export function installPlatform(more: PlatformHooks): void {
  // probeAdapter describes loadGpu's GPU: a loadGpu put in its place (no probe given) is asked itself.
  if ('loadGpu' in more && !('probeAdapter' in more)) delete hooks.probeAdapter;
  Object.assign(hooks, more);
}

export function platform(): Readonly<PlatformHooks> {
  return hooks;
}

export function fileSystem(): FileSystemHooks {
  if (!hooks.fs) {
    throw new TesseraError(
      'UNSUPPORTED',
      "file paths need tessera's Node entry (what Node resolves \"tessera\" to); in Deno and browsers give bytes instead: for index files an http(s) URL, the bytes, a Blob or File, or memorySource(bytes) to read, memorySink() to save (then sink.bytes()), or another ByteSource/ByteSink; a URL for a model folder (in Deno new URL('file:///models/e5-base-v2/'))",
    );
  }
  return hooks.fs;
}

/** What readIndex and inspectIndex read: a path (Node), a URL, bytes, a Blob or File, or a ByteSource. */
export type SourceInput = string | URL | ByteSource | Uint8Array | ArrayBuffer | BlobLike;

/**
 * Opens a path through the platform, wraps bytes, a Blob or a URL, or passes a ByteSource through
 * unchanged. The caller closes the result when it is not `target` itself. `onProgress` counts the
 * download of a URL whose server sends the file whole (see urlSource).
 */
export async function openSource(target: SourceInput, opts: { onProgress?: ProgressCallback } = {}): Promise<ByteSource> {
  const urlOpts = opts.onProgress ? { onProgress: opts.onProgress } : {};
  // No file is named "https://..." or "file:///...": such a string is the URL it spells, in any
  // runtime (import.meta.resolve gives file: strings; read as a path, it was "file not found").
  if (typeof target === 'string') {
    // An empty path (an unset variable, "$INDEX") said only "file not found: ".
    if (target === '') throw new TesseraError('INVALID_ARGUMENT', 'cannot read an empty path: give a file path or a URL (an unset variable?)');
    if (/^file:\/\//i.test(target)) return openSource(new URL(target), opts);
    if (/^https?:\/\//i.test(target)) return urlSource(target, urlOpts);
    // A page has no files: "/data/x.index" or "x.index" there is a URL relative to the page, as fetch() reads it.
    if (!hooks.fs && inBrowser()) return urlSource(target, urlOpts);
    return fileSystem().openRead(target);
  }
  // By tag as well: bytes made in another realm (an iframe, node:vm, a jsdom test) fail
  // instanceof, and were refused with "cannot read [object Uint8Array]: give ... a Uint8Array".
  const tag = Object.prototype.toString.call(target);
  if (target instanceof Uint8Array) return memorySource(target);
  if (tag === '[object Uint8Array]') {
    const view = target as unknown as Uint8Array;
    return memorySource(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
  }
  if (target instanceof ArrayBuffer || tag === '[object ArrayBuffer]' || tag === '[object SharedArrayBuffer]') return memorySource(new Uint8Array(target as ArrayBuffer));
  if (target instanceof URL) {
    if (target.protocol === 'file:' && hooks.fs) return hooks.fs.openRead(filePathOf(target));
    return urlSource(target, urlOpts);
  }
  // null or undefined (an unset variable) is refused below, not a TypeError reading its members
  if (typeof (target as ByteSource | null)?.read === 'function') return target as ByteSource;
  if (typeof (target as BlobLike | null)?.slice === 'function' && typeof target.size === 'number') return blobSource(target as BlobLike);
  throw new TesseraError(
    'INVALID_ARGUMENT',
    `cannot read ${tag}: give a path (Node), a URL, a Uint8Array or ArrayBuffer, a Blob or File, or a ByteSource ({ size, read(offset, length), close() })`,
  );
}

/** The path of a file: URL (a Windows drive path loses the slash before its letter). */
function filePathOf(url: URL): string {
  // file://server/share/x named the local /share/x: the host was dropped
  if (url.host !== '' && url.host !== 'localhost') {
    throw new TesseraError('INVALID_ARGUMENT', `${url.href} names a file on host "${url.host}": give a local path or a file:///... URL (a Windows network share as the path \\\\${url.host}\\share\\...)`);
  }
  const path = decodeURIComponent(url.pathname);
  return /^\/[A-Za-z]:/.test(path) ? path.slice(1) : path;
}

export async function openSink(target: string | ByteSink): Promise<ByteSink> {
  // An empty path failed at the final rename with a raw ENOENT naming the temp file; null or an
  // object without write() with a TypeError from inside the writer.
  if (target === '') throw new TesseraError('INVALID_ARGUMENT', 'cannot write to an empty path: give a file path or a ByteSink');
  // as openSource reads it: "file:///..." was taken as a relative path ("the directory file:///tmp does not exist")
  if (typeof target === 'string') return fileSystem().openWriteAtomic(/^file:\/\//i.test(target) ? filePathOf(new URL(target)) : target);
  const sink = target as Partial<ByteSink> | null | undefined;
  if (typeof sink?.write !== 'function' || typeof sink.close !== 'function') {
    const got = target === null ? 'null' : Array.isArray(target) ? 'an Array' : typeof target === 'object' ? `an object without ${typeof sink?.write !== 'function' ? 'write()' : 'close()'}` : typeof target;
    throw new TesseraError('INVALID_ARGUMENT', `save and write targets are a file path or a ByteSink ({ write(chunk), close() }, e.g. memorySink()), got ${got}`);
  }
  return target;
}

/**
 * Opens `target` (openSink), has `write` fill it and closes it. If `write` throws, the sink's
 * abort() runs first (a path's removes its temp file, so the target is left as it was).
 */
export async function writeToTarget(target: string | ByteSink, write: (sink: ByteSink) => Promise<void>): Promise<void> {
  const sink = await openSink(target);
  try {
    await write(sink);
  } catch (e) {
    await (sink as { abort?: () => Promise<void> }).abort?.();
    throw e;
  }
  await sink.close();
}
