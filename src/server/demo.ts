/**
 * The embedded demo that `npm start` (`tessera demo`) serves: the bundled corpus and model in
 * assets/demo, indexed once into a cache folder and reused while the assets are unchanged.
 *
 * The index is a FAISS IndexFlatIP of the corpus rows' passage embeddings (row i -> vector i),
 * written atomically as `<cache>/index-<key>.faiss`, where key is a SHA-256 over the corpus and
 * model files: editing an asset builds a fresh index instead of serving a stale one. The corpus's
 * offset table is kept in the cache too, so assets/ is never written (it may be read-only when
 * installed).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TesseraError } from '../core/errors.js';
import type { ProgressCallback } from '../core/types.js';
import { Encoder } from '../encoder/encoder.js';
import type { ExecutionProviderChoice } from '../encoder/runtime.js';
import { openCorpus } from '../io/corpus.js';
import { writeFlatIndex } from '../io/faiss/flat.js';
import { inspectIndex } from '../io/read-index.js';

/** Bumped when the way the demo index is built changes, so old caches are not reused. */
const BUILD_VERSION = 'tessera-demo-flat-v1';
/** Passages per encoder call while building. */
const BUILD_BATCH = 256;

export interface DemoFiles {
  index: string;
  corpus: string;
  model: string;
  offsets: string;
  /** True when this call built the index, false when the cached one was reused. */
  built: boolean;
  rows: number;
  dim: number;
}

export interface DemoOptions {
  /** Folder with corpus.jsonl and model/ (default: the package's assets/demo). */
  assets?: string;
  /** Cache folder (default: <package>/.cache/demo). */
  cacheDir?: string;
  /** Rebuild even when a cached index matches. */
  rebuild?: boolean;
  encoderProvider?: ExecutionProviderChoice;
  threads?: number;
  onProgress?: ProgressCallback;
  say?: (line: string) => void;
}

/** The package root: the nearest folder above this module holding tessera's package.json. */
export function packageRoot(from: string = fileURLToPath(import.meta.url)): string {
  let dir = dirname(from);
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'tessera') return dir;
      } catch {
        // not a readable package.json: keep walking up
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new TesseraError('NOT_FOUND', `cannot find tessera's package folder above ${from}: pass --assets and --cache-dir`);
    dir = up;
  }
}

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await listFiles(join(dir, e.name), rel)));
    else if (e.isFile()) out.push(rel);
  }
  return out;
}

/** SHA-256 (first 16 hex digits) over the build version, the corpus and every model file. */
async function cacheKey(corpus: string, model: string): Promise<string> {
  const h = createHash('sha256').update(BUILD_VERSION);
  h.update('\0corpus\0').update(await readFile(corpus));
  for (const rel of await listFiles(model)) h.update(`\0${rel}\0`).update(await readFile(join(model, rel)));
  return h.digest('hex').slice(0, 16);
}

/** Makes sure the demo index exists in the cache (building it if needed) and returns the files to serve. */
export async function ensureDemoIndex(opts: DemoOptions = {}): Promise<DemoFiles> {
  const say = opts.say ?? (() => {});
  const assets = resolve(opts.assets ?? join(packageRoot(), 'assets', 'demo'));
  const cacheDir = resolve(opts.cacheDir ?? join(packageRoot(), '.cache', 'demo'));
  const corpusPath = join(assets, 'corpus.jsonl');
  const model = join(assets, 'model');
  for (const p of [corpusPath, model]) {
    if (!existsSync(p)) throw new TesseraError('NOT_FOUND', `demo asset ${p} is missing: run from a tessera checkout or pass --assets DIR (corpus.jsonl + model/)`);
  }
  await mkdir(cacheDir, { recursive: true });
  const key = await cacheKey(corpusPath, model);
  const index = join(cacheDir, `index-${key}.faiss`);
  const offsets = join(cacheDir, 'corpus.jsonl.offsets');

  if (!opts.rebuild && existsSync(index)) {
    const corpus = await openCorpus(corpusPath, { offsetsPath: offsets, onProgress: opts.onProgress });
    const rows = corpus.rows;
    await corpus.close();
    const { d } = await inspectIndex(index);
    say(`demo index reused from ${index}`);
    return { index, corpus: corpusPath, model, offsets, built: false, rows, dim: d };
  }

  const t0 = performance.now();
  say(`building the demo index once (cached in ${cacheDir})`);
  const corpus = await openCorpus(corpusPath, { offsetsPath: offsets, onProgress: opts.onProgress });
  const encoder = await Encoder.fromDirectory(model, { executionProvider: opts.encoderProvider, threads: opts.threads, batchSize: BUILD_BATCH });
  try {
    const rows = corpus.rows;
    if (rows === 0) throw new TesseraError('INVALID_ARGUMENT', `demo corpus ${corpusPath} has no rows`);
    const dim = encoder.dim;
    async function* embeddings(): AsyncGenerator<Float32Array> {
      let texts: string[] = [];
      for await (const { text } of corpus.iterate()) {
        texts.push(passageText(text));
        if (texts.length === BUILD_BATCH) {
          yield await encoder.encode(texts, { prefix: 'passage' });
          texts = [];
        }
      }
      if (texts.length) yield await encoder.encode(texts, { prefix: 'passage' });
    }
    await writeFlatIndex(index, dim, 'ip', rows, embeddings(), { onProgress: opts.onProgress, phase: 'encoding demo passages' });
    // Old builds (assets changed since) are removed so the cache does not grow.
    for (const name of await readdir(cacheDir)) {
      if (/^index-[0-9a-f]{16}\.faiss$/.test(name) && join(cacheDir, name) !== index) await rm(join(cacheDir, name), { force: true });
    }
    say(`demo index built in ${((performance.now() - t0) / 1000).toFixed(2)} s: ${rows} x ${dim} -> ${index}`);
    return { index, corpus: corpusPath, model, offsets, built: true, rows, dim };
  } finally {
    await encoder.dispose().catch(() => {});
    await corpus.close();
  }
}

/**
 * The text a corpus row is embedded from: its "contents" (Search-R1 rows hold "\"Title\"\nText"),
 * else "title\ntext" when the row has those, else the raw line.
 */
export function passageText(row: string): string {
  try {
    const v = JSON.parse(row) as { contents?: unknown; title?: unknown; text?: unknown };
    if (typeof v.contents === 'string') return v.contents;
    if (typeof v.text === 'string') return typeof v.title === 'string' ? `${v.title}\n${v.text}` : v.text;
  } catch {
    // not JSON: embed the line as it is
  }
  return row;
}
