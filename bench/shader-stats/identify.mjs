// Reads device.sh's stats.txt and prints one row a pipeline: the case that compiled it (the next
// JSON row: precision, nq, variant), the source that defines its functions (shaders/*.wgsl, or the
// WGSL in src/gpu: the tensor kernels are built there), its workgroup size and the driver's
// statistics. Usage: node bench/shader-stats/identify.mjs stats.txt
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;
const sources = [];
const walk = (dir) => {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (/\.(wgsl|ts)$/.test(e.name)) sources.push({ name: relative(root, p), text: readFileSync(p, 'utf8') });
  }
};
walk(join(root, 'shaders'));
walk(join(root, 'src/gpu'));

// Functions every WGSL module has, or Tint adds: they say nothing of which kernel it is.
const generic = new Set(['main', 'main_inner', 'negInf', 'better', 'decode']);
// The tensor-core kernels (src/gpu/tensor/kernel-source.ts) keep everything in main: named by their
// shape instead (H100 h67): the scorer (hookSource, int8_mma_hook: one or two subgroups, tens of
// thousands of SPIR-V words; with f16Codes where it converts f16 rows while staging them) and the
// queries' pre-pass (prepSource: the only small module converting vec4<f32> to vec4<i32>).
function tensorByShape(functions, local, words) {
  if (/^(32|64)x1x1$/.test(local) && words > 20000) return `tensor hook (by shape)${functions.includes('f16Codes') ? ', converting f16' : ''}`;
  if (local === '64x1x1' && functions.includes('tint_v4f32_to_v4i32') && words < 5000) return 'tensor prep (by shape)';
  return undefined;
}
function sourceOf(functions, local, words) {
  const shaped = tensorByShape(functions, local, words);
  if (shaped) return shaped;
  const own = functions.filter((f) => !generic.has(f) && !f.startsWith('tint_') && !f.endsWith('_inner'));
  if (!own.length) return '?';
  let best = { name: '?', hits: 0 };
  for (const s of sources) {
    const hits = own.filter((f) => new RegExp(`\\bfn ${f}\\b`).test(s.text)).length;
    if (hits > best.hits) best = { name: s.name.replace(/^(shaders|src\/gpu)\//, ''), hits };
  }
  // The rest of its functions come from included files (flat_common.wgsl and the like).
  return best.name;
}

// NVIDIA's Local Memory Size carries bit 36 above the bytes (580.159.04, every pipeline of h67): shown as the bytes.
const readable = (stats) => stats.replace(/Local Memory Size=(\d+)/, (_, v) => `Local Memory Size=${BigInt(v) >= 1n << 36n ? BigInt(v) - (1n << 36n) : BigInt(v)}`);

const lines = readFileSync(process.argv[2], 'utf8').split('\n');
const pending = [];
const rows = [];
let section = '';
for (const line of lines) {
  if (line.startsWith('== ')) {
    // A run that ended (or timed out) with pipelines and no row after them.
    for (const p of pending.splice(0)) rows.push({ ...p, what: '(no row after)' });
    section = line.slice(3);
  }
  const m = /tessera-stats: pipeline (\d+) \[([^\]]*)\] local (\S+), (\d+) SPIR-V words:(.*)$/.exec(line);
  if (m) pending.push({ n: +m[1], source: sourceOf(m[2].split(','), m[3], +m[4]), local: m[3], words: +m[4], stats: readable(m[5].replace(/^ *(Compute Shader|CS) \(subgroup \d+\): */, '').trim()) });
  if (line.startsWith('{') && pending.length) {
    const r = JSON.parse(line);
    const what = `${section.startsWith('allow') ? 'x1 ' : ''}${r.precision} nq ${r.nq}${r.variant && r.variant !== '-' ? ` ${r.variant}` : ''}`;
    for (const p of pending.splice(0)) rows.push({ ...p, what });
  }
}
for (const p of pending) rows.push({ ...p, what: '(after the last row)' });
for (const r of rows) console.log(`${String(r.n).padStart(3)}  ${r.what.padEnd(26)} ${r.source.padEnd(34)} ${r.local.padEnd(9)} ${r.stats}`);
