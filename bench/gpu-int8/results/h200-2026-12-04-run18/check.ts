/**
 * gpu-int8 run 18's exactness check of the tensor hook kernel on the device (bundled like run.ts):
 * the hook kernel dispatched by itself on one tile of random u8 codes (n x 768, segments of segLen
 * rows, k' lists) for the 32-query block (tensorTuning.block16 off) and the 16-query block (on), with
 * poisoned output: every (query, segment) list of the two compared word for word, and the first
 * --ref queries' lists against a CPU integer top-k' of the pre-pass codes (ids exact, ties to the lower id).
 * Without subgroup matrices (lavapipe dry run) the matrix calls are emulated (test/helpers).
 *   node check.mjs --n 200000 --nq 16,7 --kp 40 --seg 512 --ref 3
 */
import { parseArgs } from 'node:util';
import '../../../../src/node.js';
import { acquireDevice, BufferUsage, MapMode } from '../../../../src/gpu/device.js';
import { matrixConfigsOf, SUBGROUP_MATRIX_FEATURE } from '../../../../src/gpu/tensor/choose.js';
import { hookPipeline, hookShape, planTensorHook, prepPipeline, tensorTuning } from '../../../../src/gpu/tensor/hook.js';
import { EMULATED_CONFIG, emulateMatrices } from '../../../../test/helpers/emulate-matrices.js';

const { values } = parseArgs({ options: { n: { type: 'string', default: '200000' }, nq: { type: 'string', default: '16,7' }, kp: { type: 'string', default: '40' }, seg: { type: 'string', default: '512' }, ref: { type: 'string', default: '3' }, experimental: { type: 'string', default: '1' } } });
const n = Number(values.n), d = 768, kp = Number(values.kp), segLen = Number(values.seg), nref = Number(values.ref);
const rowWords = d / 16, q4 = d / 4;
const ctx = await acquireDevice({ allowExperimental: values.experimental === '1' });
const device = ctx.device;
const adapter = ctx.adapter!;
const info = adapter.info as GPUAdapterInfo & { subgroupMaxSize?: number };
const real = device.features.has(SUBGROUP_MATRIX_FEATURE);
const facts = {
  precision: 'int8', metric: 'ip', rowWords,
  configs: real ? matrixConfigsOf(info) : [EMULATED_CONFIG],
  features: real ? device.features : new Set([SUBGROUP_MATRIX_FEATURE, 'subgroups']),
  subgroupSize: real ? (info.subgroupMaxSize ?? 32) : 32,
  maxWorkgroupStorage: adapter.limits.maxComputeWorkgroupStorageSize,
};
let seed = 99;
const r = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
const codes = new Uint8Array(n * d).map(() => Math.floor(r() * 256));
const sq = new Float32Array(2 * d);
for (let j = 0; j < d; j++) { sq[j] = r() - 0.5; sq[d + j] = (r() + 0.01) / 255; }
const bufs: GPUBuffer[] = [];
const buf = (data: ArrayBufferView & { byteLength: number }, usage: number) => {
  const b = device.createBuffer({ size: Math.ceil(data.byteLength / 16) * 16, usage: usage | BufferUsage.COPY_DST | BufferUsage.COPY_SRC });
  device.queue.writeBuffer(b, 0, data as Uint8Array<ArrayBuffer>);
  bufs.push(b);
  return b;
};
const tile = buf(codes, BufferUsage.STORAGE);
const sqBuf = buf(sq, BufferUsage.STORAGE);
const nseg = Math.ceil(n / segLen);
const saved = { ...tensorTuning };

