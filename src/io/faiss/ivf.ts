/**
 * FAISS IndexIVFFlat ("IwFl") and IndexIVFScalarQuantizer ("IwSq") files (FAISS impl/index_read.cpp
 * read_ivf_header / read_InvertedLists, index_write.cpp), little-endian:
 *
 *   fourcc | index header | uint64 nlist | uint64 nprobe | quantizer: a flat index ("IxFI"/"IxF2", nlist rows)
 *   | direct map: uint8 type, uint64 n, int64[n] (+ uint64 m, int64[2m] pairs when type == 2)
 *   | IwSq only: ScalarQuantizer (sq.ts) | uint64 code_size | uint8 by_residual
 *   | inverted lists "ilar": uint64 nlist | uint64 code_size | "full": uint64 nlist, uint64[nlist] sizes
 *                                                         or "sprs": uint64 2m, (uint64 list, uint64 size)[m]
 *     then for each non-empty list in order: uint8[size * code_size] codes, int64[size] ids
 *
 * IwFl codes are float32 vectors (code_size = 4d); IwSq QT_8bit codes are d bytes of the vector
 * (or, with by_residual, of the vector minus its list's centroid).
 */
import { TesseraError } from '../../core/errors.js';
import type { ByteSource, Metric, ProgressCallback } from '../../core/types.js';
import { type ByteReader, concatBytes, float32View } from '../byte-reader.js';
import { readScattered } from '../row-source.js';
import { checkRowRange, DEFAULT_CHUNK_BYTES, encodeFlatHeader, type FlatLayout, readFlatHeader, type RowChunk } from './flat.js';
import { HNSW_FLAT_FOURCC, readHnswSummary } from './hnsw.js';
import { type FaissFileInfo, type FaissFormat, type FaissIndexHeader, readIndexHeader, requireMetric, showFourcc } from './header.js';
import { encodeSqParams, LeWriter, rangeStatDetails, readSqParams, type SqParams, type SqRangeStat } from './sq.js';

/** Coarse quantizers FAISS writes for factory strings such as IMI2x10 and RCQ, which tessera does not read. */
const QUANTIZER_TYPES: Record<string, string> = { Imiq: 'MultiIndexQuantizer', ImRQ: 'ResidualCoarseQuantizer' };

/** Inverted list kinds FAISS writes other than in-file arrays ("ilar"). */
const INVLIST_TYPES: Record<string, string> = { ilod: 'OnDiskInvertedLists, kept in a separate .ivfdata file', il00: 'no inverted lists', ilbl: 'BlockInvertedLists' };
/**
 * Loading and writing again keeps OnDiskInvertedLists as they are ("ilod" again): the lists must be
 * copied into array lists first.
 */
const TO_ARRAY_LISTS =
  'copy them into array lists and write the index again: ivf = faiss.extract_index_ivf(index); ' +
  'lists = faiss.ArrayInvertedLists(ivf.nlist, ivf.code_size); lists.merge_from(ivf.invlists, 0); ' +
  'ivf.replace_invlists(lists); faiss.write_index(index, path)';

/** The largest label tessera serves (int32 ids). */
const MAX_LABEL = 0x7fffffff;

export const IVF_FLAT_FOURCC = 'IwFl';
export const IVF_SQ_FOURCC = 'IwSq';

/** Everything of an IVF file but the list contents, with where each list's bytes lie. */
export interface IvfLayout extends FaissIndexHeader {
  fourcc: string;
  metric: Metric;
  nlist: number;
  nprobe: number;
  /** Coarse centroids, nlist x d. */
  centroids: Float32Array;
  /**
   * The coarse quantizer's own metric, which picks the lists (search and add): FAISS lets it differ
   * from the index's, e.g. IndexIVFFlat(IndexFlatL2(d), d, nlist, METRIC_INNER_PRODUCT).
   */
  quantizerMetric: Metric;
  /** The coarse quantizer's fourcc as stored: a flat one, or "IHNf" (HNSW, whose vectors are the centroids). */
  quantizerFourcc: string;
  /** IwSq only. */
  sq?: SqParams;
  /** The file's direct map type (FAISS DirectMap, for reconstruct): its entries are not kept, save rebuilds them from the lists. */
  directMap: DirectMapType;
  byResidual: boolean;
  /** Bytes per stored vector: 4d (IwFl) or d (IwSq QT_8bit). */
  codeSize: number;
  /** Vectors in each list. */
  listSizes: Float64Array;
  /** Byte offset of each list's codes; its int64 ids follow the codes. */
  listOffsets: Float64Array;
  /** Vectors in the lists: ntotal, less those FAISS's add put in no list (NaN values). */
  listed: number;
  /** Byte offset just past the inverted lists. */
  end: number;
}

