/**
 * int8 re-rank on the host, alone: the exact float32 re-scoring of GPU candidates that GpuFlatIndex
 * does after an int8 search, timed without the GPU search (candidates are random ids, as many per
 * query as the default depth max(k + 16, 4k)). Runs on any adapter (lavapipe here): the GPU only
 * holds the codes. Compares rows kept in memory (add) with rows read from the index file by offset.
 *
 *   npx esbuild bench/gpu-load/rerank.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
 *     --external:webgpu --ignore-annotations --outfile=out/gpu-load/rerank.mjs
 *   node out/gpu-load/rerank.mjs --n 200000 --nq 64,1024 --reps 5 [--dir /tmp]
 *
 * Prints one JSON line per case. Uses the index's private re-rank entry point (the same call the
 * search makes), so it also runs against older checkouts whose re-rank was synchronous.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import '../../src/node.js';
import type { SearchResult } from '../../src/core/types.js';
import { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import { writeFlatIndex } from '../../src/io/faiss/flat.js';
import { readIndex } from '../../src/io/read-index.js';
import { scatteredReads } from '../../src/io/node-fs.js';
import { execSync } from 'node:child_process';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '200000' },
    d: { type: 'string', default: '768' },
    k: { type: 'string', default: '10' },
    nq: { type: 'string', default: '64,1024' },
    reps: { type: 'string', default: '5' },
    dir: { type: 'string', default: '/tmp' },
    modes: { type: 'string', default: 'memory,file' },
    /** 1: drop the file's page cache before every timed re-rank (GNU dd iflag=nocache), so rows come from the disk. */
    cold: { type: 'string', default: '0' },
    /** 0: synchronous reads only (no switch to the thread pool on slow reads), to compare. */
    pool: { type: 'string', default: '1' },
  },
});
const n = Number(values.n);
const d = Number(values.d);
const k = Number(values.k);
const reps = Number(values.reps);
const W = Math.max(k + 16, 4 * k);
if (values.pool === '0') scatteredReads.slowRunMs = Infinity;

let seed = 12345;
function rand(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 4294967296;
}
const chunkRows = 20000;
function* rows(): Generator<Float32Array> {
  for (let r = 0; r < n; r += chunkRows) {
    const x = new Float32Array(Math.min(chunkRows, n - r) * d);
    for (let i = 0; i < x.length; i++) x[i] = rand() * 2 - 1;
    yield x;
  }
}

const file = join(values.dir!, `tessera-rerank-${process.pid}.index`);
await writeFlatIndex(file, d, 'ip', n, rows());
type Rerank = (q: Float32Array, nq: number, found: SearchResult, k: number) => SearchResult | Promise<SearchResult>;
try {
  for (const mode of values.modes!.split(',')) {
    const index = (await readIndex(file, { backend: 'gpu', precision: 'int8', rerankFrom: mode } as never)) as GpuFlatIndex;
    const rerank = (index as unknown as { rerank: Rerank }).rerank.bind(index);
    for (const nq of values.nq!.split(',').map(Number)) {
      const q = new Float32Array(nq * d);
      for (let i = 0; i < q.length; i++) q[i] = rand() * 2 - 1;
      const labels = new BigInt64Array(nq * W);
      for (let i = 0; i < labels.length; i++) labels[i] = BigInt(Math.floor(rand() * n));
      const found: SearchResult = { nq, k: W, distances: new Float32Array(nq * W), labels };
      await rerank(q, nq, found, k); // warm-up (JIT, module instance, page cache of the candidate rows)
      const times: number[] = [];
      for (let r = 0; r < reps; r++) {
        // Fresh candidates each rep: no row is re-read from a warm CPU cache.
        for (let i = 0; i < labels.length; i++) labels[i] = BigInt(Math.floor(rand() * n));
        if (values.cold === '1') execSync(`dd if=${file} iflag=nocache count=0 status=none`);
        const t = performance.now();
        await rerank(q, nq, found, k);
        times.push(performance.now() - t);
      }
      times.sort((a, b) => a - b);
      const host = (index as unknown as { rerankHostBytes?: number }).rerankHostBytes;
      console.log(JSON.stringify({ case: 'rerank', mode, cache: values.cold === '1' ? 'cold' : 'warm', pool: values.pool !== '0', n, d, nq, candidates: W, reps, median_ms: +times[times.length >> 1]!.toFixed(2), min_ms: +times[0]!.toFixed(2), host_bytes: host ?? 'all rows' }));
    }
    await index.dispose();
  }
} finally {
  rmSync(file, { force: true });
}
