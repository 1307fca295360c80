/**
 * The built CLI (dist/cli/main.js, as `npx tessera` runs it) on files FAISS wrote: `info`, and
 * `search` on the wasm and gpu backends returning FAISS's ids; errors are one line on stderr naming
 * the fix, with a non-zero exit code.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/node.js';
import { writeVectors } from '../../src/io/vectors.js';
import { defaultAdapterIsSoftware, gpuForTests } from '../helpers/gpu.js';
import { type FlatFixtures, makeFlatFixtures, removeFlatFixtures, readF32 } from '../io/faiss-python.js';

const CLI = resolve(import.meta.dirname, '../../dist/cli/main.js');

let fx: FlatFixtures;
beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first (this test runs the built CLI)`);
  fx = makeFlatFixtures();
});
afterAll(() => removeFlatFixtures(fx));

interface Run {
  status: number | null;
  stdout: string;
  /** stderr without Dawn's own "Warning: ..." lines about adapter limits. */
  stderr: string;
}

function tessera(...args: string[]): Run {
  const r = spawnSync(process.execPath, [CLI, ...args], { cwd: fx.dir, encoding: 'utf8', timeout: 90_000 });
  const stderr = r.stderr
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('Warning: '))
    .join('\n');
  return { status: r.status, stdout: r.stdout, stderr };
}

/** Runs a command expected to fail: exit != 0 and exactly one stderr line matching every pattern. */
function expectFailure(args: string[], ...patterns: RegExp[]): string {
  const r = tessera(...args);
  expect(r.status, r.stderr).not.toBe(0);
  expect(r.stdout).toBe('');
  const lines = r.stderr.split('\n').filter((l) => !l.startsWith('tessera: loading') && !/^\(run with --help/.test(l));
  expect(lines, r.stderr).toHaveLength(1);
  for (const re of patterns) expect(lines[0]).toMatch(re);
  return lines[0]!;
}

describe('tessera --version', () => {
  it("prints the installed package's version (package.json)", () => {
    const r = tessera('--version');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe((JSON.parse(readFileSync(resolve(import.meta.dirname, '../../package.json'), 'utf8')) as { version: string }).version);
  });
});

describe('tessera info', () => {
  it('describes a FAISS IndexFlatIP from its header', async () => {
    const r = tessera('info', 'clustered768_ip.index');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^type +IndexFlatIP \(fourcc IxFI, factory "Flat"\)$/m);
    expect(r.stdout).toMatch(/^d +768$/m);
    expect(r.stdout).toMatch(/^ntotal +300$/m);
    expect(r.stdout).toMatch(/^metric +inner product \(ip\)$/m);
    expect(r.stdout).toMatch(/^bytes +900\.0 KiB \(921645\)$/m);
    expect(r.stdout).toMatch(/^backends +gpu \(.*\), wasm \(available\)$/m);
    // A software renderer (CI's lavapipe) is named: 'auto' searches on wasm there.
    if (await defaultAdapterIsSoftware()) expect(r.stdout).toMatch(/^backends +gpu \(available with --backend gpu \(the only WebGPU adapter is a software renderer on the CPU \(.+\), slower than WASM: --backend auto uses wasm\)\), wasm \(available\)$/m);
    // int8 loaded from a path re-ranks from the file (rerankFrom 'file'): no f32 copy on the host.
    expect(r.stdout).toMatch(/^gpu storage +f32 900\.0 KiB, f16 450\.0 KiB, int8 225\.0 KiB \(re-ranked against this file's f32 rows, read by offset\)$/m);
    // The tensor cores' planes an inner-product index takes with --allow-experimental (f32 1.5x, f16 0.75x f32).
    expect(r.stdout).toMatch(/^gpu planes +with --allow-experimental on a GPU with subgroup matrices, where the memory holds them: f32 \+ 450\.0 KiB digit planes, f16 \+ 225\.0 KiB code plane \(--no-digit-planes leaves them out\)$/m);
  });

  it('--json for an IndexFlatL2 and a vector file', () => {
    const r = tessera('info', 'odd3_l2.index', '--json');
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ type: 'IndexFlatL2', d: 3, ntotal: 257, metric: 'l2', bytes: 3129, backends: ['gpu', 'wasm'] });
    // Rows padded to a 16-byte word on the GPU at every precision (d 3: not 12 / 6 / 3 bytes), no planes for L2.
    expect(JSON.parse(r.stdout).gpuStorageBytes).toEqual({ f32: 257 * 16, f16: 257 * 16, int8: 257 * 16 });
    const v = tessera('info', 'q.npy', '--json');
    expect(JSON.parse(v.stdout)).toMatchObject({ format: 'npy', n: 7, d: 5 });
  });
});

