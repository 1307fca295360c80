/**
 * README's e5 conventions (query: / passage:, mean pooling, L2-normalised, 256 tokens), which
 * Search-R1's retriever uses for e5, hold for an e5 folder whose sentence-transformers modules.json
 * lists no Normalize module (Transformer + Pooling only; e5's model card normalises in encode), and
 * for any folder told prefixes: 'e5'. Before, the former gave unnormalised vectors and the latter
 * the model's 512 tokens.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/node.js';
import { Encoder } from '../../src/encoder/index.js';
import { writeToyFolder } from './toy-model.js';

const DIM = 8;
let root: string;
const st = (type: string) => ({ idx: 0, name: type, path: '', type: `sentence_transformers.models.${type}` });
const norms = (v: Float32Array) => Array.from({ length: v.length / DIM }, (_, i) => Math.hypot(...v.subarray(i * DIM, (i + 1) * DIM)));

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'tessera-e5-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function folder(name: string): string {
  const dir = writeToyFolder(join(root, name), DIM, { pooling: 'mean' });
  writeFileSync(join(dir, 'modules.json'), JSON.stringify([st('Transformer'), st('Pooling')]));
  return dir;
}

describe('e5 conventions', () => {
  it('an e5 folder whose modules.json has no Normalize module is L2-normalised, 256 tokens', async () => {
    const enc = await Encoder.fromDirectory(folder('e5-base-v2'), { threads: 1 });
    try {
      expect(enc.normalize).toBe(true);
      expect(enc.maxLength).toBe(256);
      expect(enc.prefixes).toEqual({ query: 'query: ', passage: 'passage: ' });
      for (const n of norms(await enc.encode(['the cat sat', 'a dog'], { prefix: 'query' }))) expect(n).toBeCloseTo(1, 6);
    } finally {
      await enc.dispose();
    }
    const told = await Encoder.fromDirectory(folder('e5-told'), { threads: 1, normalize: false });
    expect(told.normalize).toBe(false);
    await told.dispose();
  });

  it("another folder with the same modules.json keeps sentence-transformers' choice (not normalised); told prefixes: 'e5', e5's", async () => {
    const dir = folder('retriever');
    const plain = await Encoder.fromDirectory(dir, { threads: 1 });
    expect(plain.normalize).toBe(false);
    expect(plain.maxLength).toBe(512);
    await plain.dispose();
    const e5 = await Encoder.fromDirectory(dir, { threads: 1, prefixes: 'e5' });
    try {
      expect(e5.normalize).toBe(true);
      expect(e5.maxLength).toBe(256);
      expect(e5.describe()).toMatch(/L2-normalised, query prefix "query: ", max 256 tokens/);
    } finally {
      await e5.dispose();
    }
  });

  it("e5's 256 tokens stop at the model's positions: a 128-position model told prefixes: 'e5' loads with 128 (it was refused for a maxLength nobody gave)", async () => {
    const dir = folder('short-e5');
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'bert', hidden_size: DIM, max_position_embeddings: 128 }));
    for (const opts of [{ prefixes: 'e5' as const }, {}]) {
      const enc = await Encoder.fromDirectory(dir, { threads: 1, ...opts });
      try {
        expect(enc.maxLength).toBe(128);
        expect(enc.normalize).toBe(true);
      } finally {
        await enc.dispose();
      }
    }
  });
});
