/**
 * `tessera build`: a jsonl corpus -> passage embeddings -> a FAISS index file `<index-type>.index`
 * plus the corpus offset table, in an output folder. Node-only (files).
 *
 * The corpus is streamed (src/io/corpus.ts reads it by row through its offset table, never whole),
 * encoded in batches, and the vectors are appended to a checkpoint folder `<out>/.tessera-build/`:
 *   vectors.f32  rows x dim float32, appended one batch at a time
 *   bad.jsonl    the bad rows, one {"row", "reason"} a line, appended one batch at a time
 *   state.json   rows done, bad rows (count, bytes of bad.jsonl), what was built (corpus size+mtime
 *                and the sha256 of the bytes of the rows done, model, dim): written atomically after
 *                the batch's vectors and bad rows are on disk
 * A rerun with the same corpus and model resumes at state.json's row count (after hashing those rows'
 * bytes again: an edit that kept size and mtime is refused, naming --restart), first cutting
 * vectors.f32 and bad.jsonl back to what the state records: those of a batch whose state was never recorded
 * (a crash between the two writes) are dropped and encoded again, so a crash loses nothing and
 * duplicates nothing. The index and the table are written atomically at the end, then the
 * checkpoint folder is removed.
 *
 * Row i of the index is row i of the corpus (its i-th non-empty line), as Search-R1's server assumes.
 * So a bad row (not JSON, or no string "contents" nor "text") cannot be skipped: it is reported with its line
 * number and indexed as a zero vector (it scores 0 against every query), unless `strict` makes it fatal.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { createReadStream, readFileSync, rmSync } from 'node:fs';
import { access, constants, link, mkdir, open, readdir, readFile, rename, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { isUtf8 } from 'node:buffer';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { TesseraError, formatBytes } from '../core/errors.js';
import { defaultTrainSize, factoryDescription, indexFactory, parseFactoryString, type IndexSpec } from '../core/factory.js';
import type { ProgressCallback } from '../core/types.js';
import { lineNumbersOf, NON_UTF8_LISTED, nonUtf8Note, openCorpus, type Corpus } from '../io/corpus.js';
import { writeFlatIndex } from '../io/faiss/flat.js';
import { leftoverElsewhereNote, openAtomicFileSink, processAlive, processStart, removeLeftoverTempFiles, writeFailure } from '../io/node-fs.js';
import { writeIndex } from '../io/read-index.js';
import { TextTooLongError } from './tokenizer.js';
import type { TextEncoder } from './types.js';

export { lineNumbersOf };

export interface BuildOptions {
  corpus: string;
  /** Output folder (created): `<indexType>.index`, `<corpus name>.offsets`, build.json. */
  out: string;
  /** The passage encoder (its `dim` fixes the index's). */
  encoder: TextEncoder;
  /** FAISS factory string (default "Flat"): Flat, HNSW<M>, IVF<nlist>,Flat, IVF<nlist>,SQ8, SQ8. */
  indexType?: string;
  /** Passages per encoder call and per checkpoint (default 64); a resume may use another: a passage's vector does not depend on its batch. */
  batch?: number;
  /** A bad row fails the build instead of being reported and indexed as a zero vector; so does a row that is not UTF-8 (else encoded with U+FFFD and reported). */
  strict?: boolean;
  /** Ignore an existing checkpoint and start over. */
  restart?: boolean;
  /** Identifies the model in the checkpoint, so a resume with another model starts over. */
  modelKey?: string;
  /** Where the encoder runs ('wasm', 'native', 'webgpu'): a resume on another is told (vectors differ in the last bits), not refused. */
  runtime?: string;
  onProgress?: ProgressCallback;
  /** Human-readable notes (resume, bad rows). */
  say?: (line: string) => void;
  /**
   * Stops the build at the next checkpoint (after the batch being encoded is on disk), saying what the
   * checkpoint keeps, and rejects with the signal's reason; the rerun resumes there.
   */
  signal?: AbortSignal;
  /** Called after each checkpoint with the rows done (tests use it to simulate a crash). */
  onCheckpoint?: (rowsDone: number) => void | Promise<void>;
}

export interface BadRow {
  /** 0-based row (index id). */
  row: number;
  /** 1-based line number in the file. */
  line: number;
  reason: string;
}

export interface BuildResult {
  index: string;
  offsets: string;
  manifest: string;
  rows: number;
  dim: number;
  indexType: string;
  badRows: BadRow[];
  /** Rows that are not valid UTF-8, encoded with U+FFFD for their bad bytes: how many, and the first few. */
  nonUtf8Rows: { count: number; first: { row: number; line: number }[] };
  /** Rows found already encoded in a checkpoint. */
  resumedFrom: number;
}

interface State {
  version: typeof STATE_VERSION;
  /** sha256: of the corpus's bytes from row 0's start to row rowsDone's, the rows the checkpoint holds. */
  corpus: { size: number; mtimeMs: number; sha256: string };
  model: string;
  dim: number;
  indexType: string;
  rowsDone: number;
  /** Bad rows among the rows done, and the bytes of bad.jsonl that list them (one {"row", "reason"} a line). */
  bad: { count: number; bytes: number };
  /** Rows done that are not valid UTF-8: how many, and the first NON_UTF8_LISTED. */
  nonUtf8: { count: number; rows: number[] };
  /** BuildOptions.runtime of the run that made the checkpoint. */
  runtime?: string;
}

