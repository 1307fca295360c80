/**
 * BERT-style WordPiece tokenization with Hugging Face semantics, on @huggingface/tokenizers (reads
 * tokenizer.json; a vocab.txt folder gets an equivalent tokenizer.json made here). That library has no
 * truncation option, so texts are encoded without special tokens, cut to maxLength - 2 pieces (their
 * first, or their last where the files set truncation_side "left"), and framed as [CLS] ... [SEP],
 * which is what transformers does with truncation=True.
 * Other tokenizer.json pipelines (SentencePiece/Metaspace, byte-level BPE) load too; their long texts
 * are cut where that is safe, and a text without such a cut is tokenized whole up to maxTextChars.
 */
import { Tokenizer } from '@huggingface/tokenizers';
import { TesseraError } from '../core/errors.js';
import { BertScan, type TokenizerJson } from './bert-scan.js';

/** A padded batch: batch x seqLen row-major int64 tensors, as BERT-family ONNX graphs take them. */
export interface TokenBatch {
  readonly batch: number;
  readonly seqLen: number;
  readonly inputIds: BigInt64Array;
  readonly attentionMask: BigInt64Array;
  readonly tokenTypeIds: BigInt64Array;
}

/**
 * Characters a text may have when the tokenizer cannot stop early (no safe cut where its first
 * maxLength - 2 pieces end): such a text is tokenized whole, and @huggingface/tokenizers takes about
 * 20 us a character for byte-level BPE (a 1 MB word: 10 s; 4 MB: 64 s and 2 GB) and overflows the
 * stack for Unigram beyond ~120k pieces. 50k characters is 1-2 s at worst (a Unigram model on
 * characters it has no piece for); far more than any real query or passage of 512 tokens needs
 * without a place to cut.
 */
export const DEFAULT_MAX_TEXT_CHARS = 50_000;

/**
 * The default limit for maxLength tokens: DEFAULT_MAX_TEXT_CHARS, or 8 characters a token when that
 * is more, so a long-context model (bge-m3's 8192 tokens) gets its tokens from a text cut at its
 * last space within the limit (about 4-6 characters a token in prose).
 */
export function defaultMaxTextChars(maxLength: number): number {
  return Math.max(DEFAULT_MAX_TEXT_CHARS, 8 * maxLength);
}

/**
 * A text refused because the tokenizer would have to take more than `limit` characters of it whole,
 * or because the library overflowed its stack on the characters it took (under a raised limit).
 */
export class TextTooLongError extends TesseraError {
  /** Characters of the prefix put before the text ("query: "), counted against the limit too. */
  readonly prefixChars: number;

  constructor(
    /** Characters of the text as given, without its prefix. */
    readonly chars: number,
    /** Characters taken at once at most (maxTextChars), the prefix's included. */
    readonly limit: number,
    message: string,
    options?: { cause?: unknown; prefixChars?: number },
  ) {
    super('INVALID_ARGUMENT', message, options);
    this.prefixChars = options?.prefixChars ?? 0;
  }

  /** The same refusal, its message led by which text it was ("texts[3]", "queries.txt: text 4"). */
  at(where: string): TextTooLongError {
    return new TextTooLongError(this.chars, this.limit, `${where}: ${this.message}`, { cause: this, prefixChars: this.prefixChars });
  }
}

/** Hugging Face's truncation side: "right" keeps a text's first pieces, "left" its last. */
export type TruncationSide = 'left' | 'right';

interface SpecialIds {
  cls: number;
  sep: number;
  pad: number;
}

export class WordPieceTokenizer {
  private constructor(
    private readonly tok: Tokenizer,
    private readonly special: SpecialIds,
    /** Vocabulary size (ids are < vocabSize). */
    readonly vocabSize: number,
    /** Set for BERT's pipeline, whose prefixes are found by scanning characters (BertScan). */
    private readonly bert?: BertScan,
    /** Where a long text that is not BERT's may be cut (see leadingPieces). */
    private readonly cutter: Cutter = { kind: 'it stops only at a space after a word', cut: spaceCut([]) },
    /** Unigram: the library overflows its stack past ~120k pieces, so a text within a raised maxTextChars may be refused too. */
    readonly overflowsStack = false,
    /** Which pieces a long text keeps (truncationSideOf): its first, or (left) its last. */
    readonly truncationSide: TruncationSide = 'right',
  ) {}

