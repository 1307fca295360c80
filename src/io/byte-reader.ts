/**
 * Sequential little-endian reads over a ByteSource through a bounded buffer (64 KiB by default),
 * so headers of multi-GB files are parsed without reading the file. Every read names what it
 * expects; a short read raises FORMAT with the byte offset, what was expected there and the size.
 */
import { TesseraError } from '../core/errors.js';
import type { ByteSink, ByteSource } from '../core/types.js';

/** Largest integer a count may hold: counts become JS numbers (exact up to 2^53). */
const MAX_COUNT = Number.MAX_SAFE_INTEGER;

export class ByteReader {
  private buf: Uint8Array = new Uint8Array(0);
  private bufStart = 0;
  private view: DataView = new DataView(new ArrayBuffer(0));

  /**
   * @param source bytes to read
   * @param offset first byte to read
   * @param label names the input in messages, e.g. the file path or "index file"
   * @param chunkSize bytes fetched per source read (the buffer never grows beyond max(chunkSize, one read))
   */
  constructor(
    readonly source: ByteSource,
    public offset = 0,
    readonly label = 'file',
    readonly chunkSize = 1 << 16,
  ) {}

  get size(): number {
    return this.source.size;
  }

  /** Bytes left from the current offset to the end of the source. */
  get remaining(): number {
    return this.source.size - this.offset;
  }

  /** A FORMAT error at `at` (default: the current offset), prefixed with the input's label. */
  error(message: string, at = this.offset): TesseraError {
    return new TesseraError('FORMAT', `${this.label}: ${message} at byte offset ${at}`);
  }

  /** Throws FORMAT unless `length` bytes remain; `what` names them, e.g. "int64 ntotal". */
  require(length: number, what: string, at = this.offset): void {
    if (at + length > this.source.size) {
      // "truncated: expected ... at byte offset 0, but the file ends at byte 0" hid the plain fact
      if (this.source.size === 0) throw new TesseraError('FORMAT', `${this.label}: the file is empty (0 bytes), expected ${what}: copy or write it again`);
      throw new TesseraError(
        'FORMAT',
        `${this.label}: truncated: expected ${what} (${length} bytes) at byte offset ${at}, but the file ends at byte ${this.source.size}` +
          ': the file is incomplete or corrupt (copy or write it again)',
      );
    }
  }

  /** Makes bytes [offset, offset+length) available in the buffer; returns their index in it. */
  private async fill(length: number, what: string): Promise<number> {
    this.require(length, what);
    const rel = this.offset - this.bufStart;
    if (rel >= 0 && rel + length <= this.buf.length) return rel;
    const want = Math.min(Math.max(length, this.chunkSize), this.source.size - this.offset);
    const bytes = await this.source.read(this.offset, want);
    if (bytes.length < length) {
      throw new TesseraError(
        'FORMAT',
        `${this.label}: truncated: expected ${what} (${length} bytes) at byte offset ${this.offset}, but only ${bytes.length} bytes could be read`,
      );
    }
    this.buf = bytes;
    this.bufStart = this.offset;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return 0;
  }

  async u8(what: string): Promise<number> {
    const i = await this.fill(1, what);
    this.offset += 1;
    return this.view.getUint8(i);
  }

  async u16(what: string): Promise<number> {
    const i = await this.fill(2, what);
    this.offset += 2;
    return this.view.getUint16(i, true);
  }

  async i32(what: string): Promise<number> {
    const i = await this.fill(4, what);
    this.offset += 4;
    return this.view.getInt32(i, true);
  }

  async u32(what: string): Promise<number> {
    const i = await this.fill(4, what);
    this.offset += 4;
    return this.view.getUint32(i, true);
  }

  async f32(what: string): Promise<number> {
    const i = await this.fill(4, what);
    this.offset += 4;
    return this.view.getFloat32(i, true);
  }

  async i64(what: string): Promise<bigint> {
    const i = await this.fill(8, what);
    this.offset += 8;
    return this.view.getBigInt64(i, true);
  }

  async u64(what: string): Promise<bigint> {
    const i = await this.fill(8, what);
    this.offset += 8;
    return this.view.getBigUint64(i, true);
  }

  /**
   * A signed 64-bit count (FAISS idx_t / size_t), checked to lie in [min, max]: negative or absurd
   * values raise FORMAT naming the field and its offset.
   */
  async count64(what: string, max = MAX_COUNT, min = 0): Promise<number> {
    const at = this.offset;
    const v = await this.i64(what);
    return checkCount(this, v, what, at, min, max);
  }

