/**
 * The HTTP API of `tessera serve`, a drop-in for Search-R1's retrieval_server.py:
 *   POST /retrieve {"queries": [str], "topk": int|null, "return_scores": bool}
 *     -> {"result": [[{"document": <corpus row>, "score": f}, ...], ...]} (rows alone without return_scores)
 *   GET /health, GET /metrics (Prometheus text).
 *
 * Framework: fastify. It validates request bodies against a JSON schema at the edge (Ajv compiled
 * once), enforces the body size limit itself (413), logs through pino (structured JSON), and closes
 * gracefully (in-flight requests finish, new ones get 503). Hono would need a separate validator
 * and logger for the same; fastify is Node-only, which is fine: server/ never reaches the browser core.
 */
import { isUtf8 } from 'node:buffer';
import { STATUS_CODES } from 'node:http';
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { Readable, pipeline } from 'node:stream';
import type { Transform } from 'node:stream';
import { createBrotliDecompress, createUnzip } from 'node:zlib';
import Fastify, { LogController } from 'fastify';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyServerOptions } from 'fastify';
import { formatBytes, isTesseraError } from '../core/errors.js';
import { titledText } from '../encoder/build-index.js';
import { TextTooLongError } from '../encoder/tokenizer.js';
import { MicroBatcher, QueueFullError, RequestTimeoutError, ShuttingDownError, timerDelay } from './batcher.js';
import type { RequestResult } from './batcher.js';
import type { ServerMetrics } from './metrics.js';
import { UnavailableError } from './retriever.js';

/** Rows by position: the corpus (io/corpus.ts) or a test double. */
export interface RowSource {
  readonly rows: number;
  rowsAt(ids: readonly number[]): Promise<string[]>;
}

/** What the app serves; filled in as loading proceeds, so /health can answer before it ends. */
export interface ServiceState {
  phase: 'loading' | 'ready' | 'failed' | 'closing';
  batcher?: MicroBatcher;
  corpus?: RowSource;
  /** Throws for a query the encoder refuses (TextTooLongError), so it fails its request alone, not its batch. */
  checkQuery?: (query: string) => void;
  /** Whether the search side can answer now (false while recovering from a device loss). */
  searchReady?: () => boolean;
  /** Steps loaded so far with their seconds, for /health. */
  loaded: Record<string, number>;
  /** Why loading failed (phase 'failed'). */
  error?: string;
  /** Resolves when the phase leaves 'loading' (ready, failed or closing): requests sent early wait on it. */
  settled?: Promise<void>;
  /** Queries of requests waiting for the load to end: counted in queue_depth, which read 0 while they waited. */
  loadWaiting?: number;
}

export interface AppOptions {
  /** topk used when a request sends none, null or 0 (Search-R1's --topk, default 3). */
  defaultTopk: number;
  /** Largest topk a request may ask for (400 above). */
  maxTopk: number;
  /** Most queries in one request (413 above): the queue's capacity, as a larger request could never be queued. */
  maxQueries: number;
  /** Largest request body, bytes (413 above). */
  bodyLimit: number;
  /**
   * The request timeout (--timeout-ms): how long a /retrieve sent while loading waits for it to end
   * before 503 (a trainer started beside the server, or one that waits only for the port, gets
   * answers, not errors), and how long a request's body may take to come in after its headers (408 after).
   */
  timeoutMs: number;
  metrics: ServerMetrics;
  /** fastify/pino logger options, or false for none. */
  logger?: FastifyServerOptions['logger'];
}

interface RetrieveBody {
  queries: string[];
  topk?: number | null;
  return_scores?: boolean;
}

const EXAMPLE_HINT = 'send a JSON object such as {"queries": ["who wrote hamlet?"], "topk": 3, "return_scores": true}';

/**
 * Search-R1's server validates a request with pydantic v2 in lax mode (FastAPI calls
 * validate_python on the parsed JSON), which reads some other JSON values as the declared type; a
 * trainer that relied on that is served the same here. The sets, checked against pydantic 2.13
 * (its conversion table, "lax" column):
 *   topk, Optional[int]: true and false as 1 and 0; a string holding an integer: ASCII digits with
 *     single underscores between them, a sign, a fraction of zeros, surrounding whitespace
 *     (" +3 ", "1_000", "3.0"; not "3.5", "3e0", "0x10", "3.", "" or non-ASCII digits). Numbers
 *     with a fractional part are refused, as pydantic does.
 *   return_scores, bool: 0 and 1; the strings 0 1 f t n y no yes off on false true in any case,
 *     nothing around them.
 * queries, List[str]: from JSON, pydantic too takes only an array of strings.
 * Other values are left as they are, for the schema to refuse naming the field.
 */
