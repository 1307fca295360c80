/**
 * The header every FAISS index file starts with, after its fourcc (FAISS impl/index_read.cpp
 * `read_index_header`, index_write.cpp `write_index_header`), little-endian:
 *
 *   int32 d | int64 ntotal | int64 dummy (1<<20) | int64 dummy (1<<20) | uint8 is_trained
 *   | int32 metric_type | float32 metric_arg (only when metric_type > 1)
 *
 * and the fourcc registry entry type shared by the readers of each index family.
 */
import { TesseraError } from '../../core/errors.js';
import type { FileStructure, IndexKind } from '../../core/factory.js';
import type { Metric } from '../../core/types.js';
import { MAX_DIMENSION } from '../../core/validate.js';
import type { ByteReader } from '../byte-reader.js';

/** FAISS MetricType values (faiss/MetricType.h). */
export const FAISS_METRIC_IP = 0;
export const FAISS_METRIC_L2 = 1;
const METRIC_NAMES: Record<number, string> = {
  0: 'inner product',
  1: 'L2',
  2: 'L1',
  3: 'Linf',
  4: 'Lp',
  20: 'Canberra',
  21: 'BrayCurtis',
  22: 'JensenShannon',
  23: 'Jaccard',
  24: 'NaNEuclidean',
  // ABS_INNER_PRODUCT in FAISS releases of 2024-25, GOWER since
  25: 'GOWER (or ABS_INNER_PRODUCT)',
};

/** Bytes of the header after the fourcc, without metric_arg. */
export const INDEX_HEADER_BYTES = 4 + 8 + 8 + 8 + 1 + 4;

export interface FaissIndexHeader {
  d: number;
  ntotal: number;
  isTrained: boolean;
  /** FAISS metric_type as stored. */
  metricType: number;
  /** 'ip' / 'l2', or null for metrics tessera does not serve (L1, Linf, ...). */
  metric: Metric | null;
  /** Human name of the metric, e.g. "inner product", "L1". */
  metricName: string;
  metricArg: number;
}

/** Reads the header at the reader's offset (just past the fourcc); checks every field's range. */
export async function readIndexHeader(r: ByteReader): Promise<FaissIndexHeader> {
  const d = await r.count32('int32 dimension d', MAX_DIMENSION, 1);
  const ntotal = await r.count64('int64 ntotal (vector count)');
  r.skip(16, 'two int64 reserved fields');
  const trainedAt = r.offset;
  const trained = await r.u8('uint8 is_trained');
  if (trained > 1) throw r.error(`bad is_trained: ${trained} is not a bool (0 or 1); the file is corrupt`, trainedAt);
  const metricAt = r.offset;
  const metricType = await r.i32('int32 metric_type');
  const metricName = METRIC_NAMES[metricType];
  if (metricName === undefined) {
    throw r.error(`bad metric_type: ${metricType} is not a FAISS metric (0 inner product, 1 L2, 2..4, 20..25); the file is corrupt`, metricAt);
  }
  const metricArg = metricType > 1 ? await r.f32('float32 metric_arg') : 0;
  const metric: Metric | null = metricType === FAISS_METRIC_IP ? 'ip' : metricType === FAISS_METRIC_L2 ? 'l2' : null;
  return { d, ntotal, isTrained: trained === 1, metricType, metric, metricName, metricArg };
}

/** The metric of a header tessera can serve, else UNSUPPORTED naming the metric. */
export function requireMetric(h: FaissIndexHeader, label: string): Metric {
  if (h.metric) return h.metric;
  throw new TesseraError(
    'UNSUPPORTED',
    `${label}: metric ${h.metricName} (FAISS metric_type ${h.metricType}) is not supported: tessera serves inner product and L2 indexes`,
  );
}

/** Header bytes (after the fourcc) as FAISS writes them, for ip/l2 indexes. */
export function encodeIndexHeader(d: number, ntotal: number, metric: Metric, isTrained = true): Uint8Array {
  const out = new Uint8Array(INDEX_HEADER_BYTES);
  const v = new DataView(out.buffer);
  v.setInt32(0, d, true);
  v.setBigInt64(4, BigInt(ntotal), true);
  // FAISS writes 1<<20 into both reserved fields and ignores them on read.
  v.setBigInt64(12, 1n << 20n, true);
  v.setBigInt64(20, 1n << 20n, true);
  v.setUint8(28, isTrained ? 1 : 0);
  v.setInt32(29, metric === 'ip' ? FAISS_METRIC_IP : FAISS_METRIC_L2, true);
  return out;
}

/** What `tessera info` and `inspectIndex` report about a FAISS file. */
export interface FaissFileInfo {
  fourcc: string;
  /** FAISS class name, e.g. "IndexFlatIP", "IndexHNSWFlat". */
  type: string;
  /** FAISS factory string of the index, e.g. "Flat", "HNSW32", "IVF4096,SQ8". */
  description: string;
  d: number;
  ntotal: number;
  metric: Metric | null;
  metricName: string;
  isTrained: boolean;
  /** Family-specific parameters (M, efSearch, nlist, ...), shown by `tessera info`. */
  details: Record<string, string | number | boolean>;
}

/**
 * One FAISS on-disk index type, keyed by its fourcc. `inspect` reads the header from a reader placed
 * just after the fourcc and checks the structure as far as it can cheaply (sizes against the file
 * size), so corrupt files fail with FORMAT before any backend allocates memory. It also returns the
 * structure it read (the family's layout: FlatLayout, HnswLayout, IvfLayout, SqLayout), which
 * readIndex hands to the loader so the file is parsed once (an HNSW file's levels and offsets are
 * 20 bytes a node).
 */
export interface FaissFormat {
  fourcc: string;
  /** The factory kind whose backend registrations (`load`) read this file. */
  kind: IndexKind;
  /** FAISS class name. */
  type: string;
  inspect(r: ByteReader, fourcc: string): Promise<{ info: FaissFileInfo; structure: FileStructure }>;
  /**
   * The info alone, where `inspect` reads much more for the structure (an HNSW graph's levels and
   * offsets: 20 bytes a node): inspectIndex and `tessera info` use it.
   */
  summarize?(r: ByteReader, fourcc: string): Promise<FaissFileInfo>;
}

/** A fourcc for messages: printable as is, else as hex bytes. */
export function showFourcc(bytes: string): string {
  const printable = /^[\x20-\x7e]{4}$/.test(bytes);
  const hex = Array.from(bytes, (c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join(' ');
  return printable ? `"${bytes}"` : `0x[${hex}]`;
}
