/**
 * IVF and SQ8 rows of the CPU ANN benchmark (bench/cpu-ann/run.ts calls the default export in a child
 * process), and the "past 4 GiB" demonstration.
 *
 * Rows: IVF<nlist>,Flat, IVF<nlist>,SQ8 and SQ8 on the harness's data, recall@10 vs QPS at several
 * nprobe, 1 thread and all threads; memoryMB is the index's own WebAssembly bytes (codes, int32 ids,
 * centroids), and the note gives it as a fraction of the flat float32 vectors (n x d x 4 bytes).
 *
 * Past 4 GiB (run alone, late, once: it needs ~7 GB RAM and a few minutes):
 *   npx esbuild bench/cpu-ann/ivf.ts --bundle --platform=node --format=esm --packages=external --outfile=out/ivf/ivf.mjs
 *   node --expose-gc out/ivf/ivf.mjs --past-4gb [--n 7500000] [--d 768] [--nq 20] [--file out/ivf/sq8-big.index]
 * generates n clustered vectors chunk by chunk (never all as float32), encodes them into an SQ8 index
 * sharded over 4 GiB WebAssembly memories, computes the exact top-10 of nq queries on the fly (native
 * flat search per chunk), searches the shards and reports recall, QPS, memory, then writes one FAISS
 * file, prints `tessera info`'s shard plan for it and searches it again after loading it back.
 */
import { statSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { loadavg } from 'node:os';
import { pathToFileURL } from 'node:url';
// Not src/node.js: that pulls in the GPU backend (WGSL imports need a bundler loader).
import '../../src/wasm/register.js';
import { nodeFileSystem } from '../../src/io/node-fs.js';
import { installPlatform } from '../../src/platform.js';
import { indexFactory } from '../../src/core/factory.js';
import { mergeResults } from '../../src/core/topk.js';
import type { Index, SearchResult } from '../../src/core/types.js';
import { inspectIndex, readIndex } from '../../src/io/read-index.js';
import { WasmIvfIndex } from '../../src/wasm/ivf-index.js';
import { formatShardPlan, shardedIndex, shardPlanForFile, ShardedIndex } from '../../src/wasm/shards.js';
import { WasmArena, WasmSqIndex } from '../../src/wasm/sq-index.js';
import type { BenchContext, BenchRow } from './types.js';

installPlatform({ fs: nodeFileSystem });

const NPROBE = [1, 2, 4, 8, 16, 32, 64];

function cpuS(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** IVF / SQ8 rows on the harness's data. */
export default async function ivfRows(ctx: BenchContext): Promise<BenchRow[]> {
  const out: BenchRow[] = [];
  // FAISS's rule of thumb: nlist ~ 4 sqrt(n) to 16 sqrt(n); 1024 at n = 100k (the issue's "IVF1024").
  const nlist = Math.max(16, 2 ** Math.round(Math.log2(4 * Math.sqrt(ctx.n))));
  const flatBytes = ctx.n * ctx.d * 4;
  // IVF-SQ8 first: its k-means centroids are reused by IVF-Flat (same seed gives the same ones;
  // training once keeps the run short), whose build time then counts its own k-means time too.
  let trained: { centroids: Float32Array; kmeansS: number; kmeansCpuS: number } | undefined;
  for (const factory of [`IVF${nlist},SQ8`, `IVF${nlist},Flat`, 'SQ8']) {
    const w0 = performance.now();
    const c0 = cpuS();
    const index = (await indexFactory(ctx.d, factory, 'ip', { backend: 'wasm', threads: 1, seed: 1234 })) as WasmIvfIndex | WasmSqIndex;
    let extraS = 0;
    let extraCpuS = 0;
    if (index instanceof WasmIvfIndex && index.storage === 'flat' && trained) {
      index.setTrained(trained.centroids);
      extraS = trained.kmeansS;
      extraCpuS = trained.kmeansCpuS;
    } else {
      await index.train(ctx.base);
      if (index instanceof WasmIvfIndex) trained = { centroids: index.centroids!, kmeansS: (performance.now() - w0) / 1000, kmeansCpuS: cpuS() - c0 };
    }
    await index.add(ctx.base);
    const buildS = (performance.now() - w0) / 1000 + extraS;
    const buildCpuS = cpuS() - c0 + extraCpuS;
    // What the index stores (codes, int32 ids, centroids), as a fraction of the flat float32 vectors;
    // the copy loaded from a FAISS file (exact list sizes, no add buffers) also gives the memory the
    // process pays: its whole WebAssembly memory.
    const memoryMB = index.usedBytes / 2 ** 20;
    const pct = (b: number) => `${((100 * b) / flatBytes).toFixed(1)}%`;
    let note = `stores ${memoryMB.toFixed(1)} MB = ${pct(index.usedBytes)} of flat (${(flatBytes / 2 ** 20).toFixed(0)} MB)`;
    const probes = factory === 'SQ8' ? [0] : NPROBE.filter((p) => p <= nlist);
    const run = async (idx: Index, threads: number) => {
      for (const nprobe of probes) {
        let labels: BigInt64Array | undefined;
        const t = await ctx.timeSearch(async () => (labels = (await idx.search(ctx.queries, ctx.k, nprobe ? { nprobe } : {})).labels));
        out.push({
          library: 'tessera',
          index: factory,
          d: ctx.d,
          n: ctx.n,
          threads,
          param: nprobe ? 'nprobe' : 'exhaustive',
          value: nprobe,
          recall: ctx.recall(labels!),
          qps: t.qps,
          ...(threads === 1 ? { qpsCpu: t.qpsCpu } : {}),
          buildS,
          buildCpuS,
          buildThreads: 1,
          memoryMB,
          note,
        });
      }
    };
    await run(index, 1);
    if (ctx.threadsAll > 1) {
      // the same trained index, with a worker pool: write it and read it back with threads
      const { memorySink, memorySource } = await import('../../src/io/byte-reader.js');
      const sink = memorySink();
      await index.save(sink);
      const multi = (await readIndex(memorySource(sink.bytes()), { backend: 'wasm', threads: ctx.threadsAll })) as WasmIvfIndex | WasmSqIndex;
      note += `; loaded from its FAISS file: WebAssembly memory ${(multi.wasmMemoryBytes / 2 ** 20).toFixed(1)} MB = ${pct(multi.wasmMemoryBytes)} of flat`;
      for (const row of out) if (row.index === factory) row.note = note;
      await run(multi, ctx.threadsAll);
      await multi.dispose();
    }
    await index.dispose();
  }
  return out;
}

// ---------------------------------------------------------------- past 4 GiB

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}

/** Cheap reproducible clustered vectors: topic centre + noise taken from a shared table at a random offset. */
class Generator {
  private s: number;
  readonly centres: Float32Array;
  private readonly noise: Float32Array;
  constructor(
    readonly d: number,
    readonly topics: number,
    seed: number,
  ) {
    this.s = seed >>> 0 || 1;
    this.centres = new Float32Array(topics * d);
    for (let i = 0; i < this.centres.length; i++) this.centres[i] = this.gauss() / Math.sqrt(d);
    this.noise = new Float32Array(1 << 22);
    for (let i = 0; i < this.noise.length; i++) this.noise[i] = (0.6 * this.gauss()) / Math.sqrt(d);
  }
  private next(): number {
    // xorshift32
    let x = this.s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.s = x >>> 0;
    return this.s / 4294967296;
  }
  private gauss(): number {
    return Math.sqrt(-2 * Math.log(this.next() + 1e-12)) * Math.cos(2 * Math.PI * this.next());
  }
  fill(out: Float32Array): void {
    const d = this.d;
    for (let o = 0; o < out.length; o += d) {
      const c = Math.floor(this.next() * this.topics) * d;
      const z = Math.floor(this.next() * (this.noise.length - d));
      for (let j = 0; j < d; j++) out[o + j] = this.centres[c + j]! + this.noise[z + j]!;
    }
  }
}

async function past4gb(): Promise<void> {
  const n = Number(arg('n', '7500000'));
  const d = Number(arg('d', '768'));
  const nq = Number(arg('nq', '20'));
  const k = 10;
  const file = arg('file', 'out/ivf/sq8-big.index');
  const threads = Number(arg('threads', '2'));
  // smaller shards only to try the script quickly; the demo uses the default (4 GiB)
  const shardBytes = arg('shard-bytes', '') ? Number(arg('shard-bytes', '')) : undefined;
  const log = (s: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${s}`);
  const gen = new Generator(d, 10_000, 1);
  const queries = new Float32Array(nq * d);
  new Generator(d, 10_000, 1).fill(queries); // same topics (same centres), other draws below
  const qgen = new Generator(d, 10_000, 1);
  qgen.fill(new Float32Array(d * 3));
  qgen.fill(queries);

  const sharded = shardedIndex(d, 'SQ8', 'ip', { threads, shardBytes });
  log(`plan: ${formatShardPlan(shardPlanForFile({ description: 'SQ8', d, ntotal: n }, { shardBytes })).replace(/\n/g, '\n    ')}`);
  const chunkRows = 65536;
  const chunk = new Float32Array(chunkRows * d);
  // train the codec on the first chunk (64k vectors)
  gen.fill(chunk);
  await sharded.train(chunk);
  const first = new Float32Array(chunk);
  // exact top-k on the fly: native flat search of each chunk, merged
  const arena = await WasmArena.create('exact top-k', { threads });
  const cp = arena.alloc(chunk.byteLength);
  const qp = arena.alloc(queries.byteLength);
  arena.f32(qp, queries.length).set(queries);
  const dp = arena.alloc(nq * k * 4);
  const ip = arena.alloc(nq * k * 4);
  const fp = arena.alloc(nq * 4);
  let truth: SearchResult | undefined;
  const t0 = performance.now();
  let exactS = 0;
  let addS = 0;
  for (let done = 0; done < n; ) {
    const m = Math.min(chunkRows, n - done);
    const x = chunk.subarray(0, m * d);
    if (done === 0) x.set(first.subarray(0, m * d));
    else gen.fill(x);
    const a0 = performance.now();
    arena.f32(cp, x.length).set(x);
    await arena.parallel(nq, (from, to) => ({ fn: 'flat_search', args: [cp, m, d, qp + from * d * 4, to - from, k, 0, done, dp + from * k * 4, ip + from * k * 4, fp + from * 4] }));
    const part: SearchResult = { nq, k, distances: arena.f32(dp, nq * k).slice(), labels: BigInt64Array.from(arena.i32(ip, nq * k), (v) => BigInt(v)) };
    truth = truth ? mergeResults([truth, part], k, 'ip') : part;
    const a1 = performance.now();
    await sharded.add(x);
    addS += (performance.now() - a1) / 1000;
    exactS += (a1 - a0) / 1000;
    done += m;
    if ((done / chunkRows) % 16 === 0 || done === n) log(`added ${done} / ${n} (${sharded.shardCount} shards, wasm memory ${(sharded.wasmMemoryBytes / 2 ** 30).toFixed(2)} GiB)`);
  }
  await arena.dispose();
  const buildS = (performance.now() - t0) / 1000;
  const recall = (r: SearchResult) => {
    let hit = 0;
    for (let q = 0; q < nq; q++) {
      const t = new Set(Array.from(truth!.labels.subarray(q * k, q * k + k)));
      for (let j = 0; j < k; j++) if (t.has(r.labels[q * k + j]!)) hit++;
    }
    return hit / (nq * k);
  };
  const s0 = performance.now();
  const r = await sharded.search(queries, k);
  const searchS = (performance.now() - s0) / 1000;
  // the same shards one after another (each still on its own workers): what searching them together gives
  sharded.sequentialShards = true;
  const q0 = performance.now();
  const rSeq = await sharded.search(queries, k);
  const seqS = (performance.now() - q0) / 1000;
  sharded.sequentialShards = false;
  log(`shards searched together ${searchS.toFixed(1)} s, one after another ${seqS.toFixed(1)} s (${(seqS / searchS).toFixed(2)}x); same results: ${rSeq.labels.every((v, i) => v === r.labels[i])}; load ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  log(
    `SQ8 d=${d} n=${n}: ${sharded.shardCount} shards (${sharded.shardSizes().join(' + ')} vectors), codes ${((n * d) / 2 ** 30).toFixed(2)} GiB, ` +
      `wasm memory ${(sharded.wasmMemoryBytes / 2 ** 30).toFixed(2)} GiB; generate+add ${buildS.toFixed(0)} s (encode ${addS.toFixed(0)} s, exact top-k ${exactS.toFixed(0)} s); ` +
      `search ${nq} queries ${searchS.toFixed(1)} s (${(nq / searchS).toFixed(2)} QPS, ${threads} threads); recall@10 ${recall(r).toFixed(3)}`,
  );
  mkdirSync(dirname(file), { recursive: true });
  const w0 = performance.now();
  await sharded.save(file);
  log(`wrote ${file}: ${(statSync(file).size / 2 ** 30).toFixed(2)} GiB in ${((performance.now() - w0) / 1000).toFixed(0)} s`);
  await sharded.dispose();
  // with node --expose-gc: free the first index's memories before reading the file back
  (globalThis as { gc?: () => void }).gc?.();
  const info = await inspectIndex(file);
  log(`tessera info ${file}: ${info.type}, ${info.ntotal} x ${info.d}\n    ${formatShardPlan(shardPlanForFile(info, { shardBytes })).replace(/\n/g, '\n    ')}`);
  const l0 = performance.now();
  const loaded = await readIndex(file, { backend: 'wasm', threads, shardBytes } as never);
  const loadS = (performance.now() - l0) / 1000;
  const r2 = await loaded.search(queries, k);
  const same = r2.labels.every((v, i) => v === r.labels[i]);
  if (loaded instanceof ShardedIndex) {
    // loaded with its size known: even shards, threads split over them (one worker each on 2 cores)
    const t1 = performance.now();
    await loaded.search(queries, k);
    const togetherS = (performance.now() - t1) / 1000;
    loaded.sequentialShards = true;
    const t2 = performance.now();
    await loaded.search(queries, k);
    const seqS = (performance.now() - t2) / 1000;
    loaded.sequentialShards = false;
    log(`loaded shards (${loaded.shardSizes().join(' + ')} vectors): searched together ${togetherS.toFixed(1)} s, one after another ${seqS.toFixed(1)} s (${(seqS / togetherS).toFixed(2)}x); load ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  }
  log(`read back in ${loadS.toFixed(0)} s as ${loaded instanceof ShardedIndex ? `${loaded.shardCount} shards` : 'one instance'}; results identical to before saving: ${same}`);
  log(`peak RSS ${(process.resourceUsage().maxRSS / 2 ** 20).toFixed(2)} GiB; load ${loadavg().map((x) => x.toFixed(1)).join(' ')}`);
  await loaded.dispose();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv.includes('--past-4gb')) {
  await past4gb();
  process.exit(0);
}
