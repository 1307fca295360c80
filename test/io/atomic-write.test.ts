/**
 * Atomic writes (io/node-fs.ts): every save goes through a temp file renamed over the target, so a
 * failed write leaves the old file as it was and no temp file behind, and paths that cannot be
 * written fail up front with a TesseraError naming the path.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { open } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import '../../src/node.js';
import { indexFactory } from '../../src/core/factory.js';
import { nodeFileSystem, openAtomicFileSink, parseTempFileName, processStart, removeLeftoverTempFiles, tempFilePath, tempFileWriterState, thisWriter } from '../../src/io/node-fs.js';
import { readIndex } from '../../src/io/read-index.js';
import { installPlatform } from '../../src/platform.js';
import { ensureOffsetTable } from '../../src/io/corpus.js';
import { writeVectors } from '../../src/io/vectors.js';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tessera-atomic-'));
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const FACTORIES = ['Flat', 'HNSW8', 'IVF4,Flat', 'IVF4,SQ8', 'SQ8'] as const;

describe('index.save to a path', () => {
  it.each(FACTORIES)('%s: a save that fails midway keeps the old file and leaves no temp file; a good one replaces it', async (factory) => {
    const d = 4;
    const x = new Float32Array(50 * d).map((_, i) => Math.cos(i * 0.3));
    const index = await indexFactory(d, factory, 'ip', { backend: 'wasm', threads: 1 });
    await index.train(x);
    await index.add(x);
    const sub = mkdtempSync(join(dir, 'save-'));
    const path = join(sub, 'a.index');
    writeFileSync(path, 'old contents');
    // The real atomic sink, whose second write fails as on a full disk.
    installPlatform({
      fs: {
        ...nodeFileSystem,
        async openWriteAtomic(p: string) {
          const sink = await openAtomicFileSink(p);
          let writes = 0;
          return {
            ...sink,
            async write(chunk: Uint8Array) {
              if (++writes === 2) throw new Error('ENOSPC: no space left on device');
              await sink.write(chunk);
            },
          };
        },
      },
    });
    try {
      await expect(index.save(path)).rejects.toThrow(/ENOSPC/);
    } finally {
      installPlatform({ fs: nodeFileSystem });
    }
    expect(readdirSync(sub)).toEqual(['a.index']);
    expect(readFileSync(path, 'utf8')).toBe('old contents');
    await index.save(path);
    expect(readdirSync(sub)).toEqual(['a.index']);
    const back = await readIndex(path, { backend: 'wasm', threads: 1 });
    expect(back.ntotal).toBe(50);
    await back.dispose();
    await index.dispose();
  });

  it.each(FACTORIES)('%s: saving into a missing directory -> NOT_FOUND naming it; onto a directory -> INVALID_ARGUMENT; nothing left behind', async (factory) => {
    const index = await indexFactory(4, factory, 'l2', { backend: 'wasm', threads: 1 });
    await index.train(new Float32Array(40 * 4).map((_, i) => Math.sin(i)));
    const missing = join(dir, 'no-such-dir', 'a.index');
    await expect(index.save(missing)).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining(join(dir, 'no-such-dir')) });
    const target = mkdtempSync(join(dir, 'target-'));
    writeFileSync(join(target, 'keep'), 'x');
    await expect(index.save(target)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining(`${target}: it is a directory`) });
    expect(readdirSync(target)).toEqual(['keep']);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    await index.dispose();
  });
});

describe('openAtomicFileSink', () => {
  it('a rename that fails at close removes the temp file and keeps the target', async () => {
    const sub = mkdtempSync(join(dir, 'rename-'));
    const path = join(sub, 'v.npy');
    const sink = await openAtomicFileSink(path);
    await sink.write(new Uint8Array([1, 2, 3]));
    // The target turns into a directory while the sink is open: rename fails.
    mkdirSync(path);
    writeFileSync(join(path, 'inside'), 'x');
    await expect(sink.close()).rejects.toThrow();
    expect(readdirSync(sub)).toEqual(['v.npy']);
    expect(readdirSync(path)).toEqual(['inside']);
  });

  it('writeVectors into a missing directory -> NOT_FOUND, not a raw ENOENT naming the temp file', async () => {
    const err = await writeVectors(join(dir, 'nope', 'q.npy'), new Float32Array(4), 4).then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ code: 'NOT_FOUND' });
    expect((err as Error).message).not.toMatch(/\.tmp/);
  });

  it('a name the file system takes but not with the temp file\'s writer id around it: INVALID_ARGUMENT saying how long a name may be, not a raw ENAMETOOLONG naming the temp file', async () => {
    const sub = mkdtempSync(join(dir, 'long-'));
    const path = join(sub, `${'a'.repeat(224)}.index`); // 230 bytes: a file of this name can be made
    writeFileSync(path, 'old');
    const err = await openAtomicFileSink(path).then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT' });
    const m = /^cannot write .*: its name \(230 bytes\) is too long for the temp file written beside it first, which adds (\d+) bytes, past the 255 a file name may have: give it a name of at most (\d+) bytes$/.exec((err as Error).message);
    expect(Number(m?.[1]) + Number(m?.[2])).toBe(255);
    expect(readFileSync(path, 'utf8')).toBe('old');
    // A name a few bytes under the limit said (the writer id's length varies a little) is written.
    const shorter = join(sub, `${'b'.repeat(Number(m![2]) - 10)}.index`);
    const sink = await openAtomicFileSink(shorter);
    await sink.write(new Uint8Array([1]));
    await sink.close();
    expect(readdirSync(sub).sort()).toEqual([basename(path), basename(shorter)].sort());
  });
});

describe('a full disk (ENOSPC from the file system)', () => {
  /** Makes the `nth` FileHandle write from now on fail as a full disk does (the spy stays for later writes). */
  async function diskFullAfter(nth: number) {
    const probe = await open(join(dir, 'probe'), 'w');
    const proto = Object.getPrototypeOf(probe) as { write: (...a: unknown[]) => Promise<unknown> };
    await probe.close();
    const real = proto.write;
    let calls = 0;
    return vi.spyOn(proto, 'write').mockImplementation(function (this: unknown, ...args: unknown[]) {
      if (++calls >= nth) return Promise.reject(Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' }));
      return real.apply(this, args);
    });
  }

  it('writeVectors, index.save and the corpus offset table: INVALID_ARGUMENT naming the target and the fix (was a bare ENOSPC naming no file); the old file stays, no temp file', async () => {
    const sub = mkdtempSync(join(dir, 'full-'));
    const vectors = join(sub, 'v.npy');
    const indexPath = join(sub, 'x.index');
    const corpus = join(sub, 'c.jsonl');
    writeFileSync(vectors, 'old vectors');
    writeFileSync(indexPath, 'old index');
    writeFileSync(corpus, Array.from({ length: 10 }, (_, i) => JSON.stringify({ id: i, contents: `row ${i}` })).join('\n') + '\n');
    const index = await indexFactory(4, 'Flat', 'ip', { backend: 'wasm' });
    await index.add(new Float32Array(4 * 100).fill(0.5));
    const cases: [string, () => Promise<unknown>][] = [
      [vectors, () => writeVectors(vectors, new Float32Array(400), 4)],
      [indexPath, () => index.save(indexPath)],
      [`${corpus}.offsets`, () => ensureOffsetTable(corpus)],
    ];
    for (const [target, write] of cases) {
      const spy = await diskFullAfter(2);
      const err = await write().then(() => undefined, (e: unknown) => e);
      spy.mockRestore();
      expect(err, target).toMatchObject({
        code: 'INVALID_ARGUMENT',
        message: expect.stringContaining(`cannot write ${target}: no space left on the device (ENOSPC); free space or write elsewhere. ${target} is as it was before this write`),
      });
      expect(((err as Error).cause as NodeJS.ErrnoException).code).toBe('ENOSPC');
    }
    await index.dispose();
    expect(readdirSync(sub).sort()).toEqual(['c.jsonl', 'v.npy', 'x.index']);
    expect(readFileSync(vectors, 'utf8')).toBe('old vectors');
    expect(readFileSync(indexPath, 'utf8')).toBe('old index');
  });

  it('openAtomicFileSink: a close after a failed write throws that failure, not returning as if the file were written', async () => {
    // A caller that caught the write's error and closed anyway was told nothing: the file never came.
    const sub = mkdtempSync(join(dir, 'full-close-'));
    const path = join(sub, 'out.bin');
    const sink = await openAtomicFileSink(path);
    const spy = await diskFullAfter(1);
    const err = await sink.write(new Uint8Array(8)).then(() => undefined, (e: unknown) => e);
    spy.mockRestore();
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining(`cannot write ${path}: no space left on the device (ENOSPC)`) });
    await expect(sink.close()).rejects.toBe(err);
    await expect(sink.write(new Uint8Array(8))).rejects.toBe(err);
    expect(readdirSync(sub)).toEqual([]);
  });
});

