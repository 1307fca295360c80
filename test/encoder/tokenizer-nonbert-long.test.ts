/**
 * Long texts with tokenizers other than BERT's: byte-level BPE (RoBERTa/GPT-2 style) is cut where
 * its pre-tokenizer regex provably splits (classCut) and must give the ids of tokenizing the whole
 * text; SentencePiece/Metaspace (XLM-R style) and byte-level BPE texts with no such cut within
 * maxTextChars are refused with TextTooLongError instead of blocking for seconds (a 1 MB word took
 * 10 s with RoBERTa's vocabulary) or overflowing the stack (Unigram beyond ~120k pieces).
 * The tokenizer.json files are made here: BPE merges trained on a small text, a Unigram vocabulary
 * from the same pieces.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_TEXT_CHARS, TextTooLongError, WordPieceTokenizer, defaultMaxTextChars } from '../../src/encoder/tokenizer.js';

/** GPT-2's byte -> character table (bytes_to_unicode). */
const BYTE_CHARS: string[] = (() => {
  const bs: number[] = [];
  for (let b = 33; b <= 126; b++) bs.push(b);
  for (let b = 161; b <= 172; b++) bs.push(b);
  for (let b = 174; b <= 255; b++) bs.push(b);
  const out: string[] = new Array(256);
  for (const b of bs) out[b] = String.fromCharCode(b);
  let n = 0;
  for (let b = 0; b < 256; b++) if (out[b] === undefined) out[b] = String.fromCharCode(256 + n++);
  return out;
})();
const GPT2_SPLIT = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;
const byteWord = (w: string) => Array.from(new TextEncoder().encode(w), (b) => BYTE_CHARS[b]!).join('');

const SAMPLE = `The quick brown fox jumps over the lazy dog. It's 2026 and we'll see; they're here, I'm sure you've
heard: "new york" is big!!! Numbers 12345 678 and words like retrieval, encoder, tokenizer, passage, query.
中文字符 and émigré façade naïve ÆØÅ 😀👍🏽 <tags> [brackets] {braces} --- ... ??? ''' """ ~~~ \t tabs\n`.repeat(3);

/** Byte-level BPE merges learned on SAMPLE (most frequent pair first, ties by first seen). */
function trainMerges(count: number): [string, string][] {
  const words = (SAMPLE.match(GPT2_SPLIT) ?? []).map((w) => [...byteWord(w)]);
  const merges: [string, string][] = [];
  for (let m = 0; m < count; m++) {
    const freq = new Map<string, number>();
    for (const w of words) for (let i = 0; i + 1 < w.length; i++) {
      const k = `${w[i]}\u0000${w[i + 1]}`;
      freq.set(k, (freq.get(k) ?? 0) + 1);
    }
    let best: string | undefined;
    for (const [k, f] of freq) if (best === undefined || f > freq.get(best)!) best = k;
    if (best === undefined) break;
    const [a, b] = best.split('\u0000') as [string, string];
    merges.push([a, b]);
    for (const w of words) for (let i = 0; i + 1 < w.length; i++) if (w[i] === a && w[i + 1] === b) w.splice(i, 2, a + b);
  }
  return merges;
}

const MERGES = trainMerges(400);
const SPECIAL = ['<s>', '<pad>', '</s>', '<unk>'];
const PIECES = [...SPECIAL, ...BYTE_CHARS, ...MERGES.map(([a, b]) => a + b)].filter((p, i, all) => all.indexOf(p) === i);
const added = (content: string, id: number, more: Record<string, unknown> = {}) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true, ...more });

function byteLevelJson(extraTokens: { content: string; more?: Record<string, unknown> }[] = []): Record<string, unknown> {
  const vocab: Record<string, number> = {};
  PIECES.forEach((p, i) => (vocab[p] = i));
  let next = PIECES.length;
  const extra = extraTokens.map((t) => added(t.content, next++, t.more));
  for (const t of extra) vocab[t.content] = t.id;
  return {
    version: '1.0',
    added_tokens: [...SPECIAL.map((t) => added(t, vocab[t]!)), ...extra],
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '', fuse_unk: false, byte_fallback: false, vocab, merges: MERGES },
  };
}

