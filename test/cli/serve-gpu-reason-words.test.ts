/**
 * serve --backend gpu's refusal joins the probe's reason and its own fix with ':' where the reason
 * ends without a fix of its own, and ', or' only where "or use backend 'wasm'" was taken off. The
 * reason is put in the CLI's words first (asCliWords), so the check compares those: compared with
 * the library's text, a reason naming a library option (allowExperimental) and no fix got ', or'.
 * A process of its own: the default adapter probe is kept for the process.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import '../../src/node.js';
import { TesseraError } from '../../src/core/errors.js';
import { installPlatform, platform } from '../../src/platform.js';
import { serveFiles } from '../../src/server/files.js';
import { saveSmallFlatIndex, writeSmallCorpus } from '../helpers/cli-files.js';

const D = 8;
const tmp = mkdtempSync(join(tmpdir(), 'tessera-serve-gpu-reason-'));
const own = { ...platform() };
// A reason of tessera's own that names a library option and ends without a fix.
const REASON = 'the adapter refused every device with allowExperimental on';

beforeAll(async () => {
  await saveSmallFlatIndex(join(tmp, 'flat.index'), D);
  writeSmallCorpus(join(tmp, 'corpus.jsonl'));
  installPlatform({
    loadGpu: async () => {
      throw new TesseraError('GPU_UNAVAILABLE', REASON);
    },
    probeAdapter: async () => undefined,
  });
});
afterAll(() => {
  installPlatform(own);
  rmSync(tmp, { recursive: true, force: true });
});

it("serve --backend gpu: a reason without a fix of its own, in the CLI's words, then ':' and serve's fix", async () => {
  const start = serveFiles({ index: join(tmp, 'flat.index'), corpus: join(tmp, 'corpus.jsonl'), model: join(tmp, 'no-model'), port: 0, backend: 'gpu', threads: 1 });
  await expect(start).rejects.toMatchObject({
    code: 'GPU_UNAVAILABLE',
    message: "--backend gpu (Search-R1's --faiss_gpu) asks for the GPU, but WebGPU offers no adapter here: the adapter refused every device with --allow-experimental on: leave --backend gpu out to serve on the CPU (WASM)",
  });
});
