/**
 * FAISS IndexHNSWFlat ("IHNf") files (FAISS impl/index_read.cpp read_HNSW, index_write.cpp write_HNSW),
 * little-endian:
 *
 *   "IHNf" | index header
 *   | uint64 n, float64[n] assign_probas            (level-assignment probabilities)
 *   | uint64 n, int32[n]   cum_nneighbor_per_level  (cum[0] = 0, cum[1] = 2M, cum[l+1] = cum[l] + M)
 *   | uint64 n, int32[n]   levels                   (per node: its top level + 1; n = ntotal)
 *   | uint64 n, uint64[n]  offsets                  (n = ntotal + 1; node i's neighbours are
 *                                                     neighbors[offsets[i] .. offsets[i+1]))
 *   | uint64 n, int32[n]   neighbors                (level 0 first, then level 1, ...; -1 pads)
 *   | int32 entry_point | int32 max_level | int32 efConstruction | int32 efSearch | int32 upper_beam (unused)
 *   | storage: a flat index ("IxFI"/"IxF2") holding the ntotal vectors
 *
 * This is also tessera's in-memory HNSW layout (HnswData), so files map to an index without reshaping.
 */
import { TesseraError } from '../../core/errors.js';
import type { ByteSink, Metric } from '../../core/types.js';
import type { ByteReader } from '../byte-reader.js';
import { type FlatLayout, readFlatHeader, type RowsInput, writeFlatTo } from './flat.js';
import { type FaissFileInfo, type FaissFormat, type FaissIndexHeader, readIndexHeader, requireMetric } from './header.js';
import { LeWriter } from './sq.js';

export const HNSW_FLAT_FOURCC = 'IHNf';

/** An HNSW graph exactly as FAISS stores it (see the file comment). */
export interface HnswGraph {
  assignProbas: Float64Array;
  cumNneighborPerLevel: Int32Array;
  /** Per node: top level + 1. */
  levels: Int32Array;
  /** ntotal + 1 entries: node i's neighbour slots are [offsets[i], offsets[i+1]). */
  offsets: Float64Array;
  /** Neighbour ids, -1 for empty slots. */
  neighbors: Int32Array;
  entryPoint: number;
  maxLevel: number;
  efConstruction: number;
  efSearch: number;
}

/** Where an IHNf file's parts lie: the small arrays read, the two large ones located. */
export interface HnswLayout extends FaissIndexHeader {
  metric: Metric;
  assignProbas: Float64Array;
  cumNneighborPerLevel: Int32Array;
  levels: Int32Array;
  offsets: Float64Array;
  /** Byte offset of neighbors[0], and its element count. */
  neighborsOffset: number;
  neighborsCount: number;
  entryPoint: number;
  maxLevel: number;
  efConstruction: number;
  efSearch: number;
  /** FAISS's M: half the level-0 degree. */
  M: number;
  storage: FlatLayout;
  /** Byte offsets of the graph's parts, for checkHnswGraph's messages. */
  at: HnswGraphOffsets;
}

/** Byte offsets in a file of a graph's parts: element 0 of each array (its uint64 size is the 8 bytes before). */
export interface HnswGraphOffsets {
  /** Names the file in messages. */
  label: string;
  cumNneighborPerLevel: number;
  levels: number;
  offsets: number;
  neighbors: number;
  /** int32 entry_point; int32 max_level follows. */
  entryPoint: number;
}

/** What checkHnswGraph reads of a graph: `neighbors` the ids, or only their count (a file's layout, before they are read). */
export type HnswGraphShape = Pick<HnswGraph, 'cumNneighborPerLevel' | 'levels' | 'offsets' | 'entryPoint' | 'maxLevel'> & { neighbors: Int32Array | number };

/**
 * The one check of an HNSW graph, for a file's (readHnswLayout, then readHnswNeighbors with the ids)
 * and a caller's (WasmHnswIndex.fromGraph): every level in the level table, each node's slot count
 * from its level, neighbour ids below ntotal (or -1), and an entry point on the top level, which the
 * native walks rely on. A bad graph is FORMAT, never an out-of-bounds walk; with `at` (a file's
 * graph) the message names the file and the byte offset of the bad value.
 */
