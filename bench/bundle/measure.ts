/**
 * Browser/Deno bundle audit: bundles an entry that imports tessera the way a web app's bundler
 * would (esbuild, package exports resolved with the runtime's condition), lists every Node
 * built-in or Node-only package the bundle would pull in, and sizes the result per source folder
 * (minified and gzipped). test/runtimes/bundle.test.ts runs it, enforces the budget and prints the
 * table recorded in BENCHMARKS.md (section bundle).
 */
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { isAbsolute, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, type Metafile, type Plugin } from 'esbuild';
import { wgslTextPlugin } from '../../scripts/wgsl-text.js';

/** Packages that only run in Node (native addons, Node-only runtimes): never in a browser or Deno bundle. */
export const NODE_ONLY_PACKAGES = ['webgpu', 'onnxruntime-node', 'fastify', 'commander', 'cli-progress', 'pino'] as const;

export interface Offender {
  /** The import specifier, e.g. "node:fs" or "webgpu". */
  specifier: string;
  /** The file that imports it. */
  importer: string;
}

export interface BundleReport {
  /** Every Node built-in or Node-only package the bundle imports (statically or by a literal dynamic import). */
  offenders: Offender[];
  /**
   * Node built-ins named in tessera's own bundled files as strings rather than imports (e.g. a
   * dynamic import behind a variable, which bundlers cannot see): they escape `offenders`, and are
   * only safe when the code path that uses them cannot run outside Node.
   */
  hiddenNodeRefs: Offender[];
  /** Resolved input files, relative to the consumer folder. */
  inputs: string[];
  /** Minified bytes of the whole bundle. */
  bytes: number;
  /** Gzipped (level 9) bytes of the whole bundle. */
  gzipBytes: number;
  /** Minified bytes in the output per group ("core", "gpu", "wasm", "io", "encoder", "shaders", "package:<name>", ...). */
  byGroup: Record<string, number>;
  /** The bundle itself (not written to reports). */
  text: string;
}

const builtins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

function isNodeOnly(specifier: string): boolean {
  if (specifier.startsWith('node:') || builtins.has(specifier)) return true;
  return NODE_ONLY_PACKAGES.some((p) => specifier === p || specifier.startsWith(`${p}/`));
}

/** Groups an esbuild input path: a package, a folder of src/ (when bundling sources), or 'tessera' (its built dist/). */
function groupOf(input: string): string {
  // The innermost node_modules names the package (tessera's own dependencies sit under its folder).
  const pkgs = [...input.matchAll(/node_modules\/((?:@[^/]+\/)?[^/]+)\//g)].map((m) => m[1]);
  const pkg = pkgs[pkgs.length - 1];
  if (pkg && pkg !== 'tessera') return `package:${pkg}`;
  if (/(?:^|\/)shaders\/[^/]+\.wgsl$/.test(input)) return 'shaders';
  const src = /(?:^|\/)src\/([^/]+)\//.exec(input);
  if (src) return src[1]!;
  return 'tessera';
}

/**
 * Bundles `entrySource` (an ES module importing 'tessera') from `consumerDir` with esbuild for
 * `runtime` and reports Node-only imports and sizes. `exclude` names packages kept out of the size
 * (marked external), e.g. onnxruntime-web whose own wasm and glue are sized on their own.
 */
export async function measureBundle(opts: {
  consumerDir: string;
  entrySource: string;
  runtime: 'browser' | 'deno';
  exclude?: readonly string[];
}): Promise<BundleReport> {
  const offenders: Offender[] = [];
  const exclude = opts.exclude ?? [];
  const audit: Plugin = {
    name: 'node-only-audit',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (isNodeOnly(args.path)) {
          // Deno implements node: built-ins for npm packages; only tessera's own files must avoid them there.
          const thirdParty = groupOf(args.importer).startsWith('package:');
          const allowed = opts.runtime === 'deno' && thirdParty && !NODE_ONLY_PACKAGES.some((p) => args.path === p || args.path.startsWith(`${p}/`));
          if (!allowed) offenders.push({ specifier: args.path, importer: args.importer });
          return { path: args.path, external: true };
        }
        if (exclude.some((p) => args.path === p || args.path.startsWith(`${p}/`))) return { path: args.path, external: true };
        return undefined;
      });
    },
  };
  const result = await build({
    stdin: { contents: opts.entrySource, resolveDir: opts.consumerDir, sourcefile: 'entry.js', loader: 'js' },
    absWorkingDir: opts.consumerDir,
    bundle: true,
    write: false,
    minify: true,
    format: 'esm',
    target: 'es2022',
    // Deno resolves npm packages' exports with the conditions deno, node, import, default (first
    // listed key wins, so tessera's "deno" entry beats "node"); browsers with browser, import, default.
    platform: opts.runtime === 'browser' ? 'browser' : 'neutral',
    conditions: opts.runtime === 'deno' ? ['deno', 'node'] : [],
    mainFields: opts.runtime === 'deno' ? ['module', 'main'] : undefined,
    // Keep symlinked packages at their link path so inputs read node_modules/tessera/...
    preserveSymlinks: true,
    metafile: true,
    logLevel: 'silent',
    // .wgsl as the package build loads it (comments left out), for the from-src report.
    plugins: [wgslTextPlugin, audit],
  });
  const out = result.outputFiles[0]!;
  const meta: Metafile = result.metafile;
  const byGroup: Record<string, number> = {};
  const output = Object.values(meta.outputs)[0]!;
  for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
    const g = groupOf(input);
    byGroup[g] = (byGroup[g] ?? 0) + bytesInOutput;
  }
  const hiddenNodeRefs: Offender[] = [];
  for (const input of Object.keys(meta.inputs)) {
    if (groupOf(input).startsWith('package:') || input.startsWith('<stdin>')) continue;
    const path = isAbsolute(input) ? input : join(opts.consumerDir, input);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch {
      continue; // virtual inputs
    }
    for (const m of text.matchAll(/(["'`])(node:[a-z_/]+)\1/g)) {
      // Static imports and literal dynamic imports were resolved by esbuild and are in `offenders` already.
      const before = text.slice(Math.max(0, m.index! - 40), m.index!);
      if (/(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)$/.test(before)) continue;
      if (!hiddenNodeRefs.some((o) => o.specifier === m[2] && o.importer === input)) hiddenNodeRefs.push({ specifier: m[2]!, importer: input });
    }
  }
  return {
    offenders,
    hiddenNodeRefs,
    inputs: Object.keys(meta.inputs),
    bytes: out.contents.byteLength,
    gzipBytes: gzipSync(out.contents, { level: 9 }).byteLength,
    byGroup,
    text: out.text,
  };
}
