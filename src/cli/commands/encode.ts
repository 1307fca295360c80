/**
 * `tessera encode --model DIR --texts T.json|T.jsonl|T.txt [--prefix query|passage|none] [--json] [--out Q.npy]`:
 * texts to vectors with a model folder, for scripts (--json prints {"embeddings": [[...]]}; --out
 * writes a vector file that `tessera search --queries` reads) and for checking a folder by hand
 * (otherwise: the model's settings, each text's tokens and the head of its vector).
 */
import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { TesseraError } from '../../core/errors.js';
import type { ProgressCallback } from '../../core/types.js';
import { passageOf } from '../../encoder/build-index.js';
import { Encoder } from '../../encoder/encoder.js';
import { definedOnly, searchR1Encoding, searchR1PassageEncoding } from '../../encoder/search-r1.js';
import { TextTooLongError } from '../../encoder/tokenizer.js';
import type { TextPrefix } from '../../encoder/types.js';
import { removeLeftoversOf } from '../../io/node-fs.js';
import { vectorFormatOf, writeVectors } from '../../io/vectors.js';
import { intOption, MAX_THREADS, maxTextCharsOption, poolingOption, writeOut } from '../options.js';
import { duration, progressBars, say, slowStep } from '../progress.js';

/** T.json: a JSON array of strings; T.jsonl: see jsonlTexts; .csv/.tsv refused; anything else: one text a line (a trailing newline ends the last). */
export async function readTexts(path: string): Promise<string[]> {
  // Read as lines, a table's header was encoded as a text and each row with its other columns and separators.
  if (/\.(csv|tsv)$/i.test(path)) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `--texts ${path}: a .csv or .tsv table is not read (its header line and other columns would be encoded as text): save the column of texts as a .txt file, one text a line and no header, or as a .json array of strings, or a .jsonl of strings`,
    );
  }
  let raw: string;
  try {
    raw = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new TesseraError('NOT_FOUND', `texts file not found: ${path}`, { cause: e });
    // Node's EISDIR from reading a folder names no path.
    if ((e as NodeJS.ErrnoException).code === 'EISDIR') throw new TesseraError('INVALID_ARGUMENT', `--texts ${path} is a folder: pass a .json, .jsonl or .txt file`, { cause: e });
    throw e;
  }
  // Windows editors (Notepad, Excel's "UTF-8" CSV) start the file with a byte order mark: JSON.parse
  // refused the file, and a .txt's first text was encoded with U+FEFF in front.
  if (raw.charCodeAt(0) === 0xfeff) raw = raw.slice(1);
  if (/\.json$/i.test(path)) {
    let v: unknown;
    try {
      v = JSON.parse(raw);
    } catch (e) {
      throw new TesseraError('FORMAT', `${path} is not JSON (${(e as Error).message}): expected an array of strings, or use a .txt file with one text a line`, { cause: e });
    }
    if (!Array.isArray(v) || v.some((t) => typeof t !== 'string')) {
      throw new TesseraError('FORMAT', `${path} must hold a JSON array of strings, e.g. ["who wrote hamlet?"]`);
    }
    return v as string[];
  }
  const lines = raw.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (/\.jsonl$/i.test(path)) return jsonlTexts(path, lines);
  return lines;
}

/**
 * T.jsonl: a JSON string a line, or a corpus row whose passage build would encode ("contents", or
 * "title" + "text"); empty lines skipped. Read as .txt, every line was encoded as its JSON source,
 * braces and field names included.
 */
function jsonlTexts(path: string, lines: string[]): string[] {
  const texts: string[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      v = undefined;
    }
    if (typeof v === 'string') {
      texts.push(v);
      return;
    }
    const p = passageOf(line);
    if ('error' in p) throw new TesseraError('FORMAT', `${path}:${i + 1}: ${p.error}: a .jsonl of texts holds a JSON string, or an object with "contents" (or "title" + "text"), a line`);
    texts.push(p.text);
  });
  return texts;
}