  /** A signed 32-bit count checked to lie in [min, max]. */
  async count32(what: string, max = 0x7fffffff, min = 0): Promise<number> {
    const at = this.offset;
    const v = await this.i32(what);
    return checkCount(this, BigInt(v), what, at, min, max);
  }

  /** Four ASCII characters, e.g. a FAISS fourcc "IxFI". */
  async fourcc(what = 'fourcc'): Promise<string> {
    const i = await this.fill(4, what);
    this.offset += 4;
    return String.fromCharCode(...this.buf.subarray(i, i + 4));
  }

  /** A copy of the next `length` bytes (use for small fields: large payloads go through streaming). */
  async bytes(length: number, what: string): Promise<Uint8Array> {
    const i = await this.fill(length, what);
    this.offset += length;
    return Uint8Array.prototype.slice.call(this.buf, i, i + length);
  }

  /** Moves past `length` bytes, checking they exist. */
  skip(length: number, what: string): void {
    this.require(length, what);
    this.offset += length;
  }
}

function checkCount(r: ByteReader, v: bigint, what: string, at: number, min: number, max: number): number {
  if (v < BigInt(min) || v > BigInt(max)) {
    const why = v < 0n ? 'a negative count' : `outside the valid range [${min}, ${max}]`;
    throw r.error(`bad ${what}: ${v} is ${why}; the file is corrupt or not of this format`, at);
  }
  return Number(v);
}

/** The name a source gives itself in messages (a file source: its path), else `fallback`. */
export function sourceLabel(source: ByteSource, fallback = 'index file'): string {
  return (source as { label?: string }).label ?? fallback;
}

/** Float32 values of little-endian bytes, without a copy when aligned (all supported hosts are little-endian). */
export function float32View(bytes: Uint8Array): Float32Array {
  if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 2);
  // Copy with set(), not slice(): on a Node Buffer slice() is a view of the same memory.
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Float32Array(copy.buffer, 0, bytes.byteLength >>> 2);
}

/** The bytes of a Float32Array (little-endian host), without a copy. */
export function bytesOf(x: Float32Array): Uint8Array {
  return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
}

/** A ByteSource over bytes in memory (browsers, tests, small files already read). */
export function memorySource(bytes: Uint8Array): ByteSource {
  return {
    size: bytes.length,
    async read(offset: number, length: number) {
      return bytes.subarray(Math.min(offset, bytes.length), Math.min(offset + length, bytes.length));
    },
    async close() {},
  };
}

/** What blobSource needs of a Blob, typed here so the published types need no DOM lib. */
export interface BlobLike {
  readonly size: number;
  slice(start?: number, end?: number): { arrayBuffer(): Promise<ArrayBuffer> };
  arrayBuffer(): Promise<ArrayBuffer>;
}

/**
 * A ByteSource over a Blob or File (a file input, a drop, `await response.blob()`): each read
 * slices the Blob, so a multi-GB file is never held in memory whole.
 */
export function blobSource(blob: BlobLike): ByteSource {
  return {
    size: blob.size,
    async read(offset: number, length: number) {
      return new Uint8Array(await blob.slice(offset, Math.min(offset + length, blob.size)).arrayBuffer());
    },
    async close() {},
  };
}

/** A ByteSink that keeps what is written in memory. */
export interface MemorySink extends ByteSink {
  /** True after close(); later writes throw. */
  closed: boolean;
  /** What was written, concatenated (e.g. `new Blob([sink.bytes()])` to download a saved index). */
  /** A fresh ArrayBuffer (not shared), so it is a BlobPart as typed by TypeScript >= 5.7. */
  bytes(): Uint8Array<ArrayBuffer>;
}

/**
 * A ByteSink collecting bytes in memory: where there are no file paths (browsers, Deno without
 * the Node entry), `await index.save(sink)` then `sink.bytes()` gives the FAISS file's bytes.
 */
export function memorySink(): MemorySink {
  const parts: Uint8Array[] = [];
  const sink = {
    closed: false,
    async write(chunk: Uint8Array) {
      if (sink.closed) throw new TesseraError('INVALID_ARGUMENT', 'write to a closed sink');
      parts.push(new Uint8Array(chunk));
    },
    async close() {
      sink.closed = true;
    },
    bytes() {
      return concatBytes(parts);
    },
  };
  return sink;
}

/** The parts in one fresh array, in order. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
