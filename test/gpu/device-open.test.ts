/**
 * An adapter that refuses to open a device (a driver out of devices, a lost adapter) gives
 * GPU_UNAVAILABLE naming the adapter and the fixes, not the driver's bare OperationError; devices
 * already opened for the index are closed.
 */
import { describe, expect, it } from 'vitest';
import { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import { resolveGpu } from '../../src/gpu/device.js';
import { TesseraError } from '../../src/core/errors.js';
import { gpuForTests } from '../helpers/gpu.js';

const hasGpu = await gpuForTests('GPU device opening');

describe.skipIf(!hasGpu)('gpu device opening', () => {
  it('requestDevice rejecting on the third device: GPU_UNAVAILABLE naming it, the first two destroyed', async () => {
    const real = (await resolveGpu())!;
    const opened: GPUDevice[] = [];
    const gpu = {
      requestAdapter: async (o?: GPURequestAdapterOptions) => {
        const adapter = (await real.requestAdapter(o))!;
        return new Proxy(adapter, {
          get(target, prop) {
            if (prop === 'requestDevice') {
              return async (desc?: GPUDeviceDescriptor) => {
                if (opened.length === 2) throw Object.assign(new Error('Failed to create device'), { name: 'OperationError' });
                const device = await target.requestDevice(desc);
                opened.push(device);
                return device;
              };
            }
            const v = Reflect.get(target, prop, target) as unknown;
            return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
          },
        });
      },
    } as GPU;
    const e = await GpuFlatIndex.create(8, 'ip', { gpu, devicesPerGpu: 3 }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(TesseraError);
    expect((e as TesseraError).code).toBe('GPU_UNAVAILABLE');
    expect((e as TesseraError).message).toMatch(/^adapter 2 \(.+\) refused to open a device: Failed to create device; open fewer devices \(devicesPerGpu\)/);
    expect(opened.length).toBe(2);
    for (const device of opened) expect(await Promise.race([device.lost.then(() => 'lost'), new Promise((r) => setTimeout(() => r('open'), 2000))])).toBe('lost');
  });
});