const CHECKPOINT_DIR = '.tessera-build';
/** 2: the corpus hash; vectors padded per text (encoder.ts), so version 1's are not mixed with them. */
const STATE_VERSION = 2;
/** Beside the checkpoint folder, not in it: a fresh start removes that folder. */
const LOCK_FILE = '.tessera-build.lock';
/** Bytes a read when hashing the corpus part a checkpoint holds. */
const HASH_CHUNK = 8 << 20;
/** Rows read back from vectors.f32 per chunk when writing the index. */
const READ_ROWS = 16384;

/** A {"title", "text"} row's passage in wiki-18's contents form: "\"title\"\ntext" (the text alone without a title). */
export function titledText(title: unknown, text: string): string {
  return typeof title === 'string' && title !== '' ? `"${title}"\n${text}` : text;
}

/**
 * A passage the encoder refuses (TextTooLongError: too long for a tokenizer that cannot stop early)
 * as a bad row, checked alone: in its batch it failed the whole build, after hours of encoding.
 */
function tooLongPassage(p: { text: string } | { error: string }, enc: TextEncoder): { text: string } | { error: string } {
  if ('error' in p || !enc.check) return p;
  try {
    enc.check(p.text, { prefix: 'passage' });
  } catch (e) {
    if (e instanceof TextTooLongError) return { error: e.message };
    throw e;
  }
  return p;
}

/**
 * The passage text of a jsonl row, or why it is not usable: its string "contents" (Search-R1's
 * wiki-18: "\"Title\"\ntext"), else a string "text" joined to a string "title" in that same form
 * (BEIR, DPR and KILT-style corpora carry {"title", "text"}; this way such a row of a wiki-18
 * passage is encoded exactly as its wiki-18 row), else a "text" alone.
 */
export function passageOf(line: string): { text: string } | { error: string } {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    return { error: `not JSON (${(e as Error).message})` };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { error: 'not a JSON object' };
  const { contents, title, text } = v as { contents?: unknown; title?: unknown; text?: unknown };
  if (typeof contents === 'string') return { text: contents };
  if (contents === undefined && typeof text === 'string') return { text: titledText(title, text) };
  const got = contents !== undefined ? ` (its "contents" is ${contents === null ? 'null' : typeof contents})` : text !== undefined ? ` (its "text" is ${text === null ? 'null' : typeof text})` : '';
  return { error: `no string "contents" (or "title" + "text") field${got}` };
}

/**
 * What differs between a checkpoint and this build, for the note that says why it starts over;
 * undefined when the checkpoint is this build's and can be resumed.
 */
function checkpointMismatch(old: State, fresh: State, rows: number): string | undefined {
  if (old.version !== STATE_VERSION) return `checkpoint version ${String(old.version)}, made by another version of tessera`;
  if (old.corpus?.size !== fresh.corpus.size || old.corpus?.mtimeMs !== fresh.corpus.mtimeMs) return 'the corpus changed since (size or modification time)';
  if (old.model !== fresh.model) return `model ${old.model}, now ${fresh.model}`;
  if (old.dim !== fresh.dim) return `${old.dim} dims, now ${fresh.dim}`;
  if (old.rowsDone > rows) return `${old.rowsDone} rows done of a corpus of ${rows}`;
  return undefined;
}

/**
 * The checkpoint's state; undefined when there is none, 'damaged' when it is not a state this build
 * wrote (a hand edit, a disk error): every field is checked before a resume trusts it.
 */
async function readState(path: string): Promise<State | 'damaged' | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined; // killed before the first state write: nothing to resume
  }
  try {
    const v = JSON.parse(text) as State;
    const isCount = (n: unknown) => Number.isSafeInteger(n) && (n as number) >= 0;
    const ok =
      typeof v === 'object' && v !== null && isCount(v.rowsDone) && isCount(v.dim) && typeof v.model === 'string' &&
      typeof v.corpus === 'object' && v.corpus !== null && Number.isFinite(v.corpus.size) && Number.isFinite(v.corpus.mtimeMs) &&
      (v.version !== STATE_VERSION || (typeof v.corpus.sha256 === 'string' && /^[0-9a-f]{64}$/.test(v.corpus.sha256))) &&
      (v.runtime === undefined || typeof v.runtime === 'string') &&
      typeof v.bad === 'object' && v.bad !== null && isCount(v.bad.count) && v.bad.count <= v.rowsDone && isCount(v.bad.bytes) &&
      (v.version !== STATE_VERSION ||
        (typeof v.nonUtf8 === 'object' && v.nonUtf8 !== null && isCount(v.nonUtf8.count) && Array.isArray(v.nonUtf8.rows) && v.nonUtf8.rows.every((r) => isCount(r) && r < v.rowsDone)));
    return ok ? v : 'damaged';
  } catch {
    return 'damaged';
  }
}

