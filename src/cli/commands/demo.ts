/**
 * `tessera demo` (what `npm start` runs): indexes the bundled demo corpus with the bundled model once
 * (cached), then serves it with `tessera serve`'s API and prints a request to paste.
 */
import type { Command } from 'commander';
import { ensureDemoIndex } from '../../server/demo.js';
import { serveFiles } from '../../server/files.js';
import { addServingOptions, curlExample, runUntilSignal, servingOptions } from './serve.js';
import { progressBars, say } from '../progress.js';
import type { ServingFlags } from './serve.js';

export function register(program: Command): void {
  const cmd = program
    .command('demo')
    .description('build (once, cached) and serve the bundled demo corpus and model: the quickest way to try the retrieval API')
    .option('--assets <dir>', 'demo folder with corpus.jsonl and model/ (default: the package assets/demo)')
    .option('--cache-dir <dir>', 'where the built index and offset table are kept (default: <package>/.cache/demo, or ~/.cache/tessera/demo where the package folder is read-only)')
    .option('--rebuild', 'build the index again even when a cached one matches the assets');
  // The demo's screen is for people: JSON logs only for warnings and errors unless asked.
  addServingOptions(cmd, 'warn').action(async (flags: ServingFlags & { assets?: string; cacheDir?: string; rebuild?: boolean }) => {
    const files = await ensureDemoIndex({
      assets: flags.assets,
      cacheDir: flags.cacheDir,
      rebuild: flags.rebuild,
      encoderProvider: flags.encoder,
      threads: flags.threads,
      onProgress: progressBars(),
      say,
    });
    const service = await serveFiles({ ...servingOptions(flags), index: files.index, corpus: files.corpus, model: files.model, offsets: files.offsets });
    await runUntilSignal(service, (url) => [
      '',
      `tessera demo: ${files.rows} WordNet glosses searched by meaning, with Search-R1's API. Paste this in another shell:`,
      '',
      `  ${curlExample(url, 'a building where you can borrow books')}`,
      '',
      `health: curl -s ${url}/health    metrics: curl -s ${url}/metrics    stop: Ctrl-C`,
    ]);
    process.exit(0);
  });
}
