/**
 * Where the probe knows why WebGPU has no adapter (Node's permission model refused Dawn's native
 * addon: the fix is --allow-addons, not a driver; gpu/dawn.ts loadDawnGpu), `tessera info`,
 * `search` and `serve --backend gpu` say it: info said only 'no WebGPU adapter here', serve listed a
 * missing GPU, driver or webgpu package; search said the library's "use backend 'wasm'". Dawn's
 * loader is replaced by one that fails as it does under `node --permission` without --allow-addons,
 * and the probe's child as one refused to start.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/node.js';
import { register } from '../../src/cli/commands/info.js';
import { register as registerSearch } from '../../src/cli/commands/search.js';
import { TesseraError } from '../../src/core/errors.js';
import { writeVectors } from '../../src/io/vectors.js';
import { installPlatform, platform } from '../../src/platform.js';
import { serveFiles } from '../../src/server/files.js';
import { runCommand } from '../helpers/cli.js';
import { DEMO_D, DEMO_MODEL as MODEL, saveSmallFlatIndex, writeSmallCorpus } from '../helpers/cli-files.js';

const D = 8;
const tmp = mkdtempSync(join(tmpdir(), 'tessera-gpu-unavailable-reason-'));
const own = { ...platform() };
// loadDawnGpu's error under --permission without --allow-addons (refusedBy), after Node's own text.
const REFUSED =
  "Dawn's webgpu package failed to load: Cannot load native addon because loading addons is disabled: Node's permission model (--permission, --experimental-permission) is on without --allow-addons, and Dawn's WebGPU is a native addon: run node with --allow-addons for the GPU, or use backend 'wasm'";

beforeAll(async () => {
  await saveSmallFlatIndex(join(tmp, 'flat.index'), D);
  await writeVectors(join(tmp, 'q.npy'), Float32Array.from({ length: 2 * D }, (_, i) => Math.cos(i)), D);
  // of the demo model's dimension, for serve to load
  await saveSmallFlatIndex(join(tmp, 'demo-d.index'), DEMO_D);
  writeSmallCorpus(join(tmp, 'corpus.jsonl'));
  installPlatform({
    loadGpu: async () => {
      throw new TesseraError('GPU_UNAVAILABLE', REFUSED);
    },
    // The child probe refused (no --allow-child-process): it cannot tell, so the probe looks in-process.
    probeAdapter: async () => undefined,
  });
});
afterAll(() => {
  installPlatform(own);
  rmSync(tmp, { recursive: true, force: true });
});

describe('a known reason for no WebGPU adapter', () => {
  it("tessera info names it and its fix, with the CLI's --backend wasm", async () => {
    const out = JSON.parse(await runCommand(register, ['info', join(tmp, 'flat.index'), '--json'])) as { backendStatus: Record<string, string> };
    expect(out.backendStatus.wasm).toBe('available');
    expect(out.backendStatus.gpu).toBe(`no WebGPU adapter here: ${REFUSED.replace("backend 'wasm'", '--backend wasm')}`);
    const text = await runCommand(register, ['info', join(tmp, 'flat.index')]);
    expect(text).toMatch(/^backends +gpu \(no WebGPU adapter here: Dawn's webgpu package failed to load: .*run node with --allow-addons for the GPU, or use --backend wasm\), wasm \(available\)$/m);
  });

  it("search --backend gpu names it and its fix, with the CLI's --backend wasm", async () => {
    const seen = { stderr: '' };
    const run = runCommand(registerSearch, ['search', '--index', join(tmp, 'flat.index'), '--queries', join(tmp, 'q.npy'), '-k', '2', '--backend', 'gpu'], seen);
    await expect(run).rejects.toMatchObject({ code: 'GPU_UNAVAILABLE', message: REFUSED.replace("backend 'wasm'", '--backend wasm') });
    // backend auto: searched on WASM, the notice saying why in the CLI's words too
    const auto = { stderr: '' };
    const out = await runCommand(registerSearch, ['search', '--index', join(tmp, 'flat.index'), '--queries', join(tmp, 'q.npy'), '-k', '2', '--json'], auto);
    expect((JSON.parse(out) as { labels: number[][] }).labels).toHaveLength(2);
    expect(auto.stderr).toContain(`tessera: no usable WebGPU adapter (${REFUSED.replace("backend 'wasm'", '--backend wasm')}): IndexFlatIP file ${join(tmp, 'flat.index')} runs on the WASM (CPU) backend\n`);
    expect(auto.stderr).not.toMatch(/backend ['"]wasm/);
  });

  it('serve --backend gpu gives it first, then the fix of leaving --backend gpu out', async () => {
    const start = serveFiles({ index: join(tmp, 'flat.index'), corpus: join(tmp, 'corpus.jsonl'), model: join(tmp, 'no-model'), port: 0, backend: 'gpu', threads: 1 });
    await expect(start).rejects.toMatchObject({
      code: 'GPU_UNAVAILABLE',
      message: `--backend gpu (Search-R1's --faiss_gpu) asks for the GPU, but WebGPU offers no adapter here: ${REFUSED.replace(", or use backend 'wasm'", '')}, or leave --backend gpu out to serve on the CPU (WASM)`,
    });
  });

  it("serve (backend auto) says it on its backend line, with the CLI's --backend wasm", async () => {
    const lines: string[] = [];
    const service = await serveFiles({ index: join(tmp, 'demo-d.index'), corpus: join(tmp, 'corpus.jsonl'), model: MODEL, port: 0, threads: 1, say: (l) => lines.push(l) });
    try {
      await service.ready;
      expect(lines.find((l) => l.startsWith('backend: '))).toBe(
        `backend: wasm (no usable WebGPU adapter (${REFUSED.replace("backend 'wasm'", '--backend wasm')}): IndexFlatIP file ${join(tmp, 'demo-d.index')} runs on the WASM (CPU) backend)`,
      );
    } finally {
      await service.close();
    }
  }, 60_000);
});
