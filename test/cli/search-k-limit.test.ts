/**
 * `tessera search -k` above what the GPU returns a query (1024 on lavapipe): --backend auto searches
 * on WASM, chosen before loading and said on the line naming the backend; --backend gpu refuses
 * naming the CLI's flags (the library's hint named its backend 'wasm', not --backend wasm).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/node.js';
import { register } from '../../src/cli/commands/search.js';
import { indexFactory } from '../../src/core/factory.js';
import { autoTakesSoftwareAdapters } from '../../src/gpu/device.js';
import { gpuResultLimit } from '../../src/gpu/flat-shard.js';
import { writeVectors } from '../../src/io/vectors.js';
import { runCommand } from '../helpers/cli.js';
import { randomVectors } from '../helpers/data.js';
import { gpuForTests } from '../helpers/gpu.js';

const D = 4;
const tmp = mkdtempSync(join(tmpdir(), 'tessera-search-k-limit-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
// What 'auto' does on a GPU: CI's adapter is lavapipe, a software renderer 'auto' otherwise passes over (test/core/auto-software.test.ts).
beforeAll(() => autoTakesSoftwareAdapters(true));
afterAll(() => autoTakesSoftwareAdapters(false));

describe('tessera search -k above the GPU limit', async () => {
  const hasGpu = await gpuForTests('tessera search -k above the GPU limit');
  const limit = hasGpu ? await gpuResultLimit() : undefined;
  // Past whatever this adapter's limit is (1024 on lavapipe, more with more workgroup memory).
  const N = (limit ?? 0) + 76;
  it.skipIf(!hasGpu)('--backend auto searches on wasm saying why; --backend gpu refuses naming -k and --backend wasm', async () => {
    const x = randomVectors(N, D, 7);
    const flat = await indexFactory(D, 'Flat', 'ip', { backend: 'wasm', threads: 1 });
    await flat.add(x);
    await flat.save(join(tmp, 'flat.index'));
    await flat.dispose();
    await writeVectors(join(tmp, 'q.npy'), x.slice(0, D), D);
    const args = ['search', '--index', join(tmp, 'flat.index'), '--queries', join(tmp, 'q.npy'), '-k', String(N), '--json'];

    const seen = { stderr: '' };
    const out = JSON.parse(await runCommand(register, [...args, '--threads', '1'], seen)) as { labels: number[][] };
    expect(out.labels[0]).toHaveLength(N);
    expect(new Set(out.labels[0]).size).toBe(N);
    expect(seen.stderr).toMatch(new RegExp(`on wasm \\(.*\\) \\(the GPU returns at most ${limit} results a query, fewer than -k ${N}: searching on wasm instead \\(-k ${limit} keeps the GPU\\)\\)`));

    const refused = runCommand(register, [...args, '--backend', 'gpu'], { stderr: '' });
    await expect(refused).rejects.toThrow(new RegExp(`^-k ${N} is more than the GPU returns per query \\(${limit}\\): pass -k ${limit} or less, or --backend wasm`));
  });
});

describe('tessera search -k above what every index returns per query (2^20)', () => {
  it('is refused as the flags are parsed, naming the range (it was refused by the search, once the index had loaded)', async () => {
    const flat = await indexFactory(D, 'Flat', 'ip', { backend: 'wasm', threads: 1 });
    await flat.add(randomVectors(8, D, 3));
    await flat.save(join(tmp, 'small.index'));
    await flat.dispose();
    await writeVectors(join(tmp, 'q1.npy'), randomVectors(1, D, 4), D);
    const args = ['search', '--index', join(tmp, 'small.index'), '--queries', join(tmp, 'q1.npy'), '--backend', 'wasm', '--threads', '1', '-k'];
    const seen = { stderr: '' };
    await expect(runCommand(register, [...args, String(2 ** 20 + 1)], seen)).rejects.toThrow(/-k must be an integer in \[1, 1048576\], got "1048577"/);
    expect(seen.stderr).not.toMatch(/queries, k=/);
    expect(JSON.parse(await runCommand(register, [...args, String(2 ** 20), '--json'])).labels[0]).toHaveLength(2 ** 20);
  });
});
