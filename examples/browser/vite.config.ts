/**
 * Builds the browser example into examples/browser/dist: a static folder any plain HTTP server can
 * serve. The demo index, corpus slice and model, and onnxruntime-web's .wasm, are copied under demo/
 * so the page fetches nothing from elsewhere.
 *
 *   npm run build && npx vite build examples/browser     then serve examples/browser/dist
 *
 * TESSERA_ENTRY overrides the library file 'tessera' resolves to (default: the package's browser
 * entry, dist/index.js); TESSERA_DEMO_DIR the demo folder (default: the repo's bundled demo).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../..');

/** The package's browser entry, as its exports map gives it to bundlers. */
function browserEntry(): string {
  if (process.env.TESSERA_ENTRY) return resolve(process.env.TESSERA_ENTRY);
  const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { exports: { '.': { browser: string } } };
  return join(repo, pkg.exports['.'].browser);
}

/** The demo folder: an index file, a corpus .jsonl, and a model folder (one holding config.json). */
export function findDemo(dir = process.env.TESSERA_DEMO_DIR): { root: string; index: string; corpus: string; model: string } {
  const candidates = dir ? [resolve(dir)] : ['assets/demo', 'data/demo', 'demo'].map((d) => join(repo, d));
  const root = candidates.find((d) => existsSync(d));
  if (!root) throw new Error(`no demo folder: looked in ${candidates.join(', ')}; set TESSERA_DEMO_DIR`);
  const files = walk(root).map((f) => relative(root, f));
  const pick = (what: string, test: (f: string) => boolean) => {
    const hits = files.filter(test).sort((a, b) => a.length - b.length);
    if (hits.length === 0) throw new Error(`demo folder ${root} has no ${what}`);
    return hits[0]!;
  };
  const index = pick('FAISS index (*.index, *.faiss)', (f) => /\.(index|faiss)$/.test(f) && !/hnsw|ivf/i.test(f));
  const corpus = pick('corpus (*.jsonl)', (f) => f.endsWith('.jsonl'));
  const model = dirname(pick('model folder (config.json beside an .onnx)', (f) => f.endsWith('config.json') && !f.includes('1_Pooling') && walk(join(root, dirname(f))).some((g) => g.endsWith('.onnx'))));
  return { root, index, corpus, model: model === '.' ? '' : model };
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

/** Serves (dev) and emits (build) demo/*: the demo files, onnxruntime-web's wasm, and demo/manifest.json. */
function demoAssets(): Plugin {
  const files = new Map<string, string>();
  let manifest = '';
  const collect = () => {
    const demo = findDemo();
    for (const f of walk(demo.root)) files.set(`demo/data/${relative(demo.root, f)}`, f);
    const ortDist = join(repo, 'node_modules/onnxruntime-web/dist');
    // The default onnxruntime-web build (ort.bundle.min.mjs) runs the JSEP variant of its wasm.
    for (const f of ['ort-wasm-simd-threaded.jsep.mjs', 'ort-wasm-simd-threaded.jsep.wasm']) files.set(`demo/ort/${f}`, join(ortDist, f));
    manifest = JSON.stringify({
      index: `data/${demo.index}`,
      corpus: `data/${demo.corpus}`,
      model: `data/${demo.model}${demo.model ? '/' : ''}`,
      ortWasm: 'ort/',
    });
  };
  return {
    name: 'tessera-demo-assets',
    buildStart() {
      collect();
      this.emitFile({ type: 'asset', fileName: 'demo/manifest.json', source: manifest });
      for (const [name, path] of files) this.emitFile({ type: 'asset', fileName: name, source: readFileSync(path) });
    },
    configureServer(server) {
      collect();
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
  resolve: { alias: { tessera: browserEntry() } },
  build: { outDir: process.env.TESSERA_EXAMPLE_OUT ?? join(here, 'dist'), emptyOutDir: true, target: 'es2022', chunkSizeWarningLimit: 2048 },
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  plugins: [demoAssets()],
  logLevel: 'warn',
});