/** Temp + fsync + rename (io/node-fs.ts): a crash or power loss leaves the old state or the new, never half. */
async function writeAtomic(path: string, text: string): Promise<void> {
  const sink = await openAtomicFileSink(path);
  try {
    await sink.write(Buffer.from(text, 'utf8'));
  } catch (e) {
    await sink.abort();
    throw e;
  }
  await sink.close();
}

/**
 * Refuses an output folder that is a file, or lies under one, or cannot be written (INVALID_ARGUMENT
 * naming it), before a model is loaded for a build that could not write its results: mkdir's raw
 * EEXIST / ENOTDIR said neither which path nor what to pass, and a read-only --out (a mounted dataset
 * folder) failed only once the model had loaded, minutes for e5 on CPU.
 */
export async function checkOutFolder(out: string): Promise<void> {
  const s = await stat(out).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined; // created by the build
    if (e.code === 'ENOTDIR') throw outIsNotFolder(out, 'under a file', e);
    throw e;
  });
  if (s && !s.isDirectory()) throw outIsNotFolder(out, 'a file');
  // The folder, or the nearest one above it that exists (where the build creates it), must take new files.
  let dir = resolve(out);
  while (!s && dirname(dir) !== dir && !(await stat(dir).then((d) => d.isDirectory(), () => false))) dir = dirname(dir);
  await access(dir, constants.W_OK).catch((e: NodeJS.ErrnoException) => {
    const where = dir === resolve(out) ? '' : ` (it would be created in ${dir})`;
    throw new TesseraError('INVALID_ARGUMENT', `--out ${out} cannot be written${where}: ${e.code === 'EROFS' ? 'a read-only file system' : 'no permission'} (${e.code}); pass a folder you can write`, { cause: e });
  });
}

async function makeOutFolder(out: string): Promise<void> {
  await checkOutFolder(out);
  await mkdir(out, { recursive: true }).catch((e: NodeJS.ErrnoException) => {
    throw e.code === 'EEXIST' ? outIsNotFolder(out, 'a file', e) : e.code === 'ENOTDIR' ? outIsNotFolder(out, 'under a file', e) : e;
  });
}

function outIsNotFolder(out: string, what: 'a file' | 'under a file', cause?: unknown): TesseraError {
  return new TesseraError(
    'INVALID_ARGUMENT',
    `--out ${out} is ${what}, not a folder: pass a folder for the index, the offset table and build.json (created when missing)`,
    { cause },
  );
}

interface LockHolder {
  text: string;
  pid?: number;
  host?: unknown;
  /** processStart of the holder when it took the lock. */
  start?: string;
}

/** The lock's text as read, and the holder it names (none when unreadable: nobody holds it). */
async function readLock(path: string): Promise<LockHolder | undefined> {
  const text = await readFile(path, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const holder = JSON.parse(text) as { pid?: unknown; host?: unknown; start?: unknown };
    return { text, pid: typeof holder.pid === 'number' ? holder.pid : undefined, host: holder.host, start: typeof holder.start === 'string' ? holder.start : undefined };
  } catch {
    return { text }; // an empty lock left by a version that created it before writing it
  }
}

/**
 * Throws INVALID_ARGUMENT when the lock names a build that may still run: another host's, or a live
 * process here that started when the lock's holder did (a later process given the same id is not it).
 */
async function refuseLiveHolder(out: string, path: string, lock: LockHolder): Promise<void> {
  const { pid, host } = lock;
  if (pid !== undefined && host !== hostname()) {
    throw new TesseraError('INVALID_ARGUMENT', `--out ${out} is locked by a build on ${String(host)} (process ${pid}, ${path}): wait for it, or delete ${path} if that build is gone`);
  }
  if (pid === undefined || !processAlive(pid)) return;
  const start = lock.start === undefined ? undefined : await processStart(pid);
  if (start !== undefined && start !== lock.start) return;
  throw new TesseraError('INVALID_ARGUMENT', `--out ${out} is in use by another build (process ${pid}, ${path}): wait for it to finish, or build into another --out`);
}

/**
 * Refuses an --out whose lock a running build holds (INVALID_ARGUMENT naming its process): the CLI
 * asks before loading the model, which takes minutes for e5 on CPU.
 */
export async function checkOutNotLocked(out: string): Promise<void> {
  const path = join(out, LOCK_FILE);
  const lock = await readLock(path);
  if (lock !== undefined) await refuseLiveHolder(out, path, lock);
}

/** Files of this process's locks: held locks (path -> the text written), private and takeover files. */
const heldLocks = new Map<string, string>();
const lockScratch = new Set<string>();

/**
 * Removes this process's build locks and their private files, for an exit that does not wait for
 * the build's own release (a second Ctrl-C). A lock is removed only while it still holds this
 * process's text. Synchronous, so it runs before `process.exit`.
 */
export function releaseBuildLocksSync(): void {
  for (const file of lockScratch) rmSync(file, { force: true });
  lockScratch.clear();
  for (const [path, me] of heldLocks) {
    try {
      if (readFileSync(path, 'utf8') === me) rmSync(path, { force: true });
    } catch {
      // gone already
    }
  }
  heldLocks.clear();
}

/** How long a build waits for another's takeover of a stale lock to finish before judging it interrupted. */
const TAKEOVER_WAIT_MS = 2000;