/**
 * Reads an IVF file's structure at the reader (just past the fourcc); checks sizes against each other
 * and the file. The coarse quantizer may be flat or HNSW (IVF4096_HNSW32,Flat): either stores the
 * centroids as its vectors, which is all tessera takes of it (it assigns to them exactly, as a flat
 * quantizer does, where FAISS walks the HNSW graph: the same lists, or nearer ones it missed).
 */
export async function readIvfLayout(r: ByteReader, fourcc: string, opts: { centroids?: boolean } = {}): Promise<IvfLayout> {
  const header = await readIndexHeader(r);
  const metric = requireMetric(header, r.label);
  const d = header.d;
  // 2^24: the factory's bound on nlist (FAISS indexes use far fewer lists).
  const nlist = await r.count64('uint64 nlist', 1 << 24, 1);
  const nprobe = await r.count64('uint64 nprobe', 1 << 30);
  const qAt = r.offset;
  const qfcc = await r.fourcc('fourcc of the coarse quantizer');
  let q: FlatLayout;
  if (qfcc === HNSW_FLAT_FOURCC) {
    q = (await readHnswSummary(r)).storage; // its graph skipped unread
  } else if (qfcc === 'IxFI' || qfcc === 'IxF2' || qfcc === 'IxFl') {
    r.offset = qAt;
    q = await readFlatHeader(r);
  } else {
    throw new TesseraError(
      'UNSUPPORTED',
      `${r.label}: IVF coarse quantizer of type ${showFourcc(qfcc)}${QUANTIZER_TYPES[qfcc] ? ` (${QUANTIZER_TYPES[qfcc]})` : ''} at byte offset ${qAt} is not supported: tessera reads IVF indexes with a flat or HNSW quantizer (IxFI/IxF2/IHNf); ` +
        'give it one holding the same centroids before writing: q = faiss.IndexFlatL2(d) (faiss.IndexFlatIP(d) for inner product); ' +
        'q.add(ivf.quantizer.reconstruct_n(0, ivf.nlist)); ivf.quantizer = q; faiss.write_index(index, path)',
    );
  }
  // An index saved before train has an empty quantizer.
  if (q.d !== d || (q.ntotal !== nlist && !(q.ntotal === 0 && !header.isTrained))) {
    throw r.error(`the coarse quantizer holds ${q.ntotal} x ${q.d} centroids, expected nlist x d = ${nlist} x ${d}; the file is corrupt`, qAt);
  }
  r.offset = q.dataOffset;
  let centroids = new Float32Array(0);
  // opts.centroids false (inspectIndex): skipped, nlist x d floats (200 MB at IVF65536 and d = 768)
  if (opts.centroids === false) r.skip(q.ntotal * q.rowBytes, `${nlist} centroids`);
  else {
    centroids = float32View(await r.bytes(q.ntotal * q.rowBytes, `${nlist} centroids`)).slice();
    const bad = centroids.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw r.error(`centroid ${Math.floor(bad / d)} holds ${centroids[bad]}, expected finite floats; the file is corrupt`, q.dataOffset + 4 * bad);
  }
  const quantizerMetric = q.metric;
  // Direct map: tessera reconstructs no vectors, so only its type is kept (save rebuilds it from
  // the lists, which also covers vectors added here, as FAISS's add updates it).
  const dmAt = r.offset;
  const dmType = await r.u8('uint8 direct map type');
  if (dmType > 2) throw r.error(`bad direct map type ${dmType} (0 none, 1 array, 2 hashtable); the file is corrupt`, dmAt);
  const directMap = dmType as DirectMapType;
  const dmN = await r.count64('uint64 direct map size');
  r.skip(dmN * 8, `${dmN} int64 direct map entries`);
  if (dmType === 2) {
    const m = await r.count64('uint64 direct map hashtable size');
    r.skip(m * 16, `${m} direct map hashtable pairs`);
  }
  let sq: SqParams | undefined;
  let byResidual = false;
  let codeSize = 4 * d;
  if (fourcc === IVF_SQ_FOURCC) {
    sq = await readSqParams(r, d);
    const csAt = r.offset;
    codeSize = await r.count64('uint64 code_size');
    if (codeSize !== sq.codeSize) throw r.error(`code_size ${codeSize} differs from the scalar quantizer's ${sq.codeSize}; the file is corrupt`, csAt);
    const brAt = r.offset;
    const br = await r.u8('uint8 by_residual');
    if (br > 1) throw r.error(`bad by_residual ${br} (a bool); the file is corrupt`, brAt);
    byResidual = br === 1;
  }
  const ilAt = r.offset;
  const ilfcc = await r.fourcc('fourcc of the inverted lists ("ilar")');
  if (ilfcc !== 'ilar') {
    const known = /^[\x20-\x7e]{4}$/.test(ilfcc);
    if (!known) throw r.error(`expected inverted lists "ilar", found bytes that are no fourcc; the file is corrupt`, ilAt);
    const kind = INVLIST_TYPES[ilfcc];
    throw new TesseraError(
      'UNSUPPORTED',
      `${r.label}: inverted lists of type "${ilfcc}"${kind ? ` (${kind})` : ''} at byte offset ${ilAt} are not supported: tessera reads lists stored in the index file (ArrayInvertedLists, "ilar")` +
        (ilfcc === 'il00' ? '; this file holds none: write the index with its lists' : `; ${TO_ARRAY_LISTS}`),
    );
  }
  const ilnAt = r.offset;
  const ilNlist = await r.count64('uint64 inverted lists nlist');
  if (ilNlist !== nlist) throw r.error(`inverted lists have nlist ${ilNlist}, the index ${nlist}; the file is corrupt`, ilnAt);
  const ilcAt = r.offset;
  const ilCode = await r.count64('uint64 inverted lists code_size');
  if (ilCode !== codeSize) throw r.error(`inverted lists have code_size ${ilCode}, expected ${codeSize}; the file is corrupt`, ilcAt);
  const ltAt = r.offset;
  const listType = await r.fourcc('list layout fourcc ("full" or "sprs")');
  // Checked before allocating: an untrained file has no centroids to bound nlist by the file size.
  if (listType === 'full') r.require(8 + 8 * nlist, `uint64 count and ${nlist} uint64 list sizes`);
  const listSizes = new Float64Array(nlist);
  if (listType === 'full') {
    const nAt = r.offset;
    const n = await r.count64('uint64 number of list sizes');
    if (n !== nlist) throw r.error(`${n} list sizes stored for ${nlist} lists; the file is corrupt`, nAt);
    const raw = await r.bytes(8 * n, `${n} uint64 list sizes`);
    const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let i = 0; i < n; i++) listSizes[i] = checkedSize(r, v.getBigUint64(8 * i, true), nAt + 8 + 8 * i);
  } else if (listType === 'sprs') {
    const nAt = r.offset;
    const n = await r.count64('uint64 sparse list entries');
    if (n % 2 !== 0 || n > 2 * nlist) throw r.error(`bad sparse list table of ${n} entries for ${nlist} lists; the file is corrupt`, nAt);
    const raw = await r.bytes(8 * n, `${n} uint64 sparse list entries`);
    const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    for (let i = 0; i < n; i += 2) {
      const list = v.getBigUint64(8 * i, true);
      if (list >= BigInt(nlist)) throw r.error(`sparse list id ${list} is not below nlist ${nlist}; the file is corrupt`, nAt + 8 + 8 * i);
      listSizes[Number(list)] = checkedSize(r, v.getBigUint64(8 * i + 8, true), nAt + 16 + 8 * i);
    }
  } else {
    throw r.error(`bad inverted list layout ${JSON.stringify(listType)} (expected "full" or "sprs"); the file is corrupt`, ltAt);
  }
  let total = 0;
  for (let i = 0; i < nlist; i++) total += listSizes[i]!;
  // Fewer is a file FAISS writes: its add counts in ntotal the vectors its quantizer assigns to no
  // list (NaN values) and stores none of them. Past the int32 labels, though, ntotal is damaged: the
  // next add's labels would start there.
  if (total > header.ntotal || (total < header.ntotal && header.ntotal > MAX_LABEL)) {
    throw r.error(`the inverted lists hold ${total} vectors but the header says ntotal = ${header.ntotal}; the file is corrupt`, ltAt);
  }
  const listOffsets = new Float64Array(nlist);
  let at = r.offset;
  for (let i = 0; i < nlist; i++) {
    listOffsets[i] = at;
    at += listSizes[i]! * (codeSize + 8);
  }
  if (at > r.size) {
    let list = 0;
    while (list + 1 < nlist && listOffsets[list + 1]! <= r.size) list++;
    throw new TesseraError(
      'FORMAT',
      `${r.label}: truncated: the inverted lists need bytes up to offset ${at}, but the file ends at byte ${r.size} (inside list ${list}, which starts at byte offset ${listOffsets[list]}): the file is incomplete (copy or write it again)`,
    );
  }
  r.offset = at;
  return { ...header, fourcc, metric, nlist, nprobe, centroids, quantizerMetric, quantizerFourcc: qfcc, sq, directMap, byResidual, codeSize, listSizes, listOffsets, listed: total, end: at };
}