  /** From a parsed tokenizer.json (and optional tokenizer_config.json). */
  static fromTokenizerJson(json: unknown, config: Record<string, unknown> = {}, source = 'tokenizer.json'): WordPieceTokenizer {
    if (typeof json !== 'object' || json === null || typeof (json as { model?: unknown }).model !== 'object') {
      throw new TesseraError('FORMAT', `${source} is not a Hugging Face tokenizer.json: expected an object with a "model" field`);
    }
    let tok: Tokenizer;
    try {
      tok = new Tokenizer(json, config);
    } catch (e) {
      throw new TesseraError('FORMAT', `${source} could not be loaded by @huggingface/tokenizers: ${(e as Error).message}`, { cause: e });
    }
    const vocab = tok.get_vocab(true);
    const find = (names: readonly string[], role: string): number => {
      for (const n of names) {
        const id = vocab.get(n);
        if (id !== undefined) return id;
      }
      throw new TesseraError('FORMAT', `${source} has no ${role} token (looked for ${names.join(', ')}); a BERT-style vocabulary needs it`);
    };
    const cfgTok = (k: string): string[] => (typeof config[k] === 'string' ? [config[k] as string] : []);
    const special = {
      cls: find([...cfgTok('cls_token'), '[CLS]', '<s>'], 'CLS'),
      sep: find([...cfgTok('sep_token'), '[SEP]', '</s>'], 'SEP'),
      pad: find([...cfgTok('pad_token'), '[PAD]', '<pad>'], 'PAD'),
    };
    let size = 0;
    for (const id of vocab.values()) size = Math.max(size, id + 1);
    const added = [...tok.get_added_tokens_decoder().values()].map((t) => t.content).filter((c) => c !== '');
    return new WordPieceTokenizer(
      tok,
      special,
      size,
      BertScan.from(json as TokenizerJson, config, tok),
      chooseCutter(json as TokenizerJson, config, vocab, added),
      (json as { model: { type?: unknown } }).model.type === 'Unigram',
      truncationSideOf(json as TokenizerJson, config, source),
    );
  }

  /**
   * From a BERT vocab.txt (one piece a line, line number = id): BertNormalizer, BertPreTokenizer, WordPiece "##".
   * `truncationSide`: tokenizer_config.json's truncation_side, which transformers applies to such a folder too.
   */
  static fromVocabTxt(text: string, opts: { lowercase?: boolean; truncationSide?: unknown } = {}, source = 'vocab.txt'): WordPieceTokenizer {
    const lines = text.split(/\r?\n/);
    if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    if (lines.length === 0) throw new TesseraError('FORMAT', `${source} is empty: expected one WordPiece token a line`);
    const vocab: Record<string, number> = {};
    lines.forEach((piece, id) => {
      if (!(piece in vocab)) vocab[piece] = id;
    });
    const config = opts.truncationSide === undefined ? {} : { truncation_side: opts.truncationSide };
    return WordPieceTokenizer.fromTokenizerJson(bertTokenizerJson(vocab, opts.lowercase ?? true), config, source);
  }

  /**
   * Whether encode may refuse a long text (TextTooLongError): any tokenizer but BERT's, which always
   * stops early, and BERT's too when it truncates from the left (a text's last pieces need all of it).
   */
  get mayRefuse(): boolean {
    return this.bert === undefined || this.truncationSide === 'left';
  }

  /** Token ids of one text without special tokens or truncation. */
  pieces(text: string): number[] {
    return this.tok.encode(text, { add_special_tokens: false }).ids;
  }

