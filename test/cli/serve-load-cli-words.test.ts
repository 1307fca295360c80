/**
 * `serve --backend gpu` whose index load fails says the library's refusal in the CLI's words
 * (server/files.ts asCliWords), as `search` does since 7db0c1e: a driver refusing the device said
 * `or use backend "wasm"`, the library's option, where serve's flag is --backend wasm. Dawn is
 * replaced by a GPU whose adapter exists but refuses every device (test/helpers/gpu.ts refusingGpu).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import '../../src/node.js';
import { installPlatform, platform } from '../../src/platform.js';
import { serveFiles } from '../../src/server/files.js';
import { DEMO_D, DEMO_MODEL as MODEL, saveSmallFlatIndex, writeSmallCorpus } from '../helpers/cli-files.js';
import { refusingGpu } from '../helpers/gpu.js';

const tmp = mkdtempSync(join(tmpdir(), 'tessera-serve-load-cli-words-'));
const own = { ...platform() };

beforeAll(async () => {
  await saveSmallFlatIndex(join(tmp, 'flat.index'), DEMO_D);
  writeSmallCorpus(join(tmp, 'corpus.jsonl'));
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
