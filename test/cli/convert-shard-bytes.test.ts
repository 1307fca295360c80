/**
 * `convert --shard-bytes` above 4GiB (one WebAssembly memory's most) was capped at 4GiB without a
 * word, the help saying "at most 4GiB": it is refused as parsed, naming the limit and the fix, as a
 * size of 0 or one that is not a size already was.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import '../../src/node.js';
import { register } from '../../src/cli/commands/convert.js';
import { inspectIndex } from '../../src/io/read-index.js';
import { writeVectors } from '../../src/io/vectors.js';
import { runCommand } from '../helpers/cli.js';
import { randomVectors } from '../helpers/data.js';

const tmp = mkdtempSync(join(tmpdir(), 'tessera-convert-shard-bytes-'));
const input = join(tmp, 'x.npy');
beforeAll(() => writeVectors(input, randomVectors(50, 8, 3), 8));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const convert = (out: string, size: string) => runCommand(register, ['convert', '--in', input, '--out', join(tmp, out), '--index-type', 'SQ8', '--threads', '1', '--quiet', '--shard-bytes', size]);

describe('convert --shard-bytes', () => {
  it('above 4GiB is refused naming the limit and the fix, and nothing is written', async () => {
    for (const size of ['8GiB', '4294967297', '5GB']) {
      await expect(convert('big.index', size), size).rejects.toThrow(
        `option '--shard-bytes <size>' argument '${size}' is invalid. must be a size of at most 4GiB (one WebAssembly memory holds at most 4GiB; a larger index is built over several of them anyway), got "${size}": pass 4GiB or less, or leave it out for 4GiB`,
      );
    }
    expect(existsSync(join(tmp, 'big.index'))).toBe(false);
  });

  it('4GiB itself, and less, are taken', async () => {
    for (const [name, size] of [['four.index', '4GiB'], ['small.index', '64MiB']] as const) {
      await convert(name, size);
      expect((await inspectIndex(join(tmp, name))).ntotal, size).toBe(50);
    }
  });

  it('0, a negative size and one that is not a size are refused too', async () => {
    await expect(convert('zero.index', '0')).rejects.toThrow("argument '0' is invalid. must be a size of at least 1 byte");
    await expect(convert('neg.index', '-1GiB')).rejects.toThrow('must be a size such as 40GiB, 512MB or a number of bytes, got "-1GiB"');
    await expect(convert('word.index', 'lots')).rejects.toThrow('must be a size such as 40GiB, 512MB or a number of bytes, got "lots"');
  });
});
