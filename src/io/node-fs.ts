/** Node file hooks: positional reads and atomic writes (temp file + fsync + rename). Node-only. */
import { open, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { TesseraError } from '../core/errors.js';
import type { ByteSink, ByteSource } from '../core/types.js';
import type { FileSystemHooks } from '../platform.js';

export async function openFileSource(path: string): Promise<ByteSource> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new TesseraError('NOT_FOUND', `file not found: ${path}`, { cause: e });
    if (code === 'EISDIR') throw new TesseraError('INVALID_ARGUMENT', `${path} is a directory, expected a file`, { cause: e });
    throw e;
  }
  const size = (await handle.stat()).size;
  return {
    size,
    async read(offset: number, length: number): Promise<Uint8Array> {
      const n = Math.max(0, Math.min(length, size - offset));
      const buf = new Uint8Array(n);
      let got = 0;
      while (got < n) {
        const { bytesRead } = await handle.read(buf, got, n - got, offset + got);
        if (bytesRead === 0) break;
        got += bytesRead;
      }
      return got === n ? buf : buf.subarray(0, got);
    },
    async close() {
      await handle.close();
    },
  };
}

/**
 * Writes to "<dir>/.<name>.<pid>.<random>.tmp", then fsyncs and renames over `path`: readers never
 * see half a file. `abort()` (an extra the writers call when their producer fails) removes the temp file.
 */
export async function openAtomicFileSink(path: string): Promise<ByteSink & { abort(): Promise<void> }> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
  const handle = await open(tmp, 'w');
  let failed = false;
  return {
    async write(chunk: Uint8Array) {
      try {
        let done = 0;
        while (done < chunk.length) {
          const { bytesWritten } = await handle.write(chunk, done, chunk.length - done);
          done += bytesWritten;
        }
      } catch (e) {
        failed = true;
        await handle.close().catch(() => {});
        await rm(tmp, { force: true });
        throw e;
      }
    },
    async close() {
      if (failed) return;
      await handle.sync();
      await handle.close();
      await rename(tmp, path);
    },
    async abort() {
      if (failed) return;
      failed = true;
      await handle.close().catch(() => {});
      await rm(tmp, { force: true });
    },
  };
}

export async function fileSize(path: string): Promise<number> {
  return (await stat(path)).size;
}

export const nodeFileSystem: FileSystemHooks = {
  openRead: openFileSource,
  openWriteAtomic: openAtomicFileSink,
};
