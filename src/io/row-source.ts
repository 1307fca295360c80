/**
 * Random access to float32 rows by id, for exact re-ranking of compressed (int8) search results:
 * rows kept in host memory (indexes built by add()), or read back from the index file by offset
 * (indexes loaded from a file: host memory stays bounded however large the index is).
 */
import { TesseraError, formatBytes } from '../core/errors.js';
import type { ByteSource } from '../core/types.js';

/**
 * What a ByteSource may offer beyond `read` (the Node file source does, see node-fs.ts): reads into
 * the caller's buffer, many positional reads in one call, a second owner for the open handle, and
 * a check that the file was not changed since it was opened.
 */
export interface RandomAccessSource extends ByteSource {
  /** Reads `out.length` bytes at `offset` into `out`; returns the bytes read (fewer only at the end). */
  readInto?(offset: number, out: Uint8Array): Promise<number>;
  /**
   * Reads `count` runs of `length` bytes at ascending `positions` into `out`, back to back. Throws
   * FORMAT when a run lies past the end of the file or the file changed since it was opened.
   */
  readScattered?(positions: Float64Array, count: number, length: number, out: Uint8Array): Promise<void>;
  /** Another owner of the same open handle: the handle closes when every owner has closed. */
  retain?(): RandomAccessSource;
  /** Names the source in messages. */
  readonly label?: string;
}

/** Reads `length` bytes at `offset` into `out` (the source's own readInto where it has one). */
export async function readInto(source: ByteSource, offset: number, out: Uint8Array): Promise<number> {
  const s = source as RandomAccessSource;
  if (s.readInto) return s.readInto(offset, out);
  const bytes = await source.read(offset, out.length);
  out.set(bytes);
  return bytes.length;
}

/** Reads in flight at once for sources without readScattered (browser File/Blob sources, tests). */
const GENERIC_CONCURRENCY = 8;

/**
 * `count` runs of `length` bytes at ascending `positions`, into `out` back to back. Adjacent runs
 * (consecutive rows) merge into one read. Short reads throw FORMAT: the file is shorter than it was.
 */
export async function readScattered(source: ByteSource, positions: Float64Array, count: number, length: number, out: Uint8Array, label = 'index file'): Promise<void> {
  const s = source as RandomAccessSource;
  if (s.readScattered) return s.readScattered(positions, count, length, out);
  const spans: [number, number][] = [];
  for (let i = 0; i < count; ) {
    let j = i + 1;
    while (j < count && positions[j] === positions[j - 1]! + length) j++;
    spans.push([i, j - i]);
    i = j;
  }
  let next = 0;
  const worker = async () => {
    while (next < spans.length) {
      const [i, n] = spans[next++]!;
      const got = await readInto(source, positions[i]!, out.subarray(i * length, (i + n) * length));
      if (got !== n * length) throw truncated(label, positions[i]!, n * length, got, source.size);
    }
  };
  await Promise.all(Array.from({ length: Math.min(GENERIC_CONCURRENCY, spans.length) }, worker));
}

export function truncated(label: string, at: number, want: number, got: number, size: number): TesseraError {
  return new TesseraError(
    'FORMAT',
    `${label}: truncated: expected ${want} bytes of rows at byte offset ${at}, read ${got} (the file is ${size} bytes now): ` +
      'the index file changed after it was opened; reload the index',
  );
}

/** A source of float32 rows by id. */
export interface RowReader {
  readonly d: number;
  /** Rows it serves: ids 0..count-1. */
  readonly count: number;
  /** Host bytes it keeps (rows held in memory; 0 for a file). */
  readonly hostBytes: number;
  /** Writes rows ids[0..n) (ascending, unique, < count) into out[0 .. n*d) as float32. */
  read(ids: Uint32Array, n: number, out: Float32Array): Promise<void>;
  close(): Promise<void>;
}

/** Rows kept in host memory, appended in chunks (copies: the caller may reuse its buffers). */
export class MemoryRows implements RowReader {
  private chunks: Float32Array[] = [];
  /** starts[i]: first id of chunks[i]. */
  private starts: number[] = [];
  count = 0;

  constructor(readonly d: number) {}

  get hostBytes(): number {
    return this.count * this.d * 4;
  }

  append(x: Float32Array, n: number): void {
    // In a SharedArrayBuffer where there is one: the int8 re-rank's workers then copy rows from it.
    const len = n * this.d;
    const copy = typeof SharedArrayBuffer === 'function' ? new Float32Array(new SharedArrayBuffer(len * 4)) : new Float32Array(len);
    copy.set(x.subarray(0, len));
    this.chunks.push(copy);
    this.starts.push(this.count);
    this.count += n;
  }

  async read(ids: Uint32Array, n: number, out: Float32Array): Promise<void> {
    const d = this.d;
    let c = 0;
    for (let i = 0; i < n; i++) {
      const id = ids[i]!;
      // ids ascend, so the chunk index only moves forward.
      while (c + 1 < this.starts.length && this.starts[c + 1]! <= id) c++;
      const local = id - this.starts[c]!;
      out.set(this.chunks[c]!.subarray(local * d, (local + 1) * d), i * d);
    }
  }

