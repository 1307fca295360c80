/**
 * Node's permission model (--permission; --experimental-permission on Node 20) refuses new Worker
 * without --allow-worker (ERR_ACCESS_DENIED, thrown at the first threaded add). A CPU index there
 * runs on the calling thread, as in a page without cross-origin isolation, instead of failing with
 * Node's raw error; with --allow-worker it keeps its workers.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/node.js';
import { dedicatedWorkersAvailable } from '../../src/wasm/worker-pool.js';

const root = join(import.meta.dirname, '../..');
const src = (p: string) => JSON.stringify(join(root, p));
const run = promisify(execFile);
/** Node 22.13+ and 23.5+ take --permission; Node 20 only the experimental flag. */
const PERMISSION = process.allowedNodeEnvironmentFlags.has('--permission') ? '--permission' : '--experimental-permission';

describe.runIf(dedicatedWorkersAvailable())("CPU indexes under Node's permission model", () => {
  let dir = '';
  let script = '';
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-permission-'));
    const entry = join(dir, 'entry.ts');
    writeFileSync(
      entry,
      `import ${src('src/node.js')};
import { indexFactory } from ${src('src/core/factory.js')};
const threads = process.argv[2] === 'default' ? undefined : Number(process.argv[2]);
const d = 16, n = 3000;
const base = new Float32Array(n * d).map((_, i) => Math.sin(i * 0.37));
const out: Record<string, unknown> = {};
for (const type of ['Flat', 'HNSW16']) {
  const index: any = await indexFactory(d, type, 'l2', { backend: 'wasm', threads });
  await index.add(base);
  const r = await index.search(base.subarray(0, 3 * d), 2);
  out[type] = { labels: [r.labels[0], r.labels[2], r.labels[4]].map(String), workers: index.pool?.size ?? 0 };
  await index.dispose();
}
console.log(JSON.stringify(out));
`,
    );
    script = join(dir, 'entry.mjs');
    await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', outfile: script, loader: { '.wgsl': 'text' }, external: ['webgpu'], logLevel: 'error' });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function search(flags: string[], threads: string) {
    const { stdout } = await run(process.execPath, [PERMISSION, `--allow-fs-read=*`, ...flags, script, threads], { encoding: 'utf8', timeout: 30_000 });
    return JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, { labels: string[]; workers: number }>;
  }

  it.each(['default', '2'])('without --allow-worker: threads %s runs on the calling thread, same answers', async (threads) => {
    // Before the fix: ERR_ACCESS_DENIED ("Access to this API has been restricted") from new Worker.
    const out = await search([], threads);
    for (const type of ['Flat', 'HNSW16']) expect(out[type]).toEqual({ labels: ['0', '1', '2'], workers: 0 });
  }, 40_000);

  it('with --allow-worker: threads 2 keeps its worker', async () => {
    const out = await search(['--allow-worker'], '2');
    for (const type of ['Flat', 'HNSW16']) expect(out[type]).toEqual({ labels: ['0', '1', '2'], workers: 2 });
  }, 40_000);
});
