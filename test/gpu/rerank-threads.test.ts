/**
 * The int8 index's host re-rank: the native rerank_pairs kernel against a float64 oracle and against
 * flat_search over the same single row (the score the re-rank gave before), rerank_topk against a
 * sort with ties to the lower id, and the threaded re-rank
 * (workers copying rows from shared memory, or scoring rows this thread read) against the
 * single-threaded one: identical distances and ids. The re-rank itself needs no GPU: it runs on
 * GpuFlatIndex's rerankNow with a stand-in index; one end-to-end case uses the GPU where present.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/node.js';
import type { SearchResult } from '../../src/core/types.js';
import { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import { rerankTuning } from '../../src/gpu/rerank-workers.js';
import { FunctionRows, RowStore } from '../../src/io/row-source.js';
import { WasmHeap } from '../../src/wasm/module.js';
import { dedicatedWorkersAvailable } from '../../src/wasm/worker-pool.js';
import { clusteredVectors, normalizeRows, randomVectors, rng } from '../helpers/data.js';
import { gpuForTests } from '../helpers/gpu.js';
import { expectSameResult } from '../helpers/oracle.js';

type Metric = 'ip' | 'l2';

/** A GPU object whose adapter request fails: create() gets past its option checks, then stops. */
const unreachableGpu = {
  requestAdapter: async () => {
    throw new Error('no adapter here');
  },
  wgslLanguageFeatures: new Set(),
  getPreferredCanvasFormat: () => 'rgba8unorm',
};

describe('rerank_pairs', () => {
  for (const shared of [false, true]) {
    it(`scores (row, query) pairs as a float64 oracle does and as flat_search over one row (${shared ? 'threads' : 'simd'} build)`, async () => {
      if (shared && !dedicatedWorkersAvailable()) return;
      const heap = await WasmHeap.create(shared);
      const random = rng(91);
      for (const d of [1, 3, 7, 16, 100, 768]) {
        const nr = 37;
        const nqs = 11;
        const rows = randomVectors(nr, d, 100 + d);
        const qs = randomVectors(nqs, d, 200 + d);
        const n = 301;
        const pr = Int32Array.from({ length: n }, () => Math.floor(random() * nr));
        const pq = Int32Array.from({ length: n }, () => Math.floor(random() * nqs));
        const rowsPtr = heap.alloc(nr * d * 4);
        const qPtr = heap.alloc(nqs * d * 4);
        const prPtr = heap.alloc(n * 4);
        const pqPtr = heap.alloc(n * 4);
        const outPtr = heap.alloc(n * 4);
        const one = heap.alloc(64);
        heap.f32(rowsPtr, nr * d).set(rows);
        heap.f32(qPtr, nqs * d).set(qs);
        heap.i32(prPtr, n).set(pr);
        heap.i32(pqPtr, n).set(pq);
        for (const [code, metric] of [[0, 'ip'], [1, 'l2']] as const) {
          heap.f32(outPtr, n).fill(Number.NaN); // poison: every score must be written
          (heap.exports.rerank_pairs as (...a: number[]) => void)(rowsPtr, d, qPtr, prPtr, pqPtr, n, code, outPtr);
          const got = heap.f32(outPtr, n).slice();
          for (let i = 0; i < n; i++) {
            let ref = 0;
            let scale = 0;
            for (let j = 0; j < d; j++) {
              const a = qs[pq[i]! * d + j]!;
              const b = rows[pr[i]! * d + j]!;
              ref += metric === 'ip' ? a * b : (a - b) * (a - b);
              scale += metric === 'ip' ? Math.abs(a * b) : (a - b) * (a - b);
            }
            expect(Number.isFinite(got[i]!), `d ${d} pair ${i}`).toBe(true);
            expect(Math.abs(got[i]! - ref), `${metric} d ${d} pair ${i}`).toBeLessThanOrEqual(1e-5 * Math.max(scale, 1e-30));
            // Bit for bit the score one flat_search call over the single row gives.
            heap.exports.flat_search(rowsPtr + pr[i]! * d * 4, 1, d, qPtr + pq[i]! * d * 4, 1, 1, code, 0, one, one + 16, one + 32);
            expect(got[i], `${metric} d ${d} pair ${i} vs flat_search`).toBe(heap.f32(one, 1)[0]);
          }
        }
        for (const p of [rowsPtr, qPtr, prPtr, pqPtr, outPtr, one]) heap.release(p);
      }
    });
  }
});