/**
 * The byte offset of every vector of an IwFl file, by id: what streamIvfRows reads rows in id order
 * with (8 bytes per vector, ~0.3% of the vectors' own bytes at d = 768). The lists' int64 ids are read
 * in bounded chunks and must be 0..ntotal-1, each once (what faiss's add gives, in any list order):
 * tessera's indexes label vectors 0..n-1 by row and keep no id map, so other ids (add_with_ids) would
 * be lost silently; they are UNSUPPORTED, naming the first such id and where it lies.
 */
export async function readIvfRowOffsets(
  source: ByteSource,
  layout: IvfLayout,
  opts: { label?: string; onProgress?: ProgressCallback } = {},
): Promise<Float64Array> {
  const label = opts.label ?? 'index file';
  if (layout.fourcc !== IVF_FLAT_FOURCC) {
    throw new TesseraError('INVALID_ARGUMENT', `${label}: only an IndexIVFFlat ("${IVF_FLAT_FOURCC}") stores its vectors as they are; this is ${showFourcc(layout.fourcc)}`);
  }
  const n = layout.ntotal;
  const rowAt = new Float64Array(n).fill(-1);
  const step = 1 << 20;
  let done = 0;
  opts.onProgress?.({ phase: 'reading IVF ids', done: 0, total: n, unit: 'vectors' });
  for (let l = 0; l < layout.nlist; l++) {
    const size = layout.listSizes[l]!;
    const codesAt = layout.listOffsets[l]!;
    const idsAt = codesAt + size * layout.codeSize;
    for (let o = 0; o < size; o += step) {
      const count = Math.min(step, size - o);
      const read = await source.read(idsAt + 8 * o, 8 * count);
      // Typed views need aligned bytes (a copy by set(): a Node Buffer's slice() is a view)
      const raw = read.byteOffset % 8 === 0 ? read : new Uint8Array(read.length);
      if (raw !== read) raw.set(read);
      if (raw.length !== 8 * count) {
        throw new TesseraError('FORMAT', `${label}: truncated: expected ${count} int64 ids of list ${l} at byte offset ${idsAt + 8 * o}, read ${raw.length} bytes (the file changed or ends early)`);
      }
      // int64 as two int32 words (little-endian): an id below 2^31 has a zero high word.
      const words = new Int32Array(raw.buffer, raw.byteOffset, 2 * count);
      for (let i = 0; i < count; i++) {
        const low = words[2 * i]!;
        const inRange = words[2 * i + 1] === 0 && low >= 0 && low < n;
        const seen = inRange && rowAt[low] !== -1;
        if (!inRange || seen) {
          const id = new BigInt64Array(raw.buffer, raw.byteOffset + 8 * i, 1)[0]!;
          throw new TesseraError(
            'UNSUPPORTED',
            `${label}: list ${l} holds id ${id} at byte offset ${idsAt + 8 * (o + i)}` +
              (seen ? ', an id already met in an earlier list or slot' : `, outside 0..${n - 1}`) +
              `: tessera reads IndexIVFFlat vectors in id order when the ids are 0..${n - 1}, each once (as faiss's add gives); ` +
              'ids given with add_with_ids cannot be kept, as tessera labels vectors 0..n-1 by row and writes no id map. ' +
              "Write the vectors in the order you want as a .npy and convert that (label j is then your j-th id): index.make_direct_map(); np.save('x.npy', np.stack([index.reconstruct(int(i)) for i in ids]))",
          );
        }
        rowAt[low] = codesAt + (o + i) * layout.codeSize;
      }
    }
    done += size;
    if (size > 0) opts.onProgress?.({ phase: 'reading IVF ids', done, total: n, unit: 'vectors' });
  }
  if (done < n) {
    const missing = rowAt.indexOf(-1);
    throw new TesseraError(
      'UNSUPPORTED',
      `${label}: vector ${missing} is in no inverted list (${n - done} of the ${n} vectors are in none): FAISS's add counts in ntotal the vectors its quantizer assigns to no list (NaN values) but stores none of them, ` +
        `so this file has no vector for label ${missing}; convert the original vectors with the non-finite rows removed or replaced`,
    );
  }
  return rowAt;
}

