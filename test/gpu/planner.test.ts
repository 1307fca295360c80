/** The memory planner (core/planner): tiles per adapter, 'auto' precision, OUT_OF_MEMORY refusals naming the fix. */
import { describe, expect, it } from 'vitest';
import { describePlan, HALF_SCAN_EXTRA_BYTES, planFlat, rowBytes, tempBytes, tensorExtraBytes, type AdapterCapacity } from '../../src/core/planner.js';
import type { GpuContext } from '../../src/gpu/device.js';
import { experimentalHint, tensorNotice } from '../../src/gpu/flat-index.js';

const GiB = 2 ** 30;
const h100: AdapterCapacity = { label: 'adapter 0', maxBinding: 2 * GiB, maxBuffer: 2 ** 40, memoryBytes: 76 * GiB };
const wiki = { n: 21_015_324, d: 768, k: 10, maxBatch: 4096, scratchBytes: 256 * 2 ** 20 };

describe('flat planner', () => {
  it('lays wiki-18 f32 out in 2 GiB tiles on one 76 GiB adapter, temp under 2 GiB', () => {
    const plan = planFlat({ ...wiki, precision: 'f32', adapters: [h100] });
    expect(plan.precision).toBe('f32');
    expect(plan.rowBytes).toBe(3072);
    const s = plan.shards[0]!;
    expect(s.rows).toBe(wiki.n);
    expect(s.tiles.reduce((a, b) => a + b, 0)).toBe(wiki.n);
    expect(Math.max(...s.tiles) * 3072).toBeLessThanOrEqual(2 * GiB);
    expect(s.tiles.length).toBe(Math.ceil((wiki.n * 3072) / (Math.floor((2 * GiB) / 3072) * 3072)));
    expect(s.baseBytes).toBe(wiki.n * 3072);
    expect(plan.tempBytes).toBeLessThanOrEqual(2 * GiB);
    expect(plan.hostBytes).toBe(0);
  });

  it('tensor cores: digit planes (f32 2 bytes a dimension, f16 1) are planned where they fit beside the rows, left out where not', () => {
    const h200: AdapterCapacity = { ...h100, memoryBytes: 139 * GiB };
    const both = ['f32', 'f16'] as const;
    const big = planFlat({ ...wiki, precision: 'f32', adapters: [h200], digitPrecisions: both });
    expect(big.digits).toBe(true);
    expect(big.shards[0]!.digitBytes).toBe(wiki.n * 768 * 2);
    expect(big.shards[0]!.digitTiles).toBe(big.shards[0]!.tiles.length);
    // On a 76 GiB adapter the 60 GiB of rows fit, their 30 GiB of digits do not: the first tiles
    // whose digits fit get them (the tensor cores), the others run the f32 kernels.
    const small = planFlat({ ...wiki, precision: 'f32', adapters: [h100], digitPrecisions: both });
    const s0 = small.shards[0]!;
    expect(small.digits).toBe(true);
    expect(s0.digitTiles).toBeGreaterThan(0);
    expect(s0.digitTiles).toBeLessThan(s0.tiles.length);
    expect(s0.digitBytes).toBe(s0.tiles.slice(0, s0.digitTiles).reduce((a, r) => a + r * 768 * 2, 0));
    expect(s0.baseBytes + s0.tempBytes + s0.digitBytes).toBeLessThanOrEqual(76 * GiB);
    expect(s0.baseBytes + s0.tempBytes + s0.digitBytes + s0.tiles[s0.digitTiles]! * 768 * 2).toBeGreaterThan(76 * GiB);
    expect(s0.baseBytes).toBe(wiki.n * 3072);
    // f16 codes only for every tile (a mix with the f16 kernels would be slower than converting):
    // 30 GiB of rows and 15 of codes do not fit 40 GiB.
    const f16Part = planFlat({ ...wiki, precision: 'f16', adapters: [{ ...h100, memoryBytes: 40 * GiB }], digitPrecisions: both });
    expect(f16Part.digits).toBe(false);
    expect([f16Part.shards[0]!.digitBytes, f16Part.shards[0]!.digitTiles]).toEqual([0, 0]);
    // f16: its i8 codes, a byte a dimension (30 + 15 GiB fit in 76).
    const f16 = planFlat({ ...wiki, precision: 'f16', adapters: [h100], digitPrecisions: both });
    expect(f16.digits).toBe(true);
    expect(f16.shards[0]!.digitBytes).toBe(wiki.n * 768);
    // Not asked for that precision, or int8: none.
    expect(planFlat({ ...wiki, precision: 'f32', adapters: [h200] }).digits).toBe(false);
    expect(planFlat({ ...wiki, precision: 'f16', adapters: [h200], digitPrecisions: ['f32'] }).digits).toBe(false);
    expect(planFlat({ ...wiki, precision: 'int8', adapters: [h200], digitPrecisions: ['int8', 'f32'] }).digits).toBe(false);
    // Rows of stored dims in multiples of 32 only (the tensor kernel takes no others): d 100 none,
    // d 96 two bytes a dimension (f32) or one (f16).
    const rows1000 = (d: number, precision: 'f32' | 'f16') => planFlat({ n: 1000, d, k: 10, maxBatch: 64, scratchBytes: 2 ** 20, precision, adapters: [h200], digitPrecisions: both });
    expect(rows1000(100, 'f32').digits).toBe(false);
    expect(rows1000(100, 'f32').shards[0]!.digitBytes).toBe(0);
    expect(rows1000(96, 'f32').shards[0]!.digitBytes).toBe(1000 * 192);
    expect(rows1000(96, 'f16').shards[0]!.digitBytes).toBe(1000 * 96);
  });

  it('digit planes: the temporary bytes also cover the tensor path (query digits, code steps; f32 on part of a shard, the exact tiles\' lists of k)', () => {
    const h200: AdapterCapacity = { ...h100, memoryBytes: 139 * GiB };
    const plain = planFlat({ ...wiki, precision: 'f32', adapters: [h200] });
    const extra = (partial: boolean, listK = 64) => tensorExtraBytes(768, wiki.k, wiki.maxBatch, listK, Math.max(...plain.shards[0]!.tiles), partial);
    // k 10 < the tensor lists' 64 candidates: the lists at 64.
    const lists = tempBytes(768, 64, wiki.maxBatch, wiki.scratchBytes, h100.maxBinding, plain.shards[0]!.tiles, 'f32');
    expect(lists).toBeGreaterThan(plain.tempBytes);
    const f32 = planFlat({ ...wiki, precision: 'f32', adapters: [h200], digitPrecisions: ['f32'] });
    expect(f32.tempBytes).toBe(lists + extra(true));
    // Query digits: two planes of 4096 x 768 bytes at least; the exact tiles' lists 4096 x 16 segments x 10.
    expect(extra(false)).toBeGreaterThanOrEqual(2 * 4096 * 768);
    expect(extra(true) - extra(false)).toBe(4096 * 16 * 10 * 8 + 256);
    // tensorListK below k: the f32 kernels' lists are the larger.
    expect(planFlat({ ...wiki, k: 100, precision: 'f32', adapters: [h200], digitPrecisions: ['f32'], tensorListK: 64 }).tempBytes).toBe(
      planFlat({ ...wiki, k: 100, precision: 'f32', adapters: [h200] }).tempBytes + tensorExtraBytes(768, 100, wiki.maxBatch, 64, Math.max(...plain.shards[0]!.tiles), true),
    );
    // f16 reaches the tensor cores without planes too (f16TensorCores): their bytes planned all the
    // same, with the f16 two-pass scan's buffer.
    const f16Plain = planFlat({ ...wiki, precision: 'f16', adapters: [h200] });
    const f16Lists = tempBytes(768, 64, wiki.maxBatch, wiki.scratchBytes, h100.maxBinding, f16Plain.shards[0]!.tiles, 'f16');
    const f16Extra = tensorExtraBytes(768, wiki.k, wiki.maxBatch, 64, Math.max(...f16Plain.shards[0]!.tiles), false, true);
    expect(f16Extra - tensorExtraBytes(768, wiki.k, wiki.maxBatch, 64, Math.max(...f16Plain.shards[0]!.tiles), false)).toBe(HALF_SCAN_EXTRA_BYTES);
    expect(planFlat({ ...wiki, precision: 'f16', adapters: [h200], f16TensorCores: true }).tempBytes).toBe(Math.max(f16Plain.tempBytes, f16Lists) + f16Extra);
    const f16Tight = planFlat({ ...wiki, precision: 'f16', adapters: [{ ...h100, memoryBytes: f16Plain.shards[0]!.baseBytes + Math.max(f16Plain.tempBytes, f16Lists) + f16Extra + 1024 }], digitPrecisions: ['f16'], f16TensorCores: true });
    expect(f16Tight.digits).toBe(false);
    expect(f16Tight.tempBytes).toBe(Math.max(f16Plain.tempBytes, f16Lists) + f16Extra);
    // No planes planned (none fit): the plain figure.
    const none = planFlat({ ...wiki, precision: 'f32', adapters: [{ ...h100, memoryBytes: plain.shards[0]!.baseBytes + plain.tempBytes + 1024 }], digitPrecisions: ['f32'] });
    expect(none.digits).toBe(false);
    expect(none.tempBytes).toBe(plain.tempBytes);
  });

  it('describePlan says what each adapter holds: rows, planes (for how many tiles), temporary bytes, the memory planned against', () => {
    const both = ['f32', 'f16'] as const;
    const at = (precision: 'auto' | 'f32' | 'f16' | 'int8', gib?: number, hostRows?: number) =>
      describePlan(planFlat({ ...wiki, precision, adapters: [{ ...h100, memoryBytes: gib === undefined ? undefined : gib * GiB }], digitPrecisions: both, hostRows }), precision);
    // An 80 GB H100's budget: every row, planes for the tiles that fit.
    expect(at('auto', 79.6)).toMatch(
      /^GPU plan: f32 \(precision 'auto': the most exact whose rows and temporary bytes fit gpuMemory; planes only take the room left\); adapter 0: 60\.1 GiB of rows in 31 tiles \+ 19\.0 GiB digit planes for 19 of the 31 tiles \+ [\d.]+ MiB temporary = 79\.\d GiB of 79\.6 GiB; digitPlanes: false \(CLI --no-digit-planes\) leaves the digit planes out$/,
    );
    // f16 with its code plane: 0.75x f32's bytes, and the option for exactly half.
    expect(at('f16', 76)).toMatch(/^GPU plan: f16; adapter 0: 30\.1 GiB of rows in 16 tiles \+ 15\.0 GiB code plane \+ [\d.]+ MiB temporary = 45\.\d GiB of 76\.0 GiB; without the code plane \(digitPlanes: false, CLI --no-digit-planes\) f16 takes exactly half of f32's memory$/);
    // Unknown memory: 'auto' checked nothing, and says how to make it check.
    expect(at('auto')).toMatch(/precision 'auto' without gpuMemory: WebGPU does not report memory, so nothing was checked; pass gpuMemory, CLI --gpu-memory/);
    expect(at('auto')).toMatch(/30\.1 GiB digit planes \+ [\d.]+ MiB temporary = 90\.\d GiB; digitPlanes/);
    // int8: where the re-rank's float32 rows are.
    expect(at('int8', 76)).toMatch(/^GPU plan: int8; adapter 0: 15\.0 GiB of rows in 8 tiles \+ [\d.]+ MiB temporary = 15\.\d GiB of 76\.0 GiB; the float32 rows the re-rank reads: 60\.1 GiB of host memory$/);
    expect(at('int8', 76, 0)).toMatch(/the float32 rows the re-rank reads: from the index file by offset, none in host memory$/);
  });

  it("'auto' picks the most exact precision that fits", () => {
    const at = (mem: number) => planFlat({ ...wiki, precision: 'auto', adapters: [{ ...h100, memoryBytes: mem * GiB }] }).precision;
    expect(at(76)).toBe('f32');
    expect(at(40)).toBe('f16');
    expect(at(20)).toBe('int8');
    // Unknown memory is unchecked: the most exact.
    expect(planFlat({ ...wiki, precision: 'auto', adapters: [{ ...h100, memoryBytes: undefined }] }).precision).toBe('f32');
  });

  it('int8 keeps the float32 rows on the host for re-ranking and stores a quarter on the GPU', () => {
    const plan = planFlat({ ...wiki, precision: 'int8', adapters: [h100] });
    expect(plan.rowBytes).toBe(rowBytes(768, 'int8'));
    expect(plan.rowBytes).toBe(768);
    expect(plan.hostBytes).toBe(wiki.n * 768 * 4);
  });

  it('refuses with OUT_OF_MEMORY before allocating, saying needed, available and what fits', () => {
    let err: unknown;
    try {
      planFlat({ ...wiki, precision: 'f32', adapters: [{ ...h100, memoryBytes: 40 * GiB }] });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'OUT_OF_MEMORY' });
    const m = (err as Error).message;
    expect(m).toMatch(/needs 60\.\d GiB/);
    expect(m).toMatch(/holds 40\.0 GiB/);
    expect(m).toMatch(/precision 'f16'/);
    expect(m).toMatch(/precision 'int8'/);
    expect(m).toMatch(/2 adapters/);
    expect(m).toMatch(/wasm/);
  });

  it("refuses 'auto' when not even int8 fits, naming more adapters and wasm", () => {
    expect(() => planFlat({ ...wiki, precision: 'auto', adapters: [{ ...h100, memoryBytes: 8 * GiB }] })).toThrow(
      /OUT_OF_MEMORY|needs .* but it holds 8\.0 GiB: use \d+ adapters of this size, or backend 'wasm'/,
    );
  });

  it('shards rows across adapters in proportion to stated memory; each shard within its tiles', () => {
    const plan = planFlat({
      ...wiki,
      precision: 'f32',
      adapters: [
        { ...h100, label: 'a', memoryBytes: 40 * GiB },
        { ...h100, label: 'b', memoryBytes: 40 * GiB },
      ],
    });
    expect(plan.shards.map((s) => s.rows).reduce((a, b) => a + b, 0)).toBe(wiki.n);
    expect(Math.abs(plan.shards[0]!.rows - plan.shards[1]!.rows)).toBeLessThanOrEqual(1);
    for (const s of plan.shards) expect(s.baseBytes + s.tempBytes).toBeLessThanOrEqual(40 * GiB);
    // Even shares as GpuFlatIndex.addRows fills shards: ceil(n / 3) for each but the last.
    const three = planFlat({ n: 1000, d: 64, k: 10, maxBatch: 16, scratchBytes: 1 << 20, precision: 'f32', adapters: ['a', 'b', 'c'].map((label) => ({ ...h100, label })) });
    expect(three.shards.map((s) => s.rows)).toEqual([334, 334, 332]);
  });

  it('tiles never exceed the binding limit for odd d', () => {
    const plan = planFlat({ n: 1000, d: 769, k: 10, maxBatch: 16, scratchBytes: 1 << 20, precision: 'f32', adapters: [{ label: 'x', maxBinding: 128 * 2 ** 20, maxBuffer: 2 ** 31 }] });
    expect(plan.rowBytes).toBe(3088);
    expect(plan.shards[0]!.tiles).toEqual([1000]);
    const tiny = planFlat({ n: 1000, d: 769, k: 10, maxBatch: 16, scratchBytes: 1 << 20, precision: 'f32', adapters: [{ label: 'x', maxBinding: 3088 * 300 + 5, maxBuffer: 2 ** 31 }] });
    expect(tiny.shards[0]!.tiles).toEqual([300, 300, 300, 100]);
  });

  it('maxTileBytes caps the tiles, not the candidate lists (they bind up to maxBinding, as the shard allocates them)', () => {
    const input = { n: 1000, d: 769, k: 10, maxBatch: 256, scratchBytes: 1 << 20, precision: 'f32' as const };
    const capped = planFlat({ ...input, adapters: [{ label: 'x', maxBinding: 128 * 2 ** 20, maxBuffer: 2 ** 31, maxTileBytes: 3088 * 300 + 5 }] });
    expect(capped.shards[0]!.tiles).toEqual([300, 300, 300, 100]);
    expect(capped.tempBytes).toBe(tempBytes(769, 10, 256, 1 << 20, 128 * 2 ** 20, [300, 300, 300, 100], 'f32'));
    expect(capped.tempBytes).toBeGreaterThan(tempBytes(769, 10, 256, 1 << 20, 3088 * 300 + 5, [300, 300, 300, 100], 'f32'));
  });
});