describe('rerank_topk', () => {
  it('keeps the best k of each query (ties to the lower id, -1 candidates skipped, padding past the valid ones)', async () => {
    const heap = await WasmHeap.create(false);
    const random = rng(17);
    for (const [nq, w, k] of [[50, 40, 10], [30, 8, 8], [20, 5, 9], [10, 1, 1]] as const) {
      // Scores on a coarse grid: many equal scores, so the id order decides.
      const scores = Float32Array.from({ length: nq * w }, () => Math.floor(random() * 6) / 4 - 0.5);
      const ids = Int32Array.from({ length: nq * w }, () => (random() < 0.15 ? -1 : Math.floor(random() * 1000)));
      const sp = heap.alloc(nq * w * 4);
      const ip_ = heap.alloc(nq * w * 4);
      const od = heap.alloc(nq * k * 4);
      const oi = heap.alloc(nq * k * 4);
      heap.f32(sp, nq * w).set(scores);
      heap.i32(ip_, nq * w).set(ids);
      for (const [code, metric] of [[0, 'ip'], [1, 'l2']] as const) {
        heap.f32(od, nq * k).fill(Number.NaN);
        heap.i32(oi, nq * k).fill(-7);
        (heap.exports.rerank_topk as (...a: number[]) => void)(sp, ip_, nq, w, k, code, od, oi);
        const gotD = heap.f32(od, nq * k);
        const gotI = heap.i32(oi, nq * k);
        for (let i = 0; i < nq; i++) {
          const c: [number, number][] = [];
          for (let j = i * w; j < (i + 1) * w; j++) if (ids[j]! >= 0) c.push([scores[j]!, ids[j]!]);
          c.sort((a, b) => (metric === 'ip' ? b[0] - a[0] : a[0] - b[0]) || a[1] - b[1]);
          for (let j = 0; j < k; j++) {
            const want = c[j];
            expect(gotI[i * k + j], `${metric} query ${i} rank ${j}`).toBe(want ? want[1] : -1);
            expect(gotD[i * k + j], `${metric} query ${i} rank ${j}`).toBe(want ? want[0] : metric === 'ip' ? -Infinity : Infinity);
          }
        }
      }
      for (const p of [sp, ip_, od, oi]) heap.release(p);
    }
  });
});

/** A GpuFlatIndex without devices whose rerankNow reads `store` (only the re-rank runs). */
function standIn(d: number, metric: Metric, store: RowStore, opts: Record<string, unknown>): any {
  const o = Object.create(GpuFlatIndex.prototype);
  Object.assign(o, { d, metric, opts, rowStore: store, rerankStats: { ms: 0, rows: 0 }, profile: {}, disposed: false, shards: [], contexts: [], rerankQueue: Promise.resolve() });
  return o;
}

/** Candidate lists of W ids a query: rows near the query's own, repeats across queries, some -1. */
function candidates(nq: number, W: number, n: number, seed: number, holes: number): SearchResult {
  const random = rng(seed);
  const labels = new BigInt64Array(nq * W);
  for (let i = 0; i < nq; i++) {
    const centre = Math.floor(random() * n);
    const seen = new Set<number>();
    for (let j = 0; j < W; j++) {
      let id: number;
      do id = random() < 0.5 ? (centre + Math.floor(random() * 50)) % n : Math.floor(random() * n);
      while (seen.has(id));
      seen.add(id);
      labels[i * W + j] = random() < holes ? -1n : BigInt(id);
    }
  }
  return { nq, k: W, distances: new Float32Array(nq * W), labels };
}

