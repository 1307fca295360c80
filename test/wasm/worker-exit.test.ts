/**
 * WasmWorkers (the CPU pool's and the GPU int8 re-rank's workers): a worker that stops on its own
 * fails its own jobs with DEVICE_LOST and every later run, while the other workers' jobs already in
 * flight finish as usual. The workers run a test script whose jobs wait for a 'finish' message, so
 * the other worker's job is held in flight across the exit, whatever the scheduling.
 */
import { describe, expect, it } from 'vitest';
import '../../src/node.js';
import { WasmHeap } from '../../src/wasm/module.js';
import { WasmWorkers, dedicatedWorkersAvailable, workerScript } from '../../src/wasm/worker-pool.js';

const HELD_JOBS = workerScript(`
let held;
const onMessage = (m) => {
  if (m.type === 'init') { send({ type: 'ready' }); return; }
  // process.exit in a worker thread ends that thread only: the pool sees an 'exit' event.
  if (m.type === 'die') process.exit(3);
  if (m.type === 'job') { held = m.id; return; }
  if (m.type === 'finish' && held !== undefined) { send({ type: 'done', id: held }); held = undefined; }
};
`);

describe.runIf(dedicatedWorkersAvailable())('worker that stops on its own', () => {
  it('fails only its own jobs; the other worker finishes its job in flight; later runs fail with DEVICE_LOST', async () => {
    const heap = await WasmHeap.create(true);
    const workers = await WasmWorkers.start(heap, 2, { source: HELD_JOBS, label: 'test worker', stackBytes: 1024 });
    try {
      let otherSettled = false;
      const other = workers.run(1, { type: 'job' });
      other.then(
        () => (otherSettled = true),
        () => (otherSettled = true),
      );
      await expect(workers.run(0, { type: 'die' })).rejects.toMatchObject({ code: 'DEVICE_LOST', message: expect.stringMatching(/test worker 0 stopped \(exited with code 3\).*create it again/) });
      expect(workers.lost?.code).toBe('DEVICE_LOST');
      // Worker 1's job is still held in flight (it waits for 'finish'): the exit must not have failed it.
      await new Promise((r) => setTimeout(r, 50));
      expect(otherSettled).toBe(false);
      workers.broadcast({ type: 'finish' });
      await expect(other).resolves.toBeUndefined();
      await expect(workers.run(1, { type: 'job' })).rejects.toMatchObject({ code: 'DEVICE_LOST' });
    } finally {
      await workers.release();
    }
  });

  it('release with a job in flight fails that job instead of leaving it pending forever', async () => {
    const heap = await WasmHeap.create(true);
    const workers = await WasmWorkers.start(heap, 1, { source: HELD_JOBS, label: 'test worker', stackBytes: 1024 });
    const held = expect(workers.run(0, { type: 'job' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/test worker was stopped by dispose\(\)/) });
    await workers.release();
    // before the fix the job stayed pending forever: fail in seconds instead of hanging the run
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stuck = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('the job in flight never settled')), 3000)));
    await Promise.race([held, stuck]).finally(() => clearTimeout(timer));
  });

  it('a second worker that stops later fails its own job in flight too (no hang), with the first one named', async () => {
    const heap = await WasmHeap.create(true);
    const workers = await WasmWorkers.start(heap, 2, { source: HELD_JOBS, label: 'test worker', stackBytes: 1024 });
    try {
      const held = workers.run(1, { type: 'job' });
      await expect(workers.run(0, { type: 'die' })).rejects.toMatchObject({ code: 'DEVICE_LOST' });
      // The pool is lost, so only a broadcast still reaches worker 1: it stops with its job in flight.
      workers.broadcast({ type: 'die' });
      await expect(held).rejects.toMatchObject({ code: 'DEVICE_LOST', message: expect.stringMatching(/test worker 0 stopped/) });
    } finally {
      await workers.release();
    }
  });
});
