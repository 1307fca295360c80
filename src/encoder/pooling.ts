/** Pooling of token states into one vector a text, and L2 normalisation (sentence-transformers semantics). */

export type Pooling = 'mean' | 'cls';

/**
 * hidden: batch x seqLen x dim row-major; mask: batch x seqLen (1 = real token, [CLS]/[SEP] included).
 * mean: sum of masked states / number of masked tokens (sentence-transformers clamps the count at 1e-9);
 * cls: the first token's state. Returns batch x dim.
 */
export function pool(
  hidden: Float32Array,
  mask: BigInt64Array | Int32Array,
  batch: number,
  seqLen: number,
  dim: number,
  mode: Pooling,
): Float32Array {
  const out = new Float32Array(batch * dim);
  if (mode === 'cls') {
    for (let b = 0; b < batch; b++) out.set(hidden.subarray(b * seqLen * dim, b * seqLen * dim + dim), b * dim);
    return out;
  }
  // Accumulate in float64 so long sequences do not lose precision against the PyTorch reference.
  const acc = new Float64Array(dim);
  for (let b = 0; b < batch; b++) {
    acc.fill(0);
    let count = 0;
    for (let t = 0; t < seqLen; t++) {
      if (Number(mask[b * seqLen + t]) === 0) continue;
      count++;
      const base = (b * seqLen + t) * dim;
      for (let k = 0; k < dim; k++) acc[k]! += hidden[base + k]!;
    }
    const inv = 1 / Math.max(count, 1e-9);
    for (let k = 0; k < dim; k++) out[b * dim + k] = acc[k]! * inv;
  }
  return out;
}

/** Scales each row of x (n x dim) to unit L2 norm in place; zero rows stay zero (torch's F.normalize eps 1e-12). */
export function l2NormalizeRows(x: Float32Array, dim: number): Float32Array {
  for (let o = 0; o < x.length; o += dim) {
    let s = 0;
    for (let k = 0; k < dim; k++) s += x[o + k]! * x[o + k]!;
    const inv = 1 / Math.max(Math.sqrt(s), 1e-12);
    for (let k = 0; k < dim; k++) x[o + k]! *= inv;
  }
  return x;
}
