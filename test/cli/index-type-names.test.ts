/**
 * `tessera build` and `tessera convert` name files and report the index type as FAISS spells it
 * (factoryDescription): `--index-type "IVF8, SQ8"` named the build's file `IVF8, SQ8.index` (a space
 * in a path a user then types) and convert reported the string as typed.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/node.js';
import { convertIndex } from '../../src/cli/commands/convert.js';
import { buildIndex } from '../../src/encoder/build-index.js';
import type { TextEncoder } from '../../src/encoder/types.js';

const root = mkdtempSync(join(tmpdir(), 'tessera-index-type-names-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A 4-d encoder that is only arithmetic on the row's number. */
const encoder: TextEncoder = {
  dim: 4,
  name: 'arithmetic',
  async encode(texts) {
    const out = new Float32Array(texts.length * 4);
    texts.forEach((t, i) => {
      const n = Number(t);
      out.set([Math.sin(n), Math.cos(n), Math.sin(n / 7), Math.cos(n / 13)], i * 4);
    });
    return out;
  },
  async dispose() {},
};

describe('--index-type as typed, with spaces', () => {
  it('build names the file and build.json after the normalised type', async () => {
    const corpus = join(root, 'corpus.jsonl');
    writeFileSync(corpus, Array.from({ length: 64 }, (_, i) => JSON.stringify({ id: String(i), contents: String(i) })).join('\n') + '\n');
    const out = join(root, 'out');
    const r = await buildIndex({ corpus, out, encoder, indexType: ' IVF8, SQ8', say: () => {} });
    expect(r.index).toBe(join(out, 'IVF8,SQ8.index'));
    expect(r.indexType).toBe('IVF8,SQ8');
    expect(existsSync(join(out, 'IVF8,SQ8.index'))).toBe(true);
    expect(existsSync(join(out, ' IVF8, SQ8.index'))).toBe(false);
  });

  it('convert reports the normalised type', async () => {
    const input = join(root, 'in.f32');
    writeFileSync(input, new Uint8Array(new Float32Array(64 * 4).map((_, i) => Math.sin(i)).buffer));
    const phases = new Set<string>();
    const r = await convertIndex({ input, output: join(root, 'out.index'), indexType: 'IVF2, SQ8', dim: 4, threads: 1, say: () => {}, onProgress: (e) => phases.add(e.phase) });
    expect(r.description).toBe('IVF2,SQ8');
    expect(phases).toContain('adding to IVF2,SQ8');
    const hnsw = await convertIndex({ input, output: join(root, 'hnsw.index'), indexType: 'HNSW16,Flat', dim: 4, threads: 1, say: () => {} });
    expect(hnsw.description).toBe('HNSW16');
  });
});
