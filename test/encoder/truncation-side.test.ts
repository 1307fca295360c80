/**
 * The side a long text is cut on. transformers reads tokenizer_config.json's truncation_side (else
 * tokenizer.json's truncation.direction, else "right"), and Search-R1 encodes with that tokenizer's
 * truncation=True, max_length: a "left" model keeps a text's last max_length - 2 pieces, after
 * [CLS], its prefix cut first. tessera kept the first pieces whatever the files said.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/node.js';
import { isTesseraError } from '../../src/core/errors.js';
import { Encoder, TextTooLongError, WordPieceTokenizer } from '../../src/encoder/index.js';

const FIX = join(import.meta.dirname, '..', 'fixtures', 'encoder');
const MODEL = join(FIX, 'hf-bert-tiny');
const JSON_TEXT = readFileSync(join(MODEL, 'tokenizer.json'), 'utf8');
const VOCAB = readFileSync(join(MODEL, 'vocab.txt'), 'utf8');
const tokenizerJson = (truncation: unknown = null) => ({ ...JSON.parse(JSON_TEXT), truncation });
const LEFT = { direction: 'Left', max_length: 512, strategy: 'LongestFirst', stride: 0 };
const TEXTS = (JSON.parse(readFileSync(join(FIX, 'hf-expected.json'), 'utf8')) as { tokenizer: { text: string }[] }).tokenizer.map((c) => c.text);
const [CLS, SEP] = [101, 102];

const root = mkdtempSync(join(tmpdir(), 'tessera-truncation-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The last maxLength - 2 pieces of the whole text, framed: what a left-truncating tokenizer gives. */
function leftIds(tok: WordPieceTokenizer, text: string, maxLength: number): number[] {
  const whole = tok.pieces(text);
  return [CLS, ...whole.slice(Math.max(0, whole.length - (maxLength - 2))), SEP];
}

