/**
 * Builds the demo's FAISS IndexFlatIP from a corpus .jsonl and a model folder with tessera's Node
 * entry: every row's `contents` encoded as a passage, row i -> vector i. The browser page loads the
 * file it writes; FAISS reads it too.
 *
 *   node examples/browser/build-index.mjs <corpus.jsonl> <model dir> <out.faiss>
 *
 * vite.config.ts calls buildDemoIndex() when the demo folder has no index of its own, caching the
 * result under out/ keyed by the corpus and model bytes.
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** Passages per encoder call. */
const BATCH = 256;
/** A progress line every this many rows (a multiple of BATCH). */
const PROGRESS_ROWS = 64 * BATCH;

/**
 * Encodes `corpusPath` with the model in `modelDir` and writes a FAISS IndexFlatIP to `outPath`
 * (atomically). `tessera` is the package's Node entry module (so a test can pass a freshly built one).
 */
export async function buildDemoIndex(tessera, corpusPath, modelDir, outPath, say = console.log) {
  const t0 = performance.now();
  const rows = readFileSync(corpusPath, 'utf8').split('\n').filter((line) => line.trim() !== '');
  if (rows.length === 0) throw new Error(`corpus ${corpusPath} has no rows`);
  const encoder = await tessera.Encoder.fromDirectory(modelDir, { executionProvider: 'wasm', batchSize: BATCH });
  try {
    async function* embeddings() {
      for (let i = 0; i < rows.length; i += BATCH) {
        const texts = rows.slice(i, i + BATCH).map((row) => JSON.parse(row).contents);
        yield await encoder.encode(texts, { prefix: 'passage' });
        // A corpus of your own (TESSERA_DEMO_DIR) can take minutes on CPU: say how far it is.
        const done = Math.min(i + BATCH, rows.length);
        if (done % PROGRESS_ROWS === 0) say(`demo index: ${done} of ${rows.length} rows encoded (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
      }
    }
    await tessera.writeFlatIndex(outPath, encoder.dim, 'ip', rows.length, embeddings());
    say(`demo index: ${rows.length} x ${encoder.dim} encoded in ${((performance.now() - t0) / 1000).toFixed(1)} s -> ${outPath}`);
  } finally {
    await encoder.dispose();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [corpus, model, out] = process.argv.slice(2);
  if (!corpus || !model || !out) {
    console.error('usage: node examples/browser/build-index.mjs <corpus.jsonl> <model dir> <out.faiss>');
    process.exit(2);
  }
  await buildDemoIndex(await import('tessera'), corpus, model, out);
}
