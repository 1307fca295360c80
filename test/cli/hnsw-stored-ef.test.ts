/**
 * An HNSW file storing efConstruction (or efSearch) above tessera's limit (65536): FAISS writes any
 * int there, and the library refuses such a file unless the caller passes the option, which `tessera
 * search` and `tessera serve` had no flag for (efConstruction), so neither could open it. They open it
 * with the limit (efConstruction only steers adds, which they never do), told, and answer as the same
 * file storing FAISS's defaults.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/node.js';
import { register as registerSearch } from '../../src/cli/commands/search.js';
import { indexFactory } from '../../src/core/factory.js';
import { ByteReader, memorySource } from '../../src/io/byte-reader.js';
import { writeVectors } from '../../src/io/vectors.js';
import { serveFiles } from '../../src/server/files.js';
import { readHnswFlatHeader } from '../../src/wasm/hnsw-index.js';
import { runCommand } from '../helpers/cli.js';

const MODEL = join(resolve(import.meta.dirname, '../..'), 'assets/demo/model');
const D = 100; // the demo model's, so serve encodes queries for it
const N = 40;
const tmp = mkdtempSync(join(tmpdir(), 'tessera-hnsw-stored-ef-'));
const corpus = join(tmp, 'corpus.jsonl');
const plain = join(tmp, 'ef40.index');
const bigC = join(tmp, 'efc100000.index');
const bigBoth = join(tmp, 'efboth100000.index');

/** A copy of `from` whose stored efConstruction / efSearch are replaced (FAISS writes any int32 there). */
async function withStoredEfs(from: string, to: string, efs: { efConstruction: number; efSearch?: number }): Promise<void> {
  const bytes = new Uint8Array(readFileSync(from));
  const layout = await readHnswFlatHeader(new ByteReader(memorySource(bytes), 0, from));
  // After the neighbours: entry_point, max_level, efConstruction, efSearch (int32 each).
  const at = layout.neighborsOffset + 4 * layout.neighborsCount;
  const v = new DataView(bytes.buffer, bytes.byteOffset);
  expect([v.getInt32(at + 8, true), v.getInt32(at + 12, true)]).toEqual([40, 16]);
  v.setInt32(at + 8, efs.efConstruction, true);
  if (efs.efSearch !== undefined) v.setInt32(at + 12, efs.efSearch, true);
  writeFileSync(to, bytes);
}

beforeAll(async () => {
  writeFileSync(corpus, Array.from({ length: N }, (_, i) => JSON.stringify({ id: String(i), contents: `"Row ${i}"\ntext ${i}` })).join('\n') + '\n');
  let seed = 11;
  const x = Float32Array.from({ length: N * D }, () => ((seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff) / 2 ** 31) - 0.5);
  const index = await indexFactory(D, 'HNSW4', 'ip', { backend: 'wasm', threads: 1 });
  await index.add(x);
  await index.save(plain);
  await index.dispose();
  await withStoredEfs(plain, bigC, { efConstruction: 100_000 });
  await withStoredEfs(plain, bigBoth, { efConstruction: 100_000, efSearch: 100_000 });
  await writeVectors(join(tmp, 'q.npy'), x.slice(0, 3 * D), D);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const LIMIT_C = (file: string) => `${file} stores efConstruction 100000, above tessera's limit of 65536: opened with efConstruction 65536 (it only steers adding vectors, which this command never does)`;
const LIMIT_S = (file: string) => `${file} stores efSearch 100000, above tessera's limit of 65536: searching with efSearch 65536 (--ef-search sets another)`;

describe('tessera search over an HNSW file storing an ef above the limit', () => {
  const search = async (index: string, ...more: string[]) => {
    const seen = { stderr: '' };
    const out = await runCommand(registerSearch, ['search', '--index', index, '--queries', join(tmp, 'q.npy'), '-k', '5', '--backend', 'wasm', '--threads', '1', '--json', ...more], seen);
    return { out, stderr: seen.stderr };
  };

  it('efConstruction 100000: opens with 65536, told, and answers as the file storing 40', async () => {
    const want = await search(plain);
    expect((JSON.parse(want.out) as { labels: number[][] }).labels.map((r) => r.length)).toEqual([5, 5, 5]);
    const got = await search(bigC);
    expect(got.out).toBe(want.out);
    expect(got.stderr).toContain(LIMIT_C(bigC));
    expect(got.stderr).not.toContain('efSearch 100000');
    expect(want.stderr).not.toMatch(/above tessera's limit/);
  });

  it('efSearch 100000 too: searches with 65536 unless --ef-search is given', async () => {
    const got = await search(bigBoth);
    expect(got.out).toBe((await search(plain, '--ef-search', '65536')).out);
    expect(got.stderr).toContain(LIMIT_C(bigBoth));
    expect(got.stderr).toContain(LIMIT_S(bigBoth));
    const given = await search(bigBoth, '--ef-search', '16');
    expect(given.out).toBe((await search(plain)).out);
    expect(given.stderr).not.toContain(LIMIT_S(bigBoth));
  });
});

describe('serveFiles over an HNSW file storing efConstruction 100000', () => {
  const answers = async (index: string, efSearch?: number) => {
    const lines: string[] = [];
    const service = await serveFiles({ index, corpus, model: MODEL, offsets: join(tmp, 'corpus.offsets'), port: 0, backend: 'wasm', threads: 1, efSearch, say: (l) => lines.push(l) });
    try {
      await service.ready;
      const res = await service.app.inject({ method: 'POST', url: '/retrieve', payload: { queries: ['row 3', 'text 17'], topk: 5, return_scores: true } });
      expect(res.statusCode).toBe(200);
      return { body: res.json() as unknown, lines };
    } finally {
      await service.close();
    }
  };

  it('opens with 65536, told, and answers as the file storing 40', async () => {
    const want = await answers(plain);
    const got = await answers(bigC);
    expect(got.body).toEqual(want.body);
    expect(got.lines).toContain(LIMIT_C(bigC));
    expect(want.lines.join('\n')).not.toMatch(/above tessera's limit/);
  });

  it('efSearch 100000 too: serves with 65536', async () => {
    const got = await answers(bigBoth);
    expect(got.lines).toContain(LIMIT_S(bigBoth));
    expect(got.body).toEqual((await answers(plain, 65536)).body);
  });
});
