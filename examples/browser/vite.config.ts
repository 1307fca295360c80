/**
 * Builds the browser example into examples/browser/dist: a static folder any plain HTTP server can
 * serve. The demo index, corpus slice and model are copied under demo/, onnxruntime-web's .wasm under
 * assets/, so the page fetches nothing from elsewhere.
 *
 *   npm run build && npx vite build examples/browser     then serve examples/browser/dist
 *
 * The demo folder (default assets/demo, or TESSERA_DEMO_DIR) holds corpus.jsonl and model/; when it
 * has no FAISS index of its own, one is built here with the package's Node entry (build-index.mjs)
 * and cached in out/browser-demo/, keyed by the corpus and model bytes. TESSERA_PACKAGE_DIR points
 * at another build of the package (a folder with package.json and dist/; default: this repo), whose
 * "browser" export the page bundles and whose "node" export builds the index.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
// @ts-expect-error: a plain .mjs script (no types), shared with the command line.
import { buildDemoIndex } from './build-index.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');
const packageDir = resolve(process.env.TESSERA_PACKAGE_DIR ?? repo);

/** The package's entry for a condition ('browser' or 'node'), as its exports map gives it (a path, or nested conditions with a default). */
function entry(condition: 'browser' | 'node'): string {
  type Target = string | { default: string };
  const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { exports: { '.': Record<string, Target> } };
  const target = pkg.exports['.'][condition]!;
  return join(packageDir, typeof target === 'string' ? target : target.default);
}

interface Demo {
  root: string;
  corpus: string;
  model: string;
  /** Absolute path of the FAISS index file (in the demo folder, or built into the cache). */
  index: string;
}

/** The demo folder: a corpus .jsonl and a model folder (one holding config.json beside an .onnx), maybe an index. */
export async function findDemo(dir = process.env.TESSERA_DEMO_DIR): Promise<Demo> {
  const root = resolve(dir ?? join(repo, 'assets/demo'));
  if (!existsSync(root)) throw new Error(`no demo folder at ${root}; set TESSERA_DEMO_DIR`);
  const files = walk(root).map((f) => relative(root, f));
  const pick = (what: string, test: (f: string) => boolean) => files.filter(test).sort((a, b) => a.length - b.length)[0];
  const corpus = pick('corpus', (f) => f.endsWith('.jsonl'));
  const config = pick('model', (f) => f.endsWith('config.json') && !f.includes('1_Pooling') && walk(join(root, dirname(f))).some((g) => g.endsWith('.onnx')));
  if (!corpus || !config) throw new Error(`demo folder ${root} needs a corpus (*.jsonl) and a model folder (config.json beside an .onnx)`);
  const model = dirname(config);
  const own = pick('index', (f) => /\.(index|faiss)$/.test(f));
  const index = own ? join(root, own) : await cachedIndex(join(root, corpus), join(root, model));
  return { root, corpus, model: model === '.' ? '' : model, index };
}

/** Builds the index once per corpus + model content; later builds reuse the cached file. */
async function cachedIndex(corpus: string, model: string): Promise<string> {
  const hash = createHash('sha256');
  for (const f of [corpus, ...walk(model).sort()]) hash.update(relative(model, f)).update(readFileSync(f));
  const cache = join(repo, 'out', 'browser-demo');
  const file = join(cache, `index-${hash.digest('hex').slice(0, 16)}.faiss`);
  if (!existsSync(file)) {
    mkdirSync(cache, { recursive: true });
    await buildDemoIndex(await import(pathToFileURL(entry('node')).href), corpus, model, file);
  }
  return file;
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

/**
 * Serves (dev) and emits (build) demo/*: the demo files and demo/manifest.json. onnxruntime-web's
 * .wasm needs nothing here: its bundle finds it with new URL(..., import.meta.url), which vite emits
 * as an asset beside the page's script, so it is served by the same static server (no CDN).
 */
function demoAssets(): Plugin {
  const files = new Map<string, string>();
  let manifest = '';
  const collect = async () => {
    const demo = await findDemo();
    files.set('demo/data/index.faiss', demo.index);
    files.set(`demo/data/${demo.corpus}`, join(demo.root, demo.corpus));
    for (const f of walk(join(demo.root, demo.model))) files.set(`demo/data/${relative(demo.root, f)}`, f);
    manifest = JSON.stringify({
      index: 'data/index.faiss',
      corpus: `data/${demo.corpus}`,
      model: `data/${demo.model}${demo.model ? '/' : ''}`,
      modelFiles: walk(join(demo.root, demo.model)).map((f) => relative(join(demo.root, demo.model), f).split('\\').join('/')).sort(),
    });
  };
  let command: 'build' | 'serve' = 'build';
  return {
    name: 'tessera-demo-assets',
    configResolved(config) {
      command = config.command;
    },
    async buildStart() {
      // The dev server runs buildStart too, where emitFile is refused with a warning a file: it
      // serves these files itself (configureServer).
      if (command !== 'build') return;
      await collect();
      this.emitFile({ type: 'asset', fileName: 'demo/manifest.json', source: manifest });
      for (const [name, path] of files) this.emitFile({ type: 'asset', fileName: name, source: readFileSync(path) });
    },
    async configureServer(server) {
      await collect();
      server.middlewares.use((req, res, next) => {
        const path = decodeURIComponent((req.url ?? '').split('?')[0]!).replace(/^\//, '');
        if (path === 'demo/manifest.json') return void res.setHeader('content-type', 'application/json').end(manifest);
        const file = files.get(path);
        if (!file) return next();
        res.end(readFileSync(file));
      });
    },
  };
}

export default defineConfig({
  root: here,
  // Relative asset URLs: the built folder works from any path of any static server.
  base: './',
  resolve: {
    alias: [
      { find: /^tessera$/, replacement: entry('browser') },
      // The page runs its encoder on onnxruntime-web's WASM provider: its plain WASM build
      // (ort-wasm-simd-threaded.wasm, 14 MB) loads and compiles in half the time of the default
      // build's JSEP variant (28 MB), which only WebGPU/WebNN execution providers need.
      { find: /^onnxruntime-web$/, replacement: 'onnxruntime-web/wasm' },
    ],
  },
  build: {
    outDir: process.env.TESSERA_EXAMPLE_OUT ?? join(here, 'dist'),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 2048,
    // The page encodes on the WASM provider, so the library's lazy import of onnxruntime-web's
    // WebGPU build never runs: left out, it does not add its 27 MB .wasm to the static folder.
    // (A page that wants executionProvider 'webgpu' removes this line.)
    rollupOptions: { external: ['onnxruntime-web/webgpu'] },
  },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  plugins: [demoAssets()],
  logLevel: 'warn',
});
