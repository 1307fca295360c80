/**
 * A real GPU device loss mid-serve (Dawn; lavapipe here): the GPU index's device is destroyed under
 * the running server. The batch that meets it answers 503 + Retry-After, the index is reloaded in
 * the background, and the same request is answered again; never a crash. (The fallback to WASM when
 * the GPU does not come back is covered with test doubles in app.test.ts.)
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../../src/node.js';
import { Encoder } from '../../src/encoder/encoder.js';
import { writeFlatIndex } from '../../src/io/faiss/flat.js';
import { serveFiles } from '../../src/server/files.js';
import type { RunningService } from '../../src/server/service.js';
import { gpuForTests } from '../helpers/gpu.js';

const ROOT = resolve(__dirname, '../..');
const MODEL = join(ROOT, 'assets/demo/model');
const tmp = mkdtempSync(join(tmpdir(), 'tessera-device-loss-'));
let service: RunningService | undefined;

afterAll(async () => {
  await service?.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** The first `rows` demo rows and their flat index, encoded with the demo model. */
async function smallDemo(rows: number) {
  const lines = readFileSync(join(ROOT, 'assets/demo/corpus.jsonl'), 'utf8').split('\n').slice(0, rows);
  const corpus = join(tmp, 'corpus.jsonl');
  writeFileSync(corpus, lines.join('\n') + '\n');
  const encoder = await Encoder.fromDirectory(MODEL, { threads: 1 });
  const vectors = await encoder.encode(lines.map((l) => (JSON.parse(l) as { contents: string }).contents), { prefix: 'passage' });
  const index = join(tmp, 'index.faiss');
  await writeFlatIndex(index, encoder.dim, 'ip', rows, vectors);
  await encoder.dispose();
  return { corpus, index, lines };
}

describe('GPU device loss while serving', () => {
  it('answers 503 + Retry-After for the batch that met it, reloads the index, and serves again', async () => {
    if (!(await gpuForTests('the device-loss serve test'))) return;
    const { corpus, index, lines } = await smallDemo(300);
    const said: string[] = [];
    service = await serveFiles({ index, corpus, model: MODEL, port: 0, backend: 'gpu', threads: 1, reloadRetryMs: 50, say: (l) => said.push(l) });
    await service.ready;
    // The GPU index compiled its pipelines for the default topk (3) while loading: a request for
    // topk 2 (the same kernels: heaps of 8, the same merge) compiles none.
    expect(said).toContain('compiling GPU pipelines for topk 3...');
    // A notice the index gives once loaded (digit planes refused at warm-up or a search) is said, not dropped.
    (service.retriever()!.index as unknown as { opts: { onNotice: (m: string) => void } }).opts.onNotice('a notice after the load');
    expect(said).toContain('a notice after the load');
    const pipelines = () => (service!.retriever()!.index as unknown as { shards: { pipelineCount: number }[] }).shards[0]!.pipelineCount;
    const warmed = pipelines();
    expect(warmed).toBeGreaterThan(0);
    const post = async () => {
      const res = await fetch(`${service!.url}/retrieve`, { method: 'POST', body: JSON.stringify({ queries: [(JSON.parse(lines[7]!) as { contents: string }).contents], topk: 2 }) });
      return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as { result?: { id: string }[][]; error?: { code: string; message: string } } };
    };
    const before = await post();
    expect(before.status).toBe(200);
    expect(before.body.result![0]![0]!.id).toBe('7');
    expect(pipelines()).toBe(warmed);

    // Destroy the device the index lives on, as a driver reset or a lost GPU would.
    const gpuIndex = service.retriever()!.index as unknown as { backend: string; shards: { ctx: { device: GPUDevice } }[] };
    expect(gpuIndex.backend).toBe('gpu');
    gpuIndex.shards[0]!.ctx.device.destroy();
    await new Promise((r) => setTimeout(r, 50));

    const during = await post();
    expect(during.status).toBe(503);
    expect(Number(during.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(during.body.error!.message).toMatch(/GPU device was lost/);

    await service.retriever()!.settled();
    expect(pipelines(), 'the reloaded index warmed up too').toBe(warmed);
    expect((await fetch(`${service.url}/health`)).status).toBe(200);
    const after = await post();
    expect(after.status).toBe(200);
    expect(after.body).toEqual(before.body);
    expect(service.retriever()!.index!.backend).toBe('gpu');
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toMatch(/tessera_device_lost_total 1/);
    expect(said.filter((l) => l.startsWith('backend: gpu'))).toHaveLength(2); // at start, and after the reload
  });
});
