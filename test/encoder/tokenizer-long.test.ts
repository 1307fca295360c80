/**
 * Long texts: encode() tokenizes only the text the first maxLength - 2 pieces need (bert-scan.ts)
 * and must give exactly the ids of tokenizing the whole text and truncating. Seeded random texts
 * mixing spaces, punctuation, CJK, combining marks, emoji, Greek capitals (Final_Sigma), added
 * tokens, control characters and very long words, on every BERT tokenizer.json the repository
 * has (the fixture, vocab.txt, the demo model) and variants of its normalizer; then the inputs
 * that held the server: 16 MB without a space, of punctuation, of CJK.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WordPieceTokenizer } from '../../src/encoder/tokenizer.js';

const ROOT = join(import.meta.dirname, '..', '..');
const readJson = (p: string): Record<string, any> => JSON.parse(readFileSync(join(ROOT, p), 'utf8'));
const fixture = readJson('test/fixtures/encoder/hf-bert-tiny/tokenizer.json');
const demo = readJson('assets/demo/model/tokenizer.json');
const variant = (norm: Record<string, unknown>, model: Record<string, unknown> = {}) =>
  WordPieceTokenizer.fromTokenizerJson({ ...fixture, normalizer: { ...fixture.normalizer, ...norm }, model: { ...fixture.model, ...model } });

const tokenizers: [string, WordPieceTokenizer][] = [
  ['hf-bert-tiny tokenizer.json (uncased)', WordPieceTokenizer.fromTokenizerJson(fixture)],
  ['hf-bert-tiny vocab.txt', WordPieceTokenizer.fromVocabTxt(readFileSync(join(ROOT, 'test/fixtures/encoder/hf-bert-tiny/vocab.txt'), 'utf8'))],
  ['demo model tokenizer.json', WordPieceTokenizer.fromTokenizerJson(demo)],
  ['cased (no lowercase, no accent stripping)', variant({ lowercase: false, strip_accents: false })],
  ['lowercase without accent stripping', variant({ lowercase: true, strip_accents: false })],
  ['accent stripping without lowercase', variant({ lowercase: false, strip_accents: true })],
  ['no clean_text, no CJK spacing', variant({ clean_text: false, handle_chinese_chars: false })],
  ['max_input_chars_per_word 5', variant({}, { max_input_chars_per_word: 5 })],
  ['not BERT: Whitespace pre-tokenizer (cut at spaces)', WordPieceTokenizer.fromTokenizerJson({ ...fixture, pre_tokenizer: { type: 'Whitespace' } })],
];

function random(seed: number): () => number {
  let s = seed;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) & 0x7fffffff; // imul: a product past 2^53 repeated after ~15k draws
    return s / 0x7fffffff;
  };
}

const ATOMS = [' ', '  ', '\t', '\n', '\r\n', '\u00a0', '\u3000', '\u2028', '\ufeff', '.', ',', '!', "'", ':', '[', ']', '-', '¿', '、', '`', '^',
  '中', '文', '𠀀', '\u0301', '\u0345', '\u0300', '😀', '👍🏽', 'Σ', 'Α', 'σ', 'ΑΣ', 'ΣΑ', 'ʰ', 'ʹ', '\u0000', '\u200b', '\ufffd', '\u0007',
  '[CLS]', '[SEP]', '[MASK]', '[CL\u0000S]', '[cls]', 'İ', '\u1fef', '\ud800', 'é', 'e\u0301', 'hello', 'world', 'Straße', 'ﬁ', '1', '\u037e', '\u00ad'];
const LETTERS = [...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZΣσΑ0123456789éʰʹ\u0301\u0345\u200b\u0000'];

/** Up to ~6000 characters; long runs of one atom and words near 100 characters. */
function randomText(rnd: () => number): string {
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  const word = (n: number) => Array.from({ length: n }, () => pick(LETTERS)).join('');
  const target = Math.floor(rnd() * 6000);
  let s = '';
  while (s.length < target) {
    const r = rnd();
    if (r < 0.5) s += pick(ATOMS);
    else if (r < 0.7) s += word(1 + Math.floor(rnd() * 8));
    else if (r < 0.8) s += word(95 + Math.floor(rnd() * 12));
    else if (r < 0.9) s += pick(ATOMS).repeat(1 + Math.floor(rnd() * 2500)) + pick(ATOMS);
    else s += word(1 + Math.floor(rnd() * 3)).repeat(300 + Math.floor(rnd() * 1000));
  }
  return s;
}

/** encode() against the whole text's pieces, truncated, at each maxLength. */
function expectSameIds(tok: WordPieceTokenizer, text: string, maxLengths: readonly number[]): void {
  const whole = tok.pieces(text);
  const cls = tok.encode('', 2)[0]!;
  const sep = tok.encode('', 2)[1]!;
  for (const maxLength of maxLengths) {
    const got = tok.encode(text, maxLength);
    const want = [cls, ...whole.slice(0, maxLength - 2), sep];
    if (got.join() !== want.join()) {
      let k = 0;
      while (got[k] === want[k]) k++;
      expect.fail(
        `${JSON.stringify(text.slice(0, 120))}... (${text.length} chars) @${maxLength}: piece ${k} is ${tok.idsToTokens(got.slice(k, k + 3))}, whole text gives ${tok.idsToTokens(want.slice(k, k + 3))}`,
      );
    }
  }
}

const MAX_LENGTHS = [2, 3, 4, 5, 6, 8, 10, 13, 17, 24, 40, 130, 512];

