/**
 * The published package as a new user meets it: what `npm pack` puts in the tarball (from a built
 * checkout and from one never built), the types a TypeScript project compiles against
 * (moduleResolution node16 and bundler, skipLibCheck off, no @webgpu/types of its own), and the
 * installed CLI: every command's --help, and the way from text to a search; and what `npm start`
 * builds in a checkout.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runChild } from './helpers/child.js';
import { type BuiltPackage, buildPackage, repoRoot } from './helpers/package-build.js';

let pkg: BuiltPackage;

/**
 * `npm pack` in a copy of the checkout that was never built (its prepack builds dist/), the tarball
 * unpacked. Its dist/ is the package the other tests take (the same tsup config; building it a
 * second time was half of this file's time); the prepack test checks the pack itself.
 */
interface UnbuiltPack {
  code: number | null;
  stderr: string;
  /** The tarball's paths. */
  list: string[];
  /** The unpacked tarball's dist/, when the pack made one. */
  dist?: string;
}
const unbuiltDir = mkdtempSync(join(tmpdir(), 'tessera-unbuilt-'));
async function packUnbuilt(): Promise<UnbuiltPack> {
  const dir = unbuiltDir;
  for (const entry of ['package.json', 'tsconfig.json', 'tsup.config.ts', 'README.md', 'scripts', 'src', 'native', 'shaders', 'assets']) {
    cpSync(join(repoRoot, entry), join(dir, entry), { recursive: true });
  }
  symlinkSync(join(repoRoot, 'node_modules'), join(dir, 'node_modules'));
  const packed = await runChild('npm', ['pack', '--pack-destination', dir], dir, {}, 300_000);
  const tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'));
  if (packed.code !== 0 || !tarball) return { code: packed.code, stderr: packed.stderr, list: [] };
  const list = (await runChild('tar', ['tzf', join(dir, tarball)], dir)).stdout.split('\n');
  const out = join(dir, 'unpacked');
  mkdirSync(out);
  const unpacked = await runChild('tar', ['xzf', join(dir, tarball), '-C', out], dir);
  return { code: packed.code, stderr: packed.stderr, list, dist: unpacked.code === 0 && list.includes('package/dist/node.js') ? join(out, 'package/dist') : undefined };
}
let unbuilt: UnbuiltPack;

beforeAll(async () => {
  unbuilt = await packUnbuilt();
  // Without the pack's dist/ (the prepack test fails then), the other tests build one of their own.
  pkg = await buildPackage({ dts: true, dist: unbuilt.dist });
}, 540_000);
afterAll(() => {
  pkg?.cleanup();
  rmSync(unbuiltDir, { recursive: true, force: true });
});

interface PackedFile {
  path: string;
  size: number;
  mode: number;
}

