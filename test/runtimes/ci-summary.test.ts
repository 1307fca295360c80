/** .ci/summary.mjs: the closing "N passed, N failed" line CI reads. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

function summary(report: object, ...status: string[]): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-ci-summary-'));
  try {
    const file = join(dir, 'vitest.json');
    writeFileSync(file, JSON.stringify(report));
    let out: string;
    try {
      out = execFileSync(process.execPath, ['.ci/summary.mjs', file, ...status], { encoding: 'utf8' });
    } catch (e) {
      out = (e as { stdout: string }).stdout;
    }
    return out.trim().split('\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const passing = { numPassedTests: 3, numFailedTests: 0, numPendingTests: 0, numTodoTests: 0, success: true, testResults: [{ name: 'a.test.ts', status: 'passed', assertionResults: [] }] };

describe('CI summary line', () => {
  it('a run vitest failed with no failed test (an unhandled error, which its JSON report does not record) reads as one failure, not "0 failed"', () => {
    const lines = summary(passing, '1');
    expect(lines.at(-1)).toBe('3 passed, 1 failed');
    expect(lines.join('\n')).toMatch(/vitest exited 1 with no failed test or file: an unhandled error/);
  });

  it('a failed typecheck (vitest does not check types) reads as one failure more, even when every test passed', () => {
    const lines = summary(passing, '0', '2');
    expect(lines.at(-1)).toBe('3 passed, 1 failed');
    expect(lines.join('\n')).toMatch(/the typecheck \(npm run typecheck\) exited 2/);
    expect(summary(passing, '1', '2').at(-1)).toBe('3 passed, 2 failed');
  });

  it('a clean run reads as its counts', () => {
    expect(summary(passing, '0', '0').at(-1)).toBe('3 passed, 0 failed');
    expect(summary(passing, '0').at(-1)).toBe('3 passed, 0 failed');
    expect(summary(passing).at(-1)).toBe('3 passed, 0 failed');
  });
});
