/**
 * Searches in flight together on one index: each shard's readback ring (searchTuning.readbackSlots)
 * lets a second search or int8 sub-batch be queued while the one before is read back, and the
 * submit path caches bind groups (searchTuning.cacheBinds). Overlapping searches must answer as
 * sequential ones do, each against its own queries (a readback buffer reused too early, or scratch
 * written between another search's writes and its submit, would hand one search another's lists).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import '../../src/node.js';
import type { Metric, SearchResult } from '../../src/core/types.js';
import { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import { searchTuning } from '../../src/gpu/flat-shard.js';
import { rerankTuning } from '../../src/gpu/rerank-workers.js';
import { clusteredVectors, normalizeRows } from '../helpers/data.js';
import { gpuForTests } from '../helpers/gpu.js';
import { bruteForce, distanceTolerance, expectMatchesOracle, expectSameResult as same } from '../helpers/oracle.js';

const hasGpu = await gpuForTests('concurrent searches');

interface ShardView {
  slots: { buffer?: GPUBuffer }[];
  ctx: { device: GPUDevice };
}
const shardsOf = (index: GpuFlatIndex) => (index as unknown as { shards: ShardView[] }).shards;

describe.runIf(hasGpu)('concurrent searches on one index', () => {
  const defaults = { ...searchTuning };
  afterEach(() => void Object.assign(searchTuning, defaults));

  const d = 36;
  const n = 1500;
  const base = normalizeRows(clusteredVectors(n, d, 8, 301), d);
  // Query sets of different sizes (one query, a few, several int8 sub-batches of 8), all different.
  const sets = [1, 5, 3, 29, 2, 17].map((nq, i) => normalizeRows(clusteredVectors(nq, d, 8, 400 + i), d));
  const cases: [string, 'f32' | 'int8', Metric][] = [
    ['f32 l2', 'f32', 'l2'],
    ['f32 ip', 'f32', 'ip'],
    ['int8 ip', 'int8', 'ip'],
    ['int8 l2', 'int8', 'l2'],
  ];

  for (const slots of [2, 1]) {
    for (const cacheBinds of slots === 2 ? [1, 0] : [1]) {
      it.each(cases)(`%s, 2 shards, several tiles, sub-batches of 8, readbackSlots ${slots}, cacheBinds ${cacheBinds}: overlapping searches equal sequential ones and the oracle`, async (_, precision, metric) => {
        Object.assign(searchTuning, { readbackSlots: slots, cacheBinds });
        const index = await GpuFlatIndex.create(d, metric, { precision, devicesPerGpu: 2, maxTileBytes: (precision === 'int8' ? 48 : 144) * 200, rerankSubBatch: 8, rerankDepth: 64, debugPoison: true });
        try {
          await index.add(base);
          expect(index.tilesPerShard.every((t) => t >= 2), `tiles ${index.tilesPerShard}`).toBe(true);
          const k = 10;
          const sequential: SearchResult[] = [];
          for (const q of sets) sequential.push(await index.search(q, k));
          // All at once, twice over (the second round finds the bind groups cached), in reverse too.
          const order = [...sets.keys(), ...[...sets.keys()].reverse()];
          const together = await Promise.all(order.map((i) => index.search(sets[i]!, k)));
          together.forEach((got, j) => same(got, sequential[order[j]!]!, `search ${j} (set ${order[j]})`));
          const tol = distanceTolerance(d, metric === 'l2' ? 8 : 2);
          sets.forEach((q, i) => expectMatchesOracle(sequential[i]!, bruteForce(base, q, d, k, metric), tol, base, q, d, metric));
          for (const shard of shardsOf(index)) expect(shard.slots.filter((s) => s.buffer).length, 'readback buffers').toBe(slots);
        } finally {
          await index.dispose();
        }
      });
    }
  }

  it('int8 with 3 re-rank workers: searches in flight re-ranked through shared jobs equal sequential ones, one message a worker, and the oracle', async () => {
    const rerankDefaults = { ...rerankTuning };
    const index = await GpuFlatIndex.create(d, 'ip', { precision: 'int8', maxTileBytes: 48 * 300, rerankSubBatch: 8, rerankDepth: 64, rerankThreads: 3, rerankThreadsMinPairs: 0, debugPoison: true });
    try {
      await index.add(base);
      const k = 10;
      const results: Record<string, SearchResult[]> = {};
      for (const dispatch of ['messages', 'shared'] as const) {
        rerankTuning.dispatch = dispatch;
        const sequential: SearchResult[] = [];
        for (const q of sets) sequential.push(await index.search(q, k));
        const together = await Promise.all([...sets, ...sets].map((q) => index.search(q, k)));
        together.forEach((got, j) => same(got, sequential[j % sets.length]!, `${dispatch}: search ${j} in flight`));
        results[dispatch] = sequential;
      }
      const host = await (index as unknown as { heap: Promise<{ workers?: { shared: boolean; size: number } }> }).heap;
      if (host.workers) expect(host.workers.shared && host.workers.size === 3, 'shared jobs on 3 workers').toBe(true);
      sets.forEach((q, i) => {
        same(results.shared![i]!, results.messages![i]!, `set ${i}: shared vs messages`);
        expectMatchesOracle(results.shared![i]!, bruteForce(base, q, d, k, 'ip'), distanceTolerance(d, 2), base, q, d, 'ip');
      });
    } finally {
      Object.assign(rerankTuning, rerankDefaults);
      await index.dispose();
    }
  });

  it('int8: a search whose sub-batches overlap their readbacks answers each query as that query alone (float64 oracle)', async () => {
    const index = await GpuFlatIndex.create(d, 'ip', { precision: 'int8', maxTileBytes: 48 * 300, rerankSubBatch: 4, rerankDepth: 64, debugPoison: true });
    try {
      await index.add(base);
      const q = normalizeRows(clusteredVectors(37, d, 8, 501), d);
      const [all, again] = await Promise.all([index.search(q, 7), index.search(q.subarray(4 * d), 7)]);
      const tol = distanceTolerance(d, 2);
      expectMatchesOracle(all, bruteForce(base, q, d, 7, 'ip'), tol, base, q, d, 'ip');
      expectMatchesOracle(again, bruteForce(base, q.subarray(4 * d), d, 7, 'ip'), tol, base, q.subarray(4 * d), d, 'ip');
    } finally {
      await index.dispose();
    }
  });

  it('a repeated search shape makes no bind groups (cacheBinds) and the same answer; growing a buffer rebuilds them', async () => {
    const index = await GpuFlatIndex.create(d, 'l2', { maxTileBytes: 144 * 400 });
    try {
      await index.add(base);
      const device = shardsOf(index)[0]!.ctx.device;
      const spy = vi.spyOn(device, 'createBindGroup');
      const want = await index.search(sets[1]!, 10);
      const made = spy.mock.calls.length;
      expect(made).toBeGreaterThan(0);
      same(await index.search(sets[1]!, 10), want, 'cached');
      expect(spy.mock.calls.length, 'bind groups made by the repeat').toBe(made);
      // More queries: larger query / candidate buffers, so new bind groups, and still exact.
      const big = sets[3]!;
      expectMatchesOracle(await index.search(big, 10), bruteForce(base, big, d, 10, 'l2'), distanceTolerance(d, 8), base, big, d, 'l2');
      expect(spy.mock.calls.length).toBeGreaterThan(made);
      same(await index.search(sets[1]!, 10), want, 'after growth');
      searchTuning.cacheBinds = 0;
      const before = spy.mock.calls.length;
      same(await index.search(sets[1]!, 10), want, 'uncached');
      expect(spy.mock.calls.length).toBeGreaterThan(before);
      spy.mockRestore();
    } finally {
      await index.dispose();
    }
  });

  it('device loss with searches in flight: every one rejects with DEVICE_LOST (none hangs), and so does the next', async () => {
    const index = await GpuFlatIndex.create(d, 'ip', { precision: 'int8', rerankSubBatch: 4 });
    await index.add(base);
    const flying = sets.map((q) => index.search(q, 5).then(() => 'ok', (e: unknown) => e));
    (index as unknown as { contexts: { device: GPUDevice }[] }).contexts[0]!.device.destroy();
    const outcomes = await Promise.all(flying);
    // Searches already read back before the loss may have finished; the rest fail with DEVICE_LOST.
    for (const o of outcomes) if (o !== 'ok') expect(o).toMatchObject({ code: 'DEVICE_LOST' });
    await new Promise((r) => setTimeout(r, 50));
    await expect(index.search(sets[0]!, 5)).rejects.toMatchObject({ code: 'DEVICE_LOST' });
    await index.dispose();
  });

  it('the host profile splits a search batch into shard phases that lie within the index phases around them', async () => {
    for (const precision of ['int8', 'f32'] as const) {
      const index = await GpuFlatIndex.create(d, 'ip', { precision });
      try {
        await index.add(base);
        await index.search(sets[1]!, 5);
        index.takeProfile();
        const got = await index.search(sets[1]!, 5);
        expectMatchesOracle(got, bruteForce(base, sets[1]!, d, 5, 'ip'), distanceTolerance(d, 2), base, sets[1]!, d, 'ip');
        const p = index.takeProfile();
        for (const key of ['shard_prep', 'shard_encode', 'shard_submit', 'shard_map', 'shard_unpack', 'submit', 'gpu_wait']) {
          expect(p[key], `${precision} ${key}`).toBeGreaterThanOrEqual(0);
        }
        // One shard, one batch: prep .. submit happen inside the index's submit span, the map inside gpu_wait.
        expect(p.shard_prep! + p.shard_encode! + p.shard_submit!, precision).toBeLessThanOrEqual(p.submit! + 1e-9);
        expect(p.shard_map!, precision).toBeLessThanOrEqual(p.gpu_wait! + 1e-9);
      } finally {
        await index.dispose();
      }
    }
  });

  it('dispose frees both readback slots', async () => {
    const index = await GpuFlatIndex.create(d, 'l2', {});
    await index.add(base);
    await Promise.all([index.search(sets[0]!, 3), index.search(sets[1]!, 3)]);
    const shard = shardsOf(index)[0]!;
    const buffers = shard.slots.map((s) => s.buffer!);
    expect(buffers.length).toBe(2);
    await index.dispose();
    expect(shard.slots.length).toBe(0);
    // A destroyed buffer can no longer be mapped.
    for (const b of buffers) await expect(b.mapAsync(1)).rejects.toThrow();
  });
});
