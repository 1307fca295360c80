/**
 * Device-count and size options of the GPU flat index are checked when it is created, with
 * INVALID_ARGUMENT naming the option: before, devicesPerGpu 0 or -1 silently opened one device, 1.5
 * opened two, NaN none ("no GPU adapter"), 2^31 opened devices without end; NaN or string sizes
 * reached createBuffer as TypeErrors; maxTileBytes below one row blamed the device's binding limit.
 */
import { describe, expect, it } from 'vitest';
import { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import { readIndex, writeIndex } from '../../src/io/read-index.js';
import { indexFactory } from '../../src/core/factory.js';
import { TesseraError } from '../../src/core/errors.js';
import { randomVectors } from '../helpers/data.js';
import { gpuForTests, wrapGpu } from '../helpers/gpu.js';
import { resolveGpu } from '../../src/gpu/device.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';

const hasGpu = await gpuForTests('GPU option checks');

async function refusal(p: Promise<unknown>): Promise<TesseraError> {
  const e = await p.then(
    (index) => {
      void (index as GpuFlatIndex).dispose();
      return undefined;
    },
    (err: unknown) => err,
  );
  expect(e, 'expected a refusal').toBeInstanceOf(TesseraError);
  return e as TesseraError;
}

describe.skipIf(!hasGpu)('gpu option checks', () => {
  it.each([0, -1, 1.5, Number.NaN, '2', 2 ** 31])('devicesPerGpu %s: INVALID_ARGUMENT naming it, before any device is opened', async (v) => {
    const spy = { buffers: [] as number[] };
    const gpu = wrapGpu((await resolveGpu())!, spy);
    let opened = 0;
    const counting = { ...gpu, requestAdapter: async (o?: GPURequestAdapterOptions) => (opened++, gpu.requestAdapter(o)) } as GPU;
    const e = await refusal(GpuFlatIndex.create(8, 'ip', { gpu: counting, devicesPerGpu: v as never }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toMatch(/devicesPerGpu must be an integer in \[1, \d+\]/);
    expect(opened).toBe(0);
  });

  it('gpus holding something that is not a GPU object: INVALID_ARGUMENT', async () => {
    const e = await refusal(GpuFlatIndex.create(8, 'ip', { gpus: [{} as GPU] }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toMatch(/gpus must be an array of WebGPU GPU objects/);
  });

  it.each([{}, 'navigator.gpu', 1])('gpu %s (not a GPU object): INVALID_ARGUMENT naming it, from the class and from the factory (backend \'auto\' ran such an index on WASM as if there were no GPU)', async (bad) => {
    const direct = await refusal(GpuFlatIndex.create(8, 'ip', { gpu: bad as never }));
    expect(direct.code).toBe('INVALID_ARGUMENT');
    expect(direct.message).toMatch(/gpu must be a WebGPU GPU object/);
    const notices: string[] = [];
    const viaFactory = await refusal(indexFactory(8, 'Flat', 'ip', { gpu: bad as never, onNotice: (m) => notices.push(m) }));
    expect(viaFactory.code).toBe('INVALID_ARGUMENT');
    expect(viaFactory.message).toMatch(/gpu must be a WebGPU GPU object/);
    expect(notices).toEqual([]);
    const viaGpus = await refusal(indexFactory(8, 'Flat', 'ip', { gpus: [bad as never] }));
    expect(viaGpus.message).toMatch(/gpus must be an array of WebGPU GPU objects/);
  });

  it.each([
    ['maxTileBytes', Number.NaN],
    ['maxTileBytes', '1MiB'],
    ['maxTileBytes', 0],
    ['scratchBytes', Number.NaN],
    ['scratchBytes', '1MiB'],
    ['scratchBytes', -5],
    ['rerankFactor', Number.NaN],
    ['rerankFactor', 0.5],
    ['rerankDepth', -5],
    ['rerankDepth', 2.5],
    ['rerankSubBatch', -1],
    ['rerankBufferBytes', 0],
    ['loadChunkBytes', Number.NaN],
    ['rerankFrom', 'disk'],
  ])('%s %s: INVALID_ARGUMENT naming the option, not a TypeError at the first add or search', async (name, v) => {
    const e = await refusal(GpuFlatIndex.create(64, 'ip', { precision: 'int8', [name]: v }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toContain(`${name} must be`);
  });

  it('maxTileBytes smaller than one row names maxTileBytes and the row size, not the device limit', async () => {
    for (const [precision, row] of [['f32', 256], ['f16', 128], ['int8', 64]] as const) {
      const e = await refusal(GpuFlatIndex.create(64, 'ip', { precision, maxTileBytes: 10 }));
      expect(e.code).toBe('INVALID_ARGUMENT');
      expect(e.message).toContain(`maxTileBytes 10 is smaller than one row (${row} bytes for d=64 as ${precision})`);
    }
    // Exactly one row a tile still works.
    const index = await GpuFlatIndex.create(64, 'ip', { maxTileBytes: 256 });
    try {
      await index.add(randomVectors(5, 64, 3));
      expect(index.tilesPerShard).toEqual([5]);
      expect((await index.search(randomVectors(1, 64, 4), 2)).labels.length).toBe(2);
    } finally {
      await index.dispose();
    }
  });

  it('readIndex with a NaN loadChunkBytes is refused at once (it never advanced before)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-opt-'));
    try {
      const w = await indexFactory(16, 'Flat', 'ip');
      await w.add(randomVectors(50, 16, 1));
      await writeIndex(w, join(dir, 'a.index'));
      const e = await refusal(readIndex(join(dir, 'a.index'), { backend: 'gpu', loadChunkBytes: Number.NaN } as never));
      expect(e.code).toBe('INVALID_ARGUMENT');
      expect(e.message).toContain('loadChunkBytes must be');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
