import { vi } from 'vitest';

/**
 * The longest wait, in ms, between two ticks of a 10 ms interval while `work` runs: how long long
 * work on the calling thread held timers (a progress bar's redraw, Ctrl-C's handler) at most.
 */
export async function longestTimerGap(work: () => Promise<unknown>): Promise<number> {
  let last = performance.now();
  let longest = 0;
  const timer = setInterval(() => {
    longest = Math.max(longest, performance.now() - last);
    last = performance.now();
  }, 10);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return Math.max(longest, performance.now() - last);
}

/**
 * Makes every breathe() pause until mockRestore(): each performance.now() read sees 1 s more, so
 * long work on the calling thread (src/wasm/worker-pool.ts breather) yields at every piece boundary.
 */
export function pauseEveryBreathe(): { mockRestore(): void } {
  let clock = performance.now();
  return vi.spyOn(performance, 'now').mockImplementation(() => (clock += 1000));
}

/**
 * Event-loop turns while `work` runs, with every breathe() pausing (pauseEveryBreathe): how often
 * long work on the calling thread let timers run, counted instead of timed. A timed gap only fails
 * where one unpaused pass outlasts the limit, which depends on the machine and its load: each check
 * pass over 160k x 768 rows in one piece held timers 536 ms in one run here and under a 300 ms limit
 * in another. `work` reads the count so far (turns) to count a part of it.
 */
export async function turnsDuring(work: (turns: () => number) => Promise<unknown>): Promise<number> {
  const clock = pauseEveryBreathe();
  let turns = 0;
  let on = true;
  // Queued again from its own run, so it runs once each time the loop comes round (check phase).
  const tick = () => {
    if (!on) return;
    turns++;
    setImmediate(tick);
  };
  setImmediate(tick);
  try {
    await work(() => turns);
    return turns;
  } finally {
    on = false;
    clock.mockRestore();
  }
}
