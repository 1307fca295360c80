// Ratios of a bench/gpu-int8 run against torch from the same call: one line per int8 case, with
// tessera's QPS by GPU time and by wall time over torch fp32 (and fp16) QPS at the same N and nq,
// and nq = 1 against the int8 read floor (ceilings line).
//   node bench/gpu-int8/summary.mjs torch1m.jsonl int8-1m.jsonl [torch21m.jsonl int8-21m.jsonl ...]
import { readFileSync } from 'node:fs';

const rows = process.argv.slice(2).flatMap((f) =>
  readFileSync(f, 'utf8').split('\n').filter((l) => l.startsWith('{')).map((l) => ({ ...JSON.parse(l), file: f })),
);
const torch = new Map();
for (const r of rows.filter((r) => r.engine === 'torch')) torch.set(`${r.n}:${r.nq}:${r.dtype}`, r.ms);
const floors = new Map();
for (const r of rows.filter((r) => r.case === 'ceilings')) floors.set(r.n, r);
for (const [n, c] of floors) console.log(`N=${n}: read ${c.read_gbps} GB/s, fma ${c.fma_tflops} TFLOP/s -> int8 read floor ${c.int8_read_floor_ms} ms`);
console.log('file | variant | N | nq | k\' | kernel | GPU ms | wall ms | re-rank ms | recall@10 | torch fp32 ms | GPU vs fp32 | wall vs fp32 | torch fp16 ms | GPU vs fp16 | nq=1 vs floor');
for (const r of rows.filter((r) => r.precision === 'int8')) {
  const t32 = torch.get(`${r.n}:${r.nq}:float32`);
  const t16 = torch.get(`${r.n}:${r.nq}:float16`);
  const floor = [...floors.values()].find((c) => c.n === r.n)?.int8_read_floor_ms ?? (floors.size ? (r.n * r.d) / ([...floors.values()][0].read_gbps * 1e9) * 1e3 : undefined);
  const f = (x, p = 2) => (x === undefined || x === null ? '' : Number(x).toFixed(p));
  console.log([
    r.file.split('/').pop(), r.variant, r.n, r.nq, r.kprime, r.kernel.split(':').slice(0, 3).join(':'), f(r.gpu_ms, 3), f(r.wall_ms), f(r.rerank_ms), f(r.recall_at_10, 4),
    f(t32, 3), t32 && r.gpu_ms ? f(t32 / r.gpu_ms) + 'x' : '', t32 ? f(t32 / r.wall_ms) + 'x' : '',
    f(t16, 3), t16 && r.gpu_ms ? f(t16 / r.gpu_ms) + 'x' : '',
    r.nq === 1 && floor && r.gpu_ms ? f(r.gpu_ms / floor) + 'x' : '',
  ].join(' | '));
}
