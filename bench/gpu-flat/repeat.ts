/**
 * The benches' timing loop: one warm-up search (pipelines, scratch buffers), more untimed ones for
 * warmMs (the GPU's clocks fall while a new variant's pipelines compile for seconds and take a
 * while of load to come back: H200 call h3), then searches until at least 2 and either maxReps or
 * minMs of wall time. `beforeTimed` runs between them (e.g. to drop the warm-up's GPU timestamps
 * and re-rank counters).
 */
export async function repeatSearch<R>(
  search: () => Promise<R>,
  opts: { minMs: number; maxReps: number; warmMs?: number; beforeTimed?: () => void },
): Promise<{ firstMs: number; wallMs: number; reps: number; last: R }> {
  const tw = performance.now();
  let last = await search();
  const firstMs = performance.now() - tw;
  const tWarm = performance.now();
  while (performance.now() - tWarm < (opts.warmMs ?? 0)) last = await search();
  opts.beforeTimed?.();
  let reps = 0;
  const start = performance.now();
  while (reps < opts.maxReps && (reps < 2 || performance.now() - start < opts.minMs)) {
    last = await search();
    reps++;
  }
  return { firstMs, wallMs: (performance.now() - start) / reps, reps, last };
}
