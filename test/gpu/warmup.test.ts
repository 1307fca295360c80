/**
 * GpuFlatIndex.warmUp(k): compiles the pipelines of searches for k at every batch size up front, so
 * the first search compiles nothing (on the H200 a fresh process's first search paid 0.1-0.2 s per
 * kernel); results are unchanged.
 */
import { describe, expect, it } from 'vitest';
import { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import type { FlatShard } from '../../src/gpu/flat-shard.js';
import { randomVectors } from '../helpers/data.js';
import { bruteForce, distanceTolerance, expectMatchesOracle } from '../helpers/oracle.js';
import { gpuForTests } from '../helpers/gpu.js';

const hasGpu = await gpuForTests('GPU pipeline warm-up');
const pipelines = (index: GpuFlatIndex): number => (index as unknown as { shards: FlatShard[] }).shards.reduce((s, x) => s + x.pipelineCount, 0);

describe.skipIf(!hasGpu)('gpu flat warm-up', () => {
  it.each([
    ['f32', false],
    ['f32', true],
    ['f16', false],
    ['int8', false],
  ] as const)('%s (noSubgroups=%s): after warmUp(10) searches of 1 to 100 queries compile no pipeline', async (precision, noSubgroups) => {
    const d = 24;
    const base = randomVectors(1500, d, 77);
    const index = await GpuFlatIndex.create(d, 'ip', { precision, noSubgroups, devicesPerGpu: 2 });
    try {
      index.warmUp(10); // empty: nothing to compile for
      expect(pipelines(index)).toBe(0);
      await index.add(base);
      index.warmUp(10);
      const warmed = pipelines(index);
      expect(warmed).toBeGreaterThan(0);
      for (const nq of [1, 3, 6, 9, 16, 20, 64, 100]) {
        const q = randomVectors(nq, d, 78 + nq);
        const got = await index.search(q, 10);
        if (precision === 'f32') expectMatchesOracle(got, bruteForce(base, q, d, 10, 'ip'), distanceTolerance(d, 4 * d), base, q, d, 'ip');
      }
      expect(pipelines(index)).toBe(warmed);
      await index.search(randomVectors(2, d, 99), 40); // another k: compiled at its first search
      expect(pipelines(index)).toBeGreaterThan(warmed);
    } finally {
      await index.dispose();
    }
  });

  it('int8 with rerankSubBatch 8: warmUp compiles the scorer classes of batches up to 8 queries (what its searches send at once), no larger', async () => {
    const d = 24;
    const index = await GpuFlatIndex.create(d, 'ip', { precision: 'int8', rerankSubBatch: 8 });
    try {
      await index.add(randomVectors(1500, d, 79));
      const shard = (index as unknown as { shards: ({ pipelines: Map<string, unknown>; submitBatch(q: Float32Array, nqb: number, k: number, scorer: { key: string }, ...rest: unknown[]): Promise<unknown> })[] }).shards[0]!;
      const scorers = () => [...shard.pipelines.keys()].filter((key) => /^(fused|gemv|gemvm|i8gemv|ext):/.test(key)).sort();
      index.warmUp(10);
      const warmed = scorers();
      const used = new Set<string>();
      const submit = shard.submitBatch.bind(shard);
      shard.submitBatch = (q, nqb, k, scorer, ...rest) => (used.add(scorer.key), submit(q, nqb, k, scorer, ...rest));
      // Every batch class up to 8 (NQ 1, 2, 4, 8), and 37 queries: sub-batches of 8 and one of 5.
      for (const nq of [1, 2, 3, 5, 8, 37]) await index.search(randomVectors(nq, d, 80 + nq), 10);
      expect(scorers()).toEqual(warmed);
      // Before: the classes of 16, 32, 47, 48 and 128 queries too, which no batch of 8 reaches.
      expect(warmed).toEqual([...used].sort());
    } finally {
      await index.dispose();
    }
  });
});
