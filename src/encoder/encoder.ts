/**
 * Text -> vectors with a Hugging Face style model folder on ONNX Runtime: tokenizer.json or vocab.txt,
 * config.json, onnx/model.onnx (or model.onnx, or *_quantized.onnx), optional sentence-transformers
 * 1_Pooling/config.json. e5 conventions ("query: " / "passage: ", mean pooling, max 256 tokens,
 * L2-normalised) apply when the folder is an e5 model or when told.
 */
import { TesseraError } from '../core/errors.js';
import { InFlight } from '../core/in-flight.js';
import { missingFile, openModelFolder, type ModelFiles, type ModelFolder } from './model-files.js';
import { l2NormalizeRows, pool, type Pooling } from './pooling.js';
import { loadRuntime, type ExecutionProvider, type ExecutionProviderChoice, type OrtModule } from './runtime.js';
import { checkMaxTextChars, defaultMaxTextChars, TextTooLongError, WordPieceTokenizer, type TokenBatch } from './tokenizer.js';
import type { TextEncoder, TextPrefix } from './types.js';

export interface PrefixStrings {
  query: string;
  passage: string;
}

export const E5_PREFIXES: PrefixStrings = { query: 'query: ', passage: 'passage: ' };

export interface EncoderOptions {
  /** Pooling of token states; default: 1_Pooling/config.json's mode, else mean. */
  pooling?: Pooling;
  /** L2-normalise outputs. Default: true for an e5 model and without modules.json, else as sentence-transformers does (only when modules.json lists Normalize). */
  normalize?: boolean;
  /** 'e5' (query: / passage:, and e5's 256 tokens and normalisation unless given), 'none', or strings; default: e5 when the folder is an e5 model, else none. */
  prefixes?: 'e5' | 'none' | PrefixStrings;
  /** Tokens a text including [CLS]/[SEP]; longer texts are cut. Default 256 for e5 (Search-R1), else 512, or the model's limit where lower. More than config.json's max_position_embeddings is refused at load. */
  maxLength?: number;
  /**
   * Characters of a text a tokenizer other than BERT's may take at once (default 50000, or 8 a token
   * of maxLength when that is more). Such a tokenizer stops early only at a safe cut (a space after
   * a word; for byte-level BPE, any change between letters, digits, whitespace and other characters;
   * for SentencePiece-style models, also between two characters no piece holds side by side, as in
   * CJK); a text with none giving its first maxLength - 2 tokens within this many characters is
   * refused (TextTooLongError) rather than tokenized whole, which for one long word takes seconds.
   * BERT tokenizers always stop early. A tokenizer that truncates from the left (its files'
   * truncation_side "left") keeps a text's last tokens, which need the whole text: any text of more
   * than this many characters is refused.
   */
  maxTextChars?: number;
  /** Texts per ONNX run at most; a run holds texts of one padded length (their token count rounded up to a multiple of 8), so a text's vector never depends on the texts beside it. Default 32. */
  batchSize?: number;
  /** 'auto' (default): onnxruntime-node when installed in Node, else onnxruntime-web WASM. */
  executionProvider?: ExecutionProviderChoice;
  /** WASM/native threads; default all cores. onnxruntime-web fixes it at its first session in a process. */
  threads?: number;
  /** Use model_quantized.onnx (onnx/ or the folder root). */
  quantized?: boolean;
  /**
   * The .onnx file in the folder to run, e.g. 'onnx/model_qint8_avx512.onnx' (sentence-transformers'
   * quantized export) or 'onnx/model_int8.onnx' (transformers.js); overrides `quantized`.
   */
  modelFile?: string;
  /** The index dimension the vectors must have: a model with another output dimension fails at load. */
  expectDim?: number;
  /** Name for logs (default: the folder). */
  name?: string;
}

type Session = Awaited<ReturnType<OrtModule['InferenceSession']['create']>>;

const MODEL_NAMES = ['onnx/model.onnx', 'model.onnx'];
const QUANTIZED_NAMES = ['onnx/model_quantized.onnx', 'model_quantized.onnx'];
const utf8 = new TextDecoder();
/** Texts are padded to a multiple of this many tokens (transformers' pad_to_multiple_of=8). */
const PAD_MULTIPLE = 8;

export class Encoder implements TextEncoder {
  private disposed = false;
  private dimension = 0;
  private pooledOutput = false;

