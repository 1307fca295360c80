/**
 * The same FAISS file searched with the same parameters by FAISS (python3-faiss) and by tessera:
 * IVF-Flat, IVF-SQ8 and SQ8 return FAISS's lists (same centroids, codes and nprobe lists) with its
 * distances to float summation order, also at nprobe > nlist and k > ntotal; HNSW on FAISS's graph
 * returns what FAISS >= 1.7.4's search returns (python3-faiss 1.7.3 loses count of live candidates
 * and stops early, README: 41% the same neighbours at k = efSearch = 16, d = 768), so at least
 * 1.7.3's recall, at k above, at and below efSearch. d = 7 and 768 cover the SIMD tails and long
 * sums the d = 24 fixtures of faiss-ann.test.ts do not; the data are Gaussian (no cluster to hide
 * a wrong list or a wrong code in).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/node.js';
import type { Metric, SearchResult } from '../../src/core/types.js';
import { readIndex } from '../../src/io/read-index.js';
import type { WasmHnswIndex } from '../../src/wasm/hnsw-index.js';
import { faissPython, readF32 } from './faiss-python.js';

const N = 1200;
const NQ = 30;

/**
 * Writes base/queries and one FAISS file per (d, metric, type), with FAISS's results at each search;
 * for HNSW also those of FAISS >= 1.7.4's HNSW::search (upper levels greedy, then
 * search_from_candidates with its MinimaxHeap, heap code as faiss/utils/Heap.h) ported line by line
 * onto FAISS's graph, since python3-faiss is 1.7.3, whose MinimaxHeap::push miscounts (PR #2771).
 */
