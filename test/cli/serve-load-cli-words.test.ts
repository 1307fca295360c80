/**
 * `serve --backend gpu` whose index load fails says the library's refusal in the CLI's words
 * (server/files.ts asCliWords), as `search` does since 7db0c1e: a driver refusing the device said
 * `or use backend "wasm"`, the library's option, where serve's flag is --backend wasm. Dawn is
 * replaced by a GPU whose adapter exists but refuses every device (test/helpers/gpu.ts refusingGpu).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import '../../src/node.js';
import { indexFactory } from '../../src/core/factory.js';
import { installPlatform, platform } from '../../src/platform.js';
import { serveFiles } from '../../src/server/files.js';
import { refusingGpu } from '../helpers/gpu.js';

const MODEL = join(resolve(import.meta.dirname, '../..'), 'assets/demo/model');
const DEMO_D = 100; // the demo model's dimension, so the index loads with it
const tmp = mkdtempSync(join(tmpdir(), 'tessera-serve-load-cli-words-'));
const own = { ...platform() };

beforeAll(async () => {
  const index = await indexFactory(DEMO_D, 'Flat', 'ip', { backend: 'wasm', threads: 1 });
  await index.add(Float32Array.from({ length: 4 * DEMO_D }, (_, i) => Math.sin(i)));
  await index.save(join(tmp, 'flat.index'));
  await index.dispose();
  writeFileSync(join(tmp, 'corpus.jsonl'), Array.from({ length: 4 }, (_, i) => JSON.stringify({ id: String(i), contents: `row ${i}` })).join('\n') + '\n');
  const gpu = refusingGpu();
  installPlatform({ loadGpu: async () => gpu });
});
afterAll(() => {
  installPlatform(own);
  rmSync(tmp, { recursive: true, force: true });
});

it("serve --backend gpu: a load that fails names --backend wasm, not the library's backend \"wasm\"", async () => {
  const service = await serveFiles({ index: join(tmp, 'flat.index'), corpus: join(tmp, 'corpus.jsonl'), model: MODEL, port: 0, backend: 'gpu', threads: 1 });
  try {
    const failed = await service.ready.then(
      () => undefined,
      (e: Error) => e,
    );
    expect(failed).toMatchObject({ code: 'GPU_UNAVAILABLE' });
    expect(failed!.message).toMatch(/refused to open a device: requestDevice refused by the test adapter; .*, or use --backend wasm$/);
    expect(failed!.message).not.toMatch(/backend ['"]wasm/);
    // nor the library's devicesPerGpu: the CLI opens one device a GPU already
    expect(failed!.message).toMatch(/refused to open a device: requestDevice refused by the test adapter; close other programs using the GPU, or use --backend wasm$/);
  } finally {
    await service.close();
  }
}, 60_000);
