/**
 * `tessera build --corpus C.jsonl --model DIR --out DIR [--index-type Flat] [--batch N]`: encodes a
 * Search-R1 jsonl corpus ({"id", "contents"} a line) with the "passage" prefix and writes
 * `<index-type>.index` (FAISS) plus the corpus offset table into DIR. Interrupted builds resume from
 * their checkpoint (see src/encoder/build-index.ts).
 */
import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { buildIndex, checkOutFolder, checkOutNotLocked, releaseBuildLocksSync } from '../../encoder/build-index.js';
import { Encoder } from '../../encoder/encoder.js';
import { definedOnly, searchR1PassageEncoding } from '../../encoder/search-r1.js';
import { checkCorpusFile } from '../../io/corpus.js';
import { removeUnfinishedWritesSync } from '../../io/node-fs.js';
import { intOption, MAX_THREADS, maxTextCharsOption, poolingOption } from '../options.js';
import { duration, progressBars, say, slowStep } from '../progress.js';
import { signalExitCode, stopSignalListener } from '../signal-cleanup.js';

/**
 * The `tessera serve` line for what build wrote. It names the offset table build wrote into --out,
 * since serve's default is <corpus>.offsets beside the corpus (without it serve scans the corpus
 * again, into the user's cache where the corpus's folder is read-only), and the --pooling the passages were
 * encoded with, which the queries need too.
 */
export function serveCommand(r: { index: string; offsets: string }, flags: { corpus: string; model: string; pooling?: string; retrieverName?: string }): string {
  const args = ['tessera', 'serve', '--index', r.index, '--corpus', flags.corpus, '--model', flags.model, '--offsets', r.offsets];
  if (flags.retrieverName !== undefined) args.push('--retriever-name', flags.retrieverName);
  // Search-R1's server mean-pools queries whatever the name; its builder cls-pools bge passages, and
  // queries pooled otherwise than their passages rank worse.
  const pooling = flags.pooling ?? (flags.retrieverName !== undefined ? searchR1PassageEncoding(flags.retrieverName).pooling : undefined);
  if (pooling && (flags.retrieverName === undefined || flags.pooling !== undefined || pooling !== 'mean')) args.push('--pooling', pooling);
  return args.map(shellWord).join(' ');
}

