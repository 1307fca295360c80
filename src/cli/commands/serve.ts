/**
 * `tessera serve`: a drop-in for Search-R1's retrieval_server.py (same POST /retrieve contract),
 * over a FAISS index file, a jsonl corpus read by offset and a local model folder.
 */
import { Command, Option } from 'commander';
import { addGpuIndexOptions, bytesOption, digitPlanesOption, intOption, MAX_THREADS, maxTextCharsOption, poolingOption } from '../options.js';
import { progressBars, say } from '../progress.js';
import { signalExitCode, stopSignalListener } from '../signal-cleanup.js';
import { TesseraError } from '../../core/errors.js';
import { MAX_K } from '../../core/validate.js';
import { removeUnfinishedWritesSync } from '../../io/node-fs.js';
import { SERVE_DEFAULTS, serveFiles } from '../../server/files.js';
import type { ServeFilesOptions } from '../../server/files.js';
import type { RunningService } from '../../server/service.js';

/** Serving options shared by `serve` and `demo` (everything but the files). */
export function addServingOptions(cmd: Command, logLevel = 'info'): Command {
  cmd
    .option('--host <host>', 'address to bind (Search-R1 binds 0.0.0.0; keep 127.0.0.1 unless clients are remote)', SERVE_DEFAULTS.host)
    .option('--port <n>', 'port to listen on (0: any free port)', intOption('--port', 0, 65535), SERVE_DEFAULTS.port)
    // Bounded by what every index returns per query (MAX_K), so the demo refuses before it builds.
    .option('--topk <n>', 'results per query when a request sends no topk', intOption('--topk', 1, MAX_K), SERVE_DEFAULTS.topk)
    .option('--max-topk <n>', 'largest topk a request may ask for (400 above)', intOption('--max-topk', 1, MAX_K), SERVE_DEFAULTS.maxTopk)
    .addOption(new Option('--backend <b>', 'index backend: gpu (WebGPU), wasm (CPU), or auto (GPU on a WebGPU adapter that is not a software renderer, else wasm)').choices(['auto', 'gpu', 'wasm']).default('auto'));
  return addGpuIndexOptions(cmd)
    .option('--max-batch <n>', 'most queries in one micro-batch (one encoder call, one search); a larger request is split over several. A GPU index plans its temporary bytes for this many (at most 4096)', intOption('--max-batch', 1), SERVE_DEFAULTS.maxBatch)
    .option('--max-wait-ms <n>', 'how long a lone request waits for company before its batch starts', intOption('--max-wait-ms', 0), SERVE_DEFAULTS.maxWaitMs)
    .option('--max-queue <n>', 'most queries waiting (503 + Retry-After above) and in one request (413 above); default 8 x max-batch', intOption('--max-queue', 1))
    .option('--timeout-ms <n>', 'per-request deadline from arrival (504 after); a request split over n batches has n times it; a body must come in within it of its headers (408 after)', intOption('--timeout-ms', 1), SERVE_DEFAULTS.timeoutMs)
    // The default shown as the size a user would type (16MiB), not its byte count.
    .addOption(new Option('--body-limit <size>', 'largest request body, decoded (413 above)').argParser(bytesOption).default(SERVE_DEFAULTS.bodyLimit, `${SERVE_DEFAULTS.bodyLimit / 2 ** 20}MiB`))
    .addOption(new Option('--encoder <provider>', 'encoder runtime: auto (onnxruntime-node if installed, else WASM), wasm, webgpu, native (onnxruntime-node, failing without it)').choices(['auto', 'wasm', 'webgpu', 'native']).default('auto'))
    .option('--threads <n>', 'CPU threads for the encoder and the WASM index (default: all cores, at most 256)', intOption('--threads', 1, MAX_THREADS))
    .addOption(new Option('--log-level <level>', 'structured (JSON) log level on stdout').choices(['fatal', 'error', 'warn', 'info', 'debug', 'silent']).default(logLevel));
}

export interface ServingFlags {
  host: string;
  port: number;
  topk: number;
  maxTopk: number;
  backend: 'auto' | 'gpu' | 'wasm';
  precision: 'auto' | 'f32' | 'f16' | 'int8';
  gpuMemory?: number;
  allowExperimental?: boolean;
  disableRobustness?: boolean;
  digitPlanes?: boolean;
  maxBatch: number;
  maxWaitMs: number;
  maxQueue?: number;
  timeoutMs: number;
  bodyLimit: number;
  encoder: 'auto' | 'wasm' | 'webgpu' | 'native';
  threads?: number;
  logLevel: string;
}

