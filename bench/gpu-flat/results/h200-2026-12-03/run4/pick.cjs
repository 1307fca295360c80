// node pick.js FILE TOGGLES VARIANTS -> "b1knobs|bqknobs|toggles": best variant at nq=1 and by the sum over nq>=16,
// among rows of the given toggles ('*' = any: then the toggles of the nq=1 winner are printed too).
const fs = require('fs');
const [file, tg, V] = process.argv.slice(2);
const knobs = Object.fromEntries(V.split(';').map((v) => { const [n, k = ''] = v.split(':'); return [n, k]; }));
const rows = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.startsWith('{')).map(JSON.parse)
  .filter((r) => r.variant && (tg === '*' || (r.toggles ?? '') === tg) && (r.oracle_recall === undefined || r.oracle_recall >= 1));
const id = (r) => `${r.variant}|${r.toggles ?? ''}`;
const one = rows.filter((r) => r.nq === 1).sort((a, b) => a.gpu_ms - b.gpu_ms)[0];
const sum = {}, cnt = {};
for (const r of rows.filter((r) => r.nq >= 16)) { sum[id(r)] = (sum[id(r)] ?? 0) + r.gpu_ms; cnt[id(r)] = (cnt[id(r)] ?? 0) + 1; }
const mx = Math.max(0, ...Object.values(cnt));
const q = Object.entries(sum).filter(([k]) => cnt[k] === mx).sort((a, b) => a[1] - b[1])[0];
const [qv, qt] = q ? q[0].split('|') : ['d', ''];
console.log(`${knobs[one?.variant ?? 'd'] ?? ''}|${knobs[qv] ?? ''}|${one?.toggles ?? ''}|${qt}`);
