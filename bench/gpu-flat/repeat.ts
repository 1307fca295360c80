/**
 * The benches' timing loop: one warm-up search (pipelines, scratch buffers), more untimed ones for
 * warmMs (the GPU's clocks fall while a new variant's pipelines compile for seconds and take a
 * while of load to come back: H200 call h3), then searches until at least 2 and either maxReps or
 * minMs of wall time. `beforeTimed` runs between them (e.g. to drop the warm-up's GPU timestamps
 * and re-rank counters).
 *
 * inFlight (default 1): searches kept running at once, each started as one ends, in the warm-up
 * and the timed loop alike. One at a time, a 1M search leaves the GPU idle for the host's share of
 * each search (~2 of ~3 ms at 16 queries, H100 call h92), and its clocks fall: every kernel then
 * ran up to twice as long and the scan up to four times. torch's baseline queues its repetitions
 * back to back; two in flight (the shards' readback slots) keep the next search queued on the GPU.
 */
export async function repeatSearch<R>(
  search: () => Promise<R>,
  opts: { minMs: number; maxReps: number; warmMs?: number; beforeTimed?: () => void; inFlight?: number },
): Promise<{ firstMs: number; wallMs: number; reps: number; last: R }> {
  const inFlight = Math.max(1, Math.floor(opts.inFlight ?? 1));
  const tw = performance.now();
  let last = await search();
  const firstMs = performance.now() - tw;
  // Runs searches inFlight at a time until `more` says stop (asked as each one is started).
  const pool = async (more: (started: number) => boolean): Promise<number> => {
    let started = 0;
    const lane = async (): Promise<void> => {
      while (more(started)) {
        started++;
        last = await search();
      }
    };
    await Promise.all(Array.from({ length: inFlight }, lane));
    return started;
  };
  const tWarm = performance.now();
  await pool(() => performance.now() - tWarm < (opts.warmMs ?? 0));
  opts.beforeTimed?.();
  const start = performance.now();
  const reps = await pool((n) => n < opts.maxReps && (n < 2 || performance.now() - start < opts.minMs));
  return { firstMs, wallMs: (performance.now() - start) / reps, reps, last };
}
