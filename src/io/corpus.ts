/**
 * A jsonl corpus read by row position through an offset table, so a 14 GB corpus costs no RAM
 * beyond 8 bytes a row. Node-only (file descriptors); reached through src/node.ts, never the core.
 *
 * Rows are the non-empty lines of the file (a line holding only "\r" counts as empty), numbered
 * from 0 in file order: row i is vector i of the index built from it. Search-R1's corpus has no
 * empty lines, so there row == line number. A UTF-8 byte order mark at the start of the file (as
 * Windows tools write one) is not part of row 0, nor one at the start of a later row (files joined by cat).
 *
 * Offset table file (little-endian), written atomically beside the corpus as `<corpus>.offsets`:
 *   bytes  0..7   magic "TSROWS01"
 *   bytes  8..15  u64 corpus size in bytes when the table was built
 *   bytes 16..23  f64 corpus mtime in ms when the table was built
 *   then   rows x u64 byte offset of the first byte of each row
 *   last 8 bytes  u64 row count (a truncated table fails this check and is rebuilt)
 * It is reused while the corpus's size and mtime equal the recorded ones and a sample of its offsets
 * still fall at line starts (an edit that kept size and mtime, e.g. by `touch -r`, moves them).
 * Reads check that a row still starts after a newline: a corpus edited in place while it is open
 * fails with FORMAT naming the fix instead of answering with shifted text.
 */
import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { open, realpath, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import type { FileHandle } from 'node:fs/promises';
import { TesseraError, formatBytes } from '../core/errors.js';
import type { ProgressCallback } from '../core/types.js';
import { openAtomicFileSink, readFully, removeLeftoversOf, userCacheDir } from './node-fs.js';

const MAGIC = 'TSROWS01';
const HEADER_BYTES = 24;
const TRAILER_BYTES = 8;
const SCAN_CHUNK = 8 << 20;
/** Offsets checked against the corpus when a saved table is reused. */
const SPOT_CHECKS = 256;
const UTF8_BOM = [0xef, 0xbb, 0xbf];
/** V8's longest string (0x1fffffe8 UTF-16 units); a row's bytes decode to at most as many. */
const MAX_ROW_BYTES = 0x1fffffe8;
/** Offsets buffered before each sink write while scanning. */
const FLUSH_ROWS = 1 << 16;

/** Where the offset table of `corpusPath` lives by default. */
export function offsetTablePath(corpusPath: string): string {
  return `${corpusPath}.offsets`;
}

/**
 * Where serve keeps the offset table of `corpusPath` when the corpus's folder cannot be written (a
 * shared, read-only dataset): $XDG_CACHE_HOME (else ~/.cache)/tessera/offsets/, named by the corpus's
 * file name and a hash of its real path, so every path to one corpus finds one table.
 */
export async function cachedOffsetTablePath(corpusPath: string): Promise<string> {
  const real = await realpath(corpusPath).catch(() => resolve(corpusPath));
  const key = createHash('sha256').update(real).digest('hex').slice(0, 16);
  return join(userCacheDir(), 'offsets', `${basename(real)}.${key}.offsets`);
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
  /** Stops a scan (minutes on wiki-18) between chunks with the signal's reason, leaving no table. */
  signal?: AbortSignal;
  /**
   * Whether a scan looks for lines that are not UTF-8 (OffsetTableInfo.nonUtf8); default true. False
   * for a caller that checks each row as it reads it anyway (build), so the check runs once.
   */
  checkUtf8?: boolean;
  /** Human-readable notes: temp files of this table that killed writers left, removed (removeLeftoversOf), or kept as another machine's. */
  say?: (line: string) => void;
}

export interface OffsetTableInfo {
  path: string;
  rows: number;
  /** True when the table was (re)built by this call, false when an existing one was reused. */
  built: boolean;
  /** Lines that are not valid UTF-8 (read with U+FFFD for their bad bytes), found by the scan of a build; undefined for a reused table or checkUtf8 false. */
  nonUtf8?: NonUtf8Lines;
}

/** Lines of a corpus that are not valid UTF-8: how many, and the first few (1-based line numbers). */
export interface NonUtf8Lines {
  count: number;
  first: number[];
}

/** Bad lines listed in NonUtf8Lines.first (and bad rows by number in build's messages and build.json). */
export const NON_UTF8_LISTED = 10;

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

/** Compressed files by their magic bytes: their rows cannot be read by byte offset. */
const COMPRESSED: { name: string; magic: number[]; undo: string }[] = [
  { name: 'gzip', magic: [0x1f, 0x8b], undo: 'gunzip -k' },
  { name: 'zstd', magic: [0x28, 0xb5, 0x2f, 0xfd], undo: 'zstd -d' },
  { name: 'bzip2', magic: [0x42, 0x5a, 0x68], undo: 'bunzip2 -k' },
  { name: 'xz', magic: [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00], undo: 'unxz -k' },
];

/**
 * Refuses a compressed or UTF-16 corpus (wiki-18 ships as wiki-18.jsonl.gz): scanned as text it gave rows of
 * binary garbage, every one a bad row (a build of zero vectors) or a row count that matched nothing.
 */
async function checkPlainText(corpusPath: string): Promise<void> {
  const handle = await open(corpusPath, 'r');
  try {
    const head = Buffer.alloc(6);
    const { bytesRead } = await handle.read(head, 0, 6, 0);
    const hit = COMPRESSED.find((c) => c.magic.length <= bytesRead && c.magic.every((b, i) => head[i] === b));
    if (hit) {
      throw new TesseraError(
        'FORMAT',
        `corpus ${corpusPath} is ${hit.name}-compressed: rows are read by byte offset from plain jsonl; decompress it first (${hit.undo} ${corpusPath}) and pass the .jsonl`,
      );
    }
    // Windows' "Unicode" text: every newline is followed by a NUL, so every row was a bad row.
    const utf16 = bytesRead >= 2 && ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff));
    if (utf16) {
      const from = head[0] === 0xff ? 'UTF-16LE' : 'UTF-16BE';
      throw new TesseraError('FORMAT', `corpus ${corpusPath} is ${from} text: tessera reads UTF-8 jsonl; convert it first (iconv -f ${from} -t UTF-8 ${corpusPath} > corpus.jsonl)`);
    }
  } finally {
    await handle.close();
  }
}

