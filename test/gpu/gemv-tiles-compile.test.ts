/**
 * flat_gemv over several tiles a dispatch (kernelTuning.gemvTiles) compiles only the pipelines its
 * batches dispatch: where every tile is in a group, no one-tile flat_gemv (0.1-0.2 s a kernel on the
 * H200, compiled for nothing), at a search and at warmUp, a smaller last tile in the last group
 * too; where a tile goes alone (the last group full), its one-tile pipeline is there before the
 * submit lock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import { kernelTuning } from '../../src/gpu/flat-shard.js';
import { randomVectors } from '../helpers/data.js';
import { gpuForTests } from '../helpers/gpu.js';
import { bruteForce, distanceTolerance, expectMatchesOracle } from '../helpers/oracle.js';

const hasGpu = await gpuForTests('GPU flat_gemv pipelines over several tiles a dispatch');
const defaults = { ...kernelTuning };
const pipelineKeys = (index: GpuFlatIndex): string[] => [...(index as unknown as { shards: { pipelines: Map<string, unknown> }[] }).shards[0]!.pipelines.keys()];
/** flat_gemv's pipelines by tiles a dispatch: 'x1' for the one-tile kernel, 'x2'.. for the groups. */
const gemvTiles = (index: GpuFlatIndex): string[] => [...new Set(pipelineKeys(index).filter((key) => key.startsWith('gemv:')).map((key) => /:x\d$/.test(key) ? key.slice(key.lastIndexOf(':') + 1) : 'x1'))].sort();

describe.skipIf(!hasGpu)('flat_gemv tiles a dispatch: the pipelines compiled', () => {
  afterEach(() => void Object.assign(kernelTuning, defaults));

  const d = 40;
  const tileRows = 240;
  const opts = { precision: 'f32', maxTileBytes: 16 * (d / 4) * tileRows } as const;

  it('6 equal tiles 3 a dispatch: the x3 pipeline alone, at a search (before the submit lock) and at warmUp; the oracle\'s ids', async () => {
    const base = randomVectors(6 * tileRows, d, 94001);
    const q = randomVectors(1, d, 94002);
    Object.assign(kernelTuning, defaults, { gemvTiles: 3 });
    const cold = await GpuFlatIndex.create(d, 'ip', opts);
    const warmed = await GpuFlatIndex.create(d, 'ip', opts);
    try {
      await cold.add(base);
      await warmed.add(base);
      expect(cold.plan!.shards[0]!.tiles).toEqual([240, 240, 240, 240, 240, 240]);
      const shard = (cold as unknown as { shards: { submitBatch: (...a: unknown[]) => Promise<unknown> }[] }).shards[0]!;
      const atSubmit: string[][] = [];
      const submit = shard.submitBatch.bind(shard);
      shard.submitBatch = (...a: unknown[]) => (atSubmit.push(gemvTiles(cold)), submit(...a));
      expectMatchesOracle(await cold.search(q, 10), bruteForce(base, q, d, 10, 'ip'), distanceTolerance(d, 4 * d), base, q, d, 'ip');
      expect(atSubmit).toEqual([['x3']]);
      expect(gemvTiles(cold)).toEqual(['x3']);
      warmed.warmUp(10);
      expect(gemvTiles(warmed)).toEqual(['x3']);
      const before = pipelineKeys(warmed);
      expectMatchesOracle(await warmed.search(q, 10), bruteForce(base, q, d, 10, 'ip'), distanceTolerance(d, 4 * d), base, q, d, 'ip');
      expect(pipelineKeys(warmed)).toEqual(before);
    } finally {
      await cold.dispose();
      await warmed.dispose();
    }
  });

  it('5 tiles and a partial one, 3 a dispatch: the partial tile in the second group, x3 alone compiled (no one-tile kernel)', async () => {
    const base = randomVectors(5 * tileRows + 97, d, 94005);
    const q = randomVectors(1, d, 94006);
    Object.assign(kernelTuning, defaults, { gemvTiles: 3 });
    const index = await GpuFlatIndex.create(d, 'ip', opts);
    try {
      await index.add(base);
      expect(index.plan!.shards[0]!.tiles).toEqual([240, 240, 240, 240, 240, 97]);
      const shard = (index as unknown as { shards: { submitBatch: (...a: unknown[]) => Promise<unknown> }[] }).shards[0]!;
      const atSubmit: string[][] = [];
      const submit = shard.submitBatch.bind(shard);
      shard.submitBatch = (...a: unknown[]) => (atSubmit.push(gemvTiles(index)), submit(...a));
      expectMatchesOracle(await index.search(q, 10), bruteForce(base, q, d, 10, 'ip'), distanceTolerance(d, 4 * d), base, q, d, 'ip');
      expect(atSubmit).toEqual([['x3']]);
    } finally {
      await index.dispose();
    }
  });

  it('a partial last tile goes alone where the last group is full: its one-tile pipeline beside x3, before the submit lock', async () => {
    const base = randomVectors(6 * tileRows + 97, d, 94003);
    const q = randomVectors(1, d, 94004);
    Object.assign(kernelTuning, defaults, { gemvTiles: 3 });
    const index = await GpuFlatIndex.create(d, 'ip', opts);
    try {
      await index.add(base);
      const shard = (index as unknown as { shards: { submitBatch: (...a: unknown[]) => Promise<unknown> }[] }).shards[0]!;
      const atSubmit: string[][] = [];
      const submit = shard.submitBatch.bind(shard);
      shard.submitBatch = (...a: unknown[]) => (atSubmit.push(gemvTiles(index)), submit(...a));
      expectMatchesOracle(await index.search(q, 10), bruteForce(base, q, d, 10, 'ip'), distanceTolerance(d, 4 * d), base, q, d, 'ip');
      expect(atSubmit).toEqual([['x1', 'x3']]);
    } finally {
      await index.dispose();
    }
  });
});