  private constructor(
    readonly name: string,
    readonly tokenizer: WordPieceTokenizer,
    private readonly ort: OrtModule,
    private readonly session: Session,
    /** Where the model runs: 'wasm', 'webgpu' (onnxruntime-web) or 'native' (onnxruntime-node). */
    readonly provider: ExecutionProvider,
    readonly threads: number,
    readonly pooling: Pooling,
    readonly normalize: boolean,
    readonly prefixes: PrefixStrings,
    readonly maxLength: number,
    readonly maxTextChars: number,
    readonly batchSize: number,
    private readonly outputName: string,
    /** Inputs the graph declares int32 (transformers.js-style exports); the rest take int64. Per input: exports mix them. */
    private readonly int32Inputs: ReadonlySet<string>,
  ) {}

  get dim(): number {
    return this.dimension;
  }

  /** The model's output is one vector a text already (e.g. sentence_embedding): `pooling` does not apply. */
  get pooledByModel(): boolean {
    return this.pooledOutput;
  }

  describe(): string {
    const pooling = this.pooledByModel ? `pooled by the model (output ${this.outputName})` : `${this.pooling} pooling`;
    const left = this.tokenizer.truncationSide === 'left';
    const refused = !this.tokenizer.mayRefuse ? '' : left ? `; a text of more than ${this.maxTextChars} characters is refused (--max-text-chars)` : `; a text with no safe cut within ${this.maxTextChars} characters is refused (--max-text-chars)`;
    return `${pooling}, ${this.normalize ? 'L2-normalised' : 'not normalised'}, query prefix ${JSON.stringify(this.prefixes.query)}, max ${this.maxLength} tokens${left ? ', a longer text keeping its last (truncation_side "left")' : ''}${refused}`;
  }

  /** Loads a model folder (a path in Node/Deno, a URL, a name -> bytes map, or a lookup function). */
  static async fromDirectory(files: ModelFiles, opts: EncoderOptions = {}): Promise<Encoder> {
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
    const enc = new Encoder(
      opts.name ?? folder.label,
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
      opts.normalize ?? (modules && !isE5 ? modules.some((m) => m.endsWith('.Normalize')) : true),
      prefixes,
      maxLength,
      maxTextChars,
      batchSize,
      outputName,
      int32Inputs,
    );
    // One probe run gives the real output dimension, so a model that does not fit the index fails here.
    let probe: { dim: number; pooledByModel: boolean };
    try {
      probe = await enc.runBatch(tokenizer.encodeBatch(['tessera'], maxLength));
      const otherPooling = opts.pooling === undefined ? otherPoolingMode(poolingConfig) : undefined;
      if (otherPooling && !probe.pooledByModel) {
        throw new TesseraError(
          'UNSUPPORTED',
          `model in ${folder.label} pools with ${otherPooling} (1_Pooling/config.json), which tessera does not do (it does mean and cls): export the whole pipeline so the graph has a "sentence_embedding" output, or pass pooling (--pooling) knowing the vectors will differ from the model's`,
        );
      }
      // A pooling told is taken as told (Search-R1's --retriever_name mean-pools token states whatever the pipeline).
      const unapplied = opts.pooling === undefined ? (modules?.filter((m) => m !== '' && !/\.(Transformer|Pooling|Normalize)$/.test(m)) ?? []) : [];
      if (unapplied.length && !probe.pooledByModel) {
        throw new TesseraError(
          'UNSUPPORTED',
          `model in ${folder.label} is a sentence-transformers pipeline with ${unapplied.join(', ')} after pooling (modules.json), which its ONNX graph's token states leave out: export the whole pipeline so the graph has a "sentence_embedding" output (SentenceTransformer(..., backend="onnx"), or optimum-cli export onnx --library sentence_transformers)`,
        );
      }
    } catch (e) {
      await session.release();
      throw e;
    }
    enc.dimension = probe.dim;
    enc.pooledOutput = probe.pooledByModel;
    if (opts.expectDim !== undefined) {
      try {
        checkEncoderDim(enc, opts.expectDim);
      } catch (e) {
        await enc.dispose();
        throw e;
      }
    }
    return enc;
  }

