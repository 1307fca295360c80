/**
 * The encoder on onnxruntime-web's WebGPU execution provider in Node, on Dawn's GPU (lavapipe in CI,
 * the real GPU on a GPU machine): same vectors as Hugging Face's PyTorch reference and as WASM.
 * Skips with a visible message without an adapter; REQUIRE_WEBGPU=1 makes that a failure.
 * Slow on lavapipe (onnxruntime-web compiles its 26 MB WebGPU .wasm and lavapipe compiles every
 * shader on the CPU: ~2 minutes on a busy 2-core machine), so a local `npm test` runs it only with
 * TESSERA_WEBGPU_ENCODER_TEST=1; .ci/run sets it, so CI always runs it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/node.js';
import { Encoder } from '../../src/encoder/index.js';
import { gpuForTests } from '../helpers/gpu.js';

const FIX = join(import.meta.dirname, '..', 'fixtures', 'encoder');
const expected = JSON.parse(readFileSync(join(FIX, 'hf-expected.json'), 'utf8')) as {
  embed_texts: string[];
  embeddings: Record<string, { mean_normalized: number[][] }>;
};

const enabled = process.env.TESSERA_WEBGPU_ENCODER_TEST === '1';
if (!enabled) console.warn('[SKIPPED] WebGPU encoder test: set TESSERA_WEBGPU_ENCODER_TEST=1 to run it (minutes on lavapipe)');

describe('encoder on WebGPU (Dawn in Node)', () => {
  it.skipIf(!enabled)('matches Hugging Face mean-pooled embeddings (cosine >= 0.9999), batched', async () => {
    if (!(await gpuForTests('the WebGPU encoder test'))) return;
    const enc = await Encoder.fromDirectory(join(FIX, 'hf-bert-tiny'), { executionProvider: 'webgpu', prefixes: 'none', maxLength: 256, batchSize: 8 });
    expect(enc.provider).toBe('webgpu');
    const out = await enc.encode(expected.embed_texts, { prefix: 'none' });
    const ref = expected.embeddings['256']!.mean_normalized;
    ref.forEach((row, i) => {
      let dot = 0;
      for (let k = 0; k < enc.dim; k++) dot += out[i * enc.dim + k]! * row[k]!;
      expect(dot, `text ${i}`).toBeGreaterThanOrEqual(0.9999);
    });
    await enc.dispose();
  }, 400_000);
});