/**
 * Checks that `corpusPath` is a plain (uncompressed, not UTF-16) file, reading only its first
 * bytes: `tessera build` and `serve` call it before loading a model, so a wrong corpus fails in
 * seconds, not after minutes of loading.
 */
export async function checkCorpusFile(corpusPath: string): Promise<void> {
  await statCorpus(corpusPath);
  await checkPlainText(corpusPath);
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
  await checkPlainText(corpusPath);
  // The table is written by renaming over its path: were that the corpus (serve --offsets naming
  // the .jsonl, or a link to it), the corpus would be replaced by its own offset table.
  const table = await stat(path).catch(() => undefined);
  if (resolve(path) === resolve(corpusPath) || (table !== undefined && table.ino === s.ino && table.dev === s.dev)) {
    throw new TesseraError('INVALID_ARGUMENT', `the offset table path ${path} is the corpus ${corpusPath} itself: give the table its own file (serve --offsets ${offsetTablePath(corpusPath)})`);
  }
  // Those of a serve killed while writing the table (kill -9 during its scan): hidden, 8 bytes a corpus row.
  await removeLeftoversOf(path, opts.say, `the offset table ${path}`);
  if (!opts.rebuild) {
    const rows = await matchingTable(path, s.size, s.mtimeMs);
    if (rows !== undefined) return { path, rows, built: false };
  }
  const checkUtf8 = opts.checkUtf8 ?? true;
  const nonUtf8: NonUtf8Lines = { count: 0, first: [] };
  const onNonUtf8Line = (line: number) => {
    if (nonUtf8.count++ < NON_UTF8_LISTED) nonUtf8.first.push(line);
  };
  const rows = await writeOffsetTable(corpusPath, path, s.size, s.mtimeMs, opts.onProgress, opts.scanChunkBytes ?? SCAN_CHUNK, checkUtf8 ? onNonUtf8Line : undefined, opts.signal);
  return { path, rows, built: true, ...(checkUtf8 ? { nonUtf8 } : {}) };
}

