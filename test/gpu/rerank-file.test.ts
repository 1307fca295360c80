/**
 * int8 re-ranking against float32 rows read from the index file by offset (indexes loaded from a
 * file) or kept in memory (built by add()): same results, bounded host memory, clear errors when
 * the file changes under the index.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, truncateSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/node.js';
import type { ByteSource, SearchResult } from '../../src/core/types.js';
import { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import { writeFlatIndex } from '../../src/io/faiss/flat.js';
import { openFileSource } from '../../src/io/node-fs.js';
import { readIndex } from '../../src/io/read-index.js';
import { faissPython } from '../io/faiss-python.js';
import { gpuForTests } from '../helpers/gpu.js';

const hasGpu = await gpuForTests('int8 re-rank from file');

const N = 3000;
const D = 96;
const NQ = 40;
const K = 10;

/** FAISS writes an IndexFlatIP of clustered rows and answers the queries exactly. */
function faissFixture(dir: string): { file: string; q: Float32Array; base: Float32Array; labels: number[][] } {
  const script = `
import sys, json, numpy as np, faiss
out = sys.argv[1]
rs = np.random.RandomState(7)
centres = rs.randn(20, ${D}).astype('float32')
x = centres[rs.randint(0, 20, size=${N + NQ})] + 0.3 * rs.randn(${N + NQ}, ${D}).astype('float32')
xb, xq = np.ascontiguousarray(x[:${N}]), np.ascontiguousarray(x[${N}:])
index = faiss.IndexFlatIP(${D}); index.add(xb)
_, lab = index.search(xq, ${K})
faiss.write_index(index, out + '/ip.index')
xb.tofile(out + '/base.f32'); xq.tofile(out + '/q.f32')
json.dump(lab.tolist(), open(out + '/labels.json', 'w'))
`;
  execFileSync(faissPython(), ['-c', script, dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  const f32 = (name: string) => {
    const b = readFileSync(join(dir, name));
    return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
  };
  return { file: join(dir, 'ip.index'), q: f32('q.f32'), base: f32('base.f32'), labels: JSON.parse(readFileSync(join(dir, 'labels.json'), 'utf8')) };
}

function recall(r: SearchResult, truth: number[][]): number {
  let hit = 0;
  for (let i = 0; i < truth.length; i++) {
    const want = new Set(truth[i]);
    for (let j = 0; j < K; j++) if (want.has(Number(r.labels[i * K + j]!))) hit++;
  }
  return hit / (truth.length * K);
}

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

describe.skipIf(!hasGpu)('int8 re-rank from the index file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-rerank-'));
  const fx = hasGpu ? faissFixture(dir) : undefined;
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a FAISS IndexFlatIP loaded as int8 re-ranks from the file: same results as in memory, no host rows, recall >= 0.99 vs exact', async () => {
    const small = { backend: 'gpu', precision: 'int8', maxTileBytes: 96 * 700, loadChunkBytes: D * 4 * 333 } as const;
    const fromFile = (await readIndex(fx!.file, small as never)) as GpuFlatIndex;
    const inMemory = (await readIndex(fx!.file, { ...small, rerankFrom: 'memory' } as never)) as GpuFlatIndex;
    const built = (await GpuFlatIndex.create(D, 'ip', { precision: 'int8', maxTileBytes: 96 * 700 })) as GpuFlatIndex;
    try {
      await built.add(fx!.base);
      expect(fromFile.precision).toBe('int8');
      // The file-backed index keeps no float32 rows; the others keep all of them.
      expect(fromFile.rerankHostBytes).toBe(0);
      expect(fromFile.plan!.hostBytes).toBe(0);
      expect(inMemory.rerankHostBytes).toBe(N * D * 4);
      expect(inMemory.plan!.hostBytes).toBe(N * D * 4);
      expect(built.rerankHostBytes).toBe(N * D * 4);
      const a = await fromFile.search(fx!.q, K);
      const b = await inMemory.search(fx!.q, K);
      const c = await built.search(fx!.q, K);
      expect(Array.from(a.labels)).toEqual(Array.from(b.labels));
      expect(Array.from(a.distances)).toEqual(Array.from(b.distances));
      expect(Array.from(a.labels)).toEqual(Array.from(c.labels));
      expect(recall(a, fx!.labels)).toBeGreaterThanOrEqual(0.99);
      // Distances are exact float32 inner products of the returned rows.
      for (let i = 0; i < NQ; i++) {
        const id = Number(a.labels[i * K]!);
        let s = 0;
        for (let t = 0; t < D; t++) s += fx!.q[i * D + t]! * fx!.base[id * D + t]!;
        expect(a.distances[i * K]).toBeCloseTo(s, 3);
      }
    } finally {
      await fromFile.dispose();
      await inMemory.dispose();
      await built.dispose();
    }
  });

  it('save() of a file-backed int8 index writes the float32 rows read back from the file, byte for byte', async () => {
    const index = (await readIndex(fx!.file, { backend: 'gpu', precision: 'int8' } as never)) as GpuFlatIndex;
    try {
      const out = join(dir, 'saved.index');
      await index.save(out);
      expect(Buffer.compare(readFileSync(out), readFileSync(fx!.file))).toBe(0);
    } finally {
      await index.dispose();
    }
  });

  it('a re-rank buffer of 7 rows (many runs of reads per search) gives the same results as the default (bounded memory)', async () => {
    const whole = (await readIndex(fx!.file, { backend: 'gpu', precision: 'int8' } as never)) as GpuFlatIndex;
    // Runs of 7 distinct rows; the pairs of one row always stay in one run.
    const tiny = (await readIndex(fx!.file, { backend: 'gpu', precision: 'int8', rerankBufferBytes: 7 * D * 4 } as never)) as GpuFlatIndex;
    try {
      const a = await whole.search(fx!.q, K);
      const b = await tiny.search(fx!.q, K);
      expect(Array.from(b.labels)).toEqual(Array.from(a.labels));
      expect(Array.from(b.distances)).toEqual(Array.from(a.distances));
    } finally {
      await whole.dispose();
      await tiny.dispose();
    }
  });

  it('an L2 file written by tessera, re-ranked from the file, equals an L2 index built by add()', async () => {
    const file = join(dir, 'l2.index');
    await writeFlatIndex(file, D, 'l2', N, fx!.base);
    const loaded = (await readIndex(file, { backend: 'gpu', precision: 'int8' } as never)) as GpuFlatIndex;
    const built = await GpuFlatIndex.create(D, 'l2', { precision: 'int8' });
    try {
      await built.add(fx!.base);
      expect(loaded.rerankHostBytes).toBe(0);
      const a = await loaded.search(fx!.q, K);
      const b = await built.search(fx!.q, K);
      expect(Array.from(a.labels)).toEqual(Array.from(b.labels));
      expect(Array.from(a.distances)).toEqual(Array.from(b.distances));
    } finally {
      await loaded.dispose();
      await built.dispose();
    }
  });

  it('the file truncated after loading: search fails with FORMAT naming the change, not garbage', async () => {
    const file = join(dir, 'truncated.index');
    copyFileSync(fx!.file, file);
    const index = (await readIndex(file, { backend: 'gpu', precision: 'int8' } as never)) as GpuFlatIndex;
    try {
      truncateSync(file, 4096);
      const err = await index.search(fx!.q, K).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'FORMAT' });
      expect(String((err as Error).message)).toMatch(/changed after it was opened.*reload the index/);
    } finally {
      await index.dispose();
    }
  });

  it('the file rewritten in place (same size) after loading: FORMAT, not re-ranking against other rows', async () => {
    const file = join(dir, 'rewritten.index');
    copyFileSync(fx!.file, file);
    const index = (await readIndex(file, { backend: 'gpu', precision: 'int8' } as never)) as GpuFlatIndex;
    try {
      const before = await index.search(fx!.q, K);
      expect(recall(before, fx!.labels)).toBeGreaterThanOrEqual(0.99);
      await new Promise((r) => setTimeout(r, 20)); // a modification time that differs on coarse clocks too
      const fd = openSync(file, 'r+');
      writeSync(fd, new Uint8Array(4096).fill(0x7f), 0, 4096, 1024);
      closeSync(fd);
      const err = await index.search(fx!.q, K).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'FORMAT' });
      expect(String((err as Error).message)).toMatch(/changed after it was opened/);
    } finally {
      await index.dispose();
    }
  });

  it('dispose closes the file handle the re-rank kept open', async () => {
    const fds = openFds();
    const index = (await readIndex(fx!.file, { backend: 'gpu', precision: 'int8' } as never)) as GpuFlatIndex;
    expect(openFds()).toBe(fds + 1); // readIndex closed its own handle; the index holds one
    await index.search(fx!.q.subarray(0, D), K);
    await index.dispose();
    expect(openFds()).toBe(fds);
    await expect(index.search(fx!.q.subarray(0, D), K)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('a ByteSource of the caller: rows in memory by default; rerankFrom "file" reads it in ascending offsets, batched', async () => {
    const source = await openFileSource(fx!.file);
    const reads: number[] = [];
    // A source without the Node extras, as a browser File would be: only read().
    const plain: ByteSource = {
      size: source.size,
      read: (offset, length) => {
        reads.push(offset);
        return source.read(offset, length);
      },
      close: async () => undefined,
    };
    try {
      const mem = (await readIndex(plain, { backend: 'gpu', precision: 'int8' } as never)) as GpuFlatIndex;
      expect(mem.rerankHostBytes).toBe(N * D * 4);
      const want = await mem.search(fx!.q, K);
      await mem.dispose();
      const file = (await readIndex(plain, { backend: 'gpu', precision: 'int8', rerankFrom: 'file' } as never)) as GpuFlatIndex;
      expect(file.rerankHostBytes).toBe(0);
      reads.length = 0;
      const got = await file.search(fx!.q, K);
      expect(Array.from(got.labels)).toEqual(Array.from(want.labels));
      // One search, one batch: at most one read per distinct candidate row (adjacent rows merge).
      expect(reads.length).toBeGreaterThan(0);
      expect(reads.length).toBeLessThanOrEqual(NQ * 40);
      expect(reads).toEqual([...reads].sort((x, y) => x - y));
      await file.dispose();
      // The caller's source stays open: the index did not close it.
      expect((await source.read(0, 4)).length).toBe(4);
    } finally {
      await source.close();
    }
  });
});
