/**
 * `tessera serve` as a function: wires the service's loaders to files on disk (a FAISS index file
 * read by readIndex, a Hugging Face model folder read by Encoder.fromDirectory, a jsonl corpus read
 * by offset) and reports each step. The CLI (serve, demo), the end-to-end tests and the load test
 * all start the server through here, so they exercise the same wiring.
 */
import { mkdir, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { TesseraError, formatBytes, isTesseraError } from '../core/errors.js';
import { chooseBackend } from '../core/factory.js';
import { MAX_GPU_BATCH } from '../core/planner.js';
import type { Backend, BackendChoice, Index, ProgressCallback } from '../core/types.js';
import { Encoder } from '../encoder/encoder.js';
import { gpuAvailable, gpuUnavailableReason, softwareAdapterName } from '../gpu/device.js';
import { gpuResultLimit } from '../gpu/flat-shard.js';
import type { Pooling } from '../encoder/pooling.js';
import { searchR1Encoding } from '../encoder/search-r1.js';
import type { ExecutionProviderChoice } from '../encoder/runtime.js';
import type { TextEncoder } from '../encoder/types.js';
import { cachedOffsetTablePath, checkCorpusFile, nonUtf8Note, openCorpus } from '../io/corpus.js';
import { faissFormat } from '../io/faiss/formats.js';
import { inspectIndex, readIndex } from '../io/read-index.js';
import type { IndexFileInfo } from '../io/read-index.js';
import { EF_MAX } from '../wasm/hnsw-index.js';
import { maxTopkError, startService } from './service.js';
import type { RunningService, ServiceOptions } from './service.js';

export type Precision = 'auto' | 'f32' | 'f16' | 'int8';

/** Rows that are not UTF-8 told one by one as answers meet them, when the corpus was not scanned at start. */
const NON_UTF8_TOLD = 5;

export interface ServeFilesOptions {
  /** FAISS index file (IndexFlatIP/L2, HNSW, IVF, SQ). */
  index: string;
  /** jsonl corpus: row i is vector i of the index. */
  corpus: string;
  /** Model folder (tokenizer.json or vocab.txt, config.json, onnx/model.onnx). */
  model: string;
  /** Offset table path; default `<corpus>.offsets` (built once, reused while the corpus is unchanged). */
  offsets?: string;
  host?: string;
  port?: number;
  /** topk when a request sends none (Search-R1's --topk). */
  topk?: number;
  maxTopk?: number;
  backend?: BackendChoice;
  precision?: Precision;
  /** HNSW: candidate list size of every search (FAISS efSearch; default: the file's). */
  efSearch?: number;
  /** IVF: inverted lists visited by every search (FAISS nprobe; default: the file's). */
  nprobe?: number;
  /** GPU memory to assume when the adapter does not report it, bytes. */
  gpuMemory?: number;
  /** GPU: the tensor cores through Dawn's experimental subgroup matrices (IndexOptions.allowExperimental). */
  allowExperimental?: boolean;
  /** GPU, Node: Dawn opened with disable_robustness (IndexOptions.disableRobustness). */
  disableRobustness?: boolean;
  /** GPU: digit planes beside the rows for the tensor cores (IndexOptions.digitPlanes). */
  digitPlanes?: boolean;
  maxBatch?: number;
  maxWaitMs?: number;
  maxQueue?: number;
  timeoutMs?: number;
  bodyLimit?: number;
  /**
   * Search-R1's --retriever_name: query encoding as Search-R1's retrieval server does it (e5 in the
   * name -> "query: ", bge -> BGE's instruction, else no prefix; mean pooling; L2-normalised unless
   * dpr is in the name; 256 tokens). Default: from the model folder.
   */
  retrieverName?: string;
  /** Pooling of the query encoder; overrides the folder's and --retriever_name's. */
  pooling?: Pooling;
  /** Tokens a query, [CLS]/[SEP] included; overrides the folder's and --retriever_name's. */
  maxLength?: number;
  /** Characters of a query a tokenizer without a safe cut takes at once (EncoderOptions.maxTextChars); longer ones get a 413. */
  maxTextChars?: number;
  /** Encoder execution provider (default auto: onnxruntime-node when installed, else WASM). */
  encoderProvider?: ExecutionProviderChoice;
  /** Texts per encoder run (default: the batch limit, so one batch is one ONNX run). */
  encoderBatch?: number;
  threads?: number;
  logger?: ServiceOptions['logger'];
  /** Human-readable lines (startup steps, backend notice); default none. */
  say?: (line: string) => void;
  /** Progress of long steps (offset table scan, index load); default none. */
  onProgress?: ProgressCallback;
  reloadRetryMs?: number;
}

export const SERVE_DEFAULTS = {
  host: '127.0.0.1',
  port: 8000,
  topk: 3,
  maxTopk: 100,
  maxBatch: 512,
  maxWaitMs: 2,
  timeoutMs: 60_000,
  bodyLimit: 16 << 20,
} as const;

/**
 * What the GPU returns at most a query (gpuResultLimit: told before loading) where `k` asks for more
 * of an index file (`info`) that `backend` would load onto the GPU; else undefined. `say` hears the
 * adapter probe that 'auto' starts here (its wait past 3 s, its give-up at 30 s).
 */
export async function gpuLimitShortOf(
  k: number,
  info: { fourcc: string; backends: readonly Backend[]; ntotal: number },
  backend: BackendChoice,
  say?: (line: string) => void,
): Promise<number | undefined> {
  if (backend === 'wasm' || !info.backends.includes('gpu')) return undefined;
  // The probe chooseBackend asks next, started here with `say` (not given to chooseBackend, whose
  // fallback notice is the load's to say): this is the first look, so the wait is said as it happens.
  if (backend === 'auto' && say) await gpuAvailable(undefined, { onNotice: say });
  // Where readIndex would load it (chooseBackend: 'auto' passes over a software adapter where WASM
  // serves the file), asked, not decided again here: only the GPU's own search has its limit.
  if ((await chooseBackend(faissFormat(info.fourcc).kind, 'the index file', { backend })) !== 'gpu') return undefined;
  const limit = await gpuResultLimit();
  return limit !== undefined && info.ntotal > limit && k > limit ? limit : undefined;
}

/**
 * efConstruction / efSearch for readIndex where an HNSW file (`info`, inspectIndex's) stores one above
 * tessera's limit: FAISS writes any int there, and the library refuses such a file unless the caller
 * passes the option, which search and serve had no flag for (efConstruction). efConstruction only
 * steers adds, which search and serve never do; efSearch is taken from --ef-search (`efSearch`) where
 * given, else the limit, the nearest to what the file asks. Each value replaced is told in `notes`.
 */
export function storedEfOverrides(
  info: Pick<IndexFileInfo, 'details'>,
  efSearch: number | undefined,
  file: string,
): { efConstruction?: number; efSearch?: number; notes: string[] } {
  const stored = (name: string) => (typeof info.details[name] === 'number' ? (info.details[name] as number) : 0);
  const out: { efConstruction?: number; efSearch?: number; notes: string[] } = { notes: [] };
  if (stored('efConstruction') > EF_MAX) {
    out.efConstruction = EF_MAX;
    out.notes.push(`${file} stores efConstruction ${stored('efConstruction')}, above tessera's limit of ${EF_MAX}: opened with efConstruction ${EF_MAX} (it only steers adding vectors, which this command never does)`);
  }
  if (efSearch === undefined && stored('efSearch') > EF_MAX) {
    out.efSearch = EF_MAX;
    out.notes.push(`${file} stores efSearch ${stored('efSearch')}, above tessera's limit of ${EF_MAX}: searching with efSearch ${EF_MAX} (--ef-search sets another)`);
  }
  return out;
}

/**
 * Index options the loaded `index` has no use for, each as a note (`--precision int8` on wasm,
 * `--ef-search` on a Flat file were ignored without a word); `runs` says where: 'this search runs'.
 */
export function unusedIndexOptions(
  o: { efSearch?: number; nprobe?: number; precision?: Precision; gpuMemory?: number; allowExperimental?: boolean; disableRobustness?: boolean; digitPlanes?: boolean },
  index: Index,
  runs: string,
): string[] {
  const notes: string[] = [];
  const knob = (given: unknown, flag: string, takes: RegExp, who: string) => {
    if (given !== undefined && !takes.test(index.description)) notes.push(`${flag} does nothing for a ${index.description} index (only ${who} take it): ignored`);
  };
  knob(o.efSearch, '--ef-search', /^HNSW/, 'HNSW indexes');
  knob(o.nprobe, '--nprobe', /^IVF/, 'IVF indexes');
  if (index.backend !== 'gpu') {
    const gpuOnly = [
      o.precision !== undefined && o.precision !== 'auto' && `--precision ${o.precision}`,
      o.gpuMemory !== undefined && '--gpu-memory',
      o.allowExperimental && '--allow-experimental',
      o.disableRobustness && '--disable-robustness',
      o.digitPlanes === false && '--no-digit-planes',
    ].filter((f): f is string => typeof f === 'string');
    if (gpuOnly.length) notes.push(`${gpuOnly.join(', ')} ${gpuOnly.length > 1 ? 'apply' : 'applies'} to the GPU backend, and ${runs} on ${index.backend}: ignored`);
  }
  return notes;
}

/**
 * Where `index` runs on a software renderer (lavapipe, SwiftShader: GPUAdapterInfo.isFallbackAdapter),
 * a note for the line naming its backend, which said 'gpu' as on a real GPU: --backend gpu takes one
 * ('auto' passes it over for WASM, faster on the same cores). The CLI passes no GPU object, so its
 * index is on the runtime's own adapter, the one softwareAdapterName looks at.
 */
export async function softwareRendererNote(index: Index): Promise<string | undefined> {
  const name = index.backend === 'gpu' ? await softwareAdapterName() : undefined;
  return name ? `the adapter is a software renderer on the CPU (${name}), slower than --backend wasm` : undefined;
}

/** Said before a library option the CLI has no flag for, where a message names it as a fix or a knob. */
const LIBRARY_ONLY = "the library's ";
const PRECISIONS = "'(auto|f32|f16|int8)'";

/**
 * A library message or reason in the CLI's words: its options named as the CLI's flags, where the
 * CLI has one (`backend 'wasm'` -> `--backend wasm`, `precision 'f16' or 'int8'` -> `--precision f16
 * or --precision int8`, gpuMemory -> --gpu-memory, allowExperimental, `digitPlanes: false` ->
 * --no-digit-planes, `efSearch must be` -> `--ef-search must be`, ...; the library's own "gpuMemory
 * (CLI --gpu-memory)" as the flag alone); an option it has none for, where the message tells to set
 * it, named as "the library's" (scratchBytes, f16TensorCores, rerankSubBatch, efConstruction on
 * a load: set through the library), or left out where the CLI already does what it says
 * (devicesPerGpu: it opens one device a GPU); maxBatch as serve's --max-batch, which search lacks.
 * The one rewrite `info`, `search`, `serve` and `convert` apply to what the library says before
 * printing it.
 */
export function asCliWords(message: string): string {
  return (
    message
      // "backend 'wasm' (--backend wasm)", the adapter probe's notice for either reader, once.
      .replace(/\bbackend (['"])(auto|gpu|wasm)\1(?: \(--backend \2\))?/g, '--backend $2')
      // The plan line's batch knob: a flag of serve and demo, not search (whose int8 plans 512 a batch too).
      .replace(/\bmaxBatch, CLI --max-batch\b/g, "serve's --max-batch")
      // The library's "gpuMemory (CLI --gpu-memory)", "gpuMemory, CLI --gpu-memory,", "digitPlanes: false (CLI --no-digit-planes)".
      .replace(/\b[a-zA-Z]+(?:: false)?(?: \(CLI (--[a-z-]+)\)|, CLI (--[a-z-]+),?)/g, '$1$2')
      .replace(new RegExp(`\\bprecision ${PRECISIONS}((?: or ${PRECISIONS})*)`, 'g'), (_m, p: string, more: string) => `--precision ${p}${more.replace(new RegExp(` or ${PRECISIONS}`, 'g'), ' or --precision $1')}`)
      .replace(/(?<![.\w-])gpuMemory\b/g, '--gpu-memory')
      .replace(/(?<![.\w-])allowExperimental\b/g, '--allow-experimental')
      .replace(/(?<![.\w-])disableRobustness\b/g, '--disable-robustness')
      .replace(/(?<![.\w-])digitPlanes: false\b/g, '--no-digit-planes')
      // Bounds the CLI's parsers leave to the library (--ef-search above 65536), and convert's shards.
      .replace(/\b(efSearch|efConstruction|nprobe|maxBatch|shardBytes) must be\b/g, (_m, o: string) => `${cliFlag(o)} must be`)
      .replace(/\braise shardBytes\b/g, 'raise --shard-bytes')
      // A graph's stored efs over tessera's limit, where a load still meets them (search and serve pass the limits themselves: storedEfOverrides).
      .replace(/\(e\.g\. \{ ((?:ef(?:Search|Construction): \d+(?:, )?)+) \}\)/g, (_m, pairs: string) =>
        `(e.g. ${pairs
          .split(', ')
          .map((pair) => pair.replace(/^efSearch: (\d+)$/, '--ef-search $1').replace(/^(efConstruction: \d+)$/, `${LIBRARY_ONLY}$1`))
          .join(', ')})`,
      )
      // The CLI opens one device a GPU: fewer is not a fix there.
      .replace(/open fewer devices \(devicesPerGpu\), /g, '')
      .replace(/\buse kernel 'dot4' \(--allow-experimental off\)/g, 'leave out --allow-experimental (the portable dot4 kernel runs)')
      .replace(/(?<!the library's )\b(scratchBytes: \d+|f16TensorCores: false|f32TensorCores: false|rerankSubBatch)\b/g, `${LIBRARY_ONLY}$1`)
  );
}

/** The CLI flag of a library option: efSearch -> --ef-search. */
function cliFlag(option: string): string {
  return `--${option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** Starts the server on the given files; `ready` resolves once index, corpus and model are loaded. */
export async function serveFiles(opts: ServeFilesOptions): Promise<RunningService> {
  const say = opts.say ?? (() => {});
  const maxBatch = opts.maxBatch ?? SERVE_DEFAULTS.maxBatch;
  const topk = opts.topk ?? SERVE_DEFAULTS.topk;
  const maxTopk = Math.max(opts.maxTopk ?? SERVE_DEFAULTS.maxTopk, topk);
  // The header is read first (a few bytes) so a wrong index/corpus/model pairing fails in
  // seconds, before minutes of loading a 60 GB index.
  const info = await inspectIndex(opts.index);
  if (!info.metric) {
    throw new TesseraError('UNSUPPORTED', `${opts.index}: metric ${info.metricName} is not supported: serve an inner-product or L2 index`);
  }
  say(`index file ${opts.index}: ${info.type}, ${info.ntotal} x ${info.d}, ${info.metric}, ${formatBytes(info.bytes)}`);
  // Served, every request would fail, as a 400 blaming the client ("add vectors (index.add) before searching").
  if (info.ntotal === 0) {
    throw new TesseraError('INVALID_ARGUMENT', `the index ${opts.index} holds no vectors: serve an index built from the corpus (tessera build --corpus ${opts.corpus} --model DIR --out DIR)`);
  }
  // A backend asked for that cannot load this file (Search-R1's --faiss_gpu beside an HNSW or IVF
  // file) fails now, not after the model and minutes of scanning the corpus for its offset table.
  const asked = opts.backend ?? 'auto';
  if (asked !== 'auto' && !info.backends.includes(asked)) {
    const instead = info.backends.length ? `: ${asked === 'gpu' ? "leave out --backend gpu (Search-R1's --faiss_gpu)" : `use --backend ${info.backends.join(' or ')}`}, the ${info.backends.join(' or ')} backend serves it` : '';
    throw new TesseraError('UNSUPPORTED', `${opts.index} is an ${info.type}, which the ${asked} backend does not serve${instead}`);
  }
  // Likewise a GPU asked for where WebGPU has no adapter (retrieval_launch.sh passes --faiss_gpu).
  // Asked in-process: the load opens that adapter here next, so a child probe would only add its start.
  if (asked === 'gpu' && !(await gpuAvailable(undefined, { inProcess: true }))) {
    const asks = "--backend gpu (Search-R1's --faiss_gpu) asks for the GPU, but WebGPU offers no adapter here";
    // The probe's own cause where known (Node's permission model refused Dawn's addon: a Node flag
    // fixes it, not a driver). Its fix "use --backend wasm" is put as leaving --backend gpu out, as
    // serve's default ('auto') serves on WASM where there is no adapter and a Search-R1 launch script
    // passes the flag as --faiss_gpu.
    const why = await gpuUnavailableReason();
    if (why) {
      const words = asCliWords(why);
      const cause = words.replace(/,? or use --backend wasm$/, '');
      // ', or' only where the reason's own fix was taken off (compared in the CLI's words, which differ from `why` wherever it named a library option).
      throw new TesseraError('GPU_UNAVAILABLE', `${asks}: ${cause}${cause === words ? ':' : ', or'} leave --backend gpu out to serve on the CPU (WASM)`);
    }
    throw new TesseraError(
      'GPU_UNAVAILABLE',
      `${asks} (no GPU, no Vulkan/Metal/D3D12 driver for it, or Node without the optional package \`webgpu\`): leave it out to serve on the CPU (WASM), or install what is missing`,
    );
  }
  // A GPU returns at most its merge list a query (1024 on lavapipe): past --max-topk, --backend auto
  // serves on wasm and --backend gpu is refused, both before loading (minutes onto the GPU).
  // One printer, in the CLI's words (asCliWords: the library's names its backend option, not
  // --backend), for the probe and every load: the probe's give-up it printed is not said again as
  // the reason on the backend line (gpu/device.ts gpuUnavailableReason knows its hearers by it). A
  // load holds its notices for the backend line; later ones (digit planes refused at warm-up or at a
  // search) are said as they come.
  let held: string[] | undefined;
  const notice = (m: string) => {
    if (held) held.push(asCliWords(m));
    else say(asCliWords(m));
  };
  const gpuLimit = await gpuLimitShortOf(maxTopk, info, asked, notice);
  if (gpuLimit !== undefined && (asked === 'gpu' || !info.backends.includes('wasm'))) throw maxTopkError(maxTopk, gpuLimit, 'gpu');
  await checkModelFolder(opts.model);
  // A missing or compressed corpus fails here, before the model loads.
  await checkCorpusFile(opts.corpus);
  // An HNSW file storing an ef above the limit opens with the limit, told once (not at every reload).
  const efs = storedEfOverrides(info, opts.efSearch, opts.index);
  for (const note of efs.notes) say(note);
  let announced = false;
  const loadIndex = async (backend?: 'gpu' | 'wasm'): Promise<Index> => {
    const notices: string[] = [];
    const read = (on: BackendChoice) =>
      readIndex(opts.index, {
        backend: on,
        precision: opts.precision ?? 'auto',
        gpuMemory: opts.gpuMemory,
        efSearch: opts.efSearch ?? efs.efSearch,
        efConstruction: efs.efConstruction,
        nprobe: opts.nprobe,
        allowExperimental: opts.allowExperimental,
        disableRobustness: opts.disableRobustness,
        digitPlanes: opts.digitPlanes,
        // No search of the server's has more queries than a micro-batch: the GPU plans its
        // temporary bytes for that many, not the 4096 of any caller (the demo: 16.1 MiB at 512, not 27.4).
        maxBatch: Math.min(maxBatch, MAX_GPU_BATCH),
        threads: opts.threads,
        onProgress: opts.onProgress,
        onNotice: notice,
      }).catch((e: unknown) => {
        // Its refusal too (a device refused, the GPU's memory short: "or use backend 'wasm'"), as
        // search's: serve's flag is --backend wasm.
        if (isTesseraError(e)) e.message = asCliWords(e.message);
        throw e;
      });
    let on: BackendChoice = backend ?? asked;
    if (on === 'auto' && gpuLimit !== undefined) {
      notices.push(`the GPU returns at most ${gpuLimit} results a query, fewer than --max-topk ${maxTopk}: serving on wasm instead (--max-topk ${gpuLimit} keeps the GPU)`);
      on = 'wasm';
    }
    held = notices;
    const index = await read(on).finally(() => (held = undefined));
    // Said once at start-up (and again when a device loss moved the index elsewhere).
    if (!announced || backend) {
      announced = true;
      const how = notices.length ? notices : [opts.backend === 'gpu' || opts.backend === 'wasm' ? 'asked for' : 'auto'];
      const software = await softwareRendererNote(index);
      if (software) how.push(software);
      say(`backend: ${index.backend} (${how.join('; ')})`);
      for (const note of unusedIndexOptions(opts, index, 'this server runs')) say(note);
    }
    return index;
  };

  return startService({
    host: opts.host ?? SERVE_DEFAULTS.host,
    port: opts.port ?? SERVE_DEFAULTS.port,
    defaultTopk: topk,
    maxTopk,
    maxBatch,
    maxWaitMs: opts.maxWaitMs ?? SERVE_DEFAULTS.maxWaitMs,
    maxQueue: opts.maxQueue,
    timeoutMs: opts.timeoutMs ?? SERVE_DEFAULTS.timeoutMs,
    bodyLimit: opts.bodyLimit ?? SERVE_DEFAULTS.bodyLimit,
    logger: opts.logger,
    reloadRetryMs: opts.reloadRetryMs,
    onStep: (step, seconds, detail) => say(`${step === 'warm-up' ? 'warm-up' : `loaded ${step.padEnd(6)}`} in ${seconds.toFixed(2).padStart(7)} s: ${detail}`),
    onStepStart: (_step, line) => say(line),
    loadCorpus: async () => {
      // A reused offset table means no scan: rows that are not UTF-8 are told as answers meet them.
      let scanned = false;
      const told = new Set<number>();
      const onNonUtf8Row = (row: number) => {
        if (scanned || told.has(row) || told.size > NON_UTF8_TOLD) return;
        told.add(row);
        say(
          told.size > NON_UTF8_TOLD
            ? `corpus ${opts.corpus}: more rows that are not valid UTF-8 were answered; no more are told`
            : `corpus ${opts.corpus}: row ${row} is not valid UTF-8, answered with U+FFFD (the replacement character) for the bad bytes; if the corpus is in another encoding, convert it (iconv -f <its encoding> -t UTF-8) and build the index again`,
        );
      };
      const open = (offsetsPath: string | undefined) => openCorpus(opts.corpus, { offsetsPath, onProgress: opts.onProgress, onNonUtf8Row, say });
      // The errno code, among `codes`, of a table write that failed (openAtomicFileSink's TesseraError).
      const failedWriteCode = (e: unknown, codes: string[]) => {
        const code = ((e as Error)?.cause as NodeJS.ErrnoException | undefined)?.code;
        return isTesseraError(e) && code !== undefined && codes.includes(code) ? code : undefined;
      };
      const withOffsetsHint = (e: TesseraError) => new TesseraError(e.code, `${e.message.replace(/\.$/, '')}: pass --offsets FILE in a folder you can write for the corpus's offset table`, { cause: e });
      const corpus = await open(opts.offsets).catch(async (e: unknown) => {
        if (opts.offsets !== undefined) throw e;
        // The table goes beside the corpus by default, often a shared read-only dataset folder: then
        // to the user's cache, as Search-R1's launch script passes no --offsets (it failed there).
        const denied = failedWriteCode(e, ['EACCES', 'EPERM', 'EROFS']);
        if (denied) {
          const cached = await cachedOffsetTablePath(opts.corpus);
          say(`corpus ${opts.corpus}: its folder cannot be written (${denied}), so its offset table goes to ${cached} (--offsets FILE to choose another)`);
          const mkdirFailure = await mkdir(dirname(cached), { recursive: true }).then(() => undefined, (m: NodeJS.ErrnoException) => m);
          if (mkdirFailure) throw withOffsetsHint(new TesseraError('INVALID_ARGUMENT', `${(e as Error).message}; nor can ${dirname(cached)} be created (${mkdirFailure.code ?? mkdirFailure.message})`, { cause: mkdirFailure }));
          return open(cached).catch((c: unknown) => {
            throw failedWriteCode(c, ['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'EDQUOT']) ? withOffsetsHint(c as TesseraError) : c;
          });
        }
        // ENAMETOOLONG: a corpus name too long for <corpus>.offsets' temp file, which only --offsets renames.
        throw failedWriteCode(e, ['ENOSPC', 'EDQUOT', 'ENAMETOOLONG']) ? withOffsetsHint(e as TesseraError) : e;
      });
      say(`corpus ${opts.corpus}: offset table ${corpus.builtOffsets ? 'built and saved to' : 'reused from'} ${corpus.offsetsPath}`);
      if (corpus.nonUtf8Lines?.count) say(nonUtf8Note(opts.corpus, corpus.nonUtf8Lines.count, corpus.nonUtf8Lines.first));
      scanned = corpus.nonUtf8Lines !== undefined;
      if (corpus.rows !== info.ntotal) {
        await corpus.close();
        throw new TesseraError(
          'INVALID_ARGUMENT',
          `the index ${opts.index} holds ${info.ntotal} vectors but the corpus ${opts.corpus} has ${corpus.rows} rows: serve the corpus the index was built from (row i is vector i)`,
        );
      }
      return corpus;
    },
    loadEncoder: async (): Promise<TextEncoder> =>
      Encoder.fromDirectory(opts.model, {
        expectDim: info.d,
        ...searchR1Encoding(opts.retrieverName),
        ...(opts.pooling !== undefined ? { pooling: opts.pooling } : {}),
        ...(opts.maxLength !== undefined ? { maxLength: opts.maxLength } : {}),
        maxTextChars: opts.maxTextChars,
        executionProvider: opts.encoderProvider,
        batchSize: opts.encoderBatch ?? maxBatch,
        threads: opts.threads,
      }),
    loadIndex,
  });
}

/**
 * The model must be a local folder. Checked before the corpus's offset table is built (minutes on
 * wiki-18), as Search-R1 users pass a Hugging Face id (--retriever_model intfloat/e5-base-v2).
 */
async function checkModelFolder(model: string): Promise<void> {
  const st = await stat(model).catch(() => undefined);
  if (st?.isFile()) {
    // A file of the folder (its model.onnx) given in place of the folder: it is here, not to export.
    const up = dirname(model);
    const folder = basename(up) === 'onnx' ? dirname(up) : up;
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `model ${model} is a file: --model takes the model's folder (tokenizer.json or vocab.txt, config.json, onnx/model.onnx or model.onnx): pass --model ${folder}`,
    );
  }
  if (!st?.isDirectory()) {
    throw new TesseraError(
      'NOT_FOUND',
      `model ${model} is not a folder here: tessera loads the model from a local folder and downloads nothing; export it to ONNX (e.g. optimum-cli export onnx --model ${model} ${model.split('/').pop()}-onnx/) and pass that folder to --model`,
    );
  }
}
