/** A plain static file server on 127.0.0.1 (what "works from a static server" means: no special headers, no rewrites). */
import { createReadStream, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8',
  '.jsonl': 'text/plain; charset=utf-8',
};

export interface StaticServer {
  url: string;
  /** Paths requested, in order, with their status: lets a test prove nothing else was fetched. */
  requests: { path: string; status: number }[];
  close(): Promise<void>;
}

export async function serveStatic(root: string): Promise<StaticServer> {
  const requests: StaticServer['requests'] = [];
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = normalize(join(root, path.endsWith('/') ? `${path}index.html` : path));
    let status = 404;
    try {
      if ((file === root || file.startsWith(root + sep)) && statSync(file).isFile()) status = 200;
    } catch {
      status = 404;
    }
    requests.push({ path, status });
    if (status !== 200) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const st = statSync(file);
    // Last-Modified, as every static server sends: it lets the browser cache (and V8 cache compiled .wasm).
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'content-length': st.size, 'last-modified': st.mtime.toUTCString() });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    close: () => new Promise<void>((ok) => server.close(() => ok())),
  };
}
