/**
 * What a GPU index's plan says about its memory: an L2 index plans no digit planes (the tensor
 * scorer ranks inner products only), and a load says once through onNotice what it holds where
 * (the precision 'auto' picked, rows, planes, temporary bytes, memory planned against).
 */
import { describe, expect, it } from 'vitest';
import '../../src/node.js';
import { readIndex, writeFlatIndex } from '../../src/index.js';
import { memorySource } from '../../src/io/byte-reader.js';
import { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import { randomVectors } from '../helpers/data.js';
import { gpuForTests, wrapGpu } from '../helpers/gpu.js';
import { resolveGpu } from '../../src/gpu/device.js';
import { tensorTuning } from '../../src/gpu/tensor/tuning.js';
import { bruteForce } from '../helpers/oracle.js';

const hasGpu = await gpuForTests('GPU plan report');

async function flatFile(n: number, d: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  await writeFlatIndex({ write: async (b: Uint8Array) => void chunks.push(b.slice()), close: async () => {} }, d, 'ip', n, randomVectors(n, d, 7));
  const bytes = new Uint8Array(chunks.reduce((s, c) => s + c.length, 0));
  let at = 0;
  for (const c of chunks) (bytes.set(c, at), (at += c.length));
  return bytes;
}

describe.skipIf(!hasGpu)('gpu plan report', () => {
  it('digitPlanes on an L2 index: no planes nor tensor-path bytes planned (the tensor scorer never takes L2)', async () => {
    const opts = { precision: 'f32' as const, digitPlanes: true, gpuMemory: 1 << 30 };
    const ip = await GpuFlatIndex.create(96, 'ip', opts, 1000);
    const l2 = await GpuFlatIndex.create(96, 'l2', opts, 1000);
    const plain = await GpuFlatIndex.create(96, 'l2', { ...opts, digitPlanes: false }, 1000);
    try {
      expect(ip.plan!.digits).toBe(true);
      expect(ip.plan!.shards[0]!.digitBytes).toBe(1000 * 96 * 2);
      expect(l2.plan!.digits).toBe(false);
      expect(l2.plan!.shards[0]!.digitBytes).toBe(0);
      expect(l2.plan!.tempBytes).toBe(plain.plan!.tempBytes);
    } finally {
      await Promise.all([ip.dispose(), l2.dispose(), plain.dispose()]);
    }
  });

  it('tensorTuning switches that keep a precision off the planes\' path keep its planes out of the plan (f32, f16Codes, enabled)', async () => {
    const saved = { ...tensorTuning };
    const digitsWith = async (precision: 'f32' | 'f16', tuning: Partial<typeof tensorTuning>) => {
      Object.assign(tensorTuning, tuning);
      const index = await GpuFlatIndex.create(96, 'ip', { precision, digitPlanes: true, gpuMemory: 1 << 30 }, 1000);
      Object.assign(tensorTuning, saved);
      const digits = index.plan!.digits;
      await index.dispose();
      return digits;
    };
    try {
      expect([await digitsWith('f32', {}), await digitsWith('f16', {})]).toEqual([true, true]);
      expect(await digitsWith('f32', { f32: false })).toBe(false);
      expect(await digitsWith('f16', { f16Codes: false })).toBe(false);
      expect(await digitsWith('f16', { f16: false })).toBe(false);
      expect(await digitsWith('f32', { enabled: false })).toBe(false);
    } finally {
      Object.assign(tensorTuning, saved);
    }
  });

  it("a load says its plan once: the precision 'auto' picked and why, rows, temporary bytes, memory", async () => {
    const bytes = await flatFile(300, 64);
    const said: string[] = [];
    const index = await readIndex(memorySource(bytes), { backend: 'gpu', precision: 'auto', gpuMemory: 256 << 20, onNotice: (m: string) => said.push(m) } as never);
    try {
      const plans = said.filter((m) => m.startsWith('GPU plan: '));
      expect(plans).toHaveLength(1);
      expect(plans[0]).toMatch(/^GPU plan: f32 \(precision 'auto': the most exact whose rows and temporary bytes fit gpuMemory; planes only take the room left\); adapter 0: 75\.0 KiB of rows in 1 tile \+ [\d.]+ [KM]iB temporary = [\d.]+ [KM]iB of 256\.0 MiB$/);
    } finally {
      await index.dispose();
    }
    const unknown: string[] = [];
    const int8 = await readIndex(memorySource(bytes), { backend: 'gpu', precision: 'int8', rerankFrom: 'memory', onNotice: (m: string) => unknown.push(m) } as never);
    try {
      expect(unknown.filter((m) => m.startsWith('GPU plan: '))).toEqual([expect.stringMatching(/^GPU plan: int8; adapter 0: 18\.8 KiB of rows in 1 tile \+ .* temporary = [\d.]+ [KM]iB; the float32 rows the re-rank reads: 75\.0 KiB of host memory; temporary bytes for batches of up to 512 queries \(maxBatch, CLI --max-batch; int8: rerankSubBatch; larger searches go in such batches\)$/)]);
    } finally {
      await int8.dispose();
    }
  });

  it.each([1, 2, 3])('a load onto %i device(s) holds the bytes its plan counts: tiles sized for the rows, not doubled past them', async (devicesPerGpu) => {
    const n = 1000;
    const d = 64;
    const bytes = await flatFile(n, d);
    // 600-row tiles, 130-row chunks: the last tile (400 rows, or each device's 500) was allocated
    // 600 rows, as tiles start at 1024 rows (capped at a tile) and double.
    const index = (await readIndex(memorySource(bytes), { backend: 'gpu', precision: 'f32', devicesPerGpu, maxTileBytes: 600 * d * 4, loadChunkBytes: 130 * d * 4 } as never)) as GpuFlatIndex;
    try {
      const shards = (index as unknown as { shards: { baseBytes: number }[] }).shards;
      expect(shards.map((s) => s.baseBytes)).toEqual(index.plan!.shards.map((s) => s.baseBytes));
      expect(index.plan!.shards.reduce((a, s) => a + s.baseBytes, 0)).toBe(n * d * 4);
      const q = randomVectors(3, d, 9);
      const got = await index.search(q, 5);
      const base = randomVectors(n, d, 7);
      expect([...got.labels].map(Number)).toEqual([...bruteForce(base, q, d, 5, 'ip').labels]);
      // Adds after the load double again (amortised growth).
      await index.add(randomVectors(10, d, 11));
      expect(shards.reduce((a, s) => a + s.baseBytes, 0)).toBeGreaterThan((n + 10) * d * 4);
    } finally {
      await index.dispose();
    }
  });

  it('a load whose last chunk is smaller than the devices fills each device to the plan\'s rows (the last took one early, and a whole tile for it)', async () => {
    const n = 901, d = 64;
    const bytes = await flatFile(n, d);
    // 300-row chunks onto 3 devices: after 900 rows each holds 300, but the plan gives 301, 301,
    // 299 (one 299-row tile each); the last row went to device 0, leaving the last one a row over.
    const index = (await readIndex(memorySource(bytes), { backend: 'gpu', precision: 'f32', devicesPerGpu: 3, maxTileBytes: 299 * d * 4, loadChunkBytes: 300 * d * 4 } as never)) as GpuFlatIndex;
    try {
      const shards = (index as unknown as { shards: { ntotal: number; baseBytes: number }[] }).shards;
      expect(shards.map((s) => s.ntotal)).toEqual(index.plan!.shards.map((s) => s.rows));
      expect(shards.map((s) => s.baseBytes)).toEqual(index.plan!.shards.map((s) => s.baseBytes));
      const q = randomVectors(3, d, 9);
      const got = await index.search(q, 5);
      expect([...got.labels].map(Number)).toEqual([...bruteForce(randomVectors(n, d, 7), q, d, 5, 'ip').labels]);
    } finally {
      await index.dispose();
    }
  });

  it('a load allocates each tile once, at its final rows: no 1024-row start regrown (a copy, and old and new buffers at once)', async () => {
    const d = 64;
    const bytes = await flatFile(3000, d);
    const spy = { buffers: [] as number[] };
    const gpu = wrapGpu((await resolveGpu())!, spy);
    const index = await readIndex(memorySource(bytes), { backend: 'gpu', gpu, precision: 'f32', maxTileBytes: 2000 * d * 4, loadChunkBytes: 130 * d * 4 } as never);
    try {
      const rowBytes = d * 4;
      expect(spy.buffers.filter((b) => b === 2000 * rowBytes)).toHaveLength(1);
      expect(spy.buffers.filter((b) => b === 1000 * rowBytes)).toHaveLength(1);
      expect(spy.buffers).not.toContain(1024 * rowBytes);
    } finally {
      await index.dispose();
    }
  });
});
