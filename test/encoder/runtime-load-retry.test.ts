/**
 * encoder/runtime-load.ts: onnxruntime-web is a chunk of its own in a page's bundle. A failed import
 * of it was kept as a rejected promise, so every later Encoder.fromDirectory failed with the first
 * error even where the browser fetches the chunk again; now the next call imports it again, and the
 * failure names ONNX Runtime and the fix.
 */
import { expect, it, vi } from 'vitest';
import { isTesseraError } from '../../src/core/errors.js';
import { loadRuntime } from '../../src/encoder/runtime-load.js';

const chunk = vi.hoisted(() => ({ fail: true, imports: 0 }));
vi.mock('onnxruntime-web', async (importOriginal) => {
  chunk.imports++;
  if (chunk.fail) throw new TypeError('Failed to fetch dynamically imported module: https://example.test/assets/ort-X.js');
  return importOriginal();
});

it('a failed import of onnxruntime-web is NOT_FOUND naming it, and the next load imports it again', async () => {
  // vitest words the factory's error its own way (the TypeError is its cause).
  const e = await loadRuntime('wasm', 1).catch((err: unknown) => err);
  expect(isTesseraError(e, 'NOT_FOUND')).toBe(true);
  expect((e as Error).message).toMatch(/^loading ONNX Runtime \(onnxruntime-web\) failed: .+; it is a dependency of tessera: in Node install it \(npm install\); a page serves the chunks its bundler wrote for it, then call again/);
  chunk.fail = false;
  const runtime = await loadRuntime('wasm', 1);
  expect(runtime.provider).toBe('wasm');
  expect(typeof runtime.ort.InferenceSession.create).toBe('function');
  expect(chunk.imports).toBe(2);
});
