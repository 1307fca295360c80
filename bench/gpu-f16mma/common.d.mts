/** Types of common.mjs (plain ESM, run on the device machine without a build). */
export declare function f32ToF16Bits(x: number): number;
export declare function f16BitsToF32(h: number): number;
export interface SeededRandom {
  (): number;
  seed(s: number): void;
}
export declare function makeRandom(start?: number): SeededRandom;
export declare function gpuHelpers(device: GPUDevice): {
  buf(size: number, usage: number): GPUBuffer;
  readBack(src: GPUBuffer, size: number, offset?: number): Promise<ArrayBuffer>;
  fillRows(rowsBuf: GPUBuffer, words: number): void;
};