describe('corpus offset table', () => {
  it('a scan that fails midway (here the progress callback throws) keeps the old table and leaves no temp file', async () => {
    const sub = mkdtempSync(join(dir, 'corpus-'));
    const corpus = join(sub, 'c.jsonl');
    writeFileSync(corpus, Array.from({ length: 100 }, (_, i) => JSON.stringify({ id: i, contents: `row ${i}` })).join('\n') + '\n');
    const first = await ensureOffsetTable(corpus);
    const old = readFileSync(first.path);
    let calls = 0;
    const err = await ensureOffsetTable(corpus, {
      rebuild: true,
      scanChunkBytes: 256,
      onProgress: () => {
        if (++calls === 3) throw new Error('stop');
      },
    }).then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ message: 'stop' });
    expect(readdirSync(sub).sort()).toEqual(['c.jsonl', 'c.jsonl.offsets'].sort());
    expect(Buffer.compare(readFileSync(first.path), old)).toBe(0);
  });

  it('an offsets path in a missing directory -> NOT_FOUND naming it', async () => {
    const corpus = join(dir, 'c2.jsonl');
    writeFileSync(corpus, '{"id": 0}\n');
    await expect(ensureOffsetTable(corpus, { offsetsPath: join(dir, 'gone', 'c2.offsets') })).rejects.toMatchObject({
      code: 'NOT_FOUND',
      message: expect.stringContaining(join(dir, 'gone')),
    });
  });
});