export function checkHnswGraph(graph: HnswGraphShape, at?: HnswGraphOffsets): void {
  const { cumNneighborPerLevel: cum, levels, offsets, neighbors, entryPoint, maxLevel } = graph;
  const fail = (message: string, where: (a: HnswGraphOffsets) => number): TesseraError =>
    new TesseraError('FORMAT', at ? `${at.label}: HNSW ${message}; the file is corrupt at byte offset ${where(at)}` : `HNSW ${message}: the graph is corrupt`);
  const n = levels.length;
  if (cum.length < 2 || cum[0] !== 0) throw fail(`cum_nneighbor_per_level holds ${cum.length} entries starting at ${cum[0]}: expected 2 or more starting at 0`, (a) => a.cumNneighborPerLevel);
  for (let l = 1; l < cum.length; l++) {
    if (cum[l]! < cum[l - 1]!) throw fail(`cum_nneighbor_per_level is not increasing (entry ${l} is ${cum[l]}, entry ${l - 1} ${cum[l - 1]})`, (a) => a.cumNneighborPerLevel + 4 * l);
  }
  for (let i = 0; i < n; i++) {
    const l = levels[i]!;
    if (!(l >= 1 && l < cum.length)) throw fail(`node ${i} has level ${l}, outside [1, ${cum.length - 1}] (levels hold top level + 1)`, (a) => a.levels + 4 * i);
  }
  if (offsets.length !== n + 1 || offsets[0] !== 0) {
    throw fail(`offsets hold ${offsets.length} entries starting at ${offsets[0]}: expected ${n + 1} starting at 0 (ntotal + 1 entries)`, (a) => (offsets.length !== n + 1 ? a.offsets - 8 : a.offsets));
  }
  // FAISS lays nodes out back to back: offsets[i+1] - offsets[i] = cum_nneighbor_per_level[levels[i]].
  for (let i = 0; i < n; i++) {
    const want = offsets[i]! + cum[levels[i]!]!;
    if (offsets[i + 1] !== want) {
      throw fail(`node ${i}: offsets give ${offsets[i + 1]! - offsets[i]!} slots, its level ${levels[i]} needs ${cum[levels[i]!]} (offsets[${i + 1}] is ${offsets[i + 1]}, expected ${want})`, (a) => a.offsets + 8 * (i + 1));
    }
  }
  const slots = typeof neighbors === 'number' ? neighbors : neighbors.length;
  if (slots !== offsets[n]) throw fail(`neighbors hold ${slots} slots, the offsets ${offsets[n]}`, (a) => a.neighbors - 8);
  if (typeof neighbors !== 'number') {
    for (let i = 0; i < neighbors.length; i++) {
      const v = neighbors[i]!;
      if (v < -1 || v >= n) throw fail(`neighbour slot ${i} holds ${v}, not a node id below ${n} (ntotal) nor -1`, (a) => a.neighbors + 4 * i);
    }
  }
  const expected = `expected a node id below ${n} whose level is the max level`;
  if (n === 0) {
    if (maxLevel < -1 || maxLevel + 1 >= cum.length) throw fail(`max_level ${maxLevel} exceeds the ${cum.length - 1} levels described`, (a) => a.entryPoint + 4);
    return;
  }
  if (!(entryPoint >= 0 && entryPoint < n)) throw fail(`entry_point ${entryPoint} (max_level ${maxLevel}): ${expected}`, (a) => a.entryPoint);
  // FAISS makes the first node of the highest level the entry point; search starts at max_level on
  // it, so a max_level above the entry point's level would read past its slots.
  if (maxLevel !== levels[entryPoint]! - 1) {
    throw fail(`max_level ${maxLevel} is not the level ${levels[entryPoint]! - 1} of entry_point ${entryPoint}: ${expected}`, (a) => a.entryPoint + 4);
  }
}