describe.each(['wasm', 'gpu'] as const)('tessera search --backend %s', (backend) => {
  let run = true;
  beforeAll(async () => {
    if (backend === 'gpu') run = await gpuForTests('tessera search --backend gpu');
  });

  it.each(['ip', 'l2'] as const)('FAISS-written clustered768 %s: FAISS ids, --json', (metric) => {
    if (!run) return;
    const set = fx.sets.clustered768!;
    const r = tessera('search', '--index', set.indexes[metric].file, '--queries', 'clustered768.queries.f32', '-k', String(fx.k), '--backend', backend, '--json');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`8 queries, k=10, on ${backend} \\(Flat, 300 vectors, d=768, ${metric}\\)`));
    const out = JSON.parse(r.stdout) as { labels: number[][]; distances: number[][] };
    expect(Object.keys(out)).toEqual(['labels', 'distances']);
    expect(out.labels).toEqual(set.indexes[metric].labels);
    out.distances.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(set.indexes[metric].distances[i]![j]!, 2)));
  });

  it('--allow-experimental: the same ids as without (here the portable kernels; tensor cores where the adapter has them)', () => {
    if (!run) return;
    const set = fx.sets.clustered768!;
    for (const precision of ['int8', 'f16']) {
      const search = (...extra: string[]): { labels: number[][]; stderr: string } => {
        const r = tessera('search', '--index', set.indexes.ip.file, '--queries', 'clustered768.queries.f32', '-k', String(fx.k), '--backend', backend, '--precision', precision, '--json', ...extra);
        expect(r.status, r.stderr).toBe(0);
        return { labels: (JSON.parse(r.stdout) as { labels: number[][] }).labels, stderr: r.stderr };
      };
      const plain = search().labels;
      expect(plain).toHaveLength(8);
      const experimental = search('--allow-experimental');
      expect(experimental.labels).toEqual(plain);
      // The index says what the flag gives it (the GPU backend; WASM ignores the flag), on stderr
      // of the same run (a third process a precision, for the text output, said the same).
      const said = experimental.stderr;
      // In the CLI's words: its flag, not the library's allowExperimental.
      if (backend === 'gpu') expect(said).toMatch(/--allow-experimental: (.* offer\(s\) no chromium-experimental-subgroup-matrix; the portable kernels run|(int8|f16|f32) batches of \d+\+ queries on the (int8 )?tensor cores)/);
      else expect(said).not.toMatch(/--allow-experimental: /);
      expect(said).not.toMatch(/allowExperimental/);
    }
  });

  it('.npy and .fvecs queries, k > ntotal padded with -1 / null, text output', async () => {
    if (!run) return;
    const set = fx.sets.odd3!;
    const queries = readF32(join(fx.dir, 'odd3.queries.f32')).subarray(0, 2 * 3);
    await writeVectors(join(fx.dir, `q2-${backend}.npy`), queries, 3);
    await writeVectors(join(fx.dir, `q2-${backend}.fvecs`), queries, 3);
    for (const file of [`q2-${backend}.npy`, `q2-${backend}.fvecs`]) {
      const r = tessera('search', '--index', 'odd3_ip.index', '--queries', file, '-k', '260', '--backend', backend, '--json');
      expect(r.status, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as { labels: number[][]; distances: (number | null)[][] };
      expect(out.labels).toHaveLength(2);
      expect(out.labels[1]!.slice(0, fx.k)).toEqual(set.indexes.ip.labels[1]);
      expect(out.labels[1]!.slice(257)).toEqual([-1, -1, -1]);
      expect(out.distances[1]!.slice(257)).toEqual([null, null, null]);
    }
    const text = tessera('search', '--index', 'odd3_ip.index', '--queries', `q2-${backend}.npy`, '-k', '3', '--backend', backend);
    expect(text.status, text.stderr).toBe(0);
    const lines = text.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^# best first; score = inner product/);
    expect(lines[1]).toMatch(new RegExp(`^query 0: ${set.indexes.ip.labels[0]!.slice(0, 3).map((l) => `${l} \\(\\S+\\)`).join('  ')}$`));
    expect(lines).toHaveLength(3);
  });
});

