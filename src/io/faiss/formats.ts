/**
 * The fourcc dispatch: FAISS tags each on-disk index with four bytes (FAISS impl/index_read.cpp).
 * Each index family's reader contributes its entries here; `readIndex` and `tessera info` find the
 * reader by fourcc. To add a family: import its `FaissFormat[]` and spread it into FORMATS.
 */
import { TesseraError } from '../../core/errors.js';
import type { FileStructure } from '../../core/factory.js';
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
  const known = KNOWN_UNSUPPORTED[fourcc] ?? (fourcc.startsWith('IB') ? ['a binary index', BINARY] : undefined);
  if (known) {
    throw new TesseraError(
      'UNSUPPORTED',
      `${label}: FAISS index type ${showFourcc(fourcc)} (${known[0]}) is not supported: ${known[1]}; tessera reads ${supportedFourccs().join(', ')}`,
    );
  }
  // FAISS fourccs start with "I" (IxFI, IwFl, IHNf, ...): other text is not a FAISS file at all.
  const printable = /^I[\x20-\x7e]{3}$/.test(fourcc);
  throw new TesseraError(
    'UNSUPPORTED',
    `${label}: ${printable ? 'FAISS index type' : 'not a FAISS index: its first bytes'} ${showFourcc(fourcc)} ${printable ? 'is not supported' : 'are no known fourcc'}; ` +
      `supported: ${supportedFourccs().join(', ')}` +
      (printable ? `: ${REBUILD}` : ''),
  );
}

const REBUILD = 'rebuild it from its float vectors as one of these (tessera convert --in vectors.npy --out F --index-type IVF4096,SQ8)';
const CODES = `its vectors are stored as quantizer codes tessera cannot decode: ${REBUILD}`;
const ID_MAP =
  'tessera labels vectors 0..n-1 in file order: write the wrapped index on its own (faiss.write_index(faiss.downcast_index(index.index), path)) and map the labels through faiss.vector_to_array(index.id_map)';
const EXACT_GRAPH =
  "its vectors are exact: write them out (np.save('x.npy', index.reconstruct_n(0, index.ntotal))) and rebuild as HNSW<M>, the graph index tessera reads (tessera convert --in x.npy --out F --index-type HNSW32)";
/** Legacy fourccs (FAISS index_read.cpp: "legacy") that FAISS still reads and writes as today's. */
const OLD_FORMAT = (current: string) =>
  `an old FAISS format of ${current}: load it with faiss.read_index and write it again with faiss.write_index (today's FAISS writes it as "${current === 'IndexIVFFlat' ? 'IwFl' : 'IwSq'}", which tessera reads)`;
const BINARY = 'a binary index (faiss.write_index_binary): tessera serves float32 vectors';

/**
 * FAISS types tessera does not read (fourccs as FAISS writes them, impl/index_write.cpp), with what to
 * do instead: a user holding such a file learns which class it is and the way to a file tessera reads.
 */