/**
 * Takes `<out>/.tessera-build.lock` (holding pid and host) for the whole build: two builds into one
 * folder appended to the same vectors.f32 and overwrote each other's state, an index of mixed or
 * duplicated rows. The lock is written to a private file first and linked into place, so it never
 * exists half-written and link's EEXIST says who was first. A lock whose build is gone is taken over
 * under `<lock>.takeover` (created exclusively): of builds that judge one stale lock at once, exactly
 * one replaces it (rename over it, after checking it is still the stale one); the others wait for that
 * and then find it held. Returns the release.
 */
async function lockOutFolder(out: string, say: (line: string) => void): Promise<() => Promise<void>> {
  const path = join(out, LOCK_FILE);
  const takeover = `${path}.takeover`;
  const mine = `${path}.${process.pid}-${randomBytes(4).toString('hex')}`;
  const start = await processStart(process.pid);
  const me = JSON.stringify({ pid: process.pid, host: hostname(), ...(start !== undefined ? { start } : {}) });
  lockScratch.add(mine);
  await writeFile(mine, me, { flag: 'wx' });
  const release = async () => {
    await rm(path, { force: true });
    heldLocks.delete(path);
  };
  const held = () => {
    heldLocks.set(path, me);
    return release;
  };
  try {
    for (;;) {
      if (await createLock(mine, path, me)) return held();
      const stale = await readLock(path);
      if (stale === undefined) continue; // released between the link and the read: try again
      await refuseLiveHolder(out, path, stale);
      let mutex;
      try {
        mutex = await open(takeover, 'wx');
        lockScratch.add(takeover);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        await waitForTakeover(out, takeover);
        continue; // the lock is now the winner's: the next pass refuses it
      }
      try {
        await mutex.writeFile(me);
        // Judged stale before the mutex was ours: another build may have taken it over since.
        const now = await readLock(path);
        if (now === undefined || now.text !== stale.text) continue;
        await rename(mine, path);
        say(`taking over ${path}: the build that held it${stale.pid !== undefined ? ` (process ${stale.pid})` : ''} is gone`);
        return held();
      } finally {
        await mutex.close();
        await rm(takeover, { force: true });
        lockScratch.delete(takeover);
      }
    }
  } finally {
    await rm(mine, { force: true });
    lockScratch.delete(mine);
  }
}

/** Link errors of file systems without hard links (FAT, exFAT, some network shares). */
const NO_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/**
 * Puts the lock in place unless one exists (false then): links the private file `mine` to `path`;
 * where the file system has no hard links, creates `path` exclusively and writes it.
 */
