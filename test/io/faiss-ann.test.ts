/**
 * FAISS interop for the ANN file types (IHNf, IwFl, IwSq, IxSQ), with real FAISS (python3-faiss) as
 * the oracle: we read what FAISS wrote and match its recall at the same nprobe; FAISS reads what we
 * write and returns our results; corrupt and truncated files fail with clear codes.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/node.js';
import { indexFactory } from '../../src/core/factory.js';
import type { ByteSource, Index, Metric, SearchResult } from '../../src/core/types.js';
import { ByteReader, memorySink, memorySource } from '../../src/io/byte-reader.js';
import { encodeFlatHeader } from '../../src/io/faiss/flat.js';
import { type HnswGraph, readHnswFlat, writeHnswFlatTo } from '../../src/io/faiss/hnsw.js';
import { LeWriter } from '../../src/io/faiss/sq.js';
import { WasmHnswIndex } from '../../src/wasm/hnsw-index.js';
import { inspectIndex, readIndex } from '../../src/io/read-index.js';
import { bruteForce, type OracleResult, recallAtK } from '../helpers/oracle.js';
import { faissPython, readF32 } from './faiss-python.js';

const scripts = resolve(import.meta.dirname, '../fixtures/faiss');

interface AnnFixture {
  file: string;
  factory: string;
  metric: Metric;
  params: { efSearch?: number; nprobe?: number };
  labels: number[][];
  distances: number[][];
}
interface AnnFixtures {
  n: number;
  d: number;
  nq: number;
  k: number;
  faiss: string;
  indexes: Record<string, AnnFixture>;
}

let dir = '';
let fx: AnnFixtures;
let base: Float32Array;
let queries: Float32Array;
const truth: Partial<Record<Metric, OracleResult>> = {};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-ann-'));
  execFileSync(faissPython(), [join(scripts, 'make_ann_fixtures.py'), dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  fx = JSON.parse(readFileSync(join(dir, 'fixtures.json'), 'utf8')) as AnnFixtures;
  base = readF32(join(dir, 'base.f32'));
  queries = readF32(join(dir, 'queries.f32'));
  truth.ip = bruteForce(base, queries, fx.d, fx.k, 'ip');
  truth.l2 = bruteForce(base, queries, fx.d, fx.k, 'l2');
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function asResult(f: AnnFixture, k: number): SearchResult {
  const nq = f.labels.length;
  return {
    nq,
    k,
    labels: BigInt64Array.from(f.labels.flat(), (v) => BigInt(v)),
    distances: Float32Array.from(f.distances.flat()),
  };
}

/** Fraction of (query, rank) label agreements between two results (order-insensitive per row). */
function overlap(a: SearchResult, b: SearchResult): number {
  let hit = 0;
  for (let q = 0; q < a.nq; q++) {
    const s = new Set(Array.from(b.labels.subarray(q * b.k, (q + 1) * b.k), Number));
    for (let j = 0; j < a.k; j++) if (s.has(Number(a.labels[q * a.k + j]))) hit++;
  }
  return hit / (a.nq * a.k);
}

interface FaissSearch {
  error?: string;
  class: string;
  ntotal: number;
  d: number;
  metric: Metric;
  nlist: number | null;
  labels: number[][];
  distances: number[][];
}

