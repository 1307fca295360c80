/**
 * FAISS interoperability through the Index interface, on both backends: FAISS writes IndexFlatIP/L2
 * files and its own search results (test/fixtures/faiss/make_flat_fixtures.py); readIndex loads them
 * on wasm and gpu and returns FAISS's ids; files the loaded indexes save are read by FAISS, which
 * then finds its own ids again.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/node.js';
import type { Backend, Index } from '../../src/core/types.js';
import { memorySource } from '../../src/io/byte-reader.js';
import { encodeFlatHeader } from '../../src/io/faiss/flat.js';
import { inspectIndex, readIndex } from '../../src/io/read-index.js';
import { writeVectors } from '../../src/io/vectors.js';
import { randomVectors } from '../helpers/data.js';
import { gpuForTests } from '../helpers/gpu.js';
import { type FlatFixtures, makeFlatFixtures, removeFlatFixtures, readF32, searchWithFaiss } from './faiss-python.js';

let fx: FlatFixtures;
beforeAll(() => {
  fx = makeFlatFixtures();
});
afterAll(() => removeFlatFixtures(fx));

const SETS = ['random100', 'clustered768', 'odd3'] as const;
const METRICS = ['ip', 'l2'] as const;

/** Rows of labels as numbers, for comparing with FAISS's JSON. */
function labelRows(labels: BigInt64Array, nq: number, k: number): number[][] {
  return Array.from({ length: nq }, (_, i) => Array.from(labels.subarray(i * k, (i + 1) * k), Number));
}

/** |ours - faiss| within float32 rounding of sums of d products, relative to the magnitude. */
function expectDistancesClose(got: Float32Array, want: number[][], k: number): void {
  want.forEach((row, i) =>
    row.forEach((w, j) => {
      const g = got[i * k + j]!;
      expect(Math.abs(g - w), `query ${i} rank ${j}: ${g} vs FAISS ${w}`).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(w)));
    }),
  );
}

