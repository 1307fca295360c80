/**
 * Starts the retrieval service: listens at once (GET /health answers "loading"; a /retrieve waits for
 * the load, up to the request timeout), then loads model,
 * corpus and index one step at a time, reporting each step's time, checks they fit together, and
 * turns ready. `close()` shuts down gracefully: no new requests, in-flight ones finish, then the
 * index, model and corpus are freed. Loaders are passed in so the CLI wires the real ones and
 * tests can wire small ones.
 */
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { TesseraError } from '../core/errors.js';
import { MAX_K } from '../core/validate.js';
import type { Backend, Index } from '../core/types.js';
import type { TextEncoder } from '../encoder/types.js';
import { createApp } from './app.js';
import type { RowSource, ServiceState } from './app.js';
import { MicroBatcher } from './batcher.js';
import { ServerMetrics } from './metrics.js';
import { Retriever } from './retriever.js';

export interface LoadedCorpus extends RowSource {
  close(): Promise<void>;
}

export interface ServiceOptions {
  host: string;
  port: number;
  defaultTopk: number;
  maxTopk: number;
  maxBatch: number;
  maxWaitMs: number;
  /** Most queries waiting; default 8 x maxBatch. */
  maxQueue?: number;
  timeoutMs: number;
  bodyLimit: number;
  logger?: FastifyServerOptions['logger'];
  loadCorpus: () => Promise<LoadedCorpus>;
  loadEncoder: () => Promise<TextEncoder>;
  /** Loads the index; called again with a backend after a GPU device loss. */
  loadIndex: (backend?: Backend) => Promise<Index>;
  /** Told each loading step as it ends: name, seconds, a one-line detail. */
  onStep?: (step: string, seconds: number, detail: string) => void;
  /** Told when a step without progress of its own starts (the GPU warm-up): name, a status line. */
  onStepStart?: (step: string, line: string) => void;
  /** Pause between failed index reloads after a device loss, ms. */
  reloadRetryMs?: number;
}

export interface RunningService {
  app: FastifyInstance;
  state: ServiceState;
  metrics: ServerMetrics;
  /** http://host:port as bound (the port resolved when 0 was asked). */
  url: string;
  /** Resolves when loading finished; rejects with the loading error (the server is closed then). */
  ready: Promise<void>;
  retriever(): Retriever | undefined;
  close(): Promise<void>;
}

