/**
 * CPU flat benchmark: tessera's WebAssembly exact search (SIMD128, 1 thread and all threads) vs a
 * plain TypeScript loop (the obvious per-row dot product and a k-heap), N=100k, d=768, IP, k=10.
 * Both answer the same queries; the run checks they return the same ids.
 *
 *   node bench/cpu-flat/main.mjs [--n 100000] [--d 768] [--nq 64] [--out bench/cpu-flat/results.json]
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { WasmFlatIndex } from '../../src/wasm/flat-index.js';
import { normalizeRows, randomVectors } from '../../test/helpers/data.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
const n = Number(arg('n', '100000'));
const d = Number(arg('d', '768'));
const nq = Number(arg('nq', '64'));
const k = 10;
const base = normalizeRows(randomVectors(n, d, 1), d);
const queries = normalizeRows(randomVectors(nq, d, 2), d);

/** One dot product, the obvious way (a small monomorphic function V8 optimises and inlines). */
function dot(a: Float32Array, ao: number, b: Float32Array, bo: number, len: number): number {
  let s = 0;
  for (let j = 0; j < len; j++) s += a[ao + j]! * b[bo + j]!;
  return s;
}

/** The plain loop: what a TypeScript user writes without SIMD or WebAssembly. */
function plainSearch(nq: number): Int32Array {
  const ids = new Int32Array(nq * k);
  const hd = new Float64Array(k);
  const hi = new Int32Array(k);
  for (let q = 0; q < nq; q++) {
    let fill = 0;
    const qo = q * d;
    for (let i = 0; i < n; i++) {
      const s = dot(queries, qo, base, i * d, d);
      if (fill < k) {
        // insertion into a sorted (descending) list of k
        let p = fill++;
        while (p > 0 && hd[p - 1]! < s) {
          hd[p] = hd[p - 1]!;
          hi[p] = hi[p - 1]!;
          p--;
        }
        hd[p] = s;
        hi[p] = i;
      } else if (s > hd[k - 1]!) {
        let p = k - 1;
        while (p > 0 && hd[p - 1]! < s) {
          hd[p] = hd[p - 1]!;
          hi[p] = hi[p - 1]!;
          p--;
        }
        hd[p] = s;
        hi[p] = i;
      }
    }
    ids.set(hi, q * k);
  }
  return ids;
}

const rows: Record<string, unknown>[] = [];
// Wall clock and CPU time (user + system, all threads): the shared machine gives a single thread
// anywhere from 15% to 100% of a core, so 1-thread rows report queries per CPU second too.
const cpuS = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const time = async <T>(f: () => Promise<T> | T) => {
  const t0 = performance.now();
  const c0 = cpuS();
  const value = await f();
  return { value, s: (performance.now() - t0) / 1000, cpu: cpuS() - c0 };
};

plainSearch(1); // warm-up: let V8 optimise the loop first
const plain = await time(() => plainSearch(nq));
rows.push({ impl: 'plain TypeScript loop', threads: 1, qps: nq / plain.s, qpsCpu: nq / plain.cpu });
for (const threads of [1, availableParallelism()]) {
  const index = await WasmFlatIndex.create(d, 'ip', { threads });
  await index.add(base);
  await index.search(queries, k); // warm-up (WebAssembly tier-up)
  let best = 0;
  let bestCpu = 0;
  let labels: BigInt64Array | undefined;
  for (let rep = 0; rep < 3; rep++) {
    const r = await time(() => index.search(queries, k));
    best = Math.max(best, nq / r.s);
    bestCpu = Math.max(bestCpu, nq / r.cpu);
    labels = r.value.labels;
  }
  let same = 0;
  for (let i = 0; i < nq * k; i++) same += Number(labels![i]) === plain.value[i] ? 1 : 0;
  rows.push({ impl: 'tessera WASM SIMD128', threads, qps: best, ...(threads === 1 ? { qpsCpu: bestCpu } : {}), sameIdsAsPlain: same / (nq * k) });
  await index.dispose();
}
const wasm1 = rows[1]!.qps as number;
const doc = {
  params: { n, d, nq, k, metric: 'ip' },
  machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, loadAvg: loadavg().map((x) => Number(x.toFixed(1))), date: new Date().toISOString() },
  rows,
  speedup1Thread: wasm1 / (rows[0]!.qps as number),
  speedup1ThreadCpu: (rows[1]!.qpsCpu as number) / (rows[0]!.qpsCpu as number),
};
console.log(JSON.stringify(doc, null, 1));
writeFileSync(arg('out', 'bench/cpu-flat/results.json'), `${JSON.stringify(doc, null, 1)}\n`);
process.exit(0);
