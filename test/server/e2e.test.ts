/**
 * End to end through the real command line: the CLI is bundled (esbuild, as tsup would) and run as a
 * child process on the bundled demo assets (real model, real index file, real corpus). Clients are
 * python3 scripts re-enacting Search-R1's trainer and verl's tool (test/server/search_r1_client.py).
 * WASM always; the GPU backend too when a WebGPU adapter exists (Dawn on lavapipe here; required
 * with REQUIRE_WEBGPU=1).
 */
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gpuForTests } from '../helpers/gpu.js';

const ROOT = resolve(__dirname, '../..');
const CLIENT = join(ROOT, 'test/server/search_r1_client.py');
let cli = '';
let bundleDir = '';
let tmp = '';
const children = new Set<ChildProcess>();

interface Started {
  child: ChildProcess;
  url: string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Runs `tessera <args>` and resolves once it prints its ready line. */
function startCli(args: string[]): Promise<Started> {
  const child = spawn(process.execPath, [cli, ...args, '--port', '0', '--log-level', 'warn', '--threads', '1'], { cwd: tmp, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let err = '';
  const exited = new Promise<number | null>((r) =>
    child.on('exit', (code) => {
      children.delete(child);
      r(code);
    }),
  );
  return new Promise((resolveStart, reject) => {
    const timer = setTimeout(() => reject(new Error(`tessera ${args[0]} not ready after 90 s:\n${err}`)), 90_000);
    child.stdout!.on('data', () => {});
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /ready in .* serving (http:\/\/\S+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolveStart({ child, url: m[1]!, stderr: () => err, exited });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`tessera ${args[0]} exited with ${code} before ready:\n${err}`));
    });
  });
}

/** The index file `tessera demo` built into the test's cache (<cache>/<key>/Flat.index). */
function demoIndex(): string {
  const key = readdirSync(join(tmp, 'cache')).find((f) => /^[0-9a-f]{16}$/.test(f))!;
  return join(tmp, 'cache', key, 'Flat.index');
}

/** Runs the Python client in `mode` against `url`; resolves with its JSON line. */
function client(url: string, mode: string): Promise<Record<string, unknown>> {
  return new Promise((res, rej) =>
    execFile('python3', [CLIENT, url, mode], { timeout: 60_000 }, (e, stdout, stderr) => {
      if (e) rej(new Error(`search_r1_client.py ${mode} failed: ${stderr || e.message}`));
      else res(JSON.parse(stdout) as Record<string, unknown>);
    }),
  );
}

async function stop(s: Started): Promise<number | null> {
  s.child.kill('SIGTERM');
  return s.exited;
}