const KNOWN_UNSUPPORTED: Record<string, readonly [type: string, advice: string]> = {
  IxMp: ['IndexIDMap', ID_MAP],
  IxM2: ['IndexIDMap2', ID_MAP],
  IxPT: [
    'IndexPreTransform',
    'tessera applies no vector transform (PCA, OPQ, random rotation, L2 normalisation): write the wrapped index on its own (faiss.write_index(faiss.downcast_index(index.index), path)) and transform queries as it did (x = index.chain.at(i).apply(x) for each i), or rebuild without the transform',
  ],
  IxRF: [
    'IndexRefine',
    'write its base or refine index on its own (faiss.write_index(faiss.downcast_index(index.refine_index), path): a refine Flat holds every vector exactly)',
  ],
  IxPq: ['IndexPQ', CODES],
  IPfs: ['IndexPQFastScan', CODES],
  IwPQ: ['IndexIVFPQ', CODES],
  IwPf: ['IndexIVFPQFastScan', CODES],
  IwQR: ['IndexIVFPQR', CODES],
  Ix2L: ['Index2Layer', CODES],
  IxRq: ['IndexResidualQuantizer', CODES],
  IxLS: ['IndexLocalSearchQuantizer', CODES],
  IxPR: ['IndexProductResidualQuantizer', CODES],
  IxPL: ['IndexProductLocalSearchQuantizer', CODES],
  IwRQ: ['IndexIVFResidualQuantizer', CODES],
  IwLS: ['IndexIVFLocalSearchQuantizer', CODES],
  ILfs: ['IndexLocalSearchQuantizerFastScan', CODES],
  IRfs: ['IndexResidualQuantizerFastScan', CODES],
  IPLf: ['IndexProductLocalSearchQuantizerFastScan', CODES],
  IPRf: ['IndexProductResidualQuantizerFastScan', CODES],
  IwPL: ['IndexIVFProductLocalSearchQuantizer', CODES],
  IwPR: ['IndexIVFProductResidualQuantizer', CODES],
  IVLf: ['IndexIVFLocalSearchQuantizerFastScan', CODES],
  IVRf: ['IndexIVFResidualQuantizerFastScan', CODES],
  // "N means IV" (FAISS index_write.cpp): these two start with N, not I
  NPLf: ['IndexIVFProductLocalSearchQuantizerFastScan', CODES],
  NPRf: ['IndexIVFProductResidualQuantizerFastScan', CODES],
  IxLa: ['IndexLattice', CODES],
  IRMf: ['IndexRowwiseMinMax', CODES],
  IRMh: ['IndexRowwiseMinMaxFP16', CODES],
  Ixrq: ['IndexRaBitQ', CODES],
  Iwrq: ['IndexIVFRaBitQ', CODES],
  IwIQ: ['IndexIVFIndependentQuantizer', REBUILD],
  INSp: ['IndexNSGPQ', CODES],
  INSs: ['IndexNSGSQ', CODES],
  IxHe: ['IndexLSH', `its vectors are stored as binary hashes: ${REBUILD}`],
  IwSh: ['IndexIVFSpectralHash', `its vectors are stored as binary hashes: ${REBUILD}`],
  IHNp: ['IndexHNSWPQ', CODES],
  IHNs: ['IndexHNSWSQ', `tessera's HNSW stores float32 vectors (IndexHNSWFlat): rebuild as HNSW<M>, or as SQ8 / IVF<nlist>,SQ8 for 8-bit codes (tessera convert)`],
  IHN2: ['IndexHNSW2Level', CODES],
  // convert reads neither (it reads Flat, HNSW Flat and IVF Flat files): the way there is their vectors
  INSf: ['IndexNSGFlat', EXACT_GRAPH],
  INNf: ['IndexNNDescentFlat', EXACT_GRAPH],
  IwFd: ['IndexIVFFlatDedup', `rebuild it from its original vectors as IVF<nlist>,Flat (tessera convert --in vectors.npy --out F --index-type IVF4096,Flat): FAISS cannot reconstruct a dedup index's vectors`],
  // legacy formats of early FAISS releases
  IvFl: ['IndexIVFFlat', OLD_FORMAT('IndexIVFFlat')],
  IvFL: ['IndexIVFFlat', OLD_FORMAT('IndexIVFFlat')],
  IvSQ: ['IndexIVFScalarQuantizer', OLD_FORMAT('IndexIVFScalarQuantizer')],
  IwSQ: ['IndexIVFScalarQuantizer', OLD_FORMAT('IndexIVFScalarQuantizer')],
  IvPQ: ['IndexIVFPQ', CODES],
  IvQR: ['IndexIVFPQR', CODES],
  IxPQ: ['IndexPQ', CODES],
  IxPo: ['IndexPQ', CODES],
  IxRQ: ['IndexResidualQuantizer', CODES],
  IxHE: ['IndexLSH', `its vectors are stored as binary hashes: ${REBUILD}`],
  // types of later FAISS releases
  IxFP: ['IndexFlatPanorama', REBUILD],
  IxFp: ['IndexFlatPanorama', REBUILD],
  IwP2: ['IndexIVFFlatPanorama', REBUILD],
  IHfP: ['IndexHNSWFlatPanorama', REBUILD],
  IHNc: ['IndexHNSWCagra', REBUILD],
  IHc2: ['IndexHNSWCagra', REBUILD],
  IH00: ['IndexHNSW', REBUILD],
  ISVD: ['IndexSVS', REBUILD],
  IS44: ['IndexSVSLVQ4x4', CODES],
  IS48: ['IndexSVSLVQ4x8', CODES],
};

/**
 * Reads the fourcc at byte 0 and the header of its format; checks sizes against the file. The
 * structure read is returned for the loader (readIndex), so it need not read it again.
 */
export async function inspectSource(source: ByteSource, label = 'index file'): Promise<{ format: FaissFormat; info: FaissFileInfo; structure: FileStructure }> {
  const { r, format, fourcc } = await openFormat(source, label);
  return { format, ...(await format.inspect(r, fourcc)) };
}

/** inspectSource without the structure a loader takes: the file's info, read as cheaply as its format allows (FaissFormat.summarize). */
export async function summarizeSource(source: ByteSource, label = 'index file'): Promise<{ format: FaissFormat; info: FaissFileInfo }> {
  const { r, format, fourcc } = await openFormat(source, label);
  return { format, info: format.summarize ? await format.summarize(r, fourcc) : (await format.inspect(r, fourcc)).info };
}

async function openFormat(source: ByteSource, label: string): Promise<{ r: ByteReader; format: FaissFormat; fourcc: string }> {
  const r = new ByteReader(source, 0, label);
  const fourcc = await r.fourcc('a FAISS fourcc (e.g. "IxFI")');
  return { r, format: faissFormat(fourcc, label), fourcc };
}
