/**
 * Encoder.fromDirectory's loading, apart from encoder.ts: reading a model folder's files and
 * settings, and starting the ONNX Runtime session. A page that only searches never runs it, so it is
 * in the chunk of src/on-demand.ts, downloaded at the first fromDirectory (BENCHMARKS.md, section
 * bundle). Encoder.fromDirectory builds the Encoder from these parts and runs the probe.
 */
import { TesseraError } from '../core/errors.js';
import { E5_PREFIXES, type EncoderOptions, type PrefixStrings, type Session } from './encoder.js';
import { missingFile, openModelFolder, type ModelFiles, type ModelFolder } from './model-files.js';
import type { Pooling } from './pooling.js';
import type { ExecutionProvider, OrtModule } from './runtime.js';
import { loadRuntime } from './runtime-load.js';
import { checkMaxTextChars, defaultMaxTextChars, WordPieceTokenizer } from './tokenizer.js';

const MODEL_NAMES = ['onnx/model.onnx', 'model.onnx'];
const QUANTIZED_NAMES = ['onnx/model_quantized.onnx', 'model_quantized.onnx'];
const utf8 = new TextDecoder();

/** What an Encoder is made of, as fromDirectory reads it from a model folder. */
export interface EncoderParts {
  name: string;
  tokenizer: WordPieceTokenizer;
  ort: OrtModule;
  session: Session;
  provider: ExecutionProvider;
  threads: number;
  pooling: Pooling;
  normalize: boolean;
  prefixes: PrefixStrings;
  maxLength: number;
  maxTextChars: number;
  batchSize: number;
  outputName: string;
  int32Inputs: ReadonlySet<string>;
  /** Throws where the folder's pipeline pools or transforms in a way its graph's token states leave out, unless the graph pooled itself. */
  checkProbe(pooledByModel: boolean): void;
}

