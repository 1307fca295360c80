/**
 * bench/gpu-int8/rerank-host: the int8 index's host re-rank alone (no GPU): N x d float32 rows kept
 * in memory (as rerankFrom 'memory'), nq queries with k' random candidate ids each (numeric, as the
 * index hands them over), best k by exact distance. Times GpuFlatIndex's own re-rank (called on a
 * stand-in object) for each --nq x --threads x --path: 'memory' (rerankMemory, the path for rows
 * in memory: candidate order, one job a worker) or 'sorted' (rerankSorted, the path for rows read
 * from a file: pairs sorted by row id, runs of rows), with the index's phase profile (setup: ids and
 * queries into WebAssembly memory; score: the workers or this thread; out: labels). 'inheap' is a
 * what-if, not an index path: every row copied once into the workers' shared WebAssembly memory
 * (doubling the rows' host memory), then each worker scores its queries' pairs straight from there
 * (rerank_pairs with the ids as row slots: no per-search copy) and this thread takes the best k
 * (rerank_topk); 'threads' 0 there means one worker. --min-pairs sets
 * rerankThreadsMinPairs (default 0 here: the worker count asked for is used at every nq). With
 * --phases 1, a breakdown of the old single-threaded pass (id conversion + sort, row gather,
 * per-pair scoring, top-k).
 *
 *   npx esbuild bench/gpu-int8/rerank-host.ts --bundle --platform=node --format=esm \
 *     --loader:.wgsl=text --external:webgpu --ignore-annotations --outfile=out/rerank-host/x.mjs
 *   node out/rerank-host/x.mjs --n 200000 --nq 16,1024 --threads 0,2 --path memory,sorted
 */
import { parseArgs } from 'node:util';
import '../../src/node.js';
import type { SearchResult } from '../../src/core/types.js';
import { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import { RerankWorkers, rerankTuning } from '../../src/gpu/rerank-workers.js';
import { MemoryRows, RowStore } from '../../src/io/row-source.js';
import { WasmHeap } from '../../src/wasm/module.js';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '200000' },
    d: { type: 'string', default: '768' },
    nq: { type: 'string', default: '1024' },
    kp: { type: 'string', default: '40' },
    k: { type: 'string', default: '10' },
    reps: { type: 'string', default: '5' },
    threads: { type: 'string', default: '1' },
    path: { type: 'string', default: 'memory' },
    'min-pairs': { type: 'string', default: '0' },
    phases: { type: 'string', default: '0' },
    dispatch: { type: 'string', default: 'shared' },
  },
});
const N = Number(values.n);
const d = Number(values.d);
const nqs = values.nq!.split(',').map(Number);
const nq = Math.max(...nqs);
const minPairs = Number(values['min-pairs']);
const W = Number(values.kp);
const k = Number(values.k);
const reps = Number(values.reps);

let seed = 7;
const rnd = () => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32) - 0.5;
const store = new RowStore(d);
const mem = store.memory();
const chunk = 16384;
const buf = new Float32Array(chunk * d);
for (let r = 0; r < N; r += chunk) {
  const c = Math.min(chunk, N - r);
  for (let i = 0; i < c * d; i++) buf[i] = rnd();
  mem.append(buf, c);
}
const q = new Float32Array(nq * d);
for (let i = 0; i < q.length; i++) q[i] = rnd();
const labels = new BigInt64Array(nq * W);
for (let i = 0; i < labels.length; i++) labels[i] = BigInt(Math.floor((rnd() + 0.5) * N));
const found: SearchResult = { nq, k: W, distances: new Float32Array(nq * W), labels };

function standIn(threads: number): any {
  const o = Object.create(GpuFlatIndex.prototype);
  Object.assign(o, { d, metric: 'ip', opts: { rerankThreads: threads, rerankThreadsMinPairs: minPairs }, rowStore: store, rerankStats: { ms: 0, rows: 0 }, profile: {}, disposed: false, shards: [], contexts: [], rerankQueue: Promise.resolve() });
  return o;
}