describe('truncation side from the tokenizer files', () => {
  const right = WordPieceTokenizer.fromTokenizerJson(tokenizerJson());
  const cases: [string, WordPieceTokenizer][] = [
    ['tokenizer_config.json truncation_side "left"', WordPieceTokenizer.fromTokenizerJson(tokenizerJson(), { truncation_side: 'left' })],
    ['tokenizer.json truncation.direction "Left"', WordPieceTokenizer.fromTokenizerJson(tokenizerJson(LEFT))],
    ['vocab.txt with truncation_side "left"', WordPieceTokenizer.fromVocabTxt(VOCAB, { truncationSide: 'left' })],
  ];

  for (const [name, tok] of cases) {
    it(`${name}: keeps each text's last pieces, [CLS] and [SEP] around them`, () => {
      expect(tok.truncationSide).toBe('left');
      expect(tok.mayRefuse).toBe(true);
      const long = TEXTS.join(' ');
      for (const text of [...TEXTS, long]) {
        for (const maxLength of [2, 3, 8, 16, 512]) {
          expect(tok.encode(text, maxLength), `${JSON.stringify(text.slice(0, 30))} @${maxLength}`).toEqual(leftIds(right, text, maxLength));
        }
      }
      // The prefix is cut first, as Hugging Face cuts "query: " + text.
      const withPrefix = tok.encode(long, 16, undefined, 'query: ');
      expect(withPrefix).toEqual(leftIds(right, long, 16));
      expect(right.encode(long, 16, undefined, 'query: ').slice(1, 3)).toEqual(right.pieces('query: '));
    });
  }

  it('truncation_side "right" in tokenizer_config.json wins over tokenizer.json\'s "Left" (transformers takes the file\'s only as a default); nothing set is right', () => {
    const tok = WordPieceTokenizer.fromTokenizerJson(tokenizerJson(LEFT), { truncation_side: 'right' });
    expect(tok.truncationSide).toBe('right');
    expect(right.truncationSide).toBe('right');
    expect(right.mayRefuse).toBe(false);
    const long = TEXTS.join(' ');
    expect(tok.encode(long, 16)).toEqual(right.encode(long, 16));
    expect(WordPieceTokenizer.fromTokenizerJson(tokenizerJson({ ...LEFT, direction: 'Right' })).truncationSide).toBe('right');
  });

  it('a value Hugging Face does not take is refused naming the file, the key and the values it takes', () => {
    for (const [json, config, want] of [
      [tokenizerJson(), { truncation_side: 'middle' }, /tokenizer_config\.json beside tokenizer\.json has truncation_side "middle": Hugging Face takes "right" .* or "left"/],
      [tokenizerJson(), { truncation_side: null }, /truncation_side null/],
      [tokenizerJson({ ...LEFT, direction: 'Up' }), {}, /tokenizer\.json has truncation\.direction "Up": .*"Right" or "Left"/],
    ] as const) {
      let err: unknown;
      try {
        WordPieceTokenizer.fromTokenizerJson(json, config);
      } catch (e) {
        err = e;
      }
      expect(isTesseraError(err, 'FORMAT'), String(err)).toBe(true);
      expect((err as Error).message).toMatch(want);
    }
  });

  it('a left-truncating tokenizer tokenizes a text whole, so one past maxTextChars is refused (BERT\'s too), saying why and how to fix it', () => {
    const tok = cases[0]![1];
    const text = 'word '.repeat(2_000); // 10000 characters
    expect(tok.encode(text, 8, 10_000)).toEqual(leftIds(right, text, 8));
    let err: unknown;
    try {
      tok.encode(text, 8, 10_005, 'query: ');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TextTooLongError);
    const e = err as TextTooLongError;
    expect([e.chars, e.prefixChars, e.limit]).toEqual([10_000, 7, 10_005]);
    expect(e.message).toMatch(/^a text of 10000 characters \(10007 with its prefix "query: "\) is more than the 10005 characters tokenized at once, and this tokenizer truncates from the left \(truncation_side "left".*keeping the last 6 pieces .*shorten the text to at most 9998 characters \(then tokenized whole\), split it, or raise the limit \(Encoder option maxTextChars, CLI --max-text-chars\)$/);
  });
});

describe('Encoder on a model folder whose tokenizer truncates from the left', () => {
  it('tokenizer_config.json truncation_side "left": queries keep their end, the vector is of those ids, describe says so, a long text is refused by check', async () => {
    for (const vocabOnly of [false, true]) {
      const dir = join(root, vocabOnly ? 'left-vocab' : 'left');
      cpSync(MODEL, dir, { recursive: true });
      if (vocabOnly) rmSync(join(dir, 'tokenizer.json'));
      const config = JSON.parse(readFileSync(join(MODEL, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
      writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ ...config, truncation_side: 'left' }));
      const left = await Encoder.fromDirectory(dir, { maxLength: 8, prefixes: 'e5', maxTextChars: 1000 });
      const plain = await Encoder.fromDirectory(MODEL, { maxLength: 8, prefixes: 'e5', maxTextChars: 1000 });
      try {
        const text = 'who wrote the origin of species and when was it published';
        const ids = left.tokenize(text, 'query');
        expect(ids).toEqual(leftIds(plain.tokenizer, `query: ${text}`, 8));
        expect(left.tokenizer.idsToTokens(ids)).toEqual(['[CLS]', 'species', 'and', 'when', 'was', 'it', 'published', '[SEP]']);
        expect(plain.tokenize(text, 'query')).not.toEqual(ids);
        expect(left.describe()).toMatch(/max 8 tokens, a longer text keeping its last \(truncation_side "left"\); a text of more than 1000 characters is refused \(--max-text-chars\)$/);
        expect(plain.describe()).not.toMatch(/left|refused/);
        // The vector is the model's on those ids: the same as a right-truncating encoder's on the text's end alone.
        const tail = plain.tokenizer.idsToTokens(ids.slice(1, -1)).join(' ').replaceAll(' ##', '');
        const [a, b] = [await left.encode([text]), await plain.encode([tail], { prefix: 'none' })];
        expect(plain.tokenize(tail)).toEqual(ids);
        expect(Array.from(a)).toEqual(Array.from(b));
        const long = 'word '.repeat(200);
        expect(() => plain.check(long)).not.toThrow();
        expect(() => left.check(long)).toThrow(/^a text of 1000 characters \(1007 with its prefix "query: "\) is more than the 1000 characters tokenized at once/);
        await expect(left.encode(['ok', long])).rejects.toThrow(/^texts\[1\]: a text of 1000 characters/);
      } finally {
        await left.dispose();
        await plain.dispose();
      }
    }
  });
});