async function readVectorHead(r: ByteReader, what: string, elemBytes: number, max = Number.MAX_SAFE_INTEGER): Promise<{ n: number; at: number }> {
  const n = await r.count64(`uint64 size of ${what}`, max);
  r.require(n * elemBytes, `${n} elements of ${what}`);
  return { n, at: r.offset };
}

/** Reads an IHNf file's structure (just past the fourcc), checking the graph arrays against ntotal and the file. */
export async function readHnswLayout(r: ByteReader): Promise<HnswLayout> {
  const header = await readIndexHeader(r);
  const metric = requireMetric(header, r.label);
  const n = header.ntotal;
  const ap = await readVectorHead(r, 'assign_probas', 8, 1 << 16);
  const assignProbas = new Float64Array((await r.bytes(ap.n * 8, 'float64 assign_probas')).buffer.slice(0));
  const cn = await readVectorHead(r, 'cum_nneighbor_per_level', 4, 1 << 16);
  const cumNneighborPerLevel = new Int32Array((await r.bytes(cn.n * 4, 'int32 cum_nneighbor_per_level')).buffer.slice(0));
  const lv = await readVectorHead(r, 'levels', 4);
  if (lv.n !== n) throw r.error(`levels has ${lv.n} entries, expected ntotal = ${n}; the file is corrupt`, lv.at - 8);
  const levels = new Int32Array(n);
  await readInto(r, new Uint8Array(levels.buffer), 'int32 levels');
  // At most ntotal + 1 entries are read (a larger count is FORMAT here, before anything is allocated).
  const of = await readVectorHead(r, 'offsets', 8, n + 1);
  const raw = new BigUint64Array(of.n);
  await readInto(r, new Uint8Array(raw.buffer), 'uint64 offsets');
  const offsets = new Float64Array(of.n);
  for (let i = 0; i < of.n; i++) offsets[i] = Number(raw[i]!);
  const nb = await readVectorHead(r, 'neighbors', 4);
  const neighborsOffset = r.offset;
  r.offset += nb.n * 4;
  const tailAt = r.offset;
  const entryPoint = await r.i32('int32 entry_point');
  const maxLevel = await r.i32('int32 max_level');
  const efConstruction = await r.i32('int32 efConstruction');
  const efSearch = await r.i32('int32 efSearch');
  await r.i32('int32 upper_beam');
  const at: HnswGraphOffsets = { label: r.label, cumNneighborPerLevel: cn.at, levels: lv.at, offsets: of.at, neighbors: neighborsOffset, entryPoint: tailAt };
  checkHnswGraph({ cumNneighborPerLevel, levels, offsets, neighbors: nb.n, entryPoint, maxLevel }, at);
  const storage = await readStorage(r, header);
  const M = hnswM(cumNneighborPerLevel);
  return {
    ...header,
    metric,
    assignProbas,
    cumNneighborPerLevel,
    levels,
    offsets,
    neighborsOffset,
    neighborsCount: nb.n,
    entryPoint,
    maxLevel,
    efConstruction,
    efSearch,
    M,
    storage,
    at,
  };
}

/** M slots per upper level, 2M on level 0: a graph of one level has only the 2M (it read as M = 2M). */
function hnswM(cum: Int32Array): number {
  const upperM = cum.length > 2 ? cum[2]! - cum[1]! : 0;
  return upperM > 0 ? upperM : cum[1]! / 2;
}

/** The flat index after the graph, holding the ntotal vectors by label. */
async function readStorage(r: ByteReader, header: FaissIndexHeader): Promise<FlatLayout> {
  const storageAt = r.offset;
  const sfcc = await r.fourcc('fourcc of the HNSW storage');
  if (sfcc === 'null') {
    throw new TesseraError('UNSUPPORTED', `${r.label}: the HNSW file has no storage (written with IO_FLAG_SKIP_STORAGE) at byte offset ${storageAt}: write it with its vectors`);
  }
  r.offset = storageAt;
  const storage = await readFlatHeader(r);
  if (storage.d !== header.d || storage.ntotal !== header.ntotal) {
    throw r.error(`the storage holds ${storage.ntotal} x ${storage.d} vectors, expected ${header.ntotal} x ${header.d}; the file is corrupt`, storageAt);
  }
  return storage;
}

