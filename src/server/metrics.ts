/**
 * Server metrics in the Prometheus text exposition format (version 0.0.4).
 * Hand-written rather than prom-client: five families of counters, gauges and histograms are a
 * hundred lines, and the server keeps one dependency (fastify) instead of two.
 */

type Labels = Record<string, string>;

function labelText(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function numberText(v: number): string {
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return Number.isNaN(v) ? 'NaN' : String(v);
}

export class Counter {
  private readonly values = new Map<string, { labels: Labels; value: number }>();
  constructor(readonly name: string, readonly help: string) {}
  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels);
    const cur = this.values.get(key);
    if (cur) cur.value += by;
    else this.values.set(key, { labels, value: by });
  }
  get(labels: Labels = {}): number {
    return this.values.get(labelText(labels))?.value ?? 0;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const { labels, value } of this.values.values()) lines.push(`${this.name}${labelText(labels)} ${numberText(value)}`);
    return lines.join('\n');
  }
}

export class Gauge {
  constructor(readonly name: string, readonly help: string, private readonly read: () => number) {}
  render(): string {
    return [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`, `${this.name} ${numberText(this.read())}`].join('\n');
  }
}

export class Histogram {
  private readonly counts: number[];
  private sum = 0;
  private count = 0;
  constructor(readonly name: string, readonly help: string, readonly buckets: readonly number[]) {
    this.counts = new Array(buckets.length).fill(0);
  }
  observe(v: number): void {
    this.sum += v;
    this.count++;
    for (let i = 0; i < this.buckets.length; i++) if (v <= this.buckets[i]!) this.counts[i]!++;
  }
  get total(): number {
    return this.count;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    this.buckets.forEach((b, i) => lines.push(`${this.name}_bucket{le="${numberText(b)}"} ${this.counts[i]}`));
    lines.push(`${this.name}_bucket{le="+Inf"} ${this.count}`, `${this.name}_sum ${numberText(this.sum)}`, `${this.name}_count ${this.count}`);
    return lines.join('\n');
  }
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096];

/** The metric families of `tessera serve`. */
export class ServerMetrics {
  readonly requests = new Counter('tessera_requests_total', 'HTTP requests answered, by route and status code.');
  readonly errors = new Counter('tessera_errors_total', 'Requests that failed, by reason (validation, too_large, queue_full, timeout, unavailable, client_closed, internal).');
  readonly queries = new Counter('tessera_queries_total', 'Queries searched.');
  readonly batchQueries = new Histogram('tessera_batch_queries', 'Queries per micro-batch (one encoder call and one search).', BATCH_BUCKETS);
  readonly batchRequests = new Histogram('tessera_batch_requests', 'Requests merged into one micro-batch.', BATCH_BUCKETS);
  readonly encodeSeconds = new Histogram('tessera_encode_seconds', 'Encoder time per batch, seconds.', LATENCY_BUCKETS);
  readonly searchSeconds = new Histogram('tessera_search_seconds', 'Index search time per batch, seconds.', LATENCY_BUCKETS);
  readonly requestSeconds = new Histogram('tessera_request_seconds', 'POST /retrieve time from arrival to answer, seconds.', LATENCY_BUCKETS);
  readonly deviceLosses = new Counter('tessera_device_lost_total', 'GPU device losses survived by reloading the index.');
  private readonly gauges: Gauge[] = [];

  /** queueDepth: queries waiting for a batch; inFlight: queries in the running batch. */
  constructor(queueDepth: () => number, inFlight: () => number, ready: () => boolean) {
    this.gauges.push(
      new Gauge('tessera_queue_depth', 'Queries waiting for a micro-batch (while loading, for the load).', queueDepth),
      new Gauge('tessera_batch_in_flight', 'Queries in the batch being encoded and searched.', inFlight),
      new Gauge('tessera_ready', '1 once index, corpus and model are loaded and the index is usable, else 0.', () => (ready() ? 1 : 0)),
    );
  }

  render(): string {
    const families = [
      this.requests,
      this.errors,
      this.queries,
      this.batchQueries,
      this.batchRequests,
      this.encodeSeconds,
      this.searchSeconds,
      this.requestSeconds,
      this.deviceLosses,
      ...this.gauges,
    ];
    return families.map((f) => f.render()).join('\n') + '\n';
  }
}
