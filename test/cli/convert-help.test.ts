/**
 * `tessera convert --help` said "seed for k-means sampling / HNSW levels" with no default, and
 * "--shard-bytes: bytes per WebAssembly instance (default 4GiB)" without what it changes. It now
 * names the defaults, checked here against what a convert without --seed builds.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/node.js';
import { convertIndex, register } from '../../src/cli/commands/convert.js';
import { writeVectors } from '../../src/io/vectors.js';
import { randomVectors } from '../helpers/data.js';

const tmp = mkdtempSync(join(tmpdir(), 'tessera-convert-help-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function help(): string {
  const program = new Command();
  register(program);
  // One line per option: commander wraps at the terminal's width.
  return program.commands.find((c) => c.name() === 'convert')!.helpInformation({ error: false }).replace(/\s+/g, ' ');
}

describe('convert --help', () => {
  it('names the seeds a convert without --seed uses: 1234 for k-means, 12345 for HNSW levels, as FAISS', async () => {
    expect(help()).toContain("--seed <n> seed of IVF's k-means (its sample, first centroids and splits) and of HNSW levels (default: FAISS's, 1234 and 12345)");
    const input = join(tmp, 'x.npy');
    await writeVectors(input, randomVectors(300, 8, 11), 8);
    for (const [type, seed] of [['IVF8,Flat', 1234], ['HNSW8', 12345]] as const) {
      const file = async (name: string, s?: number) => {
        const output = join(tmp, `${name}.index`);
        await convertIndex({ input, output, indexType: type, threads: 1, seed: s });
        return readFileSync(output);
      };
      const byDefault = await file(`${type}-default`);
      expect(byDefault.equals(await file(`${type}-stated`, seed)), `${type}: --seed ${seed} builds what no --seed does`).toBe(true);
      // the seed changes the file: the equality above is about the seed, not a file that ignores it
      expect(byDefault.equals(await file(`${type}-other`, 7)), type).toBe(false);
    }
  });

  it('says what --shard-bytes changes and its bound', () => {
    expect(help()).toContain(
      '--shard-bytes <size> most bytes of one WebAssembly memory while building (default and at most 4GiB): a larger Flat, SQ8 or IVF index is built over several and still written as one FAISS file; HNSW is refused (one file holds one graph)',
    );
  });
});