/**
 * Streams rows [first, first + count) of an IwFl file in id order (`rowAt` from readIvfRowOffsets),
 * at most `chunkBytes` of rows at a time. Each chunk's rows are read in file order, runs of adjacent
 * vectors in one read (faiss's add leaves each list's ids ascending, so a chunk of consecutive ids is
 * about one run per list), then put in id order.
 */
export async function* streamIvfRows(
  source: ByteSource,
  layout: IvfLayout,
  rowAt: Float64Array,
  opts: { firstRow?: number; rowCount?: number; chunkBytes?: number; label?: string } = {},
): AsyncGenerator<RowChunk> {
  const d = layout.d;
  const rowBytes = 4 * d;
  const first = opts.firstRow ?? 0;
  const total = opts.rowCount ?? layout.ntotal - first;
  checkRowRange(first, total, layout.ntotal);
  const perChunk = Math.max(1, Math.floor((opts.chunkBytes ?? DEFAULT_CHUNK_BYTES) / rowBytes));
  const order = new Uint32Array(Math.min(perChunk, total));
  const positions = new Float64Array(order.length);
  for (let done = 0; done < total; ) {
    const rows = Math.min(perChunk, total - done);
    const start = first + done;
    const ord = order.subarray(0, rows);
    for (let i = 0; i < rows; i++) ord[i] = i;
    ord.sort((a, b) => rowAt[start + a]! - rowAt[start + b]!);
    for (let i = 0; i < rows; i++) positions[i] = rowAt[start + ord[i]!]!;
    const inFileOrder = new Float32Array(rows * d);
    await readScattered(source, positions, rows, rowBytes, new Uint8Array(inFileOrder.buffer), opts.label);
    const data = new Float32Array(rows * d);
    for (let i = 0; i < rows; i++) data.set(inFileOrder.subarray(i * d, (i + 1) * d), ord[i]! * d);
    yield { start, count: rows, data };
    done += rows;
  }
}

