/**
 * The float64 oracle of int8_gemv's keys: each query quantised as the host does it, its dot with
 * every row's codes, and a check that a result list holds distinct shard ids whose keys match the
 * oracle and rank as it does (ties within f32 rounding). Shared by test/gpu/int8-gemv.test.ts and
 * test/gpu/robustness.test.ts.
 */
import { expect } from 'vitest';
import type { ShardResult } from '../../src/gpu/flat-shard.js';
import { quantizeQuery } from '../../src/gpu/int8-gemv.js';

export interface Int8KeyCase {
  /** Padded queries, nq x dp. */
  queries: Float32Array;
  /** The shard's codes, n x dp. */
  codes: Uint8Array;
  /** Per-dimension vmin then step, 2 x dp (the kernel's sq binding). */
  sq: Float32Array;
  n: number;
  dp: number;
  /** Query parts: 2 = 16-bit queries, 1 = 8-bit. */
  parts: number;
}

export function expectInt8KeysMatchOracle(got: ShardResult, c: Int8KeyCase, nq: number, k: number, what = ''): void {
  for (let q = 0; q < nq; q++) {
    const qq = quantizeQuery(c.queries.subarray(q * c.dp, (q + 1) * c.dp), c.dp, c.sq, c.parts);
    const keys = new Float64Array(c.n);
    let mag = Math.abs(qq.vminDot);
    for (let j = 0; j < c.dp; j++) mag += qq.scale * Math.abs(qq.t[j]!) * 255;
    for (let i = 0; i < c.n; i++) {
      let s = 0;
      for (let j = 0; j < c.dp; j++) s += qq.t[j]! * c.codes[i * c.dp + j]!;
      keys[i] = qq.scale * s + qq.vminDot;
    }
    const order = Array.from({ length: c.n }, (_, i) => i).sort((a, b) => keys[b]! - keys[a]! || a - b);
    // f32 sums of up to dp products of this magnitude: well inside 1e-5 relative.
    const tol = 1e-5 * mag;
    const seen = new Set<number>();
    for (let i = 0; i < k; i++) {
      const id = got.ids[q * k + i]!;
      const key = got.keys[q * k + i]!;
      expect(id, `${what} query ${q} slot ${i}: an id of the shard (poison 0xdeadbeef = unwritten)`).toBeLessThan(c.n);
      expect(seen.has(id), `${what} query ${q}: id ${id} twice`).toBe(false);
      seen.add(id);
      expect(Math.abs(key - keys[id]!), `${what} query ${q} id ${id}: key vs oracle`).toBeLessThanOrEqual(tol);
      // The i-th best key, up to ties within rounding.
      expect(Math.abs(key - keys[order[i]!]!), `${what} query ${q} rank ${i}`).toBeLessThanOrEqual(tol);
    }
  }
}
