import type { TextEncoder } from '../../src/encoder/types.js';

/**
 * A 4-d encoder that is only arithmetic on each text's number (texts are row numbers): builds of
 * 100,000 rows encode at once, with no model.
 */
export const arithmeticEncoder: TextEncoder = {
  dim: 4,
  name: 'arithmetic',
  async encode(texts) {
    const out = new Float32Array(texts.length * 4);
    texts.forEach((t, i) => {
      const n = Number(t);
      out.set([Math.sin(n), Math.cos(n), Math.sin(n / 7), Math.cos(n / 13)], i * 4);
    });
    return out;
  },
  async dispose() {},
};
