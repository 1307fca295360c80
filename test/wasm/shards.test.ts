/** Sharding past one WebAssembly memory: plans, and shard merge equals single-instance results (small shardBytes). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/node.js';
import { indexFactory } from '../../src/core/factory.js';
import type { Index, SearchResult } from '../../src/core/types.js';
import { readIndex } from '../../src/io/read-index.js';
import { formatShardPlan, planShards, ShardedIndex, shardedIndex } from '../../src/wasm/shards.js';
import { clusteredVectors, normalizeRows, randomVectors } from '../helpers/data.js';

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

function same(a: SearchResult, b: SearchResult): void {
  expect(Array.from(a.labels)).toEqual(Array.from(b.labels));
  expect(Array.from(a.distances)).toEqual(Array.from(b.distances));
}

describe('shard plans', () => {
  it('a 6 GiB SQ8 index takes two 4 GiB instances; info text lists them', () => {
    const plan = planShards({ description: 'SQ8', d: 768, ntotal: 8_000_000 });
    expect(plan.shards.length).toBe(2);
    expect(plan.shards[0]!.firstRow).toBe(0);
    expect(plan.shards[1]!.firstRow).toBe(plan.rowsPerShard);
    expect(plan.shards.reduce((s, x) => s + x.rows, 0)).toBe(8_000_000);
    for (const s of plan.shards) expect(s.bytes).toBeLessThanOrEqual(2 ** 32);
    const text = formatShardPlan(plan);
    expect(text).toMatch(/shards: 2 module instances/);
    expect(text).toMatch(/shard 1: rows \d+\.\.7999999/);
    expect(formatShardPlan(planShards({ description: 'IVF4096,SQ8', d: 768, ntotal: 1_000_000 }))).toMatch(/shards: 1 /);
    expect(formatShardPlan(planShards({ description: 'HNSW32', d: 768, ntotal: 21_000_000 }))).toMatch(/cannot be sharded/);
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
