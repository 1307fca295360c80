/**
 * Human output of the CLI on stderr (stdout carries results only): one-line notices, and progress
 * of long steps, a bar per phase on a terminal and, without one (logs, CI), a line when a phase
 * starts and when it ends, so piped output stays readable.
 */
import { SingleBar } from 'cli-progress';
import { formatBytes } from '../core/errors.js';
import type { ProgressCallback } from '../core/types.js';

/** One line on stderr, prefixed "tessera: ". */
export function say(line: string): void {
  process.stderr.write(`tessera: ${line}\n`);
}

/** A ProgressCallback rendering on stderr; `quiet` drops everything (e.g. --quiet). */
export function progressBars(quiet = false): ProgressCallback {
  if (quiet) return () => {};
  const tty = !!process.stderr.isTTY;
  let phase: string | undefined;
  let bar: SingleBar | undefined;
  let t0 = 0;
  const fmt = (n: number, unit: string) => (unit === 'bytes' ? formatBytes(n) : `${n} ${unit}`);
  return (e) => {
    if (e.phase !== phase) {
      bar?.stop();
      bar = undefined;
      phase = e.phase;
      t0 = performance.now();
      if (tty && e.total) {
        bar = new SingleBar({
          format: `tessera: ${e.phase} [{bar}] {percentage}% {shown} | eta {eta_formatted}`,
          stream: process.stderr,
          hideCursor: true,
          clearOnComplete: false,
        });
        bar.start(e.total, e.done, { shown: '' });
      } else if (!tty) {
        say(`${e.phase}${e.total ? ` (${fmt(e.total, e.unit)})` : ''}...`);
      }
    }
    bar?.update(e.done, { shown: `${fmt(e.done, e.unit)} / ${fmt(e.total ?? 0, e.unit)}` });
    if (e.total !== undefined && e.done >= e.total) {
      if (bar) {
        bar.stop();
        bar = undefined;
      } else if (!tty) {
        say(`${e.phase}: done, ${fmt(e.done, e.unit)} in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
      }
      phase = undefined;
    }
  };
}