async function createLock(mine: string, path: string, me: string): Promise<boolean> {
  try {
    await link(mine, path);
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (!NO_LINKS.has(code ?? '')) throw e;
  }
  try {
    await writeFile(path, me, { flag: 'wx' });
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

/** Waits for another build's takeover to end; a takeover file that outlives the wait was left by a killed build. */
async function waitForTakeover(out: string, takeover: string): Promise<void> {
  const until = Date.now() + TAKEOVER_WAIT_MS;
  while (Date.now() < until) {
    await new Promise((r) => setTimeout(r, 20));
    if (!(await stat(takeover).then(() => true, () => false))) return;
  }
  throw new TesseraError(
    'INVALID_ARGUMENT',
    `--out ${out}: a build taking over its stale lock did not finish (${takeover} is still there after ${TAKEOVER_WAIT_MS / 1000} s; it was killed while doing so): delete ${takeover} if no build runs into this --out, then rerun`,
  );
}

export async function buildIndex(opts: BuildOptions): Promise<BuildResult> {
  const say = opts.say ?? (() => {});
  const spec = parseFactoryString(opts.indexType ?? 'Flat');
  // The file is named after it: "IVF8, SQ8" as typed named it "IVF8, SQ8.index".
  const indexType = factoryDescription(spec);
  const batch = opts.batch ?? 64;
  if (!Number.isInteger(batch) || batch < 1) throw new TesseraError('INVALID_ARGUMENT', `--batch must be a positive integer, got ${opts.batch}`);

  await makeOutFolder(opts.out);
  const unlock = await lockOutFolder(opts.out, say);
  try {
    return await buildLocked(opts, say, indexType, spec, batch);
  } finally {
    await unlock();
  }
}

/** Private lock files (lockOutFolder's `mine`), each naming its process. */
const LOCK_SCRATCH = /^\.tessera-build\.lock\.(\d+)-[0-9a-f]+$/;

/**
 * Removes, with a note, the temp files of atomic writes (io/node-fs.ts) and private lock files that a
 * build killed mid-write (kill -9, a crash, a power loss) left in `dirs`: hidden, and a temp index is
 * up to the index's size. Only those of processes that are gone; the lock keeps other builds out of
 * these folders meanwhile.
 */
async function removeLeftovers(dirs: string[], say: (line: string) => void): Promise<void> {
  const told = (path: string, bytes: number, pid: number) => say(`removed ${path} (${formatBytes(bytes)}), left by a build (process ${pid}) that was stopped while writing it`);
  for (const dir of dirs) {
    const { removed, elsewhere } = await removeLeftoverTempFiles(dir);
    for (const f of removed) told(f.path, f.bytes, f.pid);
    for (const f of elsewhere) say(leftoverElsewhereNote(f));
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      const pid = Number(LOCK_SCRATCH.exec(name)?.[1]);
      if (!Number.isInteger(pid) || pid === process.pid || processAlive(pid)) continue;
      const path = join(dir, name);
      const size = await stat(path).then((st) => st.size, () => undefined);
      if (size === undefined) continue;
      await rm(path, { force: true });
      told(path, size, pid);
    }
  }
}

async function buildLocked(opts: BuildOptions, say: (line: string) => void, indexType: string, spec: IndexSpec, batch: number): Promise<BuildResult> {
  const enc = opts.encoder;
  const dim = enc.dim;
  const rowBytes = dim * 4;
  const ckDir = join(opts.out, CHECKPOINT_DIR);
  await removeLeftovers([opts.out, ckDir], say);
  const vectorsPath = join(ckDir, 'vectors.f32');
  const badPath = join(ckDir, 'bad.jsonl');
  const statePath = join(ckDir, 'state.json');
  const offsetsPath = join(opts.out, `${basename(opts.corpus)}.offsets`);
  // Not checkUtf8: the rows are checked as they are encoded (also those of a resume, whose table is reused).
  const corpus = await openCorpus(opts.corpus, { offsetsPath, onProgress: opts.onProgress, signal: opts.signal, checkUtf8: false, say });
  try {
    const cs = await stat(opts.corpus);
    const fresh: State = {
      version: STATE_VERSION,
      corpus: { size: cs.size, mtimeMs: cs.mtimeMs, sha256: createHash('sha256').digest('hex') },
      model: opts.modelKey ?? enc.name,
      dim,
      indexType,
      rowsDone: 0,
      bad: { count: 0, bytes: 0 },
      nonUtf8: { count: 0, rows: [] },
      ...(opts.runtime !== undefined ? { runtime: opts.runtime } : {}),
    };
    let state = fresh;
    /** Running sha256 of the corpus bytes of the rows encoded so far (State.corpus.sha256). */
    const hash = createHash('sha256');
    const read = opts.restart ? undefined : await readState(statePath);
    if (read === 'damaged') say(`checkpoint in ${ckDir} is damaged (state.json is not a state build wrote): starting over`);
    const old = read === 'damaged' ? undefined : read;
    const mismatch = old && checkpointMismatch(old, fresh, corpus.rows);
    if (old && mismatch === undefined) {
      const have = await stat(vectorsPath).then((s) => s.size, () => -1);
      const haveBad = await stat(badPath).then((s) => s.size, () => -1);
      if (have >= old.rowsDone * rowBytes && haveBad >= old.bad.bytes) {
        state = { ...old, indexType };
      } else {
        say(`checkpoint in ${ckDir} is damaged (vectors.f32 or bad.jsonl shorter than its state): starting over`);
      }
    } else if (old) {
      say(`checkpoint in ${ckDir} is for another corpus or model (${mismatch}): starting over, its vectors are not mixed with these`);
    }
    if (state === fresh) {
      await rm(ckDir, { recursive: true, force: true });
      await mkdir(ckDir, { recursive: true });
      await writeFile(vectorsPath, new Uint8Array(0));
      await writeFile(badPath, new Uint8Array(0));
      await writeAtomic(statePath, JSON.stringify(state));
    } else {
      await checkEncodedRows(opts.corpus, corpus, state, hash, ckDir, opts.onProgress, opts.signal);
      // Drop vectors of a batch whose state write never happened: they are encoded again below.
      await truncate(vectorsPath, state.rowsDone * rowBytes);
      await truncate(badPath, state.bad.bytes);
      say(`resuming: ${state.rowsDone} of ${corpus.rows} rows already encoded (checkpoint ${ckDir})`);
      if (state.runtime !== undefined && opts.runtime !== undefined && state.runtime !== opts.runtime) {
        say(`the checkpoint's rows were encoded on ${state.runtime}, the rest will be on ${opts.runtime}: their vectors differ in the last bits, so this index is not byte for byte one build's; --restart (or --encoder ${state.runtime}) for that`);
      }
    }
    const resumedFrom = state.rowsDone;
    const total = corpus.rows;
    if (total === 0) throw new TesseraError('INVALID_ARGUMENT', `corpus ${opts.corpus} has no rows: expected one JSON object a line with a "contents" field`);
    // Said before encoding: k-means refused it only after the whole corpus had been encoded.
    if (spec.kind === 'ivf' && total < spec.nlist) {
      throw new TesseraError('INVALID_ARGUMENT', `--index-type ${indexType} needs at least nlist = ${spec.nlist} rows to train, ${opts.corpus} has ${total}: use a smaller nlist (FAISS recommends 39 x nlist rows or more), or Flat`);
    }

    await checkSomeRowHasPassage(opts.corpus, corpus);

    const phase = 'encoding passages';
    opts.onProgress?.({ phase, done: state.rowsDone, total, unit: 'rows' });
    const sink = await open(vectorsPath, 'a');
    // Bad rows are appended, not kept in state.json: rewritten whole at every checkpoint, a list of
    // 100k bad rows took 40 s at batch 64, and a corpus in the wrong format (every row bad) never ended.
    const badSink = await open(badPath, 'a').catch(async (e: unknown) => {
      await sink.close();
      throw e;
    });
    try {
      let texts: string[] = [];
      let rows: number[] = [];
      const bad: { row: number; reason: string }[] = [];
      const nonUtf8: number[] = [];
      // Rows read since the last hash update, as one range of the chunk they came in: an update a row cost more than the hashing.
      let run: { buf?: ArrayBufferLike; start: number; end: number } = { start: 0, end: 0 };
      const hashRun = () => {
        if (run.buf && run.end > run.start) hash.update(new Uint8Array(run.buf, run.start, run.end - run.start));
        run = { start: 0, end: 0 };
      };
      const flush = async () => {
        const vectors = new Float32Array(rows.length * dim);
        const good = texts.map((t, i) => [t, i] as const).filter(([t]) => t !== undefined);
        if (good.length > 0) {
          const v = await enc.encode(good.map(([t]) => t), { prefix: 'passage' });
          good.forEach(([, i], j) => vectors.set(v.subarray(j * dim, (j + 1) * dim), i * dim));
        }
        const badText = Buffer.from(bad.map((b) => `${JSON.stringify(b)}\n`).join(''), 'utf8');
        try {
          await sink.write(new Uint8Array(vectors.buffer));
          await sink.sync();
          if (badText.length > 0) {
            await badSink.write(badText);
            await badSink.sync();
          }
        } catch (e) {
          throw writeFailure(vectorsPath, e, `The checkpoint keeps the ${state.rowsDone} rows encoded before: rerun the same command to resume from there.`);
        }
        hashRun();
        state = {
          ...state,
          corpus: { ...state.corpus, sha256: hash.copy().digest('hex') },
          rowsDone: state.rowsDone + rows.length,
          bad: { count: state.bad.count + bad.length, bytes: state.bad.bytes + badText.length },
          nonUtf8: { count: state.nonUtf8.count + nonUtf8.length, rows: [...state.nonUtf8.rows, ...nonUtf8].slice(0, NON_UTF8_LISTED) },
        };
        await writeAtomic(statePath, JSON.stringify(state));
        texts = [];
        rows = [];
        bad.length = 0;
        nonUtf8.length = 0;
        opts.onProgress?.({ phase, done: state.rowsDone, total, unit: 'rows' });
        await opts.onCheckpoint?.(state.rowsDone);
        stopIfAborted();
      };
      const stopIfAborted = () => {
        if (!opts.signal?.aborted) return;
        say(`interrupted: ${state.rowsDone} of ${total} rows are in the checkpoint ${ckDir}; rerun the same command to resume from there`);
        throw opts.signal.reason;
      };
      stopIfAborted();
      for await (const { row, text, bytes } of corpus.iterate(state.rowsDone)) {
        if (run.buf === bytes.buffer && run.end === bytes.byteOffset) run.end += bytes.length;
        else {
          hashRun();
          run = { buf: bytes.buffer, start: bytes.byteOffset, end: bytes.byteOffset + bytes.length };
        }
        if (!isUtf8(bytes)) {
          if (opts.strict) {
            const line = (await lineNumbersOf(opts.corpus, [row])).get(row);
            throw new TesseraError('FORMAT', `${opts.corpus}:${line}: not UTF-8 (bytes that would be read as U+FFFD); convert the corpus (iconv -f <its encoding> -t UTF-8), or drop --strict to encode the row with U+FFFD in their place and go on`);
          }
          nonUtf8.push(row);
        }
        const p = tooLongPassage(passageOf(text), enc);
        if ('error' in p) {
          if (opts.strict) {
            const line = (await lineNumbersOf(opts.corpus, [row])).get(row);
            throw new TesseraError('FORMAT', `${opts.corpus}:${line}: ${p.error}; fix the row, or drop --strict to index it as a zero vector and go on`);
          }
          bad.push({ row, reason: p.error });
          texts.push(undefined as unknown as string);
        } else {
          texts.push(p.text);
        }
        rows.push(row);
        if (rows.length === batch) await flush();
      }
      if (rows.length > 0) await flush();
    } finally {
      await sink.close();
      await badSink.close();
    }
    // An edit during the build (rows ahead rewritten in place) would leave rows of two versions of the corpus.
    const now = await stat(opts.corpus);
    if (now.size !== cs.size || now.mtimeMs !== cs.mtimeMs) {
      throw new TesseraError(
        'FORMAT',
        `corpus ${opts.corpus} changed while it was being encoded (its size or modification time now differ), so the rows encoded before and after the change may not go together: rerun the same command to encode the corpus as it is now, from the first row`,
      );
    }

    const badList = await readBadRows(badPath, state.bad.count);
    const lines = await lineNumbersOf(opts.corpus, [...badList.map((b) => b.row), ...state.nonUtf8.rows]);
    if (badList.length === total) {
      // An index of zero vectors answers every query with the same rows; never what was meant.
      const first = badList[0]!;
      throw new TesseraError(
        'FORMAT',
        `no row of ${opts.corpus} has a passage to encode (${total} bad rows; ${opts.corpus}:${lines.get(first.row) ?? first.row + 1}: ${first.reason}): ` +
          'expected one JSON object a line with a string "contents" (or "title" and "text") field',
      );
    }
    const badRows = badList.map((b) => ({ row: b.row, line: lines.get(b.row) ?? b.row + 1, reason: b.reason }));
    for (const b of badRows.slice(0, 20)) say(`${opts.corpus}:${b.line}: ${b.reason}; indexed as a zero vector (row ${b.row})`);
    if (badRows.length > 20) say(`... and ${badRows.length - 20} more bad rows (listed in build.json)`);
    const nonUtf8Rows = { count: state.nonUtf8.count, first: state.nonUtf8.rows.map((row) => ({ row, line: lines.get(row) ?? row + 1 })) };
    if (nonUtf8Rows.count > 0) say(nonUtf8Note(opts.corpus, nonUtf8Rows.count, nonUtf8Rows.first.map((r) => r.line)));

    const indexPath = join(opts.out, `${indexType}.index`);
    try {
      await writeIndexFile(indexPath, spec, vectorsPath, total, dim, opts.onProgress, opts.signal);
    } catch (e) {
      if (opts.signal?.aborted && e === opts.signal.reason) {
        say(`interrupted while writing ${indexPath}: all ${total} rows are in the checkpoint ${ckDir}; rerun the same command to write the index from there`);
      } else {
        // A full disk or too little memory for the index here: the error alone read as if the encoding (hours) were lost.
        say(`${indexPath} was not written, but all ${total} rows are in the checkpoint ${ckDir}: once the cause is fixed, rerun the same command (or one with another --index-type) to write the index from there without encoding again`);
      }
      throw e;
    }
    const manifest = join(opts.out, 'build.json');
    await writeAtomic(
      manifest,
      JSON.stringify(
        { corpus: opts.corpus, model: state.model, indexType, index: basename(indexPath), offsets: basename(offsetsPath), rows: total, dim, metric: 'ip', prefix: 'passage', badRows, nonUtf8Rows },
        null,
        2,
      ) + '\n',
    );
    await rm(ckDir, { recursive: true, force: true });
    return { index: indexPath, offsets: offsetsPath, manifest, rows: total, dim, indexType, badRows, nonUtf8Rows, resumedFrom };
  } finally {
    await corpus.close();
  }
}

/** Rows read, evenly spread, to tell a corpus in another format before encoding it. */
const FORMAT_SAMPLE = 1000;

/**
 * Fails (FORMAT) when none of FORMAT_SAMPLE rows spread over the corpus (all of a smaller one) has a
 * passage: a corpus in another format ({"id", "passage"}, bare strings) was read to its end, writing a
 * zero vector a row (64 GB for wiki-18's 21M rows at d=768), before the build said so.
 */
async function checkSomeRowHasPassage(path: string, corpus: Corpus): Promise<void> {
  const n = Math.min(corpus.rows, FORMAT_SAMPLE);
  const ids = [...new Set(Array.from({ length: n }, (_, i) => Math.floor((i * corpus.rows) / n)))];
  const texts = await corpus.rowsAt(ids);
  const reasons = texts.map((t) => passageOf(t));
  if (reasons.some((p) => !('error' in p))) return;
  const first = reasons[0] as { error: string };
  const line = (await lineNumbersOf(path, [ids[0]!])).get(ids[0]!);
  const which = ids.length === corpus.rows ? `no row of ${path}` : `no row of ${path} read (${ids.length} of its ${corpus.rows}, spread across it)`;
  throw new TesseraError(
    'FORMAT',
    `${which} has a passage to encode (${ids.length} bad rows; ${path}:${line}: ${first.error}): ` +
      'expected one JSON object a line with a string "contents" (or "title" and "text") field',
  );
}

/** The first `count` bad rows listed in the checkpoint's bad.jsonl (what its state records). */
async function readBadRows(path: string, count: number): Promise<{ row: number; reason: string }[]> {
  const out: { row: number; reason: string }[] = [];
  if (count === 0) return out;
  // By line, not read whole: millions of bad rows are more text than one string holds.
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Infinity });
  for await (const line of lines) {
    out.push(JSON.parse(line) as { row: number; reason: string });
    if (out.length === count) break;
  }
  lines.close();
  if (out.length < count) throw new TesseraError('FORMAT', `${path} lists ${out.length} bad rows, its checkpoint ${count}: rerun with --restart`);
  return out;
}