/** float64 oracle of the exact re-rank: best k of each query's candidates, ties to the lower id. */
function oracle(base: Float32Array, q: Float32Array, d: number, found: SearchResult, k: number, metric: Metric): bigint[][] {
  const out: bigint[][] = [];
  for (let i = 0; i < found.nq; i++) {
    const c: [number, number][] = [];
    for (let j = 0; j < found.k; j++) {
      const l = found.labels[i * found.k + j]!;
      if (l < 0n) continue;
      const id = Number(l);
      let s = 0;
      for (let t = 0; t < d; t++) {
        const a = q[i * d + t]!;
        const b = base[id * d + t]!;
        s += metric === 'ip' ? a * b : (a - b) * (a - b);
      }
      c.push([metric === 'ip' ? -s : s, id]);
    }
    c.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    out.push(c.slice(0, k).map(([, id]) => BigInt(id)));
  }
  return out;
}

describe('threaded int8 re-rank', () => {
  const cases = [
    { name: 'random, d=96', base: () => randomVectors(3000, 96, 11), d: 96, metric: 'ip' as Metric, W: 21, k: 5, holes: 0 },
    { name: 'clustered, odd d=37, L2, k = k\'', base: () => normalizeRows(clusteredVectors(2500, 37, 8, 12), 37), d: 37, metric: 'l2' as Metric, W: 24, k: 24, holes: 0 },
    { name: 'clustered, d=64, k = k\' - 1, -1 candidates', base: () => normalizeRows(clusteredVectors(4000, 64, 5, 13), 64), d: 64, metric: 'ip' as Metric, W: 30, k: 29, holes: 0.2 },
  ];
  for (const c of cases) {
    it(`${c.name}: workers (rows in memory: query ranges in candidate order; rows read here: sorted runs) give the single-threaded result bit for bit`, async () => {
      const { d, metric, W, k } = c;
      const base = c.base();
      const n = base.length / d;
      const nq = 300;
      const q = randomVectors(nq, d, 31);
      const found = candidates(nq, W, n, 41, c.holes);
      // Memory rows in several appended chunks (the workers find each row's chunk).
      const memory = new RowStore(d);
      for (let r = 0; r < n; r += 700) memory.memory().append(base.subarray(r * d, Math.min(n, r + 700) * d), Math.min(700, n - r));
      // Rows from a generator: this thread reads them, the workers score.
      const generated = new RowStore(d);
      generated.push(new FunctionRows(d, n, (id, out) => out.set(base.subarray(id * d, (id + 1) * d))));
      expect(memory.sharedChunks()).toBeDefined();
      expect(generated.sharedChunks()).toBeUndefined();
      const want = oracle(base, q, d, found, k, metric);
      const runs: { label: string; r: SearchResult }[] = [];
      // Rows in memory with workers: shared jobs (this thread and the workers claim blocks; or the
      // workers alone, so their blocks are surely in the result) and one message a worker.
      // Also: threads woken for 4000 pairs each (1-2 workers here), and 7 blocks a thread.
      const modes = [
        { dispatch: 'shared' as const, caller: true, blocksPerThread: 2, pairsPerThread: 0 },
        { dispatch: 'shared' as const, caller: false, blocksPerThread: 2, pairsPerThread: 0 },
        { dispatch: 'shared' as const, caller: true, blocksPerThread: 7, pairsPerThread: 4000 },
        { dispatch: 'messages' as const, caller: true, blocksPerThread: 2, pairsPerThread: 0 },
      ];
      for (const store of [memory, generated]) {
        for (const rerankThreads of [0, 1, 3]) {
          // One stand-in (one re-rank host, its workers started once) for every buffer size and
          // mode below: both are read at each search (opts.rerankBufferBytes, rerankTuning), and a
          // host a search spent most of this test's time starting workers.
          // 6,300-9,000 pairs: under the default rerankThreadsMinPairs, so the threshold is lowered.
          const o = standIn(d, metric, store, { rerankThreads, rerankThreadsMinPairs: 1024 });
          try {
            // Buffers of 4000 / 1200 / 7 rows. Sorted runs (generated rows): one run of every pair, a
            // few runs of >= 1024 pairs (on the workers), or many small runs (scored on this thread).
            // Memory rows: blocks of every query of a part, of 1200 / W queries, or of one query.
            for (const rows of [4000, 1200, 7]) {
              for (const mode of store === memory && rerankThreads > 0 ? modes : modes.slice(0, 1)) {
                Object.assign(rerankTuning, mode);
                o.opts.rerankBufferBytes = rows * d * 4;
                const host = await o.rerankHost();
                const spied = host.workers ? { runShared: host.workers.runShared, run: host.workers.run, runBlocks: host.workers.runBlocks } : undefined;
                const rerankSorted = o.rerankSorted;
                try {
                  const jobs = { runs: 0, blocks: 0, parts: 0, queries: 0, shared: 0, callerBlocks: 0 };
                  if (host.workers) {
                    const runShared = host.workers.runShared.bind(host.workers);
                    host.workers.runShared = async (job: unknown, chunks: unknown) => {
                      jobs.shared++;
                      const mine = await runShared(job, chunks);
                      jobs.callerBlocks += mine;
                      return mine;
                    };
                    const run = host.workers.run.bind(host.workers);
                    host.workers.run = (js: unknown[]) => {
                      jobs.runs++;
                      return run(js);
                    };
                    const runBlocks = host.workers.runBlocks.bind(host.workers);
                    host.workers.runBlocks = (js: { q0: number; q1: number }[]) => {
                      jobs.blocks++;
                      jobs.parts += js.length;
                      for (const j of js) jobs.queries += j.q1 - j.q0;
                      return runBlocks(js);
                    };
                  }
                  const before = o.rerankStats.rows;
                  let sortedPasses = 0;
                  const sorted = o.rerankSorted.bind(o);
                  o.rerankSorted = (...a: unknown[]) => {
                    sortedPasses++;
                    return sorted(...a);
                  };
                  const r: SearchResult = await o.rerankNow(q, nq, found, k);
                  const label = `${store === memory ? 'memory' : 'generated'} threads ${rerankThreads} rows ${rows} ${JSON.stringify(mode)}`;
                  runs.push({ label, r });
                  if (store === memory) expect(o.rerankStats.rows - before, label).toBe(Array.from(found.labels).filter((l) => l >= 0n).length);
                  // Rows in memory never take the sorted pass; rows from elsewhere always do.
                  expect(sortedPasses, label).toBe(store === memory ? 0 : 1);
                  if (rerankThreads > 0 && dedicatedWorkersAvailable()) {
                    expect(host.workers.size, label).toBe(rerankThreads);
                    if (store === memory && mode.dispatch === 'shared') {
                      // One shared job for the whole search: no message; the workers alone score when told to.
                      expect(host.workers.shared, label).toBe(true);
                      expect(jobs, label).toEqual({ runs: 0, blocks: 0, parts: 0, queries: 0, shared: 1, callerBlocks: mode.caller ? jobs.callerBlocks : 0 });
                    } else if (store === memory) {
                      // One message a worker for the whole search, every query in exactly one part.
                      expect(jobs, label).toEqual({ runs: 0, blocks: 1, parts: rerankThreads, queries: nq, shared: 0, callerBlocks: 0 });
                    } else {
                      expect(jobs.blocks, label).toBe(0);
                      expect(jobs.shared, label).toBe(0);
                      expect(jobs.runs, label).toBe(rows === 7 ? 0 : rows === 4000 ? 1 : jobs.runs);
                      if (rows === 1200) expect(jobs.runs, label).toBeGreaterThanOrEqual(2);
                    }
                  }
                } finally {
                  Object.assign(rerankTuning, modes[0]);
                  // The spies off: the next run counts its own jobs.
                  if (spied) Object.assign(host.workers, spied);
                  o.rerankSorted = rerankSorted;
                }
              }
            }
          } finally {
            await (await o.heap)?.workers?.release();
          }
        }
      }
      const ref = runs[0]!.r;
      for (let i = 0; i < nq; i++) {
        const got = Array.from(ref.labels.subarray(i * k, (i + 1) * k)).filter((l) => l >= 0n);
        expect(got, `query ${i} vs float64 oracle`).toEqual(want[i]);
        for (let j = want[i]!.length; j < k; j++) expect(ref.labels[i * k + j]).toBe(-1n);
      }
      for (const { label, r } of runs.slice(1)) expectSameResult(r, ref, label);
    });
  }

  /** Stops worker t of an index's re-rank host the way a crash would (not through release()). */
  async function killWorker(host: any, t: number): Promise<void> {
    const pool = host.workers.workers; // RerankWorkers -> WasmWorkers
    await pool.workers[t].terminate();
    // The exit event reaches WasmWorkers on a later turn of the event loop.
    for (let i = 0; i < 100 && !pool.lost; i++) await new Promise((r) => setTimeout(r, 10));
    expect(pool.lost?.code).toBe('DEVICE_LOST');
  }

  for (const dispatch of ['shared', 'messages'] as const) {
    it(`a re-rank worker that stopped on its own fails later searches with DEVICE_LOST naming it (${dispatch})`, async () => {
      if (!dedicatedWorkersAvailable()) return;
      const d = 32, n = 2000, nq = 40, W = 10;
      const store = new RowStore(d);
      store.memory().append(randomVectors(n, d, 5), n);
      const found = candidates(nq, W, n, 6, 0);
      Object.assign(rerankTuning, { dispatch, caller: false });
      const o = standIn(d, 'ip', store, { rerankThreads: 2, rerankThreadsMinPairs: 0 });
      try {
        const host = await o.rerankHost();
        expect(host.workers.size).toBe(2);
        await o.rerankNow(randomVectors(nq, d, 7), nq, found, 5); // healthy first
        await killWorker(host, 1);
        const usedBefore = host.heap.used;
        await expect(o.rerankNow(randomVectors(nq, d, 7), nq, found, 5)).rejects.toMatchObject({ code: 'DEVICE_LOST', message: expect.stringMatching(/re-rank worker 1 stopped .*create it again/) });
        expect(host.heap.used, 'failed before allocating').toBe(usedBefore);
      } finally {
        Object.assign(rerankTuning, { dispatch: 'shared', caller: true });
        await (await o.heap)?.workers?.release();
      }
    });
  }

  it('a re-rank worker stopped while it scores a shared job: the search settles (exact, or DEVICE_LOST), never hangs', async () => {
    if (!dedicatedWorkersAvailable()) return;
    // One worker scores everything (caller off) and is stopped mid-job; this thread does not block
    // (blockingMs 0), so the exit event gets through while it waits for the blocks.
    const d = 256, n = 20000, nq = 2000, W = 64;
    const base = randomVectors(n, d, 8);
    const store = new RowStore(d);
    store.memory().append(base, n);
    const found = candidates(nq, W, n, 9, 0);
    const q = randomVectors(nq, d, 10);
    Object.assign(rerankTuning, { dispatch: 'shared', caller: false, blockingMs: 0 });
    const o = standIn(d, 'ip', store, { rerankThreads: 1, rerankThreadsMinPairs: 0 });
    try {
      const host = await o.rerankHost();
      const usedBefore = host.heap.used;
      const search = o.rerankNow(q, nq, found, 5).then(
        (r: SearchResult) => ({ r }),
        (e: { code?: string }) => ({ e }),
      );
      setTimeout(() => void host.workers.workers.workers[0].terminate(), 5);
      const settled = await Promise.race([search, new Promise((r) => setTimeout(() => r('hung'), 20_000))]);
      expect(settled).not.toBe('hung');
      const s = settled as { r?: SearchResult; e?: { code?: string } };
      if (s.e) {
        expect(s.e.code).toBe('DEVICE_LOST');
        // The search's buffers stay allocated: a worker still scoring may write into them.
        expect(host.heap.used).toBeGreaterThan(usedBefore);
      } else expect(Array.from(s.r!.labels.subarray(0, 5))).toEqual(oracle(base, q, d, found, 5, 'ip')[0]);
    } finally {
      Object.assign(rerankTuning, { dispatch: 'shared', caller: true, blockingMs: 200 });
      await (await o.heap)?.workers?.release();
    }
  });

  it('re-rank workers left running (no dispose) do not keep Node from exiting, and finish their jobs first', async () => {
    if (!dedicatedWorkersAvailable()) return;
    const dir = mkdtempSync(join(tmpdir(), 'tessera-rerank-exit-'));
    try {
      const src = join(dir, 'entry.ts');
      const root = join(import.meta.dirname, '../..');
      writeFileSync(
        src,
        `import ${JSON.stringify(join(root, 'src/node.js'))};
import { GpuFlatIndex } from ${JSON.stringify(join(root, 'src/gpu/flat-index.js'))};
import { RowStore } from ${JSON.stringify(join(root, 'src/io/row-source.js'))};
const d = 16, n = 4000, nq = 500, W = 20; // 10,000 pairs: past the default rerankThreadsMinPairs
const store = new RowStore(d);
store.memory().append(new Float32Array(n * d).map((_, i) => Math.sin(i)), n);
const o: any = Object.create(GpuFlatIndex.prototype);
Object.assign(o, { d, metric: 'ip', opts: { rerankThreads: 2 }, rowStore: store, rerankStats: { ms: 0, rows: 0 }, profile: {}, disposed: false, shards: [], contexts: [], rerankQueue: Promise.resolve() });
const labels = new BigInt64Array(nq * W).map((_, i) => BigInt((i * 7919) % n));
const r = await o.rerankNow(new Float32Array(nq * d).fill(0.5), nq, { nq, k: W, distances: new Float32Array(nq * W), labels }, 5);
console.log(JSON.stringify({ workers: (await o.heap).workers.size, first: String(r.labels[0]) }));
`,
      );
      const out = join(dir, 'entry.mjs');
      await build({ entryPoints: [src], bundle: true, platform: 'node', format: 'esm', outfile: out, loader: { '.wgsl': 'text' }, external: ['webgpu'], logLevel: 'error' });
      const t = performance.now();
      const stdout = execFileSync(process.execPath, [out], { encoding: 'utf8', timeout: 20000 });
      expect(JSON.parse(stdout.trim().split('\n').at(-1)!)).toMatchObject({ workers: 2 });
      expect(performance.now() - t).toBeLessThan(15000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('searches of fewer pairs than rerankThreadsMinPairs (default 128) re-rank on the calling thread: no workers started, same results', async () => {
    const d = 32;
    const n = 3000;
    const base = randomVectors(n, d, 61);
    const store = new RowStore(d);
    store.memory().append(base, n);
    const W = 20;
    for (const nq of [1, 6, 7, 410]) {
      // 20 / 120 pairs stay here; 140 / 8,200 go to the workers.
      const q = randomVectors(nq, d, 62);
      const found = candidates(nq, W, n, 63, 0.1);
      const alone = standIn(d, 'l2', store, { rerankThreads: 0 });
      const o = standIn(d, 'l2', store, { rerankThreads: 2 });
      try {
        const want: SearchResult = await alone.rerankNow(q, nq, found, 7);
        const got: SearchResult = await o.rerankNow(q, nq, found, 7);
        expect(Array.from(got.labels), `nq ${nq}`).toEqual(Array.from(want.labels));
        expect(Array.from(got.distances), `nq ${nq}`).toEqual(Array.from(want.distances));
        const host = await o.heap;
        if (nq * W < 128 || !dedicatedWorkersAvailable()) expect(host?.workers, `nq ${nq}`).toBeUndefined();
        else expect(host.workers.size, `nq ${nq}`).toBe(2);
      } finally {
        await (await o.heap)?.workers?.release();
      }
    }
  });

  it('rerankThreads and rerankThreadsMinPairs are checked when the index is created (before any device is opened)', async () => {
    // No GPU needed: the options are refused before openDevices.
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ rerankThreads: -1 }, /rerankThreads must be an integer in \[0, 256\].*got -1/],
      [{ rerankThreads: 1.5 }, /rerankThreads must be an integer in \[0, 256\].*got 1\.5/],
      [{ rerankThreads: 257 }, /rerankThreads .*got 257/],
      [{ rerankThreadsMinPairs: -1 }, /rerankThreadsMinPairs must be an integer >= 0.*got -1/],
      [{ rerankThreadsMinPairs: 0.5 }, /rerankThreadsMinPairs must be an integer >= 0.*got 0\.5/],
      [{ rerankThreadsMinPairs: Number.NaN }, /rerankThreadsMinPairs .*got NaN/],
    ];
    for (const [opts, message] of cases) {
      await expect(GpuFlatIndex.create(8, 'ip', { precision: 'int8', gpu: unreachableGpu, ...opts } as never), JSON.stringify(opts)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(message) });
    }
    // Good values pass the check and reach the device (here: a GPU object that refuses to open).
    await expect(GpuFlatIndex.create(8, 'ip', { precision: 'int8', gpu: unreachableGpu, rerankThreads: 0, rerankThreadsMinPairs: 0 } as never)).rejects.toThrow(/no adapter here/);
  });

  it('rows in memory: an id past the rows kept is INVALID_ARGUMENT, on this thread and with workers', async () => {
    const d = 8;
    const store = new RowStore(d);
    store.memory().append(new Float32Array(4 * d).fill(1), 4);
    for (const rerankThreads of [0, 2]) {
      const o = standIn(d, 'ip', store, { rerankThreads, rerankThreadsMinPairs: 0 });
      try {
        const found: SearchResult = { nq: 2, k: 2, distances: new Float32Array(4), labels: new BigInt64Array([0n, 1n, 3n, 4n]) };
        await expect(o.rerankNow(new Float32Array(2 * d), 2, found, 1)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/row 4 has no float32 copy/) });
      } finally {
        await (await o.heap)?.workers?.release();
      }
    }
  });
});

