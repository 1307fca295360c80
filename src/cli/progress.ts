/**
 * Human output of the CLI on stderr (stdout carries results only): one-line notices, and progress
 * of long steps: on a terminal a bar per phase redrawn in place, replaced by a "done" line when the
 * phase ends; without one (logs, CI) a line when a phase starts, one every 10 s while it runs and one
 * when it ends, so piped output stays short and a log never goes quiet for minutes.
 */
import cliProgress from 'cli-progress';
import { formatBytes } from '../core/errors.js';
import type { ProgressCallback } from '../core/types.js';

/** Where progress goes; tests pass their own stream and clock. */
export interface ProgressOutput {
  stream?: Pick<NodeJS.WriteStream, 'write'> & { isTTY?: boolean; columns?: number };
  /** Draw bars in place (default: the stream is a terminal that understands cursor moves); false writes log lines. */
  tty?: boolean;
  now?: () => number;
}

/** The bar being drawn on the terminal, if any: say() writes above it, exit ends its line. */
let live: { stream: Pick<NodeJS.WriteStream, 'write'>; text: string; end: () => void } | undefined;
let exitHooked = false;
let onBarDrawn: ((drawn: boolean) => void) | undefined;

/** Calls `listener` when a bar starts to be drawn (true) and when none is drawn any more (false). */
export function watchProgressBar(listener: ((drawn: boolean) => void) | undefined): void {
  onBarDrawn = listener;
}

function setLive(bar: typeof live): void {
  const was = live !== undefined;
  live = bar;
  if (was !== (bar !== undefined)) onBarDrawn?.(bar !== undefined);
}

/** One line on stderr, prefixed "tessera: ". */
export function say(line: string): void {
  const bar = live?.stream === process.stderr ? live : undefined;
  // A notice written after a bar (Ctrl-C's, a warning) went on the bar's line; it goes above it, and
  // the bar is redrawn below. cli-progress saves the cursor (DECSC) when a bar starts and restores it
  // when it stops: saved again on the bar's new line, the stop clears the bar, not this notice.
  // Without a bar the cursor is at the start of a line (every line here ends with \n), where the
  // terminal echoes a Ctrl-C as "^C": the notice goes over it ("^Ctessera: SIGINT: shutting down").
  process.stderr.write(`${bar ? '\r\x1b[K' : process.stderr.isTTY ? '\r' : ''}tessera: ${line}\n${bar ? `\x1b7${bar.text}` : ''}`);
}

/**
 * Ends the line of a bar left drawn, its last state kept: an error that ends a command mid-phase
 * (console.error, not say()) went onto the bar's line, and the exit's newline then left a blank line.
 */
export function endProgressLine(): void {
  live?.end();
}

/**
 * Runs a step that reports no progress of its own (loading a model: seconds to a minute for e5 on
 * CPU, with nothing on screen): says `label...` once it has taken `afterMs`, and then when it is done.
 */
export async function slowStep<T>(label: string, work: () => Promise<T>, afterMs = 1000): Promise<T> {
  const t0 = performance.now();
  let said = false;
  const timer = setTimeout(() => {
    said = true;
    say(`${label}...`);
  }, afterMs);
  try {
    const value = await work();
    if (said) say(`${label}: done in ${duration((performance.now() - t0) / 1000)}`);
    return value;
  } finally {
    clearTimeout(timer);
  }
}

/** "1 row", "3 rows", "1.5 KiB". */
export function amount(n: number, unit: string): string {
  if (unit === 'bytes') return formatBytes(n);
  const whole = Math.round(n);
  return `${whole} ${whole === 1 && unit.endsWith('s') ? unit.slice(0, -1) : unit}`;
}

/** "0.42 s", "12.3 s", "4 min 05 s". */
export function duration(seconds: number): string {
  if (seconds < 10) return `${seconds.toFixed(2)} s`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const s = Math.round(seconds);
  return s < 3600 ? `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s` : `${Math.floor(s / 3600)} h ${String(Math.floor(s / 60) % 60).padStart(2, '0')} min`;
}

