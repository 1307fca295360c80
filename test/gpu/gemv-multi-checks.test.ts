/**
 * flat_gemv_multi's buffer checks: mfree / m16free (a check leaves that many kf of slots a query free
 * past the room of its interval, so large k lowers the interval) and mfirst / hfirst (a check, and a
 * sort past k, after a workgroup's first iteration). They change only when the buffers are sorted, never what is kept:
 * against the float64 oracle (exact ids; f16 over the half-rounded rows) with the lists poisoned,
 * and the same lists bit for bit as with both off.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { kernelTuning } from '../../src/gpu/flat-shard.js';
import { clusteredVectors, randomVectors } from '../helpers/data.js';
import { expectOracle, forEachPrecision } from '../helpers/gemv-multi-case.js';
import { gpuForTests } from '../helpers/gpu.js';
import { expectSameSearch } from '../helpers/shard-lists.js';

const hasGpu = await gpuForTests('GPU flat_gemv_multi buffer checks');
const defaults = { ...kernelTuning };
let seed = 98000;

/** The check interval (CI) in a flat_gemv_multi pipeline key (gemv-multi.ts gemvMultiKey). */
const checkInterval = (key: string): number => Number(key.split(':')[10]);

describe.skipIf(!hasGpu)('flat_gemv_multi buffer checks (mfree / m16free, mfirst / hfirst)', () => {
  afterEach(() => void Object.assign(kernelTuning, defaults));

  // nq, d, metric, k, mfree, clustered, extra knobs (msp and rows an iteration: buffers with room for the interval to lower).
  it.each([
    [3, 70, 'ip', 40, 3, false, { gemvMultiFrom: 2, mq4: 1, msp: 512 }],
    [6, 52, 'l2', 24, 2, true, { msp: 256, mru: 1, hmru: 1 }],
    [11, 33, 'ip', 20, 2, false, { msp: 128, m16sp: 128, m16ru: 1, h16ru: 1, h16split: 0, m16split: 0 }], // the block of 16
  ] as const)('nq=%i d=%i %s k=%i mfree=%i clustered=%s %o: a lower interval and a first sort, the oracle and the same lists', async (nq, d, metric, k, mfree, clustered, knobs) => {
    const n = 1501;
    const base = clustered ? clusteredVectors(n, d, 6, seed++) : randomVectors(n, d, seed++);
    const q = clustered ? clusteredVectors(nq, d, 6, seed++) : randomVectors(nq, d, seed++);
    await forEachPrecision(d, metric, base, undefined, async ({ precision, rows, index, shard, lists }) => {
      Object.assign(kernelTuning, defaults, { gemvMulti: 15, mci: 6, m16ci: 6, mfree: 0, m16free: 0, mfirst: 0, hfirst: 0 }, knobs);
      const before = shard.scorerFor(nq, k).key;
      const plain = await index.search(q, k);
      Object.assign(kernelTuning, { mfree, m16free: mfree, mfirst: 1, hfirst: 1 });
      const key = shard.scorerFor(nq, k).key;
      expect(key, precision).toMatch(/^gemvm:.*:f1$/);
      expect(checkInterval(key), `${precision}: ${before} -> ${key}`).toBeLessThan(checkInterval(before));
      lists.splice(0, lists.length - 1);
      const got = await index.search(q, k);
      expectOracle(got, rows, q, d, k, metric);
      expectSameSearch(got, plain, lists);
    });
  });
});
