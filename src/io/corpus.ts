/**
 * A jsonl corpus read by row position through an offset table, so a 14 GB corpus costs no RAM
 * beyond 8 bytes a row. Node-only (file descriptors); reached through src/node.ts, never the core.
 *
 * Rows are the non-empty lines of the file (a line holding only "\r" counts as empty), numbered
 * from 0 in file order: row i is vector i of the index built from it. Search-R1's corpus has no
 * empty lines, so there row == line number.
 *
 * Offset table file (little-endian), written atomically beside the corpus as `<corpus>.offsets`:
 *   bytes  0..7   magic "TSROWS01"
 *   bytes  8..15  u64 corpus size in bytes when the table was built
 *   bytes 16..23  f64 corpus mtime in ms when the table was built
 *   then   rows x u64 byte offset of the first byte of each row
 *   last 8 bytes  u64 row count (a truncated table fails this check and is rebuilt)
 * It is reused while the corpus's size and mtime equal the recorded ones.
 */
import { open, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { TesseraError } from '../core/errors.js';
import type { ProgressCallback } from '../core/types.js';
import { openAtomicFileSink } from './node-fs.js';

const MAGIC = 'TSROWS01';
const HEADER_BYTES = 24;
const TRAILER_BYTES = 8;
const SCAN_CHUNK = 8 << 20;
/** Offsets buffered before each sink write while scanning. */
const FLUSH_ROWS = 1 << 16;

/** Where the offset table of `corpusPath` lives by default. */
export function offsetTablePath(corpusPath: string): string {
  return `${corpusPath}.offsets`;
}

export interface OffsetTableOptions {
  /** Table file; default `<corpus>.offsets`. */
  offsetsPath?: string;
  /** Rebuild even when a matching table exists. */
  rebuild?: boolean;
  /** Byte progress of a scan ("indexing corpus rows", unit "bytes"). */
  onProgress?: ProgressCallback;
  /** Read size of the scan, in bytes (default 8 MiB); small values let tests cross chunk edges. */
  scanChunkBytes?: number;
}

export interface OffsetTableInfo {
  path: string;
  rows: number;
  /** True when the table was (re)built by this call, false when an existing one was reused. */
  built: boolean;
}

async function statCorpus(corpusPath: string) {
  try {
    const s = await stat(corpusPath);
    if (!s.isFile()) throw new TesseraError('INVALID_ARGUMENT', `corpus ${corpusPath} is not a file: pass a .jsonl file`);
    return s;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new TesseraError('NOT_FOUND', `corpus file not found: ${corpusPath}`, { cause: e });
    }
    throw e;
  }
}

/** Reads a table's header and trailer; returns its row count when it matches the corpus, else undefined. */
async function matchingTable(tablePath: string, size: number, mtimeMs: number): Promise<number | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(tablePath, 'r');
  } catch {
    return undefined;
  }
  try {
    const st = await handle.stat();
    // A folder opens for reading on Linux; its first read would fail with a bare EISDIR naming no path.
    if (st.isDirectory()) {
      throw new TesseraError('INVALID_ARGUMENT', `the corpus's offset table ${tablePath} is a folder: give a file path for the table (serve --offsets FILE)`);
    }
    const bytes = st.size;
    if (bytes < HEADER_BYTES + TRAILER_BYTES || (bytes - HEADER_BYTES - TRAILER_BYTES) % 8 !== 0) return undefined;
    const head = Buffer.alloc(HEADER_BYTES);
    await handle.read(head, 0, HEADER_BYTES, 0);
    const tail = Buffer.alloc(TRAILER_BYTES);
    await handle.read(tail, 0, TRAILER_BYTES, bytes - TRAILER_BYTES);
    if (head.toString('latin1', 0, 8) !== MAGIC) return undefined;
    if (Number(head.readBigUInt64LE(8)) !== size || head.readDoubleLE(16) !== mtimeMs) return undefined;
    const rows = Number(tail.readBigUInt64LE(0));
    return rows * 8 === bytes - HEADER_BYTES - TRAILER_BYTES ? rows : undefined;
  } finally {
    await handle.close();
  }
}

/**
 * Makes sure `<corpus>.offsets` (or opts.offsetsPath) matches the corpus: reuses it when its recorded
 * size and mtime equal the corpus's, else scans the corpus once (streaming, progress in bytes) and
 * writes the table atomically. `tessera build` and `tessera serve` both call this.
 */
