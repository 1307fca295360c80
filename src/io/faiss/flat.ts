/**
 * FAISS IndexFlatIP ("IxFI"), IndexFlatL2 ("IxF2") and IndexFlat ("IxFl") files, the format of
 * Search-R1's e5_Flat.index (FAISS impl/index_read.cpp, index_write.cpp), little-endian:
 *
 *   char[4] fourcc | index header (header.ts) | uint64 n = ntotal * d | float32[n] rows, row-major
 *
 * Rows are streamed in bounded chunks: no buffer the size of the file is ever made, so a 60 GiB
 * index can flow from disk (or a pipe) straight into GPU tiles or WASM memory.
 */
import { TesseraError } from '../../core/errors.js';
import type { ByteSink, ByteSource, Metric, ProgressCallback } from '../../core/types.js';
import { openSource, writeToTarget } from '../../platform.js';
import { ByteReader, bytesOf, float32View } from '../byte-reader.js';
import {
  encodeIndexHeader,
  type FaissFileInfo,
  type FaissFormat,
  type FaissIndexHeader,
  readIndexHeader,
  requireMetric,
} from './header.js';

export const FLAT_FOURCC_IP = 'IxFI';
export const FLAT_FOURCC_L2 = 'IxF2';
/** IndexFlat with the metric in its header (FAISS writes it for metrics other than IP and L2). */
export const FLAT_FOURCC_ANY = 'IxFl';

/** Default bytes per streamed chunk: large enough for disk speed, small enough to never matter. */
export const DEFAULT_CHUNK_BYTES = 16 << 20;

/** Where the rows of a flat index lie in its file. */
export interface FlatLayout extends FaissIndexHeader {
  fourcc: string;
  metric: Metric;
  /** Byte offset of the fourcc (0 for a top-level index; inside the file for an HNSW storage). */
  start: number;
  /** Byte offset of row 0. */
  dataOffset: number;
  /** Byte offset just past the last row. */
  end: number;
  /** Bytes per row: 4 * d. */
  rowBytes: number;
}

/**
 * Reads a flat index's fourcc, header and vector size at the reader's offset, checks them against
 * each other and the file size, and leaves the reader just past the rows (so a container format,
 * e.g. IndexHNSWFlat's storage, reads on).
 */
export async function readFlatHeader(r: ByteReader): Promise<FlatLayout> {
  const start = r.offset;
  const fourcc = await r.fourcc('fourcc of a flat index ("IxFI", "IxF2" or "IxFl")');
  if (fourcc !== FLAT_FOURCC_IP && fourcc !== FLAT_FOURCC_L2 && fourcc !== FLAT_FOURCC_ANY) {
    throw r.error(`expected a flat index fourcc "IxFI", "IxF2" or "IxFl", found ${JSON.stringify(fourcc)}`, start);
  }
  return readFlatAfterFourcc(r, fourcc, start);
}

async function readFlatAfterFourcc(r: ByteReader, fourcc: string, start: number): Promise<FlatLayout> {
  const headerAt = r.offset;
  const header = await readIndexHeader(r);
  const wantType = fourcc === FLAT_FOURCC_IP ? 0 : fourcc === FLAT_FOURCC_L2 ? 1 : undefined;
  if (wantType !== undefined && header.metricType !== wantType) {
    // FAISS itself would trust the header; a mismatch means the bytes were damaged.
    throw r.error(
      `fourcc "${fourcc}" means metric_type ${wantType} (${wantType === 0 ? 'inner product' : 'L2'}) but the header says ${header.metricType}; the file is corrupt`,
      headerAt + 29,
    );
  }
  const metric = requireMetric(header, r.label);
  const sizeAt = r.offset;
  const n = await r.u64('uint64 number of stored floats (ntotal * d)');
  const want = BigInt(header.ntotal) * BigInt(header.d);
  if (n !== want) {
    throw r.error(
      `bad vector size: the file stores ${n} floats but ntotal * d = ${header.ntotal} * ${header.d} = ${want}; the file is corrupt`,
      sizeAt,
    );
  }
  const dataOffset = r.offset;
  const rowBytes = header.d * 4;
  const end = dataOffset + header.ntotal * rowBytes;
  if (end > r.size) {
    const rows = Math.floor((r.size - dataOffset) / rowBytes);
    throw new TesseraError(
      'FORMAT',
      `${r.label}: truncated: expected ${header.ntotal} rows of ${header.d} float32 (${header.ntotal * rowBytes} bytes) from byte offset ${dataOffset} to ${end}, ` +
        `but the file ends at byte ${r.size} (${rows} complete rows): the file is incomplete (copy or write it again)`,
    );
  }
  r.offset = end;
  return { ...header, fourcc, metric, start, dataOffset, end, rowBytes };
}

