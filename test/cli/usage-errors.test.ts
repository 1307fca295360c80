/**
 * What a first-time user of the README's Command line section runs into: a misspelt required
 * option is named as the typo it is (built CLI, as `npx tessera` runs it), a texts file given to
 * search points to `tessera encode`, and search takes the --threads that `tessera info --threads`
 * plans for.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { listBenchmarks, repoRoot } from '../../src/cli/commands/bench.js';
import { register as registerBuild } from '../../src/cli/commands/build.js';
import { register as registerConvert } from '../../src/cli/commands/convert.js';
import { register as registerEncode } from '../../src/cli/commands/encode.js';
import { register as registerInfo } from '../../src/cli/commands/info.js';
import { register as registerSearch } from '../../src/cli/commands/search.js';
import { register as registerServe } from '../../src/cli/commands/serve.js';
import { indexFactory } from '../../src/core/factory.js';
import { inspectIndex } from '../../src/io/read-index.js';
import '../../src/node.js';
import { writeVectors } from '../../src/io/vectors.js';
import { runCommand } from '../helpers/cli.js';
import { gpuForTests } from '../helpers/gpu.js';

const readIndexOptions: Record<string, unknown>[] = [];
vi.mock('../../src/io/read-index.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../../src/io/read-index.js')>();
  return {
    ...actual,
    readIndex: (source: string, options: Record<string, unknown>) => {
      readIndexOptions.push(options);
      return actual.readIndex(source, options);
    },
  };
});

const CLI = resolve(import.meta.dirname, '../../dist/cli/main.js');
const d = 4;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-usage-'));
  const vectors = Float32Array.from({ length: 8 * d }, (_, i) => ((i * 7) % 11) - 5);
  const index = await indexFactory(d, 'Flat', 'ip', { backend: 'wasm' });
  await index.add(vectors);
  await index.save(join(dir, 'flat.index'));
  await index.dispose();
  await writeVectors(join(dir, 'q.npy'), vectors.subarray(0, 2 * d), d);
  writeFileSync(join(dir, 'questions.txt'), 'who wrote hamlet\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function tessera(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('built CLI: a misspelt required option', () => {
  it("convert --metric cosine is a parser error like any other option's: exit code 1, the option named, and cosine's way", () => {
    // It was a TesseraError from inside the parser: "tessera: --metric must be ip or l2, got "cosine" [INVALID_ARGUMENT]", exit code 2.
    const r = tessera('convert', '--in', 'flat.index', '--out', 'x.index', '--index-type', 'Flat', '--metric', 'cosine');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^error: option '--metric <ip\|l2>' argument 'cosine' is invalid\. --metric must be ip or l2 \(for cosine, L2-normalise the vectors and use ip\), got "cosine"\n/);
    expect(existsSync(join(dir, 'x.index'))).toBe(false);
  });

  it('an empty value (an unset shell variable) is named as empty, not as "file not found: "', async () => {
    const option = tessera('search', '--index', '', '--queries', 'q.npy');
    expect(option.status).toBe(1);
    expect(option.stderr).toMatch(/^error: option '--index <file>' is empty: give its value \(an unset shell variable\?\)\n/);
    // Unquoted, the variable vanishes and the next option became the value: "too many arguments for 'search'".
    const unquoted = tessera('search', '--index', '--queries', 'q.npy');
    expect(unquoted.status).toBe(1);
    expect(unquoted.stderr).toMatch(/^error: option '--index <file>' has no value: --queries follows it \(an unset shell variable\?\)\n/);
    const argument = tessera('info', '');
    expect(argument.status).toBe(2);
    expect(argument.stderr).toBe('tessera: cannot read an empty path: give a file path or a URL (an unset variable?) [INVALID_ARGUMENT]\n');
    await expect(inspectIndex('')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('empty path') });
  });

  it('is reported as unknown, with the option meant, not as the required one missing', () => {
    // Commander checks required options first: "--querys q.npy" said "required option '--queries <file>' not specified".
    expect(existsSync(CLI), `${CLI} is missing: run npm run build first (this test runs the built CLI)`).toBe(true);
    const typo = tessera('search', '--index', 'flat.index', '--querys', 'q.npy');
    expect(typo.status).toBe(1);
    expect(typo.stdout).toBe('');
    expect(typo.stderr).toMatch(/^error: unknown option '--querys'\n\(Did you mean --queries\?\)\n/);
    expect(typo.stderr).not.toContain('required option');
    // A required option really missing is still named, as before.
    const missing = tessera('search', '--queries', 'q.npy');
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/^error: required option '--index <file>' not specified\n\(run with --help for usage\)/);
    // --help needs none of them.
    expect(tessera('convert', '--help').status).toBe(0);
  });
});

describe('size options', () => {
  it('a size of 0 is a usage error naming the option (serve --body-limit 0 ended in a FastifyError stack trace)', async () => {
    const index = join(dir, 'flat.index');
    for (const [register, argv] of [
      [registerServe, ['serve', '--index', index, '--corpus', join(dir, 'c.jsonl'), '--model', dir, '--body-limit', '0']],
      [registerSearch, ['search', '--index', index, '--queries', join(dir, 'q.npy'), '--gpu-memory', '0KiB']],
      [registerConvert, ['convert', '--in', index, '--out', join(dir, 'x.index'), '--index-type', 'SQ8', '--shard-bytes', '0.0001']],
    ] as const) {
      const flag = argv[argv.length - 2]!;
      await expect(runCommand(register, [...argv]), flag).rejects.toThrow(new RegExp(`option '${flag} <size>' argument '[^']+' is invalid\\. must be a size of at least 1 byte`));
    }
    expect(existsSync(join(dir, 'x.index'))).toBe(false);
  });
});

describe('built CLI: search with no adapter', () => {
  it("says once that 'auto' runs on WASM, as README's CPU-only table shows", () => {
    const r = spawnSync(process.execPath, [CLI, 'search', '--index', 'flat.index', '--queries', 'q.npy', '-k', '2'], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 60_000,
      // The Vulkan loader finds no driver: Dawn loads but offers no adapter, as on a machine without a GPU.
      env: { ...process.env, VK_ICD_FILENAMES: '/nonexistent/none.json', VK_DRIVER_FILES: '/nonexistent/none.json' },
    });
    expect(r.status, r.stderr).toBe(0);
    const notices = r.stderr.split('\n').filter((l) => l.startsWith('tessera: ') && /WebGPU/.test(l));
    expect(notices).toEqual(['tessera: no usable WebGPU adapter: IndexFlatIP file flat.index runs on the WASM (CPU) backend']);
    expect(r.stdout).toMatch(/^query 0: 0 \(/m);
  });
});

describe('tessera search', () => {
  it('a texts file as --queries points to tessera encode', async () => {
    // It said only "cannot tell the vector format: name the file .npy (float32), .fvecs, or .f32".
    await expect(runCommand(registerSearch, ['search', '--index', join(dir, 'flat.index'), '--queries', join(dir, 'questions.txt')])).rejects.toThrow(
      /questions\.txt: search takes query vectors \(\.npy, \.fvecs or \.f32\), not texts: .*tessera encode --model DIR --texts .*questions\.txt --out q\.npy/,
    );
  });

  it('options the loaded index has no use for are said to be ignored (GPU options on wasm, --ef-search on Flat)', async () => {
    // --backend wasm --precision int8 --ef-search 64 searched as if neither had been given, without a word.
    const seen = { stderr: '' };
    await runCommand(registerSearch, ['search', '--index', join(dir, 'flat.index'), '--queries', join(dir, 'q.npy'), '--backend', 'wasm', '--precision', 'int8', '--gpu-memory', '8GiB', '--disable-robustness', '--ef-search', '64', '-k', '2'], seen);
    expect(seen.stderr).toContain('tessera: --ef-search does nothing for a Flat index (only HNSW indexes take it): ignored\n');
    expect(seen.stderr).toContain('tessera: --precision int8, --gpu-memory, --disable-robustness apply to the GPU backend, and this search runs on wasm: ignored\n');
    const quiet = { stderr: '' };
    await runCommand(registerSearch, ['search', '--index', join(dir, 'flat.index'), '--queries', join(dir, 'q.npy'), '--backend', 'wasm', '-k', '2'], quiet);
    expect(quiet.stderr).not.toContain('ignored');
  });

  it('--threads on a GPU search is said to be ignored (the wasm backend takes it)', async () => {
    if (!(await gpuForTests('search --threads on the gpu backend'))) return;
    const seen = { stderr: '' };
    await runCommand(registerSearch, ['search', '--index', join(dir, 'flat.index'), '--queries', join(dir, 'q.npy'), '--backend', 'gpu', '--threads', '2', '-k', '2'], seen);
    expect(seen.stderr).toContain('tessera: --threads applies to the wasm backend, and this search runs on gpu: ignored\n');
  });

  it('a query that is not finite fails before the index loads, naming the query file', async () => {
    // It failed at the search, after the load (minutes for a large index), as "queries contain NaN ...".
    const bad = Float32Array.from({ length: 2 * d }, (_, i) => (i === d + 1 ? NaN : i));
    await writeVectors(join(dir, 'nan.npy'), bad, d);
    readIndexOptions.length = 0;
    await expect(runCommand(registerSearch, ['search', '--index', join(dir, 'flat.index'), '--queries', join(dir, 'nan.npy'), '--backend', 'wasm'])).rejects.toThrow(
      /^queries in .*nan\.npy contain NaN at row 1, dimension 1: every value must be finite$/,
    );
    expect(readIndexOptions).toEqual([]);
  });

  it('a --dim that misreads a raw .f32 query file names --dim as the fix, not the model', async () => {
    // It said "encode the queries with the model that built the index" for queries that were right.
    await writeVectors(join(dir, 'q.f32'), Float32Array.from({ length: 4 * d }, (_, i) => i), d);
    await expect(runCommand(registerSearch, ['search', '--index', join(dir, 'flat.index'), '--queries', join(dir, 'q.f32'), '--dim', '8', '--backend', 'wasm'])).rejects.toThrow(
      /^queries in .*q\.f32 have dimension 8, but the index .*flat\.index has d=4: --dim 8 reads its raw floats as rows of 8: pass --dim 4, or leave --dim out/,
    );
    // A file with a header keeps the model fix.
    await writeVectors(join(dir, 'q8.npy'), new Float32Array(8), 8);
    await expect(runCommand(registerSearch, ['search', '--index', join(dir, 'flat.index'), '--queries', join(dir, 'q8.npy'), '--backend', 'wasm'])).rejects.toThrow(
      /have dimension 8, but the index .*has d=4: encode the queries with the model that built the index$/,
    );
    expect(await runCommand(registerSearch, ['search', '--index', join(dir, 'flat.index'), '--queries', join(dir, 'q.f32'), '--backend', 'wasm', '-k', '1'])).toMatch(/^query 3: /m);
  });

  it('--threads reaches the index, as tessera info --threads plans it', async () => {
    // search had no --threads: "unknown option '--threads'", while info's plan is "as search/serve would be given".
    readIndexOptions.length = 0;
    const seen = { stderr: '' };
    const out = await runCommand(registerSearch, ['search', '--index', join(dir, 'flat.index'), '--queries', join(dir, 'q.npy'), '--backend', 'wasm', '--threads', '1', '-k', '2', '--json'], seen);
    expect(readIndexOptions.map((o) => o.threads)).toEqual([1]);
    expect((JSON.parse(out) as { labels: number[][] }).labels).toHaveLength(2);
  });
});

describe('tessera bench', () => {
  it('lists only scripts that run: bench/bundle/measure.ts is a module the bundle test imports', () => {
    // `tessera bench bundle/measure` ran nothing and exited 0 without a word.
    const names = listBenchmarks(repoRoot()!).map((e) => e.name);
    expect(names).not.toContain('bundle/measure');
    expect(names).toEqual(expect.arrayContaining(['server', 'encoder/bench-encoder']));
  });
});

describe('--threads', () => {
  it.each([
    ['encode', registerEncode, ['--model', 'm', '--texts', 't.txt']],
    ['build', registerBuild, ['--corpus', 'c.jsonl', '--model', 'm', '--out', 'o']],
    ['serve', registerServe, ['--index', 'i', '--corpus', 'c.jsonl', '--model', 'm']],
    ['convert', registerConvert, ['--in', 'i', '--out', 'o', '--index-type', 'Flat']],
    ['search', registerSearch, ['--index', 'i', '--queries', 'q.npy']],
  ] as const)('%s refuses a count past the bound (256, or the cores of a bigger machine) as a bad value, saying why', async (command, register, args) => {
    // encode, build and serve took any count: --threads 100000 started a worker each until the process ran out of memory.
    await expect(runCommand(register, [command, ...args, '--threads', '100000'])).rejects.toThrow(/--threads must be an integer in \[1, \d+\] \(at most .*\), got "100000"/);
  });
});

describe('tessera info', () => {
  it('a --dim that contradicts an index file is refused, and --threads on a vector file is said to be ignored', async () => {
    // Both were ignored without a word (convert refuses such a --dim).
    await expect(runCommand(registerInfo, ['info', join(dir, 'flat.index'), '--dim', '5'])).rejects.toThrow(/flat\.index holds vectors of dimension 4, but --dim 5 was given: --dim is for raw \.f32 vector files; drop it/);
    expect(await runCommand(registerInfo, ['info', join(dir, 'flat.index'), '--dim', '4', '--json'])).toContain('"d":4');
    const seen = { stderr: '' };
    expect(await runCommand(registerInfo, ['info', join(dir, 'q.npy'), '--threads', '4'], seen)).toMatch(/^shape +2 x 4 float32$/m);
    expect(seen.stderr).toBe("tessera: --threads sizes an index file's wasm shard plan, and a vector file has none: ignored\n");
  });
});
