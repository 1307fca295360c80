/**
 * What searching shards at the same time gives: a 2-shard index (each shard a WebAssembly memory with
 * a worker of its own) searched with the shards together vs one after another, on the same index,
 * alternating A/B rounds, medians; the 1-minute load average is sampled every round (the machine is
 * shared). Exhaustive SQ8 (memory-bound) and HNSW (latency-bound).
 *
 *   npx esbuild bench/cpu-ann/shards.ts --bundle --platform=node --format=esm --packages=external --outfile=out/cpu-ann/shards.mjs
 *   node out/cpu-ann/shards.mjs [--threads 2] [--rounds 7] [--out bench/cpu-ann/results/shards.json]
 *   node out/cpu-ann/shards.mjs --file out/ivf/sq8-big.index --nq 20 --rounds 3 --out bench/cpu-ann/results/shards-big.json
 */
import { writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import type { Index } from '../../src/core/types.js';
// Not src/node.js: that pulls in the GPU backend (WGSL imports need a bundler loader).
import '../../src/wasm/register.js';
import { nodeFileSystem } from '../../src/io/node-fs.js';
import { readIndex } from '../../src/io/read-index.js';
import { installPlatform } from '../../src/platform.js';
import { shardedIndex, type ShardedIndex } from '../../src/wasm/shards.js';
import { clusteredNormalized } from './data.js';

installPlatform({ fs: nodeFileSystem });

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1]! : fallback;
}
const threads = Number(arg('threads', String(availableParallelism())));
const rounds = Number(arg('rounds', '7'));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1]!;

interface Case {
  name: string;
  factory: string;
  d: number;
  n: number;
  nq: number;
  shardBytes: number;
  build: Record<string, unknown>;
  search: Record<string, unknown>;
}

const cases: Case[] = [
  { name: 'SQ8 exhaustive', factory: 'SQ8', d: 768, n: 300_000, nq: 32, shardBytes: 160 << 20, build: {}, search: {} },
  { name: 'HNSW16 efC100', factory: 'HNSW16', d: 128, n: 100_000, nq: 1000, shardBytes: 48 << 20, build: { efConstruction: 100 }, search: { efSearch: 64 } },
];

const results: unknown[] = [];
const file = arg('file', '');
if (file) {
  // an existing FAISS file (e.g. the past-4gb demo's SQ8 file): loaded as shards, timed both ways
  const nq = Number(arg('nq', '20'));
  const l0 = performance.now();
  const index = (await readIndex(file, { backend: 'wasm', threads })) as ShardedIndex;
  const loadS = (performance.now() - l0) / 1000;
  const queries = clusteredNormalized({ n: nq, d: index.d, seed: 2, clusters: 50 });
  const qps = { together: [] as number[], sequential: [] as number[] };
  const load: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const mode of r % 2 ? (['sequential', 'together'] as const) : (['together', 'sequential'] as const)) {
      index.sequentialShards = mode === 'sequential';
      const w0 = performance.now();
      await index.search(queries, 10);
      qps[mode].push(nq / ((performance.now() - w0) / 1000));
    }
    load.push(loadavg()[0]!);
  }
  const row = { case: `file ${file}`, d: index.d, n: index.ntotal, nq, shards: index.shardCount, shardSizes: index.shardSizes(), dedicatedWorkers: index.dedicatedWorkers, loadS, qpsTogether: median(qps.together), qpsSequential: median(qps.sequential), speedup: median(qps.together) / median(qps.sequential), rounds, all: qps, load: { min: Math.min(...load), median: median(load), max: Math.max(...load) }, peakRssGiB: process.resourceUsage().maxRSS / 2 ** 20 };
  console.log(JSON.stringify(row));
  results.push(row);
  await index.dispose();
}
for (const c of file ? [] : cases) {
  const base = clusteredNormalized({ n: c.n, d: c.d, seed: 1, clusters: Math.round(c.n / 2000) });
  const queries = clusteredNormalized({ n: c.nq, d: c.d, seed: 2, clusters: Math.round(c.n / 2000) });
  const t0 = performance.now();
  const index = shardedIndex(c.d, c.factory, 'ip', { threads, shardBytes: c.shardBytes, expectedVectors: c.n, ...c.build });
  await index.train(base);
  await index.add(base);
  const buildS = (performance.now() - t0) / 1000;
  // the same shards searched one after another: the switch is flipped on this index between rounds
  const flip = (seq: boolean) => ((index as ShardedIndex).sequentialShards = seq);
  const time = async (x: Index) => {
    const w0 = performance.now();
    await x.search(queries, 10, c.search);
    return c.nq / ((performance.now() - w0) / 1000);
  };
  flip(false);
  const want = await index.search(queries, 10, c.search);
  flip(true);
  const seqRes = await index.search(queries, 10, c.search);
  const same = want.labels.every((v, i) => v === seqRes.labels[i]);
  const qps = { together: [] as number[], sequential: [] as number[] };
  const load: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const mode of r % 2 ? (['sequential', 'together'] as const) : (['together', 'sequential'] as const)) {
      flip(mode === 'sequential');
      qps[mode].push(await time(index));
    }
    load.push(loadavg()[0]!);
  }
  const row = {
    case: c.name,
    d: c.d,
    n: c.n,
    nq: c.nq,
    shards: (index as ShardedIndex).shardCount,
    shardSizes: (index as ShardedIndex).shardSizes(),
    workersPerShard: Math.max(1, Math.floor(threads / (index as ShardedIndex).shardCount)),
    dedicatedWorkers: (index as ShardedIndex).dedicatedWorkers,
    buildS,
    qpsTogether: median(qps.together),
    qpsSequential: median(qps.sequential),
    speedup: median(qps.together) / median(qps.sequential),
    sameResults: same,
    rounds,
    all: qps,
    load: { min: Math.min(...load), median: median(load), max: Math.max(...load) },
  };
  console.log(JSON.stringify(row));
  results.push(row);
  await index.dispose();
}
const out = arg('out', 'bench/cpu-ann/results/shards.json');
writeFileSync(out, `${JSON.stringify({ threads, cpus: cpus().length, model: cpus()[0]?.model, node: process.version, date: new Date().toISOString(), results }, null, 1)}\n`);