/** Opens nothing: the layout of a flat index file at `offset` (default 0) of `source`. */
export async function readFlatLayout(source: ByteSource, offset = 0, label = 'index file'): Promise<FlatLayout> {
  return readFlatHeader(new ByteReader(source, offset, label));
}

/** A run of consecutive rows: rows [start, start + count) as count x d floats. */
export interface RowChunk {
  start: number;
  count: number;
  data: Float32Array;
}

export interface StreamRowsOptions {
  /** Upper bound on bytes per chunk (default 16 MiB; at least one row). */
  chunkBytes?: number;
  /** First row to stream (default 0). */
  firstRow?: number;
  /** Rows to stream (default: to the end). */
  rowCount?: number;
  /** Reported in rows; phase "reading index" unless given. */
  onProgress?: ProgressCallback;
  phase?: string;
  signal?: AbortSignal;
  /** Names the input in error messages (default "file"). */
  label?: string;
}

/**
 * Streams rows of a flat index in chunks of at most `chunkBytes`. Each chunk's `data` is a fresh
 * array the consumer may keep or transfer. Short reads (the file shrank) raise FORMAT.
 */
export async function* streamFlatRows(source: ByteSource, layout: FlatLayout, opts: StreamRowsOptions = {}): AsyncGenerator<RowChunk> {
  const first = opts.firstRow ?? 0;
  const count = opts.rowCount ?? layout.ntotal - first;
  checkRowRange(first, count, layout.ntotal);
  yield* streamRows(source, layout.dataOffset, layout.d, first, count, opts, 'reading index');
}

/** Refuses rows [first, first + count) that are not whole rows of an index of `ntotal` (INVALID_ARGUMENT). */
export function checkRowRange(first: number, count: number, ntotal: number): void {
  if (!Number.isInteger(first) || !Number.isInteger(count) || first < 0 || count < 0 || first + count > ntotal) {
    throw new TesseraError('INVALID_ARGUMENT', `rows [${first}, ${first + count}) are outside the index's ${ntotal} rows`);
  }
}

/** Streams `count` contiguous float32 rows of width d starting at row `first` of a matrix at byte `base`. */
export async function* streamRows(
  source: ByteSource,
  base: number,
  d: number,
  first: number,
  count: number,
  opts: StreamRowsOptions,
  defaultPhase: string,
): AsyncGenerator<RowChunk> {
  const label = opts.label ?? 'file';
  const rowBytes = d * 4;
  const perChunk = Math.max(1, Math.floor((opts.chunkBytes ?? DEFAULT_CHUNK_BYTES) / rowBytes));
  const phase = opts.phase ?? defaultPhase;
  opts.onProgress?.({ phase, done: 0, total: count, unit: 'rows' });
  for (let done = 0; done < count; ) {
    if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('aborted');
    const rows = Math.min(perChunk, count - done);
    const at = base + (first + done) * rowBytes;
    const bytes = await source.read(at, rows * rowBytes);
    if (bytes.length !== rows * rowBytes) {
      throw new TesseraError(
        'FORMAT',
        `${label}: truncated: expected ${rows * rowBytes} bytes of rows at byte offset ${at}, read ${bytes.length} (the file changed or ends early)`,
      );
    }
    yield { start: first + done, count: rows, data: float32View(bytes) };
    done += rows;
    opts.onProgress?.({ phase, done, total: count, unit: 'rows' });
  }
}

/**
 * Reads a whole flat index file into memory: for small indexes and tests. Backends should stream
 * with `readFlatLayout` + `streamFlatRows` instead.
 */
export async function readFlatIndexData(
  target: string | ByteSource,
  opts: StreamRowsOptions = {},
): Promise<{ layout: FlatLayout; data: Float32Array }> {
  const source = await openSource(target);
  try {
    const label = typeof target === 'string' ? target : 'index file';
    const layout = await readFlatLayout(source, 0, label);
    const data = new Float32Array(layout.ntotal * layout.d);
    for await (const chunk of streamFlatRows(source, layout, { label, ...opts })) data.set(chunk.data, chunk.start * layout.d);
    return { layout, data };
  } finally {
    if (typeof target === 'string') await source.close();
  }
}

