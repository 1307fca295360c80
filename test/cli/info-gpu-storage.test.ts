/** `tessera info`'s GPU bytes: rows padded to whole 16-byte words as the planner lays them out, and the planes --allow-experimental adds. */
import { describe, expect, it } from 'vitest';
import { gpuStorageBytes } from '../../src/cli/commands/info.js';

describe('tessera info: gpu storage', () => {
  it('counts each precision\'s padded rows: d = 3 takes a 16-byte word a row at every precision, not 12 / 6 / 3 bytes', () => {
    expect(gpuStorageBytes(257, 3, 'l2')).toEqual({ f32: 257 * 16, f16: 257 * 16, int8: 257 * 16 });
    expect(gpuStorageBytes(300, 768, 'l2')).toEqual({ f32: 300 * 3072, f16: 300 * 1536, int8: 300 * 768 });
  });

  it('adds the digit planes (f32, 1.5x) and code plane (f16, 0.75x f32) of an inner-product index, where the stored dims are a multiple of 32', () => {
    expect(gpuStorageBytes(300, 768, 'ip')).toEqual({ f32: 300 * 3072, f16: 300 * 1536, int8: 300 * 768, digitPlanes: { f32: 300 * 1536, f16: 300 * 768 } });
    // d 60: f32 stores 60 dims (none), f16 64 (a code plane of 64 bytes a row).
    expect(gpuStorageBytes(10, 60, 'ip').digitPlanes).toEqual({ f32: undefined, f16: 640 });
    expect(gpuStorageBytes(10, 100, 'ip').digitPlanes).toBeUndefined();
  });
});
