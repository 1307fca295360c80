/** One dispatch on the software adapter for kernel tests (test/gpu/bench-f16mma-scan2.test.ts, half-scan.test.ts). */
import { expect } from 'vitest';
import { loadDawnGpu } from '../../src/gpu/dawn.js';
import { BufferUsage, MapMode } from '../../src/gpu/device.js';

export type Upload = (data: ArrayBufferView, usage: number) => GPUBuffer;
/**
 * Compiles code on a fresh device of the software adapter (with `features`, and its largest
 * workgroup memory), binds what `bind` uploads (sizes rounded up to 16 bytes, copyable both ways),
 * dispatches `workgroups` once and reads `outputs` back; fails on a compile or uncaptured error.
 */
export async function dispatchOnce(code: string, workgroups: number, bind: (upload: Upload) => { entries: GPUBindGroupEntry[]; outputs: GPUBuffer[] }, features: GPUFeatureName[] = []): Promise<ArrayBuffer[]> {
  const gpu = (await loadDawnGpu([]))!;
  const adapter = (await gpu.requestAdapter())!;
  const device = await adapter.requestDevice({ requiredFeatures: features, requiredLimits: { maxComputeWorkgroupStorageSize: adapter.limits.maxComputeWorkgroupStorageSize } });
  const errors: string[] = [];
  device.addEventListener('uncapturederror', (e) => errors.push((e as GPUUncapturedErrorEvent).error.message));
  const upload: Upload = (data, usage) => {
    const b = device.createBuffer({ size: Math.max(16, Math.ceil(data.byteLength / 16) * 16), usage: usage | BufferUsage.COPY_DST | BufferUsage.COPY_SRC });
    device.queue.writeBuffer(b, 0, data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
    return b;
  };
  const module = device.createShaderModule({ code });
  const compileErrors = (await module.getCompilationInfo()).messages.filter((m) => m.type === 'error');
  if (compileErrors.length) throw new Error(compileErrors.map((m) => `${m.lineNum}: ${m.message}`).join('; '));
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
  const { entries, outputs } = bind(upload);
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries }));
  pass.dispatchWorkgroups(workgroups);
  pass.end();
  const reads = outputs.map((b) => {
    const rb = device.createBuffer({ size: b.size, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
    enc.copyBufferToBuffer(b, 0, rb, 0, b.size);
    return rb;
  });
  device.queue.submit([enc.finish()]);
  const out: ArrayBuffer[] = [];
  for (const rb of reads) {
    await rb.mapAsync(MapMode.READ);
    out.push(rb.getMappedRange().slice(0));
  }
  device.destroy();
  expect(errors).toEqual([]);
  return out;
}

