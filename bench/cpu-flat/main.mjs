#!/usr/bin/env node
// Entry of the CPU flat benchmark: bundles bench/cpu-flat/run.ts with esbuild into out/cpu-flat/ and runs it.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, '..', '..', 'out', 'cpu-flat', 'run.mjs');
await build({ entryPoints: [join(here, 'run.ts')], outfile: out, bundle: true, platform: 'node', format: 'esm', packages: 'external', logLevel: 'warning', target: 'node20' });
const r = spawnSync(process.execPath, [out, ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