/**
 * enc.encode(texts) in chunks of whole encoder runs, reporting progress after each: texts are ordered
 * by token length as encode orders them and cut at multiples of its batch size, so every run holds
 * the same texts as in one call and the vectors are the same.
 */
export async function encodeWithProgress(enc: Encoder, texts: string[], prefix: TextPrefix, onProgress: ProgressCallback, runsPerChunk = 16): Promise<Float32Array> {
  const chunk = enc.batchSize * runsPerChunk;
  if (texts.length <= chunk) return enc.encode(texts, { prefix });
  const d = enc.dim;
  // Before the tokenization (a minute for a million texts), so the phase is on screen and timed from its start.
  onProgress({ phase: 'encoding texts', done: 0, total: texts.length, unit: 'texts' });
  const lengths = texts.map((t) => enc.tokenize(t, prefix).length);
  const order = texts.map((_, i) => i).sort((a, b) => lengths[a]! - lengths[b]! || a - b);
  const out = new Float32Array(texts.length * d);
  for (let s = 0; s < order.length; s += chunk) {
    const idx = order.slice(s, s + chunk);
    const v = await enc.encode(idx.map((i) => texts[i]!), { prefix });
    idx.forEach((row, j) => out.set(v.subarray(j * d, (j + 1) * d), row * d));
    onProgress({ phase: 'encoding texts', done: s + idx.length, total: texts.length, unit: 'texts' });
  }
  return out;
}

