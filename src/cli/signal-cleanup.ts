/**
 * Ctrl-C during a command without its own SIGINT/SIGTERM handler (convert writing a Flat of many GB)
 * killed the process mid-write, leaving the write's hidden temp file (tempFilePath in io/node-fs.ts, up
 * to the whole output) beside its target; so did SIGHUP, a closed terminal or ssh session. A signal
 * that ended one while a progress bar was drawn left the bar's line unended: the shell's prompt came
 * on it (`timeout 1h tessera convert ...`: SIGTERM, and timeout exits 124), or bash's "Terminated".
 */
import { constants } from 'node:os';
import { removeUnfinishedWritesSync, watchUnfinishedWrites } from '../io/node-fs.js';
import { endProgressLine, watchProgressBar } from './progress.js';

/** The exit code of a command stopped by `signal`, as a shell reports one: 128 + its number (130 for SIGINT, 143 for SIGTERM). */
export function signalExitCode(signal: NodeJS.Signals): number {
  // Windows lists no SIGPIPE, yet its pipes fail with EPIPE: 13, its number on every POSIX system.
  return 128 + (constants.signals[signal] ?? (signal === 'SIGPIPE' ? 13 : 0));
}

type SignalTarget = Pick<NodeJS.Process, 'on' | 'off' | 'listenerCount' | 'kill' | 'pid'>;
/** Windows emulates SIGHUP only as an event (its console closed) that process.kill cannot raise again. */
const SIGNALS: readonly NodeJS.Signals[] = process.platform === 'win32' ? ['SIGINT', 'SIGTERM'] : ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * While an atomic write is in progress or a progress bar is drawn, SIGINT/SIGTERM/SIGHUP remove the
 * write's temp file and end the bar's line (its last state kept), then end the process by the signal
 * as before (the shell's 130 / 143 / 129). Only then: a handler runs when the event loop is free, so
 * it would hold a signal for as long as a step holds the thread; the long steps a bar shows (HNSW
 * builds, k-means, IVF adds) pause every 50 ms or so for that (wasm/worker-pool.ts breather). Gives way to
 * a command's own handler (build, serve), which decides (its exit ends the bar's line too).
 */
export function cleanUpOnSignal(proc: SignalTarget = process): void {
  let writing = false;
  let drawing = false;
  const handlers = SIGNALS.map((sig) => {
    const onSignal = () => {
      if (proc.listenerCount(sig) > 1) return;
      watchUnfinishedWrites(undefined);
      watchProgressBar(undefined);
      removeUnfinishedWritesSync();
      // The process ends by the signal: no 'exit' event, whose handler would end the line.
      endProgressLine();
      for (const [s, h] of handlers) proc.off(s, h);
      // With no listener left, Node restores the default action: the signal raised again ends the process.
      proc.kill(proc.pid, sig);
    };
    return [sig, onSignal] as const;
  });
  const listen = () => {
    for (const [sig, onSignal] of handlers) {
      proc.off(sig, onSignal);
      if (writing || drawing) proc.on(sig, onSignal);
    }
  };
  watchUnfinishedWrites((inProgress) => {
    writing = inProgress;
    listen();
  });
  watchProgressBar((drawn) => {
    drawing = drawn;
    listen();
  });
}

/** A signal within this many ms of the first is the same one delivered twice (stopSignalListener). */
export const SIGNAL_REPEAT_MS = 100;

/**
 * The listener of a command that stops gracefully on SIGINT/SIGTERM (serve, demo, build): `first` on
 * the first signal, `again` on a later one (a user's second Ctrl-C: stop at once). A repeat within
 * SIGNAL_REPEAT_MS of the first is that one delivered twice, and ignored: GNU timeout (`timeout 8h
 * tessera serve ...`) sends its one signal to the command and then to the command's process group, so
 * the command may get it twice microseconds apart (about 1 stop in 6 here), which is not a second Ctrl-C.
 */
export function stopSignalListener(first: (sig: NodeJS.Signals) => void, again: (sig: NodeJS.Signals) => void): (sig: NodeJS.Signals) => void {
  let signalled = 0;
  let firstAt = 0;
  return (sig) => {
    if (signalled === 1 && performance.now() - firstAt < SIGNAL_REPEAT_MS) return;
    if (signalled++ === 0) {
      firstAt = performance.now();
      first(sig);
    } else again(sig);
  };
}

/** Whether `e` is a write to a pipe whose reader has gone (`tessera search ... | head`). */
export function isBrokenPipe(e: unknown): boolean {
  return (e as NodeJS.ErrnoException | undefined)?.code === 'EPIPE';
}

/**
 * Ends the command quietly, as the SIGPIPE that Node ignores would (141), when the reader of
 * `stream` (stdout, stderr) has gone (`tessera encode --json | head`): the write failed with an
 * unhandled 'error' event, a stack trace and exit code 1. Other errors of the stream (ENOSPC:
 * `--json > file` on a full disk) go to `onOtherError` (the CLI's one-line report), after the same
 * cleanup; without it they are thrown.
 */
export function exitOnBrokenPipe(
  stream: { on(event: 'error', listener: (e: Error) => void): unknown },
  exit: (code: number) => void = process.exit,
  onOtherError?: (e: Error) => void,
): void {
  stream.on('error', (e: Error) => {
    if (!isBrokenPipe(e) && !onOtherError) throw e;
    // As another signal would: not the half-written temp file of a write in progress left behind.
    removeUnfinishedWritesSync();
    if (isBrokenPipe(e)) exit(signalExitCode('SIGPIPE'));
    else onOtherError?.(e);
  });
}
