// nq = 1 against the read floor: each nq = 1 row's GPU time over the time to read its base once at
// the read bandwidth measured in the same file (the `ceilings` line of bench/gpu-flat --ceilings 1).
// usage: node bench/gpu-flat/floor.mjs FILE...  (the first ceilings line found is used for all rows)
import { readFileSync } from 'node:fs';

const rows = process.argv.slice(2).flatMap((f) => readFileSync(f, 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)));
const ceil = rows.find((r) => r.case === 'ceilings');
if (!ceil) throw new Error('no ceilings line: run bench/gpu-flat with --ceilings 1');
for (const r of rows.filter((r) => r.precision && r.nq === 1 && r.gpu_ms)) {
  const floorMs = ((r.base_gib * 2 ** 30) / (ceil.read_gbps * 1e9)) * 1e3;
  console.log(`floor ${r.precision} n=${r.n} ${r.variant ?? '-'}: gpu ${r.gpu_ms} ms, read floor ${floorMs.toFixed(3)} ms (${r.base_gib} GiB at ${ceil.read_gbps} GB/s) = ${(r.gpu_ms / floorMs).toFixed(3)}x`);
}
