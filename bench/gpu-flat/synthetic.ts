/** Host mirror of shaders/fill_random.wgsl: the synthetic rows the GPU generates, for int8 re-ranking and checks. */

function pcg(v: number): number {
  const state = (Math.imul(v >>> 0, 747796405) + 2891336453) >>> 0;
  const word = Math.imul(((state >>> ((state >>> 28) + 4)) ^ state) >>> 0, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}

/** Row `row` of generator `seed` at dimension d, unit norm, written into out. */
export function syntheticRow(seed: number, row: number, d: number, out: Float32Array): void {
  const h = pcg((seed + row) >>> 0);
  let s = 0;
  for (let j = 0; j < d; j++) {
    const v = Math.fround((pcg((h ^ j) >>> 0) >>> 8) / 16777216) * 2 - 1;
    out[j] = v;
    s += v * v;
  }
  const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
  for (let j = 0; j < d; j++) out[j] = out[j]! * inv;
}

/** nq x d unit-norm queries (host random, seeded). */
export function syntheticQueries(nq: number, d: number, seed: number): Float32Array {
  const q = new Float32Array(nq * d);
  const row = new Float32Array(d);
  for (let i = 0; i < nq; i++) {
    syntheticRow(seed ^ 0x5bd1e995, i * 7919, d, row);
    q.set(row, i * d);
  }
  return q;
}