describe('temp files of atomic writes and their leftovers', () => {
  /** A running process of this machine, and a way to kill it as kill -9 does. */
  async function otherProcess() {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e6)'], { stdio: 'ignore' });
    await new Promise((r) => child.once('spawn', r));
    const pid = child.pid!;
    return {
      pid,
      start: (await processStart(pid))!,
      async kill9() {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGKILL');
        await exited;
      },
    };
  }

  it('the temp file an atomic write makes is named by tempFilePath and parsed back to this process (one definition of the pattern)', async () => {
    const sub = mkdtempSync(join(dir, 'name-'));
    const sink = await openAtomicFileSink(join(sub, 'a.b.index'));
    try {
      const [name] = readdirSync(sub);
      const me = await thisWriter();
      expect(parseTempFileName(name!)).toEqual({ target: 'a.b.index', writer: { pid: process.pid, start: me.start === '0' ? undefined : me.start, host: me.host } });
      expect(await tempFileWriterState(parseTempFileName(name!)!.writer)).toBe('running');
    } finally {
      await sink.abort();
    }
    // The name before start and host were in it (left by an earlier version) still parses.
    expect(parseTempFileName('.Flat.index.4242.k3j9x.tmp')).toEqual({ target: 'Flat.index', writer: { pid: 4242 } });
    expect(parseTempFileName('.Flat.index.tmp')).toBeUndefined();
    expect(parseTempFileName('Flat.index.4242.k3j9x.tmp')).toBeUndefined();
  });

  it("a writer is gone once its process ended or its id is another process's (a restarted container's); another machine's cannot be judged", async (ctx) => {
    const me = await thisWriter();
    if (me.start === '0') return ctx.skip(); // no /proc
    const other = await otherProcess();
    expect(await tempFileWriterState({ pid: other.pid, start: other.start, host: me.host })).toBe('running');
    // The id taken by a later process: the writer that started then is gone.
    expect(await tempFileWriterState({ pid: other.pid, start: String(Number(other.start) - 1), host: me.host })).toBe('gone');
    expect(await tempFileWriterState({ pid: process.pid, start: String(Number(me.start) - 1), host: me.host })).toBe('gone');
    expect(await tempFileWriterState({ pid: process.pid, start: me.start, host: me.host })).toBe('running');
    expect(await tempFileWriterState({ pid: other.pid, start: other.start, host: me.host === '00000000' ? '11111111' : '00000000' })).toBe('elsewhere');
    await other.kill9();
    expect(await tempFileWriterState({ pid: other.pid, start: other.start, host: me.host })).toBe('gone');
    expect(await tempFileWriterState({ pid: other.pid })).toBe('gone');
  });

  it('removeLeftoverTempFiles removes those of writers that are gone, of the target asked for only, and keeps live and other machines\' ones', async (ctx) => {
    const me = await thisWriter();
    if (me.start === '0') return ctx.skip();
    const sub = mkdtempSync(join(dir, 'leftovers-'));
    const other = await otherProcess();
    const table = join(sub, 'c.jsonl.offsets');
    const killed = tempFilePath(table, { pid: other.pid, start: other.start, host: me.host });
    const elsewhere = tempFilePath(table, { pid: other.pid, start: other.start, host: me.host === '00000000' ? '11111111' : '00000000' });
    const otherTarget = tempFilePath(join(sub, 'Flat.index'), { pid: other.pid, start: other.start, host: me.host });
    for (const f of [killed, elsewhere, otherTarget]) writeFileSync(f, 'x'.repeat(2048));
    const live = await openAtomicFileSink(table);
    try {
      expect(await removeLeftoverTempFiles(sub, 'c.jsonl.offsets')).toEqual({ removed: [], elsewhere: [{ path: elsewhere, bytes: 2048, pid: other.pid }] });
      await other.kill9();
      const r = await removeLeftoverTempFiles(sub, 'c.jsonl.offsets');
      expect(r.removed).toEqual([{ path: killed, bytes: 2048, pid: other.pid }]);
      expect(readdirSync(sub).length).toBe(3); // the other target's, the other machine's and the live write's
      await live.write(new Uint8Array(8));
    } finally {
      await live.close();
    }
    expect(readFileSync(table).length).toBe(8);
    expect((await removeLeftoverTempFiles(sub)).removed.map((f) => f.path)).toEqual([otherTarget]);
  });
});