const hasGpu = await gpuForTests('threaded int8 re-rank');

describe.runIf(hasGpu)('threaded int8 re-rank on the GPU index', () => {
  const indexes: GpuFlatIndex[] = [];
  afterAll(async () => {
    for (const i of indexes) await i.dispose();
  });

  it('an int8 index searches the same with rerankThreads 0 and 2, and dispose() stops the workers', async () => {
    const d = 48;
    const base = normalizeRows(clusteredVectors(3000, d, 10, 51), d);
    const q = normalizeRows(clusteredVectors(64, d, 10, 52), d);
    const results: SearchResult[] = [];
    for (const rerankThreads of [0, 2]) {
      // 64 x 40 pairs: under the default rerankThreadsMinPairs, so the threshold is lowered.
      const index = await GpuFlatIndex.create(d, 'ip', { precision: 'int8', rerankThreads, rerankDepth: 40, rerankThreadsMinPairs: 1024 });
      indexes.push(index);
      await index.add(base);
      results.push(await index.search(q, 10));
      const host = await (index as any).heap;
      expect(host.workers?.size ?? 0).toBe(dedicatedWorkersAvailable() ? rerankThreads : 0);
      await index.dispose();
      if (host.workers) expect(host.workers.released).toBe(true);
    }
    expect(Array.from(results[1]!.labels)).toEqual(Array.from(results[0]!.labels));
    expect(Array.from(results[1]!.distances)).toEqual(Array.from(results[0]!.distances));
  });

  it('queries in a SharedArrayBuffer, or views into a larger one, search the same as a plain copy (d a multiple of 4: no padding copy)', async () => {
    const d = 32;
    const base = normalizeRows(clusteredVectors(2000, d, 8, 71), d);
    const q = normalizeRows(clusteredVectors(40, d, 8, 72), d);
    for (const [precision, metric] of [['int8', 'ip'], ['f32', 'l2']] as const) {
      const index = await GpuFlatIndex.create(d, metric, { precision, rerankSubBatch: 16 });
      indexes.push(index);
      await index.add(base);
      const want = await index.search(q.slice(), 10);
      const shared = new Float32Array(new SharedArrayBuffer(q.byteLength));
      shared.set(q);
      const inside = new Float32Array((40 + 3) * d);
      inside.set(q, 3 * d);
      for (const [label, qq] of [['shared', shared], ['view at an offset', inside.subarray(3 * d)]] as const) {
        const got = await index.search(qq, 10);
        expect(Array.from(got.labels), `${precision} ${label}`).toEqual(Array.from(want.labels));
        expect(Array.from(got.distances), `${precision} ${label}`).toEqual(Array.from(want.distances));
      }
      expect(Array.from(inside.subarray(3 * d)), 'the queries are not written').toEqual(Array.from(q));
    }
  });
});
