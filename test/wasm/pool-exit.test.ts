/**
 * The CPU worker pool must not keep Node alive: a 'message' listener refs a Node worker again, so
 * the pool refs a worker only while it has a job in flight. A bundled script builds a threaded CPU
 * index (shared pool: Flat and HNSW with threads 2; dedicated pools: a sharded Flat), searches,
 * never disposes, and must exit on its own.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/node.js';
import { dedicatedWorkersAvailable } from '../../src/wasm/worker-pool.js';

const root = join(import.meta.dirname, '../..');
const src = (p: string) => JSON.stringify(join(root, p));

describe.runIf(dedicatedWorkersAvailable())('CPU indexes with worker threads left undisposed', () => {
  let dir = '';
  let script = '';
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-pool-exit-'));
    const entry = join(dir, 'entry.ts');
    writeFileSync(
      entry,
      `import ${src('src/node.js')};
import { indexFactory } from ${src('src/core/factory.js')};
import { shardedIndex } from ${src('src/wasm/shards.js')};
const kind = process.argv[2];
const d = 16, n = 2000, nq = 50;
const base = new Float32Array(n * d).map((_, i) => Math.sin(i * 0.37));
const q = base.slice(0, nq * d);
const index: any = kind === 'shards'
  ? shardedIndex(d, 'Flat', 'l2', { backend: 'wasm', threads: 2, shardBytes: 64 << 10 })
  : await indexFactory(d, kind === 'hnsw' ? 'HNSW16' : 'Flat', 'l2', { backend: 'wasm', threads: 2 });
await index.add(base);
const r = await index.search(q, 5);
const pools = kind === 'shards' ? index.shards.map((s: any) => s.index.pool) : [index.pool];
console.log(JSON.stringify({ kind, first: String(r.labels[0]), workers: pools.map((p: any) => p?.size ?? 0), dedicated: pools.every((p: any) => p?.dedicated) }));
// No dispose(): the process must end by itself.
`,
    );
    script = join(dir, 'entry.mjs');
    await build({ entryPoints: [entry], bundle: true, platform: 'node', format: 'esm', outfile: script, loader: { '.wgsl': 'text' }, external: ['webgpu'], logLevel: 'error' });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  for (const kind of ['flat', 'hnsw', 'shards'] as const) {
    it(`${kind}: a script that searches with threads 2 and never disposes the index exits`, () => {
      const t = performance.now();
      // Before the fix this hung until the timeout (execFileSync then throws ETIMEDOUT).
      const stdout = execFileSync(process.execPath, [script, kind], { encoding: 'utf8', timeout: 20000 });
      const out = JSON.parse(stdout.trim().split('\n').at(-1)!);
      expect(out.first).toBe('0');
      if (kind === 'shards') {
        expect(out.workers.length).toBeGreaterThan(1);
        expect(out.dedicated).toBe(true);
      } else expect(out.workers).toEqual([2]);
      expect(performance.now() - t).toBeLessThan(15000);
    });
  }
});
