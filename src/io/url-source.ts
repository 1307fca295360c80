/**
 * A ByteSource over an http(s) URL, for index files in browsers and Deno: with HTTP Range support
 * only the bytes asked for are fetched (a header, then rows in chunks); a server without it (or
 * one that compresses its ranges) is read whole into memory. Errors name the URL and the status.
 */
import { TesseraError } from '../core/errors.js';
import type { ByteSource, ProgressCallback } from '../core/types.js';
import { memorySource } from './byte-reader.js';

export interface UrlSourceOptions {
  /** Extra request headers (e.g. Authorization). */
  headers?: Record<string, string>;
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch;
  /**
   * Least bytes one range request fetches (default 1 MiB): reads are mostly sequential, and a
   * file of many small fields (an IVF's lists) would otherwise cost a round trip per field.
   */
  readAhead?: number;
  /**
   * Called as the bytes of a whole-file download come in (a server without ranges, such as
   * `python3 -m http.server`): `{ phase: 'downloading index', done, total, unit: 'bytes' }`, total
   * where the server declares a length. Ranged reads are counted by the reader's own progress.
   */
  onProgress?: ProgressCallback;
}

/** A ByteSource that names its URL in error messages (`label`). */
export interface UrlSource extends ByteSource {
  readonly label: string;
  /** True when reads fetch ranges; false when the whole file was downloaded at open. */
  readonly ranged: boolean;
}

/** True in a browser's page or worker (not in Deno, which may have a location but no CORS and has files). */
export function inBrowser(): boolean {
  const g = globalThis as { document?: unknown; WorkerGlobalScope?: unknown };
  return g.document !== undefined || g.WorkerGlobalScope !== undefined;
}

/**
 * Opens `url` for reading: one request for byte 0 learns the size and whether the server answers
 * ranges. NOT_FOUND names the URL and the status (404, 403, a network failure); FORMAT a body that
 * ends early (the connection closed mid-file).
 */
export async function urlSource(url: string | URL, opts: UrlSourceOptions = {}): Promise<UrlSource> {
  const page = (globalThis as { location?: { href: string } }).location?.href;
  let href: string;
  try {
    href = new URL(url, page).href;
  } catch (e) {
    const why = page ? '' : ' (a relative URL needs a page to resolve against: give it whole, e.g. https://host/x.index)';
    throw new TesseraError('INVALID_ARGUMENT', `urlSource: ${String(url)} is not a URL${why}`, { cause: e });
  }
  const doFetch = opts.fetch ?? fetch;
  // A page's request to another origin fails as a bare network error when that server does not allow the page (CORS).
  // Only browsers enforce it: Deno run with --location has a page origin but no CORS.
  const pageOrigin = page && inBrowser() ? new URL(page).origin : undefined;
  const crossOrigin = pageOrigin !== undefined && pageOrigin !== 'null' && new URL(href).origin !== pageOrigin;
  const get = async (range?: string): Promise<Response> => {
    let res: Response;
    try {
      res = await doFetch(href, { headers: { ...opts.headers, ...(range ? { Range: range } : {}) } });
    } catch (e) {
      // Deno without --allow-net (or --allow-read for file:) says which flag in its own message.
      const hint = isPermissionDenied(e)
        ? 'give the permission it names'
        : crossOrigin
          ? `check the URL, that its server answers, and that it allows this page's origin ${pageOrigin} (CORS: Access-Control-Allow-Origin; the browser's console names what it refused)`
          : 'check the URL and that its server answers';
      throw new TesseraError('NOT_FOUND', `GET ${href}${range ? ` (${range})` : ''} failed (${describe(e)}): ${hint}`, { cause: e });
    }
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      throw new TesseraError('NOT_FOUND', `GET ${href}${range ? ` (${range})` : ''} answered ${res.status} ${res.statusText}`.trimEnd());
    }
    return res;
  };
  const endedEarly = (what: string, e: unknown) =>
    new TesseraError('FORMAT', `GET ${href}: the body of ${what} ended early (${describe(e)}): the connection closed mid-file; try again`, { cause: e });
  const body = async (res: Response, what: string, onProgress?: ProgressCallback): Promise<Uint8Array> => {
    // An error thrown by onProgress is the caller's, passed on as it is, not a broken download.
    if (onProgress && res.body) return countedBody(res, onProgress, (e) => endedEarly(what, e));
    try {
      return new Uint8Array(await res.arrayBuffer());
    } catch (e) {
      throw endedEarly(what, e);
    }
  };

  // An empty file has no byte 0: servers answer 416, and the plain GET then shows it empty.
  const probe = await get('bytes=0-0').catch((e: unknown) => (/ answered 416\b/.test((e as Error).message) ? get() : Promise.reject(e)));
  const total = /^bytes 0-0\/(\d+)$/.exec(probe.headers.get('content-range')?.trim() ?? '')?.[1];
  const encoding = (probe.headers.get('content-encoding') ?? 'identity').toLowerCase();
  if (probe.status === 206 && total !== undefined && encoding === 'identity') {
    await body(probe, 'byte 0');
    const size = Number(total);
    // A file replaced between reads would mix two versions: each range must come from the probe's.
    const version = (res: Response) => res.headers.get('etag') ?? res.headers.get('last-modified');
    const probeVersion = version(probe);
    const readAhead = opts.readAhead ?? 1 << 20;
    let cached: Uint8Array = new Uint8Array(0);
    let cachedAt = 0;
    return {
      label: href,
      ranged: true,
      size,
      async read(offset, length) {
        if (offset >= cachedAt && offset + length <= cachedAt + cached.length) {
          return cached.subarray(offset - cachedAt, offset - cachedAt + length);
        }
        const end = Math.min(offset + Math.max(length, readAhead), size);
        if (end <= offset) return new Uint8Array(0);
        const range = `bytes=${offset}-${end - 1}`;
        const res = await get(range);
        const [, start, of] = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(res.headers.get('content-range')?.trim() ?? '') ?? [];
        const now = version(res);
        if (res.status === 206 && ((of !== undefined && of !== '*' && Number(of) !== size) || (probeVersion && now && now !== probeVersion))) {
          await res.body?.cancel().catch(() => {});
          throw new TesseraError('FORMAT', `GET ${href} (${range}): the file changed on the server while it was read (size or ETag differs): open it again`);
        }
        if (res.status !== 206 || Number(start) !== offset) {
          await res.body?.cancel().catch(() => {});
          throw new TesseraError('FORMAT', `GET ${href} (${range}) answered ${res.status} without that range: the file changed on the server or a proxy drops ranges`);
        }
        const bytes = await body(res, range);
        if (bytes.length !== end - offset) {
          throw new TesseraError('FORMAT', `GET ${href} (${range}) returned ${bytes.length} bytes, not ${end - offset}: the file changed on the server; open it again`);
        }
        cached = bytes;
        cachedAt = offset;
        return bytes.subarray(0, Math.min(length, bytes.length));
      },
      async close() {
        cached = new Uint8Array(0);
      },
    };
  }
  // No usable ranges: the whole file. A 206 (of an unknown size, or compressed) is asked for again
  // without Range. (A server of another origin that does not list Content-Range in
  // Access-Control-Expose-Headers hides it from the page: its file is downloaded whole too.)
  let whole = probe;
  if (probe.status === 206) {
    await probe.body?.cancel().catch(() => {});
    whole = await get();
  }
  const bytes = await body(whole, 'the file', opts.onProgress);
  const declared = whole.headers.get('content-length');
  if (declared !== null && (whole.headers.get('content-encoding') ?? 'identity').toLowerCase() === 'identity' && bytes.length < Number(declared)) {
    throw new TesseraError('FORMAT', `GET ${href}: the body ended after ${bytes.length} of ${declared} bytes: the connection closed mid-file; try again`);
  }
  return { ...memorySource(bytes), label: href, ranged: false };
}