  /**
   * [CLS] pieces (cut to maxLength - 2) [SEP] of `prefix` + `text`: the ids Hugging Face gives with
   * truncation to maxLength, on the side the tokenizer's files set (truncationSide). Right: a
   * tokenizer other than BERT's refuses (TextTooLongError) a text with no safe cut giving those
   * pieces within its first `maxTextChars` characters; BERT's never does. Left: the text is
   * tokenized whole, so any tokenizer refuses one of more than `maxTextChars` characters.
   * The prefix ("query: ") is given apart so that a refusal can tell the text's own length.
   */
  encode(text: string, maxLength: number, maxTextChars = defaultMaxTextChars(maxLength), prefix = ''): number[] {
    if (!Number.isInteger(maxLength) || maxLength < 2) {
      throw new TesseraError('INVALID_ARGUMENT', `maxLength must be an integer >= 2 (room for [CLS] and [SEP]), got ${maxLength}`);
    }
    checkMaxTextChars(maxTextChars);
    const keep = maxLength - 2;
    const full = prefix + text;
    let ids: number[] | undefined;
    try {
      if (this.truncationSide === 'left') {
        // Hugging Face drops pieces from the start (the prefix's first); no cut is proven from the end.
        if (full.length <= maxTextChars) {
          const all = this.piecesWithin(full, maxTextChars);
          ids = all.slice(Math.max(0, all.length - keep));
        }
      } else {
        ids = this.leadingPieces(full, keep, maxTextChars);
        if (ids && ids.length > keep) ids.length = keep;
      }
    } catch (e) {
      // A stack overflow (piecesWithin) counted the prefix into the text: told apart, as tooLong does.
      if (e instanceof TextTooLongError && prefix) throw new TextTooLongError(text.length, e.limit, e.message, { cause: e.cause, prefixChars: prefix.length });
      throw e;
    }
    if (!ids) throw this.tooLong(text, prefix, keep, maxTextChars);
    return [this.special.cls, ...ids, this.special.sep];
  }

  /**
   * The refusal of a text past `maxChars` characters with no way to its pieces within them, in the
   * terms a user controls: the text's own length, its prefix's, the limit, and what to change.
   */
  private tooLong(text: string, prefix: string, keep: number, maxChars: number): TextTooLongError {
    const full = prefix.length + text.length;
    const what = `a text of ${text.length} characters${prefix ? ` (${full} with its prefix ${JSON.stringify(prefix)})` : ''}`;
    const pieces = `${keep} pieces (maxLength less [CLS] and [SEP]${prefix ? ', the prefix\'s pieces among them' : ''})`;
    const room = maxChars - prefix.length;
    const fix = `${room > 0 ? `shorten the text to at most ${room} characters (then tokenized whole), split it,` : 'shorten the prefix'} or raise the limit (Encoder option maxTextChars, CLI --max-text-chars)`;
    const cost = 'one long word takes seconds (byte-level BPE, ~20 us a character) or overflows the stack (Unigram)';
    const message =
      this.truncationSide === 'left'
        ? `${what} is more than the ${maxChars} characters tokenized at once, and this tokenizer truncates from the left (truncation_side "left" in its files, as Hugging Face does), keeping the last ${pieces}, which only tokenizing the whole text gives: ${cost}; ${fix}`
        : `${what} has no place within its first ${maxChars} where this tokenizer can stop with its first ${pieces} (${this.cutter.kind}), and more than ${maxChars} characters are not tokenized at once: ${cost}; ${fix}`;
    return new TextTooLongError(text.length, maxChars, message, { prefixChars: prefix.length });
  }

