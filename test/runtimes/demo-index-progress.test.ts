/**
 * The browser example's index builder (examples/browser/build-index.mjs) on a corpus larger than
 * the demo's, as TESSERA_DEMO_DIR allows: it says how far encoding is while it runs, not only when done.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script (no types), shared with the command line.
import { buildDemoIndex } from '../../examples/browser/build-index.mjs';
import * as tessera from '../../src/node.js';
import { repoRoot } from './helpers/package-build.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-demo-progress-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('reports progress every 16384 rows, then the total', async () => {
  const rows = 16384 + 100;
  const corpus = join(dir, 'corpus.jsonl');
  writeFileSync(corpus, Array.from({ length: rows }, (_, i) => JSON.stringify({ id: String(i), contents: `a book ${i % 97}` })).join('\n') + '\n');
  const lines: string[] = [];
  await buildDemoIndex(tessera, corpus, join(repoRoot, 'assets/demo/model'), join(dir, 'demo.faiss'), (line: string) => lines.push(line));
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatch(/^demo index: 16384 of 16484 rows encoded \(\d+\.\d s\)$/);
  expect(lines[1]).toMatch(/^demo index: 16484 x 100 encoded in /);
  expect((await tessera.inspectIndex(join(dir, 'demo.faiss'))).ntotal).toBe(rows);
}, 120_000);