async function writeOffsetTable(
  corpusPath: string,
  tablePath: string,
  size: number,
  mtimeMs: number,
  onProgress: ProgressCallback | undefined,
  chunkBytes: number,
  onNonUtf8Line: ((line: number) => void) | undefined,
  signal: AbortSignal | undefined,
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
    const emit = async (offset: number): Promise<undefined> => {
      pending[npending++] = BigInt(offset);
      rows++;
      if (npending === FLUSH_ROWS) {
        await sink.write(new Uint8Array(pending.buffer));
        pending = new BigUint64Array(FLUSH_ROWS);
        npending = 0;
      }
    };

    onProgress?.({ phase: 'indexing corpus rows', done: 0, total: size, unit: 'bytes' });
    const onBytes = (done: number) => {
      signal?.throwIfAborted();
      onProgress?.({ phase: 'indexing corpus rows', done, total: size, unit: 'bytes' });
    };
    await scanRows(input, size, chunkBytes, emit, onBytes, onNonUtf8Line);
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

/**
 * Calls onRow(byte offset, 1-based line number) for each row (non-empty line, a lone "\r" counting
 * as empty; a leading UTF-8 BOM skipped) in file order, until it returns true. The one definition of
 * a row: the offset table and the line numbers of build's messages both come from here.
 */
async function scanRows(
  input: FileHandle,
  size: number,
  chunkBytes: number,
  onRow: (offset: number, line: number) => Promise<boolean | undefined> | boolean | undefined,
  onBytes?: (done: number) => void,
  onNonUtf8Line?: (line: number) => void,
): Promise<void> {
  const bom = Buffer.alloc(3);
  const { bytesRead: bomBytes } = await input.read(bom, 0, 3, 0);
  let base = bomBytes === 3 && UTF8_BOM.every((b, i) => bom[i] === b) ? 3 : 0;
  const chunk = Buffer.alloc(chunkBytes);
  let lineStart = base;
  let line = 1;
  let lineBytes = 0; // bytes of the current line seen so far, newline excluded
  let lastByte = -1;
  const utf8 = onNonUtf8Line ? new Utf8LineCheck(onNonUtf8Line) : undefined;
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
      if ((lineBytes > 1 || (lineBytes === 1 && lastByte !== 13)) && (await onRow(lineStart, line))) return;
      lineStart = base + nl + 1;
      line++;
      lineBytes = 0;
      lastByte = -1;
      pos = nl + 1;
    }
    utf8?.chunk(chunk.subarray(0, bytesRead));
    base += bytesRead;
    onBytes?.(base);
  }
  utf8?.end();
  if (lineBytes > 1 || (lineBytes === 1 && lastByte !== 13)) await onRow(lineStart, line);
}

/**
 * Finds the lines of a file, fed chunk by chunk, that are not valid UTF-8 (Buffer.toString reads their
 * bad bytes as U+FFFD). Checks whole lines only, so a character split between two chunks is not taken
 * for a bad one; the lines between a chunk's first and last newline in one isUtf8 call (simdutf).
 */
class Utf8LineCheck {
  /** The bytes of the line the last chunk ended in not yet checked (copied: the chunk buffer is reused). */
  private carry = Buffer.alloc(0);
  /** Whether bytes of carry's line already checked, and dropped from carry, were bad. */
  private carryBad = false;
  /** 1-based line number of carry's line. */
  private line = 1;

  constructor(private readonly onBad: (line: number) => void) {}

