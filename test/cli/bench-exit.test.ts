/**
 * `tessera bench <name>` exits as its benchmark did; one a signal ended exits as a shell reports that
 * signal (137 after SIGKILL, the OOM killer's), saying which: it exited 128 whatever the signal.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { runScript } from '../../src/cli/commands/bench.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-bench-exit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bench: the exit code of the benchmark run', () => {
  it('is its own, or 128 + the number of the signal that ended it, which is said', async () => {
    const lines: string[] = [];
    const err = vi.spyOn(process.stderr, 'write').mockImplementation((t) => (lines.push(String(t)), true));
    try {
      writeFileSync(join(dir, 'exits-3.mjs'), 'process.exit(3);\n');
      writeFileSync(join(dir, 'killed.mjs'), "process.kill(process.pid, 'SIGKILL');\n");
      expect(await runScript(join(dir, 'exits-3.mjs'), [], dir)).toBe(3);
      expect(await runScript(join(dir, 'killed.mjs'), [], dir)).toBe(137);
    } finally {
      err.mockRestore();
    }
    expect(lines.join('')).toContain('killed.mjs was ended by SIGKILL');
  });
});
