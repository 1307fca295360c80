/**
 * Where a model folder's files come from: a path (through the platform's file hooks: Node/Deno), a URL
 * (fetch: browsers), a map of names to bytes, or a function. Names are relative, e.g. "onnx/model.onnx".
 */
import { isTesseraError, TesseraError } from '../core/errors.js';
import { fileSystem, platform } from '../platform.js';
import { isPermissionDenied } from '../io/url-source.js';
import type { BlobLike } from '../io/byte-reader.js';

/** Resolves a relative file name to its bytes, or undefined when the folder has no such file. */
export type FileLookup = (name: string) => Promise<Uint8Array | undefined>;

/** A file's content in memory: bytes, text, or a Blob/File (a folder picked in a browser). */
export type ModelFileContent = Uint8Array | ArrayBuffer | string | BlobLike;
export type ModelFiles = string | URL | Readonly<Record<string, ModelFileContent>> | ReadonlyMap<string, ModelFileContent> | FileLookup;

export interface ModelFolder {
  /** For messages: the path or URL as the caller gave it. */
  readonly label: string;
  get(name: string): Promise<Uint8Array | undefined>;
  /** Bytes of the first of `names` that exists; NOT_FOUND naming all of them otherwise. */
  require(names: readonly string[], what: string): Promise<{ name: string; bytes: Uint8Array }>;
  /** Parsed JSON of `name`, undefined when absent; FORMAT when it is not JSON. */
  json(name: string): Promise<Record<string, unknown> | undefined>;
}

const utf8 = new TextDecoder();

export function openModelFolder(files: ModelFiles): ModelFolder {
  const [label, find, dir] = resolveLookup(files);
  const lookup: FileLookup = async (name) => {
    const bytes = await find(name);
    if (bytes) foundAny.add(folder);
    return bytes;
  };
  const folder: ModelFolder = {
    label,
    get: lookup,
    async require(names, what) {
      for (const name of names) {
        const bytes = await lookup(name);
        if (bytes) return { name, bytes };
      }
      throw await missingFile(
        folder,
        what,
        names,
        'export the model to ONNX (e.g. optimum-cli export onnx) or point --model at the folder that holds it',
      );
    },
    async json(name) {
      const bytes = await lookup(name);
      if (!bytes) return undefined;
      try {
        const v = JSON.parse(utf8.decode(bytes)) as unknown;
        if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not a JSON object');
        return v as Record<string, unknown>;
      } catch (e) {
        throw new TesseraError('FORMAT', `${label}/${name} is not a JSON object: ${(e as Error).message}`, { cause: e });
      }
    },
  };
  if (dir !== undefined) folderPaths.set(folder, dir);
  return folder;
}

/** Path folders by their ModelFolder: a missing file there may be a missing folder. */
const folderPaths = new WeakMap<ModelFolder, string>();
/** Folders where some file was found: one where none was is likely the wrong path or URL. */
const foundAny = new WeakSet<ModelFolder>();

/**
 * NOT_FOUND for a file the folder lacks. For a path it first says whether the folder itself is
 * missing or is a file: otherwise a mistyped --model reads as "has no tokenizer".
 */
export async function missingFile(folder: ModelFolder, what: string, names: readonly string[], fix: string): Promise<TesseraError> {
  const dir = folderPaths.get(folder);
  const problem = dir === undefined ? undefined : await pathProblem(dir);
  if (problem) return new TesseraError('NOT_FOUND', `model folder ${folder.label} ${problem}: point --model (or Encoder.fromDirectory) at the folder that holds tokenizer.json and the ONNX model`);
  if (!foundAny.has(folder)) {
    return new TesseraError(
      'NOT_FOUND',
      `model folder ${folder.label} has none of a model's files (no config.json, no ${what}: expected ${names.map((n) => `"${n}"`).join(' or ')}): check the path or URL; it should name the folder that holds tokenizer.json and the ONNX model`,
    );
  }
  return new TesseraError('NOT_FOUND', `model folder ${folder.label} has no ${what}: expected ${names.map((n) => `"${n}"`).join(' or ')}; ${fix}`);
}

