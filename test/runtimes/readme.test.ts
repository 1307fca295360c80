/**
 * README, section runtimes: its code is the examples the runtime tests execute, verbatim. Node's
 * and Deno's snippets are whole files (examples/node/quickstart.mjs, run by node-cpu-only.test.ts;
 * examples/deno/main.ts, run by deno.test.ts); the browser snippet is an excerpt of
 * examples/browser/main.ts, which browser.test.ts runs in Chromium.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
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