  chunk(bytes: Buffer): void {
    const first = bytes.indexOf(10);
    if (first < 0) {
      this.extend(bytes);
      return;
    }
    const last = bytes.lastIndexOf(10);
    this.extend(bytes.subarray(0, first));
    if (this.carryBad || !isUtf8(this.carry)) this.onBad(this.line);
    this.line++;
    this.lines(bytes.subarray(first + 1, last + 1));
    this.carry = Buffer.from(bytes.subarray(last + 1));
    this.carryBad = false;
  }

  end(): void {
    if (this.carryBad || !isUtf8(this.carry)) this.onBad(this.line);
  }

  /**
   * Adds bytes to carry's line. A line without end (a .json array of many GB passed as the corpus)
   * is checked as it grows, all but a character the chunk may have cut, so carry stays small.
   */
  private extend(bytes: Buffer): void {
    this.carry = this.carry.length ? Buffer.concat([this.carry, bytes]) : Buffer.from(bytes);
    if (this.carry.length <= CARRY_CHECK_BYTES) return;
    // Back over up to 3 continuation bytes (10xxxxxx) to the start of the last character.
    let cut = this.carry.length - 1;
    while (cut > 0 && this.carry.length - cut < 4 && (this.carry[cut]! & 0xc0) === 0x80) cut--;
    if (!isUtf8(this.carry.subarray(0, cut))) this.carryBad = true;
    this.carry = Buffer.from(this.carry.subarray(cut));
  }

  /** Whole lines, each ended by its newline: reports the bad ones, counts them all. */
  private lines(bytes: Buffer): void {
    if (isUtf8(bytes)) {
      this.line += count(bytes, 10);
      return;
    }
    for (let pos = 0; pos < bytes.length; ) {
      const nl = bytes.indexOf(10, pos);
      const end = nl < 0 ? bytes.length : nl;
      if (!isUtf8(bytes.subarray(pos, end))) this.onBad(this.line);
      if (nl < 0) break;
      this.line++;
      pos = nl + 1;
    }
  }
}

/** Bytes of a line held unchecked by Utf8LineCheck before it checks them. */
const CARRY_CHECK_BYTES = 16 << 20;

function count(bytes: Buffer, byte: number): number {
  let n = 0;
  for (let at = bytes.indexOf(byte); at >= 0; at = bytes.indexOf(byte, at + 1)) n++;
  return n;
}

/** 1-based line numbers of the given 0-based rows (for messages: rows skip empty lines, editors count them). */
export async function lineNumbersOf(corpusPath: string, rows: readonly number[]): Promise<Map<number, number>> {
  const want = new Set(rows);
  const out = new Map<number, number>();
  if (want.size === 0) return out;
  const input = await open(corpusPath, 'r');
  try {
    let row = 0;
    await scanRows(input, (await input.stat()).size, SCAN_CHUNK, (_offset, line) => {
      if (want.has(row)) out.set(row, line);
      row++;
      return out.size === want.size;
    });
  } finally {
    await input.close();
  }
  return out;
}

