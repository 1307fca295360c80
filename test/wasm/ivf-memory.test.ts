// IVF inverted lists grow in place (InvertedLists: one block, lists moved up within it), so one
// instance holds what a shard plan counts; an add that does not fit changes nothing.
import { describe, expect, it } from 'vitest';
import { WasmIvfIndex } from '../../src/wasm/ivf-index.js';
import { planShards } from '../../src/wasm/shards.js';
import { randomVectors } from '../helpers/data.js';

const d = 64;
const limit = 6 << 20;

describe.each(['flat', 'sq8'] as const)('IVF32,%s in a memory of 6 MiB', (storage) => {
  const description = `IVF32,${storage === 'flat' ? 'Flat' : 'SQ8'}`;

  it('adds of 300 vectors fill it to the shard plan\'s count, and searches still run there', async () => {
    const plan = planShards({ description, d, ntotal: 1, shardBytes: limit, building: true, threads: 1 });
    expect(plan.growth).toBe(1);
    const index = await WasmIvfIndex.create(d, 32, storage, 'ip', { threads: 1, memoryLimit: limit });
    await index.train(randomVectors(32 * 40, d, 1));
    const batch = randomVectors(300, d, 2);
    let error: unknown;
    for (let i = 0; i < 1000 && !error; i++) await index.add(batch).catch((e: unknown) => (error = e));
    expect(error).toMatchObject({ code: 'OUT_OF_MEMORY', message: expect.stringMatching(/about \d+ vectors fit.*shardedIndex/) });
    // lists that copied on growth stopped at about half of this
    expect(index.ntotal).toBeGreaterThanOrEqual(plan.rowsPerShard - 300);
    const res = await index.search(randomVectors(100, d, 3), 50, { nprobe: 32 });
    expect(res.labels.every((l) => l >= 0n && l < BigInt(index.ntotal))).toBe(true);
    // 4096 queries at k = 200 take 8.6 MiB of buffers in one batch, more than the 1.5 MiB kept free
    const many = await index.search(randomVectors(4096, d, 4), 200, { nprobe: 2 });
    expect(many.labels[4095 * 200]! >= 0n).toBe(true);
    await index.dispose();
  });

  it('an add that does not fit leaves the index as it was (ntotal, lists, results), and a later add fits', async () => {
    const index = await WasmIvfIndex.create(d, 32, storage, 'l2', { threads: 1, memoryLimit: limit });
    await index.train(randomVectors(32 * 40, d, 4));
    await index.add(randomVectors(2000, d, 5));
    const q = randomVectors(20, d, 6);
    const before = await index.search(q, 10, { nprobe: 8 });
    const sizes = index.listSizes();
    await expect(index.add(randomVectors(200_000, d, 7))).rejects.toMatchObject({ code: 'OUT_OF_MEMORY' });
    expect(index.ntotal).toBe(2000);
    expect(index.listSizes()).toEqual(sizes);
    expect(await index.search(q, 10, { nprobe: 8 })).toEqual(before);
    await index.add(randomVectors(100, d, 8));
    expect(index.ntotal).toBe(2100);
    const all = await index.search(q, 2100, { nprobe: 32 });
    // every id once per query: no list kept codes of the failed add
    for (let i = 0; i < 20; i++) expect(new Set(all.labels.subarray(i * 2100, (i + 1) * 2100)).size).toBe(2100);
    await index.dispose();
  });
});

describe('IVF lists growing in place', () => {
  it('many small adds into many lists keep every vector where a flat scan finds it', async () => {
    const index = await WasmIvfIndex.create(8, 64, 'flat', 'l2', { threads: 1 });
    const x = randomVectors(3000, 8, 9);
    await index.train(x.subarray(0, 64 * 8 * 8));
    for (let i = 0; i < 3000; i += 37) await index.add(x.subarray(i * 8, Math.min(3000, i + 37) * 8));
    // each vector is its own nearest neighbour at distance 0 when all lists are probed
    const res = await index.search(x, 1, { nprobe: 64 });
    for (let i = 0; i < 3000; i++) {
      expect(res.distances[i]).toBe(0);
    }
    expect(index.memoryBytes).toBeLessThan(3000 * (8 * 4 + 4) * 1.6 + 64 * 8 * 4);
    await index.dispose();
  });
});

describe('an IVF file with a list larger than one instance', () => {
  it('is OUT_OF_MEMORY naming the list and a larger nlist, not sharding (a list cannot be split)', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { readIndex } = await import('../../src/io/read-index.js');
    await import('../../src/node.js');
    const dir = mkdtempSync(join(tmpdir(), 'tessera-ivf-list-'));
    try {
      const index = await WasmIvfIndex.create(d, 1, 'flat', 'l2', { threads: 1 });
      const x = randomVectors(3000, d, 10);
      await index.train(x);
      await index.add(x);
      const path = join(dir, 'ivf1.index');
      await index.save(path);
      await index.dispose();
      // 3000 x 260 bytes in one list; one instance of 512 KiB holds about 1300
      await expect(readIndex(path, { backend: 'wasm', threads: 1, shardBytes: 512 << 10, memoryLimit: 512 << 10 } as object)).rejects.toMatchObject({
        code: 'OUT_OF_MEMORY',
        message: expect.stringMatching(/inverted list 0 holds 3000 vectors .*more than one WebAssembly memory of 512.0 KiB holds \(about \d+.*rebuild with a larger nlist/),
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
