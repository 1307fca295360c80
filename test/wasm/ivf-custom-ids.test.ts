// IVF files filled by FAISS's add_with_ids: their ids are served as they are (a repeated id in each
// place it is stored, as FAISS), and add numbers new vectors from ntotal as FAISS's add does, except
// that an add which would so give an id the file holds is refused (FAISS takes it, and its results
// then name two vectors by one id).
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
for name, ids in [('shifted', np.arange(${n}) + 300), ('far', np.arange(${n}) + 5000), ('repeated', np.arange(${n}) % 300), ('permuted', rng.permutation(${n}))]:
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

async function search(name: string, storage: string, shardBytes?: number) {
  const index = await readIndex(join(dir, `${name}-${storage}.index`), { backend: 'wasm', threads: 1, shardBytes } as object);
  const q = readF32(join(dir, 'q.f32'));
  const r = await index.search(q, 20, { nprobe: 8 });
  const want = faiss[`${name}-${storage}`]!;
  for (let i = 0; i < 10; i++) expect(Array.from(r.labels.subarray(i * 20, (i + 1) * 20), Number).sort()).toEqual([...want[i]!].sort());
  return index;
}

describe.each(['Flat', 'SQ8'])('an IVF8,%s file from add_with_ids (one instance, and shards)', (storage) => {
  const x = () => readF32(join(dir, 'x.f32'));

  it.each([undefined, 64 << 10])('ids 300..899: search returns FAISS\'s ids; an add, numbered 600, is UNSUPPORTED naming id 600 and changes nothing (shardBytes %s)', async (shardBytes) => {
    const index = await search('shifted', storage, shardBytes);
    try {
      await expect(index.add(x().subarray(0, d))).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(/add_with_ids\), and id 600 is one of them: add numbers its 1 vectors 600\.\.600/) });
      expect(index.ntotal).toBe(n);
    } finally {
      await index.dispose();
    }
  });

  it.each([undefined, 64 << 10])('ids 5000..5599: an add of 100 is numbered 600..699; one of 4401 would reach 5000 and is refused (shardBytes %s)', async (shardBytes) => {
    const index = await search('far', storage, shardBytes);
    try {
      await index.add(x().subarray(0, 100 * d));
      expect(index.ntotal).toBe(n + 100);
      const big = new Float32Array(4301 * d);
      await expect(index.add(big)).rejects.toMatchObject({ code: 'UNSUPPORTED', message: expect.stringContaining('id 5000 is one of them: add numbers its 4301 vectors 700..5000') });
      expect(index.ntotal).toBe(n + 100);
      const r = await index.search(x().subarray(0, d), 2, { nprobe: 8 });
      // row 0 is stored twice: as file id 5000 and as added id 600
      expect(Array.from(r.labels, Number).sort()).toEqual([5000, 600].sort());
    } finally {
      await index.dispose();
    }
  });

  it('ids 0..299 each twice: search returns each copy, as FAISS; an add is numbered from 600', async () => {
    const index = await search('repeated', storage);
    try {
      await index.add(x().subarray(0, d));
      expect(index.ntotal).toBe(n + 1);
    } finally {
      await index.dispose();
    }
  });

  it('ids 0..n-1 each once in another order (what add gives, lists in any order): add numbers from ntotal', async () => {
    const index = await search('permuted', storage);
    try {
      await index.add(x().subarray(0, d));
      expect(index.ntotal).toBe(n + 1);
      const r = await index.search(x().subarray(0, d), 2, { nprobe: 8 });
      expect(Array.from(r.labels)).toContain(600n);
    } finally {
      await index.dispose();
    }
  });
});