export interface OpenCorpusOptions extends OffsetTableOptions {
  /** Called with a row read by row() or rowsAt() that is not valid UTF-8 (its bad bytes read as U+FFFD), each time it is read. */
  onNonUtf8Row?: (row: number) => void;
}

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
    /** Lines that are not UTF-8, when opening scanned the corpus (built the table); undefined otherwise. */
    readonly nonUtf8Lines: NonUtf8Lines | undefined,
    private readonly onNonUtf8Row: ((row: number) => void) | undefined,
  ) {}

  /** Opens `path`, building or reusing its offset table (see ensureOffsetTable). */
  static async open(path: string, opts: OpenCorpusOptions = {}): Promise<Corpus> {
    let info = await ensureOffsetTable(path, opts);
    let offsets = await readOffsets(info.path, info.rows);
    const handle = await open(path, 'r');
    try {
      const size = (await handle.stat()).size;
      if (!info.built && !(await offsetsFit(handle, offsets, size))) {
        // Same size and mtime, other line breaks: the table describes an earlier version of the file.
        info = await ensureOffsetTable(path, { ...opts, rebuild: true });
        offsets = await readOffsets(info.path, info.rows);
      }
      return new Corpus(path, info.path, info.built, handle, offsets, size, info.nonUtf8, opts.onNonUtf8Row);
    } catch (e) {
      await handle.close();
      throw e;
    }
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
    this.checkRowLength(i, end - start);
    // From the byte before the row: a newline there shows the row still starts where the table says.
    const from = start > 0 ? start - 1 : 0;
    const buf = Buffer.alloc(end - from);
    const got = await readFully(this.handle, buf, 0, buf.length, from);
    // The file is shorter than when it was opened: truncated or rewritten.
    if (got < buf.length) throw this.changed(i, start);
    const text = this.rowText(i, buf, start - from, got, start);
    if (this.onNonUtf8Row && !isUtf8(buf.subarray(start - from, got))) this.onNonUtf8Row(i);
    return text;
  }

  /**
   * Refuses a row longer than a JavaScript string holds (FORMAT): read, it failed with V8's "Cannot
   * create a string longer than 0x1fffffe8 characters"; such a row is a JSON array, not jsonl.
   */
  private checkRowLength(i: number, bytes: number): void {
    if (bytes <= MAX_ROW_BYTES) return;
    throw new TesseraError(
      'FORMAT',
      `row ${i} of ${this.path} is ${formatBytes(bytes)} long, more than a row can be read as text (${formatBytes(MAX_ROW_BYTES)}): a jsonl corpus holds one JSON object a line; ` +
        `a JSON array file converts with jq -c '.[]' ${this.path} > corpus.jsonl`,
    );
  }

  private changed(i: number, start: number): TesseraError {
    return new TesseraError(
      'FORMAT',
      `corpus ${this.path} changed after its offset table ${this.offsetsPath} was built: row ${i} no longer starts at byte ${start}, so rows read now would be other passages; ` +
        `restart on the unchanged corpus, or delete ${this.offsetsPath} (and rebuild the index if rows were added, removed or reordered)`,
    );
  }

  /**
   * Row i's text from buf[a, b), read from file offset `start` (the row's first byte); buf[a - 1],
   * when a > 0, is the byte before the row. Throws FORMAT when the row is not where the table puts
   * it: the corpus was edited after the table was built.
   */
  private rowText(i: number, buf: Buffer, a: number, b: number, start: number): string {
    const text = trimLineEnd(buf.toString('utf8', a, b));
    // Row 0 may start after a byte order mark (offset 3), so only later rows are checked before.
    if ((i > 0 && a > 0 && buf[a - 1] !== 10) || text.includes('\n') || b === a) throw this.changed(i, start);
    // A BOM where a row starts is no part of it (JSON may not start with one): files joined by cat
    // carry one at each junction, and a table built before BOMs were skipped puts row 0 at byte 0.
    return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  }

  /** Raw rows for `ids`, in the order given (duplicates read once). */
  async rowsAt(ids: readonly number[]): Promise<string[]> {
    for (const i of ids) this.checkRow(i);
    const unique = [...new Set(ids)];
    const texts = await Promise.all(unique.map((i) => this.row(i)));
    const byId = new Map(unique.map((id, j) => [id, texts[j]!]));
    return ids.map((i) => byId.get(i)!);
  }

  /** Byte offset in the file where row i starts; the file's size for i = rows (where row i would start). */
  startOf(i: number): number {
    if (i === this.offsets.length) return this.size;
    this.checkRow(i);
    return this.offsets[i]!;
  }

  /**
   * Rows from `from` on, in order, read sequentially in large chunks (for `tessera build` and its
   * resume). `bytes` is the row's raw bytes as stored, [startOf(row), startOf(row + 1)): its line
   * ending and any empty lines after it included.
   */
  async *iterate(from = 0): AsyncGenerator<{ row: number; text: string; bytes: Buffer }> {
    if (from < 0 || from > this.offsets.length) this.checkRow(from);
    let i = from;
    while (i < this.offsets.length) {
      // Group rows into reads of about SCAN_CHUNK bytes (at least one row).
      const first = this.offsets[i]!;
      let j = i + 1;
      while (j < this.offsets.length && this.offsets[j]! - first < SCAN_CHUNK) j++;
      const end = j < this.offsets.length ? this.offsets[j]! : this.size;
      if (j === i + 1) this.checkRowLength(i, end - first);
      // From the byte before the first row, as row() reads, for rowText's check.
      const from = first > 0 ? first - 1 : 0;
      const buf = Buffer.alloc(end - from);
      const got = await readFully(this.handle, buf, 0, buf.length, from);
      if (got < buf.length) throw this.changed(i, first);
      for (let r = i; r < j; r++) {
        const a = this.offsets[r]! - from;
        const b = r + 1 < j ? this.offsets[r + 1]! - from : got;
        const [ra, rb] = [Math.min(a, got), Math.min(b, got)];
        yield { row: r, text: this.rowText(r, buf, ra, rb, this.offsets[r]!), bytes: buf.subarray(ra, rb) };
      }
      i = j;
    }
  }

  async close(): Promise<void> {
    await this.handle.close().catch(() => {});
  }
}

