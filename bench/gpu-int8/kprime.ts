/**
 * How many int8 candidates must be re-ranked for recall@10 >= 0.99 against exact f32 search: the
 * int8 index's quantiser (per-dimension SQ trained on the first streamed chunk, codes rounded as
 * GpuFlatIndex.encode does) applied on the CPU, at full size, on random and on clustered rows.
 *
 * For every query: exact top-10 (f32 rows), and the top-kmax candidates by the two scores the GPU
 * kernels rank by: 'f32dec' = q . decoded row (flat_gemv / flat_fused, and int8_gemv with 16-bit
 * queries up to f32 rounding) and 'q8' = sum_j t_j c_j with the query quantised to i8 (int8_gemv
 * with qbits 8, the tensor-core scorer's form). Each prefix of k' candidates is re-ranked exactly
 * and its top 10 compared with the exact top 10. Scans use the WebAssembly flat index in chunks.
 *
 *   npx esbuild bench/gpu-int8/kprime.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
 *     --external:webgpu --ignore-annotations --outfile=out/gpu-int8/kprime.mjs
 *   node out/gpu-int8/kprime.mjs --n 1000000 --nq 200 > bench/gpu-int8/results/kprime-cpu.jsonl
 */
import { parseArgs } from 'node:util';
import '../../src/node.js';
import { quantizeQuery } from '../../src/gpu/int8-gemv.js';
import { trainSq } from '../../src/gpu/tensor/quantize.js';
import { WasmFlatIndex } from '../../src/wasm/flat-index.js';
import { gaussian, rng } from '../../test/helpers/data.js';
import { syntheticRow } from '../gpu-flat/synthetic.js';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '1000000' },
    d: { type: 'string', default: '768' },
    nq: { type: 'string', default: '200' },
    k: { type: 'string', default: '10' },
    kmax: { type: 'string', default: '64' },
    kprimes: { type: 'string', default: '12,16,20,26,32,40,64' },
    data: { type: 'string', default: 'random,clustered' },
    clusters: { type: 'string', default: '1000' },
    noise: { type: 'string', default: '0.1' },
    chunk: { type: 'string', default: '50000' },
    threads: { type: 'string', default: '2' },
  },
});
const n = Number(values.n);
const d = Number(values.d);
const nq = Number(values.nq);
const k = Number(values.k);
const kmax = Number(values.kmax);
const chunk = Number(values.chunk);
const threads = Number(values.threads);
const C = Number(values.clusters);
const noise = Number(values.noise);
// readIndex trains the SQ on its first 64 MiB chunk of rows (GpuFlatIndex.addRows).
const trainRows = Math.min(n, Math.floor((64 << 20) / (d * 4)));

const centres = new Float32Array(C * d);
{
  const g = gaussian(rng(4242));
  for (let i = 0; i < centres.length; i++) centres[i] = g();
}
/** Row `id` of the data set (a pure function of id: regenerated for the exact re-rank). */
function rowOf(kind: string, id: number, out: Float32Array, seed = 1): void {
  if (kind === 'random') return syntheticRow(12345 + seed, id, d, out);
  const r = rng(Math.imul(id + 1, 2654435761) ^ (seed * 0x9e3779b9));
  const c = Math.floor(r() * C);
  const g = gaussian(r);
  let s = 0;
  for (let j = 0; j < d; j++) {
    const v = centres[c * d + j]! + noise * g();
    out[j] = v;
    s += v * v;
  }
  const inv = 1 / Math.sqrt(s);
  for (let j = 0; j < d; j++) out[j] = out[j]! * inv;
}

type Lists = { s: Float32Array; id: Int32Array }[];
function emptyLists(m: number): Lists {
  return Array.from({ length: nq }, () => ({ s: new Float32Array(m).fill(-Infinity), id: new Int32Array(m).fill(-1) }));
}
/** Folds a chunk's top-m (already sorted) into the running lists; ties to the lower id. */
function fold(lists: Lists, dist: Float32Array, lab: BigInt64Array, m: number, offset: number): void {
  for (let q = 0; q < nq; q++) {
    const L = lists[q]!;
    const s = Array.from(L.s);
    const id = Array.from(L.id);
    for (let j = 0; j < m; j++) {
      const l = lab[q * m + j]!;
      if (l < 0n) continue;
      s.push(dist[q * m + j]!);
      id.push(Number(l) + offset);
    }
    const order = s.map((_, i) => i).sort((a, b) => s[b]! - s[a]! || id[a]! - id[b]!);
    for (let j = 0; j < L.s.length; j++) {
      L.s[j] = s[order[j]!]!;
      L.id[j] = id[order[j]!]!;
    }
  }
}

