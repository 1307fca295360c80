/**
 * Ctrl-C during a command without its own SIGINT/SIGTERM handler (convert writing a Flat of many GB)
 * killed the process mid-write, leaving the write's hidden temp file (`.<name>.<pid>.<random>.tmp`,
 * up to the whole output) beside its target.
 */
import { removeUnfinishedWritesSync } from '../io/node-fs.js';

type SignalTarget = Pick<NodeJS.Process, 'on' | 'off' | 'listenerCount' | 'kill' | 'pid'>;

/**
 * On SIGINT/SIGTERM, removes the temp files of atomic writes in progress, then dies of the signal as
 * before (the shell's 130 / 143). Gives way to a command's own handler (build, serve), which decides.
 */
export function removeTempFilesOnSignal(proc: SignalTarget = process): void {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    const onSignal = () => {
      if (proc.listenerCount(sig) > 1) return;
      removeUnfinishedWritesSync();
      // With no listener left, Node restores the default action: the signal raised again ends the process.
      proc.off(sig, onSignal);
      proc.kill(proc.pid, sig);
    };
    proc.on(sig, onSignal);
  }
}
