/**
 * Node's permission model (--permission; --experimental-permission on Node 20) refuses new Worker
 * without --allow-worker. onnxruntime-web's WASM threads are workers, so Encoder.fromDirectory with
 * its default threads (all cores) failed there for every model, as FORMAT ("could not be loaded by
 * ONNX Runtime (wasm): no available backend found ... Access to this API has been restricted").
 * It now runs on one thread there, giving the same vectors.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const src = (p: string) => JSON.stringify(join(root, p));
const run = promisify(execFile);
/** Node 22.13+ and 23.5+ take --permission; Node 20 only the experimental flag. */
const PERMISSION = process.allowedNodeEnvironmentFlags.has('--permission') ? '--permission' : '--experimental-permission';

describe("the encoder under Node's permission model", () => {
  let dir = '';
  let script = '';
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tessera-permission-enc-'));
    // The bundle leaves the ONNX Runtimes to node_modules, as the package does: resolved from here.
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
    const entry = join(dir, 'entry.ts');
    writeFileSync(
      entry,
      `import { Encoder } from ${src('src/node.js')};
const threads = process.argv[2] === 'default' ? undefined : Number(process.argv[2]);
const enc = await Encoder.fromDirectory(${src('assets/demo/model')}, { executionProvider: 'wasm', threads });
const v = await enc.encode(['a building where you can borrow books', 'a room where books are kept'], { prefix: 'query' });
console.log(JSON.stringify({ dim: enc.dim, v: Array.from(v.subarray(0, 8)) }));
await enc.dispose();
`,
    );
    script = join(dir, 'entry.mjs');
    await build({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      format: 'esm',
      outfile: script,
      loader: { '.wgsl': 'text' },
      external: ['webgpu', 'onnxruntime-web', 'onnxruntime-node'],
      logLevel: 'error',
    });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function encode(flags: string[], threads: string) {
    const { stdout } = await run(process.execPath, [...flags, script, threads], { encoding: 'utf8', timeout: 60_000 });
    return JSON.parse(stdout.trim().split('\n').at(-1)!) as { dim: number; v: number[] };
  }

  it('without --allow-worker, default threads: loads and encodes, the vectors of an unrestricted run', async () => {
    const free = await encode([], '1');
    const restricted = await encode([PERMISSION, '--allow-fs-read=*'], 'default');
    expect(restricted.dim).toBe(free.dim);
    expect(restricted.v).toEqual(free.v);
  }, 120_000);
});
