/**
 * The CPU-only laptop path in Node: the published package, installed without Dawn (its optional
 * dependency missing) or with Dawn but no Vulkan driver, picks the WASM backend for 'auto', says so
 * once, and answers like the oracle. The README's Node snippet runs as written in both setups, and
 * `tessera serve --backend auto` serves a demo slice from the WASM backend, saying so on one line.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusteredVectors, randomVectors } from '../helpers/data.js';
import { defaultAdapterIsSoftware } from '../helpers/gpu.js';
import { bruteForce, distanceTolerance, expectMatchesOracle } from '../helpers/oracle.js';
import { parseChild, runChild, writeSearchJob } from './helpers/child.js';
import { type BuiltPackage, buildPackage, repoRoot } from './helpers/package-build.js';

/** Points the Vulkan loader at no driver: Dawn loads but finds no adapter, as on a machine without a GPU. */
const NO_VULKAN = { VK_ICD_FILENAMES: '/nonexistent/none.json', VK_DRIVER_FILES: '/nonexistent/none.json' };

let noDawn: BuiltPackage;
let withDawn: BuiltPackage;

beforeAll(async () => {
  noDawn = await buildPackage({ omit: ['webgpu'] });
  withDawn = await buildPackage();
}, 180_000);
afterAll(() => {
  noDawn?.cleanup();
  withDawn?.cleanup();
});

const setups = [
  ['Dawn not installed', () => noDawn, {}],
  ['Dawn installed, no Vulkan driver', () => withDawn, NO_VULKAN],
] as const;

describe.each(setups)('Node, %s', (_name, pkg, env) => {
  it('has no webgpu package where Dawn is left out, and Dawn where it is not', async () => {
    // Resolved from the package's folder, as the package itself would resolve it.
    const probe = await runChild(process.execPath, ['--input-type=module', '-e', `import('webgpu').then(() => console.log('dawn'), (e) => console.log(e.code))`], pkg().dir, env);
    expect(probe.stdout.trim()).toBe(pkg() === noDawn ? 'ERR_MODULE_NOT_FOUND' : 'dawn');
  });

  it.each([
    ['random', randomVectors(3000, 48, 11), randomVectors(7, 48, 12)],
    ['clustered', clusteredVectors(3000, 48, 12, 13), clusteredVectors(7, 48, 12, 14)],
  ])("indexFactory 'auto' runs Flat on WASM, says so once, and matches the oracle (%s data)", async (name, base, queries) => {
    const d = 48;
    const k = 10;
    const args = writeSearchJob(pkg().consumer, `auto-${name}`, { d, description: 'Flat', metric: 'ip', backend: 'auto', k, base, queries });
    const got = parseChild(await runChild(process.execPath, args, pkg().consumer, env));
    expect(got.backend).toBe('wasm');
    expect(got.notices).toHaveLength(1);
    expect(got.notices[0]).toMatch(/WebGPU/);
    expect(got.notices[0]).toMatch(/WASM/);
    expectMatchesOracle(got.result, bruteForce(base, queries, d, k, 'ip'), distanceTolerance(d, 4), base, queries, d, 'ip');
  });

  it("backend 'gpu' fails with GPU_UNAVAILABLE and a message that names the fix", async () => {
    const base = randomVectors(100, 8, 1);
    const args = writeSearchJob(pkg().consumer, 'gpu', { d: 8, description: 'Flat', metric: 'ip', backend: 'gpu', k: 1, base, queries: base.slice(0, 8) });
    const out = await runChild(process.execPath, args, pkg().consumer, env);
    expect(out.code).not.toBe(0);
    expect(out.stderr).toMatch(/GPU_UNAVAILABLE/);
    expect(out.stderr).toMatch(/wasm/i);
  });

  it('runs the README Node snippet (examples/node/quickstart.mjs) as written', async () => {
    const file = join(pkg().consumer, 'quickstart.mjs');
    copyFileSync(join(repoRoot, 'examples/node/quickstart.mjs'), file);
    const out = await runChild(process.execPath, [file], pkg().consumer, env);
    // No JavaScript error. (With Dawn but no driver, the Vulkan loader prints its own warnings on stderr.)
    expect(out.stderr).not.toMatch(/TesseraError|^\w*Error:|Uncaught/m);
    expect(out.code).toBe(0);
    const lines = out.stdout.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('notice: '))).toHaveLength(1);
    expect(lines).toContain('backend: wasm');
    expect(out.stdout).toMatch(/^query 0 -> 0 \d+ \d+ \(\d+\.\d\d\)$/m);
    expect(out.stdout).toMatch(/^query 1 -> 1 \d+ \d+$/m);
  });
});


