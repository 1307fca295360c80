/**
 * A signal during a command without its own handler (convert writing its output) removes the temp
 * file of the write in progress and ends the line of a progress bar drawn, then ends the process by
 * the signal; a command's own handler (build, serve) is left to decide.
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { endProgressLine, progressBars, watchProgressBar } from '../../src/cli/progress.js';
import { cleanUpOnSignal, exitOnBrokenPipe, signalExitCode } from '../../src/cli/signal-cleanup.js';
import { openAtomicFileSink, watchUnfinishedWrites } from '../../src/io/node-fs.js';

const dirs: string[] = [];
afterEach(() => {
  endProgressLine();
  watchUnfinishedWrites(undefined);
  watchProgressBar(undefined);
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

describe('cleanUpOnSignal', () => {
  // SIGHUP: the terminal or ssh session of a long convert closed.
  it.each(['SIGINT', 'SIGTERM', 'SIGHUP'] as const)('%s: the temp file of the write in progress goes, then the signal is raised again with no handler left', async (sig) => {
    const proc = fakeProcess();
    cleanUpOnSignal(proc as unknown as NodeJS.Process);
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
    cleanUpOnSignal(proc as unknown as NodeJS.Process);
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
    cleanUpOnSignal(proc as unknown as NodeJS.Process);
    const { dir, sink } = await writeInProgress();
    expect(proc.listenerCount('SIGTERM')).toBe(1);
    await sink.close();
    expect(proc.listenerCount('SIGTERM')).toBe(0);
    expect(readdirSync(dir)).toEqual(['out.index']);
  });
});

/** A terminal 120 columns wide that keeps what is written to it. */
function fakeTerminal() {
  let text = '';
  return { stream: { isTTY: true, columns: 120, write: (s: string) => ((text += s), true) }, text: () => text };
}

/** The rows a terminal shows after `written`: \r, \n, CSI 1G / K and DECSC / DECRC, as cli-progress writes them. */
function screen(written: string): string[] {
  const rows: string[] = [''];
  let row = 0;
  let col = 0;
  let saved = { row, col };
  for (const [, esc, cmd, ch] of written.matchAll(/(\x1b[78])|\x1b\[\d*([GK])|([\s\S])/g)) {
    if (esc === '\x1b7') saved = { row, col };
    else if (esc === '\x1b8') ({ row, col } = saved);
    else if (cmd === 'G' || ch === '\r') col = 0;
    else if (cmd === 'K') rows[row] = rows[row]!.slice(0, col);
    else if (ch === '\n') (row++, (col = 0), (rows[row] ??= ''));
    else if (ch !== undefined) (rows[row] = rows[row]!.padEnd(col).slice(0, col) + ch + rows[row]!.slice(col + 1), col++);
  }
  return [...rows.slice(0, row), `${rows[row]!.slice(0, col)}<cursor>${rows[row]!.slice(col)}`];
}

describe('cleanUpOnSignal with a progress bar drawn', () => {
  // Killed by the signal, the process has no 'exit' event to end the line on: the shell's prompt came
  // on the bar's line (`timeout 1h tessera convert ...` sends SIGTERM and exits 124), or bash's "Terminated".
  it.each(['SIGINT', 'SIGTERM', 'SIGHUP'] as const)("%s: the bar's line is ended, its last state kept, then the signal is raised again with no handler left", (sig) => {
    const proc = fakeProcess();
    cleanUpOnSignal(proc as unknown as NodeJS.Process);
    expect(proc.listenerCount(sig)).toBe(0); // no bar: the signal's default action, at once
    const term = fakeTerminal();
    const progress = progressBars(false, { ...term, tty: true, now: () => 0 });
    progress({ phase: 'adding vectors', done: 640, total: 20000, unit: 'vectors' });
    expect(proc.listenerCount(sig)).toBe(1);
    expect(screen(term.text()).at(-1)).toMatch(/^tessera: adding vectors \[.*\] 3% 640 \/ 20000 vectors<cursor>$/);
    proc.emit(sig, sig);
    expect(screen(term.text())).toEqual([expect.stringMatching(/^tessera: adding vectors \[.*\] 3% 640 \/ 20000 vectors$/), '<cursor>']);
    expect(proc.kill).toHaveBeenCalledWith(4242, sig);
    expect(proc.listenerCount(sig)).toBe(0);
  });

  it('a bar that is done, or stopped, takes the handlers away again', () => {
    const proc = fakeProcess();
    cleanUpOnSignal(proc as unknown as NodeJS.Process);
    const progress = progressBars(false, { ...fakeTerminal(), tty: true, now: () => 0 });
    progress({ phase: 'k-means', done: 0, total: 10, unit: 'iterations' });
    expect(proc.listenerCount('SIGTERM')).toBe(1);
    progress({ phase: 'k-means', done: 10, total: 10, unit: 'iterations' });
    expect(proc.listenerCount('SIGTERM')).toBe(0);
    progress({ phase: 'adding', done: 0, total: 10, unit: 'vectors' });
    expect(proc.listenerCount('SIGTERM')).toBe(1);
    endProgressLine(); // an error ends the command
    expect(proc.listenerCount('SIGTERM')).toBe(0);
  });

  it('no bar off a terminal (log lines end their own lines): the signal keeps its default action', () => {
    const proc = fakeProcess();
    cleanUpOnSignal(proc as unknown as NodeJS.Process);
    const progress = progressBars(false, { stream: { isTTY: false, write: () => true }, now: () => 0 });
    progress({ phase: 'adding', done: 0, total: 10, unit: 'vectors' });
    expect(proc.listenerCount('SIGINT')).toBe(0);
  });

  it("a command's own handler decides, its exit ending the line: nothing is raised", () => {
    const proc = fakeProcess();
    cleanUpOnSignal(proc as unknown as NodeJS.Process);
    const term = fakeTerminal();
    progressBars(false, { ...term, tty: true, now: () => 0 })({ phase: 'encoding passages', done: 64, total: 2000, unit: 'rows' });
    const own = vi.fn();
    proc.on('SIGINT', own);
    proc.emit('SIGINT', 'SIGINT');
    expect(own).toHaveBeenCalledTimes(1);
    expect(proc.kill).not.toHaveBeenCalled();
    expect(screen(term.text()).at(-1)).toMatch(/<cursor>$/); // the bar still drawn
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
