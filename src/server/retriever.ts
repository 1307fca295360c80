/**
 * Text queries -> top-k labels: one encoder call and one index search per batch, with the index
 * swapped out when its GPU device is lost. After a loss the batch fails with UnavailableError
 * (HTTP 503 + Retry-After) and the index is reloaded in the background, first on the backend it
 * had, then on WASM; requests are answered again as soon as one load succeeds. Never a crash.
 */
import { TesseraError, isTesseraError } from '../core/errors.js';
import type { Backend, Index, SearchResult } from '../core/types.js';
import type { TextEncoder } from '../encoder/types.js';
import type { ServerMetrics } from './metrics.js';

/** The service cannot answer now (loading, recovering from a device loss): retry later. */
export class UnavailableError extends Error {
  override readonly name = 'UnavailableError';
  constructor(readonly retryAfterSeconds: number, message: string) {
    super(message);
  }
}

export interface RetrieverLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface RetrieverOptions {
  encoder: TextEncoder;
  index: Index;
  /** Loads the index again on `backend` (after a device loss). Without it a loss leaves the service unavailable. */
  reload?: (backend: Backend) => Promise<Index>;
  metrics?: ServerMetrics;
  log?: RetrieverLog;
  /** Pause between rounds of failed reloads, ms (default 5000). */
  retryDelayMs?: number;
}

export type RetrieverState = 'ready' | 'recovering' | 'closed';

export class Retriever {
  private current: Index | undefined;
  private stateValue: RetrieverState = 'ready';
  private recovery: Promise<void> | undefined;
  readonly d: number;
  readonly ntotal: number;

  constructor(private readonly opts: RetrieverOptions) {
    checkCompatible(opts.encoder, opts.index);
    this.current = opts.index;
    this.d = opts.index.d;
    this.ntotal = opts.index.ntotal;
  }

  get state(): RetrieverState {
    return this.stateValue;
  }

  /** The index answering now (undefined while recovering). */
  get index(): Index | undefined {
    return this.current;
  }

  /** Resolves when a running recovery has ended (tests, shutdown). */
  async settled(): Promise<void> {
    await this.recovery;
  }

  /** Encodes `queries` with the query prefix in one call and searches them in one call. */
  readonly run = async (queries: string[], k: number): Promise<SearchResult> => {
    const index = this.current;
    if (this.stateValue !== 'ready' || !index) {
      throw new UnavailableError(5, `the index is ${this.stateValue === 'closed' ? 'closed (server shutting down)' : 'being reloaded after a GPU device loss'}: retry shortly`);
    }
    const t0 = performance.now();
    const q = await this.opts.encoder.encode(queries, { prefix: 'query' });
    const t1 = performance.now();
    this.opts.metrics?.encodeSeconds.observe((t1 - t0) / 1000);
    if (q.length !== queries.length * index.d) {
      throw new TesseraError('FORMAT', `encoder ${this.opts.encoder.name} returned ${q.length} values for ${queries.length} queries of dimension ${index.d}`);
    }
    try {
      const result = await index.search(q, k);
      this.opts.metrics?.searchSeconds.observe((performance.now() - t1) / 1000);
      return result;
    } catch (e) {
      if (isTesseraError(e, 'DEVICE_LOST') && this.current === index) {
        this.startRecovery(index, e);
        throw new UnavailableError(5, `the GPU device was lost (${e.message}); the index is being reloaded: retry shortly`);
      }
      if (isTesseraError(e, 'DEVICE_LOST') || isTesseraError(e, 'OUT_OF_MEMORY') || isTesseraError(e, 'GPU_UNAVAILABLE')) {
        throw new UnavailableError(5, e.message);
      }
      throw e;
    }
  };

  private startRecovery(lost: Index, cause: TesseraError): void {
    this.stateValue = 'recovering';
    this.current = undefined;
    this.opts.metrics?.deviceLosses.inc();
    this.opts.log?.error({ err: cause.message, backend: lost.backend }, 'GPU device lost: reloading the index');
    this.recovery = this.recover(lost).finally(() => {
      this.recovery = undefined;
    });
  }

  private async recover(lost: Index): Promise<void> {
    await lost.dispose().catch((e) => this.opts.log?.warn({ err: String(e) }, 'disposing the lost index failed'));
    const reload = this.opts.reload;
    if (!reload) {
      this.opts.log?.error({}, 'no way to reload the index: the service stays unavailable until restarted');
      return;
    }
    const order: Backend[] = lost.backend === 'gpu' ? ['gpu', 'wasm'] : [lost.backend];
    while (this.stateValue === 'recovering') {
      for (const backend of order) {
        const t0 = performance.now();
        try {
          const index = await reload(backend);
          if (this.stateValue !== 'recovering') {
            await index.dispose();
            return;
          }
          checkCompatible(this.opts.encoder, index, this.ntotal);
          this.current = index;
          this.stateValue = 'ready';
          this.opts.log?.info({ backend, seconds: (performance.now() - t0) / 1000 }, 'index reloaded: serving again');
          return;
        } catch (e) {
          this.opts.log?.warn({ backend, err: (e as Error).message }, 'reloading the index failed');
        }
      }
      await new Promise((r) => setTimeout(r, this.opts.retryDelayMs ?? 5000));
    }
  }

  /** Stops answering and frees the index (after the batcher drained). */
  async close(): Promise<void> {
    this.stateValue = 'closed';
    await this.recovery?.catch(() => {});
    const index = this.current;
    this.current = undefined;
    await index?.dispose();
  }
}

/** The encoder must produce vectors of the index's dimension; checked at load, not at the first query. */
export function checkCompatible(encoder: TextEncoder, index: Index, ntotal?: number): void {
  if (encoder.dim !== index.d) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `model ${encoder.name} makes ${encoder.dim}-dimensional vectors but the index holds ${index.d}-dimensional ones: serve the index built with this model`,
    );
  }
  if (ntotal !== undefined && index.ntotal !== ntotal) {
    throw new TesseraError('FORMAT', `the reloaded index holds ${index.ntotal} vectors, the first load held ${ntotal}: the index file changed`);
  }
}