beforeAll(async () => {
  // The bundle must sit inside the checkout so its bare imports resolve from node_modules/.
  mkdirSync(join(ROOT, 'out'), { recursive: true });
  bundleDir = mkdtempSync(join(ROOT, 'out', 'test-server-e2e-'));
  cli = join(bundleDir, 'cli.mjs');
  await build({
    entryPoints: [join(ROOT, 'src/cli/main.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    loader: { '.wgsl': 'text' },
    outfile: cli,
    logLevel: 'warning',
  });
  tmp = mkdtempSync(join(tmpdir(), 'tessera-e2e-'));
});

afterAll(() => {
  for (const c of children) c.kill('SIGKILL');
  rmSync(bundleDir, { recursive: true, force: true });
  rmSync(tmp, { recursive: true, force: true });
});

describe('tessera demo / serve through the CLI, Python clients (WASM backend)', () => {
  let contractWasm: { ids: number[][]; scores: number[][] } | undefined;

  it('demo: builds the index once, serves it; Search-R1 and verl clients, every limit, concurrency', async () => {
    const s = await startCli(['demo', '--cache-dir', join(tmp, 'cache'), '--backend', 'wasm', '--max-batch', '8', '--max-queue', '100', '--max-topk', '10', '--body-limit', '8192']);
    expect(s.stderr()).toMatch(/building the demo index once/);
    expect(s.stderr()).toMatch(/backend: wasm/);
    expect(s.stderr()).toMatch(/loaded model .*\n(.*\n)*.*loaded corpus .*\n(.*\n)*.*loaded index /);
    expect(s.stderr()).not.toMatch(/compiling GPU pipelines/); // nothing to warm up on WASM
    expect(s.stderr()).toMatch(/curl -s http:\/\/127\.0\.0\.1:\d+\/retrieve -H 'Content-Type: application\/json' -d '\{"queries":\[/);
    contractWasm = (await client(s.url, 'contract')) as typeof contractWasm;
    await client(s.url, 'limits');
    await client(s.url, 'concurrent');
    expect(await stop(s)).toBe(0);
    expect(s.stderr()).toMatch(/SIGTERM: shutting down[\s\S]*stopped/);
  });

  it('serve: builds the offset table beside the corpus; full queue -> 503 + Retry-After; deadline -> 504', async () => {
    const index = demoIndex();
    copyFileSync(join(ROOT, 'assets/demo/corpus.jsonl'), join(tmp, 'corpus.jsonl'));
    const files = ['--index', index, '--corpus', join(tmp, 'corpus.jsonl'), '--model', join(ROOT, 'assets/demo/model'), '--backend', 'wasm'];
    const s = await startCli(['serve', ...files, '--max-wait-ms', '400', '--max-queue', '2', '--timeout-ms', '200']);
    expect(s.stderr()).toMatch(/offset table built and saved to .*corpus\.jsonl\.offsets/);
    await client(s.url, 'queue');
    expect(await stop(s)).toBe(0);

    // Restart with Search-R1's own launch flags (retrieval_launch.sh): the offset table is reused;
    // SIGTERM lets the request in flight finish.
    const searchR1Flags = ['--index_path', index, '--corpus_path', join(tmp, 'corpus.jsonl'), '--topk', '3', '--retriever_name', 'wink', '--retriever_model', join(ROOT, 'assets/demo/model')];
    const again = await startCli(['serve', ...searchR1Flags, '--backend', 'wasm', '--max-wait-ms', '300']);
    expect(again.stderr()).toMatch(/offset table reused from .*corpus\.jsonl\.offsets/);
    const inFlight = fetch(`${again.url}/retrieve`, { method: 'POST', body: JSON.stringify({ queries: ['the planet we live on'], topk: 1 }) });
    // SIGTERM once the server holds the request (in its queue or batch, or answered already), not after
    // a 100 ms guess: on a loaded machine the signal could come first and the request find no server.
    const held = async () => /^tessera_(queue_depth|batch_in_flight) [1-9]/m.test(await (await fetch(`${again.url}/metrics`)).text());
    let answered = false;
    inFlight.then(() => (answered = true), () => (answered = true));
    for (const end = performance.now() + 10_000; !answered && !(await held()) && performance.now() < end; ) await new Promise((r) => setTimeout(r, 5));
    again.child.kill('SIGTERM');
    const signalled = performance.now();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { result: { contents: string }[][] }).result[0]![0]!.contents).toMatch(/^"Earth"/);
    expect(await again.exited).toBe(0);
    // Not held by the client's idle keep-alive connection (fastify's keep-alive timeout is 72 s).
    expect(performance.now() - signalled).toBeLessThan(10_000);
  });

  it('refuses to start on an index and corpus that do not belong together, naming the fix', async () => {
    const index = demoIndex();
    // A Hugging Face id instead of a local folder fails before the corpus is scanned.
    await expect(startCli(['serve', '--index', index, '--corpus', join(tmp, 'missing.jsonl'), '--model', 'intfloat/e5-base-v2'])).rejects.toThrow(
      /exited with 2 before ready:[\s\S]*model intfloat\/e5-base-v2 is not a folder here: .*optimum-cli export onnx --model intfloat\/e5-base-v2 e5-base-v2-onnx\/.*\[NOT_FOUND\]/,
    );
    const short = join(tmp, 'short.jsonl');
    copyFileSync(join(ROOT, 'test/server/search_r1_client.py'), short); // any other row count
    await expect(startCli(['serve', '--index', index, '--corpus', short, '--model', join(ROOT, 'assets/demo/model')])).rejects.toThrow(
      /exited with 2 before ready:[\s\S]*holds 8000 vectors but the corpus .* has \d+ rows: serve the corpus the index was built from/,
    );
  });

  it('GPU backend (Dawn), --allow-experimental: the demo again, cached index reused, same answers as WASM', async () => {
    if (!(await gpuForTests('the GPU serve end-to-end test'))) return;
    // --allow-experimental reaches the index, which says what it gives (lavapipe: the portable kernels).
    const s = await startCli(['demo', '--cache-dir', join(tmp, 'cache'), '--backend', 'gpu', '--allow-experimental']);
    expect(s.stderr()).toMatch(/demo index reused/);
    expect(s.stderr()).toMatch(/backend: gpu \(--allow-experimental: /);
    // Pipelines compiled for the default topk before the ready line, with a status line.
    expect(s.stderr()).toMatch(/compiling GPU pipelines for topk 3\.\.\.\n.*warm-up in +[\d.]+ s: GPU pipelines compiled for topk 3\n/);
    const gpu = (await client(s.url, 'contract')) as { ids: number[][]; scores: number[][] };
    expect(contractWasm).toBeDefined();
    expect(gpu.ids).toEqual(contractWasm!.ids);
    gpu.scores.flat().forEach((v, i) => expect(v).toBeCloseTo(contractWasm!.scores.flat()[i]!, 4));
    expect(await stop(s)).toBe(0);
  });
});