function unigramJson(): Record<string, unknown> {
  // With every pair of a, b, x, y (a run of them holds no place a piece may not span).
  const pieces = [...new Set([...PIECES.slice(SPECIAL.length).map((p) => p.replaceAll('Ġ', '\u2581')).filter((p) => [...p].every((c) => c === '\u2581' || c.charCodeAt(0) < 0x100)), 'aa', 'ab', 'ba', 'bb', 'xx', 'yy'])];
  return {
    version: '1.0',
    added_tokens: SPECIAL.map((t, i) => added(t, i)),
    normalizer: null,
    pre_tokenizer: { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'always', split: true },
    post_processor: null,
    decoder: { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'always', split: true },
    model: { type: 'Unigram', unk_id: 3, byte_fallback: false, vocab: [...SPECIAL.map((t) => [t, 0]), ...pieces.map((p, i) => [p, -1 - i / 100 - (p.length > 1 ? 0 : 5)])] },
  };
}

const roberta = WordPieceTokenizer.fromTokenizerJson(byteLevelJson());
const robertaAdded = WordPieceTokenizer.fromTokenizerJson(
  byteLevelJson([{ content: '<mask>', more: { lstrip: true } }, { content: 'new york', more: { special: false } }, { content: 'ab1', more: { single_word: true, special: false } }, { content: "'s!" }]),
);
const xlmr = WordPieceTokenizer.fromTokenizerJson(unigramJson());

function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) & 0x7fffffff; // imul: a product past 2^53 repeated after ~15k draws
    return s / 0x7fffffff;
  };
}

/** Pieces that join across a cut when any rule is broken: contractions, spaces before words, classes, pairs, added tokens. */
const ATOMS = ["'s", "'t", "'re", "'ll", "'", "''", 's', 't', 're', ' ', '  ', '\n', '\t', '\u00a0', '\u3000', 'word', 'Word', 'é', 'e\u0301', '\u0301',
  '1', '23', '٣', 'Ⅻ', '!', '?!', '...', '"', '-', '<mask>', '<mask', 'mask>', 'new york', 'new', 'york', 'ab1', 'ab', '<s>', '</s>', "'s!",
  '中', '文', '😀', '👍🏽', '\ud83d', '\ude00', '𝐀', '𝟏', '\u0000', '\u200b', 'ß', 'ǅ'];

function randomText(rnd: () => number, length: number): string {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  let s = '';
  while (s.length < length) {
    const r = rnd();
    s += r < 0.9 ? pick(ATOMS) : pick(ATOMS).repeat(2 + Math.floor(rnd() * 40));
  }
  return s;
}

/** encode() equals the whole text's pieces, and every prefix it tokenized gave the whole text's first pieces. */
function expectCutsExact(tok: WordPieceTokenizer, text: string, maxLengths: readonly number[], maxTextChars?: number, whole = tok.pieces(text)): number[] {
  const seen: number[] = [];
  // The pieces encode() got for each prefix, kept as it asked (tokenizing each prefix again here was
  // half of this file's time); each prefix must be the text's own start.
  const prefixes = new Map<number, number[]>();
  const pieces = tok.pieces.bind(tok);
  tok.pieces = (t: string) => {
    seen.push(t.length);
    const got = pieces(t);
    if (t.length < text.length && !prefixes.has(t.length)) {
      expect(text.startsWith(t), `tokenized ${t.length} characters that are not the text's first`).toBe(true);
      prefixes.set(t.length, got.slice());
    }
    return got;
  };
  try {
    for (const maxLength of maxLengths) {
      const got = tok.encode(text, maxLength, maxTextChars);
      expect(got.slice(1, -1), `${JSON.stringify(text.slice(0, 60))}... @${maxLength}`).toEqual(whole.slice(0, maxLength - 2));
    }
  } finally {
    delete (tok as { pieces?: unknown }).pieces;
  }
  for (const [n, prefix] of prefixes) {
    // A cut changes no piece: the prefix's pieces are the whole text's first ones, up to its last.
    if (prefix.join() !== whole.slice(0, prefix.length).join()) {
      let k = 0;
      while (prefix[k] === whole[k]) k++;
      expect.fail(`cut at ${n} of ${JSON.stringify(text.slice(n - 12, n))}|${JSON.stringify(text.slice(n, n + 12))}: piece ${k} is ${tok.idsToTokens(prefix.slice(k, k + 2))}, whole text gives ${tok.idsToTokens(whole.slice(k, k + 2))}`);
    }
  }
  return seen;
}

