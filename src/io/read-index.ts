/**
 * `readIndex` / `writeIndex`, as faiss.read_index / faiss.write_index: the file's fourcc names the
 * index kind, `chooseBackend` picks gpu or wasm (the one asked for, or for 'auto' the GPU when an
 * adapter exists), and that backend's registered loader streams the file in.
 */
import { TesseraError } from '../core/errors.js';
import { type IndexOptions, registeredBackends, registration, withGpuFallback } from '../core/factory.js';
import type { Backend, ByteSink, ByteSource, Index } from '../core/types.js';
import { type SourceInput, openSource } from '../platform.js';
import { sourceLabel } from './byte-reader.js';
import { inspectSource, summarizeSource } from './faiss/formats.js';
import type { FaissFileInfo } from './faiss/header.js';

/** What a FAISS file holds, without loading it: header fields, size, and the backends that can load it here. */
export interface IndexFileInfo extends FaissFileInfo {
  /** File size in bytes. */
  bytes: number;
  /** Backends loaded in this runtime that can read this file (before checking for a GPU adapter). */
  backends: Backend[];
}

/** Reads a FAISS file's header: type, d, ntotal, metric, size, backends (an HNSW file's graph and an IVF file's centroids are skipped; its list sizes are read). FORMAT on corrupt headers. */
export async function inspectIndex(target: SourceInput): Promise<IndexFileInfo> {
  const source = await openSource(target);
  try {
    const { format, info } = await summarizeSource(source, labelOf(target, source));
    const backends = registeredBackends(format.kind).filter((b) => registration(b, format.kind)?.load);
    return { ...info, bytes: source.size, backends: info.metric ? backends : [] };
  } finally {
    if (source !== target) await source.close();
  }
}

/**
 * Reads a FAISS index file (IndexFlatIP/L2 and the types other readers register) into an index on
 * the backend `opts.backend` chooses: from a path (Node), a URL (http(s) through urlSource; file:
 * through the file system where there is one), bytes, a Blob or File, or a ByteSource. What is
 * opened here is closed here; a ByteSource passed in is left open.
 * Errors: NOT_FOUND (no file), FORMAT (corrupt, with byte offset), UNSUPPORTED (unknown fourcc or
 * metric, or no loaded backend reads this type).
 */
export async function readIndex(target: SourceInput, opts: IndexOptions = {}): Promise<Index> {
  const source = await openSource(target, opts.onProgress ? { onProgress: opts.onProgress } : {});
  try {
    const label = labelOf(target, source);
    // The header is checked before a backend allocates anything, so corrupt files fail fast.
    const { format, info, structure } = await inspectSource(source, label);
    if (!info.metric) {
      throw new TesseraError('UNSUPPORTED', `${label}: metric ${info.metricName} is not supported: tessera serves inner product and L2 indexes`);
    }
    const what = typeof target === 'string' ? `${info.type} file ${label}` : `the ${info.type} index`;
    return await withGpuFallback(format.kind, what, opts, (backend) => {
      const load = registration(backend, format.kind)?.load;
      if (!load) {
        const others = registeredBackends(format.kind).filter((b) => registration(b, format.kind)?.load);
        throw new TesseraError(
          'UNSUPPORTED',
          `the ${backend} backend cannot read ${what}` + (others.length ? `: use backend '${others.join("' or '")}'` : ': no loaded backend reads it'),
        );
      }
      // the structure read above: the loader does not parse the file's header (HNSW: its levels and offsets) again
      return load(source, opts, structure);
    });
  } finally {
    if (source !== target) await source.close();
  }
}

/** Writes `index` as a FAISS file FAISS reads back (faiss.write_index); atomic for paths. */
export async function writeIndex(index: Index, target: string | ByteSink): Promise<void> {
  await index.save(target);
}

/** The path, or the name a source gives itself (urlSource: its URL), so messages say which file. */
function labelOf(target: SourceInput, source: ByteSource): string {
  return typeof target === 'string' ? target : sourceLabel(source);
}