  /**
   * The pieces of `text`, or of a text whose pieces begin with the text's first `keep`.
   * A corpus row of 50 MB took 19 s and 2.4 GB to tokenize whole, for 510 pieces kept, and a 16 MB
   * query without spaces held the server for seconds. BERT's pipeline is scanned character by
   * character (BertScan) and only the text it needs is tokenized. Other tokenizers are cut where
   * their cutter proves that the prefix's pieces are the first pieces of the whole text (spaceCut,
   * classCut, pairCut). Growing prefixes are tried until one gives `keep` pieces, the last one ending at the
   * last cut within `maxChars`; a text without one is tokenized whole if it has at most `maxChars`
   * characters, else refused (undefined): no cut is provable inside a long word of a BPE or Unigram model.
   */
  private leadingPieces(text: string, keep: number, maxChars: number): number[] | undefined {
    if (this.bert) return this.pieces(this.bert.prefixText(text, keep));
    const cutPieces = (from: number, limit: number): number[] | undefined => {
      const cut = this.cutter.cut(text, from, limit);
      const ids = cut === undefined ? undefined : this.piecesWithin(text.slice(0, cut), maxChars);
      return ids && ids.length >= keep ? ids : undefined;
    };
    // 16 characters a piece, but no more than the default limit takes at once: past ~7500 pieces kept
    // (bge-m3's 8192 tokens) 16 a piece is over 120k characters, which a Unigram model overflows its
    // stack on in one word (a piece a character), where the default limit's 8 a piece gave them all.
    const first = Math.max(4096, Math.min(16 * keep, defaultMaxTextChars(keep + 2)));
    for (let limit = first; limit < Math.min(text.length, maxChars); limit *= 4) {
      const ids = cutPieces(limit >> 1, limit);
      if (ids) return ids;
    }
    if (text.length > maxChars) return cutPieces(0, maxChars);
    return this.piecesWithin(text, maxChars);
  }

  /** pieces(), with the library's stack overflow (Unigram past ~120k pieces, under a raised limit) told as what it is. */
  private piecesWithin(text: string, maxChars: number): number[] {
    try {
      return this.pieces(text);
    } catch (e) {
      if (!(e instanceof RangeError)) throw e;
      throw new TextTooLongError(
        text.length,
        maxChars,
        `@huggingface/tokenizers overflowed its stack (${e.message}) on ${text.length} characters taken at once, as a Unigram model does past ~120k pieces: lower the limit (Encoder option maxTextChars, CLI --max-text-chars; ${maxChars} now) or shorten the text`,
        { cause: e },
      );
    }
  }

  /** Encodes texts and pads them to the longest with [PAD] (attention mask 0 there). */
  encodeBatch(texts: readonly string[], maxLength: number, maxTextChars = defaultMaxTextChars(maxLength)): TokenBatch {
    const rows = texts.map((t) => this.encode(t, maxLength, maxTextChars));
    return this.pad(rows);
  }

  /**
   * Pads id rows (each already framed) to `length` (default: the longest), on the right whatever
   * padding_side the tokenizer's files set: [CLS] stays at position 0 for cls pooling, and the real
   * tokens keep the positions they have unpadded, so a text's vector is the one it gets alone (left
   * pads would shift BERT's absolute positions; test/encoder/padding-side.test.ts).
   */
  pad(rows: readonly (readonly number[])[], length?: number): TokenBatch {
    const batch = rows.length;
    const seqLen = rows.reduce((m, r) => Math.max(m, r.length), length ?? 0);
    const inputIds = new BigInt64Array(batch * seqLen).fill(BigInt(this.special.pad));
    const attentionMask = new BigInt64Array(batch * seqLen);
    rows.forEach((r, i) => {
      for (let j = 0; j < r.length; j++) {
        inputIds[i * seqLen + j] = BigInt(r[j]!);
        attentionMask[i * seqLen + j] = 1n;
      }
    });
    return { batch, seqLen, inputIds, attentionMask, tokenTypeIds: new BigInt64Array(batch * seqLen) };
  }

  /** Piece strings of ids (for messages and debugging). */
  idsToTokens(ids: readonly number[]): string[] {
    return ids.map((id) => this.tok.id_to_token(id) ?? `<${id}>`);
  }
}

/** Finds the last safe cut i in (from, limit] of a text: tokenizing text[0, i) gives the whole text's first pieces. */
interface Cutter {
  /** Where it cuts, for messages. */
  readonly kind: string;
  readonly cut: (text: string, from: number, limit: number) => number | undefined;
}

/**
 * The side transformers truncates on for this folder: tokenizer_config.json's truncation_side, else
 * tokenizer.json's truncation.direction (PreTrainedTokenizerFast takes it only as a default), else
 * right. Search-R1 encodes with AutoTokenizer(...)(texts, truncation=True, max_length=...), so a
 * left-truncating model keeps a long text's end there; any other value fails to load there too.
 */
