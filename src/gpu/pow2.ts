/** Powers of two for sizing kernels (buffer slots, sort widths, lanes). */

/** The smallest power of two >= x (1 for x <= 1). */
export function pow2Ceil(x: number): number {
  let p = 1;
  while (p < x) p *= 2;
  return p;
}

/** The largest power of two <= x (1 for x < 2). */
export function pow2Floor(x: number): number {
  let p = 1;
  while (p * 2 <= x) p *= 2;
  return p;
}