/** ServeFilesOptions from the shared flags, with human lines and progress on stderr. */
export function servingOptions(flags: ServingFlags): Omit<ServeFilesOptions, 'index' | 'corpus' | 'model'> {
  return {
    host: flags.host,
    port: flags.port,
    topk: flags.topk,
    maxTopk: flags.maxTopk,
    backend: flags.backend,
    precision: flags.precision,
    gpuMemory: flags.gpuMemory,
    allowExperimental: flags.allowExperimental,
    disableRobustness: flags.disableRobustness,
    digitPlanes: digitPlanesOption(flags),
    maxBatch: flags.maxBatch,
    maxWaitMs: flags.maxWaitMs,
    maxQueue: flags.maxQueue,
    timeoutMs: flags.timeoutMs,
    bodyLimit: flags.bodyLimit,
    encoderProvider: flags.encoder,
    threads: flags.threads,
    logger: flags.logLevel === 'silent' ? false : { level: flags.logLevel },
    say,
    onProgress: progressBars(),
  };
}

/** A Search-R1-shaped request to paste into a shell. */
export function curlExample(url: string, query: string): string {
  const body = JSON.stringify({ queries: [query], topk: 3, return_scores: true });
  return `curl -s ${url}/retrieve -H 'Content-Type: application/json' -d '${body.replace(/'/g, "'\\''")}'`;
}

/**
 * The URL a client on this machine reaches a server listening at `url` by. A wildcard host (--host
 * 0.0.0.0 or ::, Search-R1's 0.0.0.0) listens on every interface but is no address to send to (a
 * connection to 0.0.0.0 fails on Windows, and browsers refuse it): its loopback address (127.0.0.1;
 * [::1], which a :: listener always serves), else `url` as is.
 */
export function localClientUrl(url: string): string {
  const u = new URL(url);
  if (u.hostname === '0.0.0.0') u.hostname = '127.0.0.1';
  else if (u.hostname === '[::]') u.hostname = '[::1]';
  else return url;
  return u.origin;
}

// Where test/cli/serve-signals and earlier callers import it from.
export { SIGNAL_REPEAT_MS } from '../signal-cleanup.js';

/**
 * Waits for loading, prints the ready line, and shuts down gracefully on SIGTERM/SIGINT (in-flight
 * requests finish; a second signal, SIGNAL_REPEAT_MS or more after the first, exits at once, 130 for
 * SIGINT, 143 for SIGTERM: stopSignalListener). readyLines get the URL to send to (localClientUrl).
 * Resolves when the server has closed.
 */
export async function runUntilSignal(
  service: Pick<RunningService, 'ready' | 'close' | 'state' | 'url'>,
  readyLines: (url: string) => string[],
  signals: { on(event: NodeJS.Signals, listener: (sig: NodeJS.Signals) => void): unknown } = process,
): Promise<void> {
  let signalled = false;
  const closed = new Promise<void>((resolve) => {
    const onSignal = stopSignalListener(
      (sig) => {
        signalled = true;
        say(`${sig}: shutting down (in-flight requests finish first)`);
        void service.close().then(() => {
          say('stopped');
          resolve();
        });
      },
      (sig) => {
        // The offset table being built beside the corpus is written to a temp file: removed, not left.
        removeUnfinishedWritesSync();
        say(`${sig} again: exiting now`);
        process.exit(signalExitCode(sig));
      },
    );
    signals.on('SIGTERM', onSignal);
    signals.on('SIGINT', onSignal);
  });
  const t0 = performance.now();
  // A signal during loading ends the command once the server has closed, without waiting for the
  // load itself (minutes for a large index), which has nothing left to serve.
  const loaded = await Promise.race([service.ready.then(() => true), closed.then(() => false)]).catch((e) => {
    if (signalled) return false;
    throw e;
  });
  if (!loaded) {
    await closed;
    // The command exits now without waiting for the load: an offset table it was writing beside the
    // corpus (a hidden temp file, 8 bytes a row) would be left there.
    removeUnfinishedWritesSync();
    return;
  }
  if (!signalled) {
    const total = Object.values(service.state.loaded).reduce((a, b) => a + b, 0);
    // One write, so a reader that sees the ready line also sees the example after it.
    const ready = `tessera: ready in ${total.toFixed(2)} s of loading (${((performance.now() - t0) / 1000).toFixed(2)} s since listen): serving ${service.url}`;
    // The sample requests name an address to send to; the ready line, where the server listens.
    process.stderr.write([ready, ...readyLines(localClientUrl(service.url))].map((l) => `${l}\n`).join(''));
  }
  return closed;
}

/** Search-R1's retrieval_server.py flags (as retrieval_launch.sh passes them) -> serve's. */
const SEARCH_R1_FLAGS: Record<string, string[]> = {
  '--index_path': ['--index'],
  '--corpus_path': ['--corpus'],
  '--retriever_model': ['--model'],
  '--retriever_name': ['--retriever-name'],
  // Search-R1 searches on the GPU only when told; asked for, tessera fails loudly without one too.
  '--faiss_gpu': ['--backend', 'gpu'],
};

