// Compact summary of bench/gpu-flat JSON lines (variant sweeps) beside torch_flat_baseline.py lines:
// one line per (n, precision, nq): GPU ms of each variant, the best, and its ratio to torch.
// usage: node bench/gpu-flat/summary.mjs FILE...
import { readFileSync } from 'node:fs';

const torch = [];
const ours = [];
const other = [];
for (const f of process.argv.slice(2)) {
  for (const l of readFileSync(f, 'utf8').split('\n')) {
    if (!l.startsWith('{')) continue;
    const r = JSON.parse(l);
    if (r.engine === 'torch') torch.push(r);
    else if (r.engine === 'tessera' && r.precision) ours.push(r);
    else other.push(r);
  }
}
for (const r of other) console.log(JSON.stringify(r));
const groups = new Map();
for (const r of ours) {
  const key = `${r.n} ${r.precision} ${r.nq}`;
  if (!groups.has(key)) groups.set(key, []);
  groups.get(key).push(r);
}
// Variant name plus the Dawn toggles of its process (rows of several processes are compared), and
// /ifN where N searches were kept in flight (run.ts --in-flight).
const short = { disable_robustness: 'nr', vulkan_enable_f16_on_nvidia: 'f16' };
const vname = (r) => `${r.variant ?? '-'}${r.toggles ? '@' + r.toggles.split(',').map((t) => short[t] ?? t).join('+') : ''}${r.in_flight > 1 ? `/if${r.in_flight}` : ''}`;
const ref = (dtype, n, nq) => torch.find((t) => t.dtype === dtype && t.n === n && t.nq === nq);
for (const [key, rs] of groups) {
  const best = rs.reduce((a, b) => ((b.gpu_ms ?? b.wall_ms) < (a.gpu_ms ?? a.wall_ms) ? b : a));
  const [n, , nq] = key.split(' ').map(Number);
  const t32 = ref('float32', n, nq);
  const t16 = ref('float16', n, nq);
  const qps = best.qps_gpu ?? best.qps_wall;
  const all = rs.map((r) => `${vname(r)}=${r.gpu_ms}`).join(' ');
  // Lists unequal to the first variant's (bench run.ts ids_as_first), if any.
  const diff = rs.filter((r) => r.ids_as_first && r.ids_as_first.split('/')[0] !== r.ids_as_first.split('/')[1]);
  if (diff.length) console.log(`${key} ids differ from the first variant: ${diff.map((r) => `${vname(r)} ${r.ids_as_first}`).join(' ')}`);
  console.log(
    `${key.padEnd(18)} best ${vname(best)} ${best.gpu_ms}ms wall ${best.wall_ms} | fp32 ${t32 ? (qps / t32.qps).toFixed(2) : '-'}x fp16 ${t16 ? (qps / t16.qps).toFixed(2) : '-'}x | ${best.oracle_ok ?? ''} r${best.recall_vs_f32 ?? ''} tmp${best.temp_gib} | ${all}`,
  );
}
for (const t of torch) console.log(`torch ${t.dtype} n=${t.n} nq=${t.nq} ms=${t.ms ?? t.ms_per_search ?? ''} qps=${t.qps}`);