/** Texts built on each rule the scan relies on; maxLengths that cut at each of their first pieces and at their end. */
const TARGETED = [
  'ΑΣ...Α b c', // Final_Sigma: 'σ' (an 'Α' follows past '.'), the cut is at a '.'
  `ΑΣ${'.'.repeat(3000)}Α b`,
  `ΟΔΟΣ'':Α z`,
  `ΑΣ.${'ʹ'.repeat(2000)}A${'ʹ'.repeat(10)}1 b`, // a long word of case-ignorable letters: its first cased letter decides
  `${'a'.repeat(2000)}1.Σ b`, // its last letter decides for the 'Σ' after it
  `${'a'.repeat(2000)}.Σ b`,
  `ΑΣ${'\u00a0'.repeat(3000)}Α`,
  `ΑΣ${'\ufeff'.repeat(3000)}Α b`, // without clean_text U+FEFF is whitespace that Final_Sigma looks past
  `${'a'.repeat(99)}${'b'.repeat(2000)} c`, // shortened, the word still has more than 100 characters
  `${'a'.repeat(99)}${'ʰ'.repeat(2000)} c`, // ... also when it ends in letters Final_Sigma looks past
  `[CL\u0000S][CLS]${'\u0000'.repeat(2000)}x y`, // a section that normalizes to an added token is that token
  `[CL\u0000S]]]]] [SEP]`,
  `x[SEP]y[MASK]${'[SEP]'.repeat(40)}`,
  `${'é'.repeat(99)}\u0301\u0301 ${'e\u0301'.repeat(101)}!`, // around max_input_chars_per_word after NFD and accent stripping
  `${'İ'.repeat(60)} ${'a\u200b'.repeat(1500)}b ${'\u0000'.repeat(3000)}c`,
  `${'中'.repeat(30)}${'𠀀'.repeat(700)}文`,
];

describe.each(tokenizers)('%s: a long text gives the ids of tokenizing it whole and truncating', (_name, tok) => {
  it('seeded random texts (spaces, punctuation, CJK, marks, emoji, Greek, added tokens, controls, long words)', () => {
    const rnd = random(20261205);
    for (let i = 0; i < 24; i++) expectSameIds(tok, randomText(rnd), MAX_LENGTHS);
  });

  it('texts built on each rule: Final_Sigma across cuts and shortened words, added tokens, max_input_chars_per_word', () => {
    for (const text of TARGETED) {
      const n = tok.pieces(text).length;
      const lengths = new Set([...Array.from({ length: Math.min(n, 48) }, (_, k) => k + 2), n, n + 1, n + 2, n + 3]);
      expectSameIds(tok, text, [...lengths].filter((l) => l >= 2));
    }
  });
});

describe('inputs that held the server (one request stalled every client)', () => {
  const tok = tokenizers[0]![1];
  const MB16 = 16 * 1024 * 1024;
  const cases: [string, string][] = [
    ['16 MB without a space', 'abcdefghij'.repeat(MB16 / 10)],
    ['16 MB of punctuation', '!?.,;:-'.repeat(MB16 / 7)],
    ['4M CJK characters', '中文字符'.repeat(1 << 20)],
    ['16 MB of dots after a capital sigma', `ΑΣ${'.'.repeat(MB16)}`],
    ['16 MB of spaces', ' '.repeat(MB16)],
    ['16 MB of one word with accents and zero-width spaces', 'e\u0301\u200b'.repeat(MB16 / 3)],
  ];
  for (const [name, text] of cases) {
    it(`${name}: tokenized in well under a second, on a text of at most a few KB`, () => {
      const seen: number[] = [];
      const pieces = tok.pieces.bind(tok);
      tok.pieces = (t: string) => (seen.push(t.length), pieces(t));
      try {
        const t0 = performance.now();
        const ids = tok.encode(text, 512);
        const ms = performance.now() - t0;
        // The work is the characters handed to the library; tokenizing the whole text was 2.5-23 s.
        expect(Math.max(...seen), 'characters tokenized').toBeLessThan(64 * 1024);
        expect(ms).toBeLessThan(3000);
        expect(ids.length).toBeGreaterThanOrEqual(2);
      } finally {
        delete (tok as { pieces?: unknown }).pieces;
      }
    });
  }

  it('the ids of those texts equal the whole text tokenized (on 256 KB cuts of them)', () => {
    for (const [, text] of cases) expectSameIds(tok, text.slice(0, 1 << 18), [2, 3, 512]);
  });
});

describe('tokenizers cut before a space (not BERT)', () => {
  it('an added token holding a space is not cut in two ("new york" matched whole, not "new" then "york")', () => {
    const vocab = fixture.model.vocab as Record<string, number>;
    const json = {
      ...fixture,
      pre_tokenizer: { type: 'Whitespace' },
      added_tokens: [...fixture.added_tokens, { id: vocab['new']!, content: 'new york', single_word: false, lstrip: false, rstrip: false, normalized: false, special: false }],
    };
    const tok = WordPieceTokenizer.fromTokenizerJson(json);
    // The space of "new york" at 4096, where the first prefix is cut.
    const text = `${'x'.repeat(4000)} ${'a'.repeat(92)}new york ${'b '.repeat(3000)}`;
    expect(text.indexOf('new york') + 3).toBe(4096);
    expectSameIds(tok, text, Array.from({ length: 60 }, (_, k) => k + 2));
  });
});
