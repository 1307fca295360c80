/**
 * An atomic write whose temp file cannot even be created for want of room (no free inodes, an inode
 * quota: ENOSPC / EDQUOT from open) fails naming the target and the fix, as a write that runs out of
 * room midway does; the raw error named only the hidden temp file, and the CLI printed EDQUOT's stack.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { openAtomicFileSink } from '../../src/io/node-fs.js';

/** Codes that open() of a temp file fails with, by the target's name. */
const failOpen = vi.hoisted(() => new Map<string, string>());
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...actual,
    open: (async (path: string, ...rest: unknown[]) => {
      for (const [target, code] of failOpen) {
        if (String(path).includes(`/.${target}.`)) throw Object.assign(new Error(`${code}: open '${String(path)}'`), { code, syscall: 'open', path });
      }
      return (actual.open as (...a: unknown[]) => unknown)(path, ...rest);
    }) as typeof actual.open,
  };
});

const dir = mkdtempSync(join(tmpdir(), 'tessera-atomic-open-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('openAtomicFileSink: the temp file cannot be created', () => {
  it.each([
    ['ENOSPC', 'no space left on the device'],
    ['EDQUOT', 'disk quota exceeded'],
  ])('%s: a TesseraError naming the target and the fix, not the temp file', async (code, why) => {
    const target = `out-${code}.index`;
    failOpen.set(target, code);
    const path = join(dir, target);
    const err = await openAtomicFileSink(path).then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', message: `cannot write ${path}: ${why} (${code}); free space or write elsewhere. ${path} is as it was.` });
    expect(readdirSync(dir)).toEqual([]);
  });
});
