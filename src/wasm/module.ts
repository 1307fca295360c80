/**
 * Loads tessera's WebAssembly module (compiled from native/*.c by scripts/build-wasm.mjs, inlined as
 * base64 so Node, Deno and browsers load the same bytes without file reads) and manages its linear
 * memory. The C code never allocates: this side lays out every array in the memory and passes
 * pointers, which lets worker threads share one memory (the "threads" build) with no C allocator.
 */
import { TesseraError, formatBytes } from '../core/errors.js';
import { lazyChunk } from '../core/lazy.js';
import type { SearchResult } from '../core/types.js';
import { WASM_SIMD_BASE64 } from './tessera-wasm.js';

/**
 * The threads build, in a chunk of its own loaded on demand: only a runtime that can share memory
 * (Node, Deno, a cross-origin-isolated page) uses it, so other pages never download it (BENCHMARKS.md,
 * section bundle).
 */
const threadsBuild = lazyChunk("tessera's WebAssembly threads build", () => import('./tessera-wasm-threads.js'));

const PAGE = 65536;
/** A 32-bit WebAssembly memory holds at most 4 GiB (65536 pages). */
export const MAX_MEMORY_BYTES = 65536 * PAGE;
/**
 * Bytes one instance keeps free besides its stored vectors, for search buffers (query batches,
 * probes, results): 64 MiB, or a quarter of a smaller limit. Shard plans and the HNSW index count it alike.
 */
export function instanceHeadroom(limit: number): number {
  return Math.min(64 << 20, Math.floor(limit / 4));
}
/**
 * Grows an array with `grow(cap)` to `slack` rows, or to exactly `need` rows where the slack does
 * not fit (near the 4 GiB of one memory the x1.5 slack may not fit where the rows themselves do);
 * returns the capacity taken. Other errors, and OUT_OF_MEMORY at the exact size, propagate.
 */
export function growWithSlack(need: number, slack: number, grow: (cap: number) => void): number {
  try {
    grow(slack);
    return slack;
  } catch (e) {
    if (slack === need || !(e instanceof TesseraError && e.code === 'OUT_OF_MEMORY')) throw e;
    grow(need);
    return need;
  }
}
/** Pages the module declares as its minimum (scripts/build-wasm.mjs: --initial-memory). */
const MIN_PAGES = 4;
/** Least room a memoryLimit must leave above the module's data and stack: an index's own structures before any vector. */
const MIN_HEAP_BYTES = 64 << 10;

/**
 * A memoryLimit: a number > 0 and, given the module's `base` (its data and stack), room above it for
 * an index's first structures. Below that no index fits at all, so the out-of-memory message's
 * advice (shards of < the limit) would be wrong; likelier, the limit was given in KiB or MiB.
 */
export function checkMemoryLimit(limit: number, base?: number): void {
  if (!(limit > 0)) throw new TesseraError('INVALID_ARGUMENT', `a WebAssembly memory limit (memoryLimit) must be > 0, got ${String(limit)}`);
  if (base !== undefined && limit < base + MIN_HEAP_BYTES) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `memoryLimit ${String(limit)} (bytes) is less than the ${formatBytes(base + MIN_HEAP_BYTES)} a WebAssembly index takes before its first vector (the module's data and stack, ${formatBytes(base)}, and its first work buffers): give a limit in bytes, e.g. ${2 ** 30} for 1 GiB, or leave it out for 4 GiB`,
    );
  }
}

/** The C exports (native/*.c); pointers are byte offsets into the memory, passed as i32. */
export interface TesseraExports {
  flat_search(
    base: number, n: number, d: number, queries: number, nq: number, k: number,
    metric: number, idOffset: number, outD: number, outI: number, fill: number,
  ): void;
  readonly __heap_base: WebAssembly.Global;
  readonly __stack_pointer?: WebAssembly.Global;
  readonly [name: string]: unknown;
}

function decodeBase64(b64: string): Uint8Array {
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

let simdModule: Promise<WebAssembly.Module> | undefined;
let threadsModule: Promise<WebAssembly.Module> | undefined;

/** The compiled module, cached: `threads` picks the build with atomics and shared memory. */
export function compiledModule(threads: boolean): Promise<WebAssembly.Module> {
  const compile = (b64: string) =>
    WebAssembly.compile(decodeBase64(b64) as Uint8Array<ArrayBuffer>).catch((e: unknown) => {
      throw new TesseraError(
        'UNSUPPORTED',
        `this runtime cannot compile tessera's WebAssembly module (needs SIMD128${threads ? ' and threads' : ''}): ${String(e)}; use Node >= 20, Deno, or a current browser`,
        { cause: e },
      );
    });
  if (threads) {
    // A failed chunk load is not kept (lazyChunk): the next call loads it again.
    return (threadsModule ??= threadsBuild().then(
      (m) => compile(m.WASM_THREADS_BASE64),
      (e: unknown) => {
        threadsModule = undefined;
        throw e;
      },
    ));
  }
  return (simdModule ??= compile(WASM_SIMD_BASE64));
}

let sharedOk: boolean | undefined;
/** True when shared WebAssembly memory can be made here (SharedArrayBuffer; cross-origin isolated in browsers). */
export function sharedMemoryAvailable(): boolean {
  if (sharedOk === undefined) {
    try {
      sharedOk =
        typeof SharedArrayBuffer !== 'undefined' &&
        new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true }).buffer instanceof SharedArrayBuffer;
    } catch {
      sharedOk = false;
    }
  }
  return sharedOk;
}