/** Starts `tessera serve` and resolves with its URL once it says it is ready (or rejects with its stderr). */
function startServe(cli: string, args: string[], cwd: string, env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const child = spawn(process.execPath, [cli, 'serve', ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  return new Promise((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`tessera serve not ready after 60 s:\n${err}`)), 60_000);
    child.stderr!.on('data', (b: Buffer) => {
      err += b.toString();
      const m = /ready in .*serving (http:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        ok({ child, url: m[1]!, stderr: () => err });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`tessera serve exited (${code}) before it was ready:\n${err}`));
    });
  });
}

let sliceIndex: Promise<{ corpus: string; index: string }> | undefined;

/** A 40-row slice of the demo corpus and its Flat index, built with the package's public API (the browser example's builder). */
async function buildSliceIndex(dir: string, model: string): Promise<{ corpus: string; index: string }> {
  const corpus = join(dir, 'slice.jsonl');
  writeFileSync(corpus, readFileSync(join(repoRoot, 'assets/demo/corpus.jsonl'), 'utf8').split('\n').slice(0, 40).join('\n') + '\n');
  copyFileSync(join(repoRoot, 'examples/browser/build-index.mjs'), join(dir, 'build-index.mjs'));
  const index = join(dir, 'slice.faiss');
  const built = await runChild(process.execPath, ['build-index.mjs', corpus, model, index], dir);
  if (built.code !== 0) throw new Error(`building the slice index failed:\n${built.stderr}`);
  return { corpus, index };
}

describe.each(setups)('tessera serve, %s', (_name, pkg, env) => {
  it("picks the WASM backend for --backend auto, says so on one line, and answers /retrieve", async () => {
    const dir = pkg().consumer;
    const model = join(repoRoot, 'assets/demo/model');
    const { corpus, index } = await (sliceIndex ??= buildSliceIndex(noDawn.consumer, model));
    copyFileSync(corpus, join(dir, 'corpus.jsonl'));
    copyFileSync(index, join(dir, 'demo.faiss'));

    const cli = join(pkg().dir, 'dist/cli/main.js');
    const args = ['--index', 'demo.faiss', '--corpus', 'corpus.jsonl', '--model', model, '--port', '0', '--log-level', 'silent', '--threads', '1'];
    const serve = await startServe(cli, args, dir, env);
    try {
      const res = await fetch(`${serve.url}/retrieve`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ queries: ['where you live'], topk: 3, return_scores: true }),
      });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { result: { document: { id: string; contents: string }; score: number }[][] };
      expect(body.result).toHaveLength(1);
      expect(body.result[0]).toHaveLength(3);
      expect(body.result[0]![0]!.document.contents).toMatch(/^"Home"\n/);
      const lines = serve.stderr().split('\n').filter((l) => l.startsWith('tessera: '));
      const backend = lines.filter((l) => /backend/i.test(l));
      expect(backend, serve.stderr()).toHaveLength(1);
      expect(backend[0]).toMatch(/^tessera: backend: wasm \(.*WebGPU.*\)$/);
    } finally {
      serve.child.kill('SIGTERM');
      await new Promise((ok) => (serve.child.exitCode !== null ? ok(undefined) : serve.child.once('exit', ok)));
    }
  });
});

describe('Node, Dawn installed, with an adapter (lavapipe here and in CI)', () => {
  it("runs the README Node snippet: on the GPU with a hardware adapter, on WASM saying why with a software one (lavapipe)", async () => {
    const file = join(withDawn.consumer, 'quickstart.mjs');
    copyFileSync(join(repoRoot, 'examples/node/quickstart.mjs'), file);
    const out = await runChild(process.execPath, [file], withDawn.consumer);
    expect(out.code, out.stderr).toBe(0);
    if (out.stdout.includes('no usable WebGPU adapter')) {
      const message = `Dawn found no adapter here, so the snippet ran on WASM: ${out.stdout.split('\n')[0]}`;
      if (process.env.REQUIRE_WEBGPU === '1') throw new Error(`${message}; REQUIRE_WEBGPU=1 makes this a failure`);
      console.warn(`[SKIPPED] ${message}; set REQUIRE_WEBGPU=1 to fail instead`);
      return;
    }
    if (await defaultAdapterIsSoftware()) {
      expect(out.stdout).toMatch(/^notice: the only WebGPU adapter is a software renderer on the CPU \(.+\), slower than WASM: "Flat" runs on the WASM \(CPU\) backend \(backend 'gpu' uses the adapter anyway\)$/m);
      expect(out.stdout).toContain('backend: wasm');
    } else {
      expect(out.stdout).not.toMatch(/^notice: /m);
      expect(out.stdout).toContain('backend: gpu');
    }
    expect(out.stdout).toMatch(/^query 0 -> 0 \d+ \d+ \(\d+\.\d\d\)$/m);
    expect(out.stdout).toMatch(/^query 1 -> 1 \d+ \d+$/m);
  });
});