function truncationSideOf(json: TokenizerJson, config: Record<string, unknown>, source: string): TruncationSide {
  if ('truncation_side' in config) {
    const side = config.truncation_side;
    if (side === 'left' || side === 'right') return side;
    throw new TesseraError('FORMAT', `the tokenizer_config.json beside ${source} has truncation_side ${JSON.stringify(side)}: Hugging Face takes "right" (keep a long text's first tokens) or "left" (its last); set one of them, or remove the key for "right"`);
  }
  const truncation = (json as { truncation?: unknown }).truncation;
  if (truncation === null || truncation === undefined) return 'right';
  const direction = (truncation as { direction?: unknown }).direction;
  if (direction === undefined || direction === 'Right' || direction === 'right') return 'right';
  if (direction === 'Left' || direction === 'left') return 'left';
  throw new TesseraError('FORMAT', `${source} has truncation.direction ${JSON.stringify(direction)}: @huggingface/tokenizers writes "Right" or "Left"; set one of them, or set truncation to null for "Right"`);
}

/** maxTextChars: a positive integer, or Infinity for no limit. */
export function checkMaxTextChars(n: number): void {
  if (!(n === Infinity || (Number.isSafeInteger(n) && n >= 1))) {
    throw new TesseraError('INVALID_ARGUMENT', `maxTextChars must be a positive integer (characters) or Infinity, got ${n}`);
  }
}

/** The cuts a pipeline other than BERT's takes (BERT's is scanned by BertScan). */
function chooseCutter(json: TokenizerJson, config: Record<string, unknown>, vocab: ReadonlyMap<string, number>, added: readonly string[]): Cutter {
  if (byteLevelRegex(json, config)) return { kind: 'it stops only at a change between letters, digits, whitespace and other characters', cut: classCut(added) };
  const spaces = joinsWordToSpace(vocab, new Set(added), json) ? undefined : spaceCut(added);
  const pairs = sentencePiecePairs(json, config, vocab);
  if (pairs) {
    const between = pairCut(pairs, added);
    return {
      kind: `it stops only ${spaces ? 'at a space after a word, or ' : ''}between two characters of CJK, kana, Hangul syllables, Latin, Greek, Cyrillic or common punctuation that no piece of its vocabulary holds side by side`,
      cut: spaces ? (text, from, limit) => {
        const space = spaces(text, from, limit);
        return between(text, space ?? from, limit) ?? space;
      } : between,
    };
  }
  if (spaces) return { kind: 'it stops only at a space after a word', cut: spaces };
  return { kind: 'it has no safe place: its vocabulary joins words to the space after them', cut: () => undefined };
}

/**
 * Cuts where text[i] is a plain space (U+0020) and text[i - 1] is no whitespace at all, and no
 * added token holding a space ("new york") spans i, nor ends at it (endsLikeToken). The normalizers
 * and pre-tokenizers of Hugging Face's SentencePiece (Metaspace) and BPE tokenizers never join
 * pieces across that point.
 * Not a newline: GPT-4-style split patterns keep newlines with the punctuation before them ("!\n"
 * is one piece), so a cut there could change a piece.
 */
function spaceCut(addedTokens: readonly string[]): Cutter['cut'] {
  const spacedTokens = addedTokens.filter((c) => c.indexOf(' ', 1) > 0);
  const endsLikeToken = tokenEndTest(addedTokens);
  return (text, from, limit) => {
    for (let i = limit; i > from; i--) {
      if (text.charCodeAt(i) === 32 && !/\s/.test(text[i - 1]!) && !spansCut(text, i, spacedTokens) && !endsLikeToken(text, i)) return i;
    }
    return undefined;
  };
}

/**
 * Whether text[0, i) ends in a character that may normalize to the last one of an added token
 * (itself, one whose NFKC ends in it, or a control character a normalizer removes): the prefix's
 * last section (its text after the last added token) may then normalize to that token ("＜s＞" reads
 * "<s>"), and a section that does is taken as the token, where the whole text's longer section is not.
 */
function tokenEndTest(addedTokens: readonly string[]): (text: string, i: number) => boolean {
  const ends = new Set(addedTokens.map((t) => [...t].at(-1)!));
  return (text, i) => {
    const c = codePointBefore(text, i);
    return ends.has(c) || ends.has([...c.normalize('NFKC')].at(-1) ?? '') || /\p{C}/u.test(c);
  };
}

