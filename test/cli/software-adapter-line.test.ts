/**
 * `--backend gpu` on a software renderer (Mesa's llvmpipe here and in CI, SwiftShader: the adapter's
 * isFallbackAdapter) runs the WGSL kernels on the CPU, slower than WASM; the line naming the backend
 * said 'gpu' as on a real GPU. `search` and `serve` now say so on that line; on a hardware adapter they don't.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/node.js';
import { register } from '../../src/cli/commands/search.js';
import { indexFactory } from '../../src/core/factory.js';
import { writeVectors } from '../../src/io/vectors.js';
import { serveFiles } from '../../src/server/files.js';
import { runCommand } from '../helpers/cli.js';
import { randomVectors } from '../helpers/data.js';
import { defaultAdapterIsSoftware, gpuForTests } from '../helpers/gpu.js';

const MODEL = join(resolve(import.meta.dirname, '../..'), 'assets/demo/model');
const D = 100;
const N = 6;
const tmp = mkdtempSync(join(tmpdir(), 'tessera-software-adapter-line-'));
const NOTE = /the adapter is a software renderer on the CPU \(.+\), slower than --backend wasm/;

beforeAll(async () => {
  const x = randomVectors(N, D, 5);
  const flat = await indexFactory(D, 'Flat', 'ip', { backend: 'wasm', threads: 1 });
  await flat.add(x);
  await flat.save(join(tmp, 'flat.index'));
  await flat.dispose();
  await writeVectors(join(tmp, 'q.npy'), x.slice(0, 2 * D), D);
  writeFileSync(join(tmp, 'corpus.jsonl'), Array.from({ length: N }, (_, i) => JSON.stringify({ id: String(i), contents: `row ${i}` })).join('\n') + '\n');
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('--backend gpu on a software renderer', async () => {
  const hasGpu = await gpuForTests('--backend gpu on a software renderer');
  const software = hasGpu && (await defaultAdapterIsSoftware());

  it.skipIf(!hasGpu)('search says so on its line naming the backend', async () => {
    const seen = { stderr: '' };
    await runCommand(register, ['search', '--index', join(tmp, 'flat.index'), '--queries', join(tmp, 'q.npy'), '-k', '3', '--backend', 'gpu', '--json'], seen);
    const line = seen.stderr.split('\n').find((l) => /^tessera: 2 queries, k=3, on gpu \(Flat, /.test(l));
    expect(line, seen.stderr).toBeDefined();
    if (software) expect(line).toMatch(new RegExp(`^tessera: 2 queries, k=3, on gpu \\(Flat, ${N} vectors, d=${D}, ip\\) \\(${NOTE.source}\\): `));
    else expect(line).not.toMatch(/software renderer/);
  }, 60_000);

  it.skipIf(!hasGpu)("serve says so on its 'backend:' line", async () => {
    const lines: string[] = [];
    const service = await serveFiles({ index: join(tmp, 'flat.index'), corpus: join(tmp, 'corpus.jsonl'), model: MODEL, port: 0, backend: 'gpu', threads: 1, say: (l) => lines.push(l) });
    try {
      await service.ready;
      const line = lines.find((l) => l.startsWith('backend: '));
      if (software) expect(line).toMatch(new RegExp(`^backend: gpu \\(.*; ${NOTE.source}\\)$`));
      else expect(line).not.toMatch(/software renderer/);
    } finally {
      await service.close();
    }
  }, 120_000);
});