  /** texts -> texts.length x dim, row-major. prefix default 'query'. */
  async encode(texts: readonly string[], opts: { prefix?: TextPrefix } = {}): Promise<Float32Array> {
    if (this.disposed) throw new TesseraError('INVALID_ARGUMENT', `encoder ${this.name} was disposed: load it again (Encoder.fromDirectory)`);
    return this.running.track(this.encodeNow(texts, opts));
  }

  /** Encodes in flight: dispose lets them finish, since ONNX Runtime fails a run on a released session. */
  private readonly running = new InFlight();

  private async encodeNow(texts: readonly string[], opts: { prefix?: TextPrefix }): Promise<Float32Array> {
    if (!Array.isArray(texts)) {
      // A single string is the usual slip (encode(text)): say how to pass it.
      throw new TesseraError(
        'INVALID_ARGUMENT',
        typeof texts === 'string'
          ? 'texts must be an array of strings, got a single string: wrap it, encode([text]) (its row is then result.subarray(0, encoder.dim))'
          : `texts must be an array of strings, got ${texts === null ? 'null' : typeof texts}`,
      );
    }
    const prefix = opts.prefix ?? 'query';
    if (prefix !== 'query' && prefix !== 'passage' && prefix !== 'none') {
      throw new TesseraError('INVALID_ARGUMENT', `prefix must be 'query', 'passage' or 'none', got ${JSON.stringify(prefix)}`);
    }
    const pre = prefix === 'none' ? '' : this.prefixes[prefix];
    const rows = texts.map((t, i) => {
      if (typeof t !== 'string') throw new TesseraError('INVALID_ARGUMENT', `texts[${i}] must be a string, got ${typeof t}`);
      try {
        return this.tokenizer.encode(t, this.maxLength, this.maxTextChars, pre);
      } catch (e) {
        // Which of the texts: the message alone did not say.
        throw e instanceof TextTooLongError ? e.at(`texts[${i}]`) : e;
      }
    });
    const out = new Float32Array(texts.length * this.dim);
    // A text's vector depends on the text alone, not on the texts run beside it: padded to the longest
    // of its run, its attention sums ran over another length and its vector moved in the last bits
    // (~3e-8), so a build resumed at another --batch, or a query served beside others, got other
    // vectors. Each text is padded to its own length rounded up (paddedLength) and runs only with
    // texts of that padded length; how many texts share a run does not change a row.
    const padded = rows.map((r) => this.paddedLength(r.length));
    const order = rows.map((_, i) => i).sort((a, b) => padded[a]! - padded[b]! || a - b);
    for (let s = 0; s < order.length; ) {
      const length = padded[order[s]!]!;
      let e = s + 1;
      while (e < order.length && e - s < this.batchSize && padded[order[e]!] === length) e++;
      const idx = order.slice(s, e);
      const { vectors } = await this.runBatch(this.tokenizer.pad(idx.map((i) => rows[i]!), length));
      idx.forEach((row, j) => out.set(vectors.subarray(j * this.dim, (j + 1) * this.dim), row * this.dim));
      s = e;
    }
    return out;
  }

  /**
   * The length a text of `tokens` tokens is padded to: the next multiple of PAD_MULTIPLE (few pads,
   * and few distinct lengths so runs stay full), at most maxLength. Its own length where the pads
   * could reach the vector: a graph without attention_mask attends to them, and one that pools
   * itself may average them in.
   */
  private paddedLength(tokens: number): number {
    if (this.pooledOutput || !this.session.inputNames.includes('attention_mask')) return tokens;
    return Math.min(Math.ceil(tokens / PAD_MULTIPLE) * PAD_MULTIPLE, Math.max(tokens, this.maxLength));
  }

  /** Token ids of texts as the model sees them ([CLS] ... [SEP], cut to maxLength), with the prefix. */
  tokenize(text: string, prefix: TextPrefix = 'none'): number[] {
    return this.tokenizer.encode(text, this.maxLength, this.maxTextChars, prefix === 'none' ? '' : this.prefixes[prefix]);
  }