export async function ensureOffsetTable(corpusPath: string, opts: OffsetTableOptions = {}): Promise<OffsetTableInfo> {
  const path = opts.offsetsPath ?? offsetTablePath(corpusPath);
  const s = await statCorpus(corpusPath);
  if (!opts.rebuild) {
    const rows = await matchingTable(path, s.size, s.mtimeMs);
    if (rows !== undefined) return { path, rows, built: false };
  }
  const rows = await writeOffsetTable(corpusPath, path, s.size, s.mtimeMs, opts.onProgress, opts.scanChunkBytes ?? SCAN_CHUNK);
  return { path, rows, built: true };
}

async function writeOffsetTable(
  corpusPath: string,
  tablePath: string,
  size: number,
  mtimeMs: number,
  onProgress: ProgressCallback | undefined,
  chunkBytes: number,
): Promise<number> {
  const input = await open(corpusPath, 'r');
  const sink = await openAtomicFileSink(tablePath).catch(async (e: unknown) => {
    await input.close();
    throw e;
  });
  let rows = 0;
  try {
    const head = Buffer.alloc(HEADER_BYTES);
    head.write(MAGIC, 0, 'latin1');
    head.writeBigUInt64LE(BigInt(size), 8);
    head.writeDoubleLE(mtimeMs, 16);
    await sink.write(head);

    let pending = new BigUint64Array(FLUSH_ROWS);
    let npending = 0;
    const emit = async (offset: number) => {
      pending[npending++] = BigInt(offset);
      rows++;
      if (npending === FLUSH_ROWS) {
        await sink.write(new Uint8Array(pending.buffer));
        pending = new BigUint64Array(FLUSH_ROWS);
        npending = 0;
      }
    };

    const chunk = Buffer.alloc(chunkBytes);
    let base = 0;
    let lineStart = 0;
    let lineBytes = 0; // bytes of the current line seen so far, newline excluded
    let lastByte = -1;
    onProgress?.({ phase: 'indexing corpus rows', done: 0, total: size, unit: 'bytes' });
    while (base < size) {
      const { bytesRead } = await input.read(chunk, 0, Math.min(chunkBytes, size - base), base);
      if (bytesRead === 0) break;
      let pos = 0;
      for (;;) {
        const nl = chunk.indexOf(10, pos);
        const end = nl < 0 || nl >= bytesRead ? bytesRead : nl;
        if (end > pos) {
          lineBytes += end - pos;
          lastByte = chunk[end - 1]!;
        }
        if (end === bytesRead) break;
        if (lineBytes > 1 || (lineBytes === 1 && lastByte !== 13)) await emit(lineStart);
        lineStart = base + nl + 1;
        lineBytes = 0;
        lastByte = -1;
        pos = nl + 1;
      }
      base += bytesRead;
      onProgress?.({ phase: 'indexing corpus rows', done: base, total: size, unit: 'bytes' });
    }
    if (lineBytes > 1 || (lineBytes === 1 && lastByte !== 13)) await emit(lineStart);
    if (npending > 0) await sink.write(new Uint8Array(pending.buffer, 0, npending * 8));
    const tail = Buffer.alloc(TRAILER_BYTES);
    tail.writeBigUInt64LE(BigInt(rows), 0);
    await sink.write(tail);
    await sink.close();
  } catch (e) {
    // Not close(): that would rename a partial table over the good path. abort() removes the temp file.
    await sink.abort();
    throw e;
  } finally {
    await input.close();
  }
  return rows;
}

export interface OpenCorpusOptions extends OffsetTableOptions {}

/**
 * A jsonl corpus opened for reads by row position. Holds one file descriptor and the offset table
 * (8 bytes a row) in memory; rows are read with positional reads, never the whole file.
 */
export class Corpus {
  private constructor(
    readonly path: string,
    readonly offsetsPath: string,
    /** True when opening built the offset table; false when it reused a saved one. */
    readonly builtOffsets: boolean,
    private readonly handle: FileHandle,
    private readonly offsets: Float64Array,
    private readonly size: number,
  ) {}