/**
 * An IHNf file's vectors without its graph (the reader just past the fourcc), for readers of the
 * vectors alone (tessera convert, an IVF's HNSW quantizer) and with what inspectIndex and `tessera
 * info` report of the graph (M, efSearch, ...): cum_nneighbor_per_level (a few entries) and the
 * int32 fields after the arrays are read, the arrays' contents skipped, so memory stays O(1) where
 * readHnswLayout holds 20 bytes a node (levels and offsets: 420 MB for Search-R1's 21M-vector
 * e5_HNSW64.index). readIndex reads and checks them all (readHnswLayout).
 */
export async function readHnswSummary(
  r: ByteReader,
): Promise<{ header: FaissIndexHeader; metric: Metric; storage: FlatLayout; M: number } & Pick<HnswLayout, 'entryPoint' | 'maxLevel' | 'efConstruction' | 'efSearch'>> {
  const header = await readIndexHeader(r);
  const metric = requireMetric(header, r.label);
  const n = header.ntotal;
  const arrays: [what: string, bytes: number, count?: number][] = [
    ['assign_probas', 8],
    ['cum_nneighbor_per_level', 4],
    ['levels', 4, n],
    ['offsets', 8, n + 1],
    ['neighbors', 4],
  ];
  let cum = new Int32Array(0);
  for (const [what, bytes, count] of arrays) {
    const at = r.offset;
    const c = await r.count64(`uint64 size of ${what}`);
    if (count !== undefined && c !== count) throw r.error(`${what} has ${c} entries, expected ${count}; the file is corrupt`, at);
    if (what === 'cum_nneighbor_per_level') {
      if (c < 2 || c > 1 << 16) throw r.error(`cum_nneighbor_per_level has ${c} entries, expected 2 to 65536; the file is corrupt`, at);
      cum = new Int32Array((await r.bytes(4 * c, `int32 ${what}`)).slice().buffer);
    } else {
      r.skip(c * bytes, `${c} elements of ${what}`);
    }
  }
  const entryPoint = await r.i32('int32 entry_point');
  const maxLevel = await r.i32('int32 max_level');
  const efConstruction = await r.i32('int32 efConstruction');
  const efSearch = await r.i32('int32 efSearch');
  await r.i32('int32 upper_beam');
  return { header, metric, storage: await readStorage(r, header), M: hnswM(cum), entryPoint, maxLevel, efConstruction, efSearch };
}

/** Reads dest.length bytes at the reader's offset in bounded chunks. */
async function readInto(r: ByteReader, dest: Uint8Array, what: string): Promise<void> {
  const step = 16 << 20;
  for (let o = 0; o < dest.length; o += step) {
    const len = Math.min(step, dest.length - o);
    dest.set(await r.source.read(r.offset, len).then((b) => {
      if (b.length !== len) throw r.error(`truncated: expected ${len} bytes of ${what}, read ${b.length}`);
      return b;
    }), o);
    r.offset += len;
  }
}

/** Reads the neighbours array of a layout (4 bytes per slot), each a node id below ntotal or -1. */
export async function readHnswNeighbors(r: ByteReader, layout: HnswLayout): Promise<Int32Array> {
  const out = new Int32Array(layout.neighborsCount);
  r.offset = layout.neighborsOffset;
  await readInto(r, new Uint8Array(out.buffer), 'int32 neighbors');
  // The rest of the graph was checked by readHnswLayout; checking it again costs O(ntotal), nothing beside the ids.
  checkHnswGraph({ ...layout, neighbors: out }, layout.at);
  return out;
}

