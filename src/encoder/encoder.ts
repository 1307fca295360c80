/**
 * Text -> vectors with a Hugging Face style model folder on ONNX Runtime: tokenizer.json or vocab.txt,
 * config.json, onnx/model.onnx (or model.onnx, or *_quantized.onnx), optional sentence-transformers
 * 1_Pooling/config.json. e5 conventions ("query: " / "passage: ", mean pooling, max 256 tokens,
 * L2-normalised) apply when the folder is an e5 model or when told. Reading the folder and starting
 * the session (encoder-load.ts) is in the chunk of src/on-demand.ts, loaded at the first fromDirectory.
 */
import { TesseraError } from '../core/errors.js';
import { InFlight } from '../core/in-flight.js';
import { lazyChunk } from '../core/lazy.js';
import type { ModelFiles } from './model-files.js';
import { l2NormalizeRows, pool, type Pooling } from './pooling.js';
import type { ExecutionProvider, ExecutionProviderChoice, OrtModule } from './runtime.js';
import { defaultMaxTextChars, TextTooLongError, type TokenBatch, type WordPieceTokenizer } from './tokenizer.js';
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

export type Session = Awaited<ReturnType<OrtModule['InferenceSession']['create']>>;

const encoderLoad = lazyChunk("tessera's code for Encoder.fromDirectory (reading a model folder, starting ONNX Runtime)", () => import('../on-demand.js'));
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
    const p = await (await encoderLoad()).openEncoder(files, opts);
    const enc = new Encoder(p.name, p.tokenizer, p.ort, p.session, p.provider, p.threads, p.pooling, p.normalize, p.prefixes, p.maxLength, p.maxTextChars, p.batchSize, p.outputName, p.int32Inputs);
    // One probe run gives the real output dimension, so a model that does not fit the index fails here.
    let probe: { dim: number; pooledByModel: boolean };
    try {
      probe = await enc.runBatch(p.tokenizer.encodeBatch(['tessera'], p.maxLength));
      p.checkProbe(probe.pooledByModel);
    } catch (e) {
      await p.session.release();
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

