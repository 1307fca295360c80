/**
 * tessera in a web page: loads the demo index (a FAISS file), a corpus slice (jsonl) and the demo
 * encoder (ONNX), all from the server that served this page; encodes what the user types and
 * searches on WebGPU, or on WebAssembly when navigator.gpu is absent, has no adapter, or fails.
 *
 * URL parameters: ?backend=auto|gpu|wasm (default auto; wasm forces the CPU path), ?k=5.
 */
import { Encoder, type Index, isTesseraError, memorySource, readIndex } from 'tessera';

type Choice = 'auto' | 'gpu' | 'wasm';

interface DemoManifest {
  /** FAISS index file, relative to the manifest. */
  index: string;
  /** jsonl rows {"id", "contents"}; row i is vector i of the index. */
  corpus: string;
  /** Model folder (tokenizer.json or vocab.txt, config.json, onnx/model.onnx). */
  model: string;
  /** The files in the model folder, relative to it: the encoder asks only for these (no 404s for optional files). */
  modelFiles: string[];
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);
/** Set first thing in main(): a bad ?backend= is then the page's error message, not an exception that leaves it at "Loading…". */
let choice: Choice = 'auto';
const k = Math.max(1, Math.min(50, Number(params.get('k') ?? 5) || 5));

function parseChoice(v: string | null): Choice {
  if (v === null || v === '' || v === 'auto') return 'auto';
  if (v === 'gpu' || v === 'wasm') return v;
  throw new Error(`?backend must be auto, gpu or wasm, got ${JSON.stringify(v)}`);
}

function status(text: string, isError = false): void {
  const el = $('status');
  el.textContent = text;
  el.classList.toggle('error', isError);
  document.body.dataset.state = isError ? 'error' : text === 'Ready.' ? 'ready' : 'busy';
}

/** The start-up step under way: the status line returns to it when the downloads it waits for are done. */
let phase = 'Loading…';

function busy(text: string): void {
  phase = text;
  status(text);
}

/** Shown once per page: why the page is not on the GPU. */
function notice(text: string): void {
  const el = $('notice');
  if (!el.textContent) el.textContent = text;
  console.info(`tessera: ${text}`);
}

/**
 * The library's notices: its GPU plan line (what a GPU load holds) goes with the facts, not in the
 * notice, which stays for the one reason the page is not on the GPU.
 */
function libraryNotice(text: string): void {
  const plan = /^GPU plan: (.*)$/s.exec(text);
  if (!plan) return notice(text);
  $('gpu-plan').textContent = plan[1]!;
  console.info(`tessera (${text})`);
}

const ms = (t: number) => `${t.toFixed(1)} ms`;
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/** Bytes received and expected (0: no Content-Length) per file being downloaded, for the status line. */
const downloads = new Map<string, { loaded: number; total: number }>();

function showDownloads(): void {
  // A download that failed ended start-up: the others still finishing must not cover its message.
  if (document.body.dataset.state === 'error') return;
  const all = [...downloads.values()];
  if (all.every((d) => d.loaded === d.total)) return status(phase);
  const loaded = all.reduce((n, d) => n + d.loaded, 0);
  const total = all.reduce((n, d) => n + d.total, 0);
  // A file without a Content-Length has no known total: then only the bytes so far are shown.
  status(all.every((d) => d.total > 0) ? `Downloading… ${mb(loaded)} of ${mb(total)} (${Math.min(100, Math.floor((100 * loaded) / total))}%)` : `Downloading… ${mb(loaded)}`);
}

/**
 * GETs `url` from the page's server, counting its bytes into the status line while they come (a
 * large index takes a while). Errors name the file and the status, or the network failure.
 */
