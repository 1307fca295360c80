/** Node file hooks: positional reads and atomic writes (temp file + fsync + rename). Node-only. */
import { createHash } from 'node:crypto';
import { fstatSync, readFileSync, readlinkSync, readSync, unlinkSync } from 'node:fs';
import { type FileHandle, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { homedir, hostname } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { TesseraError, formatBytes } from '../core/errors.js';
import type { ByteSink, ByteSource } from '../core/types.js';
import type { FileSystemHooks } from '../platform.js';
import { type RandomAccessSource, truncated } from './row-source.js';

/**
 * How readScattered switches from synchronous reads (page cache) to reads through the thread pool
 * (disk): after `probeRuns` runs, if their median took more than `slowRunMs`, the rest go
 * `inFlight` at a time. Measured on the H200 machine's ext4 disk: 46 us a row read synchronously
 * from a cold cache, 2 us from the page cache. Tests lower slowRunMs to force the thread pool.
 */
export const scatteredReads = { probeRuns: 16, slowRunMs: 0.02, inFlight: 16 };

/** Reads `length` bytes at file position `position` into out[at..], fewer only where the file ends; returns the bytes read. */
export async function readFully(handle: FileHandle, out: Uint8Array, at: number, length: number, position: number): Promise<number> {
  let got = 0;
  while (got < length) {
    const { bytesRead } = await handle.read(out, at + got, length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got;
}

/**
 * "file not found: X" with the fix: a relative path is read from the current folder, which is named
 * (a command run from another folder than the files'), and a folder of the path that does not exist.
 */
async function notFoundMessage(path: string): Promise<string> {
  const where = isAbsolute(path) ? '' : ` (relative to the current folder, ${process.cwd()})`;
  const dir = dirname(path);
  const noDir = dir !== '.' && !(await stat(dir).then((s) => s.isDirectory(), () => false));
  return `file not found: ${path}${where}: check the path${noDir ? `; its folder ${dir} does not exist either` : ''}`;
}

/** How many of a folder's files folderMessage names. */
const LISTED_FILES = 5;

/**
 * A folder given where a file is read says which file to pass: an index file it holds (`--index
 * out/` for the out/Flat.index that `tessera build --out out` wrote), else its files, when few.
 */
async function folderMessage(path: string): Promise<string> {
  const head = `${path} is a folder, expected a file`;
  const files = (await readdir(path, { withFileTypes: true }).catch(() => []))
    .filter((f) => (f.isFile() || f.isSymbolicLink()) && !f.name.startsWith('.'))
    .map((f) => f.name)
    .sort();
  const indexes = files.filter((f) => /\.(index|faiss)$/i.test(f));
  if (indexes.length === 1) return `${head}: pass the index file in it, ${join(path, indexes[0]!)}`;
  const named = indexes.length ? indexes : files;
  const what = indexes.length ? 'index files' : 'files';
  if (named.length === 0) return `${head}: pass the path of a file, not of its folder (${path} holds no files)`;
  const list = named.slice(0, LISTED_FILES).join(', ') + (named.length > LISTED_FILES ? `, ... (${named.length} in all)` : '');
  return named.length === 1 ? `${head}: pass the file in it, ${join(path, named[0]!)}` : `${head}: pass one of its ${what} (${list}) as ${join(path, '<file>')}`;
}

/**
 * Opens `path` for positional reads. The source also offers (RandomAccessSource): readInto (no
 * allocation per read), readScattered (many rows in one call: synchronous preads, ~2 us a row from
 * the page cache against ~15 us through the thread pool on the 2-core dev machine, until the reads
 * show a disk; see scatteredReads), retain (another owner of the one handle) and a check on every
 * scattered read that the file still has the size and modification time it had when opened.
 */
export async function openFileSource(path: string): Promise<RandomAccessSource> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new TesseraError('NOT_FOUND', await notFoundMessage(path), { cause: e });
    if (code === 'EISDIR') throw new TesseraError('INVALID_ARGUMENT', await folderMessage(path), { cause: e });
    throw e;
  }
  const opened = await handle.stat({ bigint: true });
  // Linux opens a directory for reading; the first read fails (EISDIR) instead.
  if (opened.isDirectory()) {
    await handle.close();
    throw new TesseraError('INVALID_ARGUMENT', await folderMessage(path));
  }
  const size = Number(opened.size);
  const fd = handle.fd;

  function readInto(offset: number, out: Uint8Array): Promise<number> {
    return readFully(handle, out, 0, Math.max(0, Math.min(out.length, size - offset)), offset);
  }

  /** Throws FORMAT when the file is no longer what was opened (truncated, rewritten in place). */
  function checkUnchanged(): void {
    const now = fstatSync(fd, { bigint: true });
    if (now.size !== opened.size || now.mtimeNs !== opened.mtimeNs) {
      throw new TesseraError(
        'FORMAT',
        `${path}: the file changed after it was opened (size ${opened.size} -> ${now.size} bytes, modified ${new Date(Number(now.mtimeMs)).toISOString()}): ` +
          'rows read from it now may not be the rows that were loaded; reload the index',
      );
    }
  }

  /** One run: `want` bytes at `at` into out[o..], synchronously (page-cache speed). */
  function readRunSync(out: Uint8Array, o: number, want: number, at: number): void {
    let got = 0;
    while (got < want) {
      const n = readSync(fd, out, o + got, want - got, at + got);
      if (n === 0) break;
      got += n;
    }
    if (got !== want) throw truncated(path, at, want, got, Number(fstatSync(fd).size));
  }

  async function readRunAsync(out: Uint8Array, o: number, want: number, at: number): Promise<void> {
    const got = await readFully(handle, out, o, want, at);
    if (got !== want) throw truncated(path, at, want, got, Number(fstatSync(fd).size));
  }

  async function readScattered(positions: Float64Array, count: number, length: number, out: Uint8Array): Promise<void> {
    checkUnchanged();
    // Runs of consecutive rows: one read each.
    const runs: number[] = [];
    for (let i = 0; i < count; ) {
      let j = i + 1;
      while (j < count && positions[j] === positions[j - 1]! + length) j++;
      runs.push(i, j - i);
      i = j;
    }
    // Synchronous reads first: from the page cache they cost ~2 us a run. When the first runs show
    // the disk (their median tens of us and more; the median, so that a few runs preempted on a busy
    // machine do not count), the rest go through the thread pool, several in flight.
    const probe = new Float64Array(Math.min(scatteredReads.probeRuns, runs.length / 2));
    let r = 0;
    for (; r < runs.length; r += 2) {
      if (r === 2 * probe.length && probe.length === scatteredReads.probeRuns && probe.sort()[probe.length >> 1]! > scatteredReads.slowRunMs) break;
      const t = performance.now();
      readRunSync(out, runs[r]! * length, runs[r + 1]! * length, positions[runs[r]!]!);
      if (r < 2 * probe.length) probe[r >> 1] = performance.now() - t;
    }
    let next = r;
    const worker = async () => {
      while (next < runs.length) {
        const at = next;
        next += 2;
        await readRunAsync(out, runs[at]! * length, runs[at + 1]! * length, positions[runs[at]!]!);
      }
    };
    if (next < runs.length) await Promise.all(Array.from({ length: scatteredReads.inFlight }, worker));
    // A change during the reads shows in the modification time.
    checkUnchanged();
  }

  let owners = 1;
  const view = (): RandomAccessSource => {
    let closed = false;
    return {
      size,
      label: path,
      async read(offset: number, length: number): Promise<Uint8Array> {
        const buf = new Uint8Array(Math.max(0, Math.min(length, size - offset)));
        const got = await readInto(offset, buf);
        return got === buf.length ? buf : buf.subarray(0, got);
      },
      readInto,
      readScattered,
      retain() {
        if (closed) throw new TesseraError('INVALID_ARGUMENT', `${path} was closed`);
        owners++;
        return view();
      },
      async close() {
        if (closed) return;
        closed = true;
        if (--owners === 0) await handle.close();
      },
    };
  };
  return view();
}

/** tessera's folder in the user's cache, $XDG_CACHE_HOME (else ~/.cache)/tessera: for files that have no writable place beside their source. */
export function userCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'tessera');
}