function outOfMemory(bytes: number, inUse: number, limit: number): TesseraError {
  const most = limit < MAX_MEMORY_BYTES ? `its limit of ${formatBytes(limit)}` : 'the 4 GiB a 32-bit WebAssembly memory can hold';
  // just past the limit both round alike ("needs 4.0 GiB, more than 4 GiB"): then the bytes
  const need = formatBytes(inUse + bytes) === formatBytes(limit) ? `${inUse + bytes} bytes` : formatBytes(inUse + bytes);
  return new TesseraError(
    'OUT_OF_MEMORY',
    `WebAssembly memory needs ${need}, more than ${most}${need.endsWith(' bytes') ? ` (${limit} bytes)` : ''}: split the vectors into shards of < ${formatBytes(limit)}, ` +
      // a limit below 4 GiB is the caller's memoryLimit, which the message did not name
      `${limit < MAX_MEMORY_BYTES ? 'raise memoryLimit (bytes, at most 4 GiB), ' : ''}or use SQ8/IVF storage`,
  );
}

/**
 * First-fit bookkeeping of 64-byte-aligned spans of one WebAssembly memory above a base offset: a
 * free list merged with its neighbours, and the top. It never touches the memory itself: the
 * owner's `ensure(end, requested, at)` grows it (or throws) before a span may reach `end`.
 */
export class SpanAllocator {
  private free: { at: number; size: number }[] = [];
  private readonly sizes = new Map<number, number>();
  /** End of the highest allocation. */
  top: number;

  constructor(
    base: number,
    private readonly ensure: (end: number, requested: number, at: number) => void,
  ) {
    this.top = align(base, 64);
  }

  /** Allocates `bytes` (64-byte aligned, uninitialised). */
  alloc(bytes: number): number {
    const size = align(Math.max(bytes, 1), 64);
    for (let i = 0; i < this.free.length; i++) {
      const f = this.free[i]!;
      if (f.size < size) continue;
      const at = f.at;
      if (f.size === size) this.free.splice(i, 1);
      else {
        f.at += size;
        f.size -= size;
      }
      this.sizes.set(at, size);
      return at;
    }
    const at = this.top;
    this.ensure(at + size, bytes, at);
    this.top = at + size;
    this.sizes.set(at, size);
    return at;
  }

  /** Returns an allocation to the free list (merged with neighbours; the top shrinks when it can). */
  release(ptr: number): void {
    const size = this.sizes.get(ptr);
    if (size === undefined) return;
    this.sizes.delete(ptr);
    this.free.push({ at: ptr, size });
    this.free.sort((a, b) => a.at - b.at);
    const merged: { at: number; size: number }[] = [];
    for (const f of this.free) {
      const last = merged[merged.length - 1];
      if (last && last.at + last.size === f.at) last.size += f.size;
      else merged.push({ ...f });
    }
    const last = merged[merged.length - 1];
    if (last && last.at + last.size === this.top) {
      this.top = last.at;
      merged.pop();
    }
    this.free = merged;
  }

  /** Grows `ptr` to `bytes` where it lies, when it is the highest allocation; false otherwise. */
  growInPlace(ptr: number, bytes: number): boolean {
    const size = this.sizes.get(ptr);
    if (size === undefined || ptr + size !== this.top) return false;
    const want = align(Math.max(bytes, 1), 64);
    this.ensure(ptr + want, bytes, ptr);
    this.top = ptr + want;
    this.sizes.set(ptr, want);
    return true;
  }

  /**
   * Grows an allocation of `memory` (the tail uninitialised): in place when it is the highest one,
   * else copied into a new one and the old freed. In place, a growing array never needs its old and
   * new copies at once, which halved what one memory could hold (a Flat index failed past 1.4 GiB of rows).
   */
  realloc(memory: WebAssembly.Memory, ptr: number, oldBytes: number, newBytes: number): number {
    if (this.growInPlace(ptr, newBytes)) return ptr;
    const next = this.alloc(newBytes);
    if (ptr !== 0 && oldBytes > 0) new Uint8Array(memory.buffer).copyWithin(next, ptr, ptr + Math.min(oldBytes, newBytes));
    this.release(ptr);
    return next;
  }
}

