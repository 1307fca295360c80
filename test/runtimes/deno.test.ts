/**
 * Deno: the published package, imported from a Deno project (package.json + node_modules, the
 * "deno" export condition), searches on Deno's own navigator.gpu (Mesa lavapipe here), and on a
 * machine whose Vulkan has no driver falls back to WASM and says so once. The README's Deno snippet
 * (examples/deno/main.ts) runs as written. The encoder (onnxruntime-web, WASM) gives Node's vectors.
 */
import { copyFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { indexFactory, memorySink } from '../../src/index.js';
import { clusteredVectors, randomVectors } from '../helpers/data.js';
import { bruteForce, distanceTolerance, expectMatchesOracle } from '../helpers/oracle.js';
import { type ChildOutput, parseChild, runChild, writeSearchJob } from './helpers/child.js';
import { type BuiltPackage, buildPackage, repoRoot } from './helpers/package-build.js';

// The `deno` npm package ships the binary in a per-platform optional dependency; bin.cjs finds it.
const denoBin = createRequire(import.meta.url).resolve('deno/bin.cjs');
/** Vulkan as the only WebGPU backend, with no driver: Deno's wgpu would otherwise fall back to Mesa's GL. */
const NO_VULKAN = { DENO_WEBGPU_BACKEND: 'vulkan', VK_ICD_FILENAMES: '/nonexistent/none.json', VK_DRIVER_FILES: '/nonexistent/none.json' };
const DENO_ENV = { DENO_NO_UPDATE_CHECK: '1', DENO_NO_PROMPT: '1', NO_COLOR: '1' };

let pkg: BuiltPackage;
beforeAll(async () => {
  pkg = await buildPackage({ omit: ['webgpu'] });
}, 180_000);
afterAll(() => pkg?.cleanup());

/** `deno run` with read access only (the package's .wasm and the job files); no net, no env, no FFI. */
function deno(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ChildOutput> {
  return runChild(process.execPath, [denoBin, 'run', '--no-prompt', '--allow-read', ...args], pkg.consumer, { ...DENO_ENV, ...env });
}

let adapterKind: Promise<'none' | 'software' | 'hardware'> | undefined;

/** What this machine's Vulkan offers Deno (lavapipe, a software renderer, here and in CI); asked once per run. */
function denoAdapter(): Promise<'none' | 'software' | 'hardware'> {
  const probe = "const a = await navigator.gpu?.requestAdapter({ powerPreference: 'high-performance' }); console.log(!a ? 'none' : a.info?.isFallbackAdapter || a.isFallbackAdapter ? 'software' : 'hardware')";
  return (adapterKind ??= runChild(process.execPath, [denoBin, 'eval', probe], pkg.consumer, DENO_ENV).then((out) => out.stdout.trim() as 'none' | 'software' | 'hardware'));
}

async function denoHasAdapter(): Promise<boolean> {
  return (await denoAdapter()) !== 'none';
}

describe('Deno', () => {
  it('has navigator.gpu with an adapter on this machine (lavapipe), none without a Vulkan driver', async () => {
    const has = await denoHasAdapter();
    if (!has && process.env.REQUIRE_WEBGPU !== '1') {
      console.warn('Deno found no WebGPU adapter: its GPU path is checked only where one exists (set REQUIRE_WEBGPU=1 to require it)');
    }
    if (process.env.REQUIRE_WEBGPU === '1') expect(has).toBe(true);
    const none = await runChild(process.execPath, [denoBin, 'eval', 'console.log(!!navigator.gpu, !!(await navigator.gpu?.requestAdapter()))'], pkg.consumer, {
      ...DENO_ENV,
      ...NO_VULKAN,
    });
    expect(none.stdout.trim()).toBe('true false');
  });

  it("resolves 'tessera' to the universal entry (the deno export), never the Node entry", async () => {
    const out = await runChild(
      process.execPath,
      [denoBin, 'eval', "console.log(import.meta.resolve('tessera')); const m = await import('tessera'); console.log(typeof m.indexFactory, typeof m.openFileSource)"],
      pkg.consumer,
      DENO_ENV,
    );
    expect(out.code, out.stderr).toBe(0);
    const [resolved, kinds] = out.stdout.trim().split('\n');
    expect(resolved).toMatch(/\/dist\/index\.js$/);
    // openFileSource exists only in the Node entry (dist/node.js).
    expect(kinds).toBe('function undefined');
  });

  it.each([
    ['random', randomVectors(2000, 40, 21), randomVectors(6, 40, 22)],
    ['clustered', clusteredVectors(2000, 40, 10, 23), clusteredVectors(6, 40, 10, 24)],
  ])("'gpu' searches Flat on Deno's navigator.gpu, and 'auto' takes it unless it is a software renderer; both match the oracle (%s data)", async (name, base, queries) => {
    const d = 40;
    const k = 8;
    const kind = await denoAdapter();
    const want = bruteForce(base, queries, d, k, 'ip');
    if (kind !== 'none') {
      const onGpu = parseChild(await deno(writeSearchJob(pkg.consumer, `deno-gpu-${name}`, { d, description: 'Flat', metric: 'ip', backend: 'gpu', k, base, queries })));
      expect(onGpu.backend).toBe('gpu');
      expect(onGpu.notices).toEqual([]);
      expectMatchesOracle(onGpu.result, want, distanceTolerance(d, 4), base, queries, d, 'ip');
    }
    const got = parseChild(await deno(writeSearchJob(pkg.consumer, `deno-${name}`, { d, description: 'Flat', metric: 'ip', backend: 'auto', k, base, queries })));
    expect(got.backend).toBe(kind === 'hardware' ? 'gpu' : 'wasm');
    expect(got.notices).toHaveLength(kind === 'hardware' ? 0 : 1);
    if (kind === 'software') expect(got.notices[0]).toMatch(/^the only WebGPU adapter is a software renderer on the CPU \(.+\), slower than WASM: .*WASM \(CPU\) backend/);
    expectMatchesOracle(got.result, want, distanceTolerance(d, 4), base, queries, d, 'ip');
  });

  it("without a Vulkan driver 'auto' falls back to WASM, says so once, and matches the oracle", async () => {
    const d = 40;
    const k = 8;
    const base = clusteredVectors(2000, d, 10, 25);
    const queries = clusteredVectors(6, d, 10, 26);
    const args = writeSearchJob(pkg.consumer, 'deno-novk', { d, description: 'Flat', metric: 'ip', backend: 'auto', k, base, queries });
    const got = parseChild(await deno(args, NO_VULKAN));
    expect(got.backend).toBe('wasm');
    expect(got.notices).toHaveLength(1);
    expect(got.notices[0]).toMatch(/WASM/);
    expectMatchesOracle(got.result, bruteForce(base, queries, d, k, 'ip'), distanceTolerance(d, 4), base, queries, d, 'ip');
  });

  it('runs the README Deno snippet (examples/deno/main.ts) as written, with no permissions', async () => {
    copyFileSync(join(repoRoot, 'examples/deno/main.ts'), join(pkg.consumer, 'main.ts'));
    // With no permission at all (no read, env, FFI or net): nothing Node-only or native can load.
    const out = await runChild(process.execPath, [denoBin, 'run', '--no-prompt', 'main.ts'], pkg.consumer, DENO_ENV);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toContain(`backend: ${(await denoAdapter()) === 'hardware' ? 'gpu' : 'wasm'}`);
    expect(out.stdout).toMatch(/^query 0 -> 0 \d+ \d+ \(\d+\.\d\d\)$/m);
    expect(out.stdout).toMatch(/^query 1 -> 1 \d+ \d+$/m);
  });
});

describe('Deno, index files without paths', () => {
  it('reads an index from an http URL (with --allow-net; a clear refusal without), from a Blob, and saves it to bytes', async () => {
    const d = 8;
    const vectors = randomVectors(500, d, 31);
    const built = await indexFactory(d, 'HNSW16', 'ip', { backend: 'wasm', threads: 1 });
    await built.add(vectors);
    const want = Array.from((await built.search(vectors.subarray(0, 2 * d), 3, { efSearch: 64 })).labels).join(' ');
    const sink = memorySink();
    await built.save(sink);
    await built.dispose();
    const file = sink.bytes();
    const server = createServer((req, res) => {
      const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
      if (req.url !== '/x.index') res.writeHead(404).end();
      else if (!m) res.writeHead(200, { 'content-length': file.length }).end(file);
      else {
        const [start, end] = [Number(m[1]), Math.min(Number(m[2]), file.length - 1)];
        res.writeHead(206, { 'content-range': `bytes ${start}-${end}/${file.length}` }).end(file.subarray(start, end + 1));
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      writeFileSync(
        join(pkg.consumer, 'url-index.ts'),
        `import { readIndex, memorySink } from 'tessera';
const queries = new Float32Array(${JSON.stringify(Array.from(vectors.subarray(0, 2 * d)))});
try {
  const url = new URL('http://${host}/x.index');
  for (const input of [() => url, async () => new Blob([await (await fetch(url)).arrayBuffer()])]) {
    const index = await readIndex(await input(), { backend: 'wasm', threads: 1 });
    console.log(Array.from((await index.search(queries, 3, { efSearch: 64 })).labels).join(' '));
    const sink = memorySink();
    await index.save(sink);
    console.log(sink.bytes().length);
    await index.dispose();
  }
} catch (e) {
  console.log('ERR', e.code, e.message);
}
`,
      );
      const allowed = await runChild(process.execPath, [denoBin, 'run', '--no-prompt', `--allow-net=${host}`, 'url-index.ts'], pkg.consumer, DENO_ENV);
      expect(allowed.code, allowed.stderr).toBe(0);
      expect(allowed.stdout.trim().split('\n')).toEqual([want, String(file.length), want, String(file.length)]);
      const denied = await runChild(process.execPath, [denoBin, 'run', '--no-prompt', 'url-index.ts'], pkg.consumer, DENO_ENV);
      expect(denied.stdout).toMatch(/^ERR NOT_FOUND .*--allow-net/m);
      expect(denied.stdout).not.toMatch(/server answers/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('Deno, encoder', () => {
  it('encodes text with onnxruntime-web (WASM) like Node does', async () => {
    const model = join(repoRoot, 'assets/demo/model');
    const texts = ['where you live', 'a large body of salt water'];
    // Deno: the model folder as a file: URL. Deno's fetch rejects a missing file instead of answering
    // 404, and the encoder probes optional files (tokenizer_config.json...): this checks it copes.
    writeFileSync(
      join(pkg.consumer, 'encode.ts'),
      `import { Encoder } from 'tessera';
const dir = new URL(${JSON.stringify(`file://${model}/`)});
const encoder = await Encoder.fromDirectory(dir, { executionProvider: 'wasm', threads: 1 });
console.log(JSON.stringify([...(await encoder.encode(${JSON.stringify(texts)}, { prefix: 'query' }))]));
await encoder.dispose();
`,
    );
    writeFileSync(
      join(pkg.consumer, 'encode.mjs'),
      `import { Encoder } from 'tessera';
const encoder = await Encoder.fromDirectory(${JSON.stringify(model)}, { executionProvider: 'wasm', threads: 1 });
console.log(JSON.stringify([...(await encoder.encode(${JSON.stringify(texts)}, { prefix: 'query' }))]));
await encoder.dispose();
`,
    );
    const [inDeno, inNode] = await Promise.all([
      runChild(process.execPath, [denoBin, 'run', '--no-prompt', `--allow-read=${pkg.consumer},${pkg.dir},${model},${join(repoRoot, 'node_modules')}`, 'encode.ts'], pkg.consumer, DENO_ENV),
      runChild(process.execPath, ['encode.mjs'], pkg.consumer),
    ]);
    expect(inDeno.code, inDeno.stderr).toBe(0);
    expect(inNode.code, inNode.stderr).toBe(0);
    const a = JSON.parse(inDeno.stdout.trim().split('\n').pop()!) as number[];
    const b = JSON.parse(inNode.stdout.trim().split('\n').pop()!) as number[];
    expect(a).toHaveLength(2 * 100);
    a.forEach((x, i) => expect(Math.abs(x - b[i]!)).toBeLessThanOrEqual(1e-6));
  });
});