async function packedFiles(): Promise<PackedFile[]> {
  const out = await runChild('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], pkg.dir);
  expect(out.code, out.stderr).toBe(0);
  return (JSON.parse(out.stdout) as { files: PackedFile[] }[])[0]!.files;
}

describe('npm pack', () => {
  it('ships what the runtime loads and nothing of the repository besides', async () => {
    const files = await packedFiles();
    const paths = files.map((f) => f.path);
    const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
      bin: Record<string, string>;
      exports: Record<string, unknown>;
    };
    // Every file the exports map and bin name (the JSON's leaves), and the demo's assets.
    const targets = JSON.stringify(manifest.exports).match(/"\.\/[^"]+"/g)!.map((t) => t.slice(3, -1));
    for (const target of [...targets, ...Object.values(manifest.bin).map((b) => b.replace(/^\.\//, ''))]) {
      if (target !== '.') expect(paths, target).toContain(target);
    }
    expect(paths).toEqual(expect.arrayContaining(['dist/node.d.ts', 'dist/index.d.ts', 'assets/demo/corpus.jsonl', 'assets/demo/model/model.onnx', 'README.md']));
    expect(paths.filter((p) => /^(test|bench|src|out|scripts|examples|\.cache|node_modules)\//.test(p) || p.endsWith('.tgz'))).toEqual([]);
    // The largest file is the demo model (2.6 MB); the whole package stays a small download.
    expect(files.filter((f) => f.size > 4e6).map((f) => f.path)).toEqual([]);
    expect(files.reduce((sum, f) => sum + f.size, 0)).toBeLessThan(10e6);
  });

  it('bundles no dependency or dev dependency into dist (they resolve from node_modules)', () => {
    const dist = join(pkg.dir, 'dist');
    const scripts = readdirSync(dist, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js'));
    expect(scripts).toContain('index.js');
    // esbuild marks the code of each bundled package file with a "// node_modules/<path>" line.
    const bundled = scripts.flatMap((f) => [...readFileSync(join(dist, f), 'utf8').matchAll(/^\/\/ (node_modules\/\S+)/gm)].map((m) => `${f}: ${m[1]}`));
    expect(bundled).toEqual([]);
  });

  it('has an executable bin with a node shebang', async () => {
    const cli = readFileSync(join(pkg.dir, 'dist/cli/main.js'), 'utf8');
    expect(cli.split('\n')[0]).toBe('#!/usr/bin/env node');
    const packed = (await packedFiles()).find((f) => f.path === 'dist/cli/main.js');
    expect((packed!.mode & 0o111).toString(8)).toBe('111');
  });
});

describe('npm pack in a checkout that was never built', () => {
  it('builds first (prepack): the tarball has dist/, its types and its bin', () => {
    // Without prepack, "files" silently skipped the missing dist/: a tarball of assets and sources only.
    // The pack ran in beforeAll (packUnbuilt), its dist/ serving the other tests.
    expect(unbuilt.code, unbuilt.stderr).toBe(0);
    expect(unbuilt.list).toEqual(expect.arrayContaining(['package/dist/cli/main.js', 'package/dist/node.js', 'package/dist/index.js', 'package/dist/node.d.ts']));
  });
});

describe('npm start in a checkout', () => {
  it('builds the JavaScript the demo runs, not the declarations (npm run build and the pack write those)', async () => {
    // Through `npm run build`, npm start spent ~30 s on declarations the demo never reads. The
    // checkout is the pack's (its prepack left a full dist/); `demo --help` ends right after the
    // build: what npm start built runs, and no server starts.
    const out = await runChild('npm', ['start', '--silent', '--', '--help'], unbuiltDir, {}, 120_000);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toContain('Usage: tessera demo');
    const built = readdirSync(join(unbuiltDir, 'dist'), { recursive: true, encoding: 'utf8' });
    expect(built).toEqual(expect.arrayContaining(['cli/main.js', 'node.js', 'index.js']));
    expect(built.filter((f) => f.endsWith('.d.ts'))).toEqual([]);
  }, 150_000);
});

/** Compiles `source` in a project of its own beside the consumer, with `compilerOptions`. */
async function compile(name: string, source: string, compilerOptions: Record<string, unknown>): Promise<string> {
  const dir = join(pkg.consumer, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'main.ts'), source);
  const tsconfig = { compilerOptions: { strict: true, noEmit: true, skipLibCheck: false, target: 'ES2022', ...compilerOptions }, files: ['main.ts'] };
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(tsconfig));
  const out = await runChild(process.execPath, [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', dir], dir);
  return (out.stdout + out.stderr).trim();
}

/** Uses every public type by name, so a type that is missing from the declarations fails to compile. */
const UNIVERSAL = `
import {
  indexFactory, readIndex, registerIndexType, installPlatform, shardedIndex, memorySource, TesseraError,
  type Index, type IndexOptions, type IndexSpec, type IndexKind, type IndexConstructor, type IndexLoader,
  type SearchResult, type SearchOptions, type Metric, type Backend, type BackendChoice, type ByteSource, type ByteSink,
  type PlatformHooks, type FileSystemHooks, type ShardedIndex, type ShardOptions, type HnswGraph, type ErrorCode, type RowsInput,
  urlSource, blobSource, memorySink, type UrlSource, type UrlSourceOptions, type MemorySink, type BlobLike, type SourceInput,
} from 'tessera';

const options: IndexOptions = { backend: 'wasm', onNotice: (m: string) => console.log(m) };
const index: Index = await indexFactory(8, 'Flat', 'ip', options);
const result: SearchResult = await index.search(new Float32Array(8), 1, {} satisfies SearchOptions);
const loaded: Index = await readIndex(memorySource(new Uint8Array(0)), { backend: 'auto' });
const remote: UrlSource = await urlSource('https://example.org/x.index', { headers: { authorization: 'x' } } satisfies UrlSourceOptions);
const inputs: SourceInput[] = [new Uint8Array(0), new ArrayBuffer(0), new URL('https://example.org/x.index'), remote, blobSource({ size: 0, slice: () => ({ arrayBuffer: async () => new ArrayBuffer(0) }), arrayBuffer: async () => new ArrayBuffer(0) } satisfies BlobLike)];
const saved: MemorySink = memorySink();
await index.save(saved);
const savedBytes: Uint8Array<ArrayBuffer> = saved.bytes();
const sharded: ShardedIndex = shardedIndex(8, 'SQ8', 'ip', { shardBytes: 1 << 20 } satisfies ShardOptions);
const create: IndexConstructor = (d, spec: IndexSpec, metric: Metric) => indexFactory(d, spec.kind === 'flat' ? 'Flat' : 'SQ8', metric);
const load: IndexLoader = (source: ByteSource) => readIndex(source);
const kind: IndexKind = 'flat';
registerIndexType('wasm' satisfies Backend, kind, { create, load });
const fs: FileSystemHooks = { openRead: async () => memorySource(new Uint8Array(0)), openWriteAtomic: async () => ({}) as ByteSink };
const hooks: PlatformHooks = { fs, cpuCount: () => 1 };
installPlatform(hooks);
const choice: BackendChoice = 'auto';
const code: ErrorCode | undefined = new TesseraError('FORMAT', 'x').code;
const graph: HnswGraph | undefined = undefined;
const rows: RowsInput = [new Float32Array(8)];
console.log(result.labels, loaded, sharded, choice, code, graph, rows, inputs, savedBytes);
`;

describe('the published types', () => {
  it('compile for Node (moduleResolution node16): the node entry, its file helpers included', async () => {
    // The consumer's own @types/node, as a Node project has; no @webgpu/types.
    mkdirSync(join(pkg.consumer, 'node_modules/@types'), { recursive: true });
    symlinkSync(join(repoRoot, 'node_modules/@types/node'), join(pkg.consumer, 'node_modules/@types/node'));
    const source = `${UNIVERSAL}
import { openFileSource, openAtomicFileSink, loadOnnxRuntimeNode } from 'tessera';
const file: ByteSource = await openFileSource('index.faiss');
const sink = await openAtomicFileSink('out.faiss');
await sink.abort();
console.log(file, await loadOnnxRuntimeNode());
`;
    const errors = await compile('node16', source, { module: 'node16', moduleResolution: 'node16', lib: ['ES2022'], types: ['node'] });
    // onnxruntime-web's types (the encoder's runtime, in tessera's) name DOM types such as ImageData
    // in its own files; a Node project without the DOM lib sees those, and only those.
    expect(errors.split('\n').filter((l) => l && !l.includes('node_modules/onnxruntime-common/'))).toEqual([]);
  }, 60_000);

  it("compile for a Node app on moduleResolution bundler with customConditions ['node'] (README, section runtimes)", async () => {
    const source = `import { openFileSource, indexFactory } from 'tessera';\nconsole.log(await openFileSource('x'), indexFactory);\n`;
    expect(await compile('bundler-node', source, { module: 'ESNext', moduleResolution: 'bundler', customConditions: ['node'], lib: ['ES2022', 'DOM'], types: [] })).toBe('');
  }, 60_000);

  it('compile for a browser app (moduleResolution bundler, DOM lib, no @types at all)', async () => {
    const source = `${UNIVERSAL}\nconst gpu: IndexOptions['gpu'] = undefined; console.log(gpu);\n`;
    expect(await compile('bundler', source, { module: 'ESNext', moduleResolution: 'bundler', lib: ['ES2022', 'DOM'], types: [] })).toBe('');
  }, 60_000);
});

describe('the installed CLI', () => {
  const tessera = (args: string[], cwd = pkg.consumer) => runChild(process.execPath, [join(pkg.dir, 'dist/cli/main.js'), ...args], cwd);

  it('answers --help for every command, bench included, with exit code 0', async () => {
    const top = await tessera(['--help']);
    expect(top.code, top.stderr).toBe(0);
    const commands = [...top.stdout.matchAll(/^ {2}(\w+) \[/gm)].map((m) => m[1]!).filter((c) => c !== 'help');
    expect(commands).toEqual(expect.arrayContaining(['info', 'search', 'serve', 'demo', 'encode', 'build', 'convert', 'bench']));
    for (const command of commands) {
      const out = await tessera([command, '--help']);
      expect(out.code, `${command} --help: ${out.stderr}`).toBe(0);
      expect(out.stdout).toMatch(new RegExp(`^usage: tessera ${command}`, 'im'));
    }
  });

  it("does not run the benchmarks of the project that installed it (its own bench/ is not in the package)", async () => {
    // The folder above the package stands for the user's project: a package.json and a bench/ of its own.
    const project = join(pkg.dir, '..');
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'my-app', private: true }));
    mkdirSync(join(project, 'bench/mine'), { recursive: true });
    writeFileSync(join(project, 'bench/mine/bench.mjs'), "/** The app's own benchmark. */\nconsole.log('my-app bench ran');\n");
    const list = await tessera(['bench']);
    expect(list.stdout).not.toMatch(/mine/);
    expect(list.stderr).toMatch(/run from a checkout of the tessera repository.*\[UNSUPPORTED\]/);
    expect(list.code).toBe(2);
    const run = await tessera(['bench', 'mine']);
    expect(run.stdout).not.toMatch(/my-app bench ran/);
    expect(run.code).toBe(2);
  });
});

describe("the installed CLI, a new user's first hour: text to an index, queries to vectors, a search", () => {
  const tessera = (args: string[]) => runChild(process.execPath, [join(pkg.dir, 'dist/cli/main.js'), ...args], pkg.consumer);

  it('build -> encode --out q.npy -> search finds each query text in its own row', async () => {
    const rows = readFileSync(join(pkg.dir, 'assets/demo/corpus.jsonl'), 'utf8').split('\n').slice(0, 40);
    writeFileSync(join(pkg.consumer, 'first-hour.jsonl'), rows.join('\n') + '\n');
    const model = join(pkg.dir, 'assets/demo/model');
    const common = ['--model', model, '--encoder', 'wasm', '--threads', '1'];
    const built = await tessera(['build', '--corpus', 'first-hour.jsonl', '--out', 'first-hour', ...common]);
    expect(built.code, built.stderr).toBe(0);

    // Row 3's and row 17's text as queries: with the demo model (no prefixes) each is its own passage.
    const texts = [3, 17].map((i) => (JSON.parse(rows[i]!) as { contents: string }).contents);
    writeFileSync(join(pkg.consumer, 'first-hour.json'), JSON.stringify(texts));
    const encoded = await tessera(['encode', '--texts', 'first-hour.json', '--out', 'first-hour.npy', ...common]);
    expect(encoded.code, encoded.stderr).toBe(0);
    expect(encoded.stdout).toBe('');
    expect(encoded.stderr).toMatch(/wrote 2 x 100 vectors to first-hour\.npy/);

    const found = await tessera(['search', '--index', 'first-hour/Flat.index', '--queries', 'first-hour.npy', '-k', '3', '--backend', 'wasm', '--json']);
    expect(found.code, found.stderr).toBe(0);
    const { labels } = JSON.parse(found.stdout) as { labels: number[][] };
    expect(labels.map((l) => l[0])).toEqual([3, 17]);
  }, 120_000);

  it('encode --out with a name that is no vector format fails before loading the model', async () => {
    const out = await tessera(['encode', '--model', 'no-such-model', '--texts', 'no-such.txt', '--out', 'q.json']);
    expect(out.code).toBe(2);
    expect(out.stderr).toMatch(/--out q\.json: name the file \.npy, \.fvecs or \.f32 .*\[INVALID_ARGUMENT\]/);
  });
});

describe('npx tessera demo, from the installed package', () => {
  it("caches its index in the package's .cache/demo and answers the request it prints as README says", async () => {
    const child = spawn(process.execPath, [join(pkg.dir, 'dist/cli/main.js'), 'demo', '--port', '0', '--backend', 'wasm', '--threads', '1'], {
      cwd: pkg.consumer,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (b: Buffer) => (output += b.toString()));
    child.stderr.on('data', (b: Buffer) => (output += b.toString()));
    try {
      // The request it asks the user to paste: "curl -s URL/retrieve ... -d '{...}'".
      const pasted = await new Promise<RegExpExecArray>((ok, fail) => {
        const timer = setTimeout(() => fail(new Error(`tessera demo not ready after 90 s:\n${output}`)), 90_000);
        const check = () => {
          const m = /curl -s (http:\/\/\S+\/retrieve) .* -d '(\{.*\})'/.exec(output);
          if (m) (clearTimeout(timer), ok(m));
        };
        child.stdout.on('data', check);
        child.stderr.on('data', check);
        child.once('exit', (code) => (clearTimeout(timer), fail(new Error(`tessera demo exited (${code}):\n${output}`))));
      });
      expect(output).toContain(`cached in ${join(pkg.dir, '.cache', 'demo')}`);
      const res = await fetch(pasted[1]!, { method: 'POST', headers: { 'content-type': 'application/json' }, body: pasted[2] });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { result: { document: { id: string; contents: string }; score: number }[][] };
      // README, section demo: which answers {"result":[[{"document":{"id":"1661","contents":"\"Library\"\na room where books are kept"},"score":0.89}, ...]]}
      const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
      const claimed = /which answers `(\{"result":\[\[\{.*?"score":[\d.]+\})/.exec(readme)![1]!;
      const first = JSON.parse(claimed.replace(/^\{"result":\[\[/, '')) as { document: { id: string; contents: string }; score: number };
      expect(body.result[0]![0]!.document).toEqual(first.document);
      expect(body.result[0]![0]!.score).toBeCloseTo(first.score, 2);
    } finally {
      child.kill('SIGTERM');
      await new Promise((ok) => (child.exitCode !== null ? ok(undefined) : child.once('exit', ok)));
    }
  }, 120_000);
});