/** Reads the folder and opens the session; the caller runs the probe and releases the session if it fails. */
export async function openEncoder(files: ModelFiles, opts: EncoderOptions): Promise<EncoderParts> {
  const folder = openModelFolder(files);
  const batchSize = opts.batchSize ?? 32;
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new TesseraError('INVALID_ARGUMENT', `batchSize must be a positive integer, got ${opts.batchSize}`);
  }
  const config = (await folder.json('config.json')) ?? {};
  const tokConfig = (await folder.json('tokenizer_config.json')) ?? {};
  const tokenizer = await loadTokenizer(folder, tokConfig);
  const poolingConfig = await folder.json('1_Pooling/config.json');
  const modules = stModules(await folder.get('modules.json'), folder.label);
  // README's e5 conventions (256 tokens, L2-normalised) for an e5 folder, or one told prefixes: 'e5'.
  const isE5 = looksLikeE5(folder.label, config, opts.name) || opts.prefixes === 'e5';
  const pooling = opts.pooling ?? poolingFromConfig(poolingConfig) ?? 'mean';
  if (pooling !== 'mean' && pooling !== 'cls') {
    throw new TesseraError('INVALID_ARGUMENT', `pooling must be 'mean' or 'cls', got ${JSON.stringify(pooling)}`);
  }
  const prefixes = resolvePrefixes(opts.prefixes, isE5);
  const maxLength = opts.maxLength ?? defaultMaxLength(config, tokConfig, isE5);
  if (!Number.isInteger(maxLength) || maxLength < 2) {
    throw new TesseraError('INVALID_ARGUMENT', `maxLength must be an integer >= 2, got ${maxLength}`);
  }
  const maxTextChars = opts.maxTextChars ?? defaultMaxTextChars(maxLength);
  checkMaxTextChars(maxTextChars);
  const positions = positionLimit(config);
  if (positions !== undefined && maxLength > positions) {
    // The graph would load and fail only at the first text that long, with an ONNX Runtime broadcast error.
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `maxLength ${maxLength} is more than the ${positions} positions the model in ${folder.label} has (config.json max_position_embeddings): use maxLength <= ${positions}`,
    );
  }
  if (opts.modelFile !== undefined && (typeof opts.modelFile !== 'string' || !opts.modelFile.endsWith('.onnx'))) {
    throw new TesseraError('INVALID_ARGUMENT', `modelFile must name an .onnx file in the model folder (e.g. 'onnx/model_int8.onnx'), got ${JSON.stringify(opts.modelFile)}`);
  }
  const candidates = opts.modelFile !== undefined ? [opts.modelFile] : opts.quantized ? QUANTIZED_NAMES : MODEL_NAMES;
  const { name: modelName, bytes } = await folder.require(candidates, opts.modelFile !== undefined || !opts.quantized ? 'ONNX model' : 'quantized ONNX model');
  const externalData = await externalDataOf(folder, modelName);
  const { ort, provider, threads } = await loadRuntime(opts.executionProvider ?? 'auto', opts.threads);
  let session: Session;
  try {
    session = await ort.InferenceSession.create(bytes, {
      executionProviders: [provider === 'native' ? 'cpu' : provider],
      graphOptimizationLevel: 'all',
      ...(externalData.length ? { externalData } : {}),
      ...(provider === 'native' ? { intraOpNumThreads: threads } : {}),
    });
  } catch (e) {
    const message = (e as Error).message;
    const external = /external data file "+([^"]+)"+/.exec(message)?.[1];
    const base = modelName.split('/').pop()!;
    if (external === `${base}.data` || external === `${base}_data`) {
      throw new TesseraError('NOT_FOUND', `model ${modelName} in ${folder.label} keeps its weights in ${external}, which is not beside it: copy that file into the folder too`, { cause: e });
    }
    if (external !== undefined) {
      // Only model.onnx.data / model.onnx_data are looked for; ONNX Runtime's own words are "Module.MountedFiles is not available".
      throw new TesseraError(
        'FORMAT',
        `model ${modelName} in ${folder.label} keeps its weights in an external data file named "${external}", which is not read: only ${modelName}.data or ${modelName}_data beside it are; save the model again with its weights in one (onnx.save_model(model, "${base}", save_as_external_data=True, all_tensors_to_one_file=True, location="${base}_data"))`,
        { cause: e },
      );
    }
    if (provider === 'webgpu' && /no available backend found/i.test(message)) {
      // Not the model's fault: onnxruntime-web found no usable GPU (no adapter, or a device it cannot use).
      throw new TesseraError('GPU_UNAVAILABLE', `execution provider "webgpu" could not start on this machine's WebGPU (${message}): use "wasm" (or "auto")`, { cause: e });
    }
    throw new TesseraError('FORMAT', `model in ${folder.label} could not be loaded by ONNX Runtime (${provider}): ${message}`, { cause: e });
  }
  if (!session.inputNames.includes('input_ids')) {
    await session.release();
    throw new TesseraError('FORMAT', `model in ${folder.label} has inputs [${session.inputNames.join(', ')}]: expected a BERT-style graph taking input_ids`);
  }
  // A sentence-transformers export (optimum, ST's own ONNX backend) has token_embeddings and
  // sentence_embedding: the latter went through the whole pipeline (its Dense and Normalize modules
  // too), so it is what SentenceTransformer.encode returns. Token states are pooled here only when
  // told a pooling mode, or when the graph has no pooled output.
  const outputPreference = opts.pooling === undefined
    ? ['sentence_embedding', 'last_hidden_state', 'token_embeddings']
    : ['last_hidden_state', 'token_embeddings', 'sentence_embedding'];
  const outputName = outputPreference.find((n) => session.outputNames.includes(n)) ?? session.outputNames[0]!;
  const meta = (session as { inputMetadata?: readonly { name: string; type?: string }[] }).inputMetadata;
  const int32Inputs = new Set((meta ?? []).filter((m) => m.type === 'int32').map((m) => m.name));
  return {
    name: opts.name ?? folder.label,
    tokenizer,
    ort,
    session,
    provider,
    threads,
    pooling,
    // sentence-transformers normalises only when modules.json lists a Normalize module (dot-product
    // models such as msmarco-distilbert-base-tas-b do not); without modules.json, e5-style unit vectors.
    // e5 is used normalised (its model card's encode(normalize_embeddings=True), Search-R1) while its
    // modules.json may list only Transformer and Pooling: its folder's vectors came out unnormalised.
    normalize: opts.normalize ?? (modules && !isE5 ? modules.some((m) => m.endsWith('.Normalize')) : true),
    prefixes,
    maxLength,
    maxTextChars,
    batchSize,
    outputName,
    int32Inputs,
    checkProbe(pooledByModel: boolean): void {
      const otherPooling = opts.pooling === undefined ? otherPoolingMode(poolingConfig) : undefined;
      if (otherPooling && !pooledByModel) {
        throw new TesseraError(
          'UNSUPPORTED',
          `model in ${folder.label} pools with ${otherPooling} (1_Pooling/config.json), which tessera does not do (it does mean and cls): export the whole pipeline so the graph has a "sentence_embedding" output, or pass pooling (--pooling) knowing the vectors will differ from the model's`,
        );
      }
      // A pooling told is taken as told (Search-R1's --retriever_name mean-pools token states whatever the pipeline).
      const unapplied = opts.pooling === undefined ? (modules?.filter((m) => m !== '' && !/\.(Transformer|Pooling|Normalize)$/.test(m)) ?? []) : [];
      if (unapplied.length && !pooledByModel) {
        throw new TesseraError(
          'UNSUPPORTED',
          `model in ${folder.label} is a sentence-transformers pipeline with ${unapplied.join(', ')} after pooling (modules.json), which its ONNX graph's token states leave out: export the whole pipeline so the graph has a "sentence_embedding" output (SentenceTransformer(..., backend="onnx"), or optimum-cli export onnx --library sentence_transformers)`,
        );
      }
    },
  };
}