describe('the allowExperimental notice (what the CLI and server print)', () => {
  // Devices as the notice reads them: features, a label, the adapter's configs.
  const I8 = { componentType: 'i8', resultComponentType: 'i32', M: 16, N: 16, K: 32 };
  const F16 = { componentType: 'f16', resultComponentType: 'f32', M: 16, N: 16, K: 16 };
  const ctx = (features: string[], configs: object[] = [I8]) => ({ label: 'adapter 0', device: { features: new Set(features) }, adapter: { info: { subgroupMatrixConfigs: configs } } }) as unknown as GpuContext;
  const h100: AdapterCapacity = { label: 'adapter 0', maxBinding: 2 * GiB, maxBuffer: 2 ** 40, memoryBytes: 76 * GiB };
  const wiki = { n: 21_015_324, d: 768, k: 10, maxBatch: 4096, scratchBytes: 256 * 2 ** 20 };
  const notice = (precision: 'f32' | 'f16' | 'int8', memory: number, devices = [ctx(['chromium-experimental-subgroup-matrix'])]) =>
    tensorNotice(devices, planFlat({ ...wiki, precision, adapters: [{ ...h100, memoryBytes: memory * GiB }], digitPrecisions: ['f32', 'f16'] }), 'ip', {});

  it('says which path each precision takes, with the digit planes planned (whole or for some tiles)', () => {
    expect(notice('f32', 139)).toMatch(/f32 batches of 9\+ queries on the int8 tensor cores .* certified exact.*digit planes of 30\.1 GiB/);
    expect(notice('f32', 79.6)).toMatch(/f32 batches of 9\+ queries .* for the 19 of 31 tiles whose digit planes fit, the f32 kernels for the others/);
    expect(notice('f32', 61)).toMatch(/f32 runs the f32 kernels: no digit planes planned/);
    expect(notice('f16', 76)).toMatch(/f16 batches of 2\+ queries on the int8 tensor cores from the rows' i8 codes/);
    expect(notice('f16', 76)).toMatch(/\(a code plane of 15\.0 GiB beside the rows: 0\.75x f32's memory; digitPlanes: false leaves it out for exactly half, converting the rows as they are read\)$/);
    expect(notice('f16', 40)).toMatch(/rows converted as read \(no code plane: no room in gpuMemory for their 15\.0 GiB beside the rows; half of f32's memory\)/);
    expect(notice('f32', 61)).toMatch(/no digit planes planned \(no room in gpuMemory for their 30\.1 GiB beside the rows\)$/);
    expect(notice('int8', 76)).toMatch(/int8 batches of 5\+ queries/);
    // f16 matrices: shader-f16 and an f16 config, no i8 one.
    expect(notice('f16', 40, [ctx(['chromium-experimental-subgroup-matrix', 'shader-f16'], [F16])])).toMatch(/on the f16 tensor cores, rows read as they are \(no code plane/);
    expect(notice('f32', 139, [ctx([])])).toMatch(/offer\(s\) no chromium-experimental-subgroup-matrix/);
  });

  it('names the f16 two-pass scan where it is taken: f16TwoPass (by default disableRobustness), no code plane, devices that run it', () => {
    // NVIDIA through Dawn with vulkan_enable_f16_on_nvidia: shader-f16, subgroups, the f16 config, 32-wide subgroups.
    const scanDevice = { label: 'adapter 0', device: { features: new Set(['chromium-experimental-subgroup-matrix', 'shader-f16', 'subgroups']) }, adapter: { info: { subgroupMatrixConfigs: [F16], subgroupMaxSize: 32 } } } as unknown as GpuContext;
    const at = (memory: number, opts: object) => tensorNotice([scanDevice], planFlat({ ...wiki, precision: 'f16', adapters: [{ ...h100, memoryBytes: memory * GiB }], digitPrecisions: opts && 'digitPlanes' in opts ? [] : ['f16'] }), 'ip', opts);
    const scan = /f16 batches of 9-64 queries on the f16 two-pass scan \(the f16 tensor cores, the rows read as they are: half of f32's memory\), the others: /;
    expect(at(76, { disableRobustness: true, digitPlanes: false })).toMatch(scan);
    expect(at(76, { f16TwoPass: true, digitPlanes: false })).toMatch(scan);
    // Robustness on (the default), asked off, a code plane planned (its route is faster), tensor cores off for f16.
    expect(at(76, { digitPlanes: false })).not.toMatch(scan);
    expect(at(76, { disableRobustness: true, f16TwoPass: false, digitPlanes: false })).not.toMatch(scan);
    expect(at(76, { disableRobustness: true })).not.toMatch(scan);
    expect(at(76, { disableRobustness: true, digitPlanes: false, f16TensorCores: false })).not.toMatch(scan);
    // A device without 32-wide subgroups cannot run it.
    const wide = { ...scanDevice, adapter: { info: { subgroupMatrixConfigs: [F16], subgroupMaxSize: 64 } } } as unknown as GpuContext;
    expect(tensorNotice([wide], planFlat({ ...wiki, precision: 'f16', adapters: [{ ...h100, memoryBytes: 76 * GiB }], digitPrecisions: [] }), 'ip', { disableRobustness: true, digitPlanes: false })).not.toMatch(scan);
  });

  it('an index made empty (indexFactory) plans its planes as rows come: the notice says so, not that none were planned', () => {
    const devices = [ctx(['chromium-experimental-subgroup-matrix'])];
    const empty = (precision: 'f32' | 'f16', opts = {}) => tensorNotice(devices, planFlat({ ...wiki, n: 0, precision, adapters: [h100], digitPrecisions: ['f32', 'f16'] }), 'ip', opts);
    expect(empty('f32')).toMatch(/^allowExperimental: f32 batches of 9\+ queries on the int8 tensor cores .* \(digit planes, 2 bytes a dimension as rows are added where gpuMemory has room, beside the rows; digitPlanes: false leaves them out\)$/);
    expect(empty('f16')).toMatch(/^allowExperimental: f16 batches of 2\+ queries on the int8 tensor cores from the rows' i8 codes, .* \(a code plane, 1 byte a dimension as rows are added where gpuMemory has room, beside the rows: 0\.75x f32's memory/);
    expect(empty('f32', { digitPlanes: false })).toBe('allowExperimental: f32 runs the f32 kernels: no digit planes planned (digitPlanes: false)');
  });

  it('rows whose stored dimensions are not a multiple of 32 (the tensor kernel\'s step): says the portable kernels run, for every precision', () => {
    const devices = [ctx(['chromium-experimental-subgroup-matrix'])];
    const at = (d: number, precision: 'f32' | 'f16' | 'int8') => tensorNotice(devices, planFlat({ n: 1000, d, k: 10, maxBatch: 64, scratchBytes: 2 ** 20, precision, adapters: [h100], digitPrecisions: ['f32', 'f16'] }), 'ip', {});
    // d 100: f32 stores 100 dims, f16 104, int8 112.
    expect(at(100, 'f32')).toBe('allowExperimental: f32 rows are stored as 100 dimensions, not a multiple of 32, which the tensor scorer needs: the portable kernels run (vectors padded with zeros to 128 dimensions would take it, with the same inner products)');
    expect(at(100, 'f16')).toMatch(/^allowExperimental: f16 rows are stored as 104 dimensions, not a multiple of 32, .* the portable kernels run/);
    expect(at(100, 'int8')).toMatch(/^allowExperimental: int8 rows are stored as 112 dimensions, not a multiple of 32, .* the portable kernels run/);
    // d 96 and 120 (int8 stores 128): the tensor paths.
    expect(at(96, 'f32')).toMatch(/f32 batches of 9\+ queries on the int8 tensor cores/);
    expect(at(120, 'int8')).toMatch(/int8 batches of 5\+ queries/);
  });

  it('without allowExperimental, hints at it on NVIDIA adapters (inner product only), says nothing elsewhere', () => {
    const of = (vendor: string, label = 'adapter 0') => ({ label, device: { features: new Set() }, adapter: { info: { vendor } } }) as unknown as GpuContext;
    expect(experimentalHint([of('nvidia')], 'ip')).toMatch(/^adapter 0: NVIDIA, .*allowExperimental \(CLI --allow-experimental\)/);
    // What it costs in memory, with the speed (BENCHMARKS "At a glance": 1M and 21M, 64-1024 queries).
    expect(experimentalHint([of('nvidia')], 'ip')).toMatch(/1\.35-1\.62x torch fp32 against 0\.92-0\.97x without, its digit planes taking up to half its rows' bytes again where gpuMemory has room/);
    expect(experimentalHint([of('amd'), of('nvidia', 'adapter 1')], 'ip')).toMatch(/^adapter 1: NVIDIA/);
    expect(experimentalHint([of('nvidia')], 'l2')).toBeUndefined();
    expect(experimentalHint([of('mesa'), of('intel')], 'ip')).toBeUndefined();
  });
});
