/**
 * The embedded demo that `npm start` (`tessera demo`) serves: the bundled corpus and model in
 * assets/demo, indexed once into a cache folder and reused while the assets are unchanged.
 *
 * The index is what `tessera build --index-type Flat` makes (src/encoder/build-index.ts): a FAISS
 * IndexFlatIP of the rows' passage embeddings (row i -> vector i), with the corpus's offset table,
 * in `<cache>/<key>/`, where key is a SHA-256 over the corpus and model files: editing an asset
 * builds a fresh index instead of serving a stale one. assets/ is never written (it may be
 * read-only when installed).
 */
import { createHash } from 'node:crypto';
import { constants, existsSync, readFileSync } from 'node:fs';
import { access, mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TesseraError } from '../core/errors.js';
import type { ProgressCallback } from '../core/types.js';
import { Encoder } from '../encoder/encoder.js';
import type { ExecutionProviderChoice } from '../encoder/runtime.js';
import { buildIndex } from '../encoder/build-index.js';
import { userCacheDir } from '../io/node-fs.js';
import { inspectIndex } from '../io/read-index.js';
import { asTyped } from './service.js';

/** Bumped when the way the demo index is built changes, so old caches are not reused. */
const BUILD_VERSION = 'tessera-demo-flat-v1';
/** Passages per encoder call and per checkpoint while building. */
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
  /** Cache folder (default: defaultDemoCacheDir()). */
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

/**
 * Where the demo index is cached when no folder is given: beside the package, or where the package
 * folder cannot be written (npm i -g as root, run as a user; a read-only image) the user's cache
 * folder, $XDG_CACHE_HOME (else ~/.cache) /tessera/demo, so the demo runs without a flag.
 */
export async function defaultDemoCacheDir(pkgDir: string = packageRoot(), env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const beside = join(pkgDir, '.cache', 'demo');
  try {
    await mkdir(beside, { recursive: true });
    await access(beside, constants.W_OK);
    return beside;
  } catch {
    return join(userCacheDir(env), 'demo');
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
  const cacheDir = resolve(opts.cacheDir ?? (await defaultDemoCacheDir()));
  const corpusPath = join(assets, 'corpus.jsonl');
  const model = join(assets, 'model');
  for (const p of [corpusPath, model]) {
    if (!existsSync(p)) throw new TesseraError('NOT_FOUND', `demo asset ${p} is missing: run from a tessera checkout or pass ${asTyped('--assets DIR')} (corpus.jsonl + model/)`);
  }
  await mkdir(cacheDir, { recursive: true }).catch((e: NodeJS.ErrnoException) => {
    // a --cache-dir, or a home folder, this process cannot write
    throw new TesseraError('INVALID_ARGUMENT', `cannot create the demo cache folder ${cacheDir} (${e.code ?? e.message}): pass ${asTyped('--cache-dir DIR')}, a folder you can write`, { cause: e });
  });
  const key = await cacheKey(corpusPath, model);
  const out = join(cacheDir, key);
  // build.json is written last by buildIndex: its presence means the index and table are complete.
  const manifest = join(out, 'build.json');
  const index = join(out, 'Flat.index');
  const offsets = join(out, 'corpus.jsonl.offsets');

  if (!opts.rebuild && existsSync(manifest) && existsSync(index)) {
    const { d, ntotal } = await inspectIndex(index);
    say(`demo index reused from ${index}`);
    return { index, corpus: corpusPath, model, offsets, built: false, rows: ntotal, dim: d };
  }

  const t0 = performance.now();
  say(`building the demo index once (cached in ${out})`);
  const encoder = await Encoder.fromDirectory(model, { executionProvider: opts.encoderProvider, threads: opts.threads, batchSize: BUILD_BATCH });
  try {
    // The same build as `tessera build --index-type Flat` (checkpointed, atomic writes).
    const built = await buildIndex({
      corpus: corpusPath,
      out,
      encoder,
      indexType: 'Flat',
      batch: BUILD_BATCH,
      restart: opts.rebuild,
      modelKey: key,
      onProgress: opts.onProgress,
      say,
    });
    // Builds for older assets are removed so the cache does not grow.
    for (const name of await readdir(cacheDir)) {
      if (name !== key && /^[0-9a-f]{16}$/.test(name)) await rm(join(cacheDir, name), { recursive: true, force: true });
    }
    say(`demo index built in ${((performance.now() - t0) / 1000).toFixed(2)} s: ${built.rows} x ${built.dim} -> ${built.index}`);
    return { index: built.index, corpus: corpusPath, model, offsets: built.offsets, built: true, rows: built.rows, dim: built.dim };
  } finally {
    await encoder.dispose().catch(() => {});
  }
}
