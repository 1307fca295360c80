/**
 * Vector files: NumPy .npy (float32, C order, little-endian; NumPy format spec
 * numpy/lib/format.py), .fvecs (per row: int32 d, then d float32; the TEXMEX/FAISS benchmark
 * format) and raw .f32 (row-major float32 without a header; the dimension is given). Read whole
 * (queries) or streamed in bounded chunks (large base sets). The library's entry loads this module on
 * demand (io/vectors-lazy.ts); the CLI imports it directly.
 */
import { formatBytes, TesseraError } from '../core/errors.js';
import type { ByteSink, ByteSource } from '../core/types.js';
import { MAX_DIMENSION } from '../core/validate.js';
import { openSource, writeToTarget } from '../platform.js';
import { ByteReader, bytesOf } from './byte-reader.js';
import { DEFAULT_CHUNK_BYTES, type RowChunk, type StreamRowsOptions, streamRows } from './faiss/flat.js';
import { vectorFormatOf } from './vector-format.js';

export type VectorFileFormat = 'npy' | 'fvecs' | 'f32';

export interface VectorFileOptions {
  /** Default: from the file extension (.npy, .fvecs, .f32). A file with the .npy magic is read as .npy whatever its name or this says. */
  format?: VectorFileFormat;
  /** Vector dimension: required for raw .f32, checked against the file for the others. */
  dim?: number;
  /** Names the file in messages (default: the path, or "vector file"). */
  label?: string;
}

/** Where the rows of a vector file lie. */
export interface VectorFileLayout {
  format: VectorFileFormat;
  n: number;
  d: number;
  /** Byte offset of row 0's first float. */
  dataOffset: number;
  label: string;
}

const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

/** Whether the source starts with the .npy magic "\x93NUMPY", whatever its name says. */
export async function hasNpyMagic(source: ByteSource): Promise<boolean> {
  const head = await source.read(0, 6);
  return head.length === 6 && NPY_MAGIC.every((b, i) => head[i] === b);
}

export { vectorFormatOf };

/** Reads the header of a vector file and checks its size; no rows are read. */
export async function inspectVectors(source: ByteSource, opts: VectorFileOptions = {}): Promise<VectorFileLayout> {
  const label = opts.label ?? 'vector file';
  if (opts.dim !== undefined && (!Number.isInteger(opts.dim) || opts.dim < 1 || opts.dim > MAX_DIMENSION)) {
    throw new TesseraError('INVALID_ARGUMENT', `dimension (--dim) must be an integer in [1, ${MAX_DIMENSION}], got ${opts.dim}`);
  }
  let format = opts.format;
  // A NumPy file under another name (np.save and x.tofile mixed up): read as raw float32 or .fvecs,
  // its header became a row or more of garbage values, silently when the sizes happened to divide.
  if (await hasNpyMagic(source)) format = 'npy';
  if (format === undefined) {
    throw new TesseraError('INVALID_ARGUMENT', `${label}: cannot tell the vector format: name the file .npy (float32), .fvecs, or .f32 (raw float32, give --dim)`);
  }
  const layout =
    format === 'npy' ? await inspectNpy(source, label) : format === 'fvecs' ? await inspectFvecs(source, label, opts.dim) : inspectRaw(source, label, opts.dim);
  if (opts.dim !== undefined && layout.n > 0 && layout.d !== opts.dim) {
    throw new TesseraError('INVALID_ARGUMENT', `${label}: holds vectors of dimension ${layout.d}, but dimension ${opts.dim} was given: drop --dim or fix it`);
  }
  return layout;
}

function inspectRaw(source: ByteSource, label: string, dim: number | undefined): VectorFileLayout {
  if (dim === undefined) {
    throw new TesseraError('INVALID_ARGUMENT', `${label}: a raw .f32 file has no header: give its dimension (--dim D, or the dim option)`);
  }
  const rowBytes = 4 * dim;
  if (source.size % rowBytes !== 0) {
    const n = Math.floor(source.size / rowBytes);
    throw new TesseraError(
      'FORMAT',
      `${label}: size ${source.size} bytes is not a whole number of rows of ${dim} float32 (${rowBytes} bytes each): ` +
        `row ${n} at byte offset ${n * rowBytes} is incomplete; check --dim (or the file is truncated)`,
    );
  }
  return { format: 'f32', n: source.size / rowBytes, d: dim, dataOffset: 0, label };
}

