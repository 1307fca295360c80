/**
 * FAISS interop at the edges a user meets, with real FAISS (python3-faiss) as the oracle, both ways:
 * dimensions 1, 3, 5 and 768, one vector, k above ntotal, HNSW with M 3 / 48, stored efSearch and k
 * above it, IVF with empty lists and nprobe above nlist, add_with_ids ids (64-bit ones renumbered as
 * the error says), removed ids, NaN rows FAISS put in no list, a hashtable direct map, IVF-SQ8
 * without residuals (also sharded), SQ8 with constant dimensions, untrained and empty files; and
 * FAISS types tessera does not read, each refused as UNSUPPORTED naming the class and what to do.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/node.js';
import { indexFactory } from '../../src/core/factory.js';
import type { Metric, ProgressEvent, SearchResult } from '../../src/core/types.js';
import { readIvfRowOffsets } from '../../src/io/faiss/ivf.js';
import { inspectIndex, readIndex } from '../../src/io/read-index.js';
import { openSource } from '../../src/platform.js';
import { readIvfFile } from '../../src/wasm/ivf-index.js';
import { faissPython, faissServer, readF32 } from './faiss-python.js';

const scripts = resolve(import.meta.dirname, '../fixtures/faiss');

interface Readable {
  file: string;
  queries: string;
  d: number;
  ntotal: number;
  k: number;
  params: { nprobe?: number };
  labels: number[][];
  distances: number[][];
  /** FAISS's results after it added mixed_extra.f32 to the index. */
  afterAdd?: { labels: number[][]; distances: number[][] };
}
interface EdgeFixtures {
  readable: Record<string, Readable>;
  unsupported: Record<string, { file: string; class: string }>;
  untrained: Record<Metric, string>;
  /** IVF-Flat L2 whose NaN rows (ids 3 and 11) FAISS's quantizer put in a list. */
  nanRowsL2: string;
  /** IndexHNSWFlat whose stored efSearch (100000) and efConstruction (70000) pass tessera's limit. */
  bigEf: string;
}
interface FaissView {
  error?: string;
  class: string;
  ntotal: number;
  d: number;
  metric: Metric;
  is_trained: boolean;
  nlist: number | null;
  by_residual: boolean | null;
  hnsw: { efSearch: number; efConstruction: number } | null;
  labels: number[][];
  distances: number[][];
}

