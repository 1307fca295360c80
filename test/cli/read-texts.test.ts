import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readTexts } from '../../src/cli/commands/encode.js';

describe('encode --texts', () => {
  it('a folder is INVALID_ARGUMENT naming every form it takes, .jsonl included', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'tessera-texts-'));
    try {
      await expect(readTexts(dir)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('pass a .json, .jsonl or .txt file') });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