const LAX_INT = /^[+-]?\d+(?:_\d+)*(?:\.0+)?$/;
/** What pydantic-core strips around a string integer: Rust's str::trim, Unicode White_Space (JS's trim differs: it strips U+FEFF, keeps U+0085). */
const RUST_WHITESPACE = /[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;
const LAX_TRUE = new Set(['1', 't', 'y', 'yes', 'on', 'true']);
const LAX_FALSE = new Set(['0', 'f', 'n', 'no', 'off', 'false']);

function laxInt(value: unknown): unknown {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value !== 'string') return value;
  const text = rustTrim(value);
  if (!LAX_INT.test(text)) return value;
  return Number(text.replace(/_/g, '').replace(/\.0+$/, ''));
}

/** Index loops, not a /^\s+|\s+$/ regex: that one backtracks quadratically on a long run of spaces inside the text. */
function rustTrim(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && RUST_WHITESPACE.test(text[start]!)) start++;
  while (end > start && RUST_WHITESPACE.test(text[end - 1]!)) end--;
  return text.slice(start, end);
}

function laxBool(value: unknown): unknown {
  if (value === 0 || value === 1) return value === 1;
  if (typeof value !== 'string') return value;
  const lower = value.toLowerCase();
  return LAX_TRUE.has(lower) ? true : LAX_FALSE.has(lower) ? false : value;
}

/** Rewrites topk and return_scores in place where pydantic's lax mode would read them (see above). */
function readLaxFields(body: unknown): void {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return;
  const fields = body as Record<string, unknown>;
  if (Object.hasOwn(fields, 'topk')) fields.topk = laxInt(fields.topk);
  if (Object.hasOwn(fields, 'return_scores')) fields.return_scores = laxBool(fields.return_scores);
}

/** One error envelope for every failure: {"error": {"status", "code", "message", "field"?}}. */
interface HttpFailure {
  status: number;
  code: string;
  message: string;
  field?: string;
  retryAfter?: number;
  /** Metrics label. */
  reason: string;
}

/** The client closed its connection before the answer: nobody reads it (logged as nginx's 499). */
export class ClientClosedError extends Error {
  override readonly name = 'ClientClosedError';
}

const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'] as const;

/** Request body decoders by Content-Encoding token; createUnzip reads gzip and zlib (HTTP's deflate) alike. */
const DECODERS: Record<string, () => Transform> = {
  gzip: createUnzip,
  'x-gzip': createUnzip,
  deflate: createUnzip,
  br: createBrotliDecompress,
};

/** An error fastify answers with `status` (toHttpFailure keeps its code and message). */
function httpError(status: number, code: string, message: string): FastifyError {
  return Object.assign(new Error(message), { statusCode: status, code }) as FastifyError;
}

/**
 * Byte offset of the first sequence in `bytes` that is not UTF-8, or -1 when all of it is. The
 * platform's decoder judges (isUtf8, then toString's U+FFFD for each bad sequence); the scan only
 * locates: the text before a U+FFFD re-encodes to exactly the bytes before it, and a U+FFFD sent
 * as such (ef bf bd) is valid and skipped.
 */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  if (isUtf8(bytes)) return -1;
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  let offset = 0;
  let from = 0;
  for (let at = text.indexOf('\ufffd'); at >= 0; at = text.indexOf('\ufffd', at + 1)) {
    offset += Buffer.byteLength(text.slice(from, at));
    from = at;
    if (bytes[offset] !== 0xef || bytes[offset + 1] !== 0xbf || bytes[offset + 2] !== 0xbd) return offset;
  }
  return -1; // not reached: isUtf8 said some sequence is bad, and each bad one decodes as U+FFFD
}

