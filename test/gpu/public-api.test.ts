/**
 * README, section GPU search, as a TypeScript user writes it against the package's entry: the GPU
 * options it documents pass to indexFactory and readIndex as object literals (they were only on the
 * unexported GpuFlatOptions, so `tsc` refused them), and the members it documents (warmUp, plan,
 * loadStats, rerankHostBytes, takeProfile) are reached by narrowing to the exported GpuFlatIndex.
 * `npx tsc --noEmit -p .` type-checks this file; the test runs it on the adapter CI has.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GpuFlatIndex, indexFactory, readIndex, type FlatPlan, type GpuFlatOptions, type Index } from '../../src/node.js';
import { randomVectors } from '../helpers/data.js';
import { gpuForTests } from '../helpers/gpu.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-gpu-api-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const hasGpu = await gpuForTests('GPU public API');
describe.skipIf(!hasGpu)('GPU index through the public entry', () => {
  it('takes the documented options as literals and exposes the documented members through GpuFlatIndex', async () => {
    const d = 8, n = 300;
    const base = randomVectors(n, d, 1);
    const index: Index = await indexFactory(d, 'Flat', 'ip', {
      backend: 'gpu',
      precision: 'int8',
      devicesPerGpu: 2,
      scratchBytes: 1 << 20,
      rerankDepth: 24,
      rerankFactor: 4,
      rerankThreads: 0,
      rerankThreadsMinPairs: 128,
      rerankSubBatch: 512,
      maxBatch: 256,
    });
    try {
      expect(index).toBeInstanceOf(GpuFlatIndex);
      if (!(index instanceof GpuFlatIndex)) return;
      await index.add(base);
      index.warmUp(5);
      const plan: FlatPlan | undefined = index.plan;
      expect(plan?.shards).toHaveLength(2);
      expect(plan?.maxBatch).toBe(256);
      expect(index.rerankHostBytes).toBe(n * d * 4);
      const r = await index.search(base.subarray(0, d), 5);
      expect(r.labels[0]).toBe(0n);
      expect(typeof index.takeProfile()).toBe('object');
      await index.save(join(dir, 'flat.index'));
    } finally {
      await index.dispose();
    }
    const options: GpuFlatOptions = { backend: 'gpu', precision: 'f32' };
    const loaded = await readIndex(join(dir, 'flat.index'), { ...options, rerankFrom: 'file', devicesPerGpu: 1 });
    try {
      expect(loaded).toBeInstanceOf(GpuFlatIndex);
      if (loaded instanceof GpuFlatIndex) expect(loaded.loadStats?.bytes).toBeGreaterThan(0);
    } finally {
      await loaded.dispose();
    }
  });

  it('orders the calls of an index made by GpuFlatIndex.create as the factory orders its own', async () => {
    // The exported class's own constructor returned an index whose calls overlapped: an int8 search
    // issued after an add (not awaited) scored rows still being written, and a dispose issued after
    // a search freed the buffers under it (a TypeError from inside the search).
    const d = 8;
    const first = randomVectors(10, d, 2);
    const more = randomVectors(20_000, d, 3);
    const query = more.subarray(5 * d, 6 * d);
    const index = await GpuFlatIndex.create(d, 'ip', { precision: 'int8', rerankThreads: 0 });
    await index.add(first);
    const added = index.add(more);
    const searched = index.search(query, 3);
    await added;
    const all = new Float32Array([...first, ...more]);
    const scores = Array.from({ length: all.length / d }, (_, i) => {
      let s = 0;
      for (let j = 0; j < d; j++) s += Math.fround(all[i * d + j]! * query[j]!);
      return s;
    });
    const best = scores.map((s, i) => [s, i] as const).sort((a, b) => b[0] - a[0]).slice(0, 3).map(([, i]) => BigInt(i));
    expect([...(await searched).labels]).toEqual(best);
    const last = index.search(query, 3);
    const disposed = index.dispose();
    expect((await last).nq).toBe(1);
    await disposed;
  });

  it('warmUp checks k as search does', async () => {
    // 'x' and NaN were refused as not fitting workgroup memory ("k=NaN does not fit adapter 0's..."), 0 and 2.5 taken.
    const index = await GpuFlatIndex.create(4, 'ip', { precision: 'f32' });
    try {
      await index.add(randomVectors(20, 4, 4));
      for (const k of [0, -1, 2.5, NaN, 'x'] as unknown as number[]) {
        expect(() => index.warmUp(k)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('k must be an integer >= 1') }));
      }
      index.warmUp();
      index.warmUp(50);
      expect((await index.search(randomVectors(1, 4, 5), 50)).k).toBe(50);
    } finally {
      await index.dispose();
    }
  });
});
