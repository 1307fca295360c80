/**
 * bench/gpu-flat/repeat.ts, the benches' timing loop: with inFlight N it keeps N searches running
 * at once (so the GPU stays fed between searches, as torch's back-to-back repetitions keep it), never
 * more, and every warm-up search has ended before beforeTimed drops their timestamps.
 */
import { describe, expect, it } from 'vitest';
import { repeatSearch } from '../../bench/gpu-flat/repeat.js';

/** A fake search taking `ms`, recording how many ran at once and when each started and ended. */
function fakeSearch(ms: number) {
  const log = { running: 0, most: 0, started: 0, ended: [] as number[] };
  const search = async (): Promise<number> => {
    const n = ++log.started;
    log.running++;
    log.most = Math.max(log.most, log.running);
    await new Promise((r) => setTimeout(r, ms));
    log.running--;
    log.ended.push(performance.now());
    return n;
  };
  return { log, search };
}

describe('bench/gpu-flat repeatSearch', () => {
  it('one search at a time by default: maxReps timed after the first', async () => {
    const { log, search } = fakeSearch(1);
    const r = await repeatSearch(search, { minMs: 1e6, maxReps: 5 });
    expect(r.reps).toBe(5);
    expect(log.most).toBe(1);
    expect(log.started).toBe(6);
  });

  it('inFlight 3 keeps three running at once, never more, and times exactly maxReps', async () => {
    const { log, search } = fakeSearch(5);
    const r = await repeatSearch(search, { minMs: 1e6, maxReps: 12, inFlight: 3 });
    expect(r.reps).toBe(12);
    expect(log.most).toBe(3);
    expect(log.started).toBe(13);
  });

  it('every warm-up search has ended before beforeTimed, and none of the timed ones has started', async () => {
    const { log, search } = fakeSearch(2);
    let atBefore = { running: -1, started: -1 };
    const r = await repeatSearch(search, { minMs: 1e6, maxReps: 4, warmMs: 20, inFlight: 2, beforeTimed: () => (atBefore = { running: log.running, started: log.started }) });
    expect(atBefore.running).toBe(0);
    // The first search, then at least one round of warm-up, then the 4 timed.
    expect(atBefore.started).toBeGreaterThan(1);
    expect(log.started).toBe(atBefore.started + r.reps);
  });

  it('stops at minMs of wall time once 2 have run (in flight too)', async () => {
    const { search } = fakeSearch(3);
    const r = await repeatSearch(search, { minMs: 20, maxReps: 1000, inFlight: 2 });
    expect(r.reps).toBeGreaterThanOrEqual(2);
    expect(r.reps).toBeLessThan(100);
  });
});