/**
 * Whether a piece of the vocabulary (added tokens aside) or a BPE merge holds a space, or
 * SentencePiece's '▁' (or the Metaspace replacement), right after a character that is neither: a
 * model trained without split_by_whitespace (Metaspace "split": false, or no pre-tokenizer) whose
 * pieces may run across the space a cut would end the text before. A merge whose result the
 * vocabulary lacks still joins its halves.
 */
function joinsWordToSpace(vocab: ReadonlyMap<string, number>, added: ReadonlySet<string>, json: TokenizerJson): boolean {
  const replacement = (json.pre_tokenizer as { replacement?: unknown } | null | undefined)?.replacement;
  const spaces = new Set([' ', '\u2581', ...(typeof replacement === 'string' && replacement.length === 1 ? [replacement] : [])]);
  const joins = (piece: string) => {
    for (let i = 1; i < piece.length; i++) if (spaces.has(piece[i]!) && !spaces.has(piece[i - 1]!)) return true;
    return false;
  };
  for (const piece of vocab.keys()) {
    if (typeof piece === 'string' && !added.has(piece) && joins(piece)) return true; // ids without a piece read as undefined
  }
  return mergedPieces(json).some(joins);
}

/** Each BPE merge of a tokenizer.json as the piece it makes (["a", "b"] or "a b": "ab"); none for other models. */
function mergedPieces(json: TokenizerJson): string[] {
  const merges = (json.model as { merges?: unknown }).merges;
  return Array.isArray(merges) ? merges.map((m) => (Array.isArray(m) ? m.join('') : typeof m === 'string' ? m.replace(' ', '') : '')) : [];
}

function spansCut(text: string, i: number, tokens: readonly string[]): boolean {
  for (const t of tokens) {
    for (let j = t.indexOf(' ', 1); j > 0; j = t.indexOf(' ', j + 1)) if (text.startsWith(t, i - j)) return true;
  }
  return false;
}

/**
 * For SentencePiece-style pipelines (XLM-R, multilingual-e5, bge-m3: Unigram, or BPE without
 * pre-tokenizer splits as Llama's), the pairs of code points that some piece of the vocabulary (or
 * a BPE merge) holds side by side; undefined for a pipeline the cut between two other characters is not proven for.
 * Why a cut at i between code points a and b, both PAIR_SAFE and no pair of the set, gives the
 * whole text's first pieces: added tokens split the raw text first, and none holds a or b
 * (touchesToken). The normalizers taken (Precompiled, which @huggingface/tokenizers runs as
 * control removal, whitespace to ' ' and NFKC; NFC; NFKC; a Replace of spaces; Prepend) change a
 * and b into themselves and join nothing across i: b is a starter that never composes with what
 * precedes it, and Prepend and Metaspace's '▁' act at the start and at spaces alone. So both texts
 * normalize to the same characters up to a. The model sees one sequence there (Metaspace does not
 * split in that library): no piece spans i, as none holds a then b. Unigram's Viterbi lattice then
 * passes every path through i and picks the best path to i from the same nodes in the same order,
 * so the prefix's path is the whole text's up to i (to a float's last bit: two paths to i whose
 * scores differ by less than one rounding may tie differently). BPE never merges across i, and
 * the merges left of i come in the same order (rank, then position). Suffixes that mark a word's
 * last piece (end_of_word_suffix, continuing_subword_suffix) would differ at a, so they exclude it.
 */
