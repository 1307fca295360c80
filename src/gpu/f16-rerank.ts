/**
 * Exact re-ranking for f16 shards scored approximately (the tensor scorer quantises f16 rows to i8
 * while staging them, src/gpu/tensor/hook.ts tensorTuning.f16): the per-dimension steps of those
 * codes from the rows' largest magnitudes (shaders/f16_absmax.wgsl), and the pass that rewrites
 * each query's final k' keys with the exact f16 inner products (shaders/f16_rerank.wgsl), after
 * which the host orders each list again.
 */
import absmaxWgsl from '../../shaders/f16_absmax.wgsl';
import rerankWgsl from '../../shaders/f16_rerank.wgsl';

/** Workgroups of f16_absmax along rows at most (each takes ceil(rows / this) rows). */
const ABSMAX_ROW_GROUPS = 1024;

export function f16RerankPipeline(device: GPUDevice): GPUComputePipeline {
  return device.createComputePipeline({ label: 'f16_rerank', layout: 'auto', compute: { module: device.createShaderModule({ label: 'f16_rerank', code: rerankWgsl }), entryPoint: 'main' } });
}

export function f16AbsmaxPipeline(device: GPUDevice): GPUComputePipeline {
  return device.createComputePipeline({ label: 'f16_absmax', layout: 'auto', compute: { module: device.createShaderModule({ label: 'f16_absmax', code: absmaxWgsl }), entryPoint: 'main' } });
}

/** f16_rerank's params for one tile: (nq, k, rows, rowWords, q4, idBase, at, 0); dispatch (k, nq). */
export function f16RerankParams(nq: number, k: number, rows: number, rowWords: number, q4: number, idBase: number, at: number): number[] {
  return [nq, k, rows, rowWords, q4, idBase, at, 0];
}

/** f16_absmax's params and dispatch for a tile of `rows` rows of `words` u32 words. */
export function f16AbsmaxPlan(rows: number, words: number): { params: Uint32Array<ArrayBuffer>; groups: [number, number] } {
  const y = Math.max(1, Math.min(ABSMAX_ROW_GROUPS, rows));
  const rowsPer = Math.ceil(rows / y);
  return { params: new Uint32Array([rows, words, rowsPer, 0]), groups: [Math.ceil(words / 64), Math.ceil(rows / rowsPer)] };
}

/**
 * The tensor hook's decode parameters for f16 rows from each dimension's largest magnitude (dp
 * dims): vmin 0, step_j = max_j / 127, then the inverse steps the staging multiplies by (0 for a
 * dimension that is zero in every row: its codes are 0). uniform: max_j is the largest over all.
 */
export function f16StepParams(maxima: Float32Array, dp: number, uniform = false): Float32Array<ArrayBuffer> {
  const out = new Float32Array(3 * dp);
  const all = maxima.subarray(0, dp).reduce((a, b) => Math.max(a, b), 0);
  for (let j = 0; j < dp; j++) {
    const m = uniform ? all : maxima[j] ?? 0;
    const ok = m > 0 && Number.isFinite(m);
    out[dp + j] = ok ? m / 127 : 0;
    out[2 * dp + j] = ok ? 127 / m : 0;
  }
  return out;
}

/**
 * Orders each query's k pairs by the exact keys the re-rank wrote: higher key first, then lower
 * id (flat_order's order); empty slots (id 0xffffffff) last.
 */
export function sortLists(keys: Float32Array, ids: Uint32Array, nq: number, k: number): void {
  // Insertion sort in place: k' is at most a few dozen (Array.prototype.sort with a comparator took
  // 9 ms for 1024 lists of 40 in Node, this ~1).
  const EMPTY = 0xffffffff;
  for (let q = 0; q < nq; q++) {
    const at = q * k;
    for (let i = 1; i < k; i++) {
      const key = keys[at + i]!;
      const id = ids[at + i]!;
      if (id === EMPTY) continue;
      let j = i - 1;
      for (; j >= 0; j--) {
        const oid = ids[at + j]!;
        const okey = keys[at + j]!;
        if (oid !== EMPTY && (okey > key || (okey === key && oid < id))) break;
        keys[at + j + 1] = okey;
        ids[at + j + 1] = oid;
      }
      keys[at + j + 1] = key;
      ids[at + j + 1] = id;
    }
  }
}
