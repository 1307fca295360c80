/** readIndex of FAISS-written flat files straight into GPU tiles: FAISS's ids, progress, bounded chunks. */
import { describe, expect, it } from 'vitest';
import '../../src/node.js';
import { readIndex } from '../../src/io/read-index.js';
import type { ByteSource, ProgressEvent } from '../../src/core/types.js';
import { openFileSource } from '../../src/io/node-fs.js';
import { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import { gpuForTests } from '../helpers/gpu.js';
import { makeFlatFixtures } from '../io/faiss-python.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const hasGpu = await gpuForTests('GPU streaming load');

function readF32(path: string): Float32Array {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
}

describe.skipIf(!hasGpu)('gpu load', () => {
  const fx = hasGpu ? makeFlatFixtures() : undefined;

  it.each(['random100', 'clustered768', 'odd3'])('%s: IndexFlatIP/L2 written by FAISS, streamed into small tiles, gives FAISS ids', async (name) => {
    const set = fx!.sets[name]!;
    const q = readF32(join(fx!.dir, `${name}.queries.f32`));
    for (const metric of ['ip', 'l2'] as const) {
      const events: ProgressEvent[] = [];
      const rowBytes = Math.ceil(set.d / 4) * 16;
      const index = await readIndex(join(fx!.dir, set.indexes[metric].file), {
        backend: 'gpu',
        onProgress: (e: ProgressEvent) => events.push(e),
        maxTileBytes: rowBytes * 97,
        loadChunkBytes: set.d * 4 * 61,
      } as never);
      try {
        expect(index).toBeInstanceOf(GpuFlatIndex);
        const gpuIndex = index as GpuFlatIndex;
        expect(index.ntotal).toBe(set.n);
        expect(index.metric).toBe(metric);
        expect(gpuIndex.precision).toBe('f32');
        expect(gpuIndex.tilesPerShard[0]).toBe(Math.ceil(set.n / 97));
        const r = await index.search(q, fx!.k);
        const want = set.indexes[metric];
        for (let i = 0; i < set.nq; i++) {
          const got = Array.from(r.labels.subarray(i * fx!.k, (i + 1) * fx!.k), Number);
          expect(got, `query ${i}`).toEqual(want.labels[i]);
        }
        // Progress: bytes, monotonic, ends at the data size; one event per chunk of <= 61 rows.
        const loads = events.filter((e) => e.phase === 'loading index to GPU');
        expect(loads.at(-1)!.done).toBe(set.n * set.d * 4);
        expect(loads.at(-1)!.total).toBe(set.n * set.d * 4);
        expect(loads.length).toBeGreaterThanOrEqual(Math.ceil(set.n / 61));
        for (let i = 1; i < loads.length; i++) expect(loads[i]!.done).toBeGreaterThanOrEqual(loads[i - 1]!.done);
        expect(gpuIndex.loadStats!.bytes).toBe(set.n * set.d * 4);
        expect(gpuIndex.loadStats!.gbPerSecond).toBeGreaterThan(0);
      } finally {
        await index.dispose();
      }
    }
  });

  it('loads with int8 storage and re-ranks exactly (FAISS ids), and with f16', async () => {
    const name = 'random100';
    const set = fx!.sets[name]!;
    const q = readF32(join(fx!.dir, `${name}.queries.f32`));
    for (const precision of ['int8', 'f16'] as const) {
      const index = (await readIndex(join(fx!.dir, set.indexes.ip.file), { backend: 'gpu', precision })) as GpuFlatIndex;
      try {
        expect(index.precision).toBe(precision);
        const r = await index.search(q, fx!.k);
        let hit = 0;
        for (let i = 0; i < set.nq; i++) {
          const truth = new Set(set.indexes.ip.labels[i]);
          for (let j = 0; j < fx!.k; j++) if (truth.has(Number(r.labels[i * fx!.k + j]!))) hit++;
        }
        expect(hit / (set.nq * fx!.k)).toBeGreaterThanOrEqual(0.95);
      } finally {
        await index.dispose();
      }
    }
  });

  it('a source that ends early while the read-ahead ring is loading: FORMAT naming the offset, nothing left running', async () => {
    const set = fx!.sets.clustered768!;
    const source = await openFileSource(join(fx!.dir, set.indexes.ip.file));
    const cut = Math.floor(source.size * 0.6);
    // As a file that shrank after its header was checked: reads past `cut` come back short.
    const shrinking: ByteSource = {
      size: source.size,
      read: async (offset, length) => (await source.read(offset, length)).subarray(0, Math.max(0, Math.min(length, cut - offset))),
      close: async () => undefined,
    };
    try {
      const err = await readIndex(shrinking, { backend: 'gpu', loadChunkBytes: set.d * 4 * 10 } as never).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'FORMAT' });
      expect(String((err as Error).message)).toMatch(/truncated: expected \d+ bytes of rows at byte offset \d+, read \d+/);
    } finally {
      await source.close();
    }
  });

  it('an index file too big for the stated gpuMemory is refused before loading', async () => {
    const set = fx!.sets.clustered768!;
    const err = await readIndex(join(fx!.dir, set.indexes.ip.file), { backend: 'gpu', precision: 'f32', gpuMemory: 2 << 20, scratchBytes: 1 << 16 } as never).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'OUT_OF_MEMORY' });
  });
});
