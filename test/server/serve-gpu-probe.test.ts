/**
 * `tessera serve --backend gpu` (and `demo --backend gpu`, which serves through the same serveFiles)
 * checks for an adapter before loading, then opens it in-process. That check started the child probe
 * of Dawn's adapter (gpu/dawn.ts probeDawnAdapter, ~0.35-0.6 s) only to discover the same adapter
 * again here: it now asks in-process. The platform's probe is wrapped to count its calls.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import '../../src/node.js';
import { indexFactory } from '../../src/core/factory.js';
import { writeIndex } from '../../src/io/read-index.js';
import { installPlatform, platform } from '../../src/platform.js';
import { serveFiles } from '../../src/server/files.js';

const D = 8;
const tmp = mkdtempSync(join(tmpdir(), 'tessera-serve-gpu-probe-'));
const own = { ...platform() };
const child = vi.fn(async () => own.probeAdapter?.());

beforeAll(async () => {
  const index = await indexFactory(D, 'Flat', 'ip', { backend: 'wasm' });
  await index.add(Float32Array.from({ length: 4 * D }, (_, i) => Math.sin(i)));
  await writeIndex(index, join(tmp, 'flat.index'));
  await index.dispose();
  installPlatform({ loadGpu: own.loadGpu, probeAdapter: child });
});
afterAll(() => {
  installPlatform(own);
  rmSync(tmp, { recursive: true, force: true });
});

it('--backend gpu starts no child probe: the adapter it opens next is asked in-process (and answers a later auto too)', async () => {
  // No model folder: the start fails after the backend checks (GPU_UNAVAILABLE first where there is no adapter).
  const start = (backend: 'gpu' | 'auto') =>
    serveFiles({ index: join(tmp, 'flat.index'), corpus: join(tmp, 'none.jsonl'), model: join(tmp, 'no-model'), port: 0, backend, threads: 1 });
  await expect(start('gpu')).rejects.toThrow(/no-model|WebGPU offers no adapter here/);
  expect(child).not.toHaveBeenCalled();
  await expect(start('auto')).rejects.toThrow(/no-model/);
  expect(child).not.toHaveBeenCalled();
});