describe('byte-level BPE: cut where the pre-tokenizer regex splits, ids of the whole text', () => {
  it('the fixture is byte-level BPE with merges (pieces longer than a character)', () => {
    expect(roberta.idsToTokens(roberta.pieces("It's the encoder")).join('|')).toMatch(/'s\|Ġthe\|Ġen/);
  });

  it('seeded random texts around the first cut (contractions, classes, surrogates, added tokens): every prefix tokenized gives the whole text\'s pieces', () => {
    const rnd = random(20261205);
    let cut = 0;
    for (let i = 0; i < 160; i++) {
      const text = randomText(rnd, 4096 + 200 + Math.floor(rnd() * 4000));
      for (const tok of [roberta, robertaAdded]) {
        const seen = expectCutsExact(tok, text, [2, 17, 130]);
        if (seen.some((n) => n < text.length)) cut++;
      }
    }
    expect(cut, 'texts tokenized through a cut').toBeGreaterThan(250);
  });

  it('a cut far before the limits (the last try looks from the text start) and right at a limit', () => {
    for (const text of [
      `${'x'.repeat(3000)}!${'y'.repeat(70_000)}`,
      `${'x'.repeat(4095)}1${'y'.repeat(10_000)}`,
      `${"'".repeat(5000)}s${'z'.repeat(9000)}`, // the apostrophe before a letter is no cut; the run of them is one pre-token
      `${'<mask>'.repeat(900)}new york${'q'.repeat(9000)}`,
    ]) {
      for (const tok of [roberta, robertaAdded]) expectCutsExact(tok, text, [2, 3, 40, 512]);
    }
  });

  it('16 MB of lines ("ab\\n" repeated, no space) and of words between punctuation: cut, not tokenized whole (was ~1 s a MB)', () => {
    for (const unit of ['ab\n', 'word,', '12ab', 'é😀']) {
      const text = unit.repeat((16 << 20) / unit.length);
      const seen: number[] = [];
      const pieces = roberta.pieces.bind(roberta);
      roberta.pieces = (t: string) => (seen.push(t.length), pieces(t));
      try {
        const t0 = performance.now();
        expect(roberta.encode(text, 512)).toHaveLength(512);
        expect(performance.now() - t0).toBeLessThan(3000);
        expect(Math.max(...seen)).toBeLessThan(64 * 1024);
      } finally {
        delete (roberta as { pieces?: unknown }).pieces;
      }
      expectCutsExact(roberta, text.slice(0, 1 << 16), [2, 512]);
    }
  });
});

describe('a text with no safe cut within maxTextChars is refused, not tokenized whole', () => {
  const MB16 = 16 * 1024 * 1024;
  const cases: [string, WordPieceTokenizer, string][] = [
    ['byte-level BPE, 16 MB of letters', roberta, 'abcdefghij'.repeat(MB16 / 10)],
    ['byte-level BPE, 16 MB of punctuation', roberta, '!?.,;:-'.repeat(MB16 / 7)],
    ['byte-level BPE, 4M CJK characters', roberta, '中文字符'.repeat(1 << 20)],
    ['Unigram (Metaspace), 16 MB without a space', xlmr, 'ab'.repeat(MB16 / 2)],
    ['Unigram (Metaspace), 16 MB of lines without a space', xlmr, 'word\n'.repeat(MB16 / 5)],
  ];
  for (const [name, tok, text] of cases) {
    it(`${name}: TextTooLongError at once, naming the limit and how to raise it`, () => {
      const t0 = performance.now();
      let error: unknown;
      try {
        tok.encode(text, 512);
      } catch (e) {
        error = e;
      }
      expect(performance.now() - t0).toBeLessThan(2000);
      expect(error).toBeInstanceOf(TextTooLongError);
      const e = error as TextTooLongError;
      expect(e.code).toBe('INVALID_ARGUMENT');
      expect([e.chars, e.limit]).toEqual([text.length, DEFAULT_MAX_TEXT_CHARS]);
      expect(e.message).toContain(`a text of ${text.length} characters has no place within its first ${DEFAULT_MAX_TEXT_CHARS}`);
      expect(e.message).toMatch(/maxTextChars.*--max-text-chars/);
    });
  }

  it('Unigram: 200k characters without a space overflowed the stack ("Maximum call stack size exceeded"); refused by default, taken whole under a raised limit only up to it', () => {
    const text = 'ab'.repeat(100_000);
    expect(() => xlmr.encode(text, 128)).toThrow(TextTooLongError);
    expect(() => xlmr.encode(text, 128, 150_000)).toThrow(/no place within its first 150000/);
    const short = text.slice(0, 30_000);
    expect(xlmr.encode(short, 128).slice(1, -1)).toEqual(xlmr.pieces(short).slice(0, 126));
  });

  it('the limit counts the characters tokenized at once: a text with a space before the limit is cut there and taken; up to the limit, a text without one is taken whole', () => {
    const spaced = `${'x'.repeat(30_000)} ${'y'.repeat(1 << 20)}`;
    expect(xlmr.encode(spaced, 64, 40_000)).toHaveLength(64);
    expect(() => xlmr.encode(spaced, 64, 20_000)).toThrow(TextTooLongError);
    const word = 'ab'.repeat(10_000);
    expect(roberta.encode(word, 64, 20_000).slice(1, -1)).toEqual(roberta.pieces(word).slice(0, 62));
    expect(() => roberta.encode(word, 64, 19_999)).toThrow(/a text of 20000 characters/);
    expect(roberta.encode(word, 64, Infinity)).toHaveLength(64);
  });

  it('the default grows with maxLength (8 characters a token past 50000), so a long-context model gets its tokens', () => {
    expect([defaultMaxTextChars(512), defaultMaxTextChars(8192)]).toEqual([DEFAULT_MAX_TEXT_CHARS, 65_536]);
    const word = 'x'.repeat(60_000);
    expect(() => xlmr.encode(word, 512)).toThrow(/no place within its first 50000/);
    expect(xlmr.encode(word, 8192).slice(1, -1)).toEqual(xlmr.pieces(word).slice(0, 8190));
  });

  it('a stack overflow of the library under a raised limit is a TextTooLongError saying so, not a bare RangeError', () => {
    const text = 'ab'.repeat(200_000);
    let error: unknown;
    try {
      xlmr.encode(text, 16, Infinity);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TextTooLongError);
    expect((error as Error).message).toMatch(/overflowed its stack .* on 400000 characters taken at once.*--max-text-chars; Infinity now/);
    // With a prefix, the text's own length and the prefix's apart, as every refusal tells them.
    const withPrefix = (() => {
      try {
        xlmr.encode(text, 16, Infinity, 'query: ');
      } catch (e) {
        return e as TextTooLongError;
      }
    })();
    expect(withPrefix).toBeInstanceOf(TextTooLongError);
    expect([withPrefix!.chars, withPrefix!.prefixChars, withPrefix!.limit]).toEqual([400_000, 7, Infinity]);
  });

  it('a raised limit takes a long-context text the default takes: the first prefix tried was 16 characters a piece (131k for 8192 tokens), past the stack in one word', () => {
    // No piece holds "aa": a pair cut anywhere, and a piece a character.
    const tok = WordPieceTokenizer.fromTokenizerJson({
      version: '1.0',
      added_tokens: SPECIAL.map((t, i) => added(t, i)),
      normalizer: null,
      pre_tokenizer: { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'always', split: true },
      post_processor: null,
      decoder: null,
      model: { type: 'Unigram', unk_id: 3, byte_fallback: false, vocab: [...SPECIAL.map((t) => [t, 0]), ['\u2581', -1], ['a', -2], ['\u2581a', -1]] },
    });
    const text = 'a'.repeat(400_000);
    const [cls, sep, a, spaceA] = [0, 2, 5, 6];
    const want = [cls, spaceA, ...new Array<number>(8190 - 1).fill(a), sep];
    expect(tok.encode(text, 8192)).toEqual(want);
    expect(tok.encode(text, 8192, 1_000_000)).toEqual(want);
    expect(tok.encode(text, 8192, Infinity)).toEqual(want);
  });

  it('maxTextChars must be a positive integer or Infinity', () => {
    for (const bad of [0, -1, 1.5, NaN]) expect(() => roberta.encode('a', 8, bad)).toThrow(/maxTextChars must be a positive integer/);
  });

  it('BERT tokenizers are not limited: they always stop early (bert-scan.ts)', () => {
    const bert = WordPieceTokenizer.fromVocabTxt('[PAD]\n[UNK]\n[CLS]\n[SEP]\na\n##a\n');
    expect(bert.encode('a'.repeat(1 << 20), 16, 1000)).toHaveLength(3); // one word longer than 100 characters: [UNK]
  });
});

describe('space cuts are not taken where the vocabulary joins a word to the space after it', () => {
  it('a Unigram vocabulary with "a▁b" (SentencePiece without split_by_whitespace): ids of the whole text, not "a" cut off before its space', () => {
    const json = unigramJson() as { model: { vocab: [string, number][] } };
    json.model.vocab.push(['a\u2581b', 10], ['x'.repeat(10), 0]);
    const tok = WordPieceTokenizer.fromTokenizerJson(json);
    const text = `${'x'.repeat(4000)} a b${'y'.repeat(10_000)}`;
    const whole = tok.pieces(text);
    expect(tok.idsToTokens(whole)).toContain('a\u2581b');
    const keep = tok.pieces(text.slice(0, 4002)).length; // the space cut before " b"
    for (const maxLength of [keep + 1, keep + 2, keep + 3]) expect(tok.encode(text, maxLength).slice(1, -1)).toEqual(whole.slice(0, maxLength - 2));
  });
});

describe('SentencePiece (XLM-R style): cut between two characters no piece holds side by side, ids of the whole text', () => {
  const HAN = [...'的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自着去之过家学对可她里后小么心多天而能好都然没日于起还发成事只作当想看文无开手十用主行方又如前所本见经头面公同三已老从动两长知民样现分将外但身些与高意进把法此实回二理美点月明其种声全工己话儿者向情部正名定女问力机给等几很业最间新什打便位因重被走电四第门相次东政海口使教西再平真听世气信北少关并内加化由却代军产入先山五太水万市眼体别处总才场师书比住员九笑性通目华报立马命张活难神数件安表原车白应路期叫死常提感金何更反合放做系计或司利受光王果亲界及今京务制解各任至清物台象记边共风战干接它许八特觉望直服毛林题建南度统色字请交爱让认算论百吃义科怎元社术结六功指思非流每青管夫连远资队跟带花快条院变联言权往展该领传近留红治决周保达办运武半候七必城父强步完革深区即求品士转量空甚众技轻程告江语英基派满式李息写呢识极令黄德收脸钱党倒未持取设始版双历越史商千片容研像找友孩站广改议形委早房音火际则首单据导影失拿网香似斯专石若兵弟谁校读志飞观争究包组造落视济喜离虽坐集编宝谈府拉黑且随格尽剑讲布杀微怕母调局根曾准团段终乐切级克精哪官示冷'];
  const KANA = [...'あいうえおかきくけこさしすせそたちつてとなにぬねのはひふへほまみむめもやゆよらりるれろわをんアイウエオカキクケコサシスセソタチツテトナニヌネノハヒフヘホマミムメモヤユヨラリルレロワヲンがぎぐげご'];
  const PUNCT = [...'。、「」『』！？（）：；・…—'];
  const rnd0 = random(7);
  const words = Array.from({ length: 600 }, () => Array.from({ length: 2 + Math.floor(rnd0() * 3) }, () => HAN[Math.floor(rnd0() * 120)]!).join(''));
  const kanaWords = Array.from({ length: 200 }, () => Array.from({ length: 2 + Math.floor(rnd0() * 3) }, () => KANA[Math.floor(rnd0() * KANA.length)]!).join(''));
  // Pieces mixing scripts ("。我", "a中"), which SentencePiece's split_by_unicode_script never learns: no cut there.
  const crossing = ['。我', '的。', 'a中', '中a', '」「', '！？', 'ab', 'abc', 'の中', '中の', '\u2581中'];
  const pieces = [...new Set([...HAN, ...KANA, ...PUNCT, ...words, ...kanaWords, ...crossing, ...'abcdefghijklmnopqrstuvwxyz0123456789,.!?', '\u2581', '\u2581a', '\u2581the'])];
  const json = {
    version: '1.0',
    added_tokens: ['<s>', '<pad>', '</s>', '<unk>'].map((t, i) => added(t, i)),
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Precompiled', precompiled_charsmap: '' }, { type: 'Replace', pattern: { Regex: ' {2,}' }, content: ' ' }] },
    pre_tokenizer: { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'always', split: true },
    post_processor: null,
    decoder: { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'always', split: true },
    model: { type: 'Unigram', unk_id: 3, byte_fallback: false, vocab: [...['<s>', '<pad>', '</s>', '<unk>'].map((t) => [t, 0]), ...pieces.map((p, i) => [p, -2 - (i % 97) / 10 - 3 / [...p].length])] },
  };
  const tok = WordPieceTokenizer.fromTokenizerJson(json);
  const ATOMS_CJK = [...HAN.slice(0, 200), ...words.slice(0, 100), ...kanaWords.slice(0, 50), ...PUNCT, ...crossing, '，', '～', 'ｶ', 'ｶﾞ', 'か\u3099', '\u3099', '가', '각', '\u1100\u1161', 'e\u0301', 'é', 'Ω', 'Ω', '𠀀', '𠀀𠀁', '\ufffd', '\u2581', '\u3000', ' ', 'ab', 'abc', '1', '2', '.', 'a', '中'];

  it('seeded random CJK/kana/Latin texts with no space: every prefix tokenized gives the whole text\'s pieces, and most are cut', () => {
    const rnd = random(99);
    let cut = 0;
    for (let i = 0; i < 120; i++) {
      let text = '';
      const length = 4096 + 100 + Math.floor(rnd() * 3000);
      while (text.length < length) text += ATOMS_CJK[Math.floor(rnd() * ATOMS_CJK.length)]!;
      const seen = expectCutsExact(tok, text, [2, 40, 300]);
      if (seen.some((n) => n < text.length)) cut++;
    }
    expect(cut).toBeGreaterThan(100);
  });

  it('200k characters of Chinese without a space: encoded from a cut in well under a second (was refused past maxTextChars, and overflowed the stack before)', () => {
    const rnd = random(3);
    let text = '';
    while (text.length < 200_000) text += rnd() < 0.1 ? PUNCT[Math.floor(rnd() * 2)]! : words[Math.floor(rnd() * words.length)]!;
    const t0 = performance.now();
    const head = tok.pieces(text.slice(0, 40_000)); // once: the cuts' reference and the encoding's
    const seen = expectCutsExact(tok, text.slice(0, 40_000), [512], undefined, head);
    expect(Math.max(...seen)).toBeLessThan(20_000);
    const ids = tok.encode(text, 512);
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(ids.slice(1, -1)).toEqual(head.slice(0, 510));
  });

  it('no cut between characters a piece holds side by side, nor beside a character NFKC changes or one that composes with the one before', () => {
    for (const text of [`${'a中'.repeat(5000)}`, `${'ｶ'.repeat(6000)}`, `${'か\u3099'.repeat(3000)}`, `${'\u1100\u1161'.repeat(3000)}`]) {
      const seen = expectCutsExact(tok, text, [2, 100]);
      expect(seen.filter((n) => n < text.length), JSON.stringify(text.slice(0, 4))).toEqual([]);
    }
  });
});

describe('SentencePiece-style BPE (Llama-style normalizer, no pre-tokenizer)', () => {
  const json = (more: Record<string, unknown>) => ({
    version: '1.0',
    added_tokens: ['<pad>', '<s>', '</s>'].map((t, i) => added(t, i)),
    normalizer: { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '\u2581' }, { type: 'Replace', pattern: { String: ' ' }, content: '\u2581' }] },
    pre_tokenizer: null,
    post_processor: null,
    decoder: null,
    model: { type: 'BPE', dropout: null, unk_token: null, fuse_unk: true, byte_fallback: false, vocab: Object.fromEntries(['<pad>', '<s>', '</s>', '\u2581', '中', '文', '中文', '\u2581中'].map((t, i) => [t, i])), merges: [['\u2581', '中'], ['中', '文']], ...more },
  });
  const text = '文中'.repeat(6000); // "文中" is in no piece: a cut after every 文

  it('is cut between characters no piece holds side by side, with the ids of the whole text', () => {
    const seen = expectCutsExact(WordPieceTokenizer.fromTokenizerJson(json({})), text, [2, 60]);
    expect(seen.filter((n) => n < text.length).length).toBeGreaterThan(0);
  });

  it('not between the halves of a merge whose result the vocabulary lacks (it is made all the same)', () => {
    const tok = WordPieceTokenizer.fromTokenizerJson(json({ merges: [['\u2581', '中'], ['中', '文'], ['文', '中']] }));
    const seen = expectCutsExact(tok, text, [2, 60]);
    expect(seen.filter((n) => n < text.length)).toEqual([]);
  });

  it('no space cut where a merge joins a word to the space after it, though its result is not in the vocabulary', () => {
    const spaced = '文 '.repeat(6000);
    const tok = WordPieceTokenizer.fromTokenizerJson(json({ merges: [['\u2581', '中'], ['中', '文'], ['文', '\u2581']] }));
    expect(tok.idsToTokens(tok.pieces('文 文 文'))).toEqual(['\u2581', '文']); // each "文▁" merged, then dropped: not a piece, no unk token
    expectCutsExact(tok, spaced, [2, 5, 60]);
  });

  it('not with ignore_merges, which takes a prefix found whole in the vocabulary as one piece where the text is merged', () => {
    const seen = expectCutsExact(WordPieceTokenizer.fromTokenizerJson(json({ ignore_merges: true })), text, [2, 60]);
    expect(seen.filter((n) => n < text.length)).toEqual([]);
  });
});

