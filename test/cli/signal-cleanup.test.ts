/**
 * A signal during a command without its own handler (convert writing its output) removes the temp
 * file of the write in progress, then ends the process by the signal; a command's own handler
 * (build, serve) is left to decide.
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { exitOnBrokenPipe, removeTempFilesOnSignal, signalExitCode } from '../../src/cli/signal-cleanup.js';
import { openAtomicFileSink, watchUnfinishedWrites } from '../../src/io/node-fs.js';

const dirs: string[] = [];
afterEach(() => {
  watchUnfinishedWrites(undefined);
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function writeInProgress() {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-signal-cleanup-'));
  dirs.push(dir);
  const sink = await openAtomicFileSink(join(dir, 'out.index'));
  await sink.write(new Uint8Array(1024));
  return { dir, sink };
}

function fakeProcess() {
  return Object.assign(new EventEmitter(), { pid: 4242, kill: vi.fn(() => true) });
}

describe('removeTempFilesOnSignal', () => {
  // SIGHUP: the terminal or ssh session of a long convert closed.
  it.each(['SIGINT', 'SIGTERM', 'SIGHUP'] as const)('%s: the temp file of the write in progress goes, then the signal is raised again with no handler left', async (sig) => {
    const proc = fakeProcess();
    removeTempFilesOnSignal(proc as unknown as NodeJS.Process);
    expect(proc.listenerCount(sig)).toBe(0); // no write: the signal's default action, at once
    const { dir, sink } = await writeInProgress();
    expect(readdirSync(dir)).toHaveLength(1);
    expect(proc.listenerCount(sig)).toBe(1);
    proc.emit(sig, sig);
    expect(readdirSync(dir)).toEqual([]);
    expect(proc.kill).toHaveBeenCalledWith(4242, sig);
    expect(proc.listenerCount(sig)).toBe(0);
    await sink.abort();
  });

  it("a command's own handler decides: nothing is removed nor raised", async () => {
    const proc = fakeProcess();
    removeTempFilesOnSignal(proc as unknown as NodeJS.Process);
    const { dir, sink } = await writeInProgress();
    const own = vi.fn();
    proc.on('SIGINT', own);
    proc.emit('SIGINT', 'SIGINT');
    expect(own).toHaveBeenCalledTimes(1);
    expect(readdirSync(dir)).toHaveLength(1);
    expect(proc.kill).not.toHaveBeenCalled();
    await sink.abort();
    expect(proc.listenerCount('SIGINT')).toBe(1); // the write ended: only the command's own
  });

  it('a write that ends takes the handlers away again', async () => {
    const proc = fakeProcess();
    removeTempFilesOnSignal(proc as unknown as NodeJS.Process);
    const { dir, sink } = await writeInProgress();
    expect(proc.listenerCount('SIGTERM')).toBe(1);
    await sink.close();
    expect(proc.listenerCount('SIGTERM')).toBe(0);
    expect(readdirSync(dir)).toEqual(['out.index']);
  });
});

describe('signalExitCode', () => {
  it('is 128 + the signal number, as a shell reports a command a signal stopped (build and serve exit with it)', () => {
    expect(signalExitCode('SIGINT')).toBe(130);
    expect(signalExitCode('SIGTERM')).toBe(143);
    expect(signalExitCode('SIGHUP')).toBe(129);
  });
});

describe('exitOnBrokenPipe', () => {
  it("a write to a pipe whose reader has gone (| head) ends the command quietly with 141, as SIGPIPE ends other tools (stdout's 'error' event was unhandled: a stack trace, exit code 1)", async () => {
    const stream = new EventEmitter();
    const exit = vi.fn();
    exitOnBrokenPipe(stream, exit);
    const { dir, sink } = await writeInProgress();
    stream.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE', syscall: 'write' }));
    expect(exit).toHaveBeenCalledWith(141);
    expect(readdirSync(dir)).toEqual([]); // the temp file of the write in progress went too
    await sink.abort();
  });

  it('other errors are not taken for it', () => {
    const stream = new EventEmitter();
    const exit = vi.fn();
    exitOnBrokenPipe(stream, exit);
    expect(() => stream.emit('error', Object.assign(new Error('EIO'), { code: 'EIO' }))).toThrow('EIO');
    expect(exit).not.toHaveBeenCalled();
  });

  it("other errors go to onOtherError, the CLI's one-line report, after the same cleanup (--json > file on a full disk printed the stack thrown from this handler)", async () => {
    const stream = new EventEmitter();
    const exit = vi.fn();
    const report = vi.fn();
    exitOnBrokenPipe(stream, exit, report);
    const { dir, sink } = await writeInProgress();
    const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', syscall: 'write' });
    expect(() => stream.emit('error', full)).not.toThrow();
    expect(report).toHaveBeenCalledWith(full);
    expect(exit).not.toHaveBeenCalled();
    expect(readdirSync(dir)).toEqual([]);
    await sink.abort();
  });
});