function checkedSize(r: ByteReader, v: bigint, at: number): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw r.error(`bad list size ${v}; the file is corrupt`, at);
  return Number(v);
}

/** FAISS DirectMap::Type: none, an array by id (sequential ids), or a hashtable (any ids). */
export type DirectMapType = 0 | 1 | 2;
export const DIRECT_MAP_NONE: DirectMapType = 0;
export const DIRECT_MAP_NAMES = ['none', 'array', 'hashtable'] as const;

/** Pairs of a hashtable direct map in one chunk of directMapChunks: 1 MiB. */
const DIRECT_MAP_PAIRS_PER_CHUNK = 1 << 16;
/** Entries (ids) of an array direct map in one chunk of directMapChunks: 1 MiB. */
const DIRECT_MAP_ENTRIES_PER_CHUNK = 1 << 17;

/** Ids of one list in stored order, as parts laid end to end, each part's ids plus its offset (a sharded index's list is its shards' parts). */
export interface ListIdParts {
  parts: readonly { ids: ArrayLike<number>; offset: number }[];
}

/**
 * One list's ids for directMapChunks: the ids, or parts of them. Read only until the generator's
 * next yield and asked for again after it, so views of a WebAssembly memory do (a search beside the
 * save may grow a non-shared memory, which detaches them): the caller copies nothing.
 */
