/**
 * `tessera serve --backend gpu` (Search-R1's --faiss_gpu) where WebGPU offers no adapter: the Vulkan
 * loader is pointed at no driver before Dawn loads (this file's worker only), as on a CPU-only machine.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import '../../src/node.js';
import { indexFactory } from '../../src/core/factory.js';
import { Encoder } from '../../src/encoder/encoder.js';
import { writeIndex } from '../../src/io/read-index.js';
import { serveFiles } from '../../src/server/files.js';

process.env.VK_ICD_FILENAMES = '/nonexistent/none.json';
process.env.VK_DRIVER_FILES = '/nonexistent/none.json';

const MODEL = join(resolve(import.meta.dirname, '../..'), 'assets/demo/model');
const D = 100;
const tmp = mkdtempSync(join(tmpdir(), 'tessera-serve-no-gpu-'));

beforeAll(async () => {
  writeFileSync(join(tmp, 'corpus.jsonl'), Array.from({ length: 4 }, (_, i) => JSON.stringify({ id: String(i), contents: `row ${i}` })).join('\n') + '\n');
  const index = await indexFactory(D, 'Flat', 'ip', { backend: 'wasm' });
  await index.add(Float32Array.from({ length: 4 * D }, (_, i) => Math.sin(i)));
  await writeIndex(index, join(tmp, 'flat.index'));
  await index.dispose();
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

it("--backend gpu with no WebGPU adapter fails at start naming --faiss_gpu, before the model loads and the corpus is scanned (it failed after both, saying 'use backend \"wasm\"')", async () => {
  const offsets = join(tmp, 'never.offsets');
  const loads = vi.spyOn(Encoder, 'fromDirectory');
  const start = serveFiles({ index: join(tmp, 'flat.index'), corpus: join(tmp, 'corpus.jsonl'), model: MODEL, offsets, port: 0, backend: 'gpu', threads: 1 });
  await expect(start).rejects.toMatchObject({ code: 'GPU_UNAVAILABLE', message: expect.stringMatching(/^--backend gpu \(Search-R1's --faiss_gpu\) asks for the GPU, but WebGPU offers no adapter here .*: leave it out to serve on the CPU \(WASM\)/) });
  expect(loads).not.toHaveBeenCalled();
  expect(existsSync(offsets)).toBe(false);
});
