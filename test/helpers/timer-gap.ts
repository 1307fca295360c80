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
