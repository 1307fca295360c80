/**
 * Multi-adapter sharding, exercised in CI with several devices on the one software adapter and with
 * several GPU objects: rows split across devices, searched concurrently, merged on the host.
 */
import { describe, expect, it } from 'vitest';
import { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import { resolveGpu } from '../../src/gpu/device.js';
import { clusteredVectors, randomVectors } from '../helpers/data.js';
import { bruteForce, distanceTolerance, expectMatchesOracle, expectSameResult, recallAtK } from '../helpers/oracle.js';
import { gpuForTests } from '../helpers/gpu.js';

const hasGpu = await gpuForTests('GPU sharding');

describe.skipIf(!hasGpu)('gpu shards', () => {
  it.each(['ip', 'l2'] as const)('%s: 3 devices on one adapter, 3 adds, small tiles: equals the oracle', async (metric) => {
    const d = 33;
    const n = 2500;
    const base = clusteredVectors(n, d, 6, 71);
    const q = clusteredVectors(7, d, 6, 72);
    const index = await GpuFlatIndex.create(d, metric, { devicesPerGpu: 3, maxTileBytes: 144 * 200, debugPoison: true });
    try {
      expect(index.deviceCount).toBe(3);
      await index.add(base.subarray(0, 1000 * d));
      await index.add(base.subarray(1000 * d, 1001 * d));
      await index.add(base.subarray(1001 * d));
      expect(index.tilesPerShard.every((t) => t >= 2), `tiles ${index.tilesPerShard}`).toBe(true);
      for (const k of [1, 10, 100]) {
        const got = await index.search(q, k);
        expectMatchesOracle(got, bruteForce(base, q, d, k, metric), distanceTolerance(d, metric === 'l2' ? 8 * d : 2 * d), base, q, d, metric);
      }
    } finally {
      await index.dispose();
    }
  });

  it('int8: 3 devices merge their candidates (number ids) into the same re-ranked result as one device', async () => {
    const d = 40;
    const n = 3000;
    const base = clusteredVectors(n, d, 8, 73);
    const q = clusteredVectors(9, d, 8, 74);
    const opts = { precision: 'int8' as const, rerankDepth: 32, maxTileBytes: 48 * 300, debugPoison: true };
    const sharded = await GpuFlatIndex.create(d, 'ip', { ...opts, devicesPerGpu: 3 });
    const single = await GpuFlatIndex.create(d, 'ip', opts);
    try {
      await sharded.add(base);
      await single.add(base);
      expect(sharded.deviceCount).toBe(3);
      for (const k of [1, 10]) {
        const got = await sharded.search(q, k);
        expectSameResult(got, await single.search(q, k), `k=${k}`);
        expect(recallAtK(got, bruteForce(base, q, d, k, 'ip'))).toBeGreaterThanOrEqual(0.99);
        // Ids past the first shard's rows come back from the merge as global ids.
        expect(Array.from(got.labels).some((l) => l >= BigInt(n / 3))).toBe(true);
      }
    } finally {
      await sharded.dispose();
      await single.dispose();
    }
  });

  it('several GPU objects (gpus option), ties across shards go to the lower id', async () => {
    const gpu = (await resolveGpu())!;
    const d = 4;
    const v = [1, 0, 0, 0];
    // The same vector at ids 0, 5 and 9: each shard holds one; the merge must order them 0, 5, 9.
    const base = randomVectors(10, d, 81).map((x) => x * 0.1);
    for (const id of [0, 5, 9]) base.set(v, id * d);
    const index = await GpuFlatIndex.create(d, 'ip', { gpus: [gpu, gpu], devicesPerGpu: 2 });
    try {
      expect(index.deviceCount).toBe(4);
      await index.add(base);
      const r = await index.search(new Float32Array(v), 3);
      expect(Array.from(r.labels)).toEqual([0n, 5n, 9n]);
    } finally {
      await index.dispose();
    }
  });

  it('saves what it holds across shards in add order (FAISS bytes round trip)', async () => {
    const d = 6;
    const base = randomVectors(77, d, 91);
    const index = await GpuFlatIndex.create(d, 'l2', { devicesPerGpu: 2, maxTileBytes: 32 * 10 });
    const chunks: Uint8Array[] = [];
    try {
      await index.add(base.subarray(0, 30 * d));
      await index.add(base.subarray(30 * d));
      await index.save({ write: async (c) => void chunks.push(c.slice()), close: async () => {} });
    } finally {
      await index.dispose();
    }
    const bytes = Buffer.concat(chunks);
    const floats = new Float32Array(bytes.buffer.slice(bytes.byteOffset + bytes.length - base.byteLength, bytes.byteOffset + bytes.length));
    expect(Array.from(floats)).toEqual(Array.from(base));
  });
});
