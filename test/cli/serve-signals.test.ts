/**
 * `tessera serve` / `demo` shutdown (runUntilSignal): SIGTERM or SIGINT closes the server and ends the
 * command, also while the index is still loading (which can take minutes); in-flight requests
 * finishing first is covered end to end in test/server/e2e.test.ts.
 */
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runUntilSignal } from '../../src/cli/commands/serve.js';
import type { ServiceState } from '../../src/server/app.js';

function fakeService(ready: Promise<void>) {
  const state: ServiceState = { phase: 'loading', loaded: {} };
  const close = vi.fn(async () => {
    state.phase = 'closing';
  });
  return { ready, close, state, url: 'http://127.0.0.1:0' };
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
});
