/**
 * InFlight, the work under way that GpuFlatIndex's adds, TensorInt8Flat's dispose and Encoder's
 * dispose wait for: settled() waits for every promise tracked so far, whether it resolves or rejects.
 */
import { describe, expect, it } from 'vitest';
import { InFlight } from '../../src/core/in-flight.js';

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** True once `p` has settled, checked after the microtasks queued so far have run. */
async function isSettled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((r) => setTimeout(r, 0));
  return done;
}

describe('InFlight', () => {
  it('track returns the promise itself, so its value and its rejection reach the caller', async () => {
    const f = new InFlight();
    const ok = Promise.resolve(7);
    expect(f.track(ok)).toBe(ok);
    await expect(f.track(Promise.resolve('v'))).resolves.toBe('v');
    await expect(f.track(Promise.reject(new Error('boom')))).rejects.toThrow('boom');
  });

  it('settled() waits for every tracked promise, resolved or rejected, and never rejects', async () => {
    const f = new InFlight();
    const a = deferred<number>();
    const b = deferred<number>();
    f.track(a.promise);
    f.track(b.promise).catch(() => undefined);
    expect(f.size).toBe(2);
    const all = f.settled();
    b.reject(new Error('failed search'));
    expect(await isSettled(all)).toBe(false);
    expect(f.size).toBe(1);
    a.resolve(1);
    expect(await isSettled(all)).toBe(true);
    await expect(all).resolves.toBeUndefined();
    expect(f.size).toBe(0);
  });

  it('settled() with nothing tracked resolves at once', async () => {
    const f = new InFlight();
    expect(f.size).toBe(0);
    expect(await isSettled(f.settled())).toBe(true);
  });

  it('settled() covers what was tracked when it was called, not what comes later', async () => {
    const f = new InFlight();
    const a = deferred<void>();
    const later = deferred<void>();
    f.track(a.promise);
    const first = f.settled();
    f.track(later.promise);
    a.resolve();
    expect(await isSettled(first)).toBe(true);
    expect(f.size).toBe(1);
    const second = f.settled();
    expect(await isSettled(second)).toBe(false);
    later.resolve();
    expect(await isSettled(second)).toBe(true);
  });

  it('a tracked rejection nobody else awaits is not reported as unhandled (the tracker handles it)', async () => {
    const f = new InFlight();
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      f.track(Promise.reject(new Error('left running')));
      await f.settled();
      await new Promise((r) => setTimeout(r, 10));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
  });
});