function sentencePiecePairs(json: TokenizerJson, config: Record<string, unknown>, vocab: ReadonlyMap<string, number>): (() => Set<string>) | undefined {
  if (config.remove_space === true || config.do_lowercase_and_remove_accent === true) return undefined;
  const model = json.model as { type?: unknown; end_of_word_suffix?: unknown; continuing_subword_suffix?: unknown; dropout?: unknown; ignore_merges?: unknown };
  // ignore_merges takes a word found whole in the vocabulary as it is, which a prefix may be and the text not.
  const bpe = model.type === 'BPE' && !model.end_of_word_suffix && !model.continuing_subword_suffix && !model.dropout && !model.ignore_merges;
  if (model.type !== 'Unigram' && !bpe) return undefined;
  const pre = json.pre_tokenizer as { type?: unknown } | null | undefined;
  if (pre !== null && pre !== undefined && pre.type !== 'Metaspace') return undefined;
  if (!charLocalNormalizer(json.normalizer)) return undefined;
  // An added token matched in the normalized text may span a cut its raw text does not show (touchesToken reads the raw text).
  const tokens = Array.isArray(json.added_tokens) ? (json.added_tokens as { special?: unknown; normalized?: unknown }[]) : [];
  if (json.normalizer && tokens.some((t) => t.normalized ?? !t.special)) return undefined;
  // Made at the first long text (~0.2 s for XLM-R's 250k pieces), which most queries never are.
  let pairs: Set<string> | undefined;
  return () => {
    if (pairs) return pairs;
    pairs = new Set<string>();
    const addPairs = (piece: string) => {
      const cps = [...piece];
      for (let i = 1; i < cps.length; i++) pairs!.add(cps[i - 1]! + cps[i]!);
    };
    // Added tokens too: a normalizer can make one's text ("＜s>" reads "<s>"), which the model then takes as its piece.
    for (const piece of vocab.keys()) if (typeof piece === 'string') addPairs(piece);
    // A merge whose result is missing from the vocabulary still joins its halves.
    for (const piece of mergedPieces(json)) addPairs(piece);
    return pairs;
  };
}

/** Normalizers under which a PAIR_SAFE character stays itself and joins nothing across it. */
function charLocalNormalizer(n: unknown): boolean {
  if (n === null || n === undefined) return true;
  const norm = n as { type?: unknown; normalizers?: unknown; pattern?: { String?: unknown; Regex?: unknown } };
  switch (norm.type) {
    case 'Precompiled':
    case 'NFC':
    case 'NFKC':
    case 'Prepend':
      return true;
    case 'Sequence':
      return Array.isArray(norm.normalizers) && norm.normalizers.every(charLocalNormalizer);
    case 'Replace': {
      // Of spaces only: XLM-R's " {2,}" -> " ", Llama's " " -> "▁".
      const p = norm.pattern;
      return p?.String === ' ' || p?.Regex === ' {2,}' || p?.Regex === ' +';
    }
    default:
      return false;
  }
}

/**
 * Code points a pair cut may fall beside: NFKC gives them back unchanged, and they are starters that
 * never compose with a character before them (no combining marks, Hangul jamo, kana voicing marks,
 * Indic vowel signs; none of those is a letter, number, punctuation or symbol of these scripts).
 */
const PAIR_SAFE = /^(?:[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Latin}\p{Script=Greek}\p{Script=Cyrillic}\p{Script=Common}]|[\uac00-\ud7a3])$/u;
const NOT_PAIR_SAFE = /[\s\p{M}\p{C}\u2581\ufffd]/u; // U+FFFD and U+2581: Precompiled makes them spaces
const pairSafe = (c: string): boolean => PAIR_SAFE.test(c) && !NOT_PAIR_SAFE.test(c) && c.normalize('NFKC') === c;

/** Cuts between two PAIR_SAFE code points no vocabulary piece holds side by side (sentencePiecePairs). */
function pairCut(pairSet: () => ReadonlySet<string>, addedTokens: readonly string[]): Cutter['cut'] {
  const endsLikeToken = tokenEndTest(addedTokens);
  return (text, from, limit) => {
    const pairs = pairSet();
    for (let i = Math.min(limit, text.length - 1); i > from; i--) {
      if (isLow(text.charCodeAt(i)) && isHigh(text.charCodeAt(i - 1))) continue; // inside a surrogate pair
      const before = codePointBefore(text, i);
      const after = String.fromCodePoint(text.codePointAt(i)!);
      if (pairs.has(before + after) || !pairSafe(before) || !pairSafe(after)) continue;
      if (!touchesToken(text, i, addedTokens) && !endsLikeToken(text, i)) return i;
    }
    return undefined;
  };
}