const WRITE_FAILURES: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  EFBIG: 'the file is larger than the file system allows',
  EIO: 'an I/O error on the device',
};

/**
 * A write that failed for want of room (ENOSPC, EDQUOT, EFBIG) or by the device (EIO) as a
 * TesseraError naming `path` and `after` (what became of it); Node's own error named neither the
 * file nor the fix ("ENOSPC: no space left on device, write"). Other errors are returned as they are.
 */
export function writeFailure(path: string, e: unknown, after: string): unknown {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  const why = code !== undefined ? WRITE_FAILURES[code] : undefined;
  if (why === undefined) return e;
  return new TesseraError('INVALID_ARGUMENT', `cannot write ${path}: ${why} (${code}); free space or write elsewhere. ${after}`, { cause: e });
}

/** Temp files of atomic writes in progress (opened, not yet renamed nor removed). */
const unfinishedWrites = new Set<string>();
let onWritesInProgress: ((inProgress: boolean) => void) | undefined;

/** Calls `listener` when the first atomic write starts (true) and when the last one ends (false). */
export function watchUnfinishedWrites(listener: ((inProgress: boolean) => void) | undefined): void {
  onWritesInProgress = listener;
}

function trackWrite(tmp: string, inProgress: boolean): void {
  const before = unfinishedWrites.size;
  if (inProgress) unfinishedWrites.add(tmp);
  else unfinishedWrites.delete(tmp);
  if ((before === 0) !== (unfinishedWrites.size === 0)) onWritesInProgress?.(unfinishedWrites.size > 0);
}

