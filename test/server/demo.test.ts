/** `tessera demo`'s cache: a cache folder that cannot be made fails at once, naming --cache-dir. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isTesseraError } from '../../src/core/errors.js';
import { ensureDemoIndex } from '../../src/server/demo.js';

const tmp = mkdtempSync(join(tmpdir(), 'tessera-demo-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('ensureDemoIndex', () => {
  it('a cache folder that cannot be created -> INVALID_ARGUMENT naming --cache-dir', async () => {
    const file = join(tmp, 'a-file');
    writeFileSync(file, 'not a folder');
    await expect(ensureDemoIndex({ cacheDir: join(file, 'cache') })).rejects.toSatisfy(
      (e) => isTesseraError(e, 'INVALID_ARGUMENT') && /cannot create the demo cache folder .*a-file\/cache \(ENOTDIR\): pass --cache-dir DIR/.test((e as Error).message),
    );
  });
});
