/**
 * The headline load at full scale: writes an N x d FAISS IndexFlatIP file (default Search-R1's
 * wiki-18 shape, 21,015,324 x 768, 64.6 GB), loads it with readIndex into GPU tiles, and checks
 * that stored rows searched as queries find themselves (exact f32). Reports load GB/s, host RSS,
 * GPU plan (bytes, temp, tiles) and search wall / GPU ms at each nq.
 *
 * Rows are cheap to make at this size: one block of random unit rows, and block b stored with its
 * dimensions rotated by b (x[j] -> x[(j + b) % d]), so every row is distinct and unit length and row
 * r of block b can be rebuilt here as a query. Only the load speed and exactness are measured; the
 * data's distribution does not matter for either.
 *
 *   npx esbuild bench/gpu-load/scale.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
 *     --external:webgpu --ignore-annotations --outfile=out/gpu-scale/scale.mjs
 *   node out/gpu-scale/scale.mjs --dir /dev/shm --out $OUT/scale.jsonl
 */
import { execSync } from 'node:child_process';
import { appendFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import '../../src/node.js';
import type { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import { writeFlatIndex } from '../../src/io/faiss/flat.js';
import { readIndex } from '../../src/io/read-index.js';
import { syntheticRow } from '../gpu-flat/synthetic.js';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '21015324' },
    d: { type: 'string', default: '768' },
    block: { type: 'string', default: '262144' },
    k: { type: 'string', default: '10' },
    nq: { type: 'string', default: '1,64,512' },
    reps: { type: 'string', default: '3' },
    dir: { type: 'string', default: '/dev/shm' },
    out: { type: 'string' },
  },
});
const n = Number(values.n);
const d = Number(values.d);
const blockRows = Number(values.block);
const k = Number(values.k);
const reps = Number(values.reps);
const started = performance.now();

function emit(o: Record<string, unknown>): void {
  const line = JSON.stringify({ t_s: +((performance.now() - started) / 1000).toFixed(1), ...o });
  console.log(line);
  if (values.out) appendFileSync(values.out, line + '\n');
}

// One block of unit rows from the gpu-flat bench's seeded generator.
const base = new Float32Array(blockRows * d);
for (let i = 0; i < blockRows; i++) syntheticRow(0x2545f491, i, d, base.subarray(i * d, (i + 1) * d));

/** Row `id` of the file: block row id % blockRows, dimensions rotated by the block number. */
function rowInto(id: number, out: Float32Array, at: number): void {
  const b = Math.floor(id / blockRows);
  const r = id % blockRows;
  const shift = b % d;
  const src = base.subarray(r * d, (r + 1) * d);
  out.set(src.subarray(d - shift), at);
  out.set(src.subarray(0, d - shift), at + shift);
}

const file = join(values.dir!, `tessera-scale-${n}x${d}.index`);
emit({ case: 'env', n, d, gb: +((n * d * 4) / 1e9).toFixed(2), file });
let t = performance.now();
const chunk = new Float32Array(blockRows * d);
async function* rows(): AsyncGenerator<Float32Array> {
  for (let at = 0; at < n; at += blockRows) {
    const count = Math.min(blockRows, n - at);
    for (let i = 0; i < count; i++) rowInto(at + i, chunk, i * d);
    yield chunk.subarray(0, count * d);
  }
}
try {
  await writeFlatIndex(file, d, 'ip', n, rows());
  emit({ case: 'write', seconds: +((performance.now() - t) / 1000).toFixed(1) });
  // The file's raw read speed from where it lies (page cache / tmpfs), the ceiling for the load.
  const dd = execSync(`dd if=${file} of=/dev/null bs=64M 2>&1`).toString().trim().split('\n').at(-1);
  emit({ case: 'dd', dd });

  t = performance.now();
  let events = 0;
  const index = (await readIndex(file, { backend: 'gpu', precision: 'f32', onProgress: () => void events++ })) as GpuFlatIndex;
  const st = index.loadStats!;
  emit({
    case: 'load', precision: 'f32', gb: +(st.bytes / 1e9).toFixed(2), seconds: +st.seconds.toFixed(1), gbps: +st.gbPerSecond.toFixed(2),
    total_s: +((performance.now() - t) / 1000).toFixed(1), progress_events: events, rss_gb: +(process.memoryUsage().rss / 1e9).toFixed(2),
    tiles: index.tilesPerShard, plan_shards: index.plan?.shards, temp_bytes: index.plan?.tempBytes,
  });
  index.enableTimestamps();

  for (const nq of values.nq!.split(',').map(Number)) {
    // Queries are stored rows spread over the whole file (every tile): each must find itself first.
    const ids = Array.from({ length: nq }, (_, i) => Math.floor(((i + 0.5) / nq) * (n - 1)));
    const q = new Float32Array(nq * d);
    ids.forEach((id, i) => rowInto(id, q, i * d));
    await index.search(q, k);
    index.takeGpuMs();
    const walls: number[] = [];
    let hits = 0;
    for (let r = 0; r < reps; r++) {
      const t0 = performance.now();
      const res = await index.search(q, k);
      walls.push(performance.now() - t0);
      if (r === 0) ids.forEach((id, i) => void (res.labels[i * k] === BigInt(id) && hits++));
    }
    walls.sort((a, b) => a - b);
    emit({ case: 'search', nq, k, wall_ms: +walls[walls.length >> 1]!.toFixed(1), gpu_ms: +(index.takeGpuMs() / reps).toFixed(1), self_found: `${hits}/${nq}` });
  }
  await index.dispose();
} finally {
  rmSync(file, { force: true });
}
emit({ case: 'done' });