async function fetchBytes(url: URL): Promise<Uint8Array> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    throw new Error(`GET ${url.pathname} failed (${(e as Error).message}): is the server up?`);
  }
  if (!res.ok) throw new Error(`GET ${url.pathname} answered ${res.status}${res.statusText ? ` ${res.statusText}` : ''}`);
  // A compressed response's Content-Length counts the compressed bytes, not the ones the body gives.
  const declared = res.headers.get('content-encoding') ? 0 : Number(res.headers.get('content-length') ?? 0);
  const progress = { loaded: 0, total: declared };
  downloads.set(url.pathname, progress);
  // Chunks go straight into one buffer of the declared size: a large index is not held twice.
  let bytes = new Uint8Array(declared || 1 << 20);
  try {
    const reader = res.body!.getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      if (progress.loaded + r.value.length > bytes.length) {
        const grown = new Uint8Array(Math.max(2 * bytes.length, progress.loaded + r.value.length));
        grown.set(bytes.subarray(0, progress.loaded));
        bytes = grown;
      }
      bytes.set(r.value, progress.loaded);
      progress.loaded += r.value.length;
      showDownloads();
    }
  } catch (e) {
    throw new Error(`GET ${url.pathname} broke off after ${mb(progress.loaded)} (${(e as Error).message}): reload the page`);
  }
  progress.total = progress.loaded;
  showDownloads();
  return bytes.length === progress.loaded ? bytes : bytes.slice(0, progress.loaded);
}

const fetchText = async (url: URL) => new TextDecoder().decode(await fetchBytes(url));