/** Reads graph and vectors of an IHNf file into memory (the reader placed just past the fourcc). */
export async function readHnswFlat(r: ByteReader): Promise<{ layout: HnswLayout; graph: HnswGraph; vectors: Float32Array }> {
  const layout = await readHnswLayout(r);
  const neighbors = await readHnswNeighbors(r, layout);
  const vectors = new Float32Array(layout.ntotal * layout.d);
  r.offset = layout.storage.dataOffset;
  await readInto(r, new Uint8Array(vectors.buffer), 'float32 vectors');
  const { assignProbas, cumNneighborPerLevel, levels, offsets, entryPoint, maxLevel, efConstruction, efSearch } = layout;
  return { layout, graph: { assignProbas, cumNneighborPerLevel, levels, offsets, neighbors, entryPoint, maxLevel, efConstruction, efSearch }, vectors };
}

/**
 * Writes an IHNf file into `sink` (not closed): FAISS reads it back with faiss.read_index. `vectors`:
 * ntotal x d rows, one array or chunks of whole rows (so an index can write them without a copy of all).
 */
export async function writeHnswFlatTo(sink: ByteSink, d: number, metric: Metric, graph: HnswGraph, vectors: RowsInput): Promise<void> {
  const n = graph.levels.length;
  const rows = vectors instanceof Float32Array ? vectors.length / d : n; // chunks are counted by writeFlatTo
  if (rows !== n || graph.offsets.length !== n + 1 || graph.offsets[n] !== graph.neighbors.length) {
    throw new TesseraError('INVALID_ARGUMENT', `inconsistent HNSW graph: ${n} levels, ${graph.offsets.length} offsets, ${graph.neighbors.length} neighbours, ${rows} vectors`);
  }
  const offsets = new BigUint64Array(n + 1);
  for (let i = 0; i <= n; i++) offsets[i] = BigInt(graph.offsets[i]!);
  const head = new LeWriter()
    .fourcc(HNSW_FLAT_FOURCC)
    .header(d, n, metric)
    .vector(graph.assignProbas)
    .vector(graph.cumNneighborPerLevel)
    .vector(graph.levels)
    .vector(offsets)
    .u64(graph.neighbors.length)
    .done();
  await sink.write(head);
  const step = 4 << 20;
  for (let o = 0; o < graph.neighbors.length; o += step) {
    const part = graph.neighbors.subarray(o, Math.min(graph.neighbors.length, o + step));
    await sink.write(new Uint8Array(part.buffer, part.byteOffset, part.byteLength));
  }
  await sink.write(new LeWriter().i32(graph.entryPoint).i32(graph.maxLevel).i32(graph.efConstruction).i32(graph.efSearch).i32(1).done());
  await writeFlatTo(sink, d, metric, n, vectors);
}

function hnswInfo(fourcc: string, h: FaissIndexHeader, g: Pick<HnswLayout, 'M' | 'entryPoint' | 'maxLevel' | 'efConstruction' | 'efSearch'>): FaissFileInfo {
  return {
    fourcc,
    type: 'IndexHNSWFlat',
    description: `HNSW${g.M}`,
    d: h.d,
    ntotal: h.ntotal,
    metric: h.metric,
    metricName: h.metricName,
    isTrained: h.isTrained,
    details: { M: g.M, efConstruction: g.efConstruction, efSearch: g.efSearch, maxLevel: g.maxLevel, entryPoint: g.entryPoint },
  };
}

export const hnswFormats: FaissFormat[] = [
  {
    fourcc: HNSW_FLAT_FOURCC,
    kind: 'hnsw',
    type: 'IndexHNSWFlat',
    async inspect(r: ByteReader, fourcc: string) {
      const l = await readHnswLayout(r);
      return { info: hnswInfo(fourcc, l, l), structure: l };
    },
    async summarize(r: ByteReader, fourcc: string) {
      const s = await readHnswSummary(r);
      return hnswInfo(fourcc, s.header, s);
    },
  },
];
