/**
 * Browser/Deno bundle audit: bundles an entry that imports tessera the way a web app's bundler
 * would (esbuild, package exports resolved with the runtime's condition), lists every Node
 * built-in or Node-only package the bundle would pull in, and sizes the result per source folder
 * (minified and gzipped). Code behind a dynamic import() is split into chunks of its own, as a web
 * app's bundler does: the size counts what the page downloads at load (the entry and the chunks it
 * imports statically); the chunks it loads on demand are sized apart (`lazy`).
 * test/runtimes/bundle.test.ts runs it, enforces the budget and prints the table recorded in
 * BENCHMARKS.md (section bundle).
 */
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { isAbsolute, join, relative } from 'node:path';
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
  /** Resolved input files, relative to the consumer folder: all of them, chunks loaded on demand included. */
  inputs: string[];
  /** The inputs whose code a page downloads at load (in the entry or a chunk it imports statically). */
  initialInputs: string[];
  /** Minified bytes a page downloads at load: the entry and the chunks it imports statically. */
  bytes: number;
  /** The same gzipped (level 9), each file on its own as a server sends it, summed. */
  gzipBytes: number;
  /** Minified bytes of the initial download per group ("core", "gpu", "wasm", "io", "encoder", "shaders", "package:<name>", ...). */
  byGroup: Record<string, number>;
  /** The initial download's text, its files joined (not written to reports). */
  text: string;
  /** The chunks loaded on demand (behind a dynamic import()), sized the same way; not in the figures above. */
  lazy: { bytes: number; gzipBytes: number; byGroup: Record<string, number>; chunks: LazyChunk[]; text: string };
}

/** A chunk the bundle loads on demand. */
export interface LazyChunk {
  bytes: number;
  gzipBytes: number;
  /** Its inputs that hold code in it (bytesInOutput > 0). */
  inputs: string[];
}

/** The name esbuild gives the measured entry (stdin); left out of the inputs listed. */
const entryFileName = 'entry.js';

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
    stdin: { contents: opts.entrySource, resolveDir: opts.consumerDir, sourcefile: entryFileName, loader: 'js' },
    absWorkingDir: opts.consumerDir,
    bundle: true,
    write: false,
    splitting: true,
    outdir: join(opts.consumerDir, '.bundle-measure'),
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
  const meta: Metafile = result.metafile;
  const texts = new Map(result.outputFiles.map((f) => [relative(opts.consumerDir, f.path), f]));
  // The initial download: the entry's output and every chunk it reaches through static imports.
  const entryOut = Object.keys(meta.outputs).find((o) => meta.outputs[o]!.entryPoint === entryFileName)!;
  const initial = new Set<string>();
  const reach = (o: string) => {
    if (initial.has(o)) return;
    initial.add(o);
    for (const i of meta.outputs[o]!.imports) if (i.kind === 'import-statement' && !i.external) reach(i.path);
  };
  reach(entryOut);
  const jsOutputs = Object.keys(meta.outputs).filter((o) => o.endsWith('.js'));
  const sizeOf = (outs: string[]) => {
    const byGroup: Record<string, number> = {};
    let bytes = 0;
    let gzipBytes = 0;
    for (const o of outs) {
      const file = texts.get(o)!;
      bytes += file.contents.byteLength;
      gzipBytes += gzipSync(file.contents, { level: 9 }).byteLength;
      for (const [input, { bytesInOutput }] of Object.entries(meta.outputs[o]!.inputs)) {
        if (input === entryFileName) continue;
        const g = groupOf(input);
        byGroup[g] = (byGroup[g] ?? 0) + bytesInOutput;
      }
    }
    return { bytes, gzipBytes, byGroup, text: outs.map((o) => texts.get(o)!.text).join('\n') };
  };
  const lazyOuts = jsOutputs.filter((o) => !initial.has(o));
  const chunks = lazyOuts.map((o) => {
    const file = texts.get(o)!;
    const inputs = Object.entries(meta.outputs[o]!.inputs).filter(([, v]) => v.bytesInOutput > 0).map(([i]) => i);
    return { bytes: file.contents.byteLength, gzipBytes: gzipSync(file.contents, { level: 9 }).byteLength, inputs };
  });
  const hiddenNodeRefs: Offender[] = [];
  for (const input of Object.keys(meta.inputs)) {
    if (groupOf(input).startsWith('package:') || input === entryFileName) continue;
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
  const first = sizeOf([...initial]);
  return {
    offenders,
    hiddenNodeRefs,
    inputs: Object.keys(meta.inputs).filter((i) => i !== entryFileName),
    initialInputs: [...new Set([...initial].flatMap((o) => Object.keys(meta.outputs[o]!.inputs)))].filter((i) => i !== entryFileName),
    ...first,
    lazy: { ...sizeOf(lazyOuts), chunks },
  };
}
