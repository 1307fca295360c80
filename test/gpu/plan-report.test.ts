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
import { gpuForTests } from '../helpers/gpu.js';

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
      expect(unknown.filter((m) => m.startsWith('GPU plan: '))).toEqual([expect.stringMatching(/^GPU plan: int8; adapter 0: 18\.8 KiB of rows in 1 tile \+ .* temporary = [\d.]+ [KM]iB; the float32 rows the re-rank reads: 75\.0 KiB of host memory$/)]);
    } finally {
      await int8.dispose();
    }
  });
});
