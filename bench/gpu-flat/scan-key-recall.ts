/**
 * bench/gpu-flat/scan-key-recall: on the CPU, the recall of the approximate scans that pick the
 * candidates the GPU index re-ranks exactly: each scheme's integer keys (the tensor-core kernels'
 * own: i8 row codes times the queries quantised per query as the pre-pass does, quantize.ts
 * quantizeQueries; equal keys by lower id), its k' best re-ranked in float64, against the exact
 * search of the rows it re-ranks from. Schemes:
 * - f16-codes: the f16 code plane, re-ranked from the f16 rows, against the exact f16 search: codes
 *   centred on each dimension's range (approx-rerank.ts stepParams), as the index makes them;
 * - f16-codes-0: the same with codes scaled from 0 by each dimension's largest magnitude (max_j /
 *   127), as the index made them before 2026-12-05;
 * - f16-high: each dimension's f16 high byte (the E5M2 float: the plane a byte-planar f16 at
 *   exactly half of f32's memory would let a scan read at one byte a dimension) read as the middle
 *   of the values its low byte leaves open, then coded as f16-codes;
 * - sq8: int8 storage (FAISS SQ8 ranges: per-dimension min and (max - min) / 255 over all rows),
 *   re-ranked from the f32 rows, against the exact f32 search;
 * - f16-exact: the exact f16 search itself, against the exact f32 search (no k').
 * Reports recall@k and the queries whose k ids equal the reference's, at each k' = max(k + 16,
 * factor x k) (the tensor hook's lists hold at most 64).
 *   npx esbuild bench/gpu-flat/scan-key-recall.ts --bundle --platform=node --format=esm --loader:.wgsl=text --outfile=out/skr.mjs
 *   node out/skr.mjs --n 200000 --nq 64 --data bench,clustered,anisotropic --factors 4,6
 * data 'bench': bench/gpu-flat's synthetic rows and queries (uniform, unit norm); 'clustered':
 * test/helpers/data.ts clusteredVectors (100 clusters), normalised; 'anisotropic': those plus a
 * common direction 1.7x their norm, then normalised (cosines ~0.75 between unrelated rows, as
 * e5-style embeddings have); 'outliers': anisotropic with three dimensions of the common direction
 * far larger than the others (BERT-style outlier dimensions).
 */
import { parseArgs } from 'node:util';
import { fromHalfBits, toHalfBits } from '../../src/gpu/half.js';
import { stepParams } from '../../src/gpu/approx-rerank.js';
import { encodeRows, quantizeQueries, trainSq } from '../../src/gpu/tensor/quantize.js';
import { clusteredVectors, normalizeRows } from '../../test/helpers/data.js';
import { syntheticQueries, syntheticRow } from './synthetic.js';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '200000' },
    nq: { type: 'string', default: '64' },
    d: { type: 'string', default: '768' },
    k: { type: 'string', default: '10' },
    data: { type: 'string', default: 'bench,clustered' },
    factors: { type: 'string', default: '4,6' },
  },
});
const n = Number(values.n);
const nq = Number(values.nq);
const d = Number(values.d);
const k = Number(values.k);
const factors = values.factors!.split(',').map(Number);
const SEED = 12345; // bench/gpu-flat/run.ts's

function rowsOf(data: string): { x: Float32Array; q: Float32Array } {
  if (data === 'bench') {
    const x = new Float32Array(n * d);
    const row = new Float32Array(d);
    for (let i = 0; i < n; i++) {
      syntheticRow(SEED, i, d, row);
      x.set(row, i * d);
    }
    return { x, q: syntheticQueries(nq, d, 777) };
  }
  const x = normalizeRows(clusteredVectors(n, d, 100, 7), d);
  const q = normalizeRows(clusteredVectors(nq, d, 100, 8), d);
  if (data === 'clustered') return { x, q };
  if (data !== 'anisotropic' && data !== 'outliers') throw new Error(`--data: unknown '${data}' (bench, clustered, anisotropic or outliers)`);
  const common = normalizeRows(clusteredVectors(1, d, 1, 9), d);
  // outliers: three dimensions of the common direction far larger than the rest, as BERT-style
  // encoders' outlier dimensions are (each row and query carries them with the same sign).
  if (data === 'outliers') [common[5], common[77], common[300]] = [6 / Math.sqrt(d) * 8, -5 / Math.sqrt(d) * 8, 4 / Math.sqrt(d) * 8];
  const c = normalizeRows(common, d);
  for (const m of [x, q]) for (let i = 0; i < m.length; i++) m[i]! += 1.7 * c[i % d]!;
  return { x: normalizeRows(x, d), q: normalizeRows(q, d) };
}

/** The kp best of one query's keys or scores (larger first, equal ones by lower id). */
function bestKeys(keys: ArrayLike<number>, kp: number): number[] {
  const ids = Array.from({ length: kp }, () => -1);
  const ks = Array.from({ length: kp }, () => -Infinity);
  for (let i = 0; i < keys.length; i++) {
    const v = keys[i]!;
    if (v <= ks[kp - 1]!) continue;
    let p = kp - 1;
    while (p > 0 && ks[p - 1]! < v) {
      ks[p] = ks[p - 1]!;
      ids[p] = ids[p - 1]!;
      p--;
    }
    ks[p] = v;
    ids[p] = i;
  }
  return ids;
}

