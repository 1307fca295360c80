/**
 * merge_one (shaders/merge_one.wgsl): the merge step of flat search, in place of merge_lists levels,
 * when kernelTuning.mergeOne is on (the default since gpu-int8 run 6 on the H200: the same lists bit
 * for bit as merge_lists there, 1M nq = 1 0.310 ms a search against 0.345; for batches up to 4
 * queries until calls h7-h8, which measured it faster at every batch: kernelTuning.mergeOneMaxBatch).
 * Same bindings, params and output as merge_lists; wider workgroups (256 invocations, 8 pairs each
 * in flight) behind a threshold in registers: few, wide levels (1M nq = 1: 512 lists -> 16 -> 1).
 */
import mergeOneWgsl from '../../shaders/merge_one.wgsl';
import { expandWgslIncludes } from './wgsl-include.js';
import { pow2Ceil } from './pow2.js';

/** Invocations a workgroup and pairs each loads a round (the shader's WG and U). */
export const MERGE_ONE_WG = 256;
const U = 8;

/** Knobs (bench/gpu-int8 sweeps them; the defaults are what the H200 measured best). */
export const mergeOneTuning = {
  /**
   * 1: pairs read position-major (the lists' heads first), a first sort after one pair a thread,
   * sorts over the filled prefix only; 2: as 1, with sorts of <= 256 pairs in registers through
   * subgroup shuffles where the device has subgroups (else as 1); 0: list-major, every sort over the
   * whole buffer (before gpu-int8 call a1). H200 calls a1 / a2, 1M nq = 1: merges 0.083 ms (0) ->
   * 0.033 (1); sorts by rank (a2) were 2.2x slower than 1. See shaders/merge_one.wgsl.
   */
  order: 2,
};

/** Compile-time facts of one merge_one pipeline, and the lists a workgroup takes. */
export interface MergeOnePlan {
  /** Buffer slots (power of two >= k + 256 CH). */
  KP: number;
  /** Pairs a thread appends between checks. */
  CH: number;
  /** The shader's ORD (mergeOneTuning.order). */
  ORD: number;
}

/**
 * The buffer for k: `slots` (power of two; 0: pow2Ceil(2 (k + 256)), 1024 at k' = 40) capped by
 * workgroup memory (8 bytes a slot); undefined when k plus one pair an invocation does not fit.
 */
export function planMergeOne(k: number, maxWorkgroupStorage: number, slots = 0): MergeOnePlan | undefined {
  const fit = Math.floor((maxWorkgroupStorage - 16) / 8);
  let KP = pow2Ceil(Math.max(slots || 2 * (k + MERGE_ONE_WG), k + MERGE_ONE_WG));
  while (KP > fit) KP /= 2;
  if (KP < k + MERGE_ONE_WG) return undefined;
  const CH = Math.max(1, Math.min(U, Math.floor((KP - k) / MERGE_ONE_WG)));
  return { KP, CH, ORD: Math.max(0, Math.min(2, Math.floor(mergeOneTuning.order))) };
}

/**
 * Lists a workgroup takes for nIn lists of k pairs a query: `fan` when set (>= 2); else all of them
 * (one level) while they hold at most `pairs` pairs (two rounds of 2048), otherwise two levels of
 * pow2Ceil(ceil(sqrt(nIn))) lists a workgroup. H200, nq = 1, k' = 40, ms a search: 1M's 512 lists
 * 32 a workgroup 0.310, 16 0.315 / 0.316, 8 0.314, all 512 in one 0.335-0.338 (merge_lists 0.342 /
 * 0.345); 21M's 4096 in 64-list workgroups 4.219, 128 4.248, all in one 4.543 (gpu-int8 runs 6-7).
 */
export function mergeOneFan(nIn: number, k: number, fan = 0, pairs = 4096): number {
  if (fan) return Math.max(2, fan);
  if (nIn * k <= pairs) return Math.max(2, nIn);
  return Math.max(2, pow2Ceil(Math.ceil(Math.sqrt(nIn))));
}

export function mergeOneKey(p: MergeOnePlan): string {
  return `merge_one:${p.KP}:${p.CH}:${p.ORD}`;
}

/**
 * merge_one's source for a plan: ORD 2 on a device with subgroups keeps the shader's //@sg block
 * (sorts of <= 256 pairs by subgroup shuffles) with `enable subgroups;`; otherwise the //@nosg
 * block (ORD 2 then sorts as ORD 1, through workgroup memory).
 */
export function mergeOneSource(p: MergeOnePlan, subgroups: boolean): string {
  const sg = p.ORD === 2 && subgroups;
  const block = (text: string, name: string, keep: boolean): string =>
    text.replace(new RegExp(String.raw`^//@${name}\n([\s\S]*?)^//@end\n`, 'm'), (_m, body: string) => (keep ? body : ''));
  const code = block(block(expandWgslIncludes(mergeOneWgsl), 'sg', sg), 'nosg', !sg)
    .replace(/^\/\/@SG_PARAMS\n/m, sg ? '  @builtin(subgroup_size) sgSize: u32, @builtin(subgroup_invocation_id) sgLane: u32,\n' : '')
    .replace(/^\/\/@NOSG_LETS\n/m, sg ? '' : '  let sgSize = 0u;\n  let sgLane = 0u;\n');
  return sg ? `enable subgroups;\ndiagnostic(off, subgroup_uniformity);\n${code}` : code;
}

/** subgroups: whether ORD 2 may use them (the device's feature; tests pass false for the fallback). */
export function mergeOnePipeline(device: GPUDevice, p: MergeOnePlan, subgroups = device.features.has('subgroups')): GPUComputePipeline {
  return device.createComputePipeline({
    label: `merge_one KP=${p.KP} CH=${p.CH} ORD=${p.ORD}`,
    layout: 'auto',
    compute: {
      module: device.createShaderModule({ label: 'merge_one', code: mergeOneSource(p, subgroups) }),
      entryPoint: 'merge_one',
      constants: { KP: p.KP, CH: p.CH, ORD: p.ORD },
    },
  });
}
