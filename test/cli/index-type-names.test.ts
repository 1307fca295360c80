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
import { arithmeticEncoder as encoder } from '../helpers/arithmetic-encoder.js';

const root = mkdtempSync(join(tmpdir(), 'tessera-index-type-names-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

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