export async function startService(opts: ServiceOptions): Promise<RunningService> {
  // Every index refuses a k above MAX_K: refused now, not by a 400 for every request asking it.
  if (opts.maxTopk > MAX_K) {
    throw new TesseraError('INVALID_ARGUMENT', `--max-topk ${opts.maxTopk} is more than an index search returns per query (${MAX_K}): pass --max-topk ${MAX_K} or less (and a --topk no larger)`);
  }
  let settle!: () => void;
  const state: ServiceState = { phase: 'loading', loaded: {}, settled: new Promise<void>((r) => (settle = r)) };
  let batcher: MicroBatcher | undefined;
  let retriever: Retriever | undefined;
  let corpus: LoadedCorpus | undefined;
  let encoder: TextEncoder | undefined;
  const metrics = new ServerMetrics(
    () => (batcher?.depth ?? 0) + (state.loadWaiting ?? 0),
    () => batcher?.inFlight ?? 0,
    () => state.phase === 'ready' && retriever?.state === 'ready',
  );
  const maxQueue = opts.maxQueue ?? 8 * opts.maxBatch;
  const app = createApp(
    { defaultTopk: opts.defaultTopk, maxTopk: opts.maxTopk, maxQueries: maxQueue, bodyLimit: opts.bodyLimit, timeoutMs: opts.timeoutMs, metrics, logger: opts.logger },
    state,
  );
  try {
    await app.listen({ host: opts.host, port: opts.port });
  } catch (e) {
    await app.close().catch(() => {});
    throw listenError(e, opts.host, opts.port);
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  const url = `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`;

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      if (state.phase !== 'failed') state.phase = 'closing';
      settle(); // requests waiting for the load answer now, before the server waits for them
      // Waits for in-flight requests, which wait for their batches; those routed before the stop are
      // still batched (a body that comes in after it included), those routed after it refused.
      await app.close();
      batcher?.close();
      await batcher?.drain();
      await retriever?.close().catch(() => {});
      await encoder?.dispose().catch(() => {});
      await corpus?.close().catch(() => {});
    })());

  const step = async <T>(name: string, load: () => Promise<T>, describe: (v: T) => string, startLine?: string): Promise<T> => {
    if (startLine) opts.onStepStart?.(name, startLine);
    const t0 = performance.now();
    const value = await load();
    const seconds = (performance.now() - t0) / 1000;
    state.loaded[name] = Math.round(seconds * 1000) / 1000;
    opts.onStep?.(name, seconds, describe(value));
    return value;
  };

  // A GPU index compiles a kernel the first time a search needs its shape (0.1-0.2 s each on the
  // H200): done before serving, for the default topk, so the first requests do not pay it. Only an
  // optimisation: a failure is logged and serving goes on (a lost device is met by the first search).
  const warmUp = async (index: Index, first: boolean): Promise<void> => {
    if (!canWarmUp(index)) return;
    const k = opts.defaultTopk;
    try {
      if (first) await step('warm-up', async () => index.warmUp(k), () => `GPU pipelines compiled for topk ${k}`, `compiling GPU pipelines for topk ${k}...`);
      else index.warmUp(k);
    } catch (e) {
      app.log.warn({ err: (e as Error).message }, 'GPU warm-up failed: the first searches compile their pipelines');
    }
  };

  const ready = (async () => {
    // The model first: seconds, and a model that does not fit the index fails before the corpus's
    // offset table is built (minutes on wiki-18 the first time).
    encoder = await step('model', opts.loadEncoder, (e) => `${e.name}, ${e.dim} dims${e.describe ? `, ${e.describe()}` : ''}`);
    corpus = await step('corpus', opts.loadCorpus, (c) => `${c.rows} rows`);
    const index = await step('index', () => opts.loadIndex(), (i) => `${i.description}, ${i.ntotal} x ${i.d}, ${i.metric}, on ${i.backend}`);
    if (state.phase !== 'loading') {
      await index.dispose().catch(() => {});
      return;
    }
    if (index.ntotal !== corpus.rows) {
      await index.dispose().catch(() => {});
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `the index holds ${index.ntotal} vectors but the corpus has ${corpus.rows} rows: serve the corpus the index was built from (row i is vector i)`,
      );
    }
    try {
      checkTopkLimit(index, opts.maxTopk);
    } catch (e) {
      await index.dispose().catch(() => {});
      throw e;
    }
    await warmUp(index, true);
    try {
      retriever = new Retriever({
        encoder,
        index,
        reload: async (backend) => {
          const reloaded = await opts.loadIndex(backend);
          // A GPU that returns fewer results a query than --max-topk (another adapter after the loss)
          // would answer such requests with a 400: refused, so the reload goes on to WASM.
          try {
            checkTopkLimit(reloaded, opts.maxTopk);
          } catch (e) {
            await reloaded.dispose().catch(() => {});
            throw e;
          }
          await warmUp(reloaded, false);
          return reloaded;
        },
        metrics,
        log: app.log,
        retryDelayMs: opts.reloadRetryMs,
      });
    } catch (e) {
      await index.dispose().catch(() => {});
      throw e;
    }
    batcher = new MicroBatcher({
      run: retriever.run,
      maxBatch: opts.maxBatch,
      maxWaitMs: opts.maxWaitMs,
      maxQueue,
      timeoutMs: opts.timeoutMs,
      onBatch: (b) => {
        metrics.batchQueries.observe(b.queries);
        metrics.batchRequests.observe(b.requests);
      },
    });
    const r = retriever;
    state.searchReady = () => r.state === 'ready';
    state.batcher = batcher;
    state.corpus = corpus;
    const enc = encoder;
    if (enc.check) state.checkQuery = (q) => enc.check!(q, { prefix: 'query' });
    if (state.phase === 'loading') state.phase = 'ready';
    settle();
  })().catch(async (e) => {
    if (state.phase === 'closing') return;
    state.phase = 'failed';
    state.error = (e as Error).message;
    await close();
    throw e;
  });

  return { app, state, metrics, url, ready, retriever: () => retriever, close };
}

