/**
 * The text BERT's tokenizer needs for the first `keep` pieces of a long text, found by scanning its
 * characters instead of tokenizing them. Follows @huggingface/tokenizers as it runs a BERT
 * tokenizer.json: added tokens split the raw text into sections; each section is normalized
 * (BertNormalizer: control characters removed, whitespace to ' ', spaces around BMP CJK
 * ideographs, toLowerCase, NFD then marks (Mn) removed), split on whitespace and punctuation
 * (BertPreTokenizer: each punctuation character is a word), and each word becomes WordPiece pieces,
 * or one [UNK] when longer than max_input_chars_per_word.
 *
 * Each code point is classified once by the tokenizer's own normalizer. Pieces never join across
 * a character whose normalized form starts with whitespace or punctuation, so the text can stop
 * before one; the exceptions are handled: an added token spanning the cut, a section that
 * normalizes to an added token's text, and Final_Sigma (toLowerCase writes 'ς' for a 'Σ' not
 * followed by a cased letter, looking past case-ignorable characters such as '.' and marks).
 * A run of word characters or of whitespace longer than RUN_LIMIT is replaced by a short run with
 * the same pieces and the same outer Final_Sigma context, so a 16 MB word costs a scan, not a
 * tokenization.
 */
import type { Tokenizer } from '@huggingface/tokenizers';

/** The tokenizer.json fields read here. */
export interface TokenizerJson {
  normalizer?: unknown;
  pre_tokenizer?: unknown;
  model?: unknown;
  added_tokens?: unknown;
}

/** @huggingface/tokenizers' PUNCTUATION_REGEX: what BertPreTokenizer makes a word of its own. */
const PUNCT = '\\p{P}\\u0021-\\u002F\\u003A-\\u0040\\u005B-\\u0060\\u007B-\\u007E';
const HAS_SPLIT = new RegExp(`[\\s${PUNCT}]`, 'u');
const STARTS_SPLIT = new RegExp(`^[\\s${PUNCT}]`, 'u');
const HAS_PUNCT = new RegExp(`[${PUNCT}]`, 'u');
const SPACED_WORD = /^\s[\s\S]*\S[\s\S]*\s$/u;
const ALL_SPACE = /^\s+$/u;
const CONTROL = /\p{Cc}|\p{Cf}|\p{Co}|\p{Cs}/u;
const MARK = /\p{M}/u;

// Code point kinds (bits 0-2): what its normalized form is.
const WORD = 1; // non-empty, no whitespace or punctuation: part of a word
const DROP = 2; // empty, and invisible to Final_Sigma (removed by clean_text, or a case-ignorable mark)
const KEEP = 3; // empty, but ends a Final_Sigma context (a cased mark such as U+0345)
const BREAK = 4; // starts with whitespace or punctuation: no piece spans the point before it
const SEP = 5; // holds whitespace or punctuation further in
const KIND = 7;
// How toLowerCase's Final_Sigma context sees it (bits 3-4).
const TRANSPARENT = 0;
const CASED = 8;
const UNCASED = 16;
const CHAIN = 24;
const SPACE_ONLY = 32; // normalized form is whitespace only
const UNIT = 64; // gives at least one piece of its own
const SIGMA = 0x03a3;
/** Runs longer than this (UTF-16 units) are replaced by a short equivalent. */
const RUN_LIMIT = 1024;

interface TrieNode {
  end: number;
  next: Map<number, TrieNode>;
}

/** BMP CJK ideographs BertNormalizer pads with spaces (it reads UTF-16 units, so none above U+FFFF). */
function isChineseChar(cp: number): boolean {
  return (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0xf900 && cp <= 0xfaff);
}

/** Whether `c` ends a Final_Sigma context as cased, ends it as uncased, or lets it through (as V8 lowercases). */
function caseChain(c: string): number {
  if (('AΣ' + c).toLowerCase()[1] === 'σ') return CASED;
  return ('AΣ' + c + 'B').toLowerCase()[1] === 'σ' ? TRANSPARENT : UNCASED;
}

const width = (cp: number): number => (cp > 0xffff ? 2 : 1);

