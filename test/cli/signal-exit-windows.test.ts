/**
 * On Windows, os.constants.signals has no SIGPIPE, though a pipe whose reader has gone fails writes
 * with EPIPE there too (`tessera search ... | head` in Git Bash): the broken-pipe exit computed
 * 128 + undefined, and process.exit(NaN) threw a RangeError stack instead of ending quietly.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';

vi.mock('node:os', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:os')>();
  // Node's list on Windows.
  const signals = { SIGHUP: 1, SIGINT: 2, SIGILL: 4, SIGABRT: 22, SIGFPE: 8, SIGKILL: 9, SIGSEGV: 11, SIGTERM: 15, SIGBREAK: 21, SIGWINCH: 28 };
  return { ...actual, constants: { ...actual.constants, signals } };
});

const { exitOnBrokenPipe, signalExitCode } = await import('../../src/cli/signal-cleanup.js');

describe('exit codes where os.constants.signals lacks SIGPIPE (Windows)', () => {
  it('a broken pipe still ends the command with 141, an integer process.exit takes', () => {
    expect(signalExitCode('SIGPIPE')).toBe(141);
    expect(signalExitCode('SIGINT')).toBe(130);
    const stream = new EventEmitter();
    const exit = vi.fn();
    exitOnBrokenPipe(stream, exit);
    stream.emit('error', Object.assign(new Error('write EPIPE'), { code: 'EPIPE', syscall: 'write' }));
    expect(exit).toHaveBeenCalledWith(141);
  });
});
