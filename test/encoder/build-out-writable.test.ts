/**
 * `tessera build` refuses an --out it cannot write (a read-only mount, a folder of another user) before
 * the model loads, as it does an --out that is a file: it failed only at the lock, once the model had
 * loaded (minutes for e5 on CPU), with a raw EROFS naming a private lock file.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { checkOutFolder } from '../../src/encoder/build-index.js';

/** Folders access() says are on a read-only file system (root may write anywhere else, so EROFS is mocked). */
const readOnly = vi.hoisted(() => new Set<string>());
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...actual,
    access: (async (path: string, mode?: number) => {
      if (readOnly.has(String(path))) throw Object.assign(new Error(`EROFS: read-only file system, access '${String(path)}'`), { code: 'EROFS', syscall: 'access', path });
      return actual.access(path, mode);
    }) as typeof actual.access,
  };
});

const root = mkdtempSync(join(tmpdir(), 'tessera-build-out-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('checkOutFolder: an --out that cannot be written', () => {
  it('an existing folder, or the nearest one above a missing --out, that takes no new files is INVALID_ARGUMENT naming it', async () => {
    const ro = join(root, 'ro');
    mkdirSync(ro);
    readOnly.add(ro);
    await expect(checkOutFolder(ro)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: `--out ${ro} cannot be written: a read-only file system (EROFS); pass a folder you can write` });
    const below = join(ro, 'a', 'b');
    await expect(checkOutFolder(below)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: `--out ${below} cannot be written (it would be created in ${ro}): a read-only file system (EROFS); pass a folder you can write` });
    await expect(checkOutFolder(join(root, 'rw', 'new'))).resolves.toBeUndefined();
    await expect(checkOutFolder(root)).resolves.toBeUndefined();
  });
});