// The candidates as the index hands them to the re-rank: numbers, k' a query.
const ids = Float64Array.from(labels, Number);
const out: Record<string, unknown>[] = [];
const paths = values.path!.split(',');
for (const t of values.threads!.split(',').map(Number)) {
  if (paths.includes('inheap')) await inHeap(Math.max(1, t));
  const o = standIn(t);
  for (const path of paths.filter((x) => x !== 'inheap')) {
    for (const dispatch of values.dispatch!.split(',') as ('shared' | 'messages')[]) {
      rerankTuning.dispatch = dispatch;
      for (const nqi of nqs) {
        const cand = { nq: nqi, k: W, ids: ids.subarray(0, nqi * W) };
        const qi = q.subarray(0, nqi * d);
        const run = () => (path === 'sorted' ? o.rerankSorted(qi, nqi, cand, k) : o.rerankNow(qi, nqi, cand, k)) as Promise<SearchResult>;
        await run();
        o.profile = {};
        const { med, min } = await timeRuns(run);
        const prof = Object.fromEntries(Object.entries(o.profile as Record<string, number>).map(([key, v]) => [key, +(v / reps).toFixed(3)]));
        const row = { case: 'rerank', path, dispatch, threads: t, n: N, d, nq: nqi, kprime: W, k, ms: +med.toFixed(3), min_ms: +min.toFixed(3), usPerPair: +((med * 1000) / (nqi * W)).toFixed(3), pairsPerS: Math.round((nqi * W) / (med / 1000)), ...prof };
        console.log(JSON.stringify(row));
        out.push(row);
      }
    }
  }
  await (await (o as any).heap)?.workers?.release();
}

/** Median and fastest of `reps` timed runs (after the caller's warm-up run). */
async function timeRuns(run: () => Promise<unknown>): Promise<{ med: number; min: number }> {
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  times.sort((x, y) => x - y);
  return { med: times[Math.floor(times.length / 2)]!, min: times[0]! };
}

/** The 'inheap' what-if (see the header): rows in the shared module memory, no per-search copy. */
async function inHeap(threads: number): Promise<void> {
  const heap = await WasmHeap.create(true);
  const workers = await RerankWorkers.start(heap, threads);
  try {
    const rowsPtr = heap.alloc(N * d * 4);
    const qPtr = heap.alloc(nq * d * 4);
    const idsPtr = heap.alloc(nq * W * 4);
    const pqPtr = heap.alloc(nq * W * 4);
    const scPtr = heap.alloc(nq * W * 4);
    const tdPtr = heap.alloc(nq * k * 4);
    const tiPtr = heap.alloc(nq * k * 4);
    const heapRows = heap.f32(rowsPtr, N * d);
    const part = store.sharedChunks()!;
    part.chunks.forEach((c, i) => heapRows.set(c, part.starts[i]! * d));
    for (const nqi of nqs) {
      const run = async () => {
        heap.f32(qPtr, nqi * d).set(q.subarray(0, nqi * d));
        const idv = heap.i32(idsPtr, nqi * W);
        const pq = heap.i32(pqPtr, nqi * W);
        for (let p = 0; p < nqi * W; p++) {
          idv[p] = ids[p]!;
          pq[p] = Math.floor(p / W);
        }
        const parts = Math.min(threads, nqi);
        const per = Math.ceil(nqi / parts);
        const jobs = [];
        for (let j = 0; j < parts; j++) {
          const a = j * per * W;
          const b = Math.min(nqi, (j + 1) * per) * W;
          if (a < b) jobs.push({ args: [rowsPtr, d, qPtr, idsPtr + a * 4, pqPtr + a * 4, b - a, 0, scPtr + a * 4] });
        }
        await workers.run(jobs);
        (heap.exports.rerank_topk as (...a: number[]) => void)(scPtr, idsPtr, nqi, W, k, 0, tdPtr, tiPtr);
      };
      await run();
      const { med, min } = await timeRuns(run);
      const row = { case: 'rerank', path: 'inheap', threads, n: N, d, nq: nqi, kprime: W, k, ms: +med.toFixed(3), min_ms: +min.toFixed(3), usPerPair: +((med * 1000) / (nqi * W)).toFixed(3), pairsPerS: Math.round((nqi * W) / (med / 1000)) };
      console.log(JSON.stringify(row));
      out.push(row);
    }
  } finally {
    await workers.release();
  }
}

