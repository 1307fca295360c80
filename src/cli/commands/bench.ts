/**
 * `tessera bench [name] [args...]`: one entry point for the benchmarks in bench/. Without a name it
 * lists them; with one it bundles the script (esbuild, from the dev dependencies: benchmarks run from
 * a checkout) into out/bench/ and runs it with Node, passing the remaining arguments through.
 * A benchmark is bench/<group>/bench.ts or bench/<group>/bench-*.ts;
 * its name is "<group>" (for bench.ts) or "<group>/<file without .ts>".
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { TesseraError } from '../../core/errors.js';
import { writeOut } from '../options.js';
import { say } from '../progress.js';
import { signalExitCode } from '../signal-cleanup.js';

interface BenchEntry {
  name: string;
  file: string;
  summary: string;
}

/**
 * The repository root: the nearest folder above this module holding tessera's package.json, when it
 * also holds bench/ (a checkout; the installed package has no bench/). The walk stops there: the
 * project that installed tessera may have a bench/ of its own, which is not tessera's to run.
 */
export function repoRoot(from = dirname(fileURLToPath(import.meta.url))): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    if (isTesseraPackage(join(dir, 'package.json'))) return existsSync(join(dir, 'bench')) ? dir : undefined;
    if (dirname(dir) === dir) return undefined;
  }
}

function isTesseraPackage(file: string): boolean {
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown }).name === 'tessera';
  } catch {
    return false; // missing or not JSON
  }
}

// bench/bundle/measure.ts is a module test/runtimes/bundle.test.ts imports, not a script: listed, it
// ran nothing and exited 0 without a word.
const ENTRY = /^(bench|bench-[\w-]+)\.(ts|mjs)$/;

/** Benchmarks under root/bench, sorted by name, each with the first sentence of its doc comment. */
export function listBenchmarks(root: string): BenchEntry[] {
  const out: BenchEntry[] = [];
  const benchDir = join(root, 'bench');
  for (const group of readdirSync(benchDir, { withFileTypes: true })) {
    if (!group.isDirectory()) continue;
    for (const f of readdirSync(join(benchDir, group.name))) {
      if (!ENTRY.test(f)) continue;
      const file = join(benchDir, group.name, f);
      const stem = f.replace(/\.(ts|mjs)$/, '');
      out.push({ name: stem === 'bench' ? group.name : `${group.name}/${stem}`, file, summary: summaryOf(file) });
    }
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** The first sentence of a file's leading /** ... *\/ comment. */
function summaryOf(file: string): string {
  const m = /^\s*\/\*\*([\s\S]*?)\*\//.exec(readFileSync(file, 'utf8'));
  const text = (m?.[1] ?? '').replace(/^\s*\*\s?/gm, ' ').replace(/\s+/g, ' ').trim();
  const sentence = /^(.*?\.)(\s|$)/.exec(text)?.[1] ?? text;
  return sentence.length > 110 ? `${sentence.slice(0, 107)}...` : sentence;
}

export function register(program: Command): void {
  program
    .command('bench')
    .description('list the benchmarks in bench/ with a bench.ts or bench-*.ts entry, or run one: tessera bench <name> [its arguments...] (from a checkout of the repository; the others run as node bench/<folder>/main.mjs, README Development)')
    .argument('[name]', 'benchmark to run (see the list)')
    .argument('[args...]', 'arguments passed to the benchmark')
    .allowUnknownOption()
    .helpOption(false)
    .action(async (name: string | undefined, args: string[]) => {
      const root = repoRoot();
      if (!root) {
        const why = 'benchmarks run from a checkout of the tessera repository (bench/ is not in the package): clone it, npm ci, then npx tessera bench';
        if (name === '--help' || name === '-h') {
          await writeOut(`usage: tessera bench <name> [args...]\n\n${why}\n`);
          return;
        }
        throw new TesseraError('UNSUPPORTED', why);
      }
      const entries = listBenchmarks(root);
      if (!name || name === '--help' || name === '-h') {
        const w = Math.max(0, ...entries.map((e) => e.name.length));
        await writeOut(
          ['usage: tessera bench <name> [args...]   (each benchmark documents its arguments; results go to BENCHMARKS.md)', '', ...entries.map((e) => `  ${e.name.padEnd(w)}  ${e.summary}`), ''].join('\n'),
        );
        return;
      }
      const entry = entries.find((e) => e.name === name);
      if (!entry) {
        throw new TesseraError('NOT_FOUND', `no benchmark named "${name}": run tessera bench to list them (${entries.map((e) => e.name).join(', ')})`);
      }
      const script = entry.file.endsWith('.mjs') ? entry.file : await bundle(root, entry);
      say(`running ${relative(root, entry.file)}${args.length ? ` ${args.join(' ')}` : ''}`);
      const code = await runScript(script, args, root);
      if (code !== 0) process.exitCode = code;
    });
}

/**
 * Runs a bundled benchmark with Node in `cwd`; resolves with its exit code, or as a shell reports a
 * signal that ended it (137 for SIGKILL, e.g. the OOM killer; 139 for a crash in native code), saying
 * which: every signal gave 128, naming none.
 */
export function runScript(script: string, args: readonly string[], cwd: string): Promise<number> {
  return new Promise<number>((res, rej) => {
    const child = spawn(process.execPath, [script, ...args], { cwd, stdio: 'inherit' });
    child.on('error', rej);
    child.on('exit', (c, sig) => {
      if (sig) say(`${relative(cwd, script)} was ended by ${sig}`);
      res(c ?? (sig ? signalExitCode(sig) : 1));
    });
  });
}

/** Bundles a TypeScript benchmark into out/bench/<name>.mjs (packages stay external, WGSL as text). */
async function bundle(root: string, entry: BenchEntry): Promise<string> {
  let esbuild: typeof import('esbuild');
  try {
    esbuild = await import('esbuild');
  } catch {
    throw new TesseraError('UNSUPPORTED', 'running a TypeScript benchmark needs the dev dependencies (esbuild): run npm ci in the checkout');
  }
  const outfile = resolve(root, 'out/bench', `${entry.name.replace(/\//g, '-')}.mjs`);
  await esbuild.build({
    entryPoints: [entry.file],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    loader: { '.wgsl': 'text' },
    sourcemap: 'inline',
    logLevel: 'error',
  });
  return outfile;
}