async function loadTokenizer(folder: ModelFolder, tokConfig: Record<string, unknown>): Promise<WordPieceTokenizer> {
  const json = await folder.get('tokenizer.json');
  if (json) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(utf8.decode(json));
    } catch (e) {
      throw new TesseraError('FORMAT', `${folder.label}/tokenizer.json is not JSON: ${(e as Error).message}`, { cause: e });
    }
    return WordPieceTokenizer.fromTokenizerJson(parsed, tokConfig, `${folder.label}/tokenizer.json`);
  }
  const vocab = await folder.get('vocab.txt');
  if (vocab) {
    const lowercase = tokConfig.do_lower_case !== false;
    return WordPieceTokenizer.fromVocabTxt(utf8.decode(vocab), { lowercase, truncationSide: tokConfig.truncation_side }, `${folder.label}/vocab.txt`);
  }
  throw await missingFile(folder, 'tokenizer', ['tokenizer.json', 'vocab.txt'], 'copy the tokenizer files of the model into it');
}

/**
 * Weights stored beside the graph (ONNX external data: PyTorch's exporter and optimum write
 * `model.onnx.data` or `model.onnx_data` for large models). The model is handed to ONNX Runtime as
 * bytes, so these are handed over too, under the name the graph refers to them by.
 */
async function externalDataOf(folder: ModelFolder, modelName: string): Promise<{ path: string; data: Uint8Array }[]> {
  const out: { path: string; data: Uint8Array }[] = [];
  for (const suffix of ['.data', '_data']) {
    const data = await folder.get(modelName + suffix);
    if (data) out.push({ path: (modelName + suffix).split('/').pop()!, data });
  }
  return out;
}

/** The module types of a sentence-transformers modules.json ("sentence_transformers.models.Pooling", ...); undefined when absent. */
function stModules(bytes: Uint8Array | undefined, label: string): string[] | undefined {
  if (!bytes) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(utf8.decode(bytes));
  } catch (e) {
    throw new TesseraError('FORMAT', `${label}/modules.json is not JSON: ${(e as Error).message}`, { cause: e });
  }
  if (!Array.isArray(parsed)) throw new TesseraError('FORMAT', `${label}/modules.json is not a sentence-transformers module list (a JSON array)`);
  return parsed.map((m) => String((m as { type?: unknown } | null)?.type ?? ''));
}

function looksLikeE5(label: string, config: Record<string, unknown>, name?: string): boolean {
  const e5 = /(^|[^a-z0-9])e5([^a-z0-9]|$)/i;
  const origin = typeof config._name_or_path === 'string' ? config._name_or_path : '';
  return e5.test(origin) || e5.test(label.split(/[\\/]/).filter(Boolean).pop() ?? '') || (name !== undefined && e5.test(name));
}

/**
 * A pooling of 1_Pooling/config.json other than mean or cls alone: max, last token, weighted mean,
 * mean sqrt len, or several modes at once (sentence-transformers concatenates them).
 */
function otherPoolingMode(c: Record<string, unknown> | undefined): string | undefined {
  if (!c) return undefined;
  const modes = Object.keys(c).filter((k) => k.startsWith('pooling_mode_') && c[k] === true);
  if (modes.length === 1 && poolingFromConfig(c)) return undefined;
  return modes.length ? modes.join(' + ') : undefined;
}

function poolingFromConfig(c: Record<string, unknown> | undefined): Pooling | undefined {
  if (!c) return undefined;
  if (c.pooling_mode_cls_token === true) return 'cls';
  if (c.pooling_mode_mean_tokens === true) return 'mean';
  return undefined;
}

function resolvePrefixes(p: EncoderOptions['prefixes'], isE5: boolean): PrefixStrings {
  if (p === undefined) return isE5 ? E5_PREFIXES : { query: '', passage: '' };
  if (p === 'e5') return E5_PREFIXES;
  if (p === 'none') return { query: '', passage: '' };
  if (typeof p === 'object' && typeof p.query === 'string' && typeof p.passage === 'string') return p;
  throw new TesseraError('INVALID_ARGUMENT', `prefixes must be 'e5', 'none' or {query, passage} strings, got ${JSON.stringify(p)}`);
}

/** Tokens a text the model's position embeddings hold; RoBERTa-style models number positions from pad_token_id + 1. */
function positionLimit(config: Record<string, unknown>): number | undefined {
  const n = config.max_position_embeddings;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 2) return undefined;
  const offsetPositions = ['roberta', 'xlm-roberta', 'camembert', 'mpnet', 'longformer', 'xlm-roberta-xl'].includes(String(config.model_type));
  const pad = typeof config.pad_token_id === 'number' ? config.pad_token_id : 1;
  return offsetPositions ? n - pad - 1 : n;
}

function defaultMaxLength(config: Record<string, unknown>, tokConfig: Record<string, unknown>, isE5: boolean): number {
  // e5's 256 (Search-R1) is a default too: a model of fewer positions takes its own limit, not a refusal.
  const limits = [isE5 ? 256 : 512];
  const positions = positionLimit(config);
  if (positions !== undefined) limits.push(positions);
  if (typeof tokConfig.model_max_length === 'number') limits.push(tokConfig.model_max_length);
  return Math.min(...limits);
}