async function inspectNpy(source: ByteSource, label: string): Promise<VectorFileLayout> {
  const r = new ByteReader(source, 0, label);
  const magic = await r.bytes(6, 'the .npy magic "\\x93NUMPY"');
  if (!NPY_MAGIC.every((b, i) => magic[i] === b)) {
    throw r.error('not a .npy file: expected the magic "\\x93NUMPY" (raw float32 rows, as x.tofile writes them, go in a file named .f32, read with --dim)', 0);
  }
  const major = await r.u8('uint8 .npy major version');
  await r.u8('uint8 .npy minor version');
  if (major < 1 || major > 3) throw r.error(`unknown .npy format version ${major} (expected 1, 2 or 3)`, 6);
  const lenAt = r.offset;
  const headerLen = major === 1 ? await r.u16('uint16 .npy header length') : await r.u32('uint32 .npy header length');
  if (headerLen > 1 << 20) throw r.error(`bad .npy header length ${headerLen} (expected < 1 MiB); the file is corrupt`, lenAt);
  const headerAt = r.offset;
  const header = new TextDecoder().decode(await r.bytes(headerLen, `the .npy header (${headerLen} bytes)`));
  const dataOffset = r.offset;
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(header)?.[1];
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined && /['"]descr['"]\s*:\s*\[/.test(header)) {
    throw new TesseraError('UNSUPPORTED', `${label}: the array has a structured dtype (named fields); tessera reads a plain float32 (n, d) array: save the vectors as one such array`);
  }
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw r.error(`bad .npy header ${JSON.stringify(header.trim())}: expected a dict with 'descr', 'fortran_order' and 'shape'`, headerAt);
  }
  if (descr !== '<f4' && descr !== '=f4' && !(descr === '|f4')) {
    const what =
      descr === '>f4'
        ? 'big-endian float32'
        : /f8$/.test(descr)
          ? 'float64'
          : /f2$/.test(descr)
            ? 'float16'
            : `dtype ${JSON.stringify(descr)}`;
    throw new TesseraError('UNSUPPORTED', `${label}: the array is ${what}; tessera reads float32 (little-endian): save x.astype('<f4') instead`);
  }
  const shape = shapeText
    .split(',')
    // Python 2's NumPy wrote longs as "7L"; NumPy reads them still (format.py _filter_header).
    .map((s) => s.trim().replace(/^(\d+)[lL]$/, '$1'))
    .filter((s) => s !== '')
    .map(Number);
  if (shape.some((v) => !Number.isSafeInteger(v) || v < 0)) throw r.error(`bad .npy shape (${shapeText})`, headerAt);
  if (shape.length < 1 || shape.length > 2) {
    throw new TesseraError('UNSUPPORTED', `${label}: the array has shape (${shapeText}); expected (n, d) or (d,): reshape it to 2-D`);
  }
  const [n, d] = shape.length === 1 ? [1, shape[0]!] : [shape[0]!, shape[1]!];
  if (fortran === 'True' && shape.length === 2 && n > 1 && d > 1) {
    throw new TesseraError(
      'UNSUPPORTED',
      `${label}: the array is stored in Fortran (column-major) order; tessera reads C order: save np.ascontiguousarray(x) instead`,
    );
  }
  if (d < 1 || d > MAX_DIMENSION) throw r.error(`bad .npy shape (${shapeText}): dimension ${d} is outside [1, ${MAX_DIMENSION}]`, headerAt);
  r.offset = dataOffset;
  r.require(n * d * 4, `${n} x ${d} float32 values`);
  return { format: 'npy', n, d, dataOffset, label };
}

async function inspectFvecs(source: ByteSource, label: string, dim: number | undefined): Promise<VectorFileLayout> {
  if (source.size === 0) return { format: 'fvecs', n: 0, d: dim ?? 1, dataOffset: 0, label };
  const r = new ByteReader(source, 0, label);
  const d = await r.count32('int32 dimension of row 0', MAX_DIMENSION, 1);
  const record = 4 + 4 * d;
  if (source.size % record !== 0) {
    // A file of mixed dimensions also fails to divide: name the first record that differs, not a truncation.
    const mixed = await firstOtherDimension(source, d, record);
    if (mixed) throw badFvecsRecord(label, mixed.record, mixed.dim, d, mixed.at);
    const n = Math.floor(source.size / record);
    throw new TesseraError(
      'FORMAT',
      `${label}: truncated: expected .fvecs records of ${record} bytes (int32 d=${d}, then ${d} float32), ` +
        `but the file has ${source.size} bytes: record ${n} at byte offset ${n * record} is incomplete`,
    );
  }
  return { format: 'fvecs', n: source.size / record, d, dataOffset: 4, label };
}

