/**
 * `tessera convert` killed while writing its output (kill -9, the OOM killer during a large build)
 * left the write's hidden temp file beside --out, up to the whole index, for good: the next convert
 * into that --out removes it, saying so; never the temp file of a write that still runs.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/node.js';
import { convertIndex } from '../../src/cli/commands/convert.js';
import { tempFilePath, thisWriter } from '../../src/io/node-fs.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-convert-leftovers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('convert: leftovers of a killed convert', () => {
  it('are removed with a note; a running write is kept', async () => {
    const input = join(dir, 'in.f32');
    writeFileSync(input, new Uint8Array(new Float32Array(40).map((_, i) => Math.sin(i)).buffer));
    const output = join(dir, 'out.index');
    const me = await thisWriter();
    const killed = tempFilePath(output, { ...me, pid: 99_999_999 }); // above any pid_max: no such process
    const running = tempFilePath(output, me); // this process's: a write in progress
    writeFileSync(killed, Buffer.alloc(5120));
    writeFileSync(running, 'x');
    const notes: string[] = [];
    const r = await convertIndex({ input, output, indexType: 'Flat', dim: 4, say: (l) => notes.push(l) });
    expect(r.ntotal).toBe(10);
    expect(existsSync(killed)).toBe(false);
    expect(notes).toEqual([`removed ${killed} (5.0 KiB), left by process 99999999, which was stopped while writing ${output}`]);
    expect(readdirSync(dir).sort()).toEqual(['in.f32', 'out.index', running.slice(dir.length + 1)].sort());
  });
});