  /**
   * Throws the TextTooLongError encode would for `text`, without running the model. Never for BERT's
   * tokenizer, and only for a text longer than maxTextChars or, for a Unigram model under a limit
   * raised past the default, than the default (the library overflows its stack on ~120k pieces
   * within the limit), so only those are tokenized.
   */
  check(text: string, opts: { prefix?: TextPrefix } = {}): void {
    const prefix = opts.prefix ?? 'query';
    const pre = prefix === 'none' ? '' : this.prefixes[prefix];
    const safeChars = this.tokenizer.overflowsStack ? Math.min(this.maxTextChars, defaultMaxTextChars(this.maxLength)) : this.maxTextChars;
    if (this.tokenizer.mayRefuse && pre.length + text.length > safeChars) this.tokenizer.encode(text, this.maxLength, this.maxTextChars, pre);
  }

  private async runBatch(b: TokenBatch): Promise<{ vectors: Float32Array; dim: number; pooledByModel: boolean }> {
    const { Tensor } = this.ort;
    const dims = [b.batch, b.seqLen];
    const tensor = (name: string, x: BigInt64Array) =>
      this.int32Inputs.has(name) ? new Tensor('int32', Int32Array.from(x, Number), dims) : new Tensor('int64', x, dims);
    const feeds: Record<string, InstanceType<OrtModule['Tensor']>> = {};
    const names = this.session.inputNames;
    feeds.input_ids = tensor('input_ids', b.inputIds);
    if (names.includes('attention_mask')) feeds.attention_mask = tensor('attention_mask', b.attentionMask);
    if (names.includes('token_type_ids')) feeds.token_type_ids = tensor('token_type_ids', b.tokenTypeIds);
    const missing = names.filter((n) => !(n in feeds));
    if (missing.length) {
      throw new TesseraError('FORMAT', `model ${this.name} needs inputs [${missing.join(', ')}]: a BERT-style graph takes input_ids, attention_mask, token_type_ids`);
    }
    const result = await this.session.run(feeds);
    const output = result[this.outputName]!;
    const data = floatsOf(output.type, await output.getData(), this.name, this.outputName);
    const shape = output.dims;
    let vectors: Float32Array;
    let dim: number;
    if (shape.length === 3 && shape[0] === b.batch && shape[1] === b.seqLen) {
      dim = shape[2]!;
      vectors = pool(data, b.attentionMask, b.batch, b.seqLen, dim, this.pooling);
    } else if (shape.length === 2 && shape[0] === b.batch) {
      dim = shape[1]!;
      vectors = Float32Array.from(data);
    } else {
      throw new TesseraError('FORMAT', `model ${this.name} output "${this.outputName}" has shape [${shape.join(', ')}]: expected [batch, seq, dim] or [batch, dim]`);
    }
    for (const t of Object.values(result)) t.dispose();
    if (this.normalize) l2NormalizeRows(vectors, dim);
    return { vectors, dim, pooledByModel: shape.length === 2 };
  }

  /** Frees the ONNX session once the encodes already started have finished; later encodes are refused. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.running.settled();
    await this.session.release();
  }
}

/**
 * The output's values as float32. A float16 graph (an fp16 export) gives its halves as a Uint16Array
 * of bit patterns (or a Float16Array where the platform has one): pooled as they were, those were garbage.
 */
function floatsOf(type: string, data: unknown, model: string, output: string): Float32Array {
  if (type === 'float32') return data as Float32Array;
  if (type === 'float16') {
    if (data instanceof Uint16Array) return halvesToFloats(data);
    return Float32Array.from(data as ArrayLike<number>);
  }
  throw new TesseraError('FORMAT', `model ${model} output "${output}" is ${type}: expected float32 or float16 embeddings`);
}

function halvesToFloats(h: Uint16Array): Float32Array {
  const out = new Float32Array(h.length);
  for (let i = 0; i < h.length; i++) {
    const x = h[i]!;
    const sign = x & 0x8000 ? -1 : 1;
    const exp = (x >> 10) & 0x1f;
    const frac = x & 0x3ff;
    if (exp === 0) out[i] = sign * frac * 2 ** -24;
    else if (exp === 31) out[i] = frac ? NaN : sign * Infinity;
    else out[i] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return out;
}

/** INVALID_ARGUMENT when an encoder's vectors cannot go into (or query) an index of dimension `indexDim`. */
export function checkEncoderDim(encoder: Pick<TextEncoder, 'dim' | 'name'>, indexDim: number): void {
  if (encoder.dim !== indexDim) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `model ${encoder.name} makes ${encoder.dim}-dimensional vectors but the index has d=${indexDim}: use the model the index was built with, or rebuild the index with this model (tessera build)`,
    );
  }
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