/** A word as a POSIX shell reads it back: as is when plain, else in single quotes. */
function shellWord(word: string): string {
  return /^[\w./:@%+,=-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * Size and mtime of every file in the model folder and its onnx/ (where exports keep the graph), as a
 * short hash: a model re-exported or fine-tuned into the same folder, same dims, resumed a checkpoint
 * and mixed vectors of two models in one index.
 */
export async function modelFilesStamp(dir: string): Promise<string> {
  const hash = createHash('sha256');
  for (const sub of ['', 'onnx']) {
    const names = await readdir(join(dir, sub)).catch(() => [] as string[]);
    for (const name of names.sort()) {
      const s = await stat(join(dir, sub, name)).catch(() => undefined);
      if (s?.isFile()) hash.update(`${join(sub, name)}\0${s.size}\0${s.mtimeMs}\n`);
    }
  }
  return hash.digest('hex').slice(0, 16);
}

export function register(program: Command): void {
  program
    .command('build')
    .description('encode a jsonl corpus ({"id", "contents"} a line) and write a FAISS index + the corpus offset table; resumes after an interruption')
    .requiredOption('--corpus <file>', 'jsonl corpus, one {"id", "contents"} object a line (Search-R1 form; {"title", "text"} rows are encoded as "\\"title\\"\\ntext")')
    .requiredOption('--model <dir>', 'model folder (e.g. an ONNX export of e5-base-v2); passages get its "passage" prefix')
    .requiredOption('--out <dir>', 'output folder: <index-type>.index, <corpus>.offsets, build.json')
    .option('--index-type <type>', 'FAISS factory string: Flat, HNSW32, IVF4096,Flat, IVF4096,SQ8, SQ8', 'Flat')
    .option('--batch <n>', 'passages per model run and per checkpoint', intOption('--batch', 1), 64)
    .option('--strict', 'stop at the first bad row (not JSON, no "contents" nor "text", or not UTF-8) instead of reporting it and indexing a zero vector (U+FFFD for bytes that are not UTF-8)')
    .option('--restart', 'ignore a checkpoint in --out and encode from the first row')
    .addOption(new Option('--encoder <provider>', 'runtime: auto (onnxruntime-node if installed, else WASM), wasm, webgpu, native').choices(['auto', 'wasm', 'webgpu', 'native']).default('auto'))
    .option('--threads <n>', 'CPU threads (default: all cores, at most 256)', intOption('--threads', 1, MAX_THREADS))
    .option('--max-length <n>', "tokens a passage, [CLS]/[SEP] included (default: 256 for e5, else the model's limit)", intOption('--max-length', 2))
    .addOption(poolingOption('passages'))
    .option('--normalize', 'L2-normalise the passage vectors (default: yes, unless the folder is not e5 and its modules.json lists no Normalize)')
    .option('--no-normalize', 'keep the passage vectors as pooled (DPR and other dot-product models)')
    .option('--retriever-name <name>', "encode passages as Search-R1's index_builder.py --retrieval_method does: 'passage: ' only for e5, cls pooling for bge (else mean), L2-normalised unless dpr, 256 tokens; the options above override it")
    .addOption(maxTextCharsOption())
    .action(async (flags: { corpus: string; model: string; out: string; indexType: string; batch: number; strict?: boolean; restart?: boolean; encoder: 'auto' | 'wasm' | 'webgpu' | 'native'; threads?: number; maxLength?: number; maxTextChars?: number; pooling?: 'mean' | 'cls'; normalize?: boolean; retrieverName?: string }) => {
      // A mistyped or compressed corpus, or an --out that is a file or another build's, fails before the model loads (seconds to minutes for e5 on CPU).
      await checkCorpusFile(flags.corpus);
      await checkOutFolder(flags.out);
      await checkOutNotLocked(flags.out);
      const t0 = performance.now();
      const encoder = await slowStep(`loading model ${flags.model}`, () => Encoder.fromDirectory(flags.model, {
        executionProvider: flags.encoder,
        threads: flags.threads,
        batchSize: flags.batch,
        maxTextChars: flags.maxTextChars,
        ...(flags.retrieverName !== undefined ? searchR1PassageEncoding(flags.retrieverName) : {}),
        ...definedOnly({ maxLength: flags.maxLength, pooling: flags.pooling, normalize: flags.normalize }),
      }));
      say(`model ${encoder.name}: ${encoder.dim} dims on ${encoder.provider}, ${encoder.pooledByModel ? 'pooled by the model' : `${encoder.pooling} pooling`}, ${encoder.normalize ? 'L2-normalised' : 'not normalised'}, passage prefix ${JSON.stringify(encoder.prefixes.passage)}, max ${encoder.maxLength} tokens`);
      const name = flags.retrieverName;
      if (name !== undefined && /e5/i.test(name) && name.toLowerCase() !== 'e5') {
        say(`note: --retriever-name ${name}: passages get no "passage: " prefix, as Search-R1's index_builder.py gives them only for the name e5, while its server (and tessera serve) adds "query: " to queries for any name with e5; use --retriever-name e5 for e5's own prefixes`);
      }
      // Ctrl-C (or SIGTERM) stops after the batch being encoded is checkpointed, saying where a rerun
      // resumes; a second one stops at once (the checkpoint is consistent at any moment), removing the
      // temp file of a write in progress (the index: up to its whole size) and the lock. Exit code
      // as a shell reports the signal (signalExitCode). The one signal delivered twice at once (GNU
      // timeout's) is not a second one: stopSignalListener.
      const interrupt = new AbortController();
      let exitCode = signalExitCode('SIGINT');
      const onSignal = stopSignalListener(
        (signal) => {
          say(`${signal}: stopping once the batch being encoded is checkpointed, or at the next chunk of the corpus scan or index write (again to stop at once; the rerun resumes either way)`);
          exitCode = signalExitCode(signal);
          interrupt.abort(new Error(signal));
        },
        (signal) => {
          removeUnfinishedWritesSync();
          releaseBuildLocksSync();
          say(`${signal} again: stopped at once; the rerun resumes from the checkpoint`);
          process.exit(signalExitCode(signal));
        },
      );
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        const r = await buildIndex({
          signal: interrupt.signal,
          corpus: flags.corpus,
          out: flags.out,
          encoder,
          indexType: flags.indexType,
          batch: flags.batch,
          strict: flags.strict,
          restart: flags.restart,
          // The text limit decides which rows are zero vectors, for a tokenizer that may refuse one.
          modelKey: `${encoder.name}|${encoder.dim}|${encoder.pooling}|${encoder.maxLength}|${encoder.prefixes.passage}${encoder.normalize ? '' : '|not normalised'}${encoder.tokenizer.mayRefuse ? `|max ${encoder.maxTextChars} characters` : ''}|files ${await modelFilesStamp(flags.model)}`,
          runtime: encoder.provider,
          onProgress: progressBars(),
          say,
        });
        say(`wrote ${r.index} (${r.rows} x ${r.dim}, inner product) and ${r.offsets} in ${duration((performance.now() - t0) / 1000)}${r.resumedFrom ? `; resumed after ${r.resumedFrom} rows` : ''}${r.badRows.length ? `; ${r.badRows.length} bad row(s), see ${r.manifest}` : ''}`);
        say(`serve it: ${serveCommand(r, flags)}`);
      } catch (e) {
        if (!interrupt.signal.aborted || e !== interrupt.signal.reason) throw e;
        process.exitCode = exitCode;
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        await encoder.dispose();
      }
    });
}
