/**
 * The CLI says the library's options as its flags (server/files.ts asCliWords): a GPU too small for
 * the index said `gpuMemory` and `precision 'f16'`, which a CLI user sets as --gpu-memory and
 * --precision f16; an --ef-search past the library's bound said efSearch, convert's tiny
 * --shard-bytes "raise shardBytes". An option the CLI has no flag for (scratchBytes) is named as the
 * library's, so the CLI does not tell its user to set what it cannot.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/node.js';
import { register as registerConvert } from '../../src/cli/commands/convert.js';
import { register as registerSearch } from '../../src/cli/commands/search.js';
import { TesseraError } from '../../src/core/errors.js';
import { indexFactory } from '../../src/core/factory.js';
import { describePlan, planFlat } from '../../src/core/planner.js';
import { writeVectors } from '../../src/io/vectors.js';
import { asCliWords } from '../../src/server/files.js';
import { runCommand } from '../helpers/cli.js';
import { gpuForTests } from '../helpers/gpu.js';

const D = 256;
const N = 12_000;
const tmp = mkdtempSync(join(tmpdir(), 'tessera-cli-words-options-'));
const x = Float32Array.from({ length: N * D }, (_, i) => Math.sin(i * 0.37));

beforeAll(async () => {
  const index = await indexFactory(D, 'Flat', 'ip', { backend: 'wasm', threads: 1 });
  await index.add(x);
  await index.save(join(tmp, 'flat.index'));
  await index.dispose();
  const hnsw = await indexFactory(8, 'HNSW8', 'ip', { backend: 'wasm', threads: 1 });
  await hnsw.add(x.subarray(0, 50 * 8));
  await hnsw.save(join(tmp, 'hnsw.index'));
  await hnsw.dispose();
  await writeVectors(join(tmp, 'q.npy'), x.slice(0, 2 * D), D);
  await writeVectors(join(tmp, 'q8.npy'), x.slice(0, 2 * 8), 8);
  await writeVectors(join(tmp, 'v8.npy'), x.slice(0, 50 * 8), 8);
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The library's option names a CLI user cannot type. */
const LIBRARY_WORDS = /gpuMemory|precision '|backend '|scratchBytes(?<!the library's scratchBytes)|efSearch|shardBytes/;

/** A search's error message (it must fail). */
async function searchError(argv: string[]): Promise<TesseraError> {
  const e = await runCommand(registerSearch, ['search', ...argv]).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(TesseraError);
  return e as TesseraError;
}

describe('the GPU planner refusing an index via the CLI', () => {
  it("names --gpu-memory and --precision f16, not gpuMemory and precision 'f16'", async () => {
    if (!(await gpuForTests('search --backend gpu refused by the planner'))) return;
    const search = (gpuMemory: string) => searchError(['--index', join(tmp, 'flat.index'), '--queries', join(tmp, 'q.npy'), '-k', '2', '--backend', 'gpu', '--precision', 'f32', '--gpu-memory', gpuMemory]);
    // What f32 needs on this adapter (its limits size the temporary bytes), then a GPU short of
    // that by a quarter of the rows: f16's rows, half of f32's, fit it.
    const first = await search('1KiB');
    const need = /as f32 needs ([\d.]+) MiB on adapter 0 \(([\d.]+) MiB base/.exec(first.message);
    expect(need, first.message).not.toBeNull();
    const [total, base] = [Number(need![1]), Number(need![2])];
    const e = await search(`${(total - base / 4).toFixed(1)}MiB`);
    expect(e.code).toBe('OUT_OF_MEMORY');
    expect(e.message).toMatch(/: use --precision f16 \([\d.]+ MiB per adapter\), or .*--backend wasm, or a larger --gpu-memory if the adapter really holds more$/);
    expect(e.message).not.toMatch(LIBRARY_WORDS);
  }, 60_000);
});

describe("the library's messages in the CLI's words", () => {
  it("the planner's refusal: scratchBytes, which no CLI flag sets, is named as the library's", () => {
    const adapters = [{ label: 'adapter 0', maxBinding: 128 << 20, maxBuffer: 256 << 20, memoryBytes: 24 << 20 }];
    let message = '';
    try {
      planFlat({ n: 1000, d: 64, k: 100, maxBatch: 4096, precision: 'f32', scratchBytes: 256 << 20, adapters });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/: use scratchBytes: 1048576 \(/);
    expect(asCliWords(message)).toMatch(/: use the library's scratchBytes: 1048576 \([\d.]+ MiB temporary instead of [\d.]+ MiB: fewer candidate lists a batch\), or --backend wasm, or a larger --gpu-memory if the adapter really holds more$/);
    expect(asCliWords(message)).not.toMatch(LIBRARY_WORDS);
  });

  it("the GPU plan line: --precision auto, --gpu-memory, --no-digit-planes, serve's --max-batch (search has none); the library's rerankSubBatch", () => {
    const adapters = (memoryBytes?: number) => [{ label: 'adapter 0', maxBinding: 128 << 20, maxBuffer: 256 << 20, memoryBytes }];
    const input = { n: 1000, d: 64, k: 10, maxBatch: 512, precision: 'auto' as const, scratchBytes: 1 << 20 };
    const unchecked = asCliWords(describePlan(planFlat({ ...input, adapters: adapters() }), 'auto'));
    expect(unchecked).toContain("(--precision auto without --gpu-memory: WebGPU does not report memory, so nothing was checked; pass --gpu-memory for 'auto' to pick what fits)");
    expect(unchecked).toContain("(serve's --max-batch; larger searches go in such batches)");
    const fitted = asCliWords(describePlan(planFlat({ ...input, adapters: adapters(1 << 30) }), 'auto'));
    expect(fitted).toContain('(--precision auto: the most exact whose rows and temporary bytes fit --gpu-memory; planes only take the room left)');
    const int8 = asCliWords(describePlan(planFlat({ ...input, precision: 'int8', adapters: adapters(1 << 30) }), 'int8'));
    expect(int8).toContain("(serve's --max-batch; int8: the library's rerankSubBatch; larger searches go in such batches)");
    const planes = asCliWords(describePlan(planFlat({ ...input, precision: 'f32', digitPrecisions: ['f32'], adapters: adapters(1 << 30) }), 'f32'));
    expect(planes).toContain('; --no-digit-planes leaves the digit planes out');
    for (const line of [unchecked, fitted, int8, planes]) expect(line).not.toMatch(/gpuMemory|precision '|digitPlanes|maxBatch|CLI --/);
  });

  it('search --ef-search past the bound the library checks names --ef-search', async () => {
    const e = await searchError(['--index', join(tmp, 'hnsw.index'), '--queries', join(tmp, 'q8.npy'), '-k', '2', '--backend', 'wasm', '--threads', '1', '--ef-search', '100000']);
    expect(e.message).toBe('--ef-search must be an integer in [1, 65536], got 100000');
  });

  it('convert: a --shard-bytes too small for one vector says raise --shard-bytes; --ef-construction past the bound names it', async () => {
    const convert = (...more: string[]) => runCommand(registerConvert, ['convert', '--in', join(tmp, 'v8.npy'), '--out', join(tmp, 'out.index'), '--threads', '1', '--quiet', ...more]);
    await expect(convert('--index-type', 'SQ8', '--shard-bytes', '16')).rejects.toThrow(/cannot hold one SQ8 vector of d=8 .*: raise --shard-bytes or lower nlist$/);
    await expect(convert('--index-type', 'HNSW8', '--ef-construction', '100000')).rejects.toThrow(/^--ef-construction must be an integer in \[1, 65536\], got 100000$/);
  });
});
