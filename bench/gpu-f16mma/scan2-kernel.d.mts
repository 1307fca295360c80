/** Types of scan2-kernel.mjs (plain ESM, run on the device machine without a build). */
export declare const D: number;
/** A variant, `mode:W:RT:QS:CH:nWg[:sel[:KC]]` (bench/gpu-f16mma/README.md). */
export interface Scan2Variant {
  mode: 'reg' | 'loop' | string;
  W: number;
  RT: number;
  QS: 's' | 'g' | string;
  CH: number;
  nWg: number;
  sel: '1' | 'q' | '0' | 'L' | 'R' | 'T' | string;
  KC: number;
}
export declare function parseVariant(v: string): Scan2Variant;
export declare function kernel(spec: Scan2Variant, BQ: number, KP?: number, C?: number, CAP?: number): string;
export declare function selectKernel(opts: { from: 'bests' | 'candidates'; sel?: string; BQ: number; warps?: number; KP: number; CAP?: number; method?: 'bisect' | 'radix' }): string;
export declare function bestsPerLane(sel: string, BQ: number): number;
export declare function queryOfBest(sel: string, BQ: number, lane: number, b: number): number;
export declare function workgroupBytes(spec: Scan2Variant, BQ: number, KP?: number, C?: number): number;
export declare function listSlots(spec: Pick<Scan2Variant, 'W' | 'sel'>, BQ: number, KP?: number): number;