describe('tessera errors: one line naming the fix, exit != 0', () => {
  it('missing index file', () => {
    expectFailure(['search', '--index', 'nope.index', '--queries', 'q.npy'], /^tessera: file not found: nope\.index \(relative to the current folder, .+\): check the path \[NOT_FOUND\]$/);
  });

  it('queries of another dimension than the index', () => {
    expectFailure(['search', '--index', 'odd3_ip.index', '--queries', 'q.npy'], /queries in q\.npy have dimension 5, but the index odd3_ip\.index has d=3: encode the queries with the model that built the index \[INVALID_ARGUMENT\]/);
  });

  it('a truncated index file names the byte offset', () => {
    const bytes = readFileSync(join(fx.dir, 'random100_ip.index'));
    writeFileSync(join(fx.dir, 'cut.index'), bytes.subarray(0, 45 + 400 * 10 + 7));
    expectFailure(['search', '--index', 'cut.index', '--queries', 'random100.queries.f32', '--backend', 'wasm'], /cut\.index: truncated: expected 1000 rows .* from byte offset 45 .* ends at byte 4052 .*\[FORMAT\]$/);
    expectFailure(['info', 'cut.index'], /\[FORMAT\]$/);
  });

  it('a raw .f32 whose size does not fit --dim', () => {
    expectFailure(['search', '--index', 'odd3_ip.index', '--queries', 'q.f32', '--dim', '3'], /q\.f32: size 140 bytes is not a whole number of rows of 3 float32.*check --dim.*\[FORMAT\]$/);
  });

  it('bad option values are refused by the parser, naming the option', () => {
    expectFailure(['search', '--index', 'odd3_ip.index', '--queries', 'odd3.queries.f32', '-k', '0'], /-k must be an integer in \[1, /);
    expectFailure(['search', '--index', 'odd3_ip.index', '--queries', 'odd3.queries.f32', '--backend', 'cuda'], /--backend <b>' argument 'cuda' is invalid\. Allowed choices are auto, gpu, wasm/);
    expectFailure(['search', '--queries', 'odd3.queries.f32'], /required option '--index <file>' not specified/);
  });

  it('a folder where a file is expected: one line and exit code 2, not a stack', () => {
    expectFailure(['info', '.'], /folder|directory/i, /\[[A-Z_]+\]$/);
    expect(tessera('search', '--index', '.', '--queries', 'q.f32').status).toBe(2);
    const model = resolve(import.meta.dirname, '../../assets/demo/model');
    expectFailure(['encode', '--model', model, '--texts', '.'], /^tessera: --texts \. is a folder: pass a \.json, \.jsonl or \.txt file \[INVALID_ARGUMENT\]$/);
    // A file system error no reader translates (a demo asset that is a folder, read whole) gets the same one line.
    mkdirSync(join(fx.dir, 'assets-folder', 'corpus.jsonl'), { recursive: true });
    mkdirSync(join(fx.dir, 'assets-folder', 'model'), { recursive: true });
    expectFailure(['demo', '--assets', 'assets-folder', '--cache-dir', 'demo-cache', '--port', '0'], /^tessera: a folder was given where a file is expected: pass the file \(read\) \[EISDIR\]$/);
  });

  it('build: a corpus that is not there fails before the model loads', () => {
    const model = resolve(import.meta.dirname, '../../assets/demo/model');
    expectFailure(['build', '--corpus', 'no-such.jsonl', '--model', model, '--out', 'built'], /^tessera: corpus file not found: no-such\.jsonl \[NOT_FOUND\]$/);
  });

  it('a metric tessera does not serve', () => {
    expectFailure(['info', 'l1.index'], /metric L1 .*not supported.*\[UNSUPPORTED\]$/);
  });
});

describe('tessera bench', () => {
  it('lists the benchmarks in bench/ and refuses an unknown one', () => {
    const r = tessera('bench');
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^usage: tessera bench <name> \[args\.\.\.\]/);
    expectFailure(['bench', 'no-such-bench'], /no benchmark named "no-such-bench": run tessera bench to list them .*\[NOT_FOUND\]$/);
  });
});
