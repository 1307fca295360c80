import type { VectorFileFormat } from './vectors.js';

/** The format a path's extension names, or undefined. Apart from io/vectors.ts, which loads on demand (io/vectors-lazy.ts). */
export function vectorFormatOf(path: string): VectorFileFormat | undefined {
  const ext = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase();
  return ext === 'npy' ? 'npy' : ext === 'fvecs' ? 'fvecs' : ext === 'f32' ? 'f32' : undefined;
}
