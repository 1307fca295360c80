/**
 * `tessera convert` from FAISS files that hold their vectors beside a graph or in inverted lists:
 * IndexHNSWFlat (Search-R1's e5_HNSW64.index) and IndexIVFFlat, written by real FAISS (python3-faiss).
 * Convert refused both ("convert reads flat indexes"); now their rows come out in label order (an
 * IVF's lists gathered by id) into every output type, the Flat output bit for bit FAISS's
 * reconstruct_n, and an IVF whose ids are not 0..n-1 (add_with_ids) is refused naming the first.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/node.js';
import { convertIndex } from '../../src/cli/commands/convert.js';
import { ByteReader } from '../../src/io/byte-reader.js';
import { readFlatIndexData } from '../../src/io/faiss/flat.js';
import { readIvfLayout, readIvfRowOffsets, streamIvfRows } from '../../src/io/faiss/ivf.js';
import { openFileSource } from '../../src/io/node-fs.js';
import { inspectIndex, readIndex } from '../../src/io/read-index.js';
import { clusteredVectors, normalizeRows, randomVectors } from '../helpers/data.js';
import { bruteForce, recallAtK } from '../helpers/oracle.js';
import { faissPython, readF32 } from '../io/faiss-python.js';

const d = 16;
const n = 3000;
const nq = 30;
const all = clusteredVectors(n + nq, d, 24, 71);
const noise = randomVectors(n + nq, d, 72);
for (let i = 0; i < all.length; i++) all[i]! += 0.3 * noise[i]!;
normalizeRows(all, d);
const base = all.slice(0, n * d);
const queries = all.slice(n * d);
let dir = '';

// FAISS writes the inputs: an HNSW (ip, as Search-R1's), IVFs (l2) with ids from add, a permutation
// of 0..n-1 given with add_with_ids (lists then hold ids out of add order; with a direct map), ids
// 1000.. and a repeated id; and each input's reconstruct_n as the oracle.
const MAKE = `
import json, sys
import faiss, numpy as np
faiss.omp_set_num_threads(1)
dir, d = sys.argv[1], int(sys.argv[2])
x = np.fromfile(dir + '/base.f32', dtype='float32').reshape(-1, d)
n = len(x)
h = faiss.IndexHNSWFlat(d, 16, faiss.METRIC_INNER_PRODUCT)
h.add(x)
faiss.write_index(h, dir + '/hnsw.index')
h.reconstruct_n(0, n).tofile(dir + '/hnsw.recon.f32')
def ivf():
    q = faiss.IndexFlatL2(d)
    index = faiss.IndexIVFFlat(q, d, 16, faiss.METRIC_L2)
    index.train(x)
    index.own_fields = True
    q.this.disown()
    return index
i = ivf(); i.add(x); faiss.write_index(i, dir + '/ivf.index')
i.make_direct_map(); i.reconstruct_n(0, n).tofile(dir + '/ivf.recon.f32')
perm = np.random.RandomState(5).permutation(n).astype('int64')
p = ivf(); p.add_with_ids(x[perm], perm); p.make_direct_map(); faiss.write_index(p, dir + '/ivf-perm.index')
p.reconstruct_n(0, n).tofile(dir + '/ivf-perm.recon.f32')
o = ivf(); o.add_with_ids(x, np.arange(n, dtype='int64') + 1000); faiss.write_index(o, dir + '/ivf-ids.index')
s = faiss.IndexIVFFlat(faiss.IndexFlatL2(d), d, 1024, faiss.METRIC_L2); s.cp.min_points_per_centroid = 1; s.train(x); s.add(x[:300])
faiss.write_index(s, dir + '/ivf-sparse.index')
g = faiss.index_factory(d, 'IVF16_HNSW8,Flat'); g.train(x); g.add(x); g.nprobe = 4; faiss.write_index(g, dir + '/ivf-hnswq.index')
q = np.fromfile(dir + '/q.f32', dtype='float32').reshape(-1, d)
D, I = g.search(q, 10)
json.dump(dict(labels=I.tolist(), distances=D.tolist()), open(dir + '/ivf-hnswq.json', 'w'))
g = faiss.index_factory(d, 'IVF16_HNSW8,SQ8'); g.train(x); g.add(x); faiss.write_index(g, dir + '/ivfsq-hnswq.index')
dup = np.arange(n, dtype='int64'); dup[n - 1] = 7
u = ivf(); u.add_with_ids(x, dup); faiss.write_index(u, dir + '/ivf-dup.index')
`;

// FAISS reads each Flat output: its rows are the input's reconstruct_n and it searches as a flat
// index of those rows does.
const CHECK = `
import json, sys
import faiss, numpy as np
dir, d, pairs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
q = np.fromfile(dir + '/q.f32', dtype='float32').reshape(-1, d)
out = []
for i in range(0, len(pairs), 2):
    got = faiss.read_index(dir + '/' + pairs[i])
    want = np.fromfile(dir + '/' + pairs[i + 1], dtype='float32').reshape(-1, d)
    ref = faiss.IndexFlat(d, got.metric_type); ref.add(want)
    D1, I1 = got.search(q, 10); D2, I2 = ref.search(q, 10)
    out.append(dict(metric=int(got.metric_type), ntotal=int(got.ntotal), rows=bool((got.reconstruct_n(0, got.ntotal) == want).all()),
                    labels=bool((I1 == I2).all()), distances=bool((D1 == D2).all())))
json.dump(out, open(dir + '/check.json', 'w'))
`;

const RESAVED = `
import json, sys
import faiss, numpy as np
dir, d = sys.argv[1], int(sys.argv[2])
q = np.fromfile(dir + '/q.f32', dtype='float32').reshape(-1, d)
a = faiss.read_index(dir + '/ivf-hnswq.index'); b = faiss.read_index(dir + '/ivf-hnswq.resaved.index')
a.nprobe = b.nprobe = 4
_, I1 = a.search(q, 10); _, I2 = b.search(q, 10)
json.dump(dict(flat=isinstance(faiss.downcast_index(b.quantizer), faiss.IndexFlat), ntotal=int(b.ntotal), same=bool((I1 == I2).all())), open(dir + '/resaved.json', 'w'))
`;

function python(script: string, args: (string | number)[]): void {
  const r = spawnSync(faissPython(), ['-c', script, dir, ...args.map(String)], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-convert-ann-'));
  writeFileSync(join(dir, 'base.f32'), new Uint8Array(base.buffer));
  writeFileSync(join(dir, 'q.f32'), new Uint8Array(queries.buffer));
  python(MAKE, [d]);
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('convert reads IndexHNSWFlat and IndexIVFFlat inputs', () => {
  it('--index-type Flat writes each input\'s vectors in label order: FAISS reads back its reconstruct_n, bit for bit', async () => {
    const phases = new Set<string>();
    const pairs: string[] = [];
    for (const [input, metric] of [['hnsw', 'ip'], ['ivf', 'l2'], ['ivf-perm', 'l2']] as const) {
      const out = join(dir, `${input}.flat.index`);
      const r = await convertIndex({ input: join(dir, `${input}.index`), output: out, indexType: 'Flat', onProgress: (e) => phases.add(e.phase) });
      expect(r).toMatchObject({ d, ntotal: n, metric, description: 'Flat' });
      const { layout, data } = await readFlatIndexData(out);
      expect(layout.metric).toBe(metric);
      const recon = readF32(join(dir, `${input}.recon.f32`));
      expect(Buffer.compare(Buffer.from(data.buffer), Buffer.from(recon.buffer)), input).toBe(0);
      // the vectors faiss was given, by id (the permuted one too)
      expect(Buffer.compare(Buffer.from(data.buffer), Buffer.from(base.buffer)), input).toBe(0);
      pairs.push(`${input}.flat.index`, `${input}.recon.f32`);
    }
    expect(phases).toContain('reading IVF ids');
    expect(phases).toContain('writing flat index');
    python(CHECK, [d, ...pairs]);
    const views = JSON.parse(readFileSync(join(dir, 'check.json'), 'utf8')) as Record<string, unknown>[];
    expect(views).toEqual([
      { metric: 0, ntotal: n, rows: true, labels: true, distances: true },
      { metric: 1, ntotal: n, rows: true, labels: true, distances: true },
      { metric: 1, ntotal: n, rows: true, labels: true, distances: true },
    ]);
  });

  it.each(['hnsw', 'ivf-perm'])('%s -> HNSW16, IVF8,Flat, IVF8,SQ8, SQ8: each labels the vectors as the input did', async (input) => {
    const metric = input === 'hnsw' ? 'ip' : 'l2';
    const truth = bruteForce(base, queries, d, 10, metric);
    for (const [type, floor] of [
      ['HNSW16', 0.9],
      ['IVF8,Flat', 1],
      ['IVF8,SQ8', 0.8],
      ['SQ8', 0.8],
    ] as const) {
      const out = join(dir, `${input}-${type.replace(',', '_')}.index`);
      const r = await convertIndex({ input: join(dir, `${input}.index`), output: out, indexType: type, threads: 1, seed: 2, nprobe: type.startsWith('IVF') ? 8 : undefined, efSearch: type.startsWith('HNSW') ? 64 : undefined });
      expect(r).toMatchObject({ d, ntotal: n, metric, description: type });
      const index = await readIndex(out, { backend: 'wasm', threads: 1 });
      // nprobe 8 of 8 lists: IVF8,Flat is exact
      expect(recallAtK(await index.search(queries, 10), truth), type).toBeGreaterThanOrEqual(floor);
      await index.dispose();
    }
  });

  it('an HNSW input\'s graph is skipped unread (memory stays O(1)): a file whose graph is corrupt still gives its vectors', async () => {
    const b = new Uint8Array(readFileSync(join(dir, 'hnsw.index')));
    const v = new DataView(b.buffer, b.byteOffset);
    // after fourcc + header: assign_probas (float64), cum_nneighbor_per_level (int32), then levels
    let at = 37;
    at += 8 + 8 * Number(v.getBigUint64(at, true));
    at += 8 + 4 * Number(v.getBigUint64(at, true));
    v.setInt32(at + 8 + 4 * 7, 0, true); // node 7's level: 0 is no level
    const input = join(dir, 'hnsw-bad-graph.index');
    writeFileSync(input, b);
    await expect(readIndex(input, { backend: 'wasm', threads: 1 })).rejects.toMatchObject({ code: 'FORMAT', message: expect.stringContaining('node 7 has level 0') });
    const out = join(dir, 'hnsw-bad-graph.flat.index');
    await convertIndex({ input, output: out, indexType: 'Flat' });
    const { data } = await readFlatIndexData(out);
    expect(Buffer.compare(Buffer.from(data.buffer), Buffer.from(base.buffer))).toBe(0);
  });

  it('an IVF whose lists are stored sparse (most of them empty: FAISS writes "sprs") gives its vectors in id order', async () => {
    expect(readFileSync(join(dir, 'ivf-sparse.index')).includes('sprs')).toBe(true);
    const out = join(dir, 'ivf-sparse.flat.index');
    expect(await convertIndex({ input: join(dir, 'ivf-sparse.index'), output: out, indexType: 'Flat' })).toMatchObject({ ntotal: 300, metric: 'l2' });
    const { data } = await readFlatIndexData(out);
    expect(Buffer.compare(Buffer.from(data.buffer), Buffer.from(base.buffer, 0, 300 * d * 4))).toBe(0);
  });

  it('an IVF with an HNSW coarse quantizer (IVF16_HNSW8,Flat; both refused) reads: its centroids are the quantizer\'s vectors; readIndex answers as FAISS, and convert gives its vectors', async () => {
    const input = join(dir, 'ivf-hnswq.index');
    expect(await inspectIndex(input)).toMatchObject({ description: 'IVF16,Flat', ntotal: n, details: { nprobe: 4, quantizer: expect.stringContaining('IndexHNSWFlat') } });
    const index = await readIndex(input, { backend: 'wasm', threads: 1 });
    const got = await index.search(queries, 10);
    // saved with a flat quantizer of the same centroids: FAISS reads it and answers the same
    await index.save(join(dir, 'ivf-hnswq.resaved.index'));
    await index.dispose();
    python(RESAVED, [d]);
    expect(JSON.parse(readFileSync(join(dir, 'resaved.json'), 'utf8'))).toEqual({ flat: true, ntotal: n, same: true });
    // FAISS's HNSW quantizer (efSearch 16 over 16 centroids) finds the exact nearest lists, as tessera's assignment does
    const faiss = JSON.parse(readFileSync(join(dir, 'ivf-hnswq.json'), 'utf8')) as { labels: number[][]; distances: number[][] };
    expect(Array.from(got.labels, Number)).toEqual(faiss.labels.flat());
    faiss.distances.flat().forEach((v, i) => expect(got.distances[i]).toBeCloseTo(v, 4));
    const out = join(dir, 'ivf-hnswq.flat.index');
    expect(await convertIndex({ input, output: out, indexType: 'Flat' })).toMatchObject({ ntotal: n, metric: 'l2' });
    const { data } = await readFlatIndexData(out);
    expect(Buffer.compare(Buffer.from(data.buffer), Buffer.from(base.buffer))).toBe(0);
    // its SQ8 sibling holds codes, not vectors: that is the reason given (it was the quantizer's)
    await expect(convertIndex({ input: join(dir, 'ivfsq-hnswq.index'), output: join(dir, 'sq-out.index'), indexType: 'Flat' })).rejects.toMatchObject({
      code: 'UNSUPPORTED',
      message: expect.stringContaining('ivfsq-hnswq.index is an IndexIVFScalarQuantizer, whose vectors are 8-bit codes'),
    });
  });

  it('an IVF read in id order in small chunks: rows gathered from every list equal the vectors by id', async () => {
    const source = await openFileSource(join(dir, 'ivf-perm.index'));
    try {
      const r = new ByteReader(source, 4, 'ivf-perm.index');
      const layout = await readIvfLayout(r, 'IwFl');
      const rowAt = await readIvfRowOffsets(source, layout);
      const starts: number[] = [];
      for await (const c of streamIvfRows(source, layout, rowAt, { firstRow: 17, rowCount: 1000, chunkBytes: 37 * 4 * d })) {
        starts.push(c.start);
        expect(Array.from(c.data)).toEqual(Array.from(base.subarray(c.start * d, (c.start + c.count) * d)));
      }
      expect(starts.length).toBe(Math.ceil(1000 / 37));
      expect(starts[1]).toBe(17 + 37);
    } finally {
      await source.close();
    }
  });

  it('an IVF whose ids are not 0..n-1 (add_with_ids) is UNSUPPORTED naming the first such id, and writes nothing', async () => {
    for (const [input, why] of [
      ['ivf-ids', /list \d+ holds id [34]\d\d\d at byte offset \d+, outside 0\.\.2999: .*add_with_ids cannot be kept/],
      ['ivf-dup', /list \d+ holds id 7 at byte offset \d+, an id already met/],
    ] as const) {
      const out = join(dir, `${input}-out.index`);
      await expect(convertIndex({ input: join(dir, `${input}.index`), output: out, indexType: 'Flat' })).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(why) });
      expect(existsSync(out)).toBe(false);
    }
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});