/**
 * Rewrites Search-R1's launch flags in `argv` (process.argv shape) when the command is serve, so its
 * retrieval_launch.sh runs with `python .../retrieval_server.py` replaced by `tessera serve`.
 */
export function fromSearchR1Flags(argv: readonly string[]): string[] {
  if (argv[2] !== 'serve') return [...argv];
  refuseSparseRetriever(argv);
  return argv.flatMap((a, i) => {
    if (i < 3) return [a];
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(0, eq) : a;
    const to = SEARCH_R1_FLAGS[name];
    if (!to) return [a];
    return eq > 0 && to.length === 1 ? [`${to[0]}=${a.slice(eq + 1)}`] : to;
  });
}

/**
 * Search-R1's retrieval_launch_bm25.sh passes `--retriever_name bm25` with a pyserini (Lucene) index
 * folder and no model: a sparse retriever tessera does not have. Said as such, not as the missing
 * --model or the folder passed as an index file that commander and the index reader would report.
 */
function refuseSparseRetriever(argv: readonly string[]): void {
  argv.forEach((a, i) => {
    const [name, value] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, argv[i + 1]];
    if ((name === '--retriever_name' || name === '--retriever-name') && value === 'bm25') {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        "--retriever_name bm25 is Search-R1's BM25 retriever (a pyserini Lucene index, retrieval_launch_bm25.sh), which tessera does not serve: tessera serves dense FAISS indexes with an ONNX model (retrieval_launch.sh's e5_Flat.index, retrieval_launch_ann.sh's e5_HNSW64.index); keep Search-R1's server for BM25",
      );
    }
  });
}

export function register(program: Command): void {
  const cmd = program
    .command('serve')
    .description("serve an index over HTTP with Search-R1's retrieval API (POST /retrieve, GET /health, GET /metrics)")
    .requiredOption('--index <file>', 'FAISS index file (IndexFlatIP/L2, HNSW, IVF, SQ)')
    .requiredOption('--corpus <file>', 'jsonl corpus, one row per vector in index order')
    .requiredOption('--model <dir>', 'model folder (tokenizer.json or vocab.txt, config.json, onnx/model.onnx)')
    .option('--offsets <file>', "offset table of the corpus (default: <corpus>.offsets, built once; ~/.cache/tessera/offsets/ where the corpus's folder is read-only)")
    .option('--ef-search <n>', "HNSW: candidate list size of every search (FAISS efSearch; default: the file's)", intOption('--ef-search', 1))
    .option('--nprobe <n>', "IVF: inverted lists visited by every search (FAISS nprobe; default: the file's)", intOption('--nprobe', 1))
    .option(
      '--retriever-name <name>',
      "encode queries as Search-R1 does for this name: e5 -> 'query: ', bge -> BGE's instruction, else no prefix; mean pooling, L2-normalised unless dpr, 256 tokens (default: the model folder's settings)",
    )
    .addOption(poolingOption('queries (overrides --retriever-name)'))
    .option('--max-length <n>', 'tokens a query, [CLS]/[SEP] included (overrides --retriever-name; default: 256 for e5, else the model limit)', intOption('--max-length', 2))
    .addOption(maxTextCharsOption())
    .addHelpText(
      'after',
      "\nSearch-R1's flags work too: --index_path, --corpus_path, --retriever_model (a local ONNX model folder), --retriever_name, --topk, --faiss_gpu (= --backend gpu).",
    );
  type ServeFlags = ServingFlags & {
    index: string;
    corpus: string;
    model: string;
    offsets?: string;
    retrieverName?: string;
    pooling?: 'mean' | 'cls';
    maxLength?: number;
    maxTextChars?: number;
    efSearch?: number;
    nprobe?: number;
  };
  addServingOptions(cmd).action(async (flags: ServeFlags) => {
    const service = await serveFiles({
      ...servingOptions(flags),
      index: flags.index,
      corpus: flags.corpus,
      model: flags.model,
      offsets: flags.offsets,
      retrieverName: flags.retrieverName,
      pooling: flags.pooling,
      maxLength: flags.maxLength,
      maxTextChars: flags.maxTextChars,
      efSearch: flags.efSearch,
      nprobe: flags.nprobe,
    });
    say(`listening on ${service.url} (a /retrieve sent now waits for the load, up to --timeout-ms; GET /health answers 503 until loaded)`);
    await runUntilSignal(service, (url) => ['try it:', `  ${curlExample(url, 'who wrote the origin of species?')}`]);
    // A signal during loading leaves the load running in the background: do not wait for it.
    process.exit(0);
  });
}