/**
 * Removes the temp files of atomic writes in progress, for an exit that does not wait for them
 * (a second Ctrl-C): a half-written index (up to the whole index, tens of GB) was left as a hidden
 * temp file (tempFilePath) beside its target. Synchronous, so it runs before `process.exit`.
 */
export function removeUnfinishedWritesSync(): void {
  for (const tmp of unfinishedWrites) {
    try {
      unlinkSync(tmp);
    } catch {
      // renamed or removed meanwhile: nothing left
    }
  }
  unfinishedWrites.clear();
  onWritesInProgress?.(false);
}

/** Whether a process of this machine with that id runs (EPERM: it does, as another user). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * When process `pid` started, in clock ticks since boot (Linux /proc/<pid>/stat field 22); undefined
 * where there is no /proc. Tells a process from a later one given the same id: a container restarted
 * after a kill gives its process the same small pid.
 */
export async function processStart(pid: number): Promise<string | undefined> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  // Fields after the command name, which is in parentheses and may hold spaces: state is field 3.
  const start = text?.slice(text.lastIndexOf(')') + 2).split(' ')[22 - 3];
  return start !== undefined && /^\d+$/.test(start) ? start : undefined;
}

/**
 * The writer of a temp file: its process id, that process's start ('0' where unknown) and `host`, a
 * hash of the host name, the machine id (/etc/machine-id: two machines may share a name) and the PID
 * namespace (/proc/self/ns/pid): process ids are checked only where they mean the same process, not
 * for a file another machine or container writes on a shared folder.
 */
export interface TempFileWriter {
  pid: number;
  start: string;
  host: string;
}

let thisWriterOnce: Promise<TempFileWriter> | undefined;

/** This process as a TempFileWriter (computed once). */
export function thisWriter(): Promise<TempFileWriter> {
  thisWriterOnce ??= processStart(process.pid).then((start) => {
    const read = (get: () => string) => {
      try {
        return get().trim();
      } catch {
        return ''; // not on this system: the rest of the hash
      }
    };
    const machine = read(() => readFileSync('/etc/machine-id', 'utf8'));
    const pidNamespace = read(() => readlinkSync('/proc/self/ns/pid'));
    const host = createHash('sha256').update(`${hostname()}\0${machine}\0${pidNamespace}`).digest('hex').slice(0, 8);
    return { pid: process.pid, start: start ?? '0', host };
  });
  return thisWriterOnce;
}

