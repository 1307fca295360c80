/**
 * BERT-style WordPiece tokenization with Hugging Face semantics, on @huggingface/tokenizers (reads
 * tokenizer.json; a vocab.txt folder gets an equivalent tokenizer.json made here). That library has no
 * truncation option, so texts are encoded without special tokens, cut to maxLength - 2 pieces, and
 * framed as [CLS] ... [SEP], which is what transformers does with truncation=True.
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
    /** Added tokens with a space after their first character: a prefix is not cut inside one. */
    private readonly spacedTokens: readonly string[] = [],
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
    const spaced = [...tok.get_added_tokens_decoder().values()].map((t) => t.content).filter((c) => c.indexOf(' ', 1) > 0);
    return new WordPieceTokenizer(tok, special, size, BertScan.from(json as TokenizerJson, config, tok), spaced);
  }

  /** From a BERT vocab.txt (one piece a line, line number = id): BertNormalizer, BertPreTokenizer, WordPiece "##". */
  static fromVocabTxt(text: string, opts: { lowercase?: boolean } = {}, source = 'vocab.txt'): WordPieceTokenizer {
    const lines = text.split(/\r?\n/);
    if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    if (lines.length === 0) throw new TesseraError('FORMAT', `${source} is empty: expected one WordPiece token a line`);
    const vocab: Record<string, number> = {};
    lines.forEach((piece, id) => {
      if (!(piece in vocab)) vocab[piece] = id;
    });
    return WordPieceTokenizer.fromTokenizerJson(bertTokenizerJson(vocab, opts.lowercase ?? true), {}, source);
  }

  /** Token ids of one text without special tokens or truncation. */
  pieces(text: string): number[] {
    return this.tok.encode(text, { add_special_tokens: false }).ids;
  }

  /** [CLS] pieces (cut to maxLength - 2) [SEP]: the ids Hugging Face gives with truncation to maxLength. */
  encode(text: string, maxLength: number): number[] {
    if (!Number.isInteger(maxLength) || maxLength < 2) {
      throw new TesseraError('INVALID_ARGUMENT', `maxLength must be an integer >= 2 (room for [CLS] and [SEP]), got ${maxLength}`);
    }
    const keep = maxLength - 2;
    const ids = this.leadingPieces(text, keep);
    if (ids.length > keep) ids.length = keep;
    return [this.special.cls, ...ids, this.special.sep];
  }

  /**
   * The pieces of `text`, or of a text whose pieces begin with the text's first `keep`.
   * A corpus row of 50 MB took 19 s and 2.4 GB to tokenize whole, for 510 pieces kept, and a 16 MB
   * query without spaces held the server for seconds. BERT's pipeline is scanned character by
   * character (BertScan) and only the text it needs is tokenized. Other tokenizers are cut where
   * a non-whitespace character is followed by a space: the normalizers and pre-tokenizers of Hugging
   * Face's SentencePiece and byte-level BPE tokenizers never join pieces across that point, so the
   * prefix's pieces are the first pieces of the whole text. Growing prefixes are tried until one
   * gives `keep` pieces; a text without such a cut is tokenized whole.
   */
  private leadingPieces(text: string, keep: number): number[] {
    if (this.bert) return this.pieces(this.bert.prefixText(text, keep));
    for (let limit = Math.max(4096, 16 * keep); limit < text.length; limit *= 4) {
      const cut = spaceCut(text, limit, this.spacedTokens);
      if (cut === undefined) continue;
      const ids = this.pieces(text.slice(0, cut));
      if (ids.length >= keep) return ids;
    }
    return this.pieces(text);
  }

  /** Encodes texts and pads them to the longest with [PAD] (attention mask 0 there). */
  encodeBatch(texts: readonly string[], maxLength: number): TokenBatch {
    const rows = texts.map((t) => this.encode(t, maxLength));
    return this.pad(rows);
  }

  /** Pads id rows (each already framed) to `length` (default: the longest). */
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

/**
 * The last i in (limit / 2, limit] where text[i] is a plain space (U+0020) and text[i - 1] is no
 * whitespace at all, and no added token holding a space ("new york") spans i; undefined if none.
 * Not a newline: GPT-4-style split patterns keep newlines with the punctuation before them ("!\n"
 * is one piece), so a cut there could change a piece.
 */
function spaceCut(text: string, limit: number, spacedTokens: readonly string[]): number | undefined {
  for (let i = limit; i > limit >> 1; i--) {
    if (text.charCodeAt(i) === 32 && !/\s/.test(text[i - 1]!) && !spansCut(text, i, spacedTokens)) return i;
  }
  return undefined;
}

function spansCut(text: string, i: number, tokens: readonly string[]): boolean {
  for (const t of tokens) {
    for (let j = t.indexOf(' ', 1); j > 0; j = t.indexOf(' ', j + 1)) if (text.startsWith(t, i - j)) return true;
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
