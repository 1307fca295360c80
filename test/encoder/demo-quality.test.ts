/**
 * End-to-end quality of the embedded demo (assets/demo, built by scripts/demo/build-demo.ts): passages
 * encoded by the demo model, exact inner-product search (float64 oracle), and two query sets:
 *   lemma:   the row's own lemma ("dog") finds the row (or another sense of that lemma) in the top 10;
 *   synonym: another lemma of the same synset that the row's text does not contain ("brand" for
 *            "Make: a recognizable kind") finds the row in the top 10 (a word-average model has no
 *            other way to match it than meaning).
 * Stated recall@10, measured on the full sets (8000 lemma, 6875 synonym queries): lemma 0.84,
 * synonym 0.17 (random would be 0.00125). The test takes a fixed sample of 600 queries of each set
 * (every k-th) so it stays within seconds, and asserts a little below the measured figures.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import '../../src/node.js';
import { Encoder } from '../../src/encoder/index.js';
import { bruteForce } from '../helpers/oracle.js';

const DEMO = join(import.meta.dirname, '..', '..', 'assets', 'demo');
const rows = readFileSync(join(DEMO, 'corpus.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; contents: string });
let enc: Encoder;
let base: Float32Array;

beforeAll(async () => {
  enc = await Encoder.fromDirectory(join(DEMO, 'model'), { batchSize: 256 });
  base = await enc.encode(rows.map((r) => r.contents), { prefix: 'passage' });
}, 120_000);

/** Every k-th item, 600 in all: a fixed, spread-out sample. */
function sample<T>(items: readonly T[], n = 600): T[] {
  const step = items.length / n;
  return Array.from({ length: Math.min(n, items.length) }, (_, i) => items[Math.floor(i * step)]!);
}

function recallAt10(queries: string[], targets: number[]): number {
  return enc.encode(queries, { prefix: 'query' }).then((q) => {
    const res = bruteForce(base, q, enc.dim, 10, 'ip');
    let hit = 0;
    for (let i = 0; i < queries.length; i++) {
      const labels = Array.from(res.labels.subarray(i * 10, i * 10 + 10), Number);
      // Same-lemma rows (noun and verb senses) count: the title is what the query names.
      const want = rows[targets[i]!]!.contents.split('\n')[0];
      if (labels.some((l) => l === targets[i] || rows[l]!.contents.split('\n')[0] === want)) hit++;
    }
    return hit / queries.length;
  }) as unknown as number;
}

describe('demo model + corpus (assets/demo)', () => {
  it('has 100-d unit vectors and a corpus in Search-R1 form', () => {
    expect(enc.dim).toBe(100);
    expect(rows.length).toBe(8000);
    expect(rows[0]!.contents).toMatch(/^"[A-Z][a-z]+"\n\S/);
    const n = Math.hypot(...base.subarray(0, 100));
    expect(Math.abs(n - 1)).toBeLessThan(1e-5);
  });

  it('lemma queries find their own gloss in the top 10 (recall@10 >= 0.78 on 600 of 8000; 0.84 on all)', async () => {
    const targets = sample(rows.map((_, i) => i));
    const queries = targets.map((i) => rows[i]!.contents.split('\n')[0]!.slice(1, -1).toLowerCase());
    const r = await recallAt10(queries, targets);
    console.log(`demo lemma recall@10 = ${r.toFixed(4)} over ${queries.length} queries`);
    expect(r).toBeGreaterThanOrEqual(0.78);
  });

  it('synonym queries (words absent from the row) find the gloss in the top 10 (recall@10 >= 0.12 on 600; 0.17 on all)', async () => {
    const pairs = readFileSync(join(DEMO, 'synonyms.tsv'), 'utf8').trim().split('\n').flatMap((l) => {
      const [id, syn] = l.split('\t');
      return syn!.split(',').map((s) => [s, Number(id)] as const);
    });
    const picked = sample(pairs);
    const r = await recallAt10(picked.map((p) => p[0]), picked.map((p) => p[1]));
    console.log(`demo synonym recall@10 = ${r.toFixed(4)} over ${picked.length} queries`);
    expect(r).toBeGreaterThanOrEqual(0.12);
  });
});
