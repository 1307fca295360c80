/**
 * `tessera build --index-type IVF...` trains on the sample `tessera convert` takes (defaultTrainSize:
 * 256 a list, at most 262144): it took 100,000 rows whatever nlist, 24 a list for IVF4096, under
 * the 39 FAISS asks for.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/node.js';
import { defaultTrainSize, parseFactoryString } from '../../src/core/factory.js';
import type { ProgressEvent } from '../../src/core/types.js';
import { buildIndex } from '../../src/encoder/build-index.js';
import { arithmeticEncoder as encoder } from '../helpers/arithmetic-encoder.js';

const root = mkdtempSync(join(tmpdir(), 'tessera-build-sample-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('build: the IVF training sample', () => {
  it('is the one convert takes: 256 a list up to 262144, not 100,000 whatever nlist', () => {
    expect(defaultTrainSize(parseFactoryString('IVF4096,SQ8'))).toBe(262_144);
    expect(defaultTrainSize(parseFactoryString('IVF512,Flat'))).toBe(131_072);
    expect(defaultTrainSize(parseFactoryString('IVF16,Flat'))).toBe(4096);
    expect(defaultTrainSize(parseFactoryString('SQ8'))).toBe(262_144);
  });

  it('IVF512 over 110,000 rows trains on all of them (it read 100,000)', async () => {
    const rows = 110_000;
    const corpus = join(root, 'corpus.jsonl');
    writeFileSync(corpus, Array.from({ length: rows }, (_, i) => JSON.stringify({ id: String(i), contents: String(i) })).join('\n') + '\n');
    const events: ProgressEvent[] = [];
    const r = await buildIndex({ corpus, out: join(root, 'out'), encoder, batch: 16_384, indexType: 'IVF512,Flat', onProgress: (e) => events.push(e), say: () => {} });
    expect(r.rows).toBe(rows);
    const sample = events.filter((e) => e.phase === 'reading training sample');
    expect(sample.at(-1)).toMatchObject({ done: rows, total: rows });
  }, 120_000);
});
