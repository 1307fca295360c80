/**
 * README, section runtimes: its code is the examples the runtime tests execute, verbatim. Node's
 * and Deno's snippets are whole files (examples/node/quickstart.mjs, run by node-cpu-only.test.ts;
 * examples/deno/main.ts, run by deno.test.ts); the browser snippet is an excerpt of
 * examples/browser/main.ts, which browser.test.ts runs in Chromium. The Library, Index types and Files
 * sections' snippets run as written against the built package, given the data they name.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runChild } from './helpers/child.js';
import { repoRoot } from './helpers/package-build.js';

const read = (path: string) => readFileSync(join(repoRoot, path), 'utf8');

/** The text of README's `<!-- section: name -->` up to the next section marker. */
function section(name: string): string {
  const readme = read('README.md');
  const start = readme.indexOf(`<!-- section: ${name} -->`);
  expect(start, `README.md has no section ${name}`).toBeGreaterThanOrEqual(0);
  const end = readme.indexOf('<!-- section: ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

/** Fenced js/ts blocks of a markdown text. */
function codeBlocks(md: string): string[] {
  return [...md.matchAll(/^```(?:js|ts|javascript|typescript)\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

describe('README section runtimes', () => {
  const blocks = codeBlocks(section('runtimes'));

  it.each(['examples/node/quickstart.mjs', 'examples/deno/main.ts'])('includes %s verbatim, whole', (file) => {
    expect(blocks).toContain(read(file).trimEnd() + '\n');
  });

  it('has no js/ts block that is not an executed example (whole file, or an excerpt of the browser page)', () => {
    const files = ['examples/node/quickstart.mjs', 'examples/deno/main.ts'].map((f) => read(f).trimEnd() + '\n');
    const page = read('examples/browser/main.ts');
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    for (const block of blocks) {
      if (files.includes(block)) continue;
      expect(page, `README block is not in examples/browser/main.ts:\n${block}`).toContain(block);
    }
  });
});

describe('TypeScript examples', () => {
  // Against the published types (dist/*.d.ts from `npm run build`, which CI runs before the tests).
  const built = existsSync(join(repoRoot, 'dist/index.d.ts'));
  if (!built) console.warn('dist/index.d.ts missing: run `npm run build` to type-check examples/ against the published types');
  it.skipIf(!built && !process.env.CI)('type-check (npx tsc -p examples)', async () => {
    const out = await runChild(process.execPath, [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', 'examples'], repoRoot);
    expect(out.stdout + out.stderr).toBe('');
    expect(out.code).toBe(0);
  });
});

/** The text under a `## name` heading, up to the next `## ` heading. */
function underHeading(name: string): string {
  const readme = read('README.md');
  const start = readme.indexOf(`\n## ${name}\n`);
  expect(start, `README.md has no section ## ${name}`).toBeGreaterThanOrEqual(0);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

describe('README sections Library, Index types and Files: the snippets run as written', () => {
  // The snippets import 'tessera': a script inside the repository resolves it to the built package (dist/).
  const built = existsSync(join(repoRoot, 'dist/node.js'));
  const scripts = join(repoRoot, 'out', 'readme-snippets');
  let data: string;
  beforeAll(async () => {
    mkdirSync(scripts, { recursive: true });
    data = mkdtempSync(join(tmpdir(), 'tessera-readme-'));
    // What the Files snippet reads: a FAISS IndexFlatIP of 768-d vectors and a .npy of queries (rows 0..2).
    const { indexFactory, writeVectors } = await import('../../src/node.js');
    const vectors = Float32Array.from({ length: 500 * 768 }, (_, i) => Math.sin(i * 0.7) + ((i * 13) % 7) / 10);
    const index = await indexFactory(768, 'Flat', 'ip', { backend: 'wasm', threads: 1 });
    await index.add(vectors);
    await index.save(join(data, 'e5_Flat.index'));
    await index.dispose();
    await writeVectors(join(data, 'queries.npy'), vectors.subarray(0, 3 * 768), 768);
  });
  afterAll(() => rmSync(data, { recursive: true, force: true }));

  async function run(name: string, prelude: string, block: string, check: string): Promise<Record<string, unknown>> {
    const file = join(scripts, `${name}.mjs`);
    // The snippet's import first, then the data it assumes, the snippet, and one JSON line of what it got.
    const [imports, ...body] = block.split('\n');
    writeFileSync(file, [imports, prelude, ...body, `console.log('RESULT ' + JSON.stringify(${check}));`].join('\n'));
    const out = await runChild(process.execPath, [file], data, { VK_ICD_FILENAMES: '/nonexistent/none.json', VK_DRIVER_FILES: '/nonexistent/none.json' });
    expect(out.code, out.stderr).toBe(0);
    const line = out.stdout.split('\n').find((l) => l.startsWith('RESULT '));
    expect(line, out.stdout).toBeDefined();
    return JSON.parse(line!.slice('RESULT '.length)) as Record<string, unknown>;
  }

  it.skipIf(!built && !process.env.CI)('Library', async () => {
    const [block] = codeBlocks(underHeading('Library'));
    expect(block).toMatch(/^import \{ indexFactory \} from 'tessera';\n/);
    const prelude = 'const vectors = new Float32Array(1000 * 768).map((_, i) => Math.sin(i)); const queries = vectors.slice(0, 2 * 768);';
    const got = await run('library', prelude, block!, '{ first: Number(labels[0]), second: Number(labels[10]), n: labels.length, found: labels[0] !== -1n }');
    expect(got).toEqual({ first: 0, second: 1, n: 20, found: true });
  });

  it.skipIf(!built && !process.env.CI)('Index types', async () => {
    const [block] = codeBlocks(underHeading('Index types'));
    expect(block).toMatch(/^import \{ indexFactory, readIndex \} from 'tessera';\n/);
    // Exactly nlist (4096) training vectors are the centroids as given: no k-means to wait for.
    const prelude = [
      'const sample = new Float32Array(4096 * 768).map((_, i) => Math.sin(i * 0.37) + Math.cos(i * 0.011));',
      'const vectors = sample.slice(0, 600 * 768); const queries = vectors.slice(0, 3 * 768);',
    ].join(' ');
    const check = '{ first: [0, 10, 20].map((i) => Number(labels[i])), n: labels.length, again: again.ntotal, againFirst: Number((await again.search(queries, 1, { nprobe: 32 })).labels[0]), scored: distances[0] > distances[1] }';
    const got = await run('index-types', prelude, block!, check);
    expect(got).toEqual({ first: [0, 1, 2], n: 30, again: 600, againFirst: 0, scored: true });
  });

  it.skipIf(!built && !process.env.CI)('Files', async () => {
    const [block] = codeBlocks(underHeading('Files'));
    expect(block).toMatch(/^import \{ readIndex, writeIndex, inspectIndex, readVectors \} from 'tessera';\n/);
    const check = '{ type: info.type, ntotal: info.ntotal, n, d, first: Number(labels[0]), copied: fs.readFileSync("copy.index").equals(fs.readFileSync("e5_Flat.index")) }';
    const got = await run('files', "import fs from 'node:fs';", block!, check);
    expect(got).toEqual({ type: 'IndexFlatIP', ntotal: 500, n: 3, d: 768, first: 0, copied: true });
  });
});