/**
 * The first whole record whose int32 dimension is not `d`, read in 1 MiB chunks over the first
 * 64 MiB at most (an error path: a truncated 100 GB file should not be read whole to say so);
 * undefined when all those match.
 */
async function firstOtherDimension(source: ByteSource, d: number, record: number): Promise<{ record: number; dim: number; at: number } | undefined> {
  const whole = Math.min(Math.floor(source.size / record), Math.max(1, Math.floor((64 << 20) / record)));
  const perChunk = Math.max(1, Math.floor((1 << 20) / record));
  for (let i0 = 0; i0 < whole; i0 += perChunk) {
    const rows = Math.min(perChunk, whole - i0);
    const bytes = await source.read(i0 * record, rows * record);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < rows && (i + 1) * record <= bytes.length; i++) {
      const dim = view.getInt32(i * record, true);
      if (dim !== d) return { record: i0 + i, dim, at: (i0 + i) * record };
    }
  }
  return undefined;
}

function badFvecsRecord(label: string, index: number, dim: number, d: number, at: number): TesseraError {
  return new TesseraError(
    'FORMAT',
    `${label}: bad .fvecs record ${index}: its dimension is ${dim}, expected ${d} (as row 0) at byte offset ${at}; the file is corrupt or mixes dimensions`,
  );
}

/** Streams rows [firstRow, firstRow + rowCount) in chunks of at most opts.chunkBytes (default 16 MiB). */
export async function* streamVectors(source: ByteSource, layout: VectorFileLayout, opts: StreamRowsOptions = {}): AsyncGenerator<RowChunk> {
  // Called as readVectors is, with a path (and options), it failed with "Cannot read properties of undefined (reading 'n')".
  const badSource = typeof (source as Partial<ByteSource> | null | undefined)?.read !== 'function';
  if (badSource || typeof (layout as Partial<VectorFileLayout> | null | undefined)?.n !== 'number') {
    const got = badSource ? `${typeof source === 'string' ? `the path ${JSON.stringify(source)}` : describeArgument(source)} as the source` : `${describeArgument(layout)} as the layout`;
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `streamVectors(source, layout, { firstRow, rowCount }) takes a ByteSource and its layout, got ${got}: open it with const source = await openFileSource(path) (Node) and const layout = await inspectVectors(source, { format: vectorFormatOf(path), dim }); readVectors(path) reads a whole file`,
    );
  }
  const first = opts.firstRow ?? 0;
  const count = opts.rowCount ?? layout.n - first;
  if (!Number.isInteger(first) || !Number.isInteger(count) || first < 0 || count < 0 || first + count > layout.n) {
    throw new TesseraError('INVALID_ARGUMENT', `rows [${first}, ${first + count}) are outside the file's ${layout.n} rows`);
  }
  if (layout.format !== 'fvecs') {
    yield* streamRows(source, layout.dataOffset, layout.d, first, count, { label: layout.label, ...opts }, 'reading vectors');
    return;
  }
  // .fvecs: each row carries its own int32 dimension, checked here; rows are copied out of records.
  const d = layout.d;
  const record = 4 + 4 * d;
  const perChunk = Math.max(1, Math.floor((opts.chunkBytes ?? DEFAULT_CHUNK_BYTES) / record));
  const phase = opts.phase ?? 'reading vectors';
  opts.onProgress?.({ phase, done: 0, total: count, unit: 'rows' });
  for (let done = 0; done < count; ) {
    if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('aborted');
    const rows = Math.min(perChunk, count - done);
    const at = (first + done) * record;
    const bytes = await source.read(at, rows * record);
    if (bytes.length !== rows * record) {
      throw new TesseraError('FORMAT', `${layout.label}: truncated: expected ${rows * record} bytes at byte offset ${at}, read ${bytes.length}`);
    }
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const data = new Float32Array(rows * d);
    for (let i = 0; i < rows; i++) {
      const rd = view.getInt32(i * record, true);
      if (rd !== d) throw badFvecsRecord(layout.label, first + done + i, rd, d, at + i * record);
      for (let j = 0; j < d; j++) data[i * d + j] = view.getFloat32(i * record + 4 + 4 * j, true);
    }
    yield { start: first + done, count: rows, data };
    done += rows;
    opts.onProgress?.({ phase, done, total: count, unit: 'rows' });
  }
}