describe('pair cuts and added tokens matched after normalization', () => {
  it('an added token matched in the NFKC-normalized text ("ａbc" reads as "abc") is not cut: no pair cuts then', () => {
    const json = {
      version: '1.0',
      added_tokens: [...['<pad>', '<s>', '</s>'].map((t, i) => added(t, i)), added('abc', 3, { special: false, normalized: true })],
      normalizer: { type: 'NFKC' },
      pre_tokenizer: { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'always', split: true },
      post_processor: null,
      decoder: null,
      model: { type: 'Unigram', unk_id: 4, byte_fallback: false, vocab: [['<pad>', 0], ['<s>', 0], ['</s>', 0], ['abc', 0], ['<unk>', 0], ['a', -1], ['b', -1], ['c', -1], ['x', -1], ['\u2581', -1], ['xx', -0.5]] },
    };
    const tok = WordPieceTokenizer.fromTokenizerJson(json);
    // "bc" is in no piece: a pair cut would fall between b and c, inside the token the normalized text holds.
    const text = `${'x'.repeat(4094)}ａbc${'x'.repeat(8000)}`; // the first try cuts at 4096, before c
    expect(tok.idsToTokens(tok.pieces(text))).toContain('abc');
    expectCutsExact(tok, text, [2, 3, 40]);
  });
});