function topByScore(cands: number[], score: (i: number) => number, kk: number): number[] {
  return cands
    .map((i) => ({ i, s: score(i) }))
    .sort((a, b) => b.s - a.s || a.i - b.i)
    .slice(0, kk)
    .map((e) => e.i);
}

for (const data of values.data!.split(',')) {
  const t0 = performance.now();
  const { x, q } = rowsOf(data);
  // The f16 rows and each dimension's range over them.
  const bits = new Uint16Array(n * d);
  const xh = new Float32Array(n * d);
  const low = new Float32Array(d).fill(Infinity);
  const high = new Float32Array(d).fill(-Infinity);
  for (let i = 0; i < n * d; i++) {
    bits[i] = toHalfBits(x[i]!);
    xh[i] = fromHalfBits(bits[i]!);
    const j = i % d;
    low[j] = Math.min(low[j]!, xh[i]!);
    high[j] = Math.max(high[j]!, xh[i]!);
  }
  const maxima = low.map((l, j) => Math.max(-l, high[j]!));
  // Codes scaled from 0 (before 2026-12-05), and the centres and steps the shard takes (stepParams).
  const step = maxima.map((m) => (m > 0 ? m / 127 : 1));
  const params = stepParams({ low, high, maxima }, d);
  const centre = params.slice(0, d);
  const cstep = params.slice(d, 2 * d).map((v) => v || 1);
  const clampRound = (v: number) => Math.max(-127, Math.min(127, Math.round(v)));
  const linear = new Int16Array(n * d);
  const centred = new Int16Array(n * d);
  const highBytes = new Int16Array(n * d);
  // A high byte read as its half with low byte 0x80.
  const highValue = new Float32Array(256).map((_, b) => fromHalfBits((b << 8) | 0x80));
  for (let i = 0; i < n * d; i++) {
    const j = i % d;
    linear[i] = clampRound(xh[i]! / step[j]!);
    centred[i] = clampRound((xh[i]! - centre[j]!) / cstep[j]!);
    highBytes[i] = clampRound(highValue[bits[i]! >> 8]! / step[j]!);
  }
  const sq = trainSq(x, n, d);
  const sq8 = encodeRows(x, n, d, sq, false, d);
  const qf16 = quantizeQueries(q, nq, d, { vmin: new Float32Array(d), step }, true, d);
  const qcent = quantizeQueries(q, nq, d, { vmin: centre, step: cstep }, true, d);
  const qsq8 = quantizeQueries(q, nq, d, sq, true, d);
  const signedOf = (codes: Uint8Array, qi: number) => Int16Array.from(codes.subarray(qi * d, (qi + 1) * d), (c) => (c << 24) >> 24);
  const kpMax = Math.max(...factors.map((f) => Math.max(k + 16, f * k)));
  const stats = new Map<string, { hits: number; same: number }>();
  const keys = new Int32Array(n);
  const exactScores = new Float64Array(n);
  const count = (name: string, got: number[], want: number[]) => {
    const st = stats.get(name) ?? { hits: 0, same: 0 };
    st.hits += got.filter((i) => want.includes(i)).length;
    if (got.every((g, j) => g === want[j])) st.same++;
    stats.set(name, st);
  };
  for (let qi = 0; qi < nq; qi++) {
    const scoreOf = (rows: Float32Array) => (i: number) => {
      let s = 0;
      for (let j = 0; j < d; j++) s += q[qi * d + j]! * rows[i * d + j]!;
      return s;
    };
    const f16Score = scoreOf(xh);
    const f32Score = scoreOf(x);
    const exactBest = (score: (i: number) => number) => {
      for (let i = 0; i < n; i++) exactScores[i] = score(i);
      return bestKeys(exactScores, k);
    };
    const f16Exact = exactBest(f16Score);
    const f32Exact = exactBest(f32Score);
    count('f16-exact (vs f32)', f16Exact, f32Exact);
    const schemes = [
      { name: 'f16-codes', codes: centred, a: signedOf(qcent.codes, qi), score: f16Score, want: f16Exact },
      { name: 'f16-codes-0', codes: linear, a: signedOf(qf16.codes, qi), score: f16Score, want: f16Exact },
      { name: 'f16-high', codes: highBytes, a: signedOf(qf16.codes, qi), score: f16Score, want: f16Exact },
      { name: 'sq8 (vs f32)', codes: sq8, a: signedOf(qsq8.codes, qi), score: f32Score, want: f32Exact },
    ];
    for (const sc of schemes) {
      for (let i = 0; i < n; i++) {
        let s = 0;
        const o = i * d;
        for (let j = 0; j < d; j++) s += sc.a[j]! * sc.codes[o + j]!;
        keys[i] = s;
      }
      const cands = bestKeys(keys, kpMax);
      for (const f of factors) {
        const kp = Math.max(k + 16, f * k);
        count(`${sc.name} k'=${kp}`, topByScore(cands.slice(0, kp), sc.score, k), sc.want);
      }
    }
  }
  for (const [key, st] of stats) console.log(JSON.stringify({ data, n, d, nq, k, keys: key, recall: +(st.hits / (nq * k)).toFixed(4), ids_equal: `${st.same}/${nq}` }));
  console.error(`${data}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