/**
 * A rate needs time to mean something: over the first second (a phase of one event, a write that took
 * a millisecond) it read 3158993.7 rows/s, and an ETA from it was noise.
 */
const MIN_RATE_SECONDS = 1;
const LOG_EVERY_MS = 10_000;
const REDRAWS_PER_SECOND = 10;
const BAR_WIDTH = 30;
const MIN_BAR_WIDTH = 10;

/** What the bar's line shows besides the bar: our wording, computed per event (cli-progress's own ETA has none of it). */
interface BarText {
  phase: string;
  unit: string;
  total?: number;
  rate?: string;
  eta?: string;
}

/** A ProgressCallback rendering on stderr; `quiet` drops everything (e.g. --quiet). */
export function progressBars(quiet = false, out: ProgressOutput = {}): ProgressCallback {
  if (quiet) return () => {};
  const stream = out.stream ?? process.stderr;
  const now = out.now ?? (() => performance.now());
  // TERM=dumb (Emacs shell, some CI runners) is a terminal without the escapes a bar redraws with;
  // cli-progress draws only on a stream that says it is a TTY.
  const tty = (out.tty ?? process.env.TERM !== 'dumb') && !!stream.isTTY;
  let phase: string | undefined;
  let t0 = 0;
  let start = 0;
  let lastLog = 0;
  let bar: cliProgress.SingleBar | undefined;
  /** The bar's line as last formatted, which is what the terminal shows (cli-progress redraws only a changed line). */
  const drawn = { stream, text: '', end: () => stopBar(false) };

  const line = (text: string) => stream.write(`tessera: ${text}\n`);
  /** Stops the phase's bar: a finished one is cleared (its done line replaces it), an unfinished one keeps its last state, its line ended. */
  const stopBar = (finished: boolean) => {
    if (!bar) return;
    // cli-progress reads clearOnComplete when the bar stops, and which one applies is known only then.
    (bar as unknown as { options: cliProgress.Options }).options.clearOnComplete = finished;
    bar.stop();
    bar = undefined;
    if (live === drawn) setLive(undefined);
  };
  const format: cliProgress.GenericFormatter = (options, params, shown: BarText) => {
    // A line as wide as the terminal wraps on some terminals, and a redraw from column 1 then redraws only its last row.
    const width = params.maxWidth - 1;
    let text: string;
    if (shown.total === undefined) {
      text = `tessera: ${shown.phase}...${params.value > 0 ? ` ${amount(params.value, shown.unit)}` : ''}${shown.rate ? ` | ${shown.rate}` : ''}`;
    } else {
      const counts = `${Math.floor(100 * params.progress)}% ${unitless(params.value, shown.unit)} / ${amount(shown.total, shown.unit)}`;
      const layout = (withBar: boolean, withRate: boolean) => {
        const tail = `${withRate && shown.rate ? ` | ${shown.rate}` : ''}${shown.eta ? ` | ${shown.eta}` : ''}`;
        if (!withBar) return `tessera: ${shown.phase} ${counts}${tail}`;
        const barsize = Math.min(BAR_WIDTH, width - `tessera: ${shown.phase} [] ${counts}${tail}`.length);
        return barsize >= MIN_BAR_WIDTH ? `tessera: ${shown.phase} [${cliProgress.Format.BarFormat(params.progress, { ...options, barsize })}] ${counts}${tail}` : undefined;
      };
      // On a narrow terminal (80 columns) the bar shrinks, then the rate goes (the done line has it),
      // then the bar: the counts and the ETA stay in view.
      const fits = (s: string | undefined) => s !== undefined && s.length <= width;
      text = [layout(true, true), layout(true, false), layout(false, true)].find(fits) ?? layout(false, false)!;
    }
    drawn.text = text.slice(0, Math.max(1, width));
    return drawn.text;
  };
  if (tty && !exitHooked) {
    exitHooked = true;
    // A command that ends (or fails, or is interrupted) mid-phase leaves the shell prompt on a line of its own.
    process.once('exit', () => {
      if (live) live.stream.write('\n');
    });
  }

  return (e) => {
    const t = now();
    if (e.phase !== phase) {
      stopBar(false);
      phase = e.phase;
      t0 = t;
      start = e.done;
      lastLog = t;
      // A resumed phase (build after an interruption) says where it starts: its rate counts from there.
      if (!tty) line(`${e.phase}${e.total ? ` (${amount(e.total, e.unit)}${e.done > 0 ? `, ${unitless(e.done, e.unit)} done` : ''})` : ''}...`);
    }
    const secs = (t - t0) / 1000;
    const rate = secs >= MIN_RATE_SECONDS && e.done > start ? (e.done - start) / secs : undefined;
    const rateText = rate === undefined ? undefined : e.unit === 'bytes' ? `${formatBytes(rate)}/s` : perUnit(rate, e.unit);
    const finished = e.total !== undefined && e.done >= e.total;
    if (finished) {
      stopBar(true);
      line(`${e.phase}: done, ${amount(e.done, e.unit)} in ${duration(secs)}${rateText ? ` (${rateText})` : ''}`);
      phase = undefined;
      return;
    }
    const total = e.total ? amount(e.total, e.unit) : undefined;
    const eta = rate && e.total ? `eta ${etaText((e.total - e.done) / rate)}` : undefined;
    if (tty) {
      const shown: BarText = { phase: e.phase, unit: e.unit, total: e.total || undefined, rate: rateText, eta };
      if (!bar) {
        // cli-progress draws the bar and limits redraws to REDRAWS_PER_SECOND; it leaves the cursor
        // shown and line wrap on (a Ctrl-C left a terminal without either), and its timer draws the
        // latest state of a phase whose events come faster.
        bar = new cliProgress.SingleBar({
          stream: stream as NodeJS.WritableStream,
          format,
          fps: REDRAWS_PER_SECOND,
          barsize: BAR_WIDTH,
          barCompleteChar: '=',
          barIncompleteChar: '-',
          hideCursor: false,
          linewrap: true,
          clearOnComplete: true,
          stopOnComplete: false,
          noTTYOutput: false,
          gracefulExit: false,
        });
        setLive(drawn);
        bar.start(e.total || 0, e.done, shown);
      } else {
        if (e.total) bar.setTotal(e.total);
        bar.update(e.done, shown);
      }
    } else if (t - lastLog >= LOG_EVERY_MS) {
      lastLog = t;
      const pct = e.total ? ` (${Math.floor((100 * e.done) / e.total)}%)` : '';
      line(`${e.phase}: ${total ? `${unitless(e.done, e.unit)} / ${total}` : amount(e.done, e.unit)}${pct}${[rateText, eta].filter(Boolean).map((s) => `, ${s}`).join('')}`);
    }
  };
}

/** The done half of "1200 / 8000 rows": the unit is said once, after the total ("1.2 MiB / 9.8 MiB" for bytes). */
function unitless(n: number, unit: string): string {
  return unit === 'bytes' ? formatBytes(n) : String(Math.round(n));
}

/** "eta 7 s", "eta 4 min 05 s": a guess, so no fractions. */
function etaText(seconds: number): string {
  return seconds < 60 ? `${Math.ceil(seconds)} s` : duration(seconds);
}

/** "850 rows/s", "2.5 rows/s", and "30.0 s/iteration" for steps slower than one a second (not "0.0 iterations/s"). */
function perUnit(rate: number, unit: string): string {
  if (rate >= 10) return `${Math.round(rate)} ${unit}/s`;
  if (rate >= 1) return `${rate.toFixed(1)} ${unit}/s`;
  return `${(1 / rate).toFixed(1)} s/${unit.endsWith('s') ? unit.slice(0, -1) : unit}`;
}