export function register(program: Command): void {
  program
    .command('encode')
    .description('encode texts with a model folder (Hugging Face layout, ONNX): vectors as JSON or a vector file (--out), or a summary to check the folder')
    .requiredOption('--model <dir>', 'model folder: tokenizer.json or vocab.txt, config.json, onnx/model.onnx or model.onnx')
    .requiredOption('--texts <file>', 'T.json (array of strings), T.jsonl (a string or a {"contents"} / {"title", "text"} row a line) or T.txt (one text a line; .csv and .tsv are refused)')
    .addOption(new Option('--prefix <p>', "which prefix to add (e5: 'query: ' / 'passage: '; none: the text as is)").choices(['query', 'passage', 'none']).default('query'))
    .option('--json', 'print {"embeddings": [[...]]} on stdout')
    .option('--out <file>', 'write the vectors to a .npy, .fvecs or .f32 file (what tessera search --queries reads), atomically')
    .addOption(new Option('--encoder <provider>', 'runtime: auto (onnxruntime-node if installed, else WASM), wasm, webgpu, native').choices(['auto', 'wasm', 'webgpu', 'native']).default('auto'))
    .option('--threads <n>', 'CPU threads (default: all cores, at most 256)', intOption('--threads', 1, MAX_THREADS))
    .option('--batch <n>', 'texts per model run', intOption('--batch', 1), 32)
    .option('--max-length <n>', "tokens a text, [CLS]/[SEP] included (default: 256 for e5, else the model's limit)", intOption('--max-length', 2))
    .addOption(poolingOption('the texts'))
    .option('--normalize', 'L2-normalise the vectors (default: yes, unless the folder is not e5 and its modules.json lists no Normalize)')
    .option('--no-normalize', 'keep the vectors as pooled (DPR and other dot-product models)')
    .option('--retriever-name <name>', "encode as Search-R1 does for this name: queries as retrieval_server.py (e5: 'query: ', bge: BGE's instruction; mean pooling), passages as index_builder.py ('passage: ' only for e5; cls pooling for bge); L2-normalised unless dpr; 256 tokens. The options above override it")
    .addOption(maxTextCharsOption())
    .option('--quantized', 'use model_quantized.onnx')
    .option('--model-file <name>', 'the .onnx file in the model folder to run (e.g. onnx/model_qint8_avx512.onnx, onnx/model_int8.onnx)')
    .action(async (flags: { model: string; texts: string; prefix: TextPrefix; json?: boolean; out?: string; encoder: 'auto' | 'wasm' | 'webgpu' | 'native'; threads?: number; batch: number; maxLength?: number; maxTextChars?: number; pooling?: 'mean' | 'cls'; normalize?: boolean; retrieverName?: string; quantized?: boolean; modelFile?: string }) => {
      // Checked before the model loads: a wrong name should not cost an encoding run.
      if (flags.out !== undefined && !vectorFormatOf(flags.out)) {
        throw new TesseraError('INVALID_ARGUMENT', `--out ${flags.out}: name the file .npy, .fvecs or .f32 (the vector formats tessera search --queries reads)`);
      }
      // An encode killed while writing --out (kill -9) left its hidden temp file beside it; no later write reuses it.
      if (flags.out !== undefined) await removeLeftoversOf(flags.out, say);
      const texts = await readTexts(flags.texts);
      const enc = await slowStep(`loading model ${flags.model}`, () => Encoder.fromDirectory(flags.model, {
        executionProvider: flags.encoder,
        threads: flags.threads,
        batchSize: flags.batch,
        maxTextChars: flags.maxTextChars,
        // Search-R1 encodes queries (its server) and passages (its index builder) differently for one name.
        ...(flags.retrieverName === undefined ? {} : flags.prefix === 'passage' ? searchR1PassageEncoding(flags.retrieverName) : searchR1Encoding(flags.retrieverName)),
        ...definedOnly({ maxLength: flags.maxLength, pooling: flags.pooling, normalize: flags.normalize }),
        quantized: flags.quantized,
        modelFile: flags.modelFile,
      }));
      try {
        const t0 = performance.now();
        // Each text alone first, so a refused one is named by its place in the file before any run.
        texts.forEach((t, i) => {
          try {
            enc.check(t, { prefix: flags.prefix });
          } catch (e) {
            throw e instanceof TextTooLongError ? e.at(`${flags.texts}: text ${i + 1}`) : e;
          }
        });
        const out = await encodeWithProgress(enc, texts, flags.prefix, progressBars());
        const ms = performance.now() - t0;
        const d = enc.dim;
        if (flags.out !== undefined) {
          await writeVectors(flags.out, out, d);
          say(`wrote ${texts.length} x ${d} vectors to ${flags.out} in ${duration(ms / 1000)} (${enc.pooledByModel ? 'pooled by the model' : `${enc.pooling} pooling`}, ${enc.normalize ? 'L2-normalised' : 'not normalised'}, prefix ${flags.prefix})`);
          if (!flags.json) return;
        }
        if (flags.json) {
          const rows = texts.map((_, i) => Array.from(out.subarray(i * d, (i + 1) * d)));
          await writeOut(`${JSON.stringify({ embeddings: rows })}\n`);
          return;
        }
        const pre = flags.prefix === 'none' ? '' : enc.prefixes[flags.prefix];
        const lines = [
          `model     ${enc.name}`,
          `runtime   ${enc.provider}${enc.provider === 'webgpu' ? '' : `, ${enc.threads} thread(s)`}`,
          `output    ${d} dims, ${enc.pooledByModel ? 'pooled by the model' : `${enc.pooling} pooling`}, ${enc.normalize ? 'L2-normalised' : 'not normalised'}, max ${enc.maxLength} tokens`,
          `prefix    ${flags.prefix}: ${JSON.stringify(pre)}`,
          `encoded   ${texts.length} text(s) in ${ms.toFixed(1)} ms`,
          '',
        ];
        texts.forEach((t, i) => {
          const v = out.subarray(i * d, (i + 1) * d);
          const ids = enc.tokenize(t, flags.prefix);
          const head = Array.from(v.subarray(0, 6), (x) => x.toFixed(4)).join(', ');
          lines.push(`[${i}] ${JSON.stringify(t.length > 60 ? `${t.slice(0, 57)}...` : t)}`);
          lines.push(`    ${ids.length} tokens: ${enc.tokenizer.idsToTokens(ids.slice(0, 12)).join(' ')}${ids.length > 12 ? ' ...' : ''}`);
          lines.push(`    norm ${Math.hypot(...v).toFixed(4)}  [${head}${d > 6 ? ', ...' : ''}]`);
        });
        await writeOut(`${lines.join('\n')}\n`);
      } finally {
        await enc.dispose();
      }
    });
}