async function scan(rows: Float32Array, count: number, queries: Float32Array, m: number): Promise<{ distances: Float32Array; labels: BigInt64Array }> {
  const index = await WasmFlatIndex.create(d, 'ip', { threads });
  try {
    await index.add(rows.subarray(0, count * d));
    const r = await index.search(queries, m);
    return { distances: r.distances, labels: r.labels };
  } finally {
    await index.dispose();
  }
}

for (const kind of values.data!.split(',')) {
  const t0 = performance.now();
  const queries = new Float32Array(nq * d);
  for (let q = 0; q < nq; q++) rowOf(kind, q, queries.subarray(q * d, (q + 1) * d), 7);
  const trainBuf = new Float32Array(trainRows * d);
  for (let i = 0; i < trainRows; i++) rowOf(kind, i, trainBuf.subarray(i * d, (i + 1) * d));
  const { vmin, step } = trainSq(trainBuf, trainRows, d);
  // The 8-bit query form: t_j (|t_j| <= 127) against codes, as floats (sums exact to f32 rounding).
  const dp = Math.ceil(d / 16) * 16;
  const sqHost = new Float32Array(2 * dp);
  sqHost.set(vmin, 0);
  sqHost.set(step, dp);
  const tq = new Float32Array(nq * d);
  const padded = new Float32Array(dp);
  for (let q = 0; q < nq; q++) {
    padded.fill(0);
    padded.set(queries.subarray(q * d, (q + 1) * d));
    const { t } = quantizeQuery(padded, dp, sqHost, 1);
    for (let j = 0; j < d; j++) tq[q * d + j] = t[j]!;
  }
  const exact = emptyLists(k);
  const dec = emptyLists(kmax);
  const q8 = emptyLists(kmax);
  const x = new Float32Array(chunk * d);
  const xd = new Float32Array(chunk * d);
  const xc = new Float32Array(chunk * d);
  let clamped = 0;
  for (let r0 = 0; r0 < n; r0 += chunk) {
    const m = Math.min(chunk, n - r0);
    for (let i = 0; i < m; i++) {
      const row = x.subarray(i * d, (i + 1) * d);
      rowOf(kind, r0 + i, row);
      for (let j = 0; j < d; j++) {
        const s = step[j]!;
        const t = s > 0 ? (row[j]! - vmin[j]!) / s + 0.5 : 0;
        if (t >= 256 || t < 0) clamped++;
        const c = t >= 255 ? 255 : t > 0 ? t | 0 : 0;
        xc[i * d + j] = c;
        xd[i * d + j] = Math.fround(vmin[j]! + c * s);
      }
    }
    const e = await scan(x, m, queries, k);
    fold(exact, e.distances, e.labels, k, r0);
    const a = await scan(xd, m, queries, kmax);
    fold(dec, a.distances, a.labels, kmax, r0);
    const b = await scan(xc, m, tq, kmax);
    fold(q8, b.distances, b.labels, kmax, r0);
  }
  // Exact re-rank of each prefix of candidates, against the exact top k.
  const row = new Float32Array(d);
  const exactScore = (q: number, id: number): number => {
    rowOf(kind, id, row);
    let s = 0;
    for (let j = 0; j < d; j++) s += row[j]! * queries[q * d + j]!;
    return s;
  };
  for (const [name, lists] of [['f32dec', dec], ['q8', q8]] as const) {
    const scores = lists.map((L, q) => Array.from(L.id, (id) => (id >= 0 ? exactScore(q, id) : -Infinity)));
    for (const kp of values.kprimes!.split(',').map(Number).filter((v) => v <= kmax)) {
      let hits = 0;
      let worstQ = k;
      for (let q = 0; q < nq; q++) {
        const ids = Array.from(lists[q]!.id.subarray(0, kp));
        const sc = scores[q]!.slice(0, kp);
        const top = ids.map((_, i) => i).sort((a, b) => sc[b]! - sc[a]! || ids[a]! - ids[b]!).slice(0, k).map((i) => ids[i]!);
        const truth = new Set(Array.from(exact[q]!.id));
        const h = top.filter((id) => truth.has(id)).length;
        hits += h;
        worstQ = Math.min(worstQ, h);
      }
      console.log(JSON.stringify({ data: kind, n, d, nq, k, score: name, kprime: kp, recall_at_10: +(hits / (nq * k)).toFixed(4), worst_query_hits: worstQ, train_rows: trainRows, clamped_frac: +(clamped / (n * d)).toExponential(2) }));
    }
  }
  console.error(`${kind}: ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}
