/**
 * `tessera serve` / `demo` shutdown (runUntilSignal): SIGTERM or SIGINT closes the server and ends the
 * command, also while the index is still loading (which can take minutes); in-flight requests
 * finishing first is covered end to end in test/server/e2e.test.ts.
 */
import { EventEmitter } from 'node:events';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { localClientUrl, runUntilSignal, SIGNAL_REPEAT_MS } from '../../src/cli/commands/serve.js';
import { openAtomicFileSink } from '../../src/io/node-fs.js';
import type { ServiceState } from '../../src/server/app.js';

function fakeService(ready: Promise<void>, url = 'http://127.0.0.1:0') {
  const state: ServiceState = { phase: 'loading', loaded: {} };
  const close = vi.fn(async () => {
    state.phase = 'closing';
  });
  return { ready, close, state, url };
}

afterEach(() => vi.restoreAllMocks());

describe('runUntilSignal', () => {
  it('a signal while loading closes the server and returns without waiting for the load to end', async () => {
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    const signals = new EventEmitter();
    const service = fakeService(new Promise<void>(() => {})); // a load that has not ended
    const done = runUntilSignal(service, () => [], signals);
    await new Promise((r) => setTimeout(r, 10));
    signals.emit('SIGTERM', 'SIGTERM');
    await expect(Promise.race([done.then(() => 'returned'), new Promise((r) => setTimeout(() => r('hung'), 2000))])).resolves.toBe('returned');
    expect(service.close).toHaveBeenCalledTimes(1);
  });

  it('once ready, prints the ready line and returns after a signal closed the server', async () => {
    const lines: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((t) => (lines.push(String(t)), true));
    const signals = new EventEmitter();
    const service = fakeService(Promise.resolve());
    const done = runUntilSignal(service, (url) => [`try ${url}`], signals);
    await new Promise((r) => setTimeout(r, 10));
    expect(lines.join('')).toMatch(/ready in .* serving http:\/\/127\.0\.0\.1:0\ntry http:\/\/127\.0\.0\.1:0\n/);
    signals.emit('SIGINT', 'SIGINT');
    await done;
    expect(service.close).toHaveBeenCalledTimes(1);
    expect(lines.join('')).toMatch(/SIGINT: shutting down[\s\S]*stopped/);
  });

  // `serve --host 0.0.0.0` (Search-R1's host) printed `curl -s http://0.0.0.0:8000/retrieve ...` to
  // paste: no address to send to (a connection to 0.0.0.0 fails on Windows, browsers refuse it).
  it('a wildcard host (0.0.0.0, ::): the ready line names where the server listens, the sample requests its loopback address', async () => {
    for (const [url, local] of [['http://0.0.0.0:8000', 'http://127.0.0.1:8000'], ['http://[::]:8000', 'http://[::1]:8000']]) {
      const lines: string[] = [];
      vi.spyOn(process.stderr, 'write').mockImplementation((t) => (lines.push(String(t)), true));
      const signals = new EventEmitter();
      const done = runUntilSignal(fakeService(Promise.resolve(), url), (u) => [`try ${u}/retrieve`], signals);
      await new Promise((r) => setTimeout(r, 10));
      expect(lines.join('')).toContain(`serving ${url}\ntry ${local}/retrieve\n`);
      signals.emit('SIGINT', 'SIGINT');
      await done;
      vi.restoreAllMocks();
    }
    expect(localClientUrl('http://[0:0:0:0:0:0:0:0]:1')).toBe('http://[::1]:1');
    for (const url of ['http://127.0.0.1:8000', 'http://localhost:8000', 'http://192.168.1.7:8000', 'http://[::1]:8000', 'http://[fe80::1]:8000']) expect(localClientUrl(url)).toBe(url);
  });

  // The load's offset table write (openCorpus, beside the corpus) stands in as an atomic write in progress.
  async function tableBeingWritten() {
    const dir = mkdtempSync(join(tmpdir(), 'tessera-serve-signal-'));
    const sink = await openAtomicFileSink(join(dir, 'corpus.jsonl.offsets'));
    await sink.write(new Uint8Array(64));
    return { dir, sink, [Symbol.dispose]: () => rmSync(dir, { recursive: true, force: true }) };
  }

  it('a signal while the offset table is being written: the command returns with no temp file left beside the corpus', async () => {
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    using table = await tableBeingWritten();
    expect(readdirSync(table.dir)).toHaveLength(1); // the hidden temp file
    const signals = new EventEmitter();
    const done = runUntilSignal(fakeService(new Promise<void>(() => {})), () => [], signals);
    signals.emit('SIGINT', 'SIGINT');
    await done; // main.ts then exits, without waiting for the load
    expect(readdirSync(table.dir)).toEqual([]);
  });

  it('a second signal exits at once with 128 + its number (SIGTERM 143, SIGINT 130), removing the temp file of the offset table being written', async () => {
    const lines: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((t) => (lines.push(String(t)), true));
    for (const [sig, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
      using table = await tableBeingWritten();
      const codes: (number | undefined)[] = [];
      const exit = vi.spyOn(process, 'exit').mockImplementation(((c?: number) => {
        codes.push(c);
        throw new Error('exited');
      }) as never);
      const signals = new EventEmitter();
      const service = fakeService(new Promise<void>(() => {}));
      service.close.mockImplementation(() => new Promise<void>(() => {})); // in-flight requests still running
      void runUntilSignal(service, () => [], signals);
      signals.emit(sig, sig);
      await new Promise((r) => setTimeout(r, SIGNAL_REPEAT_MS + 20)); // a second signal, not the first delivered twice
      expect(() => signals.emit(sig, sig)).toThrow('exited');
      exit.mockRestore();
      expect(codes[0]).toBe(code);
      expect(readdirSync(table.dir)).toEqual([]);
      expect(lines.join('')).toContain(`${sig} again: exiting now`);
    }
  });

  // GNU timeout sends its signal to the command, then to the command's process group: `timeout 8h
  // tessera serve` may get that one signal twice at once, which exited at once with 130/143, dropping
  // the requests in flight, instead of shutting down gracefully (exit 0).
  it('the same signal delivered twice at once (GNU timeout) shuts down gracefully; a later one still exits at once', async () => {
    vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    for (const [sig, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
      const codes: (number | undefined)[] = [];
      const exit = vi.spyOn(process, 'exit').mockImplementation(((c?: number) => {
        codes.push(c);
        throw new Error('exited');
      }) as never);
      const signals = new EventEmitter();
      let finish = () => {};
      const service = fakeService(Promise.resolve());
      service.close.mockImplementation(() => new Promise<void>((r) => (finish = r))); // a request in flight
      const done = runUntilSignal(service, () => [], signals);
      await new Promise((r) => setTimeout(r, 10));
      signals.emit(sig, sig);
      signals.emit(sig, sig); // timeout's second copy
      expect(codes).toEqual([]);
      expect(service.close).toHaveBeenCalledTimes(1);
      finish();
      await done; // the command then exits 0
      expect(codes).toEqual([]);

      // A user's second Ctrl-C, later, still exits at once.
      const again = new EventEmitter();
      const stuck = fakeService(Promise.resolve());
      stuck.close.mockImplementation(() => new Promise<void>(() => {}));
      void runUntilSignal(stuck, () => [], again);
      again.emit(sig, sig);
      await new Promise((r) => setTimeout(r, SIGNAL_REPEAT_MS + 20));
      expect(() => again.emit(sig, sig)).toThrow('exited');
      exit.mockRestore();
      expect(codes).toEqual([code]);
    }
  });
});