/**
 * Refuses a resume whose checkpoint rows are no longer the corpus's (INVALID_ARGUMENT): an edit in
 * place that kept the size and the modification time (touch -r, a copy with cp -p, a coarse mtime)
 * passed the checkpoint's check, and its old vectors were indexed for the new text. Hashes the corpus
 * bytes of those rows into `hash` (the running hash the build goes on with) and compares with the
 * state's. Costs one read of the encoded part of the corpus, about 1.6 GB/s (sha256).
 */
async function checkEncodedRows(path: string, corpus: Corpus, state: State, hash: Hash, ckDir: string, onProgress?: ProgressCallback, signal?: AbortSignal): Promise<void> {
  const from = corpus.startOf(0);
  const to = corpus.startOf(state.rowsDone);
  const phase = 'checking the encoded rows against the corpus';
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(Math.min(HASH_CHUNK, Math.max(to - from, 1)));
    onProgress?.({ phase, done: 0, total: to - from, unit: 'bytes' });
    for (let at = from; at < to; ) {
      const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, to - at), at);
      if (bytesRead === 0) break;
      hash.update(buf.subarray(0, bytesRead));
      at += bytesRead;
      // Ctrl-C during the check (seconds on wiki-18) stops it; nothing has been changed yet.
      if (signal?.aborted) throw signal.reason;
      onProgress?.({ phase, done: at - from, total: to - from, unit: 'bytes' });
    }
  } finally {
    await fh.close();
  }
  if (hash.copy().digest('hex') !== state.corpus.sha256) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `corpus ${path} is not the one the checkpoint in ${ckDir} was made from: its ${state.rowsDone} encoded rows (bytes ${from} to ${to}) now hold other bytes, though the file's size and modification time are the same; ` +
        'rerun with --restart to encode the corpus as it is now from the first row, or restore the corpus the checkpoint was made from to resume',
    );
  }
}

