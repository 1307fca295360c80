/**
 * flat_gemv over several tiles a dispatch (kernelTuning.gemvTiles, gemvTilesSource): consecutive
 * tiles of equal rows scored by one dispatch, each workgroup reading its own tile's binding. Exact
 * ids against the float64 oracle (over the half-rounded rows for f16), output poisoned before
 * every search, and the same lists bit for bit as a dispatch a tile: many small tiles (a partial
 * last one, which joins the last group where it has room: gemv-tiles-last.test.ts), several segments a tile with a partial last segment,
 * one query (the batched reduction) and three (the per-row path); f32, f16 packed and on
 * shader-f16 (lavapipe has it), int8 l2 (flat_gemv's PREC 2; int8 ip takes int8_gemv).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { acquireDevice, GpuContext } from '../../src/gpu/device.js';
import { GpuFlatIndex } from '../../src/gpu/flat-index.js';
import { type FlatShard, gemvTilesSource, kernelTuning } from '../../src/gpu/flat-shard.js';
import { fromHalfBits, toHalfBits } from '../../src/gpu/half.js';
import { clusteredVectors, randomVectors } from '../helpers/data.js';
import { defaultAdapterIsSoftware, gpuForTests } from '../helpers/gpu.js';
import { bruteForce, distanceTolerance, expectMatchesOracle } from '../helpers/oracle.js';
import { expectSameSearch, recordShardLists } from '../helpers/shard-lists.js';
import gemvWgsl from '../../shaders/flat_gemv.wgsl';

const hasGpu = await gpuForTests('GPU flat_gemv over several tiles a dispatch');
const defaults = { ...kernelTuning };
const pipelineKeys = (index: GpuFlatIndex): string[] => [...(index as unknown as { shards: { pipelines: Map<string, unknown> }[] }).shards[0]!.pipelines.keys()];
let seed = 93000;

describe('gemvTilesSource', () => {
  it('one tile leaves the kernel as it is; more bind tiles 1.. at 5.. and choose the tile per workgroup, once', () => {
    expect(gemvTilesSource(gemvWgsl, 1)).toBe(gemvWgsl);
    const four = gemvTilesSource(gemvWgsl, 4);
    for (const b of [5, 6, 7]) expect(four).toContain(`@binding(${b}) var<storage, read> base${b - 4}`);
    expect(four).not.toContain('@binding(8)');
    expect(four).toMatch(/let tileSel = min\(wid\.x \/ tileSegs, 3u\);/);
    expect(four).not.toMatch(/\/\/@(MULTI|SCAN)_/);
    // The tile is chosen once, outside the scan's loops: each tile's copy of the scan calls its own loaders.
    expect(four.match(/switch tileSel/g)).toHaveLength(1);
    for (const t of [1, 2, 3]) {
      expect(four).toContain(`fn loadPass${t}(`);
      expect(four).toContain(`fn loadWord${t}(`);
      const scan = four.slice(four.indexOf(`case ${t}u: {`), four.indexOf(t === 3 ? 'default: {' : `case ${t + 1}u: {`));
      expect(scan).toMatch(new RegExp(`loadPass${t}\\(`));
      expect(scan).toMatch(new RegExp(`loadWord${t}\\(`));
      expect(scan).not.toMatch(/\b(loadPass|loadWord)\(/);
      expect(four.match(new RegExp(`base${t}\\[`, 'g'))).toHaveLength(2);
    }
    expect(four.match(/\bbase\[/g)).toHaveLength(2);
    // One tile a dispatch is the measured kernel: base read directly, no tile choice.
    expect(gemvWgsl).not.toMatch(/tileSel|loadPass1/);
    expect(() => gemvTilesSource('fn main() {}', 2)).toThrow(/multi-tile rewrite expected one 'fn loadPass\(' \.\.\. /);
    expect(() => gemvTilesSource(gemvWgsl.replace('//@SCAN_END', ''), 2)).toThrow(/multi-tile rewrite expected one '\/\/@SCAN_BEGIN' \.\.\. '\/\/@SCAN_END'/);
  });
});

describe.skipIf(!hasGpu)('flat_gemv, several tiles a dispatch', () => {
  afterEach(() => void Object.assign(kernelTuning, defaults));

  it.each([
    // d, metric, tiles a dispatch, precision ('f16 native': shader-f16), clustered, query counts, k: each case its own pipelines (lavapipe compiles slowly)
    [61, 'ip', 2, 'f32', false, [1, 3], 1, 240],
    [192, 'l2', 3, 'f16', true, [1, 3], 10, 240],
    [100, 'ip', 4, 'f32', true, [1], 10, 240],
    [96, 'ip', 2, 'f16 native', true, [1, 2], 5, 240],
    [64, 'l2', 2, 'int8', true, [1, 4], 1, 240],
  ] as const)('d=%i %s gemvTiles=%i %s clustered=%s nq=%j k=%i tiles of %i rows: the oracle\'s ids, the lists of a dispatch a tile bit for bit', async (d, metric, tiles, kind, clustered, nqs, k, tileRows) => {
    const n = 1537; // 6 tiles of 240 rows and one of 97
    const precision = kind === 'f16 native' ? 'f16' : kind;
    const base = clustered ? clusteredVectors(n, d, 5, seed++) : randomVectors(n, d, seed++);
    const q = clustered ? clusteredVectors(4, d, 5, seed++) : randomVectors(4, d, seed++);
    // int8: the candidates are re-ranked from the f32 rows on the host.
    const rows = precision === 'f16' ? base.map((x) => fromHalfBits(toHalfBits(x))) : base;
    const rowBytes = Math.ceil(d / { f32: 4, f16: 8, int8: 16 }[precision]) * 16;
    const index = await GpuFlatIndex.create(d, metric, { precision, noShaderF16: kind !== 'f16 native', maxTileBytes: rowBytes * tileRows, debugPoison: true });
    // The shard's lists as the GPU left them (int8's go on to the host re-rank).
    const { shard, lists } = recordShardLists(index);
    try {
      await index.add(base);
      expect(index.plan!.shards[0]!.tiles).toEqual([...Array<number>(Math.floor(n / tileRows)).fill(tileRows), n % tileRows]);
      // lavapipe has shader-f16: the native variant's text goes through the rewrite too.
      if (kind === 'f16 native') expect(shard.ctx.hasF16).toBe(true);
      for (const nq of nqs) {
        const qs = q.subarray(0, nq * d);
        // Several segments a tile, the last one partial.
        Object.assign(kernelTuning, defaults, { targetWorkgroups: 3, gemvTargetF16: 0, gemvTiles: 1 });
        lists.length = 0;
        const one = await index.search(qs, k);
        Object.assign(kernelTuning, { gemvTiles: tiles });
        const got = await index.search(qs, k);
        expectMatchesOracle(got, bruteForce(rows, qs, d, k, metric), distanceTolerance(d, metric === 'l2' ? 8 * d : 4 * d), rows, qs, d, metric);
        expectSameSearch(got, one, lists);
      }
      // gemv:PREC:METRIC:h (shader-f16) or p:...:xTILES
      const variant = kind === 'f16 native' ? 'h' : 'p';
      expect(pipelineKeys(index).some((key) => key.startsWith(`gemv:${{ f32: 0, f16: 1, int8: 2 }[precision]}:${metric === 'ip' ? 0 : 1}:${variant}:`) && key.endsWith(`:x${tiles}`))).toBe(true);
    } finally {
      await index.dispose();
    }
  });
});

describe.skipIf(!hasGpu)('flat_gemv tiles a dispatch within the device\'s storage buffers', () => {
  afterEach(() => void Object.assign(kernelTuning, defaults));

  it('a device of fewer than 7 storage buffers a stage groups fewer tiles (3 + tiles bindings), none at 4', async () => {
    const d = 40;
    const n = 1537;
    const base = randomVectors(n, d, seed++);
    const q = randomVectors(1, d, seed++);
    const index = await GpuFlatIndex.create(d, 'ip', { precision: 'f32', maxTileBytes: 16 * (d / 4) * 240 });
    const device = (index as unknown as { shards: FlatShard[] }).shards[0]!.ctx.device;
    const real = device.limits;
    // The adapter's limit as a device of fewer storage buffers would report it (WebGPU's core
    // default is 8; acquireDevice asks for min(adapter, 8)).
    const fake = (n: number) => Object.defineProperty(device, 'limits', { configurable: true, get: () => new Proxy(real, { get: (l, p) => (p === 'maxStorageBuffersPerShaderStage' ? n : Reflect.get(l, p)) }) });
    try {
      await index.add(base);
      expect(index.plan!.shards[0]!.tiles).toEqual([240, 240, 240, 240, 240, 240, 97]);
      const want = bruteForce(base, q, d, 10, 'ip');
      for (const [limit, multi] of [[4, []], [5, ['x2']]] as const) {
        fake(limit); // pipelines stay compiled: 4 first
        Object.assign(kernelTuning, defaults, { gemvTiles: 4 });
        const got = await index.search(q, 10);
        expectMatchesOracle(got, want, distanceTolerance(d, 4 * d), base, q, d, 'ip');
        expect(pipelineKeys(index).filter((key) => /^gemv:.*:x\d$/.test(key)).map((key) => key.slice(key.lastIndexOf(':') + 1))).toEqual(multi);
      }
    } finally {
      delete (device as { limits?: unknown }).limits;
      await index.dispose();
    }
  });
});

describe.skipIf(!hasGpu)('flat_gemv tiles a dispatch by default', () => {
  afterEach(() => void Object.assign(kernelTuning, defaults));

  it('gemvTiles 0 (the default) groups 4 tiles a dispatch on a GPU and none on a software adapter', async () => {
    expect(defaults.gemvTiles).toBe(0);
    const d = 40;
    const base = randomVectors(1537, d, seed++);
    const q = randomVectors(1, d, seed++);
    const index = await GpuFlatIndex.create(d, 'ip', { precision: 'f32', maxTileBytes: 16 * (d / 4) * 240 });
    const ctx = (index as unknown as { shards: FlatShard[] }).shards[0]!.ctx;
    const multi = () => pipelineKeys(index).filter((key) => /^gemv:.*:x\d$/.test(key)).map((key) => key.slice(key.lastIndexOf(':') + 1)).sort();
    try {
      await index.add(base);
      const want = bruteForce(base, q, d, 10, 'ip');
      // As a software adapter (CI's lavapipe) reports itself, then as a GPU would.
      Object.defineProperty(ctx, 'software', { value: true, configurable: true });
      expectMatchesOracle(await index.search(q, 10), want, distanceTolerance(d, 4 * d), base, q, d, 'ip');
      expect(multi()).toEqual([]);
      // 6 tiles of 240 rows and one of 97 go 4 and 3 a dispatch (the smaller one in the last group).
      Object.defineProperty(ctx, 'software', { value: false, configurable: true });
      expectMatchesOracle(await index.search(q, 10), want, distanceTolerance(d, 4 * d), base, q, d, 'ip');
      expect(multi()).toEqual(['x3', 'x4']);
    } finally {
      await index.dispose();
    }
  });
});

describe.skipIf(!hasGpu)('GpuContext.software, which keeps a software adapter at one tile a dispatch', () => {
  it('says what the adapter is, from the adapter and from a device given without it (GPUDevice.adapterInfo)', async () => {
    const software = await defaultAdapterIsSoftware();
    const ctx = await acquireDevice();
    try {
      expect(ctx.software).toBe(software);
      // Without its adapter (the constructor's adapter is optional): before, false on lavapipe too.
      expect(new GpuContext(ctx.device, 'no adapter', ctx.gpu).software).toBe(software);
    } finally {
      ctx.destroy();
    }
  });
});

describe.skipIf(!hasGpu)('flat_gemv tiles a dispatch within 65535 workgroups', () => {
  afterEach(() => void Object.assign(kernelTuning, defaults));

  it('tiles of 16400 segments each go 3 a dispatch, not 4 (65600 workgroups fail the device)', async () => {
    const d = 4;
    const rows = 16400;
    const base = randomVectors(4 * rows, d, seed++);
    const q = randomVectors(1, d, seed++);
    const index = await GpuFlatIndex.create(d, 'ip', { precision: 'f32', maxTileBytes: 16 * rows });
    try {
      await index.add(base);
      expect(index.plan!.shards[0]!.tiles).toEqual([rows, rows, rows, rows]);
      // A segment a row (a workgroup each): targetWorkgroups past 65535 / 4.
      Object.assign(kernelTuning, defaults, { targetWorkgroups: rows, gemvTiles: 4 });
      const got = await index.search(q, 1);
      expectMatchesOracle(got, bruteForce(base, q, d, 1, 'ip'), distanceTolerance(d, 4 * d), base, q, d, 'ip');
      expect(pipelineKeys(index).filter((key) => /^gemv:.*:x\d$/.test(key)).map((key) => key.slice(key.lastIndexOf(':') + 1))).toEqual(['x3']);
    } finally {
      await index.dispose();
    }
  });
});

describe.skipIf(!hasGpu)('flat_gemv tiles a dispatch: pipelines compiled outside the submit lock', () => {
  afterEach(() => void Object.assign(kernelTuning, defaults));

  it('warmUp compiles the multi-tile pipelines a search dispatches, and a search compiles its own before the submit lock', async () => {
    const d = 40;
    const base = randomVectors(1537, d, seed++);
    const q = randomVectors(3, d, seed++);
    // 6 tiles of 240 rows and one of 97: groups of 4 and 3 (two full tiles and the partial one).
    const opts = { precision: 'f32', maxTileBytes: 16 * (d / 4) * 240 } as const;
    Object.assign(kernelTuning, defaults, { gemvTiles: 4 });
    const warmed = await GpuFlatIndex.create(d, 'ip', opts);
    const cold = await GpuFlatIndex.create(d, 'ip', opts);
    try {
      await warmed.add(base);
      await cold.add(base);
      const multi = (index: GpuFlatIndex) => pipelineKeys(index).filter((key) => /^gemv:.*:x\d$/.test(key)).map((key) => key.slice(key.lastIndexOf(':') + 1)).sort();
      warmed.warmUp(10);
      expect(multi(warmed)).toEqual(['x3', 'x4']);
      const before = pipelineKeys(warmed);
      for (const nq of [1, 2, 3]) expectMatchesOracle(await warmed.search(q.subarray(0, nq * d), 10), bruteForce(base, q.subarray(0, nq * d), d, 10, 'ip'), distanceTolerance(d, 4 * d), base, q.subarray(0, nq * d), d, 'ip');
      expect(pipelineKeys(warmed)).toEqual(before);
      // Without warmUp: the batch's pipelines are there when it reaches submitBatch (under the submit lock).
      const shard = (cold as unknown as { shards: { submitBatch: (...a: unknown[]) => Promise<unknown> }[] }).shards[0]!;
      const atSubmit: string[][] = [];
      const submit = shard.submitBatch.bind(shard);
      shard.submitBatch = (...a: unknown[]) => (atSubmit.push(multi(cold)), submit(...a));
      await cold.search(q.subarray(0, d), 10);
      expect(atSubmit).toEqual([['x3', 'x4']]);
    } finally {
      await warmed.dispose();
      await cold.dispose();
    }
  });
});
