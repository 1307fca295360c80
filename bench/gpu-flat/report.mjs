// Turns one device run's outputs (torch_flat_baseline.py JSON lines, bench/gpu-flat JSON) into the
// markdown table of BENCHMARKS.md: QPS of each side and the ratio tessera / torch at equal N, nq, k.
// usage: node bench/gpu-flat/report.mjs DIR   (files of JSON lines: torch_flat_baseline.py and bench/gpu-flat output)
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
const torch = [];
const ours = [];
for (const f of readdirSync(dir)) {
  const text = readFileSync(join(dir, f), 'utf8');
  for (const l of text.split('\n')) {
    if (!l.startsWith('{')) continue;
    const r = JSON.parse(l);
    if (r.engine === 'torch') torch.push(r);
    else if (r.engine === 'tessera' && r.precision) ours.push(r);
  }
}
const ref = (dtype, n, nq) => torch.find((t) => t.dtype === dtype && t.n === n && t.nq === nq);
console.log('| N | precision | nq | tessera GPU ms | tessera wall ms | tessera QPS (GPU) | torch fp32 QPS | ratio vs fp32 | torch fp16 QPS | ratio vs fp16 | recall@10 vs f32 | int8 candidates |');
console.log('| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of ours) {
  const f32 = ref('float32', r.n, r.nq);
  const f16 = ref('float16', r.n, r.nq);
  const qps = r.qps_gpu ?? r.qps_wall;
  const cell = (t) => (t ? `${t.qps}` : '-');
  const ratio = (t) => (t ? `**${(qps / t.qps).toFixed(2)}x**` : '-');
  console.log(`| ${r.n} | ${r.precision} | ${r.nq} | ${r.gpu_ms} | ${r.wall_ms} | ${qps} | ${cell(f32)} | ${ratio(f32)} | ${cell(f16)} | ${ratio(f16)} | ${r.recall_vs_f32 ?? ''} | ${r.rerank_factor ? `max(k+16, ${r.rerank_factor}k)` : ''} |`);
}