  /** Opens `path`, building or reusing its offset table (see ensureOffsetTable). */
  static async open(path: string, opts: OpenCorpusOptions = {}): Promise<Corpus> {
    const info = await ensureOffsetTable(path, opts);
    const table = await open(info.path, 'r');
    let offsets: Float64Array;
    try {
      const raw = Buffer.alloc(info.rows * 8);
      let got = 0;
      while (got < raw.length) {
        const { bytesRead } = await table.read(raw, got, raw.length - got, HEADER_BYTES + got);
        if (bytesRead === 0) throw new TesseraError('FORMAT', `offset table ${info.path} ends at byte ${HEADER_BYTES + got}, expected ${HEADER_BYTES + raw.length}: delete it to rebuild`);
        got += bytesRead;
      }
      // Float64 holds byte offsets exactly up to 8 PiB and reads faster than BigInt.
      offsets = new Float64Array(info.rows);
      const view = new BigUint64Array(raw.buffer, raw.byteOffset, info.rows);
      for (let i = 0; i < info.rows; i++) offsets[i] = Number(view[i]!);
    } finally {
      await table.close();
    }
    const handle = await open(path, 'r');
    const size = (await handle.stat()).size;
    return new Corpus(path, info.path, info.built, handle, offsets, size);
  }

  /** Number of rows (non-empty lines). */
  get rows(): number {
    return this.offsets.length;
  }

  private checkRow(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.offsets.length) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `row ${i} is outside the corpus ${this.path} (${this.offsets.length} rows): the index and corpus do not match; rebuild the index from this corpus`,
      );
    }
  }

  /** Byte range [start, end) of row i, end excluding the newline and any empty lines after it. */
  private range(i: number): [number, number] {
    const start = this.offsets[i]!;
    const end = i + 1 < this.offsets.length ? this.offsets[i + 1]! : this.size;
    return [start, end];
  }

  /** The raw text of row i (the jsonl line as stored, without its line ending). */
  async row(i: number): Promise<string> {
    this.checkRow(i);
    const [start, end] = this.range(i);
    const buf = Buffer.alloc(end - start);
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await this.handle.read(buf, got, buf.length - got, start + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    return trimLineEnd(buf.toString('utf8', 0, got));
  }

  /** Raw rows for `ids`, in the order given (duplicates read once). */
  async rowsAt(ids: readonly number[]): Promise<string[]> {
    for (const i of ids) this.checkRow(i);
    const unique = [...new Set(ids)];
    const texts = await Promise.all(unique.map((i) => this.row(i)));
    const byId = new Map(unique.map((id, j) => [id, texts[j]!]));
    return ids.map((i) => byId.get(i)!);
  }

  /** Rows from `from` on, in order, read sequentially in large chunks (for `tessera build` and its resume). */
  async *iterate(from = 0): AsyncGenerator<{ row: number; text: string }> {
    if (from < 0 || from > this.offsets.length) this.checkRow(from);
    let i = from;
    while (i < this.offsets.length) {
      // Group rows into reads of about SCAN_CHUNK bytes (at least one row).
      const start = this.offsets[i]!;
      let j = i + 1;
      while (j < this.offsets.length && this.offsets[j]! - start < SCAN_CHUNK) j++;
      const end = j < this.offsets.length ? this.offsets[j]! : this.size;
      const buf = Buffer.alloc(end - start);
      let got = 0;
      while (got < buf.length) {
        const { bytesRead } = await this.handle.read(buf, got, buf.length - got, start + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      for (let r = i; r < j; r++) {
        const a = this.offsets[r]! - start;
        const b = r + 1 < j ? this.offsets[r + 1]! - start : got;
        yield { row: r, text: trimLineEnd(buf.toString('utf8', a, Math.min(b, got))) };
      }
      i = j;
    }
  }

  async close(): Promise<void> {
    await this.handle.close().catch(() => {});
  }
}

/** Strips the newline, a CR before it, and the empty lines that may follow a row. */
function trimLineEnd(s: string): string {
  let end = s.length;
  while (end > 0) {
    const c = s.charCodeAt(end - 1);
    if (c === 10 || c === 13) end--;
    else break;
  }
  return end === s.length ? s : s.slice(0, end);
}

/** Opens a corpus for reads by row: `Corpus.open` as a function. */
export function openCorpus(path: string, opts: OpenCorpusOptions = {}): Promise<Corpus> {
  return Corpus.open(path, opts);
}