/** An index that returns at most kLimit results a query once ntotal exceeds it (GpuFlatIndex: its merge's list). */
interface KLimitedIndex extends Index {
  readonly kLimit: number;
}

/**
 * --max-topk must be a topk the index can answer: a request above its limit would get a 400 naming
 * the library's option (backend 'wasm'), not the server's flags.
 */
function checkTopkLimit(index: Index, maxTopk: number): void {
  const limit = topkLimit(index);
  if (limit !== undefined && maxTopk > limit) throw maxTopkError(maxTopk, limit, index.backend);
}

/** --max-topk above the `limit` results a query a `backend` index returns, naming the fixes. */
export function maxTopkError(maxTopk: number, limit: number, backend: Backend): TesseraError {
  return new TesseraError(
    'INVALID_ARGUMENT',
    `--max-topk ${maxTopk} is more than this ${backend} index returns per query (${limit}): pass --max-topk ${limit} or less (and a --topk no larger), or --backend wasm`,
  );
}

/** The most results `index` returns per query, where that is fewer than every index returns (a GPU index's merge list); else undefined. */
export function topkLimit(index: Index): number | undefined {
  const limit = (index as Partial<KLimitedIndex>).kLimit;
  return typeof limit === 'number' && index.ntotal > limit ? limit : undefined;
}

/** A failed bind as one line naming the fix (the common causes), else the error as it came. */
function listenError(e: unknown, host: string, port: number): unknown {
  const code = (e as NodeJS.ErrnoException)?.code;
  const at = `${host.includes(':') ? `[${host}]` : host}:${port}`;
  if (code === 'EADDRINUSE') {
    return new TesseraError('INVALID_ARGUMENT', `cannot listen on ${at}: the port is in use (another server, e.g. Search-R1's?): stop it or pass ${asTyped('--port N')} (0: any free port)`, { cause: e });
  }
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new TesseraError('INVALID_ARGUMENT', `cannot listen on ${at}: ${host} is not an address of this machine: pass ${asTyped('--host 127.0.0.1')} (this machine only), 0.0.0.0 (every interface) or one of its addresses`, { cause: e });
  }
  if (code === 'EACCES') {
    return new TesseraError('INVALID_ARGUMENT', `cannot listen on ${at}: not permitted (ports below 1024 need privileges): pass ${asTyped('--port 8000')} or another port above 1023`, { cause: e });
  }
  return e;
}

/**
 * `flags` as the user types them: run through an npm script (`npm start` runs the demo), npm keeps
 * flags before a `--` for itself, so `npm start --port 8100` does not reach the server; both are said.
 */
export function asTyped(flags: string, env: NodeJS.ProcessEnv = process.env): string {
  const script = env.npm_lifecycle_event;
  if (!script || script === 'npx') return flags; // npx passes flags through as they are
  return `${flags} (through npm: ${script === 'start' ? 'npm start' : `npm run ${script}`} -- ${flags})`;
}

/** An index that can compile its GPU pipelines ahead of the first search (GpuFlatIndex.warmUp). */
interface WarmableIndex extends Index {
  warmUp(k: number): void;
}

function canWarmUp(index: Index): index is WarmableIndex {
  return typeof (index as Partial<WarmableIndex>).warmUp === 'function';
}