export class BertScan {
  private readonly info = new Uint8Array(0x110000);
  private readonly trie: TrieNode = { end: 0, next: new Map() };
  private maxContent = 0;

  private constructor(
    private readonly normalize: (text: string) => string,
    private readonly cleanText: boolean,
    private readonly chinese: boolean,
    private readonly lowercase: boolean,
    private readonly maxChars: number,
  ) {}

  /**
   * For a tokenizer.json with BERT's normalizer, pre-tokenizer and model, and added tokens matched
   * on the raw text without stripping; undefined for any other (tokenized through space cuts).
   */
  static from(json: TokenizerJson, config: Record<string, unknown>, tok: Tokenizer): BertScan | undefined {
    const norm = json.normalizer as { type?: unknown; clean_text?: unknown; handle_chinese_chars?: unknown; lowercase?: unknown } | null;
    const pre = json.pre_tokenizer as { type?: unknown } | null;
    const model = json.model as { type?: unknown; max_input_chars_per_word?: unknown };
    if (norm?.type !== 'BertNormalizer' || pre?.type !== 'BertPreTokenizer' || model.type !== 'WordPiece') return undefined;
    if (config.remove_space === true || config.do_lowercase_and_remove_accent === true) return undefined;
    const maxChars = model.max_input_chars_per_word ?? 100;
    const normalize = (tok as unknown as { normalizer?: ((text: string) => string) | null }).normalizer;
    if (typeof maxChars !== 'number' || !Number.isInteger(maxChars) || maxChars < 1 || typeof normalize !== 'function') return undefined;
    const scan = new BertScan(normalize, Boolean(norm.clean_text), Boolean(norm.handle_chinese_chars), Boolean(norm.lowercase), maxChars);
    const added = Array.isArray(json.added_tokens) ? (json.added_tokens as Record<string, unknown>[]) : [];
    for (const t of added) {
      const content = t.content;
      const normalized = t.normalized ?? !t.special;
      if (typeof content !== 'string' || content === '' || normalized || t.lstrip || t.rstrip) return undefined;
      if (!scan.addToken(content)) return undefined;
    }
    return scan;
  }

  /**
   * An added token's text is matched in the raw text before normalization. The scan relies on it
   * starting at a split character and holding no whitespace nor Final_Sigma-transparent character,
   * so that no match starts inside a run nor spans a cut; BERT's [CLS]-style tokens do.
   */
  private addToken(content: string): boolean {
    const cps = [...content].map((c) => this.flags(c.codePointAt(0)!));
    const first = cps[0]! & KIND;
    if ((first !== BREAK && first !== SEP) || content.length > this.maxChars) return false;
    if (cps.some((f) => (f & SPACE_ONLY) !== 0 || (f & CHAIN) === TRANSPARENT)) return false;
    let node = this.trie;
    for (let i = 0; i < content.length; i++) {
      const u = content.charCodeAt(i);
      let next = node.next.get(u);
      if (!next) node.next.set(u, (next = { end: 0, next: new Map() }));
      node = next;
    }
    node.end = content.length;
    this.maxContent = Math.max(this.maxContent, content.length);
    return true;
  }

  /** Length of the added token the library matches at i (the longest), 0 if none. */
  private matchAt(text: string, i: number): number {
    let node = this.trie.next.get(text.charCodeAt(i));
    let best = 0;
    for (let j = i + 1; node; j++) {
      if (node.end) best = node.end;
      if (j >= text.length) break;
      node = node.next.get(text.charCodeAt(j));
    }
    return best;
  }

  private flags(cp: number): number {
    let f = this.info[cp]!;
    if (f === 0) this.info[cp] = f = this.classify(cp);
    return f;
  }

