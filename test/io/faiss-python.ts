/** Runs the FAISS fixture scripts (test/fixtures/faiss/*flat*.py) with a Python that has faiss. */
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const scripts = resolve(import.meta.dirname, '../fixtures/faiss');

let python: string | undefined;

/**
 * The Python with `faiss` importable: $TESSERA_PYTHON, Debian's /usr/bin/python3 (python3-faiss
 * installs there, while a pyenv python3 may shadow it on PATH), then python3. Throws when none has it:
 * CI installs python3-faiss, so a missing oracle is a failure, not a skip.
 */
export function faissPython(): string {
  if (python) return python;
  const candidates = [process.env.TESSERA_PYTHON, '/usr/bin/python3', 'python3'].filter((c): c is string => !!c);
  for (const c of candidates) {
    const r = spawnSync(c, ['-c', 'import faiss, numpy'], { stdio: 'ignore' });
    if (r.status === 0) return (python = c);
  }
  throw new Error(`no Python with faiss and numpy among ${candidates.join(', ')}: apt-get install python3-faiss python3-numpy (or set TESSERA_PYTHON)`);
}

export interface FlatFixtureIndex {
  file: string;
  labels: number[][];
  distances: number[][];
}
export interface FlatFixtures {
  dir: string;
  faiss: string;
  k: number;
  sets: Record<string, { n: number; d: number; nq: number; indexes: Record<'ip' | 'l2', FlatFixtureIndex> }>;
  q: { n: number; d: number; data: number[][] };
}

/** Writes the flat fixtures into a fresh temp dir with real FAISS; returns their description. */
export function makeFlatFixtures(): FlatFixtures {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-flat-'));
  execFileSync(faissPython(), [join(scripts, 'make_flat_fixtures.py'), dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  return { dir, ...JSON.parse(readFileSync(join(dir, 'fixtures.json'), 'utf8')) };
}

/** Removes a fixture folder (call from afterAll). */
export function removeFlatFixtures(fx: FlatFixtures | undefined): void {
  if (fx) rmSync(fx.dir, { recursive: true, force: true });
}

export interface FaissView {
  error?: string;
  class: string;
  d: number;
  ntotal: number;
  metric: 'ip' | 'l2';
  sum: number;
  labels: number[][];
  distances: number[][];
}

/** FAISS reads each file and searches it with the raw float32 queries at `queries`. */
export function searchWithFaiss(files: string[], queries: string, d: number, k: number): FaissView[] {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-faiss-req-'));
  const req = join(dir, 'request.json');
  writeFileSync(req, JSON.stringify({ queries, d, k, files }));
  try {
    const out = execFileSync(faissPython(), [join(scripts, 'search_flat_with_faiss.py'), req], { encoding: 'utf8', maxBuffer: 64 << 20 });
    return JSON.parse(out) as FaissView[];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** n x d raw float32 file as a Float32Array. */
export function readF32(path: string): Float32Array {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/**
 * One Python running a fixture script's serve mode (`script ...args`): a request's JSON a line in,
 * its answer's JSON a line out. A test file that asks FAISS dozens of times pays for one start and
 * one faiss import (~0.6 s each) instead of one a request. close() from afterAll.
 */
export function faissServer<Req, Res>(script: string, args: string[]): { ask: (req: Req) => Promise<Res>; close: () => void } {
  let server: ChildProcess | undefined;
  const waiting: { resolve: (v: Res) => void; reject: (e: Error) => void }[] = [];
  const start = (): ChildProcess => {
    const p = spawn(faissPython(), [script, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
    createInterface({ input: p.stdout! }).on('line', (line) => {
      const w = waiting.shift();
      try {
        w?.resolve(JSON.parse(line) as Res);
      } catch {
        // Not an answer (a library printing to stdout): the request fails with the line, not the test process.
        w?.reject(new Error(`${script} ${args.join(' ')} answered a line that is not JSON: ${line.slice(0, 200)}`));
      }
    });
    p.on('exit', (code, signal) => {
      for (const w of waiting.splice(0)) w.reject(new Error(`${script} ${args.join(' ')} exited (${code ?? signal}) before answering; its error is above`));
    });
    return p;
  };
  return {
    ask: (req) => new Promise((resolve, reject) => {
      // Started on the first request (after the fixtures exist); again if a request killed it.
      if (!server || server.exitCode !== null || server.signalCode !== null) server = start();
      waiting.push({ resolve, reject });
      server.stdin!.write(`${JSON.stringify(req)}\n`);
    }),
    close: () => server?.stdin!.end(),
  };
}