/** Why `dir` is not a folder ("does not exist", "is a file"), or undefined when it is one. */
async function pathProblem(dir: string): Promise<string | undefined> {
  try {
    const src = await fileSystem().openRead(dir);
    await src.close();
    return 'is a file, not a folder';
  } catch (e) {
    if (isTesseraError(e, 'NOT_FOUND')) return 'does not exist';
    if ((e as NodeJS.ErrnoException)?.code === 'ENOTDIR') return 'does not exist (a part of its path is a file)';
    return undefined; // a directory (EISDIR) or unreadable: the file message says more
  }
}

/** [label, lookup, the folder's path where files are read through the platform's file system]. */
function resolveLookup(files: ModelFiles): [string, FileLookup, string?] {
  if (typeof files === 'function') return ['(files from a function)', files];
  // No folder is named "https://...": such a string is the URL it spells, in any runtime.
  if (typeof files === 'string' && /^https?:\/\//i.test(files)) files = new URL(files);
  if (typeof files === 'string') {
    const dir = files.replace(/[\\/]+$/, '');
    return [dir, (name) => readPath(`${dir}/${name}`), dir];
  }
  if (files instanceof URL) {
    const base = files.href.endsWith('/') ? files.href : `${files.href}/`;
    // Node's fetch cannot read file: URLs (new URL('./model/', import.meta.url)): where the platform
    // has a file system, read them as the paths they name.
    if (files.protocol === 'file:' && platform().fs) {
      const dir = filePath(new URL(base)).replace(/[\\/]+$/, '');
      return [base, (name) => readPath(`${dir}/${name}`), dir];
    }
    return [base, (name) => fetchUrl(new URL(name, base))];
  }
  // A Map is read by get(): as a record it would look like a folder with no files at all.
  const get = files instanceof Map ? (name: string) => files.get(name) : (name: string) => (files as Readonly<Record<string, ModelFileContent>>)[name];
  return [
    '(files in memory)',
    async (name) => {
      const v = get(name);
      if (v === undefined || v instanceof Uint8Array) return v;
      if (typeof v === 'string') return new TextEncoder().encode(v);
      if (v instanceof ArrayBuffer) return new Uint8Array(v);
      return new Uint8Array(await v.arrayBuffer());
    },
  ];
}

/** The local path of a file: URL (as node:url's fileURLToPath, without importing Node modules here). */
function filePath(url: URL): string {
  const path = decodeURIComponent(url.pathname);
  // file:///C:/models -> C:/models; a host (file://server/share) is a UNC path.
  if (/^\/[A-Za-z]:/.test(path)) return path.slice(1);
  return url.hostname ? `//${url.hostname}${path}` : path;
}

async function readPath(path: string): Promise<Uint8Array | undefined> {
  let src;
  try {
    src = await fileSystem().openRead(path);
  } catch (e) {
    // ENOTDIR: the folder is a file; missingFile says so when a required file is looked for.
    if (isTesseraError(e, 'NOT_FOUND') || (e as NodeJS.ErrnoException)?.code === 'ENOTDIR') return undefined;
    throw e;
  }
  try {
    return await src.read(0, src.size);
  } finally {
    await src.close();
  }
}

async function fetchUrl(url: URL): Promise<Uint8Array | undefined> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    // Deno's fetch of a missing file: URL rejects ("No such file or directory") instead of answering 404.
    if (url.protocol === 'file:' && /no such file|not ?found|ENOENT/i.test(String((e as Error)?.message ?? e))) return undefined;
    // fetch's own errors say only "fetch failed" / "Failed to fetch": name the URL (the cause says why).
    const cause = (e as { cause?: { message?: string } })?.cause?.message;
    throw new TesseraError(
      'NOT_FOUND',
      `GET ${url.href} failed (${(e as Error)?.message ?? String(e)}${cause ? `: ${cause}` : ''}): ` +
        (isPermissionDenied(e) ? 'give Deno the permission it names (--allow-read for the model folder and node_modules)' : 'check the model URL and that its server answers'),
      { cause: e },
    );
  }
  if (res.status === 404) return undefined;
  if (!res.ok) throw new TesseraError('NOT_FOUND', `GET ${url.href} answered ${res.status} ${res.statusText}`);
  return new Uint8Array(await res.arrayBuffer());
}