  /** The chunks and their first ids when every chunk lies in a SharedArrayBuffer (live arrays: append extends them). */
  sharedChunks(): { chunks: readonly Float32Array[]; starts: readonly number[] } | undefined {
    const shared = typeof SharedArrayBuffer === 'function' && this.chunks.every((c) => c.buffer instanceof SharedArrayBuffer);
    return shared && this.chunks.length > 0 ? { chunks: this.chunks, starts: this.starts } : undefined;
  }

  async close(): Promise<void> {
    this.chunks = [];
    this.starts = [];
  }
}

/**
 * Rows read from a flat index file by offset: one open handle (its own owner where the source can
 * be retained), positional reads of sorted rows merged where adjacent, straight into the caller's
 * buffer. Host memory: none beyond the caller's buffer.
 */
export class FileRows implements RowReader {
  readonly hostBytes = 0;

  /**
   * `source` must stay open while the rows are read: a retained handle (closed by close()), or the
   * caller's own source (`owned` false: close() leaves it open).
   */
  constructor(
    private readonly source: ByteSource,
    private readonly dataOffset: number,
    readonly d: number,
    readonly count: number,
    private readonly owned: boolean,
    private readonly label = 'index file',
  ) {}

  /** A reader over `source` that owns a handle of its own when the source can be retained. */
  static open(source: ByteSource, dataOffset: number, d: number, count: number, label?: string): FileRows {
    const retained = (source as RandomAccessSource).retain?.();
    return new FileRows(retained ?? source, dataOffset, d, count, retained !== undefined, label ?? (source as RandomAccessSource).label);
  }

  async read(ids: Uint32Array, n: number, out: Float32Array): Promise<void> {
    if (this.closed) throw new TesseraError('INVALID_ARGUMENT', `${this.label}: the rows for re-ranking were closed with the index`);
    const rowBytes = this.d * 4;
    const positions = new Float64Array(n);
    for (let i = 0; i < n; i++) positions[i] = this.dataOffset + ids[i]! * rowBytes;
    const bytes = new Uint8Array(out.buffer, out.byteOffset, n * rowBytes);
    await readScattered(this.source, positions, n, rowBytes, bytes, this.label);
  }

  private closed = false;

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.owned) await this.source.close();
  }
}

/** Rows made by a function (benchmarks regenerate synthetic rows instead of storing them). */
export class FunctionRows implements RowReader {
  readonly hostBytes = 0;
  constructor(
    readonly d: number,
    readonly count: number,
    private readonly row: (id: number, out: Float32Array) => void,
  ) {}

  async read(ids: Uint32Array, n: number, out: Float32Array): Promise<void> {
    for (let i = 0; i < n; i++) this.row(ids[i]!, out.subarray(i * this.d, (i + 1) * this.d));
  }

  async close(): Promise<void> {}
}

/** Consecutive id ranges served by different readers (a loaded file, then rows added in memory). */
export class RowStore {
  private parts: { first: number; reader: RowReader }[] = [];

  constructor(readonly d: number) {}

  get count(): number {
    const last = this.parts.at(-1);
    return last ? last.first + last.reader.count : 0;
  }

  get hostBytes(): number {
    return this.parts.reduce((s, p) => s + p.reader.hostBytes, 0);
  }

  /** The last reader when it is a MemoryRows (appending more rows to it), else a new one. */
  memory(): MemoryRows {
    const last = this.parts.at(-1)?.reader;
    if (last instanceof MemoryRows) return last;
    const m = new MemoryRows(this.d);
    this.parts.push({ first: this.count, reader: m });
    return m;
  }

  /** Every row in SharedArrayBuffer chunks (one MemoryRows holds them all), else undefined. */
  sharedChunks(): { chunks: readonly Float32Array[]; starts: readonly number[] } | undefined {
    const only = this.parts.length === 1 ? this.parts[0]!.reader : undefined;
    return only instanceof MemoryRows ? only.sharedChunks() : undefined;
  }

  push(reader: RowReader): void {
    this.parts.push({ first: this.count, reader });
  }

  /** Rows ids[0..n) (ascending, unique) into out. */
  async read(ids: Uint32Array, n: number, out: Float32Array): Promise<void> {
    const d = this.d;
    let i = 0;
    for (const p of this.parts) {
      const end = p.first + p.reader.count;
      let j = i;
      while (j < n && ids[j]! < end) j++;
      if (j === i) continue;
      const local = p.first === 0 ? ids.subarray(i, j) : ids.slice(i, j).map((id) => id - p.first);
      await p.reader.read(local, j - i, out.subarray(i * d, j * d));
      i = j;
    }
    if (i < n) {
      throw new TesseraError('INVALID_ARGUMENT', `row ${ids[i]} has no float32 copy for re-ranking (${this.count} rows kept, ${formatBytes(this.hostBytes)} in memory)`);
    }
  }

  async close(): Promise<void> {
    const parts = this.parts;
    this.parts = [];
    for (const p of parts) await p.reader.close();
  }
}