async function runHook(nq: number, qBuf: GPUBuffer, block16: boolean) {
  Object.assign(tensorTuning, saved, { minBatch: 1, block16 });
  const plan = planTensorHook(facts, nq, kp);
  Object.assign(tensorTuning, saved);
  if (!('shape' in plan)) throw new Error(plan.reason);
  const shape = plan.shape;
  const { prep, BQ, key } = hookShape(shape, nq);
  const nqPad = Math.ceil(nq / BQ) * BQ;
  const prepParams = buf(new Uint32Array([nq, 0, rowWords, q4, kp, 0, 0, 0, 0, 0, 0, 0]), BufferUsage.UNIFORM);
  const params = buf(new Uint32Array([nq, n, rowWords, q4, kp, segLen, nseg, 0, 0, 0, 0, 0]), BufferUsage.UNIFORM);
  const prepBuf = buf(new Uint8Array(prep!.bytes), BufferUsage.STORAGE);
  const outWords = nq * nseg * kp * 2;
  const out = buf(new Uint32Array(outWords).fill(0xdeadbeef), BufferUsage.STORAGE);
  const prepPipe = prepPipeline(device, shape);
  const pipe = hookPipeline(device, shape, real ? undefined : emulateMatrices);
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(prepPipe);
  pass.setBindGroup(0, device.createBindGroup({ layout: prepPipe.getBindGroupLayout(0), entries: [prepParams, qBuf, sqBuf, prepBuf].map((b, binding) => ({ binding, resource: { buffer: b } })) }));
  pass.dispatchWorkgroups(...prep!.groups);
  pass.setPipeline(pipe);
  pass.setBindGroup(0, device.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries: [params, tile, prepBuf, sqBuf, out].map((b, binding) => ({ binding, resource: { buffer: b } })) }));
  pass.dispatchWorkgroups(nseg, nqPad / BQ);
  pass.end();
  const readOut = device.createBuffer({ size: outWords * 4, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
  const readPrep = device.createBuffer({ size: prep!.bytes, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
  bufs.push(readOut, readPrep);
  enc.copyBufferToBuffer(out, 0, readOut, 0, outWords * 4);
  enc.copyBufferToBuffer(prepBuf, 0, readPrep, 0, prep!.bytes);
  device.queue.submit([enc.finish()]);
  await Promise.all([readOut.mapAsync(MapMode.READ), readPrep.mapAsync(MapMode.READ)]);
  return { key, BQ, nqPad, got: new Uint32Array(readOut.getMappedRange().slice(0)), pre: readPrep.getMappedRange().slice(0) };
}

for (const nq of values.nq!.split(',').map(Number)) {
  const q = new Float32Array(nq * d).map(() => r() * 2 - 1);
  const qBuf = buf(q, BufferUsage.STORAGE);
  const old = await runHook(nq, qBuf, false);
  const neu = await runHook(nq, qBuf, true);
  let diff = 0;
  for (let i = 0; i < old.got.length; i++) if (old.got[i] !== neu.got[i]) diff++;
  const poisoned = neu.got.filter((w) => w === 0xdeadbeef).length;
  // CPU integer reference for the first nref queries, every segment (pre-pass codes of the new run).
  const a = new Int8Array(neu.pre, 0, neu.nqPad * d);
  let refBad = 0, refChecked = 0;
  for (let i = 0; i < Math.min(nref, nq); i++) {
    for (let s = 0; s < nseg; s++) {
      const ref: { id: number; key: number }[] = [];
      for (let id = s * segLen; id < Math.min(n, (s + 1) * segLen); id++) {
        let key = 0;
        for (let j = 0; j < d; j++) key += a[i * d + j]! * (codes[id * d + j]! - 128);
        ref.push({ id, key });
      }
      ref.sort((x, y) => y.key - x.key || x.id - y.id);
      const at = (i * nseg + s) * kp * 2;
      for (let j = 0; j < kp; j++) {
        const want = ref[j] ? ref[j]!.id : 0xffffffff;
        refChecked++;
        if (neu.got[at + 2 * j + 1] !== want) refBad++;
      }
    }
  }
  console.log(JSON.stringify({ what: 'hook-exact', real, n, nq, kp, segLen, oldKey: old.key.slice(-40), newKey: neu.key.slice(-40), oldBQ: old.BQ, newBQ: neu.BQ, words: old.got.length, diffWords: diff, poisonedWords: poisoned, refChecked, refBad, ok: diff === 0 && poisoned === 0 && refBad === 0 }));
}
for (const b of bufs) b.destroy();
ctx.destroy();