/**
 * The temp file of an atomic write of `path`: `<dir>/.<name>.<pid>.<start>.<host>.<random>.tmp`,
 * hidden beside its target (so the rename stays on one file system), naming its writer so that a
 * later process tells a killed writer's leftover from a write in progress (tempFileWriterState).
 */
export function tempFilePath(path: string, writer: TempFileWriter): string {
  return join(dirname(path), `.${basename(path)}.${writer.pid}.${writer.start}.${writer.host}.${Math.random().toString(36).slice(2)}.tmp`);
}

const TEMP_FILE = /^\.(.+)\.(\d+)\.(\d+)\.([0-9a-f]{8})\.[a-z0-9]*\.tmp$/;
/** The name before the writer's start and host were in it: `.<name>.<pid>.<random>.tmp`. */
const TEMP_FILE_PID_ONLY = /^\.(.+)\.(\d+)\.[a-z0-9]*\.tmp$/;

/**
 * The target's name and the writer of a temp file named by tempFilePath (start and host absent in
 * the older name that held only the pid); undefined for any other name.
 */
export function parseTempFileName(name: string): { target: string; writer: { pid: number; start?: string; host?: string } } | undefined {
  const m = TEMP_FILE.exec(name);
  if (m) return { target: m[1]!, writer: { pid: Number(m[2]), start: m[3] === '0' ? undefined : m[3], host: m[4] } };
  const old = TEMP_FILE_PID_ONLY.exec(name);
  return old ? { target: old[1]!, writer: { pid: Number(old[2]) } } : undefined;
}

/**
 * 'gone' when the writer of a temp file has ended, so the file is a leftover (its write was killed:
 * kill -9, a crash, a power loss); 'running' while its process runs (that id, started then);
 * 'elsewhere' for another machine's or container's, which cannot be checked from here.
 */
export async function tempFileWriterState(writer: { pid: number; start?: string; host?: string }): Promise<'gone' | 'running' | 'elsewhere'> {
  const me = await thisWriter();
  if (writer.host !== undefined && writer.host !== me.host) return 'elsewhere';
  const known = (start: string | undefined) => start !== undefined && start !== '0';
  // This process's id but another start: an earlier process of a restarted container.
  if (writer.pid === me.pid) return known(writer.start) && known(me.start) && writer.start !== me.start ? 'gone' : 'running';
  if (!processAlive(writer.pid)) return 'gone';
  if (!known(writer.start)) return 'running';
  const now = await processStart(writer.pid);
  return now !== undefined && now !== writer.start ? 'gone' : 'running';
}

export interface LeftoverTempFile {
  path: string;
  bytes: number;
  pid: number;
}

/**
 * Removes the temp files in `dir` (only those of writes of `target`, when given) whose writer is gone,
 * never one still being written. Returns them, and those of writers elsewhere (another machine or
 * container: kept, as their write may be in progress), for the caller to tell.
 */
export async function removeLeftoverTempFiles(dir: string, target?: string): Promise<{ removed: LeftoverTempFile[]; elsewhere: LeftoverTempFile[] }> {
  const removed: LeftoverTempFile[] = [];
  const elsewhere: LeftoverTempFile[] = [];
  const names = await readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    const parsed = parseTempFileName(name);
    if (!parsed || (target !== undefined && parsed.target !== target)) continue;
    const state = await tempFileWriterState(parsed.writer);
    if (state === 'running') continue;
    const path = join(dir, name);
    const bytes = await stat(path).then((st) => (st.isFile() ? st.size : undefined), () => undefined);
    if (bytes === undefined) continue;
    const file = { path, bytes, pid: parsed.writer.pid };
    if (state === 'elsewhere') {
      elsewhere.push(file);
      continue;
    }
    // A folder this process may not write (a shared, read-only dataset): the file stays, said nowhere.
    if (await rm(path).then(() => true, () => false)) removed.push(file);
  }
  return { removed, elsewhere };
}

/**
 * Removes the leftovers of killed writes of `path` beside it (removeLeftoverTempFiles), telling
 * `say` of each, and of those kept as another machine's; `what` names the file in the note.
 */
