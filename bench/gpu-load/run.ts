/**
 * Streaming load and int8 re-rank from the file, on a real disk: writes an N x d FAISS IndexFlatIP
 * file of random unit rows, then measures, in one process,
 *   - the raw read speed of the file (dd, page cache dropped = cold, then warm),
 *   - Node's own sequential read speed (64 MiB positional reads, no GPU),
 *   - readIndex into GPU tiles (f32 cold and warm; int8 warm) in GB/s,
 *   - f32 and int8 search at each nq: wall ms, GPU ms (timestamps), host re-rank ms, recall@k of
 *     int8 against f32; and one int8 search right after dropping the page cache (cold re-rank reads),
 *   - optionally int8 with the rows kept in memory (--memory 1), for the re-rank in both modes.
 * Writes one JSON line per measurement to stdout and to --out.
 *
 *   npx esbuild bench/gpu-load/run.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
 *     --external:webgpu --ignore-annotations --outfile=out/gpu-load/run.mjs
 *   node out/gpu-load/run.mjs --n 1000000 --dir /tmp --nq 64,1024 --out $OUT/gpu-load.jsonl
 * Dropping the page cache needs root (echo 3 > /proc/sys/vm/drop_caches); without it the "cold"
 * lines say drop_caches: false.
 */
import { execSync } from 'node:child_process';
import { appendFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import '../../src/node.js';
import type { SearchResult } from '../../src/core/types.js';
import type { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import { writeFlatIndex } from '../../src/io/faiss/flat.js';
import { openFileSource } from '../../src/io/node-fs.js';
import { readIndex } from '../../src/io/read-index.js';
import { syntheticQueries, syntheticRow } from '../gpu-flat/synthetic.js';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '1000000' },
    d: { type: 'string', default: '768' },
    k: { type: 'string', default: '10' },
    nq: { type: 'string', default: '64,1024' },
    reps: { type: 'string', default: '3' },
    dir: { type: 'string', default: '/tmp' },
    out: { type: 'string' },
    memory: { type: 'string', default: '1' },
    keep: { type: 'string', default: '0' },
    drop: { type: 'string', default: '1' },
  },
});
const n = Number(values.n);
const d = Number(values.d);
const k = Number(values.k);
const reps = Number(values.reps);
const nqs = values.nq!.split(',').map(Number);
const started = performance.now();

function emit(o: Record<string, unknown>): void {
  const line = JSON.stringify({ t_s: +((performance.now() - started) / 1000).toFixed(1), ...o });
  console.log(line);
  if (values.out) appendFileSync(values.out, line + '\n');
}

