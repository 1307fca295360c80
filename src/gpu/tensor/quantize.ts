/**
 * 8-bit codes for the tensor-core scorer: base rows by per-dimension min/step (FAISS SQ8
 * "QT_8bit" ranges, the GPU flat index's int8 storage), queries by one symmetric scale each.
 *
 * With codes c (0..255), decoded x_j = vmin_j + c_j * step_j, so q . x = q . vmin + sum_j (q_j step_j) c_j.
 * The first term is the same for every row of a query, so ranking needs only y . c with
 * y_j = q_j step_j, quantised as a_j = round(y_j / s), s = max |y_j| / 127. The integer key is
 * a . c up to a per-query constant (see keyOf): exact in i32, comparable across rows.
 */

export interface SqParams {
  vmin: Float32Array;
  step: Float32Array;
}

/** Bytes a row takes on the GPU: d rounded up to 32 (the K of the tensor-core configs). */
export function paddedDim(d: number): number {
  return Math.ceil(d / 32) * 32;
}

/** Per-dimension min and step (max - min) / 255 over the n x d rows given. */
export function trainSq(x: Float32Array, n: number, d: number): SqParams {
  const vmin = new Float32Array(d).fill(Infinity);
  const vmax = new Float32Array(d).fill(-Infinity);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const v = x[i * d + j]!;
      if (v < vmin[j]!) vmin[j] = v;
      if (v > vmax[j]!) vmax[j] = v;
    }
  }
  const step = new Float32Array(d);
  for (let j = 0; j < d; j++) {
    if (!(vmin[j]! <= vmax[j]!)) vmin[j] = vmax[j] = 0;
    step[j] = (vmax[j]! - vmin[j]!) / 255;
  }
  return { vmin, step };
}

/**
 * n x dPad bytes: the u8 codes (signed = false) or the codes minus 128 as i8 (signed = true, i.e.
 * the code with its top bit flipped). Padding dims hold byte 0, which adds nothing to any key.
 */
export function encodeRows(x: Float32Array, n: number, d: number, sq: SqParams, signed: boolean, dPad = paddedDim(d)): Uint8Array {
  const out = new Uint8Array(n * dPad);
  const flip = signed ? 0x80 : 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < d; j++) {
      const s = sq.step[j]!;
      const c = s > 0 ? Math.min(255, Math.max(0, Math.round((x[i * d + j]! - sq.vmin[j]!) / s))) : 0;
      out[i * dPad + j] = c ^ flip;
    }
  }
  return out;
}

/** u8 mode: the sum of each row's codes (the kernel subtracts 128 x this to undo the query offset). */
export function rowSums(codes: Uint8Array, n: number, dPad: number): Int32Array {
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < dPad; j++) s += codes[i * dPad + j]!;
    out[i] = s;
  }
  return out;
}

export interface QuantizedQueries {
  /** nq x dPad bytes: a_j as i8 (signed) or a_j + 128 as u8. Padding dims are a_j = 0. */
  codes: Uint8Array;
  /** s per query: key * s approximates y . c. */
  scale: Float32Array;
}

/** Quantises nq x d float queries against the base's SQ params, one symmetric scale per query. */
export function quantizeQueries(q: Float32Array, nq: number, d: number, sq: SqParams, signed: boolean, dPad = paddedDim(d)): QuantizedQueries {
  const codes = new Uint8Array(nq * dPad);
  const scale = new Float32Array(nq);
  const y = new Float32Array(d);
  for (let i = 0; i < nq; i++) {
    let m = 0;
    for (let j = 0; j < d; j++) {
      y[j] = q[i * d + j]! * sq.step[j]!;
      m = Math.max(m, Math.abs(y[j]!));
    }
    const s = m > 0 ? m / 127 : 1;
    scale[i] = s;
    const row = codes.subarray(i * dPad, (i + 1) * dPad);
    if (!signed) row.fill(128);
    for (let j = 0; j < d; j++) {
      const a = Math.max(-127, Math.min(127, Math.round(y[j]! / s)));
      row[j] = signed ? a & 0xff : a + 128;
    }
  }
  return { codes, scale };
}

/**
 * The kernel's integer key of (query row qi, base row bi), computed exactly on the CPU: the
 * reference the device benchmark checks the tensor-core scores against, equal bit for bit.
 * signed: a . (c - 128); u8: (a + 128) . c - 128 * sum(c), which is a . c.
 */
export function keyOf(qCodes: Uint8Array, qi: number, bCodes: Uint8Array, bi: number, dPad: number, signed: boolean): number {
  let s = 0;
  const qo = qi * dPad;
  const bo = bi * dPad;
  if (signed) {
    for (let j = 0; j < dPad; j++) s += ((qCodes[qo + j]! << 24) >> 24) * ((bCodes[bo + j]! << 24) >> 24);
  } else {
    for (let j = 0; j < dPad; j++) s += (qCodes[qo + j]! - 128) * bCodes[bo + j]!;
  }
  return s;
}