  private classify(cp: number): number {
    const c = String.fromCodePoint(cp);
    const n = this.normalize(c);
    const cleaned = this.cleanText && (cp === 0 || cp === 0xfffd || (c !== '\t' && c !== '\n' && c !== '\r' && CONTROL.test(c)));
    let chain: number;
    if (cleaned) chain = TRANSPARENT;
    else if ((this.cleanText && /^\s$/.test(c)) || (this.chinese && isChineseChar(cp))) chain = UNCASED; // ' ', or spaces around
    else chain = caseChain(c);
    let kind: number;
    if (n === '') kind = chain === TRANSPARENT ? DROP : KEEP;
    else if (!HAS_SPLIT.test(n)) kind = WORD;
    else if (STARTS_SPLIT.test(n) && !MARK.test(c)) kind = BREAK;
    else kind = SEP;
    let f = kind | chain;
    if (n !== '' && ALL_SPACE.test(n)) f |= SPACE_ONLY;
    if (kind >= BREAK && (HAS_PUNCT.test(n) || SPACED_WORD.test(n))) f |= UNIT;
    return f;
  }

  /**
   * A text whose pieces begin with the first `keep` pieces of `text` (all of them if it has fewer),
   * read in one pass over `text` and at most about its first `keep` words long.
   */
  prefixText(text: string, keep: number): string {
    const out: string[] = [];
    let copied = 0; // text[copied, i) is still to be copied
    // At most the number of pieces of the sections before the current one, and of the current one
    // unless it normalizes to an added token's text (then one piece): possible only while `section`,
    // its non-vanishing code points (saturating), is at most the longest such text.
    let units = 0;
    let open = 0;
    let section = 0;
    let sigmaOpen = false; // the last character before i that ends a Final_Sigma context is 'Σ'
    const finish = (end: number, tail: string): string => {
      out.push(text.slice(copied, end), tail);
      return out.join('');
    };
    let i = 0;
    while (i < text.length) {
      const m = this.matchAt(text, i);
      if (m > 0) {
        units += section > this.maxContent ? open : Math.min(open, 1);
        if (units >= keep) return finish(i, '');
        i += m;
        units++;
        open = 0;
        section = 0;
        sigmaOpen = false; // sections are normalized apart
        continue;
      }
      const cp = text.codePointAt(i)!;
      const f = this.flags(cp);
      const kind = f & KIND;
      // The guard on `section`: a section that normalizes to an added token's text is that token,
      // so the kept section must be too long to be one whether or not it is cut.
      if (kind === BREAK && units + open >= keep && section >= this.maxContent) {
        if (!this.lowercase || !sigmaOpen || (f & CHAIN) !== TRANSPARENT) return finish(i, ' ');
        return finish(i, this.sigmaContext(text, i));
      }
      if (kind === BREAK || kind === SEP) {
        if (f & SPACE_ONLY) {
          const r = this.spaceRun(text, i);
          if (r.end - i > RUN_LIMIT) {
            out.push(text.slice(copied, i), r.proxy);
            copied = r.end;
          }
          section = Math.min(section + 1, this.maxContent + 1);
          if (r.decisive) sigmaOpen = false;
          i = r.end;
          continue;
        }
        open += f & UNIT ? 1 : 0;
        section = Math.min(section + 1, this.maxContent + 1);
        if ((f & CHAIN) !== TRANSPARENT) sigmaOpen = false;
        i += width(cp);
        continue;
      }
      const r = this.wordRun(text, i);
      if (r.end - i > RUN_LIMIT) {
        out.push(text.slice(copied, i));
        out.push(this.wordProxy(text, i, r.end));
        copied = r.end;
      }
      if (r.words > 0) open++;
      section = Math.min(section + r.nonVanishing, this.maxContent + 1);
      if (r.lastDecisive >= 0) sigmaOpen = text.codePointAt(r.lastDecisive) === SIGMA;
      i = r.end;
    }
    return finish(text.length, '');
  }

  /**
   * The tail after a cut at i, a Final_Sigma-transparent split character after a 'Σ': that
   * character and the first character after it that ends the context, if it is cased (else ' ').
   */
  private sigmaContext(text: string, i: number): string {
    for (let k = i; k < text.length; ) {
      const cp = text.codePointAt(k)!;
      const chain = this.flags(cp) & CHAIN;
      if (chain !== TRANSPARENT) {
        return chain === CASED && this.matchAt(text, k) === 0 ? String.fromCodePoint(text.codePointAt(i)!, cp) : ' ';
      }
      k += width(cp);
    }
    return ' ';
  }