const SCRIPT = `
import json, sys
import faiss, numpy as np
faiss.omp_set_num_threads(1)

def cmp2(a, b, ia, ib): return a > b or (a == b and ia > ib)  # CMax::cmp2
def heap_push(k, v, I, val, i):  # faiss::heap_push<CMax>, k = the new size
    j = k
    while j > 1:
        f = j >> 1
        if not cmp2(val, v[f - 1], i, I[f - 1]): break
        v[j - 1], I[j - 1] = v[f - 1], I[f - 1]; j = f
    v[j - 1], I[j - 1] = val, i
def heap_pop(k, v, I):  # faiss::heap_pop<CMax>
    val, i, j = v[k - 1], I[k - 1], 1
    while True:
        j1 = j << 1; j2 = j1 + 1
        if j1 > k: break
        if j2 == k + 1 or cmp2(v[j1 - 1], v[j2 - 1], I[j1 - 1], I[j2 - 1]):
            if cmp2(val, v[j1 - 1], i, I[j1 - 1]): break
            v[j - 1], I[j - 1] = v[j1 - 1], I[j1 - 1]; j = j1
        else:
            if cmp2(val, v[j2 - 1], i, I[j2 - 1]): break
            v[j - 1], I[j - 1] = v[j2 - 1], I[j2 - 1]; j = j2
    v[j - 1], I[j - 1] = v[k - 1], I[k - 1]
def hnsw_search(h, dis, k, ef_search):
    nb, off, cum = (faiss.vector_to_array(a) for a in (h.neighbors, h.offsets, h.cum_nneighbor_per_level))
    slots = lambda v, l: nb[int(off[v] + cum[l]):int(off[v] + cum[l + 1])]
    nearest = h.entry_point; dn = dis(nearest)
    for level in range(h.max_level, 0, -1):  # greedy_update_nearest
        while True:
            prev = nearest
            for v in slots(nearest, level):
                if v < 0: break
                dv = dis(v)
                if dv < dn: nearest, dn = v, dv
            if nearest == prev: break
    ef = max(ef_search, k)
    cd, ci, st = [0.0] * ef, [0] * ef, dict(n=0, nvalid=0)
    def push(i, v):  # MinimaxHeap::push as fixed in 1.7.4
        if st['n'] == ef:
            if v >= cd[0]: return
            if ci[0] != -1: st['nvalid'] -= 1
            heap_pop(st['n'], cd, ci); st['n'] -= 1
        st['n'] += 1; heap_push(st['n'], cd, ci, v, i); st['nvalid'] += 1
    def pop_min():  # MinimaxHeap::pop_min
        j = st['n'] - 1
        while j >= 0 and ci[j] == -1: j -= 1
        if j == -1: return -1, 0.0
        jmin, vmin = j, cd[j]
        for j in range(j - 1, -1, -1):
            if ci[j] != -1 and cd[j] < vmin: jmin, vmin = j, cd[j]
        v = ci[jmin]; ci[jmin] = -1; st['nvalid'] -= 1
        return v, vmin
    push(nearest, dn)
    D, I, seen = [dn], [nearest], {nearest}
    def offer(v, dv):  # the result max-heap: a tie with its top is not taken
        if len(I) < k: D.append(dv); I.append(v)
        else:
            w = max(range(k), key=lambda j: (D[j], I[j]))
            if dv < D[w]: D[w], I[w] = dv, v
    while st['nvalid'] > 0:
        v0, d0 = pop_min()
        if sum(1 for j in range(st['n']) if cd[j] < d0) >= ef_search: break
        for v in slots(v0, 0):
            if v < 0: break
            if v in seen: continue
            seen.add(v); dv = dis(v); offer(v, dv); push(v, dv)
    order = sorted(range(len(I)), key=lambda j: (D[j], I[j]))
    return [int(I[j]) for j in order] + [-1] * (k - len(I))
out, n, nq = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
runs = {}
for d in (7, 768):
    rs = np.random.RandomState(d)
    x = rs.randn(n + nq, d).astype('float32')
    x[:n].tofile(f'{out}/base{d}.f32'); x[n:].tofile(f'{out}/q{d}.f32')
    flat = {m: faiss.IndexFlat(d, faiss.METRIC_INNER_PRODUCT if m == 'ip' else faiss.METRIC_L2) for m in ('ip', 'l2')}
    for m in ('ip', 'l2'):
        flat[m].add(x[:n])
        runs[f'truth{d}{m}'] = flat[m].search(x[n:], 10)[1].tolist()
        for name, fac, searches in (
            ('ivfflat', 'IVF16,Flat', [('nprobe', 1, 10), ('nprobe', 3, 10), ('nprobe', 40, 10), ('nprobe', 40, n + 5)]),
            ('ivfsq', 'IVF16,SQ8', [('nprobe', 1, 10), ('nprobe', 40, 10), ('nprobe', 40, n + 5)]),
            ('sq', 'SQ8', [(None, 0, 10), (None, 0, n + 5)]),
            ('hnsw', 'HNSW16', [('efSearch', 8, 50), ('efSearch', 5, 10), ('efSearch', 16, 10), ('efSearch', 48, 10)]),
        ):
            index = faiss.index_factory(d, fac, faiss.METRIC_INNER_PRODUCT if m == 'ip' else faiss.METRIC_L2)
            index.train(x[:n]); index.add(x[:n])
            if name == 'hnsw':
                index.hnsw.efSearch = 48  # stored in the file: the default of a search without efSearch
            faiss.write_index(index, f'{out}/{name}{d}{m}.index')
            for param, value, k in searches:
                if param == 'nprobe': index.nprobe = value
                if param == 'efSearch': index.hnsw.efSearch = value
                D, I = index.search(x[n:], k)
                runs[f'{name}{d}{m} {param}={value} k={k}'] = dict(labels=I.tolist(), distances=D.tolist())
                if name == 'hnsw':
                    xb = x[:n].astype('float64')
                    def ref(q):
                        dis = (lambda v: -float(xb[v] @ q)) if m == 'ip' else (lambda v: float(((xb[v] - q) ** 2).sum()))
                        return hnsw_search(index.hnsw, dis, k, value)
                    runs[f'ref{d}{m} efSearch={value} k={k}'] = [ref(q) for q in x[n:].astype('float64')]
json.dump(runs, open(f'{out}/runs.json', 'w'))
`;