async function readOffsets(tablePath: string, rows: number): Promise<Float64Array> {
  const table = await open(tablePath, 'r');
  try {
    const raw = Buffer.alloc(rows * 8);
    const got = await readFully(table, raw, 0, raw.length, HEADER_BYTES);
    if (got < raw.length) throw new TesseraError('FORMAT', `offset table ${tablePath} ends at byte ${HEADER_BYTES + got}, expected ${HEADER_BYTES + raw.length}: delete it to rebuild`);
    // Float64 holds byte offsets exactly up to 8 PiB and reads faster than BigInt.
    const offsets = new Float64Array(rows);
    const view = new BigUint64Array(raw.buffer, raw.byteOffset, rows);
    for (let i = 0; i < rows; i++) offsets[i] = Number(view[i]!);
    return offsets;
  } finally {
    await table.close();
  }
}

/**
 * Whether a sample of a reused table's offsets (evenly spread, first and last included) still fall
 * inside the file at line starts: a newline before each, and none at it.
 */
async function offsetsFit(handle: FileHandle, offsets: Float64Array, size: number): Promise<boolean> {
  const n = offsets.length;
  if (n === 0) return true;
  const picks = new Set<number>();
  const count = Math.min(n, SPOT_CHECKS);
  for (let s = 0; s < count; s++) picks.add(count === 1 ? 0 : Math.round((s * (n - 1)) / (count - 1)));
  const two = Buffer.alloc(2);
  for (const i of picks) {
    const at = offsets[i]!;
    if (at >= size || (i > 0 && offsets[i - 1]! >= at)) return false;
    const from = at > 0 ? at - 1 : 0;
    const { bytesRead } = await handle.read(two, 0, 2, from);
    const before = at > 0 ? two[0] : 10;
    const first = at > 0 ? two[1] : two[0];
    if (bytesRead < (at > 0 ? 2 : 1) || (i > 0 && before !== 10) || first === 10) return false;
  }
  return true;
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

/** The warning for rows that are not UTF-8 (build and serve): how many, the first lines, and the fix. */
export function nonUtf8Note(corpus: string, count: number, firstLines: readonly number[]): string {
  const more = count > firstLines.length ? `, ... (${count - firstLines.length} more)` : '';
  return (
    `${corpus}: ${count} row${count === 1 ? ' is' : 's are'} not valid UTF-8, read with U+FFFD (the replacement character) for the bad bytes: ` +
    `line${firstLines.length === 1 ? '' : 's'} ${firstLines.join(', ')}${more}; if the corpus is in another encoding, convert it (iconv -f <its encoding> -t UTF-8) and build the index again`
  );
}

/** Opens a corpus for reads by row: `Corpus.open` as a function. */
export function openCorpus(path: string, opts: OpenCorpusOptions = {}): Promise<Corpus> {
  return Corpus.open(path, opts);
}
