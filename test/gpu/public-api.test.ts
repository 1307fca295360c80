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
    });
    try {
      expect(index).toBeInstanceOf(GpuFlatIndex);
      if (!(index instanceof GpuFlatIndex)) return;
      await index.add(base);
      index.warmUp(5);
      const plan: FlatPlan | undefined = index.plan;
      expect(plan?.shards).toHaveLength(2);
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
});