describe('pair cuts where a normalizer makes an added token\'s text ("＜s>" reads "<s>", a piece of the model)', () => {
  const json = {
    version: '1.0',
    added_tokens: ['<pad>', '<s>', '</s>', '<unk>'].map((t, i) => added(t, i)),
    normalizer: { type: 'Precompiled', precompiled_charsmap: '' },
    pre_tokenizer: { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'always', split: true },
    post_processor: null,
    decoder: null,
    model: { type: 'Unigram', unk_id: 3, byte_fallback: false, vocab: [['<pad>', 0], ['<s>', 0], ['</s>', 0], ['<unk>', 0], ['\u2581', -1], ['<', -2], ['s', -2], ['>', -2], ['中', -2], ['中中', -1]] },
  };
  const tok = WordPieceTokenizer.fromTokenizerJson(json);
  const run = '中'.repeat(3000);

  it('no cut inside it: the model\'s piece "<s>" spans "s|>"', () => {
    const text = `${run}＜s>\u0301${run}`; // no cut beside the mark: only "s|>" (before the fix)
    expect(tok.idsToTokens(tok.pieces(text))).toContain('<s>');
    expectCutsExact(tok, text, [2, 3, 1600]);
  });

  it('no pair or space cut right after it where it is the prefix\'s last section: read as <s> there, as pieces in the whole text', () => {
    for (const text of [`＜s>${'中'.repeat(60_000)}`, `＜s> ${'中'.repeat(60_000)}`, `＜s＞ ${'中'.repeat(60_000)}`, `＜s>\u0001 ${'中'.repeat(60_000)}`]) {
      // The whole text's pieces once (60k characters of a Unigram model, a second on CI): here and as the cuts' reference.
      const whole = tok.pieces(text);
      expect(tok.idsToTokens(whole.slice(0, 2))).toEqual(['\u2581', '<s>']);
      expect(() => tok.encode(text, 3), JSON.stringify(text.slice(0, 5))).toThrow(TextTooLongError); // no other cut within 50000
      expectCutsExact(tok, text, [3, 4], 70_000, whole);
    }
  });
});