/** What a bad argument is, for a message: "an Array", "a plain object", "undefined". */
function describeArgument(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an Array';
  if (typeof value !== 'object') return `a ${typeof value}`;
  const name = (value as object).constructor?.name;
  return name && name !== 'Object' ? `a ${name}` : 'a plain object';
}

/** Reads a whole vector file (queries, small sets): n x d row-major float32. */
export async function readVectors(
  target: string | ByteSource,
  opts: VectorFileOptions = {},
): Promise<{ data: Float32Array; n: number; d: number; format: VectorFileFormat }> {
  const label = opts.label ?? (typeof target === 'string' ? target : 'vector file');
  const format = opts.format ?? (typeof target === 'string' ? vectorFormatOf(target) : undefined);
  const source = await openSource(target);
  try {
    const layout = await inspectVectors(source, { ...opts, format, label });
    let data: Float32Array;
    try {
      data = new Float32Array(layout.n * layout.d);
    } catch (e) {
      // Past the engine's typed-array limit (2^32 values in Node): a base set, not queries.
      if (!(e instanceof RangeError)) throw e;
      throw new TesseraError(
        'OUT_OF_MEMORY',
        `${label}: ${layout.n} x ${layout.d} float32 (${formatBytes(layout.n * layout.d * 4)}) do not fit one array: read row ranges with streamVectors (firstRow, rowCount)`,
        { cause: e },
      );
    }
    for await (const chunk of streamVectors(source, layout)) data.set(chunk.data, chunk.start * layout.d);
    return { data, n: layout.n, d: layout.d, format: layout.format };
  } finally {
    if (typeof target === 'string') await source.close();
  }
}

/** Writes n x d float32 rows as .npy (v1.0), .fvecs or raw .f32; a path is written atomically. */
export async function writeVectors(target: string | ByteSink, data: Float32Array, d: number, format?: VectorFileFormat): Promise<void> {
  const fmt = format ?? (typeof target === 'string' ? vectorFormatOf(target) : undefined);
  if (!fmt) throw new TesseraError('INVALID_ARGUMENT', `cannot tell the vector format to write: name the file .npy, .fvecs or .f32, or pass the format`);
  // The bytes are written as they lie in memory: a Float64Array would be written as pairs of
  // meaningless float32 values and a plain array as nothing at all, under a header that claims n x d.
  if (!(data instanceof Float32Array)) {
    const got = data === null ? 'null' : Array.isArray(data) ? 'an Array' : ((data as object | undefined)?.constructor?.name ?? typeof data);
    const hint = data !== null && typeof data === 'object' && 'data' in data ? ' (for what readVectors returns, pass its .data and .d)' : ': convert with Float32Array.from(...)';
    throw new TesseraError('INVALID_ARGUMENT', `writeVectors(target, data, d): data must be a Float32Array of n x d values, row-major, got ${got}${hint}`);
  }
  if (!Number.isInteger(d) || d < 1 || data.length % d !== 0) {
    throw new TesseraError('INVALID_ARGUMENT', `vectors of length ${data.length} are not rows of dimension ${d}`);
  }
  const n = data.length / d;
  await writeToTarget(target, async (sink) => {
    if (fmt === 'npy') {
      let dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${n}, ${d}), }`;
      // NumPy pads the header with spaces so the data starts on a 64-byte boundary, ending in "\n".
      const pad = 64 - ((10 + dict.length + 1) % 64);
      dict += ' '.repeat(pad % 64) + '\n';
      const head = new Uint8Array(10 + dict.length);
      head.set(NPY_MAGIC, 0);
      head[6] = 1;
      head[7] = 0;
      new DataView(head.buffer).setUint16(8, dict.length, true);
      head.set(new TextEncoder().encode(dict), 10);
      await sink.write(head);
      await sink.write(bytesOf(data));
    } else if (fmt === 'f32') {
      await sink.write(bytesOf(data));
    } else {
      const record = 4 + 4 * d;
      const perChunk = Math.max(1, Math.floor((1 << 20) / record));
      for (let i0 = 0; i0 < n; i0 += perChunk) {
        const rows = Math.min(perChunk, n - i0);
        const chunk = new Uint8Array(rows * record);
        const view = new DataView(chunk.buffer);
        for (let i = 0; i < rows; i++) {
          view.setInt32(i * record, d, true);
          chunk.set(bytesOf(data.subarray((i0 + i) * d, (i0 + i + 1) * d)), i * record + 4);
        }
        await sink.write(chunk);
      }
    }
  });
}