let dir = '';
let runs: Record<string, { labels: number[][]; distances: number[][] } | number[][]>;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-ann-params-'));
  execFileSync(faissPython(), ['-c', SCRIPT, dir, String(N), String(NQ)], { stdio: ['ignore', 'ignore', 'inherit'] });
  runs = JSON.parse(readFileSync(join(dir, 'runs.json'), 'utf8'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function faissRun(key: string): { labels: number[][]; distances: number[][] } {
  const r = runs[key];
  if (!r || Array.isArray(r)) throw new Error(`no FAISS run ${key}`);
  return r;
}

/** Fraction of our top-10 rows in the exact top 10. */
function recall(labels: ArrayLike<number | bigint>, k: number, truth: number[][]): number {
  let hit = 0;
  for (let q = 0; q < NQ; q++) {
    const t = new Set(truth[q]!.slice(0, 10));
    for (let j = 0; j < 10; j++) if (t.has(Number(labels[q * k + j]))) hit++;
  }
  return hit / (NQ * 10);
}

describe.each([7, 768])('d = %i', (d) => {
  describe.each(['ip', 'l2'] as const)('%s', (metric: Metric) => {
    it.each(['ivfflat', 'ivfsq', 'sq'])('%s: FAISS\'s neighbours and distances at every nprobe and k', async (name) => {
      const index = await readIndex(join(dir, `${name}${d}${metric}.index`), { backend: 'wasm', threads: 1 });
      const q = readF32(join(dir, `q${d}.f32`));
      try {
        const prefix = `${name}${d}${metric} `;
        for (const key of Object.keys(runs).filter((r) => r.startsWith(prefix))) {
          const [, param, k] = /^\S+ (\S+) k=(\d+)$/.exec(key)!;
          const [opt, value] = param!.split('=');
          const theirs = faissRun(key);
          const ours = await index.search(q, Number(k), opt === 'None' ? {} : { [opt!]: Number(value) });
          compareExact(ours, theirs, d, key);
        }
      } finally {
        await index.dispose();
      }
    });

    it('HNSW: the neighbours of FAISS >= 1.7.4\'s search on its graph, at least 1.7.3\'s recall, the file\'s efSearch by default', async () => {
      const index = (await readIndex(join(dir, `hnsw${d}${metric}.index`), { backend: 'wasm', threads: 1 })) as WasmHnswIndex;
      const q = readF32(join(dir, `q${d}.f32`));
      const truth = runs[`truth${d}${metric}`] as number[][];
      try {
        for (const [efSearch, k] of [
          [8, 50],
          [5, 10],
          [16, 10],
          [48, 10],
        ] as const) {
          const ours = await index.search(q, k, { efSearch });
          // the port scores in float64: a near tie may rank two neighbours the other way (measured: all equal)
          const ref = runs[`ref${d}${metric} efSearch=${efSearch} k=${k}`] as number[][];
          let same = 0;
          for (let i = 0; i < NQ * k; i++) if (Number(ours.labels[i]) === ref[Math.floor(i / k)]![i % k]) same++;
          expect(same / (NQ * k), `efSearch ${efSearch}, k ${k}`).toBeGreaterThanOrEqual(0.99);
          // FAISS 1.7.3 may stop early where 1.7.4 goes on (measured 0.43 against our 0.53 at d = 768, ip, efSearch 16)
          const theirs = faissRun(`hnsw${d}${metric} efSearch=${efSearch} k=${k}`);
          expect(recall(ours.labels, k, truth), `efSearch ${efSearch}, k ${k}`).toBeGreaterThanOrEqual(recall(theirs.labels.flat(), k, truth) - 0.01);
        }
        // efSearch 48, as FAISS wrote it into the file, is the default; set after load, the new default
        expect(index.efSearch).toBe(48);
        expect(Array.from((await index.search(q, 10)).labels)).toEqual(Array.from((await index.search(q, 10, { efSearch: 48 })).labels));
        index.efSearch = 8;
        expect(Array.from((await index.search(q, 50)).labels)).toEqual(Array.from((await index.search(q, 50, { efSearch: 8 })).labels));
      } finally {
        await index.dispose();
      }
    });
  });
});

/**
 * Our result is FAISS's: per query the same labels in the same places, where a label differs the
 * two distances are within float rounding of each other (two near-equal scores ranked the other way
 * by another summation order), and distances agree to 4e-6 of the larger of the distance and d (the
 * scale of |q| |x| here, where an inner product near 0 keeps the rounding of its large terms;
 * measured: 1.8e-6 of an L2 distance at d = 768, 4e-8 d for inner products near 0). Padding (-1)
 * is in the same places; its distances are ours +-Infinity, FAISS's +-3.4e38.
 */
function compareExact(ours: SearchResult, theirs: { labels: number[][]; distances: number[][] }, d: number, what: string): void {
  const k = ours.k;
  let swapped = 0;
  for (let q = 0; q < ours.nq; q++) {
    for (let j = 0; j < k; j++) {
      const label = Number(ours.labels[q * k + j]);
      const want = theirs.labels[q]![j]!;
      if ((label === -1) !== (want === -1)) throw new Error(`${what}: query ${q} rank ${j}: ours ${label}, FAISS ${want}`);
      if (label === -1) continue;
      const got = ours.distances[q * k + j]!;
      const wantD = theirs.distances[q]![j]!;
      const tol = 4e-6 * Math.max(d, Math.abs(wantD));
      if (Math.abs(got - wantD) > tol) throw new Error(`${what}: query ${q} rank ${j}: distance ${got} (label ${label}), FAISS ${wantD} (label ${want})`);
      if (label !== want) swapped++;
    }
  }
  // near ties are rare on Gaussian data: nearly every place holds FAISS's own label
  expect(swapped / (ours.nq * k), what).toBeLessThanOrEqual(0.01);
}
