// node pick.cjs FILE VARIANTS -> one variant string `c:knobs` composed per batch class from a 1M sweep
// (bench/gpu-flat rows of FILE): the 9..47 class (midF32 and bit 1 of swz / selOwn / selQ) from the
// fastest variant at nq = 16, the 48..127 class (bigF32, gt, bit 2) from the fastest at nq = 64, the
// >= 128 class (bigF32 -> bigF32L, gt -> gtl, bit 4) from the smallest sum over nq 256 and 1024 of
// each variant's time over `d`'s; selCap from the first class (large, big, mid) that queues. Variants
// whose name ends in NS (nosel: wrong results) and rows that missed the float64 oracle are left out.
const fs = require('fs');
const [file, V] = process.argv.slice(2);
const knobs = Object.fromEntries(V.split(';').filter(Boolean).map((v) => { const [n, k = ''] = v.split(':'); return [n, Object.fromEntries(k.split(',').filter(Boolean).map((kv) => kv.split('=')))]; }));
const rows = fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.startsWith('{')).map(JSON.parse)
  .filter((r) => r.variant && knobs[r.variant] && !r.variant.endsWith('NS') && (r.oracle_ok === undefined || r.oracle_ok.startsWith(r.oracle_ok.split('/')[1] + '/')));
const at = (nq) => rows.filter((r) => r.nq === nq);
const best = (nq) => at(nq).sort((a, b) => a.gpu_ms - b.gpu_ms)[0];
const b16 = best(16), b64 = best(64);
const d = Object.fromEntries([256, 1024].map((nq) => [nq, at(nq).find((r) => r.variant === 'd')?.gpu_ms]));
const score = {};
for (const r of rows.filter((r) => (r.nq === 256 || r.nq === 1024) && d[r.nq])) score[r.variant] = (score[r.variant] ?? 0) + r.gpu_ms / d[r.nq];
const bl = Object.entries(score).filter(([v]) => rows.filter((r) => r.variant === v && r.nq >= 256).length === 2).sort((a, b) => a[1] - b[1])[0]?.[0] ?? 'd';
const k16 = knobs[b16?.variant ?? 'd'] ?? {}, k64 = knobs[b64?.variant ?? 'd'] ?? {}, kl = knobs[bl] ?? {};
const out = [];
if (k16.midF32) out.push(`midF32=${k16.midF32}`);
if (k64.bigF32) out.push(`bigF32=${k64.bigF32}`);
if (k64.gt) out.push(`gt=${k64.gt}`);
if (kl.bigF32) out.push(`bigF32L=${kl.bigF32}`);
out.push(`gtl=${kl.gt ?? 132}`);
const bits = (name) => (Number(k16[name] ?? 0) & 1) | (Number(k64[name] ?? 0) & 2) | (Number(kl[name] ?? 0) & 4);
for (const name of ['swz', 'selOwn', 'selQ']) if (bits(name)) out.push(`${name}=${bits(name)}`);
const capFrom = [[kl, 4], [k64, 2], [k16, 1]].find(([k, b]) => Number(k.selQ ?? 0) & b);
if (capFrom) out.push(`selCap=${capFrom[0].selCap ?? 8}`);
console.error(`picked: nq=16 ${b16?.variant} nq=64 ${b64?.variant} nq>=256 ${bl}`);
console.log(`c:${out.join(',')}`);