/**
 * One module instance and its memory, with a first-fit allocator over the memory above
 * __heap_base. Views must be taken afresh after allocations (the memory may have grown).
 */
export class WasmHeap {
  private readonly spans: SpanAllocator;

  private constructor(
    readonly module: WebAssembly.Module,
    readonly memory: WebAssembly.Memory,
    readonly exports: TesseraExports,
    readonly shared: boolean,
    /** Bytes the memory may grow to: 4 GiB, or less where an index is given a memoryLimit. */
    readonly limit: number,
  ) {
    this.spans = new SpanAllocator(exports.__heap_base.value as number, (end, requested, at) => this.ensure(end, requested, at));
  }

  /**
   * A new instance; `shared` uses the threads build on a shared memory (check sharedMemoryAvailable
   * first); `limit` caps what it may grow to (at most 4 GiB).
   */
  static async create(shared: boolean, limit = MAX_MEMORY_BYTES): Promise<WasmHeap> {
    checkMemoryLimit(limit);
    const module = await compiledModule(shared);
    const memory = new WebAssembly.Memory({ initial: MIN_PAGES, maximum: 65536, shared });
    const instance = await WebAssembly.instantiate(module, { env: { memory } });
    const exports = instance.exports as unknown as TesseraExports;
    checkMemoryLimit(limit, exports.__heap_base.value as number);
    return new WasmHeap(module, memory, exports, shared, Math.min(limit, MAX_MEMORY_BYTES));
  }

  /** Bytes in use up to the highest allocation. */
  get used(): number {
    return this.spans.top;
  }

  /** Allocates `bytes` (64-byte aligned, uninitialised); throws OUT_OF_MEMORY past 4 GiB. */
  alloc(bytes: number): number {
    return this.spans.alloc(bytes);
  }

  /** Returns an allocation to the free list (merged with neighbours). */
  release(ptr: number): void {
    this.spans.release(ptr);
  }

  /**
   * Grows `ptr` to `bytes` where it lies (its bytes stay put) when it is the highest allocation and
   * returns true; false (nothing changed) otherwise. OUT_OF_MEMORY past the limit.
   */
  growInPlace(ptr: number, bytes: number): boolean {
    return ptr !== 0 && this.spans.growInPlace(ptr, bytes);
  }

  /** Grows an allocation (the tail uninitialised): SpanAllocator.realloc. */
  realloc(ptr: number, oldBytes: number, newBytes: number): number {
    return this.spans.realloc(this.memory, ptr, oldBytes, newBytes);
  }

  /** Grows the memory so [0, end) exists; OUT_OF_MEMORY past the limit (4 GiB). */
  private ensure(end: number, requested: number, at: number): void {
    if (end > this.limit) throw outOfMemory(requested, at, this.limit);
    const have = this.memory.buffer.byteLength;
    if (end <= have) return;
    // grow geometrically so repeated adds stay linear, but never past the limit
    const want = Math.max(end, Math.min(Math.floor(have * 1.25), this.limit));
    try {
      this.memory.grow(Math.ceil((want - have) / PAGE));
    } catch (e) {
      throw new TesseraError(
        'OUT_OF_MEMORY',
        `could not grow WebAssembly memory to ${formatBytes(want)} (${String(e)}): free memory or use smaller shards`,
        { cause: e },
      );
    }
  }

  f32(ptr: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, length);
  }
  /**
   * Copies of `rows` rows of d float32 at ptr() in chunks of about 16 MiB, so a save never holds a
   * second copy of them all. ptr() and the view are taken again for each chunk: an add meanwhile may
   * move the rows or grow (and detach) the memory.
   */
  *f32RowChunks(ptr: () => number, d: number, rows: number): Generator<Float32Array> {
    const rowsPer = Math.max(1, Math.floor((16 << 20) / (d * 4)));
    for (let r = 0; r < rows; r += rowsPer) {
      const m = Math.min(rowsPer, rows - r);
      yield this.f32(ptr() + r * d * 4, m * d).slice();
    }
  }
  i32(ptr: number, length: number): Int32Array {
    return new Int32Array(this.memory.buffer, ptr, length);
  }
  u8(ptr: number, length: number): Uint8Array {
    return new Uint8Array(this.memory.buffer, ptr, length);
  }

  /** Copies a native search's nq x k distances (at dp) and int32 ids (at ip; -1 = none) out as a SearchResult. */
  result(dp: number, ip: number, nq: number, k: number): SearchResult {
    const distances = this.f32(dp, nq * k).slice();
    const ids = this.i32(ip, nq * k);
    const labels = new BigInt64Array(nq * k);
    for (let i = 0; i < labels.length; i++) labels[i] = BigInt(ids[i]!);
    return { nq, k, distances, labels };
  }
}

function align(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}
