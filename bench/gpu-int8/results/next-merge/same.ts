/**
 * merge_one on the device: the int8 shard's lists (keys and ids, bit for bit) with
 * kernelTuning.mergeOne on (auto fan, all lists in one workgroup, 16 lists a workgroup) against
 * off (merge_lists), for 16 queries at nq = 1, 2, 4 and k' = 10 / 40 over the synthetic rows of
 * gemv.ts. One JSON line a case; exit code 1 if any list differs. Not yet run on a device.
 *
 *   npx esbuild bench/gpu-int8/results/next-merge/same.ts --bundle --platform=node --format=esm \
 *     --loader:.wgsl=text --external:webgpu --ignore-annotations --outfile=out/gemv/same.mjs
 *   node out/gemv/same.mjs --n 1000000
 */
import { parseArgs } from 'node:util';
import '../../../../src/node.js';
import { loadDawnGpu } from '../../../../src/gpu/dawn.js';
import { GpuFlatIndex } from '../../../../src/gpu/flat-index.js';
import { kernelTuning } from '../../../../src/gpu/flat-shard.js';
import { syntheticQueries, syntheticRow } from '../../../gpu-flat/synthetic.js';

const { values } = parseArgs({ options: { n: { type: 'string', default: '1000000' }, d: { type: 'string', default: '768' } } });
const n = Number(values.n);
const d = Number(values.d);
const gpu = (await loadDawnGpu(['enable-dawn-features=allow_unsafe_apis']))!;
const index = await GpuFlatIndex.create(d, 'ip', { precision: 'int8', gpu });
await index.addGenerated(n, 12345, (id, out) => syntheticRow(12345, id, d, out), Math.sqrt(3 / d) * 1.05);
interface ShardInner {
  search(q: Float32Array, nq: number, k: number): Promise<{ keys: Float32Array; ids: Uint32Array }>;
  scorerFor(nq: number, k: number): { key: string };
  q4: number;
}
const shard = (index as unknown as { shards: ShardInner[] }).shards[0]!;
const dp = shard.q4 * 4;
const queries = syntheticQueries(16, d, 777);
const saved = { ...kernelTuning };
let bad = 0;
for (const kp of [10, 40]) {
  for (const nq of [1, 2, 4]) {
    const variants: [string, Partial<typeof kernelTuning>][] = [['off', {}], ['m1', { mergeOne: 1 }], ['m1all', { mergeOne: 1, mergeOneFan: 1 << 20 }], ['m1f16', { mergeOne: 1, mergeOneFan: 16 }]];
    const got: { keys: Uint32Array; ids: Uint32Array }[] = [];
    for (const [, knobs] of variants) {
      Object.assign(kernelTuning, saved, knobs);
      const keys: number[] = [];
      const ids: number[] = [];
      for (let q0 = 0; q0 < 16; q0 += nq) {
        const q = new Float32Array(nq * dp);
        for (let i = 0; i < nq; i++) q.set(queries.subarray((q0 + i) * d, (q0 + i + 1) * d), i * dp);
        const r = await shard.search(q, nq, kp);
        keys.push(...new Uint32Array(r.keys.buffer, r.keys.byteOffset, r.keys.length));
        ids.push(...r.ids);
      }
      got.push({ keys: Uint32Array.from(keys), ids: Uint32Array.from(ids) });
    }
    variants.forEach(([name], v) => {
      let diff = 0;
      for (let i = 0; i < got[0]!.ids.length; i++) if (got[v]!.ids[i] !== got[0]!.ids[i] || got[v]!.keys[i] !== got[0]!.keys[i]) diff++;
      bad += diff;
      console.log(JSON.stringify({ case: 'same', n, nq, kp, variant: name, scorer: shard.scorerFor(nq, kp).key, pairs: got[0]!.ids.length, differ: diff }));
    });
  }
}
Object.assign(kernelTuning, saved);
await index.dispose();
process.exit(bad ? 1 : 0);
