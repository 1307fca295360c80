/**
 * One adapter per library of the CPU ANN benchmark. Each runs in a child process of its own (so its
 * memory and threads do not mix with another's), builds HNSW with the same M / efConstruction on the
 * same data, and searches all queries at each efSearch, 1 thread and (where the library can) all threads.
 */
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { memorySink, memorySource } from '../../src/io/byte-reader.js';
import { WasmHnswIndex } from '../../src/wasm/hnsw-index.js';
import type { BenchContext, BenchRow } from './types.js';

const require = createRequire(import.meta.url);

export interface HnswParams {
  M: number;
  efConstruction: number;
  efSearch: readonly number[];
}

function cpuS(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

async function timed<T>(f: () => Promise<T> | T): Promise<{ value: T; wallS: number; cpuS: number }> {
  const w0 = performance.now();
  const c0 = cpuS();
  const value = await f();
  return { value, wallS: (performance.now() - w0) / 1000, cpuS: cpuS() - c0 };
}

type Row = Omit<BenchRow, 'library' | 'index' | 'd' | 'n'>;

function rows(ctx: BenchContext, library: string, p: HnswParams, list: Row[]): BenchRow[] {
  return list.map((r) => ({ library, index: `HNSW${p.M} efC${p.efConstruction}`, d: ctx.d, n: ctx.n, ...r }));
}

/** tessera: single-threaded build (deterministic), then the same graph searched with 1 and all threads; a parallel build too. */
export async function tessera(ctx: BenchContext, p: HnswParams, parallelBuild: boolean): Promise<BenchRow[]> {
  const out: Row[] = [];
  const rss0 = ctx.rssMB();
  const build = await timed(async () => {
    const index = await WasmHnswIndex.create(ctx.d, p.M, 'ip', { threads: 1, efConstruction: p.efConstruction });
    await index.add(ctx.base);
    return index;
  });
  const index = build.value;
  const memoryMB = index.memoryBytes / 2 ** 20;
  const buildInfo = { buildS: build.wallS, buildCpuS: build.cpuS, buildThreads: 1, memoryMB };
  for (const ef of p.efSearch) {
    let labels: BigInt64Array | undefined;
    const t = await ctx.timeSearch(async () => (labels = (await index.search(ctx.queries, ctx.k, { efSearch: ef })).labels));
    out.push({ threads: 1, param: 'efSearch', value: ef, recall: ctx.recall(labels!), qps: t.qps, qpsCpu: t.qpsCpu, ...buildInfo, note: `RSS +${(ctx.rssMB() - rss0).toFixed(0)} MB` });
  }
  // The same graph with all threads: saved as a FAISS file in memory and loaded with a worker pool.
  if (ctx.threadsAll > 1) {
    const sink = memorySink();
    await index.save(sink);
    const multi = await WasmHnswIndex.load(memorySource(sink.bytes()), { threads: ctx.threadsAll });
    for (const ef of p.efSearch) {
      let labels: BigInt64Array | undefined;
      const t = await ctx.timeSearch(async () => (labels = (await multi.search(ctx.queries, ctx.k, { efSearch: ef })).labels));
      out.push({ threads: multi.threads, param: 'efSearch', value: ef, recall: ctx.recall(labels!), qps: t.qps, ...buildInfo });
    }
    await multi.dispose();
  }
  await index.dispose();
  if (parallelBuild && ctx.threadsAll > 1) {
    const pb = await timed(async () => {
      const i = await WasmHnswIndex.create(ctx.d, p.M, 'ip', { threads: ctx.threadsAll, efConstruction: p.efConstruction });
      await i.add(ctx.base);
      return i;
    });
    const i = pb.value;
    for (const ef of p.efSearch) {
      let labels: BigInt64Array | undefined;
      const t = await ctx.timeSearch(async () => (labels = (await i.search(ctx.queries, ctx.k, { efSearch: ef })).labels));
      out.push({ threads: i.threads, param: 'efSearch', value: ef, recall: ctx.recall(labels!), qps: t.qps, buildS: pb.wallS, buildCpuS: pb.cpuS, buildThreads: i.threads, memoryMB: i.memoryBytes / 2 ** 20, note: 'parallel build' });
    }
    await i.dispose();
  }
  return rows(ctx, 'tessera (WASM SIMD)', p, out);
}

/** hnswlib-node 3 (native addon, hnswlib C++ with SSE): its API takes number[] and searches one query per call. */
export async function hnswlibNode(ctx: BenchContext, p: HnswParams): Promise<BenchRow[]> {
  const { HierarchicalNSW } = require('hnswlib-node');
  const { d, n } = ctx;
  const rss0 = ctx.rssMB();
  const build = await timed(() => {
    const h = new HierarchicalNSW('ip', d);
    h.initIndex(n, p.M, p.efConstruction, 100);
    for (let i = 0; i < n; i++) h.addPoint(Array.from(ctx.base.subarray(i * d, (i + 1) * d)), i);
    return h;
  });
  const h = build.value;
  const memoryMB = ctx.rssMB() - rss0;
  const qs: number[][] = [];
  for (let i = 0; i < ctx.nq; i++) qs.push(Array.from(ctx.queries.subarray(i * d, (i + 1) * d)));
  const out: Row[] = [];
  for (const ef of p.efSearch) {
    h.setEf(ef);
    const ids = new Int32Array(ctx.nq * ctx.k);
    const t = await ctx.timeSearch(() => {
      for (let i = 0; i < ctx.nq; i++) ids.set(h.searchKnn(qs[i], ctx.k).neighbors, i * ctx.k);
    });
    out.push({ threads: 1, param: 'efSearch', value: ef, recall: ctx.recall(ids), qps: t.qps, qpsCpu: t.qpsCpu, buildS: build.wallS, buildCpuS: build.cpuS, buildThreads: 1, memoryMB, note: 'RSS delta; build includes number[] conversion' });
  }
  return rows(ctx, 'hnswlib-node (native)', p, out);
}

/** hnswlib-wasm 0.8.2: emscripten build without SIMD, web-only; loaded in Node through its factory with window = globalThis. */
export async function hnswlibWasm(ctx: BenchContext, p: HnswParams): Promise<BenchRow[]> {
  (globalThis as Record<string, unknown>).window = globalThis;
  const { readdirSync } = await import('node:fs');
  const { fileURLToPath } = await import('node:url');
  // the package's own entry wants a browser; its emscripten factory (dist/hnswlib-<hash>.js) runs in Node
  const dir = fileURLToPath(new URL('./dist/', import.meta.resolve('hnswlib-wasm/package.json')));
  const file = readdirSync(dir).find((f) => /^hnswlib-[0-9a-f]+\.js$/.test(f));
  const factory = (await import(`${dir}${file}`)).default;
  const lib = await factory();
  const { d, n } = ctx;
  const rss0 = ctx.rssMB();
  const build = await timed(() => {
    const h = new lib.HierarchicalNSW('ip', d, '');
    h.initIndex(n, p.M, p.efConstruction, 100);
    for (let i = 0; i < n; i++) h.addPoint(ctx.base.subarray(i * d, (i + 1) * d), i, false);
    return h;
  });
  const h = build.value;
  const memoryMB = ctx.rssMB() - rss0;
  const out: Row[] = [];
  for (const ef of p.efSearch) {
    h.setEfSearch(ef);
    const ids = new Int32Array(ctx.nq * ctx.k);
    const t = await ctx.timeSearch(() => {
      for (let i = 0; i < ctx.nq; i++) ids.set(h.searchKnn(ctx.queries.subarray(i * d, (i + 1) * d), ctx.k, undefined).neighbors, i * ctx.k);
    });
    out.push({ threads: 1, param: 'efSearch', value: ef, recall: ctx.recall(ids), qps: t.qps, qpsCpu: t.qpsCpu, buildS: build.wallS, buildCpuS: build.cpuS, buildThreads: 1, memoryMB, note: 'RSS delta' });
  }
  return rows(ctx, 'hnswlib-wasm (no SIMD)', p, out);
}

/**
 * usearch 2 (native addon): connectivity = M, expansion_add = efConstruction. Its expansion_search is
 * fixed per index object, so each efSearch reloads the saved index with another setting.
 */
export async function usearch(ctx: BenchContext, p: HnswParams, tmpFile: string): Promise<BenchRow[]> {
  const us = require('usearch');
  const { d, n } = ctx;
  const keys = new BigUint64Array(n);
  for (let i = 0; i < n; i++) keys[i] = BigInt(i);
  const make = (ef: number) => new us.Index({ dimensions: d, metric: 'ip', connectivity: p.M, expansion_add: p.efConstruction, expansion_search: ef });
  const out: Row[] = [];
  // One single-threaded build (the build-time comparison), searched with 1 and all threads.
  const rss0 = ctx.rssMB();
  const build = await timed(() => {
    const u = make(p.efSearch[0]!);
    u.add(keys, ctx.base, 1);
    return u;
  });
  const memoryMB = ctx.rssMB() - rss0;
  build.value.save(tmpFile);
  for (const threads of ctx.threadsAll > 1 ? [1, ctx.threadsAll] : [1]) {
    for (const ef of p.efSearch) {
      const u = make(ef);
      u.load(tmpFile);
      let got: BigUint64Array | undefined;
      const t = await ctx.timeSearch(() => (got = u.search(ctx.queries, ctx.k, threads).keys));
      out.push({ threads, param: 'efSearch', value: ef, recall: ctx.recall(got!), qps: t.qps, qpsCpu: threads === 1 ? t.qpsCpu : undefined, buildS: build.wallS, buildCpuS: build.cpuS, buildThreads: 1, memoryMB, note: 'RSS delta' });
    }
  }
  return rows(ctx, 'usearch (native)', p, out);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Rounds of the interleaved search: A/B then B/A alternately, medians reported. */
const DUEL_ROUNDS = 9;

/**
 * tessera and hnswlib-node side by side in one process, interleaved so both see the same machine
 * load (the shared 2-core machine swings by 2x within minutes): the builds alternate in chunks of
 * n/10 vectors (tessera's incremental adds, hnswlib's addPoint), CPU time summed per library; the
 * searches alternate at each efSearch over DUEL_ROUNDS rounds (which goes first alternates), and
 * each library's median wall-clock and CPU-time QPS is reported, with the 1-minute load average
 * sampled at every round (min / median / max in the note). Single thread.
 */
export async function duel(ctx: BenchContext, p: HnswParams): Promise<BenchRow[]> {
  const { HierarchicalNSW } = require('hnswlib-node');
  const { d, n } = ctx;
  const t = await WasmHnswIndex.create(d, p.M, 'ip', { threads: 1, efConstruction: p.efConstruction });
  const h = new HierarchicalNSW('ip', d);
  h.initIndex(n, p.M, p.efConstruction, 100);
  const build = { t: { wall: 0, cpu: 0 }, h: { wall: 0, cpu: 0 } };
  const buildLoad: number[] = [];
  const chunk = Math.ceil(n / 10);
  for (let a = 0; a < n; a += chunk) {
    const b = Math.min(n, a + chunk);
    const bt = await timed(() => t.add(ctx.base.subarray(a * d, b * d)));
    const bh = await timed(() => {
      for (let i = a; i < b; i++) h.addPoint(Array.from(ctx.base.subarray(i * d, (i + 1) * d)), i);
    });
    build.t.wall += bt.wallS;
    build.t.cpu += bt.cpuS;
    build.h.wall += bh.wallS;
    build.h.cpu += bh.cpuS;
    buildLoad.push(loadavg()[0]!);
  }
  const loadText = (xs: number[]) => `load ${Math.min(...xs).toFixed(1)}/${median(xs).toFixed(1)}/${Math.max(...xs).toFixed(1)}`;
  const qs: number[][] = [];
  for (let i = 0; i < ctx.nq; i++) qs.push(Array.from(ctx.queries.subarray(i * d, (i + 1) * d)));
  const out: BenchRow[] = [];
  const index = `HNSW${p.M} efC${p.efConstruction}, interleaved`;
  const cpuNow = cpuS;
  for (const ef of p.efSearch) {
    h.setEf(ef);
    const ids = new Int32Array(ctx.nq * ctx.k);
    let labels: BigInt64Array | undefined;
    const runT = async () => (labels = (await t.search(ctx.queries, ctx.k, { efSearch: ef })).labels);
    const runH = () => {
      for (let i = 0; i < ctx.nq; i++) ids.set(h.searchKnn(qs[i], ctx.k).neighbors, i * ctx.k);
    };
    await runT();
    runH();
    const got = { t: { wall: [] as number[], cpu: [] as number[] }, h: { wall: [] as number[], cpu: [] as number[] } };
    const load: number[] = [];
    for (let rep = 0; rep < DUEL_ROUNDS; rep++) {
      const order = rep % 2 === 0 ? (['t', 'h'] as const) : (['h', 't'] as const);
      for (const key of order) {
        const w0 = performance.now();
        const c0 = cpuNow();
        await (key === 't' ? runT() : runH());
        got[key].wall.push(ctx.nq / ((performance.now() - w0) / 1000));
        got[key].cpu.push(ctx.nq / Math.max(1e-6, cpuNow() - c0));
      }
      load.push(loadavg()[0]!);
    }
    const how = `median of ${DUEL_ROUNDS} alternating rounds; search ${loadText(load)}; build ${loadText(buildLoad)}`;
    out.push({ library: 'tessera (WASM SIMD)', index, d, n, threads: 1, param: 'efSearch', value: ef, recall: ctx.recall(labels!), qps: median(got.t.wall), qpsCpu: median(got.t.cpu), buildS: build.t.wall, buildCpuS: build.t.cpu, buildThreads: 1, memoryMB: t.memoryBytes / 2 ** 20, note: `interleaved with hnswlib-node; 10 adds of n/10; ${how}` });
    out.push({ library: 'hnswlib-node (native)', index, d, n, threads: 1, param: 'efSearch', value: ef, recall: ctx.recall(ids), qps: median(got.h.wall), qpsCpu: median(got.h.cpu), buildS: build.h.wall, buildCpuS: build.h.cpu, buildThreads: 1, note: `interleaved with tessera; build includes number[] conversion; ${how}` });
  }
  await t.dispose();
  return out;
}
