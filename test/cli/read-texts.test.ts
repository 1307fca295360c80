import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import '../../src/node.js';
import { readTexts } from '../../src/cli/commands/encode.js';
import { Encoder } from '../../src/encoder/encoder.js';

const MODEL = join(resolve(import.meta.dirname, '../..'), 'assets/demo/model');

describe('encode --texts', () => {
  it('a folder is INVALID_ARGUMENT naming every form it takes, .jsonl included', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tessera-texts-'));
    try {
      await expect(readTexts(dir)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('pass a .json, .jsonl or .txt file') });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a .csv or .tsv is refused naming the forms it takes: read as lines, its header and columns were encoded', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tessera-texts-'));
    try {
      for (const name of ['q.csv', 'q.TSV']) {
        const path = join(dir, name);
        await writeFile(path, 'question,id\nwho wrote hamlet?,1\n');
        await expect(readTexts(path)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/a \.csv or \.tsv table is not read \(its header line .*\.txt file, one text a line and no header/) });
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('Encoder.encode', () => {
  it('a single string (not an array) says to wrap it', async () => {
    const encoder = await Encoder.fromDirectory(MODEL);
    try {
      await expect(encoder.encode('who wrote hamlet?' as unknown as string[])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('got a single string: wrap it, encode([text])') });
      await expect(encoder.encode(undefined as unknown as string[])).rejects.toMatchObject({ message: 'texts must be an array of strings, got undefined' });
    } finally {
      await encoder.dispose();
    }
  });
});
