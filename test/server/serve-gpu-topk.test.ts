/**
 * serveFiles with --backend auto on a GPU whose merge returns fewer results a query than
 * --max-topk (1024 on lavapipe): served on WASM, saying so, where the start failed after the load.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { indexFactory } from '../../src/core/factory.js';
import { Encoder } from '../../src/encoder/encoder.js';
import { autoTakesSoftwareAdapters } from '../../src/gpu/device.js';
import { gpuResultLimit } from '../../src/gpu/flat-shard.js';
import { serveFiles } from '../../src/server/files.js';
import { topkLimit } from '../../src/server/service.js';
import { randomVectors } from '../helpers/data.js';
import { gpuForTests } from '../helpers/gpu.js';

const MODEL = join(resolve(import.meta.dirname, '../..'), 'assets/demo/model');
const D = 100;
const tmp = mkdtempSync(join(tmpdir(), 'tessera-serve-gpu-topk-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
// What 'auto' does on a GPU: CI's adapter is lavapipe, a software renderer 'auto' otherwise passes over (test/core/auto-software.test.ts).
beforeAll(() => autoTakesSoftwareAdapters(true));
afterAll(() => autoTakesSoftwareAdapters(false));

describe('serveFiles --backend auto, --max-topk above the GPU limit', async () => {
  const hasGpu = await gpuForTests('serve --backend auto over the GPU topk limit');
  const adapterLimit = hasGpu ? await gpuResultLimit() : undefined;
  // Past whatever this adapter's limit is (1024 on lavapipe, more with more workgroup memory).
  const N = (adapterLimit ?? 0) + 76;
  it.skipIf(!hasGpu)('serves on wasm, saying why, instead of failing once the index is loaded; a --max-topk within the limit keeps the GPU', async () => {
    const corpus = join(tmp, 'corpus.jsonl');
    writeFileSync(corpus, Array.from({ length: N }, (_, i) => JSON.stringify({ id: String(i), contents: `row ${i}` })).join('\n') + '\n');
    const x = randomVectors(N, D, 11);
    const flat = await indexFactory(D, 'Flat', 'ip', { backend: 'wasm', threads: 1 });
    await flat.add(x);
    await flat.save(join(tmp, 'flat.index'));
    await flat.dispose();
    const start = async (maxTopk: number) => {
      const lines: string[] = [];
      const phases = new Set<string>();
      const service = await serveFiles({ index: join(tmp, 'flat.index'), corpus, model: MODEL, port: 0, backend: 'auto', threads: 1, maxTopk, say: (l) => lines.push(l), onProgress: (e) => phases.add(e.phase) });
      await service.ready;
      return { service, lines, phases };
    };
    const within = await start(100);
    try {
      const index = within.service.retriever()!.index!;
      expect(index.backend).toBe('gpu');
      expect(within.phases).toContain('loading index to GPU');
      expect(topkLimit(index)).toBeLessThan(N);
    } finally {
      await within.service.close();
    }
    const over = await start(N);
    try {
      expect(over.service.retriever()!.index!.backend).toBe('wasm');
      expect(over.phases).not.toContain('loading index to GPU'); // chosen before loading (was: loaded onto the GPU, then dropped)
      expect(over.lines.join('\n')).toMatch(new RegExp(`backend: wasm \\(.*the GPU returns at most \\d+ results a query, fewer than --max-topk ${N}: serving on wasm instead \\(--max-topk \\d+ keeps the GPU\\)`));
      const res = await over.service.app.inject({ method: 'POST', url: '/retrieve', payload: { queries: ['row 5'], topk: N } });
      expect(res.statusCode).toBe(200);
      expect((res.json() as { result: unknown[][] }).result[0]).toHaveLength(N);
    } finally {
      await over.service.close();
    }
    // --backend gpu is refused before the model and the index load (it loaded the index onto the GPU first).
    const phases = new Set<string>();
    const loads = vi.spyOn(Encoder, 'fromDirectory');
    const refused = serveFiles({ index: join(tmp, 'flat.index'), corpus, model: MODEL, port: 0, backend: 'gpu', threads: 1, maxTopk: N, onProgress: (e) => phases.add(e.phase) });
    await expect(refused).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: `--max-topk ${N} is more than this gpu index returns per query (${adapterLimit}): pass --max-topk ${adapterLimit} or less (and a --topk no larger), or --backend wasm` });
    expect(loads).not.toHaveBeenCalled();
    expect(phases).not.toContain('loading index to GPU');
    loads.mockRestore();
  });
});