if (values.phases === '1') {
  // The pass as it was before rerank_pairs: one flat_search call per (row, query) pair.
  const heap = await WasmHeap.create(false);
  const rowBytes = d * 4;
  const chunkRows = Math.floor((1 << 20) / rowBytes);
  const rowsPtr = heap.alloc(chunkRows * rowBytes);
  const qPtr = heap.alloc(nq * rowBytes);
  const outPtr = heap.alloc(64);
  const SPAN = 1 << 20;
  const ph = { ids: 0, sort: 0, gather: 0, calls: 0, emptyCalls: 0, pairsCall: 0, topk: 0 };
  const slotPtr = heap.alloc(nq * W * 4);
  const qslotPtr = heap.alloc(nq * W * 4);
  const scorePtr = heap.alloc(nq * W * 4);
  const pairs = heap.exports.rerank_pairs as (...a: number[]) => void;
  for (let rep = 0; rep < reps; rep++) {
    let t0 = performance.now();
    const keys = new Float64Array(nq * W);
    const ids = new Int32Array(nq * W);
    let m = 0;
    for (let p = 0; p < nq * W; p++) {
      const l = labels[p]!;
      ids[p] = l >= 0n ? Number(l) : -1;
      if (l >= 0n) keys[m++] = Number(l) * SPAN + p;
    }
    let t1 = performance.now();
    ph.ids += t1 - t0;
    const sorted = keys.subarray(0, m).sort();
    t0 = performance.now();
    ph.sort += t0 - t1;
    heap.f32(qPtr, nq * d).set(q);
    const uniq = new Uint32Array(chunkRows);
    const scores = new Float32Array(nq * W);
    const f = heap.exports.flat_search;
    for (let a = 0; a < m; ) {
      let u = 0;
      let b = a;
      for (; b < m; b++) {
        const id = Math.floor(sorted[b]! / SPAN);
        if (u > 0 && id === uniq[u - 1]) continue;
        if (u === chunkRows) break;
        uniq[u++] = id;
      }
      let s0 = performance.now();
      await store.read(uniq, u, heap.f32(rowsPtr, u * d));
      let s1 = performance.now();
      ph.gather += s1 - s0;
      const od = heap.f32(outPtr, 1);
      let r = -1;
      let prev = -1;
      for (let t = a; t < b; t++) {
        const key = sorted[t]!;
        const id = Math.floor(key / SPAN);
        const p = key - id * SPAN;
        if (id !== prev) {
          r++;
          prev = id;
        }
        f(rowsPtr + r * rowBytes, 1, d, qPtr + Math.floor(p / W) * rowBytes, 1, 1, 0, 0, outPtr, outPtr + 16, outPtr + 32);
        scores[p] = od[0]!;
      }
      s0 = performance.now();
      ph.calls += s0 - s1;
      // the same calls over a 4-float row: call overhead without the dot product
      for (let t = a; t < b; t++) f(rowsPtr, 1, 4, qPtr, 1, 1, 0, 0, outPtr, outPtr + 16, outPtr + 32);
      s1 = performance.now();
      ph.emptyCalls += s1 - s0;
      // the same pairs in one rerank_pairs call (slots filled outside the timing)
      const slot = heap.i32(slotPtr, b - a);
      const qslot = heap.i32(qslotPtr, b - a);
      r = -1;
      prev = -1;
      for (let t = a; t < b; t++) {
        const id = Math.floor(sorted[t]! / SPAN);
        if (id !== prev) {
          r++;
          prev = id;
        }
        slot[t - a] = r;
        qslot[t - a] = Math.floor((sorted[t]! - id * SPAN) / W);
      }
      s0 = performance.now();
      pairs(rowsPtr, d, qPtr, slotPtr, qslotPtr, b - a, 0, scorePtr);
      ph.pairsCall += performance.now() - s0;
      a = b;
    }
    t0 = performance.now();
    const topD = new Float32Array(k);
    const topI = new Int32Array(k);
    const dist = new Float32Array(nq * k);
    const lab = new BigInt64Array(nq * k);
    for (let i = 0; i < nq; i++) {
      let filled = 0;
      for (let j = i * W; j < (i + 1) * W; j++) {
        const id = ids[j]!;
        const s = scores[j]!;
        let p = filled;
        while (p > 0) {
          const e = topD[p - 1]!;
          if (!(s > e) && !(s === e && id < topI[p - 1]!)) break;
          p--;
        }
        if (p >= k) continue;
        for (let t = Math.min(filled, k - 1); t > p; t--) {
          topD[t] = topD[t - 1]!;
          topI[t] = topI[t - 1]!;
        }
        topD[p] = s;
        topI[p] = id;
        if (filled < k) filled++;
      }
      for (let j = 0; j < filled; j++) {
        dist[i * k + j] = topD[j]!;
        lab[i * k + j] = BigInt(topI[j]!);
      }
    }
    ph.topk += performance.now() - t0;
  }
  const per = Object.fromEntries(Object.entries(ph).map(([a, v]) => [a, +(v / reps).toFixed(2)]));
  console.log(JSON.stringify({ case: 'phases (ms, single thread, flat_search per pair)', n: N, d, nq, kprime: W, ...per }));
}