export type ListIdsOf = (list: number) => ArrayLike<number> | ListIdParts;

function partsOf(r: ArrayLike<number> | ListIdParts): ListIdParts['parts'] {
  return 'parts' in r ? r.parts : [{ ids: r, offset: 0 }];
}

/**
 * Bytes of a direct map of `type` over lists of `sizes`, whose ids `idsOf(l)` gives in stored order,
 * as FAISS writes it (write_direct_map): uint8 type | uint64 n, int64[n] array | hashtable only:
 * uint64 m, (int64 id, int64 lo)[m]. An entry is lo_build(list, offset) = list << 32 | offset; array
 * entries of ids in no list are -1, as DirectMap::set_type leaves them (an id in two places: the
 * last in list order). In chunks of at most 1 MiB, made as they are taken: whole, the map was held
 * at once before the first write (21M rows: 336 MB of hashtable pairs, 168 MB of array entries).
 * A hashtable's pairs go in list order (FAISS writes its unordered_map's in no particular order and
 * reads any). An array is in id order: each chunk of ids takes, from every list, the ids within it;
 * a list whose ids ascend (every add, FAISS's or tessera's, appends them so) resumes where the last
 * chunk stopped; any other's places are sorted by chunk once, when this is called (4 bytes an id of
 * such lists held until their last chunk). The array's ids are checked when this is called: a bad
 * one throws before anything is written.
 */
export function directMapChunks(type: DirectMapType, ntotal: number, sizes: ArrayLike<number>, idsOf: ListIdsOf): Iterable<Uint8Array> {
  const w = new LeWriter().u8(type);
  if (type === DIRECT_MAP_NONE) return [w.u64(0).done()];
  if (type === 1) return arrayDirectMap(w.u64(ntotal).done(), ntotal, sizes, idsOf);
  const nlist = sizes.length;
  let m = 0;
  for (let l = 0; l < nlist; l++) m += sizes[l]!;
  const head = w.u64(0).u64(m).done();
  return (function* () {
    yield head;
    const pairs = new Int32Array(4 * Math.min(m, DIRECT_MAP_PAIRS_PER_CHUNK));
    let p = 0;
    for (let l = 0; l < nlist; l++) {
      // copied: the loop below yields part way through a list
      const ids = new Float64Array(sizes[l]!);
      let at = 0;
      for (const part of partsOf(idsOf(l))) for (let i = 0; i < part.ids.length; i++) ids[at++] = part.ids[i]! + part.offset;
      for (let o = 0; o < sizes[l]!; o++, p += 4) {
        if (p === pairs.length) {
          yield new Uint8Array(pairs.buffer).slice();
          p = 0;
        }
        // int64 id (non-negative, below 2^31: tessera's labels) then int64 lo, as little-endian words
        pairs[p] = ids[o]!;
        pairs[p + 1] = 0;
        pairs[p + 2] = o;
        pairs[p + 3] = l;
      }
    }
    if (p > 0) yield new Uint8Array(pairs.buffer, 0, 4 * p).slice();
  })();
}