let dir = '';
let fx: EdgeFixtures;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-edge-'));
  execFileSync(faissPython(), [join(scripts, 'make_edge_fixtures.py'), dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  fx = JSON.parse(readFileSync(join(dir, 'fixtures.json'), 'utf8')) as EdgeFixtures;
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** One Python answers every search (a process and a faiss import a request were most of a test's time). */
const server = faissServer<object, FaissView[]>(join(scripts, 'search_ann_with_faiss.py'), ['--serve']);
afterAll(() => server.close());

/** FAISS reads each file and searches it with the item's queries. */
function faissSearch(items: { file: string; queries: string; d: number; k: number; efSearch?: number; nprobe?: number }[]): Promise<FaissView[]> {
  return server.ask({ items });
}

/**
 * Our result matches FAISS's: distances position by position (float tolerance; FAISS pads with
 * +-FLT_MAX, tessera with +-Infinity), labels as sets outside the last tie group (a tie may be
 * broken either way), -1 exactly where FAISS has it.
 */
function expectSameResults(ours: SearchResult, labels: number[][], distances: number[][], what: string): void {
  const k = ours.k;
  const pad = (v: number) => !(Math.abs(v) < 3e38);
  const close = (a: number, b: number) => (pad(a) ? pad(b) && Math.sign(a) === Math.sign(b) : Math.abs(a - b) <= 1e-4 * Math.max(1, Math.abs(a)));
  expect(ours.nq, what).toBe(labels.length);
  for (let q = 0; q < labels.length; q++) {
    const theirs = labels[q]!;
    const mine = Array.from(ours.labels.subarray(q * k, (q + 1) * k), Number);
    const dist = Array.from(ours.distances.subarray(q * k, (q + 1) * k));
    for (let j = 0; j < k; j++) {
      expect(close(distances[q]![j]!, dist[j]!), `${what} query ${q} rank ${j}: FAISS ${theirs[j]} at ${distances[q]![j]}, ours ${mine[j]} at ${dist[j]}`).toBe(true);
      expect(mine[j] === -1, `${what} query ${q} rank ${j}: -1 padding`).toBe(theirs[j] === -1);
    }
    const last = distances[q]![k - 1]!;
    const settled = (ids: number[], ds: number[]) => ids.filter((_, j) => !close(last, ds[j]!)).sort((a, b) => a - b);
    expect(settled(mine, dist), `${what} query ${q}`).toEqual(settled(theirs, distances[q]!));
  }
}

const metrics = ['ip', 'l2'] as const;

describe('tessera reads what FAISS wrote: same results as FAISS', () => {
  const cases = (prefixes: string[]) => metrics.flatMap((m) => prefixes.map((p) => `${p}_${m}`));
  it.each(cases(['flat_d1', 'flat_d3', 'flat_d5', 'flat_n1', 'sq_d1', 'sq_d3', 'sq_d5', 'sq_const', 'hnsw_d1', 'hnsw_d3', 'hnsw_d5', 'hnsw_n1', 'hnsw_M3', 'hnsw_M48', 'hnsw_bigk', 'ivf_empty', 'ivf_removed', 'ivf_ids', 'ivf_dmhash', 'ivfsq_nores', 'hnsw_d768', 'sq_d768', 'ivf_d768', 'ivfsq_d768']))(
    '%s',
    async (name) => {
      const f = fx.readable[name]!;
      const index = await readIndex(f.file, { backend: 'wasm', threads: 1 });
      expect(index.ntotal).toBe(f.ntotal);
      // no search options: the file's efSearch / nprobe are the defaults, as in FAISS
      const got = await index.search(readF32(f.queries), f.k);
      expectSameResults(got, f.labels, f.distances, name);
      await index.dispose();
    },
  );

  it.each([
    ['ivf_mixedq_ip', undefined],
    ['ivf_mixedq_l2', undefined],
    ['ivfsq_mixedq_l2', undefined],
    ['ivf_mixedq_ip', 4096],
  ] as const)('%s (shardBytes %s): lists picked by the coarse quantizer\'s own metric (search, add, save)', async (name, shardBytes) => {
    const f = fx.readable[name]!;
    const index = await readIndex(f.file, { backend: 'wasm', threads: 1, shardBytes });
    if (shardBytes) expect((index as unknown as { shardCount: number }).shardCount).toBeGreaterThan(1);
    const q = readF32(f.queries);
    expectSameResults(await index.search(q, f.k), f.labels, f.distances, name);
    // added vectors go where FAISS puts them: to the nearest centroid by the quantizer's metric
    await index.add(readF32(join(dir, 'mixed_extra.f32')));
    const ours = await index.search(q, f.k);
    expectSameResults(ours, f.afterAdd!.labels, f.afterAdd!.distances, `${name} after add`);
    const out = join(dir, `saved-${name}-${shardBytes}.index`);
    await index.save(out);
    await index.dispose();
    expect(await inspectIndex(out)).toMatchObject({ details: { quantizerMetric: f.file.endsWith('_ip.index') ? 'l2' : 'ip' } });
    const [view] = await faissSearch([{ file: out, queries: f.queries, d: f.d, k: f.k }]);
    expectSameResults(ours, view!.labels, view!.distances, `FAISS on our ${name}`);
  });

  it.each(['ivf_nanrows_ip', 'ivfsq_nanrows_ip'].flatMap((name) => [[name, undefined], [name, 512]] as const))(
    '%s (shardBytes %s): NaN rows FAISS counted in ntotal but put in no list; adds numbered from ntotal, as FAISS numbers them',
    async (name, shardBytes) => {
      // it refused the file: "the inverted lists hold 58 vectors but the header says ntotal = 60; the file is corrupt"
      const f = fx.readable[name]!;
      expect(await inspectIndex(f.file)).toMatchObject({ ntotal: 60, details: { unlisted: 2 } });
      const progress: ProgressEvent[] = [];
      const index = await readIndex(f.file, { backend: 'wasm', threads: 1, shardBytes, onProgress: (p) => progress.push(p) });
      if (shardBytes) expect((index as unknown as { shardCount: number }).shardCount).toBeGreaterThan(1);
      expect(index.ntotal).toBe(60);
      // the load's progress ends complete: 58 of the 58 vectors stored, not 58 of 60
      expect(progress.at(-1)).toMatchObject({ done: 58, total: 58 });
      const q = readF32(f.queries);
      expectSameResults(await index.search(q, f.k), f.labels, f.distances, name);
      await index.add(readF32(join(dir, 'nan_extra_ip.f32')));
      const ours = await index.search(q, f.k);
      expectSameResults(ours, f.afterAdd!.labels, f.afterAdd!.distances, `${name} after add`);
      const out = join(dir, `saved-${name}-${shardBytes}.index`);
      await index.save(out);
      await index.dispose();
      const [view] = await faissSearch([{ file: out, queries: f.queries, d: f.d, k: f.k }]);
      expect(view).toMatchObject({ ntotal: 65 });
      expectSameResults(ours, view!.labels, view!.distances, `FAISS on our ${name}`);
    },
  );

  it.each([undefined, 512])('NaN rows FAISS\'s L2 quantizer put in a list are refused naming their id, not their slot in the list (shardBytes %s)', async (shardBytes) => {
    // it said "list 2: vector 2 holds NaN", slot 2 of list 2, read as label 2: a finite vector
    await expect(readIndex(fx.nanRowsL2, { backend: 'wasm', threads: 1, shardBytes })).rejects.toMatchObject({
      code: 'FORMAT',
      message: expect.stringMatching(/: list \d+: the vector of id (3|11) holds NaN in dimension 0 \(byte offset \d+\): every value must be finite/),
    });
  });

  it('convert\'s reader of IVF vectors in label order names a NaN row FAISS put in no list', async () => {
    const f = fx.readable.ivf_nanrows_ip!;
    const source = await openSource(f.file);
    try {
      const layout = await readIvfFile(source, f.file);
      await expect(readIvfRowOffsets(source, layout, { label: f.file })).rejects.toMatchObject({
        code: 'UNSUPPORTED',
        message: expect.stringMatching(/: vector 3 is in no inverted list \(2 of the 60 vectors are in none\).*NaN values/),
      });
    } finally {
      await source.close();
    }
  });

  it('IVF-SQ8 by residual for inner product over an L2 quantizer scores q . (c + r), where FAISS adds the L2 coarse distance', async () => {
    const sq = fx.readable.ivfsq_mixedq_ip!;
    const twin = fx.readable.ivf_mixedq_ip!; // same data, same quantizer training: FAISS's exact scores on the probed lists
    const index = await readIndex(sq.file, { backend: 'wasm', threads: 1 });
    const got = await index.search(readF32(sq.queries), sq.k);
    await index.dispose();
    let same = 0;
    for (let q = 0; q < got.nq; q++) {
      const exact = new Set(twin.labels[q]);
      for (let j = 0; j < sq.k; j++) if (exact.has(Number(got.labels[q * sq.k + j]))) same++;
      for (let j = 0; j < 3; j++) {
        expect(Math.abs(got.distances[q * sq.k + j]! - twin.distances[q]![j]!)).toBeLessThan(0.01 * Math.abs(twin.distances[q]![j]!)); // SQ8 rounding
        // FAISS 1.7's own scores here are off by the squared distance to the centroid
        expect(Math.abs(sq.distances[q]![j]! - twin.distances[q]![j]!)).toBeGreaterThan(0.5);
      }
    }
    // the same neighbours up to SQ8 rounding
    expect(same / (got.nq * sq.k)).toBeGreaterThanOrEqual(0.8);
  });

  it.each(metrics)('flat files on the GPU backend (d = 1, 3, 5; one vector; k above ntotal), written back as FAISS wrote them, %s', async (m) => {
    for (const name of ['flat_d1', 'flat_d3', 'flat_d5', 'flat_n1'].map((p) => `${p}_${m}`)) {
      const f = fx.readable[name]!;
      const index = await readIndex(f.file, { backend: 'gpu' });
      expectSameResults(await index.search(readF32(f.queries), f.k), f.labels, f.distances, `${name} (gpu)`);
      const copy = join(dir, `gpu-${name}.index`);
      await index.save(copy);
      expect(Buffer.compare(readFileSync(copy), readFileSync(f.file)), `${name}: saved bytes`).toBe(0);
      await index.dispose();
    }
    // int8 keeps the float32 rows for its re-rank and writes them unchanged; f16 writes what it holds
    const f = fx.readable[`flat_d5_${m}`]!;
    for (const precision of ['int8', 'f16'] as const) {
      const index = await readIndex(f.file, { backend: 'gpu', precision });
      const copy = join(dir, `gpu-${precision}-${m}.index`);
      await index.save(copy);
      await index.dispose();
      const [ours, theirs] = [readFileSync(copy), readFileSync(f.file)];
      expect(ours.length).toBe(theirs.length);
      expect(Buffer.compare(ours, theirs) === 0, precision).toBe(precision === 'int8');
    }
  });

  it.each([1024, 2320])('IVF loaded as shards (shardBytes %i): added vectors are numbered from ntotal, as FAISS numbers them', async (shardBytes) => {
    const f = fx.readable.ivf_ids_l2!; // ids 1000.. from add_with_ids
    const index = await readIndex(f.file, { backend: 'wasm', threads: 1, shardBytes });
    expect((index as unknown as { shardCount: number }).shardCount).toBeGreaterThan(1);
    const x = Float32Array.from({ length: 3 * 8 }, (_, i) => 100 + i); // far from the rest: each finds itself
    await index.add(x);
    // the last shard read from the file was not full: adds went there, numbered from its own count (19, 61, 62)
    expect(Array.from((await index.search(x, 1, { nprobe: 4 })).labels, Number)).toEqual([60, 61, 62]);
    const out = join(dir, `ids-sharded-${shardBytes}.index`);
    await index.save(out);
    await index.dispose();
    const queries = join(dir, 'ids-added.q.f32');
    writeFileSync(queries, x);
    const [view] = await faissSearch([{ file: out, queries, d: 8, k: 1, nprobe: 4 }]);
    expect(view!.labels).toEqual([[60], [61], [62]]);
  });

  it.each(metrics)('IVF-SQ8 without residuals, loaded as shards and saved: FAISS reads the same results, %s', async (m) => {
    const f = fx.readable[`ivfsq_nores_${m}`]!;
    // 512 B shards (240 B fixed, 12 B per vector): the 60 vectors over several instances
    const index = await readIndex(f.file, { backend: 'wasm', threads: 1, shardBytes: 512 });
    expect((index as unknown as { shardCount: number }).shardCount).toBeGreaterThan(1);
    const q = readF32(f.queries);
    expectSameResults(await index.search(q, f.k), f.labels, f.distances, 'sharded load');
    await index.add(q); // new shards must encode as the file does (raw vectors, not residuals)
    const ours = await index.search(q, f.k);
    const out = join(dir, `nores-sharded-${m}.index`);
    await index.save(out);
    await index.dispose();
    const [view] = await faissSearch([{ file: out, queries: f.queries, d: f.d, k: f.k }]);
    // the codes are of the vectors, not of residuals: the file must say so (it said by_residual 1)
    expect(view).toMatchObject({ by_residual: false, ntotal: f.ntotal + q.length / f.d });
    expectSameResults(ours, view!.labels, view!.distances, 'FAISS on the saved shards');
  });
});

describe('FAISS reads what tessera wrote: same results as tessera', () => {
  it('edge shapes: d = 1, 3, 5, one vector, k above ntotal, empty lists, constant SQ8 dimensions, empty and untrained indexes', async () => {
    const built: { name: string; ours?: SearchResult; file: string; queries: string; d: number; k: number; nprobe?: number; efSearch?: number; ntotal: number; trained: boolean }[] = [];
    const cases: [name: string, d: number, factory: string, metric: Metric, n: number, k: number][] = [
      ['flat_d1', 1, 'Flat', 'l2', 40, 50],
      ['flat_d3', 3, 'Flat', 'ip', 40, 50],
      ['hnsw_d5', 5, 'HNSW3', 'ip', 40, 8],
      ['hnsw_d1', 1, 'HNSW5', 'l2', 40, 8],
      ['hnsw_n1', 8, 'HNSW8', 'ip', 1, 4],
      ['hnsw_n0', 8, 'HNSW8', 'l2', 0, 4],
      ['sq_d3', 3, 'SQ8', 'l2', 40, 50],
      ['sq_const', 8, 'SQ8', 'ip', 40, 10],
      ['sq_untrained', 8, 'SQ8', 'ip', -1, 4],
      ['ivf_empty', 8, 'IVF16,Flat', 'ip', 3, 10],
      ['ivf_untrained', 8, 'IVF4,Flat', 'l2', -1, 4],
      ['ivfsq_n1', 5, 'IVF4,SQ8', 'l2', 1, 4],
      ['ivfsq_n0', 5, 'IVF4,SQ8', 'ip', 0, 4],
      ['ivfsq_d768', 768, 'IVF2,SQ8', 'ip', 30, 5],
      ['hnsw_d768', 768, 'HNSW6', 'l2', 30, 5],
    ];
    let seed = 1;
    for (const [name, d, factory, metric, n, k] of cases) {
      const index = await indexFactory(d, factory, metric, { backend: 'wasm', threads: 1, seed: 3, efConstruction: 21, efSearch: 48, nprobe: 50 });
      const train = randn(Math.max(n, 16) * d, seed++);
      if (name === 'sq_const') for (let i = 0; i < 40; i++) [train[i * d + 2], train[i * d + 5]] = [0.5, -3];
      if (n >= 0 && factory !== 'Flat' && !factory.startsWith('HNSW')) await index.train(factory === 'SQ8' ? train.subarray(0, n * d) : train);
      if (n > 0) await index.add(train.subarray(0, n * d));
      const queries = join(dir, `w-${name}.q.f32`);
      const q = randn(5 * d, seed++);
      writeFileSync(queries, q);
      const file = join(dir, `w-${name}.index`);
      await index.save(file);
      const ours = n > 0 ? await index.search(q, k) : undefined;
      built.push({ name, ours, file, queries, d, k, ntotal: Math.max(n, 0), trained: n >= 0 });
      await index.dispose();
    }
    const views = await faissSearch(built.map(({ file, queries, d, k }) => ({ file, queries, d, k })));
    for (const [i, b] of built.entries()) {
      const v = views[i]!;
      expect(v.error, b.name).toBeUndefined();
      expect(v, b.name).toMatchObject({ d: b.d, ntotal: b.ntotal, is_trained: b.trained });
      if (v.hnsw) expect(v.hnsw, b.name).toEqual({ efSearch: 48, efConstruction: 21 });
      if (v.nlist) expect(v.by_residual, b.name).toBe(b.name.startsWith('ivfsq'));
      if (b.ours) expectSameResults(b.ours, v.labels, v.distances, b.name);
    }
  });

  it.each(metrics)('an untrained FAISS IVF-SQ8 with by_residual off keeps it through our train, add and save (%s)', async (m) => {
    const base = readF32(join(dir, `base_${m}.f32`));
    const index = await readIndex(fx.untrained[m], { backend: 'wasm', threads: 1 });
    await index.train(base);
    await index.add(base);
    const q = base.subarray(0, 5 * 8);
    const queries = join(dir, `untrained-${m}.q.f32`);
    writeFileSync(queries, q);
    const ours = await index.search(q, 10, { nprobe: 4 });
    const out = join(dir, `untrained-${m}.index`);
    await index.save(out);
    await index.dispose();
    const [view] = await faissSearch([{ file: out, queries, d: 8, k: 10, nprobe: 4 }]);
    // we trained the ranges on the vectors and stored codes of the vectors, as FAISS would have
    expect(view).toMatchObject({ class: 'IndexIVFScalarQuantizer', by_residual: false, ntotal: 60 });
    expectSameResults(ours, view!.labels, view!.distances, 'FAISS on our file');
  });
});

describe('FAISS types tessera does not read', () => {
  const advice: Record<string, RegExp> = {
    IDMap_Flat: /"IxMp" \(IndexIDMap\).*faiss\.downcast_index\(index\.index\).*index\.id_map/,
    IDMap2_Flat: /"IxM2" \(IndexIDMap2\).*faiss\.downcast_index\(index\.index\)/,
    PCA4_Flat: /"IxPT" \(IndexPreTransform\).*no vector transform/,
    IVF2_PQ4: /"IwPQ" \(IndexIVFPQ\).*quantizer codes.*tessera convert/,
    PQ4: /"IxPq" \(IndexPQ\).*tessera convert/,
    HNSW8_SQ8: /"IHNs" \(IndexHNSWSQ\).*rebuild as HNSW<M>/,
    HNSW8_PQ4: /"IHNp" \(IndexHNSWPQ\)/,
    Flat_RFlat: /"IxRF" \(IndexRefine\).*index\.refine_index/,
    LSH: /"IxHe" \(IndexLSH\)/,
    binary: /"IBxF" \(a binary index\).*write_index_binary/,
    SQ4: /scalar quantizer QT_4bit is not supported.*SQ8/,
    // the way to a file tessera reads goes through the vectors: convert reads neither type (it was told to run tessera convert on them)
    NSG8: /"INSf" \(IndexNSGFlat\).*np\.save\('x\.npy', index\.reconstruct_n\(0, index\.ntotal\)\).*tessera convert --in x\.npy/,
    IVF4_FlatDedup: /"IwFd" \(IndexIVFFlatDedup\).*original vectors.*tessera convert --in vectors\.npy/,
    HNSW_L1: /metric L1 .*is not supported/,
    // these were named by their fourcc alone, "NPRf" as "not a FAISS index"
    NSG8_PQ2: /"INSp" \(IndexNSGPQ\).*quantizer codes.*tessera convert/,
    IVF2_PRQ2x2x4: /"IwPR" \(IndexIVFProductResidualQuantizer\).*quantizer codes/,
    RQ3x4fs_Nrq2x4: /"IRfs" \(IndexResidualQuantizerFastScan\).*quantizer codes/,
    'IVF2_PRQ2x3x4fs_Nrq2x4': /FAISS index type "NPRf" \(IndexIVFProductResidualQuantizerFastScan\).*quantizer codes/,
    RowwiseMinMax: /"IRMf" \(IndexRowwiseMinMax\).*quantizer codes/,
    IVFSpectralHash: /"IwSh" \(IndexIVFSpectralHash\).*binary hashes/,
    Lattice: /"IxLa" \(IndexLattice\).*quantizer codes/,
    NNDescentFlat: /"INNf" \(IndexNNDescentFlat\).*reconstruct_n\(0, index\.ntotal\).*--index-type HNSW32/,
    // it said to load the index and write it again, which writes the on-disk lists again ("ilod")
    IVF4_OnDisk: /"ilod" \(OnDiskInvertedLists, kept in a separate \.ivfdata file\).*ArrayInvertedLists\(ivf\.nlist, ivf\.code_size\); lists\.merge_from\(ivf\.invlists, 0\); ivf\.replace_invlists\(lists\); faiss\.write_index\(index, path\)/,
  };
  it.each(Object.keys(advice))('%s: UNSUPPORTED naming the type and what to do, on read and inspect', async (name) => {
    const f = fx.unsupported[name]!;
    const err = await readIndex(f.file, { backend: 'wasm', threads: 1 }).then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(advice[name]!) });
    expect((err as Error).message).toContain(f.class);
    expect((err as Error).message.startsWith(`${f.file}: `)).toBe(true);
    if (name !== 'HNSW_L1') await expect(inspectIndex(f.file)).rejects.toMatchObject({ code: 'UNSUPPORTED', message: (err as Error).message });
  });

  it.each([
    ['IvFl', 'IndexIVFFlat', 'IwFl'],
    ['IwSQ', 'IndexIVFScalarQuantizer', 'IwSq'],
  ])('the legacy fourcc %s names %s and the way to today\'s format', async (fourcc, cls, today) => {
    const b = new Uint8Array(readFileSync(fx.readable.ivf_d768_ip!.file));
    b.set(Buffer.from(fourcc, 'latin1'), 0);
    const file = join(dir, `legacy-${fourcc}.index`);
    writeFileSync(file, b);
    await expect(readIndex(file, { backend: 'wasm', threads: 1 })).rejects.toMatchObject({
      code: 'UNSUPPORTED',
      message: expect.stringContaining(`"${fourcc}" (${cls}) is not supported: an old FAISS format of ${cls}: load it with faiss.read_index and write it again with faiss.write_index (today's FAISS writes it as "${today}"`),
    });
  });

  it.each([undefined, 1024])('an IVF with 64-bit ids (add_with_ids) says how to renumber them, and that way reads with FAISS\'s results (shardBytes %s)', async (shardBytes) => {
    const f = fx.readable.ivfsq_bigids_l2!;
    const err = await readIndex(f.file, { backend: 'wasm', threads: 1, shardBytes }).then(() => undefined, (e: unknown) => e as Error);
    // it said only "tessera serves ids in [0, 2^31)", sharded without the byte offset
    expect(err).toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(/holds id 1099511\d+ at byte offset \d+: tessera serves ids in \[0, 2\^31\).*renumber/) });
    const recipe = err!.message.split("(tessera's label j is then ids[j]): ")[1]!;
    const work = mkdtempSync(join(dir, 'renumber-'));
    const out = join(work, 'renumbered.index');
    execFileSync(faissPython(), ['-c', `import faiss\nimport numpy as np\nindex = faiss.read_index(${JSON.stringify(f.file)})\npath = ${JSON.stringify(out)}\n${recipe}`], { cwd: work });
    const ids = readNpyInt64(join(work, 'ids.npy'));
    const index = await readIndex(out, { backend: 'wasm', threads: 1, shardBytes });
    if (shardBytes) expect((index as unknown as { shardCount: number }).shardCount).toBeGreaterThan(1);
    const got = await index.search(readF32(f.queries), f.k);
    await index.dispose();
    expectSameResults({ ...got, labels: BigInt64Array.from(got.labels, (j) => (j < 0 ? -1n : ids[Number(j)]!)) }, f.labels, f.distances, 'renumbered');
  });

  it('an IVF with on-disk lists, copied into array lists as its message says, reads with FAISS\'s results', async () => {
    const f = fx.readable.ivf_ondisk_copied!;
    const index = await readIndex(f.file, { backend: 'wasm', threads: 1 });
    expectSameResults(await index.search(readF32(f.queries), f.k), f.labels, f.distances, 'ivf_ondisk_copied');
    await index.dispose();
  });

  it.each([{}, { shardBytes: 4096 }])('an HNSW file storing efSearch 100000 names the options that override it (%o)', async (opts) => {
    // it failed as 'efConstruction must be an integer in [1, 65536], got 70000', as if the caller had passed it
    const err = await readIndex(fx.bigEf, { backend: 'wasm', threads: 1, ...opts }).then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({
      code: 'UNSUPPORTED',
      message: `${fx.bigEf}: the graph stores efConstruction 70000 and efSearch 100000, above tessera's limit of 65536: pass the options to use other defaults (e.g. { efConstruction: 65536, efSearch: 65536 })`,
    });
    await expect(readIndex(fx.bigEf, { backend: 'wasm', threads: 1, efSearch: 64 })).rejects.toMatchObject({ message: expect.stringMatching(/stores efConstruction 70000, above .* \(e\.g\. \{ efConstruction: 65536 \}\)$/) });
    const index = await readIndex(fx.bigEf, { backend: 'wasm', threads: 1, efSearch: 64, efConstruction: 40 });
    expect((await index.search(new Float32Array(8), 3)).labels.length).toBe(3);
    await index.dispose();
  });

  it('a scalar quantizer type from a FAISS newer than tessera knows is UNSUPPORTED, not a corrupt file', async () => {
    const b = new Uint8Array(readFileSync(fx.readable.sq_const_l2!.file));
    const v = new DataView(b.buffer, b.byteOffset);
    const qtypeAt = 4 + 33; // after the fourcc and the index header
    for (const [qtype, name] of [[9, 'QT_0bit'], [19, 'QT_1bit_eden'], [40, 'qtype 40 (newer than the FAISS types tessera knows)']] as const) {
      v.setInt32(qtypeAt, qtype, true);
      const file = join(dir, `qtype-${qtype}.index`);
      writeFileSync(file, b);
      await expect(readIndex(file, { backend: 'wasm', threads: 1 })).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringContaining(`scalar quantizer ${name} is not supported`) });
    }
    v.setInt32(qtypeAt, -7, true);
    const file = join(dir, 'qtype-bad.index');
    writeFileSync(file, b);
    await expect(readIndex(file, { backend: 'wasm', threads: 1 })).rejects.toMatchObject({ code: 'FORMAT', message: expect.stringContaining('bad ScalarQuantizer qtype -7') });
  });
});

/** A 1-d int64 .npy (as np.save writes a list of ints). */
function readNpyInt64(path: string): BigInt64Array {
  const b = readFileSync(path);
  const headerLen = b.readUInt16LE(8);
  expect(b.subarray(10, 10 + headerLen).toString('latin1')).toContain("'descr': '<i8'");
  const body = b.subarray(10 + headerLen);
  return new BigInt64Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength));
}

/** Seeded standard-normal-ish floats (sum of uniforms). */
function randn(n: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  return Float32Array.from({ length: n }, () => u() + u() + u() - 1.5);
}
