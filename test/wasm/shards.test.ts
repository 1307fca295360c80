/** Sharding past one WebAssembly memory: plans, and shard merge equals single-instance results (small shardBytes). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/node.js';
import { indexFactory } from '../../src/core/factory.js';
import type { Index, SearchResult } from '../../src/core/types.js';
import { readIndex, writeIndex } from '../../src/io/read-index.js';
import { concatResults, mergeResults, offsetLabels } from '../../src/core/topk.js';
import { WasmHnswIndex } from '../../src/wasm/hnsw-index.js';
import { formatShardPlan, planShards, ShardedIndex, shardedIndex } from '../../src/wasm/shards.js';
import { dedicatedWorkersAvailable } from '../../src/wasm/worker-pool.js';
import { clusteredVectors, normalizeRows, randomVectors } from '../helpers/data.js';
import { expectSameResult as same } from '../helpers/oracle.js';
import { turnsDuring } from '../helpers/timer-gap.js';

const d = 16;
const n = 3000;
const nq = 25;
const k = 10;
const all = clusteredVectors(n + nq, d, 12, 31);
const noise = randomVectors(n + nq, d, 32);
for (let i = 0; i < all.length; i++) all[i]! += 0.3 * noise[i]!;
normalizeRows(all, d);
const base = all.subarray(0, n * d);
const queries = all.subarray(n * d);
const opts = { backend: 'wasm' as const, threads: 1, seed: 4 };

describe('shard plans', () => {
  it('a 6 GiB SQ8 index takes two 4 GiB instances; info text lists them', () => {
    const plan = planShards({ description: 'SQ8', d: 768, ntotal: 8_000_000 });
    expect(plan.shards.length).toBe(2);
    expect(plan.shards[0]!.firstRow).toBe(0);
    // rows spread evenly (shards searched together finish together), none over the limit
    expect(plan.shards[1]!.firstRow).toBe(plan.shards[0]!.rows);
    expect(plan.shards[0]!.rows).toBe(4_000_000);
    expect(plan.shards[0]!.rows).toBeLessThanOrEqual(plan.rowsPerShard);
    expect(plan.shards.reduce((s, x) => s + x.rows, 0)).toBe(8_000_000);
    for (const s of plan.shards) expect(s.bytes).toBeLessThanOrEqual(2 ** 32);
    const text = formatShardPlan(plan);
    expect(text).toMatch(/shards: 2 module instances/);
    expect(text).toMatch(/shard 1: rows \d+\.\.7999999/);
    expect(formatShardPlan(planShards({ description: 'IVF4096,SQ8', d: 768, ntotal: 1_000_000 }))).toMatch(/shards: 1 /);
    // Search-R1's HNSW64 of wiki-18: independent graphs over row ranges, each under 4 GiB
    const hnsw = planShards({ description: 'HNSW64', d: 768, ntotal: 21_015_324 });
    expect(hnsw.shardable).toBe(true);
    expect(hnsw.shards.length).toBeGreaterThan(15);
    expect(hnsw.shards.reduce((s, x) => s + x.rows, 0)).toBe(21_015_324);
    for (const s of hnsw.shards) expect(s.bytes).toBeLessThanOrEqual(2 ** 32);
    const hnswText = formatShardPlan(hnsw);
    expect(hnswText).toMatch(/own HNSW graph over its rows/);
    expect(hnswText).toMatch(/more alike/);
    expect(hnswText).toMatch(/rows \d+\.\.21015323 /);
    expect(() => planShards({ description: 'IVF4096,Flat', d: 768, ntotal: 10, shardBytes: 1 << 20 })).toThrow(/cannot hold/);
  });
});

describe.each(['ip', 'l2'] as const)('shard merge equals one instance, %s', (metric) => {
  it.each([
    ['SQ8', 1, 16 << 10],
    ['IVF16,Flat', 6, 64 << 10],
    ['IVF16,SQ8', 6, 32 << 10],
    ['Flat', 1, 64 << 10],
  ] as const)('%s', async (factory, nprobe, shardBytes) => {
    const single = await indexFactory(d, factory, metric, opts);
    const sharded = shardedIndex(d, factory, metric, { ...opts, shardBytes });
    for (const x of [single, sharded] as Index[]) {
      await x.train(base);
      await x.add(base.subarray(0, 1234 * d));
      await x.add(base.subarray(1234 * d));
    }
    expect(sharded.shardCount).toBeGreaterThan(2);
    expect(sharded.ntotal).toBe(n);
    same(await sharded.search(queries, k, { nprobe }), await single.search(queries, k, { nprobe }));
    if (factory !== 'Flat') {
      // one FAISS file from the shards; read back whole and re-sharded by the loader
      const tmp = mkdtempSync(join(tmpdir(), 'tessera-shards-'));
      const file = join(tmp, 'x.index');
      await sharded.save(file);
      const whole = await readIndex(file, { backend: 'wasm', threads: 1 });
      expect(whole).not.toBeInstanceOf(ShardedIndex);
      same(await whole.search(queries, k, { nprobe }), await single.search(queries, k, { nprobe }));
      const split = await readIndex(file, { backend: 'wasm', threads: 1, shardBytes } as never);
      expect(split).toBeInstanceOf(ShardedIndex);
      expect((split as ShardedIndex).shardCount).toBeGreaterThan(1);
      same(await split.search(queries, k, { nprobe }), await single.search(queries, k, { nprobe }));
      await whole.dispose();
      await split.dispose();
      rmSync(tmp, { recursive: true, force: true });
    }
    await single.dispose();
    await sharded.dispose();
  });
});

describe.each(['ip', 'l2'] as const)('HNSW shards, %s', (metric) => {
  const M = 8;
  const shardBytes = 96 << 10; // ~1,000 nodes of d=16 per shard
  it('merge equals each shard searched alone then merged, and one instance at exhaustive efSearch', async () => {
    const sharded = shardedIndex(d, `HNSW${M}`, metric, { ...opts, shardBytes, efConstruction: 40 });
    await sharded.add(base.subarray(0, 1234 * d));
    await sharded.add(base.subarray(1234 * d));
    expect(sharded.shardCount).toBeGreaterThan(2);
    expect(sharded.ntotal).toBe(n);
    expect(sharded.shardSizes().reduce((a, b) => a + b, 0)).toBe(n);
    for (const efSearch of [16, 64]) {
      const got = await sharded.search(queries, k, { efSearch });
      // the same graphs built alone (threads 1, same seed: deterministic), searched, merged here
      const parts: SearchResult[] = [];
      for (let i = 0; i < sharded.shardCount; i++) {
        const from = sharded.shardOffset(i);
        const rows = sharded.shardSizes()[i]!;
        const alone = await WasmHnswIndex.create(d, M, metric, { threads: 1, seed: 4, efConstruction: 40 });
        // the same add calls (each add draws its own insertion order): split where the index's adds split
        const cut = Math.min(Math.max(1234, from), from + rows);
        for (const [a, b] of [[from, cut], [cut, from + rows]] as [number, number][]) if (b > a) await alone.add(base.subarray(a * d, b * d));
        parts.push(offsetLabels(await alone.search(queries, k, { efSearch }), from));
        await alone.dispose();
      }
      same(got, mergeResults(parts, k, metric));
    }
    // efSearch >= every shard's size explores each whole graph: exact, as one instance at the same efSearch
    const single = await indexFactory(d, `HNSW${M}`, metric, { ...opts, efConstruction: 40 } as never);
    await single.add(base);
    const flat = await indexFactory(d, 'Flat', metric, opts);
    await flat.add(base);
    const exact = await flat.search(queries, k);
    const all = await sharded.search(queries, k, { efSearch: n });
    const one = await single.search(queries, k, { efSearch: n });
    expect(Array.from(all.labels)).toEqual(Array.from(one.labels));
    expect(Array.from(all.labels)).toEqual(Array.from(exact.labels));
    // an entry point's distance comes from the one-row kernel, the others' from the four-row one: ulps apart
    all.distances.forEach((x, i) => expect(x).toBeCloseTo(one.distances[i]!, 5));
    await expect(sharded.save(join(tmpdir(), 'never.index'))).rejects.toThrow(/separate graphs/);
    await Promise.all([single.dispose(), flat.dispose(), sharded.dispose()]);
  });

  it('a FAISS HNSW file larger than a shard is rebuilt as shard graphs by readIndex', async () => {
    const single = await WasmHnswIndex.create(d, M, metric, { threads: 1, seed: 4, efConstruction: 40 });
    await single.add(base);
    const tmp = mkdtempSync(join(tmpdir(), 'tessera-hnsw-shards-'));
    const file = join(tmp, 'h.index');
    await writeIndex(single, file);
    const split = await readIndex(file, { backend: 'wasm', threads: 1, shardBytes, seed: 4 } as never);
    expect(split).toBeInstanceOf(ShardedIndex);
    expect((split as ShardedIndex).shardCount).toBeGreaterThan(2);
    expect(split.ntotal).toBe(n);
    // the file's size is known: rows spread evenly over the shards
    const sizes = (split as ShardedIndex).shardSizes();
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThan(sizes.length);
    // rebuilt with the file's efConstruction (40): the same graphs as shards built from the vectors
    const built = shardedIndex(d, `HNSW${M}`, metric, { ...opts, shardBytes, efConstruction: 40, expectedVectors: n });
    await built.add(base);
    same(await split.search(queries, k, { efSearch: 32 }), await built.search(queries, k, { efSearch: 32 }));
    const whole = await readIndex(file, { backend: 'wasm', threads: 1 });
    expect(whole).toBeInstanceOf(WasmHnswIndex);
    await Promise.all([single.dispose(), split.dispose(), built.dispose(), whole.dispose()]);
    rmSync(tmp, { recursive: true, force: true });
  });
});

describe('shard workers', () => {
  it('each shard runs on workers of its own; concurrent, sequential and calling-thread searches agree', async () => {
    expect(dedicatedWorkersAvailable()).toBe(true); // Node: worker_threads and SharedArrayBuffer
    const mk = (o: object) => shardedIndex(d, 'SQ8', 'ip', { ...opts, shardBytes: 16 << 10, ...o });
    const together = mk({});
    const oneByOne = mk({ sequentialShards: true });
    const here = mk({ shardWorkers: false });
    expect(together.dedicatedWorkers).toBe(true);
    expect(here.dedicatedWorkers).toBe(false);
    for (const x of [together, oneByOne, here]) {
      await x.train(base);
      await x.add(base);
    }
    const want = await here.search(queries, k);
    same(await together.search(queries, k), want);
    same(await oneByOne.search(queries, k), want);
    // batches of one query and of many
    const rows: SearchResult[] = [];
    for (let i = 0; i < 3; i++) rows.push(await together.search(queries.subarray(i * d, (i + 1) * d), k));
    const first3 = await here.search(queries.subarray(0, 3 * d), k);
    same(concatResults(rows, k), first3);
    await Promise.all([together.dispose(), oneByOne.dispose(), here.dispose()]);
  });
});

describe('search settings of a sharded index', () => {
  it('index.nprobe (IVF) and index.efSearch (HNSW) set every shard\'s default, the shards made later and what save writes, as on one instance (the assignments did nothing)', async () => {
    const opts1 = { ...opts, shardWorkers: false };
    const single = await indexFactory(d, 'IVF16,Flat', 'ip', opts1);
    const sharded = shardedIndex(d, 'IVF16,Flat', 'ip', { ...opts1, shardBytes: 64 << 10 });
    await single.train(base);
    await sharded.train(base);
    await single.add(base.subarray(0, 1000 * d));
    await sharded.add(base.subarray(0, 1000 * d));
    (single as unknown as { nprobe: number }).nprobe = 6;
    sharded.nprobe = 6;
    expect(sharded.nprobe).toBe(6);
    // Shards made after the assignment take it too.
    await single.add(base.subarray(1000 * d));
    await sharded.add(base.subarray(1000 * d));
    expect(sharded.shardCount).toBeGreaterThan(2);
    same(await sharded.search(queries, k), await single.search(queries, k, { nprobe: 6 }));
    const tmp = mkdtempSync(join(tmpdir(), 'tessera-shards-nprobe-'));
    try {
      await sharded.save(join(tmp, 'x.index'));
      const back = (await readIndex(join(tmp, 'x.index'), { backend: 'wasm', threads: 1, shardBytes: 64 << 10 } as never)) as ShardedIndex;
      expect(back.nprobe).toBe(6);
      await back.dispose();
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
    expect(() => {
      sharded.nprobe = 0;
    }).toThrow(/nprobe must be an integer >= 1/);
    expect(() => {
      sharded.efSearch = 32;
    }).toThrow(/efSearch is an HNSW index's setting; this index is "IVF16,Flat"/);
    await Promise.all([single.dispose(), sharded.dispose()]);

    const hnsw = shardedIndex(d, 'HNSW8', 'ip', { ...opts1, shardBytes: 96 << 10, efConstruction: 40 });
    await hnsw.add(base);
    expect(hnsw.efSearch).toBe(16);
    const wide = await hnsw.search(queries, k, { efSearch: 200 });
    hnsw.efSearch = 200;
    same(await hnsw.search(queries, k), wide);
    expect(() => {
      hnsw.nprobe = 4;
    }).toThrow(/nprobe is an IVF index's setting/);
    await hnsw.dispose();
  });
});

describe('a sharded index checks its input in pieces with pauses', () => {
  // train and add checked every value in one pass before any shard's work (which pauses itself):
  // over millions of rows that held the event loop. Every breathe() here pauses (the clock moves 1 s
  // a read); a Flat shard's own train and add do not pause, so the ticks are the sharded checks'.
  it('train and add of "Flat" let macrotasks run, and a bad value is named by its row in the whole input', async () => {
    const d = 32;
    const rows = randomVectors(100_000, d, 41);
    const index = shardedIndex(d, 'Flat', 'l2', { threads: 1, shardBytes: 4 << 20 });
    try {
      expect(await turnsDuring(() => index.train(rows))).toBeGreaterThanOrEqual(3);
      expect(await turnsDuring(() => index.add(rows))).toBeGreaterThanOrEqual(3);
      expect(index.ntotal).toBe(100_000);
      const bad = rows.slice();
      bad[70_000 * d + 5] = Infinity;
      // Checked in paused pieces too, as the adds above.
      await turnsDuring(() => expect(index.add(bad)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/70000/) }));
      expect(index.ntotal).toBe(100_000);
    } finally {
      await index.dispose();
    }
  });
});
