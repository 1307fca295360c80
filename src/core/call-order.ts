/**
 * Orders the calls on one index as a readers-writer lock does: searches (and save) run together,
 * train, add and dispose run alone, each in call order. Backends keep pointers into their storage
 * across awaits (WASM list tables and row buffers, GPU tiles and id runs), so a search overlapping
 * an add read moved or half-written rows: wrong neighbours, or a worker trapping out of bounds.
 */
import type { Index } from './types.js';

const READS = ['search', 'save'] as const;
const WRITES = ['train', 'add', 'dispose'] as const;
const ordered = new WeakSet<object>();

/**
 * Makes `index`'s own train/add/search/save/dispose wait for each other as above and returns it
 * (the same object, so `instanceof` and its other members are untouched). A search started after
 * an add, without awaiting it, sees that add's vectors. Idempotent.
 */
export function orderCalls<T extends Index>(index: T): T {
  if (ordered.has(index)) return index;
  ordered.add(index);
  const settled = (p: Promise<unknown>) => p.then(
    () => undefined,
    () => undefined,
  );
  /** The last write queued (settled, never rejects). */
  let lastWrite: Promise<void> = Promise.resolve();
  /** Reads queued since that write, until they settle. */
  const reads = new Set<Promise<void>>();
  const target = index as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  for (const name of READS) {
    const call = target[name]!;
    target[name] = function (...args: unknown[]) {
      const run = untilAborted(lastWrite, name === 'search' ? signalOf(args[2]) : undefined).then(() => call.apply(index, args));
      const done = settled(run);
      reads.add(done);
      void done.then(() => reads.delete(done));
      return run;
    };
  }
  for (const name of WRITES) {
    const call = target[name]!;
    target[name] = function (...args: unknown[]) {
      const run = Promise.all([lastWrite, ...reads]).then(() => call.apply(index, args));
      lastWrite = settled(run);
      reads.clear();
      return run;
    };
  }
  return index;
}

/** A search's `signal` (SearchOptions), where its options have one. */
function signalOf(opts: unknown): AbortSignal | undefined {
  const signal = (opts as { signal?: unknown } | null | undefined)?.signal as AbortSignal | undefined;
  return typeof signal?.addEventListener === 'function' && typeof signal.aborted === 'boolean' ? signal : undefined;
}

/**
 * `turn`, or the signal's reason as soon as it aborts before then: a search queued behind an add
 * rejects at its abort, as fetch does, and never runs (it waited for the add to end, minutes for a
 * large HNSW add, before it looked at its signal).
 */
function untilAborted(turn: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return turn;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    void turn.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}
