/**
 * A FAISS flat file larger than one WebAssembly memory (simulated with a small shardBytes):
 * readIndex loads it as Flat shards (it failed with OUT_OF_MEMORY while `tessera info` printed a
 * shard plan for it), searches equal one instance's with threads 1 and 2, adds continue the file's
 * ids, and save writes back the same bytes one instance writes. Also: HNSW shard plans count the
 * memory of every thread that searches a shard.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/node.js';
import { indexFactory } from '../../src/core/factory.js';
import { readIndex, writeIndex } from '../../src/io/read-index.js';
import { loadFlatAuto, ShardedIndex, shardPlanForFile } from '../../src/wasm/shards.js';
import { memorySink, memorySource } from '../../src/io/byte-reader.js';
import { writeFlatIndex } from '../../src/io/faiss/flat.js';
import type { ByteSource } from '../../src/core/types.js';
import { WasmFlatIndex } from '../../src/wasm/flat-index.js';
import { randomVectors } from '../helpers/data.js';

const d = 16;
const n = 3000;
const shardBytes = 64 << 10;
const dir = mkdtempSync(join(tmpdir(), 'tessera-flat-shards-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each(['ip', 'l2'] as const)('Flat file past one memory, %s', (metric) => {
  it('loads as shards, searches as one instance, saves the same file back', async () => {
    const base = randomVectors(n, d, 91);
    // ties: every row repeated once, so equal scores must come back in id order across shards
    base.set(base.subarray(0, (n / 2) * d), (n / 2) * d);
    const queries = randomVectors(40, d, 92);
    const single = await indexFactory(d, 'Flat', metric, { backend: 'wasm', threads: 1 });
    await single.add(base);
    const file = join(dir, `${metric}.index`);
    await writeIndex(single, file);
    const plan = shardPlanForFile({ description: 'Flat', d, ntotal: n }, { shardBytes });
    expect(plan.shards.length).toBeGreaterThan(2);
    const progress: number[] = [];
    for (const threads of [1, 2]) {
      const split = await readIndex(file, { backend: 'wasm', threads, shardBytes, onProgress: (p) => progress.push(p.done) });
      try {
        expect(split).toBeInstanceOf(ShardedIndex);
        expect((split as ShardedIndex).shardCount).toBe(plan.shards.length);
        expect(split.ntotal).toBe(n);
        const want = await single.search(queries, 10);
        const got = await split.search(queries, 10);
        expect(Array.from(got.labels)).toEqual(Array.from(want.labels));
        expect(Array.from(got.distances)).toEqual(Array.from(want.distances));
        const out = join(dir, `${metric}-${threads}-back.index`);
        await split.save(out);
        expect(Buffer.compare(readFileSync(out), readFileSync(file))).toBe(0);
        // adds number on from the file's rows
        const more = randomVectors(5, d, 93);
        await split.add(more);
        const hit = await split.search(more.subarray(2 * d, 3 * d), 1);
        expect(hit.labels[0]).toBe(BigInt(n + 2));
      } finally {
        await split.dispose();
      }
    }
    expect(progress.at(-1)).toBe(n);
    // a file that fits one memory still loads as one instance
    const whole = await readIndex(file, { backend: 'wasm', threads: 1 });
    expect(whole).toBeInstanceOf(WasmFlatIndex);
    await Promise.all([whole.dispose(), single.dispose()]);
  });
});

describe('loadFlatAuto reads the header once', () => {
  it.each([undefined, shardBytes])('and hands it to the shard loader and each shard (shardBytes %s)', async (bytes) => {
    const base = randomVectors(n, d, 94);
    const sink = memorySink();
    await writeFlatIndex(sink, d, 'l2', n, base);
    const file = memorySource(sink.bytes());
    // every read that starts inside the header (the rows start at byte 45): 1, was 2 (one instance) or 2 + shards
    let headerReads = 0;
    const counting: ByteSource = { ...file, size: file.size, read: (at, len) => ((headerReads += at < 45 ? 1 : 0), file.read(at, len)) };
    const index = await loadFlatAuto(counting, { threads: 1, shardBytes: bytes });
    try {
      expect(index).toBeInstanceOf(bytes ? ShardedIndex : WasmFlatIndex);
      expect(index.ntotal).toBe(n);
      expect(headerReads).toBe(1);
      const hit = await index.search(base.subarray(2999 * d), 1);
      expect(hit.labels[0]).toBe(2999n);
    } finally {
      await index.dispose();
    }
  });
});

describe('loadIvfAuto and loadSqAuto read the header once', () => {
  it.each([
    ['IVF8,Flat', undefined],
    ['IVF8,Flat', 24 << 10],
    ['SQ8', undefined],
    ['SQ8', 8 << 10],
  ] as const)('%s (shardBytes %s): one pass over the header (with an IVF\'s centroids and list sizes), handed to the loaders', async (type, bytes) => {
    const base = randomVectors(1000, d, 95);
    const built = await indexFactory(d, type, 'l2', { backend: 'wasm', threads: 1 });
    await built.train(base);
    await built.add(base);
    const sink = memorySink();
    await built.save(sink);
    await built.dispose();
    const file = memorySource(sink.bytes());
    // each pass over the header starts with a read in its first bytes: 1, was 2 (the auto loader's, then the loader's)
    let passes = 0;
    const counting: ByteSource = { ...file, size: file.size, read: (at, len) => ((passes += at < 16 ? 1 : 0), file.read(at, len)) };
    const { loadIvfAuto, loadSqAuto } = await import('../../src/wasm/shards.js');
    const index = await (type === 'SQ8' ? loadSqAuto : loadIvfAuto)(counting, { threads: 1, shardBytes: bytes, nprobe: 8 });
    try {
      expect(index instanceof ShardedIndex).toBe(bytes !== undefined);
      expect(index.ntotal).toBe(1000);
      expect(passes).toBe(1);
      expect((await index.search(base.subarray(999 * d), 1)).labels[0]).toBe(999n);
    } finally {
      await index.dispose();
    }
  });
});

describe('loadHnswAuto reads the graph\'s levels and offsets once', () => {
  it.each([undefined, 256 << 10])('and hands them to the loader (shardBytes %s)', async (bytes) => {
    const base = randomVectors(1500, d, 96);
    const built = await indexFactory(d, 'HNSW8', 'l2', { backend: 'wasm', threads: 1 });
    await built.add(base);
    const sink = memorySink();
    await built.save(sink);
    await built.dispose();
    const file = memorySource(sink.bytes());
    let passes = 0;
    const counting: ByteSource = { ...file, size: file.size, read: (at, len) => ((passes += at < 16 ? 1 : 0), file.read(at, len)) };
    const { loadHnswAuto } = await import('../../src/wasm/shards.js');
    const index = await loadHnswAuto(counting, { threads: 1, shardBytes: bytes });
    try {
      expect(index instanceof ShardedIndex).toBe(bytes !== undefined);
      expect(index.ntotal).toBe(1500);
      // 1, was 2: the auto loader's pass, then the loader's
      expect(passes).toBe(1);
      expect((await index.search(base.subarray(1499 * d), 1)).labels[0]).toBe(1499n);
    } finally {
      await index.dispose();
    }
  });
});

describe('HNSW shard plans count a visited byte per node for every searching thread', () => {
  it('more threads per shard, fewer nodes per shard; the one-instance check counts them too', async () => {
    const { planShards, needsShards } = await import('../../src/wasm/shards.js');
    const shardBytes = 64 << 20;
    const four = planShards({ description: 'HNSW32', d: 128, ntotal: 1_000_000, shardBytes, threads: 4 });
    const sixteen = planShards({ description: 'HNSW32', d: 128, ntotal: 1_000_000, shardBytes, threads: 16 });
    expect(sixteen.bytesPerVector - four.bytesPerVector).toBe(12);
    expect(sixteen.rowsPerShard).toBeLessThan(four.rowsPerShard);
    // 16 threads x a byte per node did not fit the 4 counted: a shard this full ran out of memory at its first search
    const usable = shardBytes - Math.min(64 << 20, shardBytes / 4);
    expect(sixteen.rowsPerShard * (four.bytesPerVector + 12)).toBeLessThanOrEqual(usable);
    const n = Math.floor(usable / four.bytesPerVector);
    expect(needsShards('HNSW32', 128, n, { shardBytes, threads: 4 })).toBe(false);
    expect(needsShards('HNSW32', 128, n, { shardBytes, threads: 16 })).toBe(true);
    // a sharded index that gives each shard 16 threads sizes its shards for them (no workers start before an add)
    const idx = (await import('../../src/wasm/shards.js')).shardedIndex(128, 'HNSW32', 'l2', { threads: 16, shardBytes, shardWorkers: false });
    expect((idx as unknown as { rowsPerShard: number }).rowsPerShard).toBe(sixteen.rowsPerShard);
    await idx.dispose();
  });
});

describe('Flat and HNSW shards built by add', () => {
  it('a Flat shard filled by add is planned as full as a loaded one (rows grow in place), and every shard counts in wasmMemoryBytes', async () => {
    const { planShards, shardedIndex } = await import('../../src/wasm/shards.js');
    // Planned for a copy on growth (2.5x) Flat shards held 1.6 GiB: 4 instances for 6 GiB of rows
    const built = planShards({ description: 'Flat', d: 768, ntotal: 2_000_000, building: true });
    expect(built.shards.length).toBe(2);
    expect(built.rowsPerShard).toBe(planShards({ description: 'Flat', d: 768, ntotal: 2_000_000 }).rowsPerShard);
    // HNSW and Flat shards had no wasmMemoryBytes: a sharded index of them reported 0 bytes
    for (const type of ['Flat', 'HNSW8']) {
      const x = randomVectors(600, 8, 93);
      const idx = shardedIndex(8, type, 'l2', { threads: 1, shardWorkers: false, shardBytes: 16 << 10, expectedVectors: 600 });
      await idx.add(x);
      expect(idx.shardCount).toBeGreaterThan(1);
      let sum = 0;
      for (let i = 0; i < idx.shardCount; i++) sum += (idx.shard(i) as unknown as { wasmMemoryBytes: number }).wasmMemoryBytes;
      expect(sum).toBeGreaterThan(0);
      expect(idx.wasmMemoryBytes).toBe(sum);
      await idx.dispose();
    }
  });
});
