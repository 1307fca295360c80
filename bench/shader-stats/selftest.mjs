// One compute pipeline through Dawn, for selftest.sh: the layers under test see its creation.
import { create, globals } from 'webgpu';

Object.assign(globalThis, globals);
const gpu = create(['enable-dawn-features=disable_symbol_renaming']);
const adapter = await gpu.requestAdapter();
if (!adapter) throw new Error('no WebGPU adapter (selftest.sh needs Vulkan: lavapipe will do)');
const device = await adapter.requestDevice();
const code = `@group(0) @binding(0) var<storage, read_write> values: array<f32>;
fn doubled(x: f32) -> f32 { return x * 2.0; }
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>) { values[g.x] = doubled(values[g.x]); }`;
device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code }), entryPoint: 'main' } });
await device.queue.onSubmittedWorkDone();
device.destroy();