/**
 * Byte-level BPE (GPT-2, RoBERTa, BART) with its own regex and no normalizer: the raw text is split
 * at added tokens, each section into pre-tokens by the regex below (@huggingface/tokenizers'
 * ByteLevel), and BPE runs on each pre-token alone. Config flags that rewrite the text first
 * (remove_space, do_lowercase_and_remove_accent) are left to the space cut.
 */
function byteLevelRegex(json: TokenizerJson, config: Record<string, unknown>): boolean {
  const pre = json.pre_tokenizer as { type?: unknown; use_regex?: unknown } | null | undefined;
  if (pre?.type !== 'ByteLevel' || pre.use_regex === false) return false;
  if (json.normalizer !== null && json.normalizer !== undefined) return false;
  return config.remove_space !== true && config.do_lowercase_and_remove_accent !== true;
}

const LETTER = /\p{L}/u;
const NUMBER = /\p{N}/u;
const SPACE = /\s/u;
/** A code point's class in the ByteLevel regex: 1 letter, 2 number, 3 whitespace, 4 anything else. */
function regexClass(c: string): number {
  return LETTER.test(c) ? 1 : NUMBER.test(c) ? 2 : SPACE.test(c) ? 3 : 4;
}

/**
 * Cuts for ByteLevel's regex, /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu,
 * between code points a and b where a is no whitespace and no apostrophe, b is of another class
 * (letter, number, whitespace, other), and no added token's text holds a or b.
 * Why the prefix's pieces are the whole text's first pieces: the alternatives cover every
 * character, so pre-tokens tile the section from its start; up to the match holding a both texts
 * give the same matches, as a match ending before a sees the same characters and no lookahead
 * reaches past a's end. That match is a contraction (it holds an apostrophe, which a is not, and
 * ends in letters, so it ends at a since b is no letter) or a run of a's class after an optional
 * space, which stops before b in the whole text and at the end of the prefix, and the earlier
 * alternatives (contractions) fail on the prefix where they fail on the whole. So the pre-tokens
 * up to a are the same, and BPE, which runs on each alone, gives the same pieces. Added tokens
 * split the text first: one holding a or b could match differently once the text ends at b (a
 * longer token cut off, a single_word check at the end), so none may.
 */
function classCut(addedTokens: readonly string[]): Cutter['cut'] {
  return (text, from, limit) => {
    for (let i = Math.min(limit, text.length - 1); i > from; i--) {
      if (isLow(text.charCodeAt(i)) && isHigh(text.charCodeAt(i - 1))) continue; // inside a surrogate pair
      const before = codePointBefore(text, i);
      if (before === "'") continue;
      const after = String.fromCodePoint(text.codePointAt(i)!);
      const ca = regexClass(before);
      if (ca === 3 || ca === regexClass(after)) continue;
      if (!touchesToken(text, i, addedTokens)) return i;
    }
    return undefined;
  };
}

const isHigh = (u: number): boolean => u >= 0xd800 && u <= 0xdbff;
const isLow = (u: number): boolean => u >= 0xdc00 && u <= 0xdfff;
/** The code point that ends text[0, i) (both halves of a surrogate pair). */
const codePointBefore = (text: string, i: number): string => text.slice(isLow(text.charCodeAt(i - 1)) && i > 1 && isHigh(text.charCodeAt(i - 2)) ? i - 2 : i - 1, i);

/** Whether an occurrence of one of `tokens` in `text` holds the character before i or the one at i. */
function touchesToken(text: string, i: number, tokens: readonly string[]): boolean {
  for (const t of tokens) {
    for (let start = Math.max(0, i - t.length); start <= i; start++) if (text.startsWith(t, start)) return true;
  }
  return false;
}

/** The tokenizer.json that transformers writes for BertTokenizerFast over `vocab`. */
export function bertTokenizerJson(vocab: Record<string, number>, lowercase: boolean): Record<string, unknown> {
  const special = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'].filter((t) => t in vocab);
  return {
    version: '1.0',
    added_tokens: special.map((content) => ({
      id: vocab[content],
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: lowercase, lowercase },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: null,
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  };
}
