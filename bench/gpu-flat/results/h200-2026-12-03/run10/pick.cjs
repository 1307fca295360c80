// VARIANTS='...' node pick.cjs FILE f32|f16 -> `c:knobs`, run 10's picks for one precision from its 1M
// sweep (bench/gpu-flat rows of FILE; VARIANTS: every variant of run.sh, named by prefix): f32:
// flat_gemv knobs (r*: ru, uw, target) from the smallest mean over nq 1 and 4 of each variant's time
// over `d`'s, and the >= 128 class (w*, s*: bigF32L, gtl) over nq 256 and 1024; f16: flat_gemv (h*:
// hru, huw, target, mergeOne) over nq 1 and 4, and its blocks (c*: f16Cls, class knobs) over nq 16
// and 64. Rows that missed the float64 oracle are left out.
const fs = require('fs');
const [file, prec] = process.argv.slice(2);
const rows = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.startsWith('{')).map(JSON.parse)
  .filter((r) => r.variant && r.gpu_ms && (r.oracle_ok === undefined || r.oracle_ok.startsWith(r.oracle_ok.split('/')[1] + '/')));
const knobsOf = {};
for (const v of (process.env.VARIANTS ?? '').split(';').filter(Boolean)) {
  const [n, k = ''] = v.split(':');
  knobsOf[n] = Object.fromEntries(k.split(',').filter(Boolean).map((kv) => kv.split('=')));
}
function pick(prec, nqs, names) {
  const score = {};
  const seen = {};
  for (const nq of nqs) {
    const at = rows.filter((r) => r.precision === prec && r.nq === nq && names.includes(r.variant));
    const d = at.find((r) => r.variant === 'd')?.gpu_ms;
    if (!d) continue;
    for (const r of at) {
      score[r.variant] = (score[r.variant] ?? 0) + r.gpu_ms / d / nqs.length;
      seen[r.variant] = (seen[r.variant] ?? 0) + 1;
    }
  }
  // Only variants timed (and right) at every nq of the class.
  const best = Object.entries(score).filter(([v, s]) => Number.isFinite(s) && seen[v] === nqs.length).sort((a, b) => a[1] - b[1])[0];
  console.error(`${prec} nq ${nqs}: ${Object.entries(score).map(([v, s]) => `${v}=${s.toFixed(3)}`).join(' ')} -> ${best?.[0]}`);
  return knobsOf[best?.[0] ?? 'd'] ?? {};
}
const V = (pre) => Object.keys(knobsOf).filter((n) => n === 'd' || n.startsWith(pre));
const out = prec === 'f32'
  ? { ...pick('f32', [1, 4], V('r')), ...pick('f32', [256, 1024], V('w').concat(V('s'))) }
  : { ...pick('f16', [1, 4], V('h')), ...pick('f16', [16, 64], V('c')) };
console.log(`c:${Object.entries(out).map(([k, v]) => `${k}=${v}`).join(',')}`);