/** `signal` stops the read between chunks with its reason (Ctrl-C while a 64 GB index is written). */
async function* readVectorChunks(path: string, rows: number, dim: number, signal?: AbortSignal): AsyncGenerator<Float32Array> {
  const fh = await open(path, 'r');
  try {
    for (let r = 0; r < rows; r += READ_ROWS) {
      signal?.throwIfAborted();
      const n = Math.min(READ_ROWS, rows - r);
      const buf = new Float32Array(n * dim);
      const bytes = new Uint8Array(buf.buffer);
      let got = 0;
      while (got < bytes.length) {
        const { bytesRead } = await fh.read(bytes, got, bytes.length - got, r * dim * 4 + got);
        if (bytesRead === 0) throw new TesseraError('FORMAT', `${path} ends early: expected ${rows} x ${dim} float32 values`);
        got += bytesRead;
      }
      yield buf;
    }
  } finally {
    await fh.close();
  }
}

async function writeIndexFile(
  path: string,
  spec: IndexSpec,
  vectorsPath: string,
  rows: number,
  dim: number,
  onProgress?: ProgressCallback,
  signal?: AbortSignal,
): Promise<void> {
  if (spec.kind === 'flat') {
    // Streams rows from the checkpoint into the file: the vectors are never all in memory.
    await writeFlatIndex(path, dim, 'ip', rows, readVectorChunks(vectorsPath, rows, dim, signal), { onProgress, phase: 'writing index' });
    return;
  }
  // Trained/graph indexes are built in memory by the WASM backend, then saved (atomically).
  // IVF training is k-means, minutes at nlist 4096 and d=768: its iterations are the progress.
  const kmeans = spec.kind === 'ivf';
  let done = 0;
  const index = await indexFactory(dim, factoryDescription(spec), 'ip', {
    backend: 'wasm',
    onProgress: (e) => {
      // An HNSW add of one 16384-row chunk (a minute at d=768) reports its graph build: the bar moves
      // within the chunk instead of only between chunks.
      if (e.phase === 'building HNSW graph' && e.done < (e.total ?? 0)) onProgress?.({ phase: 'adding vectors', done: done + e.done, total: rows, unit: 'rows' });
      if (e.phase !== 'k-means') return;
      onProgress?.({ ...e, phase: 'training index (k-means)' });
      // Between iterations: Ctrl-C stopped the build only after the whole training (minutes at nlist 4096).
      signal?.throwIfAborted();
    },
  });
  try {
    if (!index.isTrained) {
      // An evenly spread sample of the rows, as convert takes: 100,000 gave IVF4096 24 points a
      // list, under the 39 FAISS asks for.
      const want = Math.min(rows, defaultTrainSize(spec));
      const sample = new Float32Array(want * dim);
      const step = rows / want;
      const fh = await open(vectorsPath, 'r');
      const phase = 'reading training sample';
      try {
        onProgress?.({ phase, done: 0, total: want, unit: 'rows' });
        for (let i = 0; i < want; i++) {
          const r = Math.floor(i * step);
          await fh.read(new Uint8Array(sample.buffer, i * dim * 4, dim * 4), 0, dim * 4, r * dim * 4);
          if ((i + 1) % 4096 === 0 || i + 1 === want) onProgress?.({ phase, done: i + 1, total: want, unit: 'rows' });
        }
      } finally {
        await fh.close();
      }
      if (!kmeans) onProgress?.({ phase: 'training index', done: 0, total: 1, unit: 'steps' });
      await index.train(sample);
      if (!kmeans) onProgress?.({ phase: 'training index', done: 1, total: 1, unit: 'steps' });
    }
    onProgress?.({ phase: 'adding vectors', done, total: rows, unit: 'rows' });
    for await (const chunk of readVectorChunks(vectorsPath, rows, dim, signal)) {
      await index.add(chunk);
      done += chunk.length / dim;
      onProgress?.({ phase: 'adding vectors', done, total: rows, unit: 'rows' });
    }
    // Saving a graph or inverted lists of many GB takes a while too; the log said nothing of it.
    onProgress?.({ phase: 'writing index', done: 0, unit: 'files' });
    await writeIndex(index, path);
    onProgress?.({ phase: 'writing index', done: 1, total: 1, unit: 'files' });
  } finally {
    await index.dispose();
  }
}