/** The array direct map's entries after `head`, DIRECT_MAP_ENTRIES_PER_CHUNK ids a chunk (see directMapChunks). */
function arrayDirectMap(head: Uint8Array, ntotal: number, sizes: ArrayLike<number>, idsOf: ListIdsOf): Iterable<Uint8Array> {
  const nlist = sizes.length;
  const per = DIRECT_MAP_ENTRIES_PER_CHUNK;
  // Per list: where the next chunk resumes (a place in the list, or in its `order`), and the id there (Infinity: none left).
  const cursor = new Float64Array(nlist);
  const next = new Float64Array(nlist).fill(Infinity);
  // A list whose ids do not ascend (FAISS's update_vectors moves an id to the end of its new list):
  // its places sorted by chunk once, each chunk's in stored order. Scanned whole for every chunk, it
  // cost a pass over the list per 131072 ids: 19 s against 0.6 s at 21M ids, every list so.
  const order: (Uint32Array | undefined)[] = [];
  const count = new Uint32Array(Math.ceil(ntotal / per) + 1);
  for (let l = 0; l < nlist; l++) {
    const parts = partsOf(idsOf(l));
    let last = -1;
    let up = true;
    let len = 0;
    for (const { ids, offset } of parts) {
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i]! + offset;
        // FAISS refuses such a map (set_type: "direct map supported only for sequential ids")
        if (!(id >= 0 && id < ntotal)) {
          throw new TesseraError('UNSUPPORTED', `list ${l} holds id ${id}, outside 0..${ntotal - 1}: an array direct map (FAISS DirectMap::Array) needs sequential ids; make a hashtable one in FAISS instead (index.set_direct_map_type(faiss.DirectMap.Hashtable))`);
        }
        if (id < last) up = false;
        if (last < 0) next[l] = id;
        last = id;
      }
      len += ids.length;
    }
    if (up) continue;
    // A counting sort by chunk (stable: a chunk's places stay in stored order). Its counts cost
    // nlist x ntotal / 131072 values in all, fewer than the ids where nlist <= 131072.
    count.fill(0);
    for (const { ids, offset } of parts) for (let i = 0; i < ids.length; i++) count[Math.floor((ids[i]! + offset) / per) + 1]!++;
    for (let c = 1; c < count.length; c++) count[c]! += count[c - 1]!;
    const o = (order[l] = new Uint32Array(len));
    let at = 0;
    for (const { ids, offset } of parts) for (let i = 0; i < ids.length; i++) o[count[Math.floor((ids[i]! + offset) / per)]!++] = at++;
    next[l] = new PartCursor(parts).id(o[0]!);
  }
  return (function* () {
    yield head;
    for (let a = 0; a < ntotal; a += per) {
      const b = Math.min(ntotal, a + per);
      // each entry two int32 words, offset then list (little-endian int64 lo); -1 where no list has the id
      const words = new Int32Array(2 * (b - a)).fill(-1);
      // lists in order, each's entries in stored order: where an id is twice, the last place wins, as in one whole pass
      for (let l = 0; l < nlist; l++) {
        if (!(next[l]! < b)) continue;
        const parts = partsOf(idsOf(l));
        const o = order[l];
        const at = new PartCursor(parts);
        const len = o ? o.length : at.length;
        let c = cursor[l]!;
        let stop = Infinity;
        for (; c < len; c++) {
          const pos = o ? o[c]! : c;
          const id = at.id(pos);
          if (id >= b) {
            stop = id; // it and the rest are for later chunks
            break;
          }
          words[2 * (id - a)] = pos;
          words[2 * (id - a) + 1] = l;
        }
        cursor[l] = c;
        next[l] = stop;
        if (stop === Infinity) order[l] = undefined;
      }
      yield new Uint8Array(words.buffer);
    }
  })();
}

/** Reads a list's ids given as parts by place in the whole list, quickest where the places ascend. */
class PartCursor {
  readonly length: number;
  private part = 0;
  private base = 0;

  constructor(private readonly parts: ListIdParts['parts']) {
    let n = 0;
    for (const p of parts) n += p.ids.length;
    this.length = n;
  }

  id(pos: number): number {
    if (pos < this.base) {
      this.part = 0;
      this.base = 0;
    }
    let p = this.parts[this.part]!;
    while (pos >= this.base + p.ids.length) {
      this.base += p.ids.length;
      p = this.parts[++this.part]!;
    }
    return p.ids[pos - this.base]! + p.offset;
  }
}

/** directMapChunks in one array. */
export function encodeDirectMap(type: DirectMapType, ntotal: number, sizes: ArrayLike<number>, idsOf: ListIdsOf): Uint8Array {
  return concatBytes([...directMapChunks(type, ntotal, sizes, idsOf)]);
}

export interface IvfHead {
  d: number;
  metric: Metric;
  ntotal: number;
  nprobe: number;
  centroids: Float32Array;
  /** The coarse quantizer's metric (default: the index's). */
  quantizerMetric?: Metric;
  /** IwSq: the QT_8bit trained ranges (vmin, vdiff). */
  sqTrained?: Float32Array;
  /** IwSq: the range statistic to record (default FAISS's, RS_minmax). */
  sqRange?: SqRangeStat;
  /** The direct map's bytes in chunks (directMapChunks); default none. */
  directMap?: Iterable<Uint8Array>;
  byResidual?: boolean;
  isTrained: boolean;
  listSizes: ArrayLike<number>;
}

