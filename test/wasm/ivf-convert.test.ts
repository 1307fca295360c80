/** `tessera convert` (convertIndex): flat FAISS file or vector file -> IVF / SQ8 FAISS files, sharded when large, atomic. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/node.js';
import { convertIndex } from '../../src/cli/commands/convert.js';
import { writeFlatIndex } from '../../src/io/faiss/flat.js';
import { inspectIndex, readIndex } from '../../src/io/read-index.js';
import { ByteReader } from '../../src/io/byte-reader.js';
import { readSqLayout } from '../../src/io/faiss/sq.js';
import { openFileSource } from '../../src/io/node-fs.js';
import { writeVectors } from '../../src/io/vectors.js';
import { clusteredVectors, normalizeRows, randomVectors } from '../helpers/data.js';
import { bruteForce, recallAtK } from '../helpers/oracle.js';
import { faissPython } from '../io/faiss-python.js';

const d = 16;
const n = 4000;
const nq = 20;
const all = clusteredVectors(n + nq, d, 16, 41);
const noise = randomVectors(n + nq, d, 42);
for (let i = 0; i < all.length; i++) all[i]! += 0.3 * noise[i]!;
normalizeRows(all, d);
const base = all.subarray(0, n * d);
const queries = all.subarray(n * d);
const dirs: string[] = [];
const tempDir = (): string => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-convert-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

describe('convert', () => {
  it('flat FAISS file -> IVF32,SQ8 / SQ8 / IVF32,Flat (one of them sharded), read by us and by FAISS', async () => {
    const dir = tempDir();
    const flat = join(dir, 'e5_Flat.index');
    await writeFlatIndex(flat, d, 'ip', n, base);
    const truth = bruteForce(base, queries, d, 10, 'ip');
    const phases = new Set<string>();
    const items: { file: string; nprobe?: number }[] = [];
    for (const [type, shardBytes, floor] of [
      ['IVF32,SQ8', undefined, 0.85],
      ['SQ8', 24 << 10, 0.8],
      ['IVF32,Flat', undefined, 0.95],
    ] as const) {
      const out = join(dir, `${type.replace(',', '_')}.index`);
      const r = await convertIndex({ input: flat, output: out, indexType: type, threads: 1, seed: 3, nprobe: 8, shardBytes, onProgress: (e) => phases.add(e.phase) });
      expect(r).toMatchObject({ d, ntotal: n, metric: 'ip', description: type });
      if (shardBytes) expect(r.shards).toBeGreaterThan(1);
      const info = await inspectIndex(out);
      expect(info).toMatchObject({ description: type, ntotal: n, d, metric: 'ip' });
      const index = await readIndex(out, { backend: 'wasm', threads: 1 });
      expect(recallAtK(await index.search(queries, 10), truth)).toBeGreaterThanOrEqual(floor);
      await index.dispose();
      items.push({ file: out, ...(type === 'SQ8' ? {} : { nprobe: 8 }) });
    }
    expect(phases).toContain('k-means');
    expect(phases).toContain('adding to IVF32,SQ8');
    // only the outputs and the input: no temp files left behind
    expect(readdirSync(dir).sort()).toEqual(['IVF32_Flat.index', 'IVF32_SQ8.index', 'SQ8.index', 'e5_Flat.index']);
    const qf = join(dir, 'q.f32');
    writeFileSync(qf, Buffer.from(queries.buffer, queries.byteOffset, queries.byteLength));
    const req = join(dir, 'req.json');
    writeFileSync(req, JSON.stringify({ queries: qf, d, k: 10, items }));
    const views = JSON.parse(
      execFileSync(faissPython(), [resolve(import.meta.dirname, '../fixtures/faiss/search_ann_with_faiss.py'), req], { encoding: 'utf8' }),
    ) as { error?: string; ntotal: number }[];
    for (const v of views) expect(v).toMatchObject({ ntotal: n });
  });

  it('vector file input; bad inputs fail clearly and leave no output', async () => {
    const dir = tempDir();
    const npy = join(dir, 'x.npy');
    await writeVectors(npy, base, d);
    const out = join(dir, 'sq.index');
    const r = await convertIndex({ input: npy, output: out, indexType: 'SQ8', metric: 'l2', threads: 1 });
    expect(r).toMatchObject({ ntotal: n, metric: 'l2' });
    const bad = join(dir, 'bad.index');
    await expect(convertIndex({ input: npy, output: bad, indexType: 'IVF8192,Flat', threads: 1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('nlist') });
    await expect(convertIndex({ input: out, output: bad, indexType: 'IVF8,Flat' })).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringContaining('flat') });
    await expect(convertIndex({ input: npy, output: bad, indexType: 'PQ16' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    // HNSW past one instance is several graphs: fine in memory (shardedIndex), not as one FAISS file
    // The refusal names the limit it met, --shard-bytes here (it said "one 4 GiB WebAssembly memory")
    await expect(convertIndex({ input: npy, output: bad, indexType: 'HNSW16', threads: 1, shardBytes: 64 << 10 })).rejects.toMatchObject({
      code: 'UNSUPPORTED',
      message: expect.stringMatching(/needs more than one WebAssembly memory of 64\.0 KiB \(--shard-bytes\), which holds \d+ of them at \d+ B each, i\.e\. several graphs.*a larger --shard-bytes \(4GiB fits it\)/),
    });
    // a .npy whose name does not say so is known by its magic (readIndex sends it here); raw floats named otherwise are told to be named .f32
    const npyNamedIndex = join(dir, 'x-npy.index');
    writeFileSync(npyNamedIndex, readFileSync(npy));
    expect(await convertIndex({ input: npyNamedIndex, output: join(dir, 'from-npy.index'), indexType: 'Flat' })).toMatchObject({ ntotal: n, d });
    const raw = join(dir, 'x.bin');
    writeFileSync(raw, Buffer.from(base.buffer, base.byteOffset, base.byteLength));
    await expect(convertIndex({ input: raw, output: bad, indexType: 'Flat', dim: d })).rejects.toMatchObject({
      code: 'UNSUPPORTED',
      message: expect.stringContaining('x.bin: not a FAISS index (its first bytes 0x['),
    });
    await expect(convertIndex({ input: raw, output: bad, indexType: 'Flat', dim: d })).rejects.toMatchObject({ message: expect.stringContaining('name it .npy, .fvecs, or .f32 for raw float32 rows (then give --dim D)') });
    // a FAISS file's dimension is its header's: a --dim that differs was ignored without a word
    const flat = join(dir, 'f.index');
    await writeFlatIndex(flat, d, 'ip', 100, base.subarray(0, 100 * d));
    await expect(convertIndex({ input: flat, output: bad, indexType: 'Flat', dim: 32 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('holds vectors of dimension 16, but --dim 32 was given') });
    expect(existsSync(bad)).toBe(false);
  });

  it('too few vectors to train an IVF names what is short: the input, or --train-size', async () => {
    // Both said "... has 4000 (or --train-size is 262144)", the second naming a --train-size never given.
    const dir = tempDir();
    const npy = join(dir, 'x.npy');
    await writeVectors(npy, base, d);
    const small = convertIndex({ input: npy, output: join(dir, 'a.index'), indexType: 'IVF8192,Flat', threads: 1 });
    await expect(small).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/IVF8192,Flat needs at least nlist = 8192 vectors to train, .*x\.npy has 4000: use a smaller nlist/) });
    await expect(small).rejects.toMatchObject({ message: expect.not.stringContaining('--train-size') });
    const sample = convertIndex({ input: npy, output: join(dir, 'b.index'), indexType: 'IVF64,Flat', trainSize: 32, threads: 1 });
    await expect(sample).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('the sample is 32 (--train-size): pass --train-size 64 or more') });
  });

  it('SQ8 trains on every row when the sample is all of them (4001 rows: the last 15 were never read, so an outlier there fell outside the ranges)', async () => {
    const dir = tempDir();
    const rows = 4001;
    const x = new Float32Array(rows * d);
    x.set(all.subarray(0, rows * d));
    x[(rows - 1) * d + 3] = 50; // the last row: far outside every other row's range in dimension 3
    x[(rows - 20) * d + 5] = -40; // and one the old 16-row blocks did read, for contrast
    const flat = join(dir, 'x.index');
    await writeFlatIndex(flat, d, 'l2', rows, x);
    const out = join(dir, 'sq.index');
    const r = await convertIndex({ input: flat, output: out, indexType: 'SQ8', threads: 1 });
    expect(r.trainRows).toBe(rows);
    const source = await openFileSource(out);
    try {
      const { sq } = await readSqLayout(new ByteReader(source, 4, out));
      const [vmin, vdiff] = [sq.trained.subarray(0, d), sq.trained.subarray(d)];
      expect(vmin[3]! + vdiff[3]!).toBeCloseTo(50, 4);
      expect(vmin[5]).toBeCloseTo(-40, 4);
    } finally {
      await source.close();
    }
    // a sparse sample (IVF: 256 x nlist of many more rows) reads distinct rows: as many as asked
    const ivf = await convertIndex({ input: flat, output: join(dir, 'ivf.index'), indexType: 'IVF4,Flat', threads: 1, trainSize: 1500 });
    expect(ivf.trainRows).toBe(1500);
  });

  it('a vector that is not finite is FORMAT naming the input and its row, for every output, and nothing is written (a Flat was written and then refused by readIndex)', async () => {
    const dir = tempDir();
    const x = base.slice(0, 3000 * d);
    x[2345 * d + 3] = Number.NaN;
    const npy = join(dir, 'x.npy');
    await writeVectors(npy, x, d);
    for (const type of ['Flat', 'SQ8', 'IVF4,Flat', 'HNSW8']) {
      const out = join(dir, `${type.replace(',', '_')}.index`);
      await expect(convertIndex({ input: npy, output: out, indexType: type, threads: 1 })).rejects.toMatchObject({
        code: 'FORMAT',
        message: expect.stringContaining(`${npy}: vector 2345 holds NaN in dimension 3`),
      });
      expect(existsSync(out), type).toBe(false);
    }
    expect(readdirSync(dir)).toEqual(['x.npy']);
  });

  it('an --out that cannot be written fails before the work (it failed at the save, after training and adds), and a failure leaves no temp file', async () => {
    const dir = tempDir();
    const flat = join(dir, 'x.index');
    await writeFlatIndex(flat, d, 'ip', n, base);
    for (const type of ['IVF8,SQ8', 'Flat']) {
      const phases: string[] = [];
      await expect(convertIndex({ input: flat, output: join(dir, 'missing', 'out.index'), indexType: type, threads: 1, onProgress: (e) => phases.push(e.phase) })).rejects.toMatchObject({
        code: 'NOT_FOUND',
        message: expect.stringContaining('does not exist; create it first'),
      });
      expect(phases, type).toEqual([]);
    }
    // a failure during the work (here: too few rows to train) removes the temp file opened for the output
    await expect(convertIndex({ input: flat, output: join(dir, 'big.index'), indexType: 'IVF8192,Flat', threads: 1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(readdirSync(dir)).toEqual(['x.index']);
  });

  it('an --out that is the input (its path, or a link to it) is INVALID_ARGUMENT and leaves the input as it was (a .npy was replaced by a FAISS index)', async () => {
    const dir = tempDir();
    const npy = join(dir, 'x.npy');
    await writeVectors(npy, base.subarray(0, 100 * d), d);
    const before = readFileSync(npy);
    symlinkSync(npy, join(dir, 'link.npy'));
    for (const output of [npy, join(dir, '.', 'x.npy'), join(dir, 'link.npy')]) {
      await expect(convertIndex({ input: npy, output, indexType: 'Flat' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('is the input file') });
    }
    expect(readFileSync(npy).equals(before)).toBe(true);
  });

  it('options the output type does not use are reported as ignored (--nprobe on HNSW, --ef-construction on IVF were dropped without a word)', async () => {
    const dir = tempDir();
    const npy = join(dir, 'x.npy');
    await writeVectors(npy, base.subarray(0, 200 * d), d);
    const hnsw = await convertIndex({ input: npy, output: join(dir, 'h.index'), indexType: 'HNSW8', threads: 1, nprobe: 8, trainSize: 50 });
    expect(hnsw.ignored).toEqual([
      '--nprobe does nothing for --index-type HNSW8 (only IVF<nlist>,... outputs take it): ignored',
      '--train-size does nothing for --index-type HNSW8 (only IVF<nlist>,... and SQ8 outputs take it): ignored',
    ]);
    const ivf = await convertIndex({ input: npy, output: join(dir, 'i.index'), indexType: 'IVF4,Flat', threads: 1, nprobe: 2, efConstruction: 80 });
    expect(ivf.ignored).toEqual(['--ef-construction does nothing for --index-type IVF4,Flat (only HNSW<M> outputs take it): ignored']);
    const sq = await convertIndex({ input: npy, output: join(dir, 's.index'), indexType: 'SQ8', threads: 1, seed: 5 });
    expect(sq.ignored).toEqual(['--seed does nothing for --index-type SQ8 (only HNSW<M> and IVF<nlist>,... outputs take it): ignored']);
  });
});