/** Maps every error the API can meet to its HTTP status, in one place; `bodyLimit` (bytes) is named in a 413. */
export function toHttpFailure(e: unknown, bodyLimit?: number): HttpFailure {
  if (e instanceof ClientClosedError) return { status: 499, code: 'CLIENT_CLOSED', message: e.message, reason: 'client_closed' };
  // The client hung up while sending its body (Node's "aborted"; fastify gives it a 400): nobody reads
  // the answer, and it is no invalid request.
  if ((e as NodeJS.ErrnoException)?.code === 'ECONNRESET') {
    return { status: 499, code: 'CLIENT_CLOSED', message: 'the client closed the connection before its request body was received', reason: 'client_closed' };
  }
  if (e instanceof QueueFullError) return { status: 503, code: 'QUEUE_FULL', message: e.message, retryAfter: e.retryAfterSeconds, reason: 'queue_full' };
  if (e instanceof UnavailableError) return { status: 503, code: 'UNAVAILABLE', message: e.message, retryAfter: e.retryAfterSeconds, reason: 'unavailable' };
  if (e instanceof ShuttingDownError) return { status: 503, code: 'SHUTTING_DOWN', message: e.message, retryAfter: 5, reason: 'unavailable' };
  if (e instanceof RequestTimeoutError) return { status: 504, code: 'TIMEOUT', message: e.message, reason: 'timeout' };
  if (e instanceof TextTooLongError) return { status: 413, code: 'TEXT_TOO_LONG', message: e.message, reason: 'too_large' };
  if (isTesseraError(e)) {
    switch (e.code) {
      case 'INVALID_ARGUMENT':
        return { status: 400, code: e.code, message: e.message, reason: 'validation' };
      case 'DEVICE_LOST':
      case 'GPU_UNAVAILABLE':
      case 'OUT_OF_MEMORY':
        return { status: 503, code: e.code, message: e.message, retryAfter: 5, reason: 'unavailable' };
      default:
        return { status: 500, code: e.code, message: e.message, reason: 'internal' };
    }
  }
  const fe = e as FastifyError;
  if (fe?.validation) {
    const first = fe.validation[0];
    const path = (first?.instancePath ?? '').replace(/^\//, '').replace(/\/(\d+)/g, '[$1]').replace(/\//g, '.');
    const missing = (first?.params as { missingProperty?: string } | undefined)?.missingProperty;
    const field = missing ?? (path || 'body');
    let why = missing ? 'is required' : field === 'body' ? `must be a JSON object: ${EXAMPLE_HINT}` : (first?.message ?? 'is invalid');
    // Search-R1's server takes any topk; here the bound is a server flag, which the message names.
    if (field === 'topk' && first?.keyword === 'maximum') why += `, the server's --max-topk: ask for fewer or start the server with a larger --max-topk`;
    // What else is read as the type (readLaxFields), which Ajv's "must be integer" does not say.
    if (field === 'topk' && first?.keyword === 'type') why = 'must be an integer or null (a string of an integer such as "3" is read as one)';
    if (field === 'return_scores' && first?.keyword === 'type') why = 'must be a boolean, true or false (0/1 and the strings "true"/"false", "yes"/"no", "on"/"off", "t"/"f", "y"/"n", "1"/"0" are read as one)';
    return { status: 400, code: 'INVALID_ARGUMENT', message: `invalid request: ${field} ${why}`, field, reason: 'validation' };
  }
  if (fe?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    const limit = bodyLimit === undefined ? 'the server\'s limit' : `the server's limit of ${formatBytes(bodyLimit)} (${bodyLimit} bytes)`;
    return { status: 413, code: 'BODY_TOO_LARGE', message: `the request body is larger than ${limit}: send fewer or shorter queries per request, or start the server with a larger --body-limit`, reason: 'too_large' };
  }
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return { status: fe.statusCode, code: fe.code ?? 'BAD_REQUEST', message: fe.message, reason: 'validation' };
  }
  return { status: 500, code: 'INTERNAL', message: (e as Error)?.message ?? String(e), reason: 'internal' };
}

/** A request whose body did not come in whole within --timeout-ms of its headers. */
function stalledFailure(timeoutMs: number): HttpFailure {
  return { status: 408, code: 'REQUEST_TIMEOUT', message: `the request did not come in whole within ${timeoutMs} ms of its headers (--timeout-ms): send the body at once, or start the server with a larger --timeout-ms`, reason: 'timeout' };
}

/**
 * What Node's HTTP parser refuses before a route sees the request, in the envelope (fastify's own
 * answer is {"error": "Bad Request", ...}): headers too slow or over Node's limit, bytes that are not HTTP.
 */
function clientFailure(error: Error & { code?: string }, headersTimeoutMs: number): HttpFailure {
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    return { status: 408, code: 'REQUEST_TIMEOUT', message: `the request headers did not come in within ${headersTimeoutMs} ms: send them at once`, reason: 'timeout' };
  }
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    return { status: 431, code: 'HEADERS_TOO_LARGE', message: 'the request headers are larger than 16 KiB (Node\'s --max-http-header-size): send fewer or shorter headers', reason: 'too_large' };
  }
  return { status: 400, code: 'BAD_REQUEST', message: `the request is not valid HTTP/1.1 (${error.code ?? error.message}): ${EXAMPLE_HINT} to POST /retrieve`, reason: 'validation' };
}

