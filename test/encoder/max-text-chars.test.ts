/**
 * EncoderOptions.maxTextChars and --max-text-chars: a model whose tokenizer cannot stop early in a
 * long word (byte-level BPE here, on the toy model) refuses such a text with TextTooLongError, which
 * `build` records as a bad row (a zero vector) instead of failing the build, and `encode`, `build`
 * and `serve` take the flag. Before, the text was tokenized whole: seconds to minutes for one row.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import '../../src/node.js';
import { DEFAULT_MAX_TEXT_CHARS, Encoder, TextTooLongError } from '../../src/encoder/index.js';
import { buildIndex } from '../../src/encoder/build-index.js';
import { isTesseraError } from '../../src/core/errors.js';
import { register as registerBuild } from '../../src/cli/commands/build.js';
import { register as registerEncode } from '../../src/cli/commands/encode.js';
import { register as registerServe } from '../../src/cli/commands/serve.js';
import { writeToyFolder } from './toy-model.js';
import { runCommand } from '../helpers/cli.js';

const root = mkdtempSync(join(tmpdir(), 'tessera-max-text-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const DIM = 4;

/** A byte-level BPE tokenizer.json (RoBERTa's pipeline) whose ids fit the toy model's table. */
const VOCAB = ['<pad>', '<unk>', '<s>', '</s>', 'a', 'b', 'Ġ', 'c', '1', '!', 'Ġa', 'ab'];
function writeByteLevelFolder(dir: string): string {
  writeToyFolder(dir, DIM, { noTokenizer: true });
  const vocab = Object.fromEntries(VOCAB.map((t, i) => [t, i]));
  writeFileSync(
    join(dir, 'tokenizer.json'),
    JSON.stringify({
      version: '1.0',
      added_tokens: ['<pad>', '<unk>', '<s>', '</s>'].map((content) => ({ id: vocab[content], content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
      normalizer: null,
      pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      post_processor: null,
      decoder: { type: 'ByteLevel' },
      model: { type: 'BPE', dropout: null, unk_token: null, vocab, merges: [['Ġ', 'a'], ['a', 'b']] },
    }),
  );
  return dir;
}

const model = writeByteLevelFolder(join(root, 'byte-level'));
const LONG_WORD = 'ab'.repeat(40_000); // 80k characters of letters: no place to stop early
let enc: Encoder;
beforeAll(async () => {
  enc = await Encoder.fromDirectory(model, { maxLength: 16 });
});
afterAll(() => enc.dispose());

describe('EncoderOptions.maxTextChars', () => {
  it(`defaults to ${DEFAULT_MAX_TEXT_CHARS}; a long word is refused by encode and check, a long text with a cut is encoded`, async () => {
    expect(enc.maxTextChars).toBe(DEFAULT_MAX_TEXT_CHARS);
    expect(enc.describe()).toMatch(/max 16 tokens; a text with no safe cut within 50000 characters is refused \(--max-text-chars\)$/);
    await expect(enc.encode([LONG_WORD], { prefix: 'passage' })).rejects.toBeInstanceOf(TextTooLongError);
    expect(() => enc.check(LONG_WORD, { prefix: 'passage' })).toThrow(/a text of 80000 characters has no place within its first 50000 .*--max-text-chars/);
    const cut = `${LONG_WORD.slice(0, 30_000)}!${LONG_WORD}`;
    expect(() => enc.check(cut)).not.toThrow();
    expect(enc.tokenize(cut)).toHaveLength(16);
    expect(() => enc.check('ab ab')).not.toThrow();
  });

  it("a refusal counts the text apart from its prefix: its own length, the prefix's, the limit, and the length that is taken whole", async () => {
    const e5 = await Encoder.fromDirectory(model, { maxLength: 16, prefixes: 'e5' });
    try {
      const word = LONG_WORD.slice(0, 49_995); // within the limit alone, past it with "query: "
      let err: unknown;
      try {
        e5.check(word);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(TextTooLongError);
      const e = err as TextTooLongError;
      expect([e.chars, e.prefixChars, e.limit]).toEqual([49_995, 7, 50_000]);
      expect(e.message).toMatch(
        /^a text of 49995 characters \(50002 with its prefix "query: "\) has no place within its first 50000 where this tokenizer can stop with its first 14 pieces \(maxLength less \[CLS\] and \[SEP\], the prefix's pieces among them\) \(.*\), and more than 50000 characters .*; shorten the text to at most 49993 characters \(then tokenized whole\), split it, or raise the limit \(Encoder option maxTextChars, CLI --max-text-chars\)$/,
      );
      await expect(e5.encode(['ab', word])).rejects.toThrow(/^texts\[1\]: a text of 49995 characters \(50002 with its prefix "query: "\)/);
      expect(() => e5.check(word.slice(0, 49_993))).not.toThrow();
      expect(() => e5.check(word, { prefix: 'none' })).not.toThrow();
    } finally {
      await e5.dispose();
    }
  });

  it('raised, the word is encoded (as its first tokens); bad values are refused at load', async () => {
    const big = await Encoder.fromDirectory(model, { maxLength: 16, maxTextChars: 100_000 });
    try {
      const v = await big.encode([LONG_WORD, 'ab'.repeat(14)]);
      expect(Array.from(v.subarray(0, DIM))).toEqual(Array.from(v.subarray(DIM, 2 * DIM)));
    } finally {
      await big.dispose();
    }
    for (const bad of [0, -5, 2.5]) {
      const err = await Encoder.fromDirectory(model, { maxTextChars: bad }).catch((e: unknown) => e);
      expect(isTesseraError(err, 'INVALID_ARGUMENT') && /maxTextChars must be a positive integer/.test(err.message)).toBe(true);
    }
  });
});

describe('build: a row the tokenizer refuses is a bad row, not the end of the build', () => {
  const corpus = join(root, 'corpus.jsonl');
  writeFileSync(corpus, ['ab c', LONG_WORD, 'c ab 1', 'ab!ab'].map((contents, i) => JSON.stringify({ id: String(i), contents })).join('\n') + '\n');

  it('the long word is indexed as a zero vector and listed with its line; the rows around it are encoded', async () => {
    const notes: string[] = [];
    const result = await buildIndex({ corpus, out: join(root, 'out'), encoder: enc, say: (l) => notes.push(l) });
    expect(result.badRows).toEqual([expect.objectContaining({ row: 1, line: 2, reason: expect.stringMatching(/^a text of 80000 characters has no place within its first 50000/) })]);
    expect(notes.some((l) => /corpus\.jsonl:2: a text of 80000 characters .*indexed as a zero vector \(row 1\)/.test(l))).toBe(true);
    const bytes = readFileSync(join(root, 'out', 'Flat.index'));
    const tail = bytes.subarray(bytes.length - 4 * DIM * 4);
    const rows = new Float32Array(tail.buffer.slice(tail.byteOffset, tail.byteOffset + tail.length));
    const want = await enc.encode(['ab c', 'c ab 1', 'ab!ab'], { prefix: 'passage' });
    expect(Array.from(rows.subarray(DIM, 2 * DIM))).toEqual([0, 0, 0, 0]);
    expect(Array.from(rows.subarray(0, DIM))).toEqual(Array.from(want.subarray(0, DIM)));
    expect(Array.from(rows.subarray(2 * DIM))).toEqual(Array.from(want.subarray(DIM)));
  });

  it('--strict makes it fatal, naming the line', async () => {
    const err = await buildIndex({ corpus, out: join(root, 'out-strict'), encoder: enc, strict: true }).catch((e: unknown) => e);
    expect(isTesseraError(err, 'FORMAT') && /corpus\.jsonl:2: a text of 80000 characters/.test(err.message)).toBe(true);
  });
});

describe('which text was refused', () => {
  it('Encoder.encode names the refused text by its index', async () => {
    await expect(enc.encode(['ab', 'c', LONG_WORD])).rejects.toThrow(/^texts\[2\]: a text of 80000 characters/);
  });

  it('tessera encode names it by its place in the file, before any text is encoded; --max-text-chars raises the limit', async () => {
    const txt = join(root, 'texts.txt');
    writeFileSync(txt, `ab c\n${LONG_WORD}\nc ab\n`);
    const run = (...extra: string[]) => runCommand(registerEncode, ['encode', '--model', model, '--texts', txt, '--json', '--max-length', '16', ...extra]);
    await expect(run()).rejects.toThrow(/texts\.txt: text 2: a text of 80000 characters has no place within its first 50000 .*--max-text-chars/);
    const { embeddings } = JSON.parse(await run('--max-text-chars', '80000')) as { embeddings: number[][] };
    expect(embeddings).toHaveLength(3);
  });
});

describe('tessera build --max-text-chars', () => {
  it('is part of the checkpoint\'s model key for a tokenizer that may refuse a row (it decides which rows are zero vectors), not for BERT', async () => {
    const corpus = join(root, 'cli-corpus.jsonl');
    writeFileSync(corpus, ['ab c', LONG_WORD, 'c ab'].map((contents, i) => JSON.stringify({ id: String(i), contents })).join('\n') + '\n');
    const manifest = async (folder: string, ...extra: string[]) => {
      const out = join(root, `cli-out-${extra.join('') || 'default'}-${folder.split('/').pop()}`);
      await runCommand(registerBuild, ['build', '--corpus', corpus, '--model', folder, '--out', out, '--max-length', '16', ...extra]);
      return JSON.parse(readFileSync(join(out, 'build.json'), 'utf8')) as { model: string; badRows: unknown[] };
    };
    const raised = await manifest(model, '--max-text-chars', '90000');
    expect(raised.model).toMatch(/\|max 90000 characters\|/);
    expect(raised.badRows).toEqual([]);
    const byDefault = await manifest(model);
    expect(byDefault.model).toMatch(/\|max 50000 characters\|/);
    expect(byDefault.badRows).toHaveLength(1);
    expect((await manifest(writeToyFolder(join(root, 'bert-cli'), DIM))).model).not.toMatch(/characters/);
  });
});

describe('--max-text-chars on encode, build and serve', () => {
  for (const [name, register] of [['encode', registerEncode], ['build', registerBuild], ['serve', registerServe]] as const) {
    it(`${name} documents it with its default and refuses a value that is not a positive integer`, () => {
      const program = new Command().exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
      register(program);
      const cmd = program.commands.find((c) => c.name() === name)!;
      expect(cmd.helpInformation().replace(/\s+/g, ' ')).toMatch(new RegExp(`--max-text-chars <n> .*safe cut.*\\(default: ${DEFAULT_MAX_TEXT_CHARS}, or 8 a token of --max-length when more\\)`));
      cmd.exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
      expect(() => cmd.parseOptions(['--max-text-chars', '0'])).toThrow(/--max-text-chars must be an integer in \[1, /);
    });
  }
});

describe('a BERT model is never refused, and check() costs it nothing', () => {
  it('check() does not tokenize: build and serve ask it of every long row and query', async () => {
    const bert = await Encoder.fromDirectory(writeToyFolder(join(root, 'bert'), DIM), { maxLength: 16, maxTextChars: 1000 });
    try {
      expect(bert.tokenizer.mayRefuse).toBe(false);
      expect(bert.describe()).toMatch(/max 16 tokens$/);
      expect(enc.tokenizer.mayRefuse).toBe(true);
      const encode = bert.tokenizer.encode.bind(bert.tokenizer);
      let calls = 0;
      bert.tokenizer.encode = (...args: Parameters<typeof encode>) => (calls++, encode(...args));
      bert.check('the cat '.repeat(100_000));
      expect(calls).toBe(0);
      expect(bert.tokenize('cat'.repeat(100_000))).toHaveLength(3); // one word past 100 characters: [UNK]
    } finally {
      await bert.dispose();
    }
  });
});

describe('check() under a raised limit', () => {
  it('refuses a text within the limit that the library overflows its stack on (Unigram), as encode does, so it fails alone, not its batch', async () => {
    const dir = join(root, 'unigram');
    writeToyFolder(dir, DIM, { noTokenizer: true });
    const special = ['<pad>', '<unk>', '<s>', '</s>'];
    writeFileSync(
      join(dir, 'tokenizer.json'),
      JSON.stringify({
        version: '1.0',
        added_tokens: special.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
        normalizer: null,
        pre_tokenizer: { type: 'Metaspace', replacement: '\u2581', prepend_scheme: 'always', split: true },
        post_processor: null,
        decoder: null,
        model: { type: 'Unigram', unk_id: 1, byte_fallback: false, vocab: [...special.map((t) => [t, 0]), ['\u2581', -1], ['a', -2], ['b', -2], ['ab', -1.5], ['ba', -1.5]] },
      }),
    );
    const unigram = await Encoder.fromDirectory(dir, { maxLength: 16, maxTextChars: 1_000_000 });
    try {
      const word = 'ab'.repeat(200_000); // no cut: tokenized whole, past the library's stack
      await expect(unigram.encode([word])).rejects.toThrow(/overflowed its stack/);
      expect(() => unigram.check(word)).toThrow(TextTooLongError);
      expect(() => unigram.check(`${'ab '.repeat(100_000)}`)).not.toThrow();
    } finally {
      await unigram.dispose();
    }
  });

  it('does not tokenize a text within a raised limit for byte-level BPE, which never overflows (each such text would be tokenized twice)', async () => {
    const big = await Encoder.fromDirectory(model, { maxLength: 16, maxTextChars: 100_000 });
    try {
      expect(big.tokenizer.overflowsStack).toBe(false);
      const encode = big.tokenizer.encode.bind(big.tokenizer);
      let calls = 0;
      big.tokenizer.encode = (...args: Parameters<typeof encode>) => (calls++, encode(...args));
      big.check(LONG_WORD);
      expect(calls).toBe(0);
      expect(() => big.check('ab'.repeat(60_000))).toThrow(TextTooLongError);
    } finally {
      await big.dispose();
    }
  });
});