/** The adapter a GPU index would use, for display, or why there is none. */
async function describeAdapter(): Promise<string> {
  if (!('gpu' in navigator)) return 'none (navigator.gpu absent)';
  try {
    const adapter = await navigator.gpu.requestAdapter();
    if (!adapter) return 'none (requestAdapter gave null)';
    const { vendor, architecture, description } = adapter.info;
    const name = [vendor, architecture, description].filter(Boolean).join(' / ') || 'unnamed adapter';
    // A software renderer (SwiftShader) runs on the CPU: 'auto' searches on WASM instead.
    return (adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter ? `${name} (software renderer)` : name;
  } catch (e) {
    return `none (${(e as Error).message})`;
  }
}

/**
 * Whether a GPU index failed for want of a working GPU (no adapter or device, a lost device) or of GPU
 * memory (the CPU's may hold it): what 'auto' falls back from. Not a file that is bad or missing,
 * which the WASM backend would refuse as well.
 */
function isGpuFailure(e: unknown): boolean {
  if (!isTesseraError(e)) return true; // a raw error of the WebGPU implementation (requestDevice, pipeline creation)
  return e.code === 'GPU_UNAVAILABLE' || e.code === 'DEVICE_LOST' || e.code === 'OUT_OF_MEMORY';
}

/**
 * Opens the index on the chosen backend. For 'auto', any GPU failure (no adapter, device request
 * refused, shader or memory error) falls back to WASM with one notice; 'gpu' reports it instead.
 */
async function openIndex(bytes: Uint8Array): Promise<Index> {
  if (choice !== 'wasm') {
    try {
      // One query a search: the GPU plans its temporary bytes for that (0.4 MiB here, not 27.4 MiB for 4096).
      return await readIndex(memorySource(bytes), { backend: choice, maxBatch: 1, onNotice: libraryNotice });
    } catch (e) {
      if (choice === 'gpu' || !isGpuFailure(e)) throw e;
      notice(`WebGPU failed (${(e as Error).message}): searching on the WASM (CPU) backend`);
    }
  } else {
    notice('WASM backend forced by ?backend=wasm');
  }
  return readIndex(memorySource(bytes), { backend: 'wasm' });
}

async function main(): Promise<void> {
  choice = parseChoice(params.get('backend'));
  const base = new URL('demo/', location.href);
  const manifest = JSON.parse(await fetchText(new URL('manifest.json', base))) as DemoManifest;

  const t0 = performance.now();
  const [indexBytes, corpusText, adapter] = await Promise.all([
    fetchBytes(new URL(manifest.index, base)),
    fetchText(new URL(manifest.corpus, base)),
    describeAdapter(),
  ]);
  busy('Loading index and model…');
  let index = await openIndex(indexBytes);
  const tIndex = performance.now();
  const modelDir = new URL(manifest.model, base);
  const modelFiles = new Set(manifest.modelFiles);
  const encoder = await Encoder.fromDirectory((name) => (modelFiles.has(name) ? fetchBytes(new URL(name, modelDir)) : Promise.resolve(undefined)), {
    executionProvider: 'wasm',
    // onnxruntime-web's threads need SharedArrayBuffer, which a plain static server (no COOP/COEP headers) does not give.
    threads: crossOriginIsolated ? navigator.hardwareConcurrency : 1,
    expectDim: index.d,
    name: 'demo model',
  });
  const tModel = performance.now();
  const corpus = corpusText.split('\n').filter((line) => line.trim() !== '');
  if (corpus.length !== index.ntotal) {
    throw new Error(`corpus has ${corpus.length} rows but the index ${index.ntotal} vectors: they must be the same collection`);
  }

  const showBackend = () => {
    $('backend').textContent = index.backend === 'gpu' ? 'WebGPU' : 'WASM (CPU)';
    document.body.dataset.backend = index.backend;
  };
  showBackend();
  $('adapter').textContent = adapter;
  $('index-info').textContent = `${index.description}, ${index.ntotal} vectors x ${index.d}, ${index.metric}`;

  const search = async (q: Float32Array) => {
    try {
      return await index.search(q, k);
    } catch (e) {
      // A GPU that fails mid-session (device lost) is replaced by the WASM index, once.
      if (index.backend !== 'gpu' || choice === 'gpu' || !isGpuFailure(e)) throw e;
      notice(`WebGPU search failed (${(e as Error).message}): switched to the WASM (CPU) backend`);
      await index.dispose().catch(() => {});
      index = await readIndex(memorySource(indexBytes), { backend: 'wasm' });
      showBackend();
      return index.search(q, k);
    }
  };

  // One search at load time: the first GPU search compiles the WGSL pipelines (seconds on a
  // software adapter), which belongs to start-up, not to the user's first query.
  busy('Warming up…');
  await search(await encoder.encode(['tessera'], { prefix: 'query' }));
  const tWarm = performance.now();
  $('load-ms').textContent = `index ${ms(tIndex - t0)}, model ${ms(tModel - tIndex)}, first search ${ms(tWarm - tModel)}`;

  const form = $<HTMLFormElement>('search');
  const input = $<HTMLInputElement>('query');
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    void (async () => {
      status('Searching…');
      try {
        const t1 = performance.now();
        const q = await encoder.encode([text], { prefix: 'query' });
        const t2 = performance.now();
        const { labels, distances } = await search(q);
        const t3 = performance.now();
        $('encode-ms').textContent = ms(t2 - t1);
        $('search-ms').textContent = `${ms(t3 - t2)} (${index.backend === 'gpu' ? 'WebGPU' : 'WASM'})`;
        render(labels, distances, corpus);
        status('Ready.');
      } catch (e) {
        status(`Search failed: ${(e as Error).message}`, true);
      }
    })();
  });
  input.disabled = false;
  $<HTMLButtonElement>('go').disabled = false;
  input.focus();
  status('Ready.');
}

function render(labels: BigInt64Array, distances: Float32Array, corpus: string[]): void {
  const list = $('results');
  list.replaceChildren();
  labels.forEach((label, rank) => {
    if (label < 0n) return;
    const row = JSON.parse(corpus[Number(label)]!) as { id: string; contents: string };
    // Search-R1 rows hold "\"Title\"\nText".
    const [first, ...rest] = row.contents.split('\n');
    const li = document.createElement('li');
    li.dataset.id = row.id;
    const score = Object.assign(document.createElement('span'), { className: 'score', textContent: distances[rank]!.toFixed(4) });
    const title = Object.assign(document.createElement('div'), { className: 'title', textContent: first!.replace(/^"|"$/g, '') });
    const text = Object.assign(document.createElement('div'), { className: 'text', textContent: rest.join(' ') });
    const id = Object.assign(document.createElement('div'), { className: 'id', textContent: `#${row.id}` });
    li.append(score, title, text, id);
    list.append(li);
  });
}

main().catch((e: unknown) => {
  status(`Could not start: ${(e as Error).message}`, true);
  console.error(e);
});
