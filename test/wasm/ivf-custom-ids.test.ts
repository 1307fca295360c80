// IVF files filled by FAISS's add_with_ids: their ids are served as they are (a repeated id in each
// place it is stored, as FAISS), and add, which would number new vectors from ntotal as FAISS's add
// does and so could repeat one of them, is refused.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/node.js';
import { readIndex } from '../../src/io/read-index.js';
import { faissPython, readF32 } from '../io/faiss-python.js';

const d = 16;
const n = 600;
let dir = '';

const script = `
import sys, json, numpy as np, faiss
out = sys.argv[1]
rng = np.random.default_rng(3)
x = rng.standard_normal((${n}, ${d})).astype('float32')
q = rng.standard_normal((10, ${d})).astype('float32')
x.tofile(out + '/x.f32'); q.tofile(out + '/q.f32')
res = {}
for name, ids in [('shifted', np.arange(${n}) + 5000), ('repeated', np.arange(${n}) % 300), ('permuted', rng.permutation(${n}))]:
    for storage in ['Flat', 'SQ8']:
        index = faiss.index_factory(${d}, 'IVF8,' + storage, faiss.METRIC_L2)
        index.train(x)
        index.add_with_ids(x, ids.astype('int64'))
        f = f'{out}/{name}-{storage}.index'
        faiss.write_index(index, f)
        index.nprobe = 8
        D, I = index.search(q, 20)
        res[f'{name}-{storage}'] = I.tolist()
json.dump(res, open(out + '/faiss.json', 'w'))
`;

let faiss: Record<string, number[][]> = {};
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-ivf-ids-'));
  writeFileSync(join(dir, 'make.py'), script);
  execFileSync(faissPython(), [join(dir, 'make.py'), dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  faiss = JSON.parse(execFileSync('cat', [join(dir, 'faiss.json')], { encoding: 'utf8' })) as Record<string, number[][]>;
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.each(['Flat', 'SQ8'])('an IVF8,%s file from add_with_ids', (storage) => {
  it.each([
    ['shifted', /id 5\d{3} is not below ntotal = 600/],
    ['repeated', /id \d+ is stored more than once/],
  ])('%s ids: search returns FAISS\'s ids; add is UNSUPPORTED naming why (one instance and shards)', async (name, why) => {
    const q = readF32(join(dir, 'q.f32'));
    for (const shardBytes of [undefined, 64 << 10]) {
      const index = await readIndex(join(dir, `${name}-${storage}.index`), { backend: 'wasm', threads: 1, shardBytes } as object);
      try {
        const r = await index.search(q, 20, { nprobe: 8 });
        const want = faiss[`${name}-${storage}`]!;
        for (let i = 0; i < 10; i++) expect(new Set(Array.from(r.labels.subarray(i * 20, (i + 1) * 20), Number))).toEqual(new Set(want[i]));
        await expect(index.add(readF32(join(dir, 'x.f32')).subarray(0, d))).rejects.toMatchObject({
          code: 'UNSUPPORTED',
          message: expect.stringMatching(new RegExp(`add_with_ids: ${why.source}.*numbers? new vectors from ntotal = 600`)),
        });
        expect(index.ntotal).toBe(n);
      } finally {
        await index.dispose();
      }
    }
  });

  it('ids 0..n-1 each once in another order (what add gives, lists in any order): add numbers from ntotal', async () => {
    const index = await readIndex(join(dir, `permuted-${storage}.index`), { backend: 'wasm', threads: 1 });
    try {
      const x = readF32(join(dir, 'x.f32'));
      await index.add(x.subarray(0, d));
      expect(index.ntotal).toBe(n + 1);
      const r = await index.search(x.subarray(0, d), 2, { nprobe: 8 });
      expect(Array.from(r.labels).sort()).toContain(600n);
    } finally {
      await index.dispose();
    }
  });
});
