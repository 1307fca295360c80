/**
 * executionProvider 'webgpu' where WebGPU has no adapter: GPU_UNAVAILABLE saying to use wasm. It was
 * FORMAT 'model ... could not be loaded by ONNX Runtime', blaming a model that is fine. Its own file:
 * it replaces navigator.gpu for the process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import '../../src/node.js';
import { Encoder } from '../../src/encoder/index.js';
import { writeToyFolder } from './toy-model.js';

const root = mkdtempSync(join(tmpdir(), 'tessera-enc-nogpu-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

it('webgpu without an adapter is GPU_UNAVAILABLE naming wasm, not a broken model', async () => {
  const dir = writeToyFolder(join(root, 'toy'), 6);
  const noAdapter = { requestAdapter: async () => null, wgslLanguageFeatures: new Set() };
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: noAdapter }, configurable: true, writable: true });
  await expect(Encoder.fromDirectory(dir, { executionProvider: 'webgpu' })).rejects.toMatchObject({
    code: 'GPU_UNAVAILABLE',
    message: expect.stringMatching(/execution provider "webgpu" could not start .*use "wasm"/),
  });
});