describe.each(['wasm', 'gpu'] as Backend[])('readIndex on %s', (backend) => {
  let run = true;
  beforeAll(async () => {
    if (backend === 'gpu') run = await gpuForTests('FAISS interop on the GPU backend');
  });

  it.each(SETS.flatMap((s) => METRICS.map((m) => [s, m] as const)))('%s %s: same ids as FAISS, scores within float tolerance', async (set, metric) => {
    if (!run) return;
    const { n, d, nq } = fx.sets[set]!;
    const want = fx.sets[set]!.indexes[metric];
    const index = await readIndex(join(fx.dir, want.file), { backend });
    try {
      expect(index).toMatchObject({ backend, d, ntotal: n, metric, description: 'Flat', isTrained: true });
      const r = await index.search(readF32(join(fx.dir, `${set}.queries.f32`)), fx.k);
      expect(labelRows(r.labels, nq, fx.k)).toEqual(want.labels);
      expectDistancesClose(r.distances, want.distances, fx.k);
    } finally {
      await index.dispose();
    }
  });

  it('k larger than ntotal pads with -1 after all of FAISS ids', async () => {
    if (!run) return;
    const set = fx.sets.odd3!;
    const index = await readIndex(join(fx.dir, set.indexes.ip.file), { backend });
    try {
      const k = set.n + 5;
      const r = await index.search(readF32(join(fx.dir, 'odd3.queries.f32')).subarray(0, 3 * set.d), k);
      for (let i = 0; i < 3; i++) {
        const row = Array.from(r.labels.subarray(i * k, (i + 1) * k), Number);
        expect(row.slice(0, fx.k)).toEqual(set.indexes.ip.labels[i]);
        expect(new Set(row.slice(0, set.n)).size).toBe(set.n);
        expect(row.slice(set.n)).toEqual([-1, -1, -1, -1, -1]);
      }
    } finally {
      await index.dispose();
    }
  });

  it('streams the file: no read larger than a chunk, every byte read once', async () => {
    if (!run) return;
    // 40000 x 128 float32 = 20 MiB of rows: more than one 16 MiB chunk (the GPU loader is told 4 MiB).
    const n = 40_000;
    const d = 128;
    const rows = randomVectors(n, d, 7);
    const header = encodeFlatHeader(d, n, 'ip');
    const bytes = new Uint8Array(header.length + rows.byteLength);
    bytes.set(header);
    bytes.set(new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength), header.length);
    const inner = memorySource(bytes);
    const reads: number[] = [];
    const source = { ...inner, read: (o: number, l: number) => (reads.push(l), inner.read(o, l)) };
    const limit = backend === 'gpu' ? 4 << 20 : 16 << 20;
    const index = await readIndex(source, { backend, loadChunkBytes: 4 << 20 } as object);
    try {
      expect(index.ntotal).toBe(n);
      expect(Math.max(...reads)).toBeLessThanOrEqual(limit);
      expect(reads.length).toBeGreaterThan(1);
      // The header is read in small pieces (a 64 KiB buffer at most), the rows exactly once.
      expect(reads.filter((l) => l > 1 << 16).reduce((a, b) => a + b, 0)).toBe(rows.byteLength);
      const r = await index.search(rows.subarray(5 * d, 6 * d), 1);
      expect(r.labels[0]).toBe(5n);
    } finally {
      await index.dispose();
    }
  });

  it('FAISS reads what the loaded indexes save and finds its own ids', async () => {
    if (!run) return;
    const set = 'clustered768';
    const { d } = fx.sets[set]!;
    const files: string[] = [];
    for (const metric of METRICS) {
      const index: Index = await readIndex(join(fx.dir, fx.sets[set]!.indexes[metric].file), { backend });
      try {
        const out = join(fx.dir, `saved-${backend}-${metric}.index`);
        await index.save(out);
        files.push(out);
        expect(await inspectIndex(out)).toMatchObject({ d, ntotal: index.ntotal, metric });
      } finally {
        await index.dispose();
      }
    }
    const views = searchWithFaiss(files, join(fx.dir, `${set}.queries.f32`), d, fx.k);
    METRICS.forEach((metric, i) => {
      expect(views[i]!.error).toBeUndefined();
      expect(views[i]!.labels).toEqual(fx.sets[set]!.indexes[metric].labels);
    });
  });
});

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('readIndex errors', () => {
  it('NOT_FOUND for a missing file; UNSUPPORTED for a metric tessera does not serve', async () => {
    await expect(readIndex(join(fx.dir, 'missing.index'), { backend: 'wasm' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(readIndex(join(fx.dir, 'l1.index'), { backend: 'wasm' })).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(/metric L1/) });
  });

  // "X is a directory, expected a file" and "file not found: X" named no fix: `--index out` for the
  // out/Flat.index that `tessera build --out out` wrote, a relative path read from another folder.
  it('a folder or a missing file names what to pass: the index file in the folder, the current folder of a relative path', async () => {
    const root = mkdtempSync(join(tmpdir(), 'tessera-read-folder-'));
    try {
      const built = join(root, 'built');
      mkdirSync(built);
      writeFileSync(join(built, 'Flat.index'), 'x');
      writeFileSync(join(built, 'corpus.jsonl.offsets'), 'x');
      writeFileSync(join(built, '.Flat.index.123.ab.tmp'), 'x'); // hidden: not offered
      await expect(readIndex(built, { backend: 'wasm' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: `${built} is a folder, expected a file: pass the index file in it, ${join(built, 'Flat.index')}` });
      const one = join(root, 'one');
      mkdirSync(one);
      writeFileSync(join(one, 'q.npy'), 'x');
      await expect(readIndex(one, { backend: 'wasm' })).rejects.toMatchObject({ message: `${one} is a folder, expected a file: pass the file in it, ${join(one, 'q.npy')}` });
      const several = join(root, 'several');
      mkdirSync(several);
      for (let i = 0; i < 7; i++) writeFileSync(join(several, `v${i}.npy`), 'x');
      await expect(readIndex(several, { backend: 'wasm' })).rejects.toMatchObject({ message: `${several} is a folder, expected a file: pass one of its files (v0.npy, v1.npy, v2.npy, v3.npy, v4.npy, ... (7 in all)) as ${join(several, '<file>')}` });
      const bare = join(root, 'bare');
      mkdirSync(bare);
      await expect(readIndex(bare, { backend: 'wasm' })).rejects.toMatchObject({ message: `${bare} is a folder, expected a file: pass the path of a file, not of its folder (${bare} holds no files)` });

      await expect(readIndex(join(root, 'missing.index'), { backend: 'wasm' })).rejects.toMatchObject({ code: 'NOT_FOUND', message: `file not found: ${join(root, 'missing.index')}: check the path` });
      await expect(readIndex(join(root, 'nodir', 'e5_Flat.index'), { backend: 'wasm' })).rejects.toMatchObject({
        code: 'NOT_FOUND',
        message: `file not found: ${join(root, 'nodir', 'e5_Flat.index')}: check the path; its folder ${join(root, 'nodir')} does not exist either`,
      });
      const rel = relative(process.cwd(), join(root, 'missing.index'));
      await expect(readIndex(rel, { backend: 'wasm' })).rejects.toMatchObject({ code: 'NOT_FOUND', message: `file not found: ${rel} (relative to the current folder, ${process.cwd()}): check the path` });
      await expect(readIndex('nope.index', { backend: 'wasm' })).rejects.toMatchObject({ message: `file not found: nope.index (relative to the current folder, ${process.cwd()}): check the path` });
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('a directory, a .npy, a text file, an empty file: each named for what it is', async () => {
    const empty = join(fx.dir, 'empty.index');
    writeFileSync(empty, '');
    for (const read of [() => readIndex(empty, { backend: 'wasm' }), () => inspectIndex(empty)]) {
      await expect(read()).rejects.toMatchObject({ code: 'FORMAT', message: `${empty}: the file is empty (0 bytes), expected a FAISS fourcc (e.g. "IxFI"): copy or write it again` });
    }
    await expect(readIndex(fx.dir, { backend: 'wasm' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(new RegExp(`^${escapeRegExp(fx.dir)} is a folder, expected a file: pass one of its index files \\([^)]*\\.index, .*\\) as ${escapeRegExp(join(fx.dir, '<file>'))}$`)),
    });
    await expect(inspectIndex(fx.dir)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const npy = join(fx.dir, 'q.npy');
    await writeVectors(npy, new Float32Array(8), 4);
    await expect(readIndex(npy, { backend: 'wasm' })).rejects.toMatchObject({
      code: 'UNSUPPORTED',
      message: expect.stringMatching(/q\.npy: a NumPy \.npy file, not a FAISS index: read its vectors with readVectors, or .*tessera convert/),
    });
    const text = join(fx.dir, 'notes.txt');
    writeFileSync(text, 'import faiss\n');
    await expect(readIndex(text, { backend: 'wasm' })).rejects.toMatchObject({
      code: 'UNSUPPORTED',
      message: expect.stringMatching(/notes\.txt: not a FAISS index: its first bytes "impo" are no known fourcc/),
    });
  });

  it('INVALID_ARGUMENT for an unknown backend name', async () => {
    await expect(readIndex(join(fx.dir, 'odd3_ip.index'), { backend: 'cuda' as Backend })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/backend must be 'auto', 'gpu' or 'wasm', got "cuda"/),
    });
  });
});
