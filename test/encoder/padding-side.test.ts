/**
 * A tokenizer whose files pad on the left (tokenizer_config.json padding_side "left", tokenizer.json
 * padding direction "Left"): tessera pads on the right whatever they say, so cls pooling takes [CLS]
 * (position 0), not a pad, and mean pooling counts the real tokens only, for a text run beside a
 * longer one as for the text alone. The toy model's states are its embedding rows, so a pooled pad
 * would show as the [PAD] row.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/node.js';
import { Encoder } from '../../src/encoder/index.js';
import { bertTokenizerJson } from '../../src/encoder/tokenizer.js';
import { TOY_WORDS, toyTable, toyVocab, writeToyFolder } from './toy-model.js';

const root = mkdtempSync(join(tmpdir(), 'tessera-padding-side-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const DIM = 6;
const table = toyTable(TOY_WORDS.length, DIM);
const ids = (...words: string[]) => ['[CLS]', ...words, '[SEP]'].map((w) => TOY_WORDS.indexOf(w));

/** Mean (or the first) of the table rows of `rows`, not normalised. */
function reference(rows: number[], mode: 'mean' | 'cls'): number[] {
  const use = mode === 'cls' ? rows.slice(0, 1) : rows;
  return Array.from({ length: DIM }, (_, k) => use.reduce((s, i) => s + table[i * DIM + k]!, 0) / use.length);
}

function leftPaddingFolder(name: string, pooling: 'cls' | 'mean'): string {
  const dir = writeToyFolder(join(root, name), DIM, { pooling });
  const json = { ...bertTokenizerJson(toyVocab(), true), padding: { strategy: 'BatchLongest', direction: 'Left', pad_to_multiple_of: null, pad_id: 0, pad_type_id: 0, pad_token: '[PAD]' } };
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(json));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify({ padding_side: 'left', pad_token: '[PAD]', cls_token: '[CLS]', sep_token: '[SEP]' }));
  return dir;
}

describe('pooling with a tokenizer that pads on the left', () => {
  // 3 and 8 tokens: both padded to 8 and run together, the first with 5 pads.
  const texts = ['cat', 'the dog ran on a mat'];
  const tokens = [ids('cat'), ids('the', 'dog', 'ran', 'on', 'a', 'mat')];

  it.each(['cls', 'mean'] as const)('%s pooling reads the real tokens, beside a longer text as alone', async (pooling) => {
    const enc = await Encoder.fromDirectory(leftPaddingFolder(`left-${pooling}`, pooling), { normalize: false, threads: 1 });
    try {
      expect(enc.pooling).toBe(pooling);
      expect(enc.tokenize(texts[0]!)).toEqual(tokens[0]);
      const together = await enc.encode(texts, { prefix: 'none' });
      for (let i = 0; i < texts.length; i++) {
        const want = reference(tokens[i]!, pooling);
        const got = Array.from(together.subarray(i * DIM, (i + 1) * DIM));
        got.forEach((v, k) => expect(v).toBeCloseTo(want[k]!, 6));
        expect(Array.from(await enc.encode([texts[i]!], { prefix: 'none' }))).toEqual(got);
      }
      // Not the pad's row (what a left-padded cls pooling of the short text takes).
      const pad = reference([TOY_WORDS.indexOf('[PAD]')], 'cls');
      expect(Array.from(together.subarray(0, DIM)).some((v, k) => Math.abs(v - pad[k]!) > 1e-3)).toBe(true);
    } finally {
      await enc.dispose();
    }
  });
});
