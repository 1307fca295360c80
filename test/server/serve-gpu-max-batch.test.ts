/**
 * serveFiles passes --max-batch to the GPU index (GpuFlatOptions.maxBatch): no search of the
 * server's holds more queries than a micro-batch, so the plan's temporary bytes are counted for
 * that many, not 4096 (the demo's 8000 x 100 f32: 16.1 MiB at the default 512, not 27.4).
 * A --max-batch above the GPU's 4096 plans 4096 (the index splits larger batches itself).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/node.js';
import { indexFactory } from '../../src/core/factory.js';
import type { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import { serveFiles } from '../../src/server/files.js';
import { randomVectors } from '../helpers/data.js';
import { gpuForTests } from '../helpers/gpu.js';

const MODEL = join(resolve(import.meta.dirname, '../..'), 'assets/demo/model');
const D = 100;
const N = 50;
const tmp = mkdtempSync(join(tmpdir(), 'tessera-serve-gpu-max-batch-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('serveFiles --max-batch on the GPU', async () => {
  const hasGpu = await gpuForTests('serve --max-batch on the GPU');
  it.skipIf(!hasGpu)('the GPU index plans for --max-batch queries (at most 4096) and says so in its plan line', async () => {
    const corpus = join(tmp, 'corpus.jsonl');
    writeFileSync(corpus, Array.from({ length: N }, (_, i) => JSON.stringify({ id: String(i), contents: `row ${i}` })).join('\n') + '\n');
    const flat = await indexFactory(D, 'Flat', 'ip', { backend: 'wasm', threads: 1 });
    await flat.add(randomVectors(N, D, 3));
    await flat.save(join(tmp, 'flat.index'));
    await flat.dispose();
    for (const [maxBatch, planned] of [[8, 8], [10_000, 4096]] as const) {
      const lines: string[] = [];
      const service = await serveFiles({ index: join(tmp, 'flat.index'), corpus, model: MODEL, port: 0, backend: 'gpu', threads: 1, maxBatch, say: (l) => lines.push(l) });
      try {
        await service.ready;
        const index = service.retriever()!.index as GpuFlatIndex;
        expect(index.backend).toBe('gpu');
        expect(index.plan!.maxBatch).toBe(planned);
        if (planned < 4096) expect(lines.join('\n')).toMatch(/GPU plan: .*temporary bytes for batches of up to 8 queries \(serve's --max-batch;/);
        // A request of more queries than a micro-batch still answers each of them.
        const res = await service.app.inject({ method: 'POST', url: '/retrieve', payload: { queries: Array.from({ length: 20 }, (_, i) => `row ${i}`), topk: 3 } });
        expect(res.statusCode).toBe(200);
        expect((res.json() as { result: unknown[][] }).result).toHaveLength(20);
      } finally {
        await service.close();
      }
    }
  }, 120_000);
});
