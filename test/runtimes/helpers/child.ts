/** Runs runtime children (node, deno) on seeded data and compares their answers with the float64 oracle. */
import { execFile } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Metric, SearchResult } from '../../../src/core/types.js';

const run = promisify(execFile);

export interface ChildResult {
  backend: string;
  notices: string[];
  result: SearchResult;
}

export interface ChildOutput {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `cmd args` in `cwd`; resolves with the exit code and output instead of throwing on failure. */
export async function runChild(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = {}, timeout = 120_000): Promise<ChildOutput> {
  try {
    const { stdout, stderr } = await run(cmd, args, { cwd, env: { ...process.env, ...env }, timeout, maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string; message: string };
    return { code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? err.message };
  }
}

/**
 * Writes a search job into `dir` (base/queries as raw f32) for test/runtimes/fixtures/search-child.mjs,
 * copies the child there, and returns the arguments that run it.
 */
export function writeSearchJob(
  dir: string,
  name: string,
  job: { d: number; description: string; metric: Metric; backend: string; k: number; base: Float32Array; queries: Float32Array },
): string[] {
  const f = (suffix: string) => join(dir, `${name}.${suffix}`);
  writeFileSync(f('base.f32'), new Uint8Array(job.base.buffer, job.base.byteOffset, job.base.byteLength));
  writeFileSync(f('queries.f32'), new Uint8Array(job.queries.buffer, job.queries.byteOffset, job.queries.byteLength));
  writeFileSync(
    f('job.json'),
    JSON.stringify({ d: job.d, description: job.description, metric: job.metric, backend: job.backend, k: job.k, base: f('base.f32'), queries: f('queries.f32') }),
  );
  copyFileSync(join(import.meta.dirname, '../fixtures/search-child.mjs'), join(dir, 'search-child.mjs'));
  return [join(dir, 'search-child.mjs'), f('job.json')];
}

/** Parses the child's last stdout line into a SearchResult. */
export function parseChild(out: ChildOutput): ChildResult {
  if (out.code !== 0) throw new Error(`child failed (exit ${out.code}):\n${out.stderr}\n${out.stdout}`);
  const line = out.stdout.trim().split('\n').pop()!;
  const j = JSON.parse(line) as { backend: string; notices: string[]; nq: number; k: number; labels: number[]; distances: (number | null)[] };
  return {
    backend: j.backend,
    notices: j.notices,
    result: {
      nq: j.nq,
      k: j.k,
      labels: BigInt64Array.from(j.labels.map((l) => BigInt(l))),
      // JSON has no Infinity: padded distances come back as null.
      distances: Float32Array.from(j.distances.map((x) => (x === null ? NaN : x))),
    },
  };
}