/** FAISS reads each file and searches it with the fixture queries. */
function faissSearch(items: { file: string; efSearch?: number; nprobe?: number }[]): FaissSearch[] {
  const req = join(dir, `request-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(req, JSON.stringify({ queries: join(dir, 'queries.f32'), d: fx.d, k: fx.k, items }));
  const out = execFileSync(faissPython(), [join(scripts, 'search_ann_with_faiss.py'), req], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return JSON.parse(out) as FaissSearch[];
}

const ivfKinds = [
  ['ivfflat', 'IVF32,Flat', 'IndexIVFFlat'],
  ['ivfsq', 'IVF32,SQ8', 'IndexIVFScalarQuantizer'],
  ['sq', 'SQ8', 'IndexScalarQuantizer'],
] as const;

describe.each(['ip', 'l2'] as const)('FAISS ANN files, %s', (metric) => {
  it.each(ivfKinds)('reads FAISS %s and matches its recall at the same nprobe', async (name, factory, type) => {
    const f = fx.indexes[`${name}_${metric}`]!;
    const path = join(dir, f.file);
    const info = await inspectIndex(path);
    expect(info).toMatchObject({ type, description: factory, d: fx.d, ntotal: fx.n, metric });
    const index = await readIndex(path, { backend: 'wasm' });
    expect(index.description).toBe(factory);
    expect(index.ntotal).toBe(fx.n);
    const got = await index.search(queries, fx.k, { nprobe: f.params.nprobe });
    // the nprobe stored in the file (4) is the default, also when undefined is passed
    const byDefault = await index.search(queries, fx.k, { nprobe: undefined });
    expect(Array.from(byDefault.labels)).toEqual(Array.from(got.labels));
    const theirs = asResult(f, fx.k);
    const ours = recallAtK(got, truth[metric]!);
    expect(Math.abs(ours - recallAtK(theirs, truth[metric]!))).toBeLessThanOrEqual(0.01);
    // Same centroids, same codes, same nprobe: the same neighbours, distances to float rounding.
    expect(overlap(got, theirs)).toBeGreaterThanOrEqual(0.99);
    for (let i = 0; i < got.distances.length; i++) {
      if (got.labels[i] === theirs.labels[i]) expect(got.distances[i]).toBeCloseTo(theirs.distances[i]!, 3);
    }
    await index.dispose();
  });

  it('FAISS reads our IVF-Flat, IVF-SQ8, SQ8 and HNSW files and returns our results', async () => {
    const kinds = [...ivfKinds, ['hnsw', 'HNSW16', 'IndexHNSWFlat']] as const;
    const nprobe = 4;
    const efSearch = 24;
    const built: { name: string; type: string; index: Index; ours: SearchResult; file: string }[] = [];
    for (const [name, factory, type] of kinds) {
      const index = await indexFactory(fx.d, factory, metric, { backend: 'wasm', seed: 7, efConstruction: 40 });
      await index.train(base);
      await index.add(base);
      const ours = await index.search(queries, fx.k, { nprobe, efSearch });
      const file = join(dir, `ours-${name}-${metric}.index`);
      await index.save(file);
      built.push({ name, type, index, ours, file });
    }
    // one FAISS process reads and searches them all
    const views = faissSearch(built.map((b) => ({ file: b.file, ...(b.name === 'sq' ? {} : b.name === 'hnsw' ? { efSearch } : { nprobe }) })));
    for (const [i, b] of built.entries()) {
      const view = views[i]!;
      expect(view.error, b.name).toBeUndefined();
      expect(view).toMatchObject({ class: b.type, ntotal: fx.n, d: fx.d, metric });
      if (b.name !== 'sq' && b.name !== 'hnsw') expect(view.nlist).toBe(32);
      const theirs: SearchResult = {
        nq: fx.nq,
        k: fx.k,
        labels: BigInt64Array.from(view.labels.flat(), (v) => BigInt(v)),
        distances: Float32Array.from(view.distances.flat()),
      };
      expect(overlap(b.ours, theirs), b.name).toBeGreaterThanOrEqual(0.99);
      expect(recallAtK(b.ours, truth[metric]!), b.name).toBeGreaterThan(b.name === 'sq' || b.name === 'hnsw' ? 0.85 : 0.6);
      // and we read our own file back to the same results
      const again = await readIndex(b.file, { backend: 'wasm' });
      const back = await again.search(queries, fx.k, { nprobe, efSearch });
      expect(Array.from(back.labels), b.name).toEqual(Array.from(b.ours.labels));
      await again.dispose();
      await b.index.dispose();
    }
  });

  it('reads FAISS IHNf into the HNSW index and matches its recall at the same efSearch', async () => {
    const f = fx.indexes[`hnsw_${metric}`]!;
    const index = await readIndex(join(dir, f.file), { backend: 'wasm' });
    expect(index.description).toBe('HNSW16');
    const got = await index.search(queries, fx.k, { efSearch: f.params.efSearch });
    const theirs = asResult(f, fx.k);
    expect(Math.abs(recallAtK(got, truth[metric]!) - recallAtK(theirs, truth[metric]!))).toBeLessThanOrEqual(0.01);
    expect(overlap(got, theirs)).toBeGreaterThanOrEqual(0.99);
    await index.dispose();
  });

  it('reads FAISS IHNf and writes it back byte for byte (graph + storage)', async () => {
    const f = fx.indexes[`hnsw_${metric}`]!;
    const bytes = new Uint8Array(readFileSync(join(dir, f.file)));
    const r = new ByteReader(memorySource(bytes), 0, f.file);
    expect(await r.fourcc()).toBe('IHNf');
    const { layout, graph, vectors } = await readHnswFlat(r);
    expect(layout).toMatchObject({ d: fx.d, ntotal: fx.n, metric, M: 16 });
    expect(graph.levels.length).toBe(fx.n);
    expect(Array.from(vectors.subarray(0, 5))).toEqual(Array.from(base.subarray(0, 5)));
    const sink = memorySink();
    await writeHnswFlatTo(sink, layout.d, metric, graph, vectors);
    const out = sink.bytes();
    // FAISS writes upper_beam = 1 too; everything else is the graph we read.
    expect(out.length).toBe(bytes.length);
    expect(Buffer.compare(Buffer.from(out), Buffer.from(bytes))).toBe(0);
    const info = await inspectIndex(memorySource(bytes));
    expect(info).toMatchObject({ type: 'IndexHNSWFlat', description: 'HNSW16', ntotal: fx.n, d: fx.d });
  });
});

it('an HNSW graph of one level reads as its M (it read as 2M: cum_nneighbor_per_level [0, 2M] has no upper level to take M from)', async () => {
  const [d, M, n] = [4, 4, 3];
  const neighbors = new Int32Array(n * 2 * M).fill(-1);
  neighbors.set([1, 2], 0);
  neighbors.set([0, 2], 2 * M);
  neighbors.set([0, 1], 4 * M);
  const graph = {
    assignProbas: Float64Array.of(1),
    cumNneighborPerLevel: Int32Array.of(0, 2 * M),
    levels: Int32Array.of(1, 1, 1),
    offsets: Float64Array.of(0, 2 * M, 4 * M, 6 * M),
    neighbors,
    entryPoint: 0,
    maxLevel: 0,
    efConstruction: 40,
    efSearch: 16,
  };
  const sink = memorySink();
  await writeHnswFlatTo(sink, d, 'l2', graph, Float32Array.from({ length: n * d }, (_, i) => i));
  expect(await inspectIndex(memorySource(sink.bytes()))).toMatchObject({ description: 'HNSW4', details: { M: 4 } });
});

it('inspectIndex of an HNSW file reads its header, not its graph (20 bytes a node: 420 MB of Search-R1\'s e5_HNSW64.index)', async () => {
  // A 5M-node file of 300 MB made of its small parts, zeros between them (levels of 0 do not make
  // a graph readIndex takes, but inspect reports the header without reading the arrays).
  const [d, M, n] = [4, 4, 5_000_000];
  const file = sparseFile([
    new LeWriter().fourcc('IHNf').header(d, n, 'l2').vector(Float64Array.of(1)).vector(Int32Array.of(0, 2 * M)).u64(n).done(),
    4 * n, // levels
    new LeWriter().u64(n + 1).done(),
    8 * (n + 1), // offsets
    new LeWriter().u64(2 * M * n).done(),
    4 * 2 * M * n, // neighbors
    new LeWriter().i32(0).i32(0).i32(40).i32(16).i32(1).bytes(encodeFlatHeader(d, n, 'l2')).done(),
    4 * d * n, // vectors
  ]);
  expect(await inspectIndex(file)).toMatchObject({ type: 'IndexHNSWFlat', description: 'HNSW4', ntotal: n, d, details: { M, efSearch: 16, efConstruction: 40, maxLevel: 0, entryPoint: 0 } });
  // it read 60 MB (levels and offsets) and held them to check the graph
  expect(file.bytesRead).toBeLessThan(1 << 20);
});

it('inspectIndex of an IVF file skips its centroids (200 MB at IVF65536 and d = 768)', async () => {
  const [d, nlist] = [768, 65536];
  const file = sparseFile([
    new LeWriter().fourcc('IwFl').header(d, 0, 'l2').u64(nlist).u64(8).bytes(encodeFlatHeader(d, nlist, 'l2')).done(),
    4 * d * nlist, // centroids
    new LeWriter().u8(0).u64(0).fourcc('ilar').u64(nlist).u64(4 * d).fourcc('full').u64(nlist).done(),
    8 * nlist, // list sizes, all 0
  ]);
  expect(await inspectIndex(file)).toMatchObject({ type: 'IndexIVFFlat', description: 'IVF65536,Flat', ntotal: 0, d, details: { nlist, nprobe: 8 } });
  // it read and scanned every centroid
  expect(file.bytesRead).toBeLessThan(2 << 20);
});

/** A ByteSource of the given parts, a number being that many zero bytes (never allocated); counts the bytes read. */
function sparseFile(layout: (Uint8Array | number)[]): ByteSource & { bytesRead: number } {
  const parts: [at: number, bytes: Uint8Array][] = [];
  let size = 0;
  for (const p of layout) {
    if (typeof p === 'number') size += p;
    else {
      parts.push([size, p]);
      size += p.length;
    }
  }
  return {
    size,
    bytesRead: 0,
    async read(offset: number, length: number) {
      const out = new Uint8Array(Math.max(0, Math.min(length, size - offset)));
      for (const [at, b] of parts) if (at < offset + out.length && at + b.length > offset) out.set(b.subarray(Math.max(0, offset - at), offset + out.length - at), Math.max(0, at - offset));
      this.bytesRead += out.length;
      return out;
    },
    async close() {},
  };
}

describe('corrupt and truncated ANN files', () => {
  const load = (bytes: Uint8Array) => readIndex(memorySource(bytes), { backend: 'wasm' });
  const fixture = (name: string) => new Uint8Array(readFileSync(join(dir, fx.indexes[name]!.file)));

  it('unknown fourcc -> UNSUPPORTED naming it', async () => {
    const b = fixture('ivfflat_ip');
    b.set([0x49, 0x77, 0x50, 0x51], 0); // "IwPQ"
    await expect(load(b)).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringContaining('"IwPQ"') });
  });

  it.each(['ivfflat_ip', 'ivfsq_l2', 'sq_ip', 'hnsw_ip'])('%s truncated at every region -> FORMAT with a byte offset', async (name) => {
    const b = fixture(name);
    for (const cut of [3, 20, 45, 120, Math.floor(b.length / 2), b.length - 9, b.length - 1]) {
      const err = await (name.startsWith('hnsw') ? inspectIndex(memorySource(b.subarray(0, cut))) : load(b.subarray(0, cut))).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, `cut at ${cut}`).toMatchObject({ code: 'FORMAT', message: expect.stringMatching(/byte (offset )?\d+/) });
    }
  });

  it('a corrupt HNSW graph (level, offset, neighbour id) -> FORMAT naming the file and the byte offset', async () => {
    const b = fixture('hnsw_l2');
    const v = new DataView(b.buffer, b.byteOffset);
    // after fourcc + header: assign_probas (float64), cum_nneighbor_per_level (int32), levels (int32), offsets (uint64), neighbors (int32)
    let at = 37;
    at += 8 + 8 * Number(v.getBigUint64(at, true));
    at += 8 + 4 * Number(v.getBigUint64(at, true));
    const levelsAt = at + 8;
    at += 8 + 4 * fx.n;
    const offsetsAt = at + 8;
    const neighborsAt = offsetsAt + 8 * (fx.n + 1) + 8;
    const maxLevelAt = neighborsAt + 4 * Number(v.getBigUint64(neighborsAt - 8, true)) + 4; // after entry_point
    const r = new ByteReader(memorySource(b), 4, 'hnsw');
    const { graph, vectors } = await readHnswFlat(r);
    const cases: [number, (c: DataView) => void, RegExp, (g: HnswGraph) => Partial<HnswGraph>][] = [
      [levelsAt + 4 * 7, (c) => c.setInt32(levelsAt + 4 * 7, 0, true), /node 7 has level 0/, (g) => ({ levels: Int32Array.from(g.levels, (l, i) => (i === 7 ? 0 : l)) })],
      [
        offsetsAt + 8 * 5,
        (c) => c.setBigUint64(offsetsAt + 8 * 5, c.getBigUint64(offsetsAt + 8 * 5, true) + 3n, true),
        /offsets\[5\]/,
        (g) => ({ offsets: Float64Array.from(g.offsets, (o, i) => (i === 5 ? o + 3 : o)) }),
      ],
      [neighborsAt + 4 * 9, (c) => c.setInt32(neighborsAt + 4 * 9, fx.n + 100, true), /neighbour slot 9 holds 4100/, (g) => ({ neighbors: Int32Array.from(g.neighbors, (v, i) => (i === 9 ? fx.n + 100 : v)) })],
      // a max_level above the entry point's level made search read past the slots (RuntimeError: memory access out of bounds)
      [maxLevelAt, (c) => c.setInt32(maxLevelAt, c.getInt32(maxLevelAt, true) + 1, true), /max_level \d+ is not the level \d+ of entry_point/, (g) => ({ maxLevel: g.maxLevel + 1 })],
    ];
    for (const [offset, corrupt, what, sameInMemory] of cases) {
      const c = b.slice();
      corrupt(new DataView(c.buffer));
      const path = join(dir, 'corrupt-hnsw.index');
      writeFileSync(path, c);
      const err = await readIndex(path, { backend: 'wasm' }).then(() => undefined, (e: unknown) => e);
      expect(err).toMatchObject({ code: 'FORMAT', message: expect.stringMatching(what) });
      expect((err as Error).message).toContain(path);
      expect((err as Error).message).toContain(`byte offset ${offset}`);
      // one check serves files and fromGraph: the same words, the file's with its name and byte offset
      const inMemory = await WasmHnswIndex.fromGraph(fx.d, 'l2', { ...graph, ...sameInMemory(graph) }, vectors, { threads: 1 }).then(() => undefined, (e: unknown) => e);
      expect(inMemory).toMatchObject({ code: 'FORMAT' });
      const words = (inMemory as Error).message.replace(/: the graph is corrupt$/, '');
      expect((err as Error).message).toBe(`${path}: ${words}; the file is corrupt at byte offset ${offset}`);
    }
  });

  it('an untrained IVF file (no centroids to bound it) with a huge nlist -> FORMAT at once, nothing allocated', async () => {
    const untrained = await indexFactory(8, 'IVF8,Flat', 'l2', { backend: 'wasm', threads: 1 });
    const sink = memorySink();
    await untrained.save(sink);
    await untrained.dispose();
    const b = sink.bytes();
    const v = new DataView(b.buffer, b.byteOffset);
    const ilar = findAscii(b, 'ilar');
    for (const [nlist, message] of [
      [1n << 30n, /bad uint64 nlist: 1073741824 is outside the valid range \[1, 16777216\].* at byte offset 37/],
      [1n << 24n, /truncated: expected uint64 count and 16777216 uint64 list sizes/],
    ] as const) {
      v.setBigUint64(37, nlist, true); // the index's nlist, just past the header
      v.setBigUint64(ilar + 4, nlist, true); // and the inverted lists', so the two agree
      const t0 = performance.now();
      await expect(load(b)).rejects.toMatchObject({ code: 'FORMAT', message: expect.stringMatching(message) });
      expect(performance.now() - t0).toBeLessThan(500);
    }
  });

  it.each(['ivfflat_ip', 'ivfsq_l2', 'sq_ip', 'hnsw_l2'])('%s whose header claims 10^12 vectors -> FORMAT naming the file, at once', async (name) => {
    const b = fixture(name);
    new DataView(b.buffer, b.byteOffset).setBigInt64(8, 10n ** 12n, true); // int64 ntotal after fourcc + int32 d
    const path = join(dir, `huge-${name}.index`);
    writeFileSync(path, b);
    const t0 = performance.now();
    const err = await readIndex(path, { backend: 'wasm' }).then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ code: 'FORMAT', message: expect.stringMatching(/byte (offset )?\d+/) });
    expect((err as Error).message.startsWith(`${path}: `)).toBe(true);
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('a NaN in IVF centroids or SQ8 ranges -> FORMAT with its offset (searches would rank by NaN silently)', async () => {
    const cases: [string, number, RegExp][] = [
      ['ivfflat_l2', 98 + 4 * (3 * fx.d + 5), /centroid 3 holds NaN/], // centroids follow the quantizer's header at 98
      ['ivfsq_ip', 98 + 4 * 7, /centroid 0 holds NaN/],
      ['sq_l2', 73 + 4 * 30, /ScalarQuantizer trained value 30 is NaN/], // after fourcc, header and the quantizer's fields
    ];
    for (const [name, at, what] of cases) {
      const b = fixture(name);
      new DataView(b.buffer, b.byteOffset).setFloat32(at, NaN, true);
      await expect(load(b)).rejects.toMatchObject({ code: 'FORMAT', message: expect.stringMatching(new RegExp(`${what.source}.* at byte offset ${at}$`)) });
    }
  });

  it('a corrupt list size is caught before allocating', async () => {
    const b = fixture('ivfflat_l2');
    const at = findAscii(b, 'full') + 4 + 8; // first uint64 list size
    new DataView(b.buffer, b.byteOffset).setBigUint64(at, 1n << 40n, true);
    await expect(load(b)).rejects.toMatchObject({ code: 'FORMAT' });
  });

  it('a non-QT_8bit scalar quantizer -> UNSUPPORTED naming it', async () => {
    const b = fixture('sq_l2');
    const at = 4 + 33; // after fourcc + header: int32 qtype
    new DataView(b.buffer, b.byteOffset).setInt32(at, 1, true);
    await expect(load(b)).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringContaining('QT_4bit') });
  });
});

function findAscii(b: Uint8Array, s: string): number {
  outer: for (let i = 0; i + s.length <= b.length; i++) {
    for (let j = 0; j < s.length; j++) if (b[i + j] !== s.charCodeAt(j)) continue outer;
    return i;
  }
  return -1;
}

export type { Index };
