/**
 * `tessera demo`'s cache: a cache folder that cannot be made fails at once, naming --cache-dir; the
 * default is beside the package, or the user's cache folder where the package cannot be written.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { isTesseraError } from '../../src/core/errors.js';
import { defaultDemoCacheDir, ensureDemoIndex } from '../../src/server/demo.js';

const tmp = mkdtempSync(join(tmpdir(), 'tessera-demo-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('ensureDemoIndex', () => {
  it('a cache folder that cannot be created -> INVALID_ARGUMENT naming --cache-dir', async () => {
    const file = join(tmp, 'a-file');
    writeFileSync(file, 'not a folder');
    await expect(ensureDemoIndex({ cacheDir: join(file, 'cache') })).rejects.toSatisfy(
      (e) => isTesseraError(e, 'INVALID_ARGUMENT') && /cannot create the demo cache folder .*a-file\/cache \(ENOTDIR\): pass --cache-dir DIR/.test((e as Error).message),
    );
    // Run by npm start, the flag as npm passes it on (a flag before npm's `--` stays with npm).
    vi.stubEnv('npm_lifecycle_event', 'start');
    try {
      await expect(ensureDemoIndex({ cacheDir: join(file, 'cache') })).rejects.toThrow(/pass --cache-dir DIR \(through npm: npm start -- --cache-dir DIR\), a folder you can write/);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe('defaultDemoCacheDir', () => {
  it('is <package>/.cache/demo where the package folder can be written (made there)', async () => {
    const pkg = join(tmp, 'writable-pkg');
    mkdirSync(pkg);
    expect(await defaultDemoCacheDir(pkg, {})).toBe(join(pkg, '.cache', 'demo'));
    expect(existsSync(join(pkg, '.cache', 'demo'))).toBe(true);
  });

  it("is the user's cache folder where the package's cannot be made (a read-only install)", async () => {
    // Root writes anywhere, so a file in the way stands for a folder this user may not write.
    const pkg = join(tmp, 'read-only-pkg');
    mkdirSync(pkg);
    writeFileSync(join(pkg, '.cache'), '');
    expect(await defaultDemoCacheDir(pkg, { XDG_CACHE_HOME: join(tmp, 'xdg') })).toBe(join(tmp, 'xdg', 'tessera', 'demo'));
    expect(await defaultDemoCacheDir(pkg, {})).toBe(join(homedir(), '.cache', 'tessera', 'demo'));
  });
});