export async function removeLeftoversOf(path: string, say: ((line: string) => void) | undefined, what = path): Promise<void> {
  const { removed, elsewhere } = await removeLeftoverTempFiles(dirname(path), basename(path));
  for (const f of removed) say?.(`removed ${f.path} (${formatBytes(f.bytes)}), left by process ${f.pid}, which was stopped while writing ${what}`);
  for (const f of elsewhere) say?.(leftoverElsewhereNote(f));
}

/** The note for a temp file of another machine's or container's write, kept: what it is and when to delete it. */
export function leftoverElsewhereNote(f: LeftoverTempFile): string {
  return `kept ${f.path} (${formatBytes(f.bytes)}): the temp file of a write by process ${f.pid} of another machine or container, in progress or stopped there; delete it if no tessera runs there`;
}

/** The longest file name of common file systems (ext4, XFS, Btrfs, APFS: 255 bytes). */
const NAME_MAX = 255;

/**
 * Writes to a temp file beside `path` (tempFilePath), then fsyncs and renames over `path`: readers never
 * see half a file. `abort()` (an extra the writers call when their producer fails) removes the temp file.
 */
export async function openAtomicFileSink(path: string): Promise<ByteSink & { abort(): Promise<void> }> {
  const dir = dirname(path);
  // Checked before writing: rename would fail only at the end, after the whole file was written.
  const target = await stat(path).catch(() => undefined);
  if (target?.isDirectory()) throw new TesseraError('INVALID_ARGUMENT', `cannot write ${path}: it is a directory; give a file path`);
  const tmp = tempFilePath(path, await thisWriter());
  let handle: FileHandle;
  try {
    handle = await open(tmp, 'w');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new TesseraError('NOT_FOUND', `cannot write ${path}: the directory ${dir} does not exist; create it first`, { cause: e });
    if (code === 'ENOTDIR') throw new TesseraError('INVALID_ARGUMENT', `cannot write ${path}: a part of ${dir} is a file, not a directory`, { cause: e });
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
      throw new TesseraError('INVALID_ARGUMENT', `cannot write ${path}: no permission to create files in ${dir} (${code})`, { cause: e });
    }
    // A name the file system takes, but not with the temp file's writer id around it: the raw error
    // named only the hidden temp file, and the CLI printed its stack as if a bug.
    const nameBytes = Buffer.byteLength(basename(path));
    const added = Buffer.byteLength(basename(tmp)) - nameBytes;
    if (code === 'ENAMETOOLONG' && nameBytes + added > NAME_MAX) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `cannot write ${path}: its name (${nameBytes} bytes) is too long for the temp file written beside it first, which adds ${added} bytes, past the ${NAME_MAX} a file name may have: give it a name of at most ${NAME_MAX - added} bytes`,
        { cause: e },
      );
    }
    // No room for even an empty file (no free inodes, a quota): the raw error named only the temp file.
    throw writeFailure(path, e, `${path} is as it was.`);
  }
  trackWrite(tmp, true);
  let failed = false;
  /** Why a write or close failed: a later write or close throws it again, as nothing was written. */
  let failure: { error: unknown } | undefined;
  const kept = `${path} is as it was before this write: no partial file was left.`;
  /** Closes and removes the temp file, leaving the target as it was. */
  const discard = async () => {
    failed = true;
    await handle.close().catch(() => {});
    await rm(tmp, { force: true });
    trackWrite(tmp, false);
  };
  const fail = async (e: unknown) => {
    await discard();
    failure = { error: writeFailure(path, e, kept) };
    return failure.error;
  };
  return {
    async write(chunk: Uint8Array) {
      if (failure) throw failure.error;
      try {
        let done = 0;
        while (done < chunk.length) {
          const { bytesWritten } = await handle.write(chunk, done, chunk.length - done);
          done += bytesWritten;
        }
      } catch (e) {
        throw await fail(e);
      }
    },
    async close() {
      // after a failed write nothing was written: close returned as if the file were
      if (failure) throw failure.error;
      if (failed) return;
      try {
        await handle.sync();
        await handle.close();
        await rename(tmp, path);
        trackWrite(tmp, false);
      } catch (e) {
        throw await fail(e);
      }
    },
    async abort() {
      if (!failed) await discard();
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