/** `f` as a whole HTTP/1.1 answer that closes the connection, written to the socket itself (no reply object to send it). */
function rawAnswer(f: HttpFailure): string {
  const body = JSON.stringify({ error: { status: f.status, code: f.code, message: f.message } });
  return `HTTP/1.1 ${f.status} ${STATUS_CODES[f.status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

function sendFailure(reply: FastifyReply, f: HttpFailure, metrics: ServerMetrics) {
  metrics.errors.inc({ reason: f.reason });
  if (f.retryAfter !== undefined) reply.header('Retry-After', String(f.retryAfter));
  const error: Record<string, unknown> = { status: f.status, code: f.code, message: f.message };
  if (f.field !== undefined) error.field = f.field;
  return reply.code(f.status).send({ error });
}

/** Most bytes of an unread request body drained after its answer, before the socket is reset. */
export const LINGER_MAX_BYTES = 256 << 20;
/** Longest a socket drains an unread request body after its answer (nginx's lingering_time is 30 s). */
export const LINGER_MAX_MS = 10_000;

/**
 * Lingering close, as nginx and Apache do: when Node closes the socket after the answer (its
 * destroySoon, called once the response is flushed), only the sending side is shut; the rest of the
 * request body is read and dropped until the client ends it, then the socket is closed, so the
 * client reads the answer. Bounded: past LINGER_MAX_BYTES or LINGER_MAX_MS the socket is destroyed.
 */
function lingerOnClose(request: IncomingMessage, lingering: Set<Socket>): void {
  const socket = request.socket as Socket | null;
  if (!socket) return; // already gone with its client
  const destroySoon = socket.destroySoon.bind(socket);
  socket.destroySoon = () => {
    if (socket.destroyed || request.complete) return destroySoon(); // the body came in the meantime
    lingering.add(socket);
    // Node's parser reads the socket itself and drops the body of an answered request (no 'data'
    // events on either): what it drains is told by the socket's byte count.
    const start = socket.bytesRead;
    const done = () => {
      clearInterval(poll);
      clearTimeout(timer);
      lingering.delete(socket);
      socket.destroy();
    };
    const poll = setInterval(() => socket.bytesRead - start > LINGER_MAX_BYTES && done(), 20);
    const timer = setTimeout(done, LINGER_MAX_MS);
    socket.once('close', done);
    request.once('end', done); // the whole body is in
    socket.once('end', done); // the client stopped sending
    request.once('error', done);
    request.resume();
    socket.end();
  };
}

/** Builds the fastify app over `state`; call `listen` on it. */
export function createApp(opts: AppOptions, state: ServiceState): FastifyInstance {
  const { metrics } = opts;
  const app = Fastify({
    logger: opts.logger ?? false,
    bodyLimit: opts.bodyLimit,
    // Search-R1's FastAPI server redirects /retrieve/ to /retrieve (redirect_slashes), which clients
    // follow: a trainer configured with the slash is served here too instead of a 404.
    routerOptions: { ignoreTrailingSlash: true },
    // Per-request info lines cost more than a search at high QPS; errors and batches are logged.
    logController: new LogController({ disableRequestLogging: true }),
    // No coercion by Ajv (its set is not pydantic's: it reads null as 0 and 3 as "3"): /retrieve
    // reads what pydantic's lax mode reads (readLaxFields) before the schema, which refuses the rest.
    ajv: { customOptions: { coerceTypes: false, allErrors: false } },
    // While closing, fastify would answer a request routed after the stop itself, with its own body
    // ({"error": "Service Unavailable"}, no Retry-After, uncounted): the handlers answer it instead,
    // in the envelope, and /health says "closing".
    return503OnClosing: false,
    // Node's parser refuses a request (bytes that are not HTTP, headers too large or too slow): the
    // answer in the envelope, not fastify's {"error": "Bad Request", ...}.
    clientErrorHandler(error, socket) {
      // Reset, or closed mid-request, by the client: nobody to answer; destroyed, the request (if
      // routed) fails as aborted and counts as client_closed.
      if (error.code === 'ECONNRESET' || error.code === 'HPE_INVALID_EOF_STATE' || socket.destroyed) {
        socket.destroy();
        return;
      }
      const f = clientFailure(error, app.server.headersTimeout);
      metrics.errors.inc({ reason: f.reason });
      if (socket.writable) socket.write(rawAnswer(f));
      socket.destroy();
    },
  });

  // Clients that post JSON without a JSON content type (curl -d: form-encoded; fetch with a string
  // body: text/plain) are served as JSON too, with one error for a body that is not JSON whatever its
  // type (fastify's says "content-type is set to 'application/json'" even when it is not).
  // __proto__ / constructor keys are dropped, as unknown fields are.
  const jsonParser = app.getDefaultJsonParser('remove', 'remove');
  app.removeContentTypeParser(['application/json', 'text/plain']);
  // Read as bytes: decoded as a string, bytes that are not UTF-8 (a client sending Latin-1 or
  // cp1252) became U+FFFD and the query was searched as other text, a silent wrong answer.
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (request, body, done) => {
    const bytes = body as Buffer;
    // gzip's magic bytes 1f 8b: a compressed body whose header was left out. Checked before UTF-8
    // (8b is no UTF-8 lead byte): the fix is the header, not the text's encoding.
    if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
      // With a Content-Encoding (not identity), preParsing undid it already: what is left was compressed
      // again, and "add the header" (which the client had sent) misled.
      const header = request.headers['content-encoding'];
      const coded = header !== undefined && header.split(',').some((c) => !['', 'identity'].includes(c.trim().toLowerCase()));
      if (coded) {
        return done(
          httpError(400, 'INVALID_JSON', `the body is still gzip-compressed after undoing its Content-Encoding ${header.trim()}: it was compressed twice: compress it once (keeping the header Content-Encoding: ${header.trim()}), or send it uncompressed without Content-Encoding`),
          undefined,
        );
      }
      return done(httpError(400, 'INVALID_JSON', 'the body is gzip-compressed but sent without Content-Encoding: add the header Content-Encoding: gzip (curl -H \'Content-Encoding: gzip\'), or send it uncompressed'), undefined);
    }
    const bad = firstInvalidUtf8(bytes);
    if (bad >= 0) {
      const shown = [...bytes.subarray(bad, bad + 4)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
      return done(httpError(400, 'INVALID_JSON', `the body is not valid UTF-8 at byte offset ${bad} (bytes from there: ${shown}): send the body as UTF-8, as JSON requires (text in another encoding, e.g. Latin-1, would be searched as other words)`), undefined);
    }
    const text = bytes.toString('utf8');
    jsonParser(request, text, (err, value) => {
      if (!err) return done(null, value);
      // The parser (secure-json-parse) skips one leading byte-order mark: so does the reason, or a
      // BOM-led body was blamed on an invisible "Unexpected token '\ufeff'" at position 0, hiding the
      // real fault (or that nothing followed the BOM).
      const json = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
      let why = 'unparsable';
      try {
        JSON.parse(json);
      } catch (x) {
        why = (x as Error).message; // names the position, which fastify's error does not
      }
      done(httpError(400, 'INVALID_JSON', json === '' ? `the body is empty: ${EXAMPLE_HINT}` : `the body is not valid JSON (${why}): ${EXAMPLE_HINT}`), undefined);
    });
  });

  // A compressed request body (Content-Encoding: gzip, deflate or br) is decoded; --body-limit
  // applies to the decoded bytes, so a small compressed body cannot expand past it (fastify counts
  // what the returned stream gives). Unknown codings are 415, not a JSON error about binary bytes.
  app.addHook('preParsing', async (request, _reply, payload) => {
    const header = request.headers['content-encoding'];
    // No body (a GET, Content-Length 0): nothing to decode, and fastify parses none.
    const hasBody = request.headers['transfer-encoding'] !== undefined || Number(request.headers['content-length']) > 0;
    if (header === undefined || !hasBody) return payload;
    const codings = header.split(',').map((c) => c.trim().toLowerCase()).filter((c) => c !== '' && c !== 'identity');
    if (codings.length === 0) return payload;
    const unknown = codings.find((c) => !(c in DECODERS));
    if (unknown !== undefined) {
      throw httpError(415, 'UNSUPPORTED_ENCODING', `the request body is sent with Content-Encoding ${unknown}, which this server does not decode: send it uncompressed or as ${Object.keys(DECODERS).join(', ')}`);
    }
    // Codings are listed in the order the client applied them: undone last first.
    const decoders = codings.reverse().map((coding) => {
      const decoder = DECODERS[coding]!();
      decoder.once('error', (e: Error & { statusCode?: number; code?: string }) => {
        e.message = `the request body is not valid ${coding} data (${e.message}), as its Content-Encoding says: compress it with ${coding}, or send it uncompressed without Content-Encoding`;
        e.statusCode = 400;
        e.code = 'INVALID_ENCODING';
      });
      return decoder;
    });
    // fastify compares receivedEncodedLength with Content-Length, which counts the encoded bytes.
    const decoded = Object.assign(decoders[decoders.length - 1]!, { receivedEncodedLength: 0 });
    payload.on('data', (chunk: Buffer) => (decoded.receivedEncodedLength += chunk.length));
    pipeline([payload, ...decoders], () => {}); // an error reaches fastify through `decoded`
    return decoded;
  });

  app.setErrorHandler((error, request, reply) => {
    // Answered 408 on its socket already (stalled body): the read's abort is not a second error.
    if (stalled.has(request.raw)) return reply.code(408).send();
    const f = toHttpFailure(error, opts.bodyLimit);
    if (f.status >= 500) request.log.error({ err: error }, f.message);
    return sendFailure(reply, f, metrics);
  });
  app.setNotFoundHandler((request, reply) => {
    const routes = 'use POST /retrieve, GET /health or GET /metrics';
    // A known path asked with another method is 405 with Allow (as FastAPI answers GET /retrieve), not 404.
    // hasRoute drops one trailing slash as the router does ("/retrieve//" stays a 404).
    const path = request.url.split('?')[0] ?? '';
    const allowed = HTTP_METHODS.filter((method) => app.hasRoute({ method, url: path }));
    if (allowed.length > 0 && !allowed.includes(request.method as (typeof HTTP_METHODS)[number])) {
      reply.header('Allow', allowed.join(', '));
      return sendFailure(reply, { status: 405, code: 'METHOD_NOT_ALLOWED', message: `${path} does not take ${request.method}, only ${allowed.join(' or ')}: ${routes}`, reason: 'not_found' }, metrics);
    }
    return sendFailure(reply, { status: 404, code: 'NOT_FOUND', message: `no route ${request.method} ${request.url}: ${routes}`, reason: 'not_found' }, metrics);
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unknown';
    metrics.requests.inc({ route, status: String(reply.statusCode) });
    if (route === '/retrieve') metrics.requestSeconds.observe(reply.elapsedTime / 1000);
  });

  // While shutting down, answers close their connection: a keep-alive socket left idle after the
  // last in-flight answer would hold the close for the whole keep-alive timeout (72 s in fastify).
  app.addHook('onSend', async (request, reply, payload) => {
    if (state.phase === 'closing' || state.phase === 'failed') reply.header('connection', 'close');
    // Answered before the body was read (413, 415, 404): the rest of it cannot be told from a next
    // request, so the connection closes; closing with unread bytes makes the kernel reset it, and a
    // client still sending (Python's urllib, which reads no answer before its body is out) sees
    // "Broken pipe" instead of the answer. (`complete` is undefined under inject: no socket.)
    if (request.raw.complete === false) {
      reply.header('connection', 'close');
      lingerOnClose(request.raw, lingering);
    }
    return payload;
  });
  // A lingering socket does not hold a shutdown.
  const lingering = new Set<Socket>();
  // Requests routed once the server was stopping: refused (503). Those routed before it are in
  // flight and answered, also when their body comes in after the stop.
  const routedWhileClosing = new WeakSet<IncomingMessage>();
  // A client that stops sending its body (a frozen rollout worker) would hold its socket and the body
  // read so far until it hung up, and a stop until then: the whole request must come in within
  // --timeout-ms of its headers, else it is answered 408 and its socket closed. (Node's requestTimeout,
  // which fastify leaves off, would answer in Node's own body, checked only every 30 s.)
  const stalled = new WeakSet<IncomingMessage>();
  app.addHook('onRequest', async (request, reply) => {
    if (state.phase === 'closing' || state.phase === 'failed') routedWhileClosing.add(request.raw);
    // `complete` is undefined under inject (no socket: nothing to stall or to answer on).
    if (request.raw.complete !== false) return;
    // Checked after the event loop's next read of the sockets (setImmediate runs after the poll
    // phase): past a long encoder run, bytes that came in time are read before they are judged late.
    const timer = setTimeout(() => setImmediate(() => {
      const socket = request.raw.socket as Socket | null;
      // Answered already (a 413 before the body, whose drain has its own bound), or in whole by now.
      if (request.raw.complete || reply.raw.headersSent || !socket || socket.destroyed) return;
      stalled.add(request.raw);
      const f = stalledFailure(opts.timeoutMs);
      metrics.errors.inc({ reason: f.reason });
      metrics.requests.inc({ route: request.routeOptions.url ?? 'unknown', status: String(f.status) }); // no onResponse: the reply is not sent
      socket.end(rawAnswer(f));
      socket.destroySoon();
    }), timerDelay(opts.timeoutMs));
    reply.raw.once('close', () => clearTimeout(timer));
  });
  app.addHook('preClose', async () => {
    for (const socket of lingering) socket.destroy();
  });

  const ready = () => state.phase === 'ready' && (state.searchReady?.() ?? true);

  app.get('/health', async (_request, reply) => {
    const body = {
      status: ready() ? 'ok' : state.phase === 'ready' ? 'recovering' : state.phase,
      loaded: state.loaded,
      ...(state.error ? { error: state.error } : {}),
      queue_depth: (state.batcher?.depth ?? 0) + (state.loadWaiting ?? 0),
    };
    if (!ready()) reply.code(503).header('Retry-After', '5');
    return body;
  });

  app.get('/metrics', async (_request, reply) => {
    reply.type('text/plain; version=0.0.4; charset=utf-8');
    return metrics.render();
  });

  app.post<{ Body: RetrieveBody }>(
    '/retrieve',
    {
      preValidation: async (request) => readLaxFields(request.body),
      schema: {
        body: {
          type: 'object',
          required: ['queries'],
          // Unknown fields are ignored, as Search-R1's pydantic model does.
          additionalProperties: true,
          properties: {
            queries: { type: 'array', items: { type: 'string' } },
            topk: { anyOf: [{ type: 'integer', minimum: 0, maximum: opts.maxTopk }, { type: 'null' }] },
            return_scores: { type: 'boolean' },
          },
        },
      },
    },
    async (request, reply) => {
      const { queries, topk, return_scores: returnScores = false } = request.body;
      if (queries.length > opts.maxQueries) {
        return sendFailure(
          reply,
          { status: 413, code: 'BATCH_TOO_LARGE', message: `queries holds ${queries.length} queries, at most ${opts.maxQueries} are taken per request: split the request or raise --max-queue`, field: 'queries', reason: 'too_large' },
          metrics,
        );
      }
      // Nothing to search: answered at once, also while loading. Search-R1's trainer posts [] when no
      // rollout searched and reads "result" with no retry: a 503 there stopped the training run.
      const refusedByStop = state.phase === 'failed' || (state.phase === 'closing' && routedWhileClosing.has(request.raw));
      if (queries.length === 0 && !refusedByStop) return { result: [] };
      // A client that hangs up (a trainer's request timeout, a killed rollout worker) takes its
      // queries with it, waiting for the load or queued: searched anyway they would delay every
      // request behind them, and a client that retries after its timeout would be searched twice.
      const hungUp = new AbortController();
      const onClose = () => {
        if (!reply.raw.writableFinished) hungUp.abort(new ClientClosedError(`the client closed the connection before its ${queries.length} queries were answered`));
      };
      // Closed already when the event loop was busy (an encoder run) while the client hung up.
      if (reply.raw.destroyed) onClose();
      else reply.raw.once('close', onClose);
      let waited = false;
      if (state.phase === 'loading' && state.settled) {
        // Waiting requests count against the queue's capacity, so a flood during a long load is
        // bounded; one whose client hangs up gives its places back at once, not when the load ends.
        if ((state.loadWaiting ?? 0) + queries.length <= opts.maxQueries) {
          state.loadWaiting = (state.loadWaiting ?? 0) + queries.length;
          try {
            await settledWithin(state.settled, opts.timeoutMs, hungUp.signal);
          } finally {
            state.loadWaiting -= queries.length;
          }
          waited = true;
        }
      }
      if (hungUp.signal.aborted) return sendFailure(reply, toHttpFailure(hungUp.signal.reason), metrics);
      // In flight when the stop came (routed before it): answered, as the batcher takes queries until the server has closed.
      const serving = state.phase === 'ready' || (state.phase === 'closing' && !refusedByStop);
      if (!serving || !state.batcher || !state.corpus) {
        const loading = `the index, corpus and model are still loading${waited ? ` after ${opts.timeoutMs} ms of waiting` : state.loadWaiting ? ` and ${state.loadWaiting} queries already wait for them` : ''}`;
        // Only a load still running turns ready: a failed load and a stop close the server, which
        // comes back only when started again (the batcher says the same of a stop).
        const why =
          state.phase === 'failed'
            ? `loading failed: ${state.error}; the server is stopping: fix that and start it again`
            : state.phase === 'closing'
              ? 'the server is shutting down: retry on another replica or after restart'
              : `${loading}: retry shortly (GET /health says when ready)`;
        return sendFailure(reply, { status: 503, code: 'UNAVAILABLE', message: why, retryAfter: 5, reason: 'unavailable' }, metrics);
      }
      // Checked before batching: encoded beside other requests' queries, it would fail them too.
      for (let i = 0; state.checkQuery && i < queries.length; i++) {
        try {
          state.checkQuery(queries[i]!);
        } catch (e) {
          return sendFailure(reply, { ...toHttpFailure(e), field: `queries[${i}]` }, metrics);
        }
      }
      const k = topk ? topk : opts.defaultTopk;
      let found: RequestResult;
      try {
        found = await state.batcher.submit(queries, k, hungUp.signal);
      } catch (e) {
        const f = toHttpFailure(e);
        if (f.status >= 500 && f.status !== 503) request.log.error({ err: e }, f.message);
        return sendFailure(reply, f, metrics);
      }
      metrics.queries.inc({}, queries.length);
      const parts = await renderResultParts(found, state.corpus, returnScores);
      const chars = parts.reduce((n, part) => n + part.length, 0);
      // A large answer goes in pieces (chunked): joined, it could pass V8's longest string.
      return reply.type('application/json; charset=utf-8').send(chars > STREAM_ABOVE_CHARS ? Readable.from(parts) : parts.join(''));
    },
  );

  return app;
}

/**
 * Answers longer than this many characters are sent as a stream of their pieces. V8's longest string
 * is 2^29 - 24 characters (512 Mi): 4096 queries x topk 100 of 1.3 KB rows, a corpus of long passages
 * at the default --max-queue and --max-topk, failed with 500 "Invalid string length" once joined.
 */
export const STREAM_ABOVE_CHARS = 64 << 20;

/** The answer as JSON text (see renderResultParts). */
export async function renderResult(found: RequestResult, corpus: RowSource, returnScores: boolean): Promise<string> {
  return (await renderResultParts(found, corpus, returnScores)).join('');
}

/**
 * The answer as JSON text in pieces, one a query, whose concatenation is the answer: corpus rows are
 * spliced in as stored (each checked to be JSON once per answer; a row that is not JSON, or not a
 * JSON object, is sent as {"contents": <its text>}, a {"title", "text"} row with "contents" added as
 * build encoded it). Missing results (-1) are left out.
 */
export async function renderResultParts(found: RequestResult, corpus: RowSource, returnScores: boolean): Promise<string[]> {
  const ids: number[] = [];
  for (let i = 0; i < found.labels.length; i++) {
    const l = found.labels[i]!;
    if (l >= 0n) ids.push(Number(l));
  }
  const rows = await corpus.rowsAt(ids);
  const docs = rows.map(asJson);
  const parts: string[] = [];
  let next = 0;
  for (let q = 0; q < found.nq; q++) {
    const hits: string[] = [];
    for (let j = 0; j < found.k; j++) {
      const at = q * found.k + j;
      if (found.labels[at]! < 0n) continue;
      const doc = docs[next++]!;
      hits.push(returnScores ? `{"document":${doc},"score":${scoreJson(found.distances[at]!)}}` : doc);
    }
    parts.push(`${q === 0 ? '{"result":[' : ','}[${hits.join(',')}]`);
  }
  parts.push(found.nq === 0 ? '{"result":[]}' : ']}');
  return parts;
}

/**
 * A score as Python's json module writes a float (Search-R1's server): integral values keep their
 * ".0" (0.0, 1.0, -0.0), so json.loads gives a float; JSON.stringify writes 0 and 1, which Python
 * reads as int.
 */
export function scoreJson(score: number): string {
  const text = JSON.stringify(score);
  if (!Number.isInteger(score) || text.includes('e')) return text;
  return Object.is(score, -0) ? '-0.0' : `${text}.0`;
}

function asJson(row: string): string {
  let doc: unknown;
  try {
    doc = JSON.parse(row);
  } catch {
    return JSON.stringify({ contents: row });
  }
  // A string, number, array or null row (a bad row to build) was sent as it is: Search-R1's trainer
  // indexes doc["document"]["contents"] and failed with a TypeError on it.
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return JSON.stringify({ contents: row });
  // A {"title", "text"} row (BEIR, DPR, KILT; build encodes it as wiki-18's contents) gets that
  // "contents" too: Search-R1's trainer reads doc["document"]["contents"] (a KeyError without it).
  if (!('contents' in doc)) {
    const { title, text } = doc as { title?: unknown; text?: unknown };
    if (typeof text === 'string') return JSON.stringify({ ...doc, contents: titledText(title, text) });
  }
  return row;
}

/** Resolves when `settled` does, after `ms`, or when `signal` aborts, whichever is first (neither timer nor listener outlives it). */
async function settledWithin(settled: Promise<void>, ms: number, signal: AbortSignal): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  await Promise.race([
    settled,
    new Promise<void>((r) => (timer = setTimeout(r, timerDelay(ms)))),
    new Promise<void>((r) => {
      onAbort = () => r();
      if (signal.aborted) r();
      else signal.addEventListener('abort', onAbort, { once: true });
    }),
  ]);
  clearTimeout(timer);
  signal.removeEventListener('abort', onAbort!);
}