/** Rows to write: one array, or chunks (each a whole number of rows) from any (async) iterable. */
export type RowsInput = Float32Array | Iterable<Float32Array> | AsyncIterable<Float32Array>;

/** The bytes of a flat index before its rows: fourcc, header, vector size. */
export function encodeFlatHeader(d: number, ntotal: number, metric: Metric): Uint8Array {
  const header = encodeIndexHeader(d, ntotal, metric);
  const out = new Uint8Array(4 + header.length + 8);
  const fourcc = metric === 'ip' ? FLAT_FOURCC_IP : FLAT_FOURCC_L2;
  for (let i = 0; i < 4; i++) out[i] = fourcc.charCodeAt(i);
  out.set(header, 4);
  new DataView(out.buffer).setBigUint64(4 + header.length, BigInt(ntotal) * BigInt(d), true);
  return out;
}

/**
 * Writes a flat index (header then rows) into `sink` without closing it, so container formats can
 * embed it. Throws INVALID_ARGUMENT, having written only the header and whole chunks, when the rows
 * do not add up to ntotal x d.
 */
export async function writeFlatTo(
  sink: ByteSink,
  d: number,
  metric: Metric,
  ntotal: number,
  rows: RowsInput,
  opts: { onProgress?: ProgressCallback; phase?: string } = {},
): Promise<void> {
  await sink.write(encodeFlatHeader(d, ntotal, metric));
  const want = ntotal * d;
  const phase = opts.phase ?? 'writing index';
  let written = 0;
  opts.onProgress?.({ phase, done: 0, total: ntotal, unit: 'rows' });
  const chunks: Iterable<Float32Array> | AsyncIterable<Float32Array> = rows instanceof Float32Array ? [rows] : rows;
  for await (const chunk of chunks) {
    if (!(chunk instanceof Float32Array) || chunk.length % d !== 0 || written + chunk.length > want) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `rows to write must be Float32Arrays of whole rows adding up to ${ntotal} x ${d}; got a chunk of ${(chunk as Float32Array)?.length} values after ${written}`,
      );
    }
    // Large chunks go out in bounded slices so a sink never holds more than one.
    for (let o = 0; o < chunk.length; o += DEFAULT_CHUNK_BYTES >>> 2) {
      await sink.write(bytesOf(chunk.subarray(o, Math.min(chunk.length, o + (DEFAULT_CHUNK_BYTES >>> 2)))));
    }
    written += chunk.length;
    opts.onProgress?.({ phase, done: written / d, total: ntotal, unit: 'rows' });
  }
  if (written !== want) {
    throw new TesseraError('INVALID_ARGUMENT', `rows to write add up to ${written / d} x ${d}, expected ${ntotal} x ${d}`);
  }
}

/**
 * Writes a FAISS flat index file ("IxFI" for ip, "IxF2" for l2) to a path (atomically) or a sink,
 * then closes it. On failure a path's temp file is removed and the target left untouched.
 */
export async function writeFlatIndex(
  target: string | ByteSink,
  d: number,
  metric: Metric,
  ntotal: number,
  rows: RowsInput,
  opts: { onProgress?: ProgressCallback; phase?: string } = {},
): Promise<void> {
  await writeToTarget(target, (sink) => writeFlatTo(sink, d, metric, ntotal, rows, opts));
}

function flatInfo(layout: FlatLayout): FaissFileInfo {
  return {
    fourcc: layout.fourcc,
    type: layout.fourcc === FLAT_FOURCC_IP ? 'IndexFlatIP' : layout.fourcc === FLAT_FOURCC_L2 ? 'IndexFlatL2' : 'IndexFlat',
    description: 'Flat',
    d: layout.d,
    ntotal: layout.ntotal,
    metric: layout.metric,
    metricName: layout.metricName,
    isTrained: layout.isTrained,
    details: { dataOffset: layout.dataOffset, rowBytes: layout.rowBytes },
  };
}

/** Registry entries (formats.ts) for the three flat fourccs. */
export const flatFormats: FaissFormat[] = [FLAT_FOURCC_IP, FLAT_FOURCC_L2, FLAT_FOURCC_ANY].map((fourcc) => ({
  fourcc,
  kind: 'flat' as const,
  type: fourcc === FLAT_FOURCC_IP ? 'IndexFlatIP' : fourcc === FLAT_FOURCC_L2 ? 'IndexFlatL2' : 'IndexFlat',
  async inspect(r: ByteReader, fcc: string) {
    const layout = await readFlatAfterFourcc(r, fcc, r.offset - 4);
    return { info: flatInfo(layout), structure: layout };
  },
}));
