/**
 * The fourcc dispatch: FAISS tags each on-disk index with four bytes (FAISS impl/index_read.cpp).
 * Each index family's reader contributes its entries here; `readIndex` and `tessera info` find the
 * reader by fourcc. To add a family: import its `FaissFormat[]` and spread it into FORMATS.
 */
import { TesseraError } from '../../core/errors.js';
import type { ByteSource } from '../../core/types.js';
import { ByteReader } from '../byte-reader.js';
import { flatFormats } from './flat.js';
import { hnswFormats } from './hnsw.js';
import { ivfFormats } from './ivf.js';
import { sqFormats } from './sq.js';
import { type FaissFileInfo, type FaissFormat, showFourcc } from './header.js';

const FORMATS: readonly FaissFormat[] = [
  ...flatFormats,
  ...hnswFormats,
  ...ivfFormats,
  ...sqFormats,
];

const byFourcc = new Map<string, FaissFormat>(FORMATS.map((f) => [f.fourcc, f]));

/** Fourccs with a reader, with their FAISS class names, e.g. `IxFI (IndexFlatIP)`. */
export function supportedFourccs(): string[] {
  return FORMATS.map((f) => `${f.fourcc} (${f.type})`);
}

/** The registry entry for `fourcc`, else UNSUPPORTED naming it and what is supported. */
export function faissFormat(fourcc: string, label = 'index file'): FaissFormat {
  const format = byFourcc.get(fourcc);
  if (format) return format;
  if (fourcc === '\x93NUM') {
    throw new TesseraError(
      'UNSUPPORTED',
      `${label}: a NumPy .npy file, not a FAISS index: read its vectors with readVectors, or make an index of them with tessera convert --in ${label}`,
    );
  }
  // FAISS fourccs start with "I" (IxFI, IwFl, IHNf, ...): other text is not a FAISS file at all.
  const printable = /^I[\x20-\x7e]{3}$/.test(fourcc);
  throw new TesseraError(
    'UNSUPPORTED',
    `${label}: ${printable ? 'FAISS index type' : 'not a FAISS index: its first bytes'} ${showFourcc(fourcc)} ${printable ? 'is not supported' : 'are no known fourcc'}; ` +
      `supported: ${supportedFourccs().join(', ')}`,
  );
}

/** Reads the fourcc at byte 0 and the header of its format; checks sizes against the file. */
export async function inspectSource(source: ByteSource, label = 'index file'): Promise<{ format: FaissFormat; info: FaissFileInfo }> {
  const r = new ByteReader(source, 0, label);
  const fourcc = await r.fourcc('a FAISS fourcc (4 bytes, e.g. "IxFI")');
  const format = faissFormat(fourcc, label);
  return { format, info: await format.inspect(r, fourcc) };
}