/**
 * Bytes of an IVF file up to the first list's codes (lists then follow in order: codes, then int64
 * ids), in chunks to write one after another: the direct map's come as it makes them.
 */
export function* ivfHeadChunks(opts: IvfHead): Generator<Uint8Array> {
  const { d, metric, centroids } = opts;
  const nlist = opts.listSizes.length;
  const sq = opts.sqTrained !== undefined;
  const w = new LeWriter().fourcc(sq ? IVF_SQ_FOURCC : IVF_FLAT_FOURCC).header(d, opts.ntotal, metric, opts.isTrained);
  w.u64(nlist).u64(opts.nprobe);
  // An untrained quantizer is empty (FAISS: ntotal 0 until train).
  const qn = centroids.length / d;
  w.bytes(encodeFlatHeader(d, qn, opts.quantizerMetric ?? metric)).bytes(new Uint8Array(centroids.buffer, centroids.byteOffset, centroids.byteLength));
  yield w.done();
  yield* opts.directMap ?? directMapChunks(DIRECT_MAP_NONE, 0, [], () => []);
  const t = new LeWriter();
  const codeSize = sq ? d : 4 * d;
  if (sq) t.bytes(encodeSqParams(d, opts.sqTrained!, opts.sqRange)).u64(codeSize).u8(opts.byResidual ? 1 : 0);
  t.fourcc('ilar').u64(nlist).u64(codeSize).fourcc('full').u64(nlist);
  for (let i = 0; i < nlist; i++) t.u64(opts.listSizes[i]!);
  yield t.done();
}

/** ivfHeadChunks in one array. */
export function encodeIvfHead(opts: IvfHead): Uint8Array {
  return concatBytes([...ivfHeadChunks(opts)]);
}

function ivfInfo(l: IvfLayout): FaissFileInfo {
  const sq = l.fourcc === IVF_SQ_FOURCC;
  let largest = 0;
  for (let i = 0; i < l.nlist; i++) largest = Math.max(largest, l.listSizes[i]!);
  return {
    fourcc: l.fourcc,
    type: sq ? 'IndexIVFScalarQuantizer' : 'IndexIVFFlat',
    description: `IVF${l.nlist},${sq ? 'SQ8' : 'Flat'}`,
    d: l.d,
    ntotal: l.ntotal,
    metric: l.metric,
    metricName: l.metricName,
    isTrained: l.isTrained,
    details: {
      nlist: l.nlist,
      nprobe: l.nprobe,
      codeSize: l.codeSize,
      byResidual: l.byResidual,
      largestList: largest,
      // vectors FAISS's add counted in ntotal but put in no list (NaN values)
      ...(l.listed < l.ntotal ? { unlisted: l.ntotal - l.listed } : {}),
      ...(l.quantizerMetric !== l.metric ? { quantizerMetric: l.quantizerMetric } : {}),
      ...(l.directMap !== DIRECT_MAP_NONE ? { directMap: DIRECT_MAP_NAMES[l.directMap] } : {}),
      ...(l.sq ? rangeStatDetails(l.sq) : {}),
      ...(l.quantizerFourcc === HNSW_FLAT_FOURCC ? { quantizer: 'IndexHNSWFlat (its centroids assigned to exactly, as by a flat quantizer)' } : {}),
    },
  };
}

export const ivfFormats: FaissFormat[] = [
  { fourcc: IVF_FLAT_FOURCC, type: 'IndexIVFFlat' },
  { fourcc: IVF_SQ_FOURCC, type: 'IndexIVFScalarQuantizer' },
].map(({ fourcc, type }) => ({
  fourcc,
  kind: 'ivf' as const,
  type,
  async inspect(r: ByteReader, fcc: string) {
    const layout = await readIvfLayout(r, fcc);
    return { info: ivfInfo(layout), structure: layout };
  },
  async summarize(r: ByteReader, fcc: string) {
    return ivfInfo(await readIvfLayout(r, fcc, { centroids: false }));
  },
}));
