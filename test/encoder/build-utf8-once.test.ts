/**
 * `tessera build` checks the corpus for bytes that are not UTF-8 once: as it encodes each row. The
 * scan that builds the offset table checked every byte a second time, for a result build never read.
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import '../../src/node.js';
import { buildIndex } from '../../src/encoder/build-index.js';
import { Encoder } from '../../src/encoder/index.js';
import { writeToyFolder } from './toy-model.js';

/** Bytes given to isUtf8 by the modules under test. */
const checked = vi.hoisted(() => ({ bytes: 0 }));
vi.mock('node:buffer', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:buffer')>();
  return {
    ...actual,
    isUtf8: (input: Parameters<typeof actual.isUtf8>[0]) => {
      checked.bytes += input.byteLength;
      return actual.isUtf8(input);
    },
  };
});

const root = mkdtempSync(join(tmpdir(), 'tessera-build-utf8-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('build: the UTF-8 check', () => {
  it('reads each corpus byte once, and still tells the rows that are not UTF-8', async () => {
    const model = writeToyFolder(join(root, 'toy-model'), 6);
    const corpus = join(root, 'corpus.jsonl');
    const rows = Array.from({ length: 30 }, (_, i) => Buffer.from(JSON.stringify({ id: String(i), contents: `the cat sat caf\u00e9 ${i}` }) + '\n', i === 7 ? 'latin1' : 'utf8'));
    writeFileSync(corpus, Buffer.concat(rows));
    const encoder = await Encoder.fromDirectory(model, { batchSize: 8 });
    try {
      const notes: string[] = [];
      checked.bytes = 0;
      const r = await buildIndex({ corpus, out: join(root, 'out'), encoder, batch: 8, say: (l) => notes.push(l) });
      expect(r.nonUtf8Rows).toEqual({ count: 1, first: [{ row: 7, line: 8 }] });
      expect(notes.filter((n) => n.includes('not valid UTF-8'))).toHaveLength(1);
      // The corpus once, plus the few bytes of build's own files (state.json, build.json) at most.
      expect(checked.bytes).toBeGreaterThanOrEqual(statSync(corpus).size);
      expect(checked.bytes).toBeLessThan(1.5 * statSync(corpus).size);
    } finally {
      await encoder.dispose();
    }
  });
});