function dropCaches(): boolean {
  if (values.drop !== '1') return false;
  try {
    execSync('sync; echo 3 > /proc/sys/vm/drop_caches', { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** dd's own figure ("..., 3.1 GB/s") and our wall clock around it. */
function dd(file: string): { dd: string; gbps: number } {
  const t = performance.now();
  const outp = execSync(`dd if=${file} of=/dev/null bs=64M 2>&1`).toString();
  const s = (performance.now() - t) / 1000;
  const bytes = Number(/^(\d+) bytes/m.exec(outp)?.[1] ?? 0);
  return { dd: outp.trim().split('\n').at(-1)!, gbps: +(bytes / 1e9 / s).toFixed(3) };
}

const BASE_SEED = 0x9e3779b9;

/** `count` unit rows of the gpu-flat bench's seeded generator, from row `first`. */
function unitRows(first: number, count: number): Float32Array {
  const x = new Float32Array(count * d);
  for (let i = 0; i < count; i++) syntheticRow(BASE_SEED, first + i, d, x.subarray(i * d, (i + 1) * d));
  return x;
}

const file = join(values.dir!, `tessera-load-${n}x${d}.index`);
const bytes = n * d * 4;
emit({ case: 'env', file, n, d, gb: +(bytes / 1e9).toFixed(3), df: execSync(`df -hT ${values.dir} /dev/shm 2>&1 || true`).toString().trim(), cpus: execSync('nproc').toString().trim(), mem: execSync('free -g | head -2 2>&1 || true').toString().trim() });

let t = performance.now();
const chunkRows = 32768;
async function* gen(): AsyncGenerator<Float32Array> {
  for (let r = 0; r < n; r += chunkRows) yield unitRows(r, Math.min(chunkRows, n - r));
}
await writeFlatIndex(file, d, 'ip', n, gen());
emit({ case: 'write', seconds: +((performance.now() - t) / 1000).toFixed(2), note: 'generate in JS + write + fsync' });

try {
  // Raw read speed of the same file: cold (page cache dropped), then warm.
  const dropped = dropCaches();
  emit({ case: 'dd', cache: 'cold', drop_caches: dropped, ...dd(file) });
  emit({ case: 'dd', cache: 'warm', ...dd(file) });

  // Node's sequential read speed alone (what the loader's reads can reach), warm.
  {
    const src = await openFileSource(file);
    const buf = new Uint8Array(64 << 20);
    const t0 = performance.now();
    for (let at = 0; at < src.size; at += buf.length) await src.readInto!(at, buf.subarray(0, Math.min(buf.length, src.size - at)));
    const s = (performance.now() - t0) / 1000;
    await src.close();
    emit({ case: 'node-read', cache: 'warm', seconds: +s.toFixed(2), gbps: +(src.size / 1e9 / s).toFixed(3) });
  }

  const load = async (precision: 'f32' | 'int8', cache: string, extra: Record<string, unknown> = {}): Promise<GpuFlatIndex> => {
    let events = 0;
    const t0 = performance.now();
    const index = (await readIndex(file, { backend: 'gpu', precision, onProgress: () => void events++, ...extra } as never)) as GpuFlatIndex;
    const st = index.loadStats!;
    emit({
      case: 'load', precision, cache, ...extra, gb: +(st.bytes / 1e9).toFixed(3), seconds: +st.seconds.toFixed(2), gbps: +st.gbPerSecond.toFixed(3),
      total_s: +((performance.now() - t0) / 1000).toFixed(2), progress_events: events, host_rerank_bytes: index.rerankHostBytes,
      rss_gb: +(process.memoryUsage().rss / 1e9).toFixed(2), tiles: index.tilesPerShard, temp_bytes: index.plan?.tempBytes, plan_host_bytes: index.plan?.hostBytes,
    });
    return index;
  };

  const droppedAgain = dropCaches();
  const f32 = await load('f32', droppedAgain ? 'cold' : 'unknown (no drop_caches)');
  await (await load('f32', 'warm')).dispose();
  const int8 = await load('int8', 'warm');
  f32.enableTimestamps();
  int8.enableTimestamps();

  let qseed = 77;
  const queries = (nq: number) => syntheticQueries(nq, d, qseed++);
  const recall = (a: SearchResult, b: SearchResult): number => {
    let hit = 0;
    for (let i = 0; i < a.nq; i++) {
      const want = new Set(Array.from(b.labels.subarray(i * k, (i + 1) * k)));
      for (let j = 0; j < k; j++) if (want.has(a.labels[i * k + j]!)) hit++;
    }
    return hit / (a.nq * k);
  };
  const timeSearch = async (index: GpuFlatIndex, label: string, q: Float32Array, nq: number, ref?: SearchResult) => {
    await index.search(q, k); // warm-up: pipelines, module instance
    index.takeGpuMs();
    index.takeRerankStats();
    const walls: number[] = [];
    let last: SearchResult | undefined;
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      last = await index.search(q, k);
      walls.push(performance.now() - t0);
    }
    walls.sort((a, b) => a - b);
    const gpu = index.takeGpuMs() / reps;
    const rr = index.takeRerankStats();
    emit({
      case: 'search', index: label, nq, k, reps, wall_ms: +walls[walls.length >> 1]!.toFixed(2), gpu_ms: +gpu.toFixed(2),
      rerank_ms: +(rr.ms / reps).toFixed(2), rerank_rows: rr.rows / reps, qps_wall: +(nq / (walls[walls.length >> 1]! / 1000)).toFixed(1),
      ...(ref ? { recall_vs_f32: recall(last!, ref) } : {}),
    });
    return last!;
  };
  for (const nq of nqs) {
    const q = queries(nq);
    const ref = await timeSearch(f32, 'f32', q, nq);
    await timeSearch(int8, 'int8 rerank from file', q, nq, ref);
  }
  // Cold re-rank: the candidate rows come from the disk, not the page cache (the smallest nq:
  // synchronous reads one at a time could take long on a slow disk).
  {
    const nq = nqs[0]!;
    const q = queries(nq);
    await int8.search(q, k);
    int8.takeRerankStats();
    int8.takeGpuMs();
    const dropped = dropCaches();
    const t0 = performance.now();
    await int8.search(q, k);
    const wall = performance.now() - t0;
    const rr = int8.takeRerankStats();
    emit({ case: 'search', index: 'int8 rerank from file', cache: dropped ? 'cold' : 'unknown', nq, k, wall_ms: +wall.toFixed(2), gpu_ms: +int8.takeGpuMs().toFixed(2), rerank_ms: +rr.ms.toFixed(2), rerank_rows: rr.rows });
  }
  await int8.dispose();
  if (values.memory === '1') {
    const mem = await load('int8', 'warm', { rerankFrom: 'memory' });
    mem.enableTimestamps();
    for (const nq of nqs) {
      const q = queries(nq);
      await timeSearch(mem, 'int8 rerank from memory', q, nq);
    }
    await mem.dispose();
  }
  await f32.dispose();
} finally {
  if (values.keep !== '1') rmSync(file, { force: true });
}
emit({ case: 'done' });
