#!/usr/bin/env node
// Entry of the CPU ANN benchmark: bundles bench/cpu-ann/run.ts (and the IVF rows' ivf.ts when present)
// with esbuild into out/cpu-ann/, then runs it with the same arguments. See run.ts for the options.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', '..', 'out', 'cpu-ann');
const common = { bundle: true, platform: 'node', format: 'esm', packages: 'external', logLevel: 'warning', target: 'node20' };
await build({ ...common, entryPoints: [join(here, 'run.ts')], outfile: join(out, 'run.mjs') });
if (existsSync(join(here, 'ivf.ts'))) await build({ ...common, entryPoints: [join(here, 'ivf.ts')], outfile: join(out, 'ivf.mjs') });
const r = spawnSync(process.execPath, [join(out, 'run.mjs'), ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