  /**
   * The end of the run of code points at i that normalize to whitespace only, and a short run in
   * its place: its first code point and the first and last that end a Final_Sigma context.
   */
  private spaceRun(text: string, i: number): { end: number; proxy: string; decisive: boolean } {
    let first = -1;
    let last = -1;
    let k = i;
    while (k < text.length) {
      const cp = text.codePointAt(k)!;
      const f = this.flags(cp);
      if (!(f & SPACE_ONLY)) break;
      if ((f & CHAIN) !== TRANSPARENT) {
        if (first < 0) first = k;
        last = k;
      }
      k += width(cp);
    }
    const at = (j: number): string => String.fromCodePoint(text.codePointAt(j)!);
    const proxy = at(i) + (first > i ? at(first) : '') + (last > Math.max(i, first) ? at(last) : '');
    return { end: k, proxy, decisive: first >= 0 };
  }

  /** The end of the run of word or vanishing code points at i, its word characters, and more. */
  private wordRun(text: string, i: number): { end: number; words: number; nonVanishing: number; lastDecisive: number } {
    let words = 0;
    let nonVanishing = 0;
    let lastDecisive = -1;
    let k = i;
    while (k < text.length) {
      const cp = text.codePointAt(k)!;
      const f = this.flags(cp);
      const kind = f & KIND;
      if (kind !== WORD && kind !== DROP && kind !== KEEP) break;
      if (kind === WORD) {
        words++;
        nonVanishing++;
      }
      if ((f & CHAIN) !== TRANSPARENT) lastDecisive = k;
      k += width(cp);
    }
    return { end: k, words, nonVanishing, lastDecisive };
  }

  /**
   * A run of word or vanishing code points with the same pieces and outer Final_Sigma context as
   * text[s, e): its first code points as they are (an added token ending in them still matches),
   * then the word characters, each run of cased marks as its first and last, until the word is
   * longer than max_input_chars_per_word (one [UNK] whatever follows); then only the first and
   * last characters that end a Final_Sigma context, which 'Σ's outside the run see.
   */
  private wordProxy(text: string, s: number, e: number): string {
    const parts: string[] = [];
    let k = s;
    let words = 0;
    let decisiveSeen = false;
    for (let c = 0; c <= this.maxContent && k < e; c++) {
      const cp = text.codePointAt(k)!;
      const f = this.flags(cp);
      if ((f & KIND) === WORD) words++;
      if ((f & CHAIN) !== TRANSPARENT) decisiveSeen = true;
      k += width(cp);
    }
    parts.push(text.slice(s, k));
    let marksFirst = -1;
    let marksLast = -1;
    const flushMarks = (): void => {
      if (marksLast >= 0) parts.push(String.fromCodePoint(text.codePointAt(marksLast)!));
      marksFirst = marksLast = -1;
    };
    let firstDecisive = -1;
    let lastDecisive = -1;
    for (; k < e; ) {
      const cp = text.codePointAt(k)!;
      const f = this.flags(cp);
      const kind = f & KIND;
      const decisive = (f & CHAIN) !== TRANSPARENT;
      if (words <= this.maxChars) {
        if (kind === WORD) {
          flushMarks();
          parts.push(String.fromCodePoint(cp));
          words++;
          if (decisive) decisiveSeen = true;
        } else if (kind === KEEP) {
          if (marksFirst < 0) {
            marksFirst = k;
            parts.push(String.fromCodePoint(cp));
            decisiveSeen = true;
          } else {
            marksLast = k;
          }
        }
      } else if (decisive) {
        if (!decisiveSeen && firstDecisive < 0) firstDecisive = k;
        lastDecisive = k;
      }
      k += width(cp);
    }
    flushMarks();
    if (firstDecisive >= 0) parts.push(String.fromCodePoint(text.codePointAt(firstDecisive)!));
    if (lastDecisive >= 0 && lastDecisive !== firstDecisive) parts.push(String.fromCodePoint(text.codePointAt(lastDecisive)!));
    return parts.join('');
  }
}