/**
 * Reads a response's body chunk by chunk, reporting the bytes so far (a large file takes minutes
 * to come whole). With a declared length (uncompressed) the chunks go straight into one buffer.
 */
async function countedBody(res: Response, onProgress: ProgressCallback, endedEarly: (e: unknown) => Error): Promise<Uint8Array> {
  const identity = (res.headers.get('content-encoding') ?? 'identity').toLowerCase() === 'identity';
  const declared = identity ? Number(res.headers.get('content-length') ?? Number.NaN) : Number.NaN;
  const total = Number.isSafeInteger(declared) && declared >= 0 ? declared : undefined;
  const progress = (done: number) => onProgress({ phase: 'downloading index', done, ...(total !== undefined ? { total } : {}), unit: 'bytes' });
  const reader = res.body!.getReader();
  let buffer = new Uint8Array(total ?? 1 << 20);
  let done = 0;
  try {
    progress(0);
    for (;;) {
      const r = await reader.read().catch((e: unknown) => Promise.reject(endedEarly(e)));
      if (r.done) break;
      if (done + r.value.length > buffer.length) {
        // No length, or more than declared: grow (the length check after the download reports a short body).
        const grown = new Uint8Array(Math.max(buffer.length * 2, done + r.value.length));
        grown.set(buffer.subarray(0, done));
        buffer = grown;
      }
      buffer.set(r.value, done);
      done += r.value.length;
      progress(done);
    }
  } catch (e) {
    // onProgress threw (the caller's error, passed on as it is) or the connection broke: stop the download.
    await reader.cancel().catch(() => {});
    throw e;
  }
  return buffer.length === done ? buffer : buffer.slice(0, done);
}

function describe(e: unknown): string {
  const message = (e as Error)?.message ?? String(e);
  const cause = (e as { cause?: { message?: string } })?.cause?.message;
  return cause ? `${message}: ${cause}` : message;
}

/** Deno's refusal for want of a permission (NotCapable in Deno 2, PermissionDenied in Deno 1). */
export function isPermissionDenied(e: unknown): boolean {
  const name = (e as Error)?.name;
  return name === 'NotCapable' || name === 'PermissionDenied';
}
