/** Loads Dawn's Node binding (npm `webgpu`) lazily: only the Node entry references this module. */
import { type ChildProcess, execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { TesseraError } from '../core/errors.js';
import type { AdapterSummary } from '../platform.js';

/**
 * One Dawn instance per set of flags, kept for the life of the process: a collected instance takes
 * its devices down with it (a native crash), and instances are not cheap to make.
 */
const instances = new Map<string, GPU>();

export async function loadDawnGpu(dawnFlags: readonly string[] = []): Promise<GPU | undefined> {
  const key = dawnFlags.join('\n');
  const have = instances.get(key);
  if (have) return have;
  let dawn: { create(flags: string[]): GPU };
  try {
    dawn = (await import('webgpu')) as unknown as { create(flags: string[]): GPU };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    // Dawn is an optional dependency: without it Node has no WebGPU and the WASM backend serves.
    if (code === 'ERR_MODULE_NOT_FOUND') return undefined;
    const said = (e as Error).message;
    const why = refusedBy(code);
    throw new TesseraError('GPU_UNAVAILABLE', `Dawn's webgpu package failed to load: ${why ? `${said.replace(/\.$/, '')}${why}` : said}`, { cause: e });
  }
  const gpu = dawn.create([...dawnFlags]);
  instances.set(key, gpu);
  return gpu;
}

/**
 * Why Node refused Dawn's native addon and the fix, after the error's own text; '' for other errors.
 * By the error's code, not process.permission.has('addon'): Node 20 answers false there even under
 * --allow-addons (measured on 20.20.2, where the addon then loads).
 */
function refusedBy(code: string | undefined): string {
  const permission = (process as { permission?: unknown }).permission !== undefined;
  if (code === 'ERR_DLOPEN_DISABLED') {
    return permission
      ? ": Node's permission model (--permission, --experimental-permission) is on without --allow-addons, and Dawn's WebGPU is a native addon: run node with --allow-addons for the GPU, or use backend 'wasm'"
      : ": this Node runs with --no-addons, and Dawn's WebGPU is a native addon: leave --no-addons out for the GPU, or use backend 'wasm'";
  }
  if (code === 'ERR_ACCESS_DENIED' && permission) {
    return ": Node's permission model refused reading Dawn's webgpu package: allow it (--allow-fs-read=<its node_modules/webgpu folder>) and native addons (--allow-addons) for the GPU, or use backend 'wasm'";
  }
  return '';
}

/** Dawn's two lines about limits it clamps (dawn::native::NormalizeLimits), printed at every adapter discovery. */
export const DAWN_LIMIT_NOTICE = /^Warning: maxDynamic(?:Uniform|Storage)BuffersPerPipelineLayout artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.$/;

const PROBE_MARK = 'tessera-adapter-probe ';
const PROBE_TIMEOUT_MS = 30_000;
/** A discovery takes 0.2-0.6 s; past this the wait is said, so a hung driver is not a silent stall. */
const PROBE_NOTICE_MS = 3_000;

/** Run as `node --input-type=module -e PROBE_CHILD <webgpu URL>`: prints the adapter as one marked line; an error is no adapter, as the in-process probe takes it. */
const PROBE_CHILD = `
let a = null;
try {
  const { create } = await import(process.argv[1]);
  const adapter = await create([]).requestAdapter({ powerPreference: 'high-performance' });
  if (adapter) {
    const i = adapter.info ?? {};
    a = { info: { description: i.description, device: i.device, architecture: i.architecture, vendor: i.vendor, isFallbackAdapter: i.isFallbackAdapter }, isFallbackAdapter: adapter.isFallbackAdapter };
  }
} catch {}
process.stdout.write(${JSON.stringify(PROBE_MARK)} + JSON.stringify(a) + '\\n');
`;

/** What decides whether a child started from process.execPath runs as Node (injected by tests). */
export interface RuntimeFacts {
  versions: Partial<Record<string, string>>;
  env: Partial<Record<string, string>>;
  /** node:sea's isSea(): this process is a single-executable application. */
  isSea: () => boolean;
}

function runtimeFacts(): RuntimeFacts {
  return { versions: process.versions, env: process.env, isSea: seaApp };
}

function seaApp(): boolean {
  try {
    // getBuiltinModule (Node 20.16+) also works in a CommonJS bundle, where import.meta.url is gone.
    const get = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule;
    const sea = (get ? get('node:sea') : createRequire(import.meta.url)('node:sea')) as { isSea?: () => boolean } | undefined;
    return sea?.isSea?.() === true;
  } catch {
    return false; // a Node without node:sea (before 20.12) has no way to tell; the child is tried
  }
}

/**
 * Where process.execPath would not run the probe's child as Node, the runtime that stops it; else
 * undefined. The probe then looks in-process, as before 28feaf7 (Dawn's two lines show there).
 * - Bun, Deno: execPath is their own executable, which takes no `--input-type`.
 * - Electron: execPath is the app, which runs as Node only where the RunAsNode fuse is on (Electron
 *   Forge's template turns it off): else the child would start a second copy of the app, and the
 *   probe wait for it. It is on where this process itself runs as Node (ELECTRON_RUN_AS_NODE).
 * - A single-executable application: execPath is the app, which passes every argument to its own
 *   script, so the child would be a second copy of it.
 */
export function probeChildBlockedBy(facts: RuntimeFacts = runtimeFacts()): string | undefined {
  if (facts.versions.bun) return 'Bun';
  if (facts.versions.deno) return 'Deno';
  if (facts.versions.electron) return facts.env.ELECTRON_RUN_AS_NODE ? undefined : 'Electron';
  if (facts.isSea()) return 'a single-executable application';
  return undefined;
}

/**
 * Node's debugger options (dashes and underscores alike, as Node reads them): a child that inherited
 * one from NODE_OPTIONS listened too (its 'Debugger listening on ...' lines were passed on) or,
 * with --inspect-brk, waited for a debugger until the probe's limit and 'auto' took WASM.
 */
const DEBUG_OPTION = /^--(?:inspect|inspect-brk|inspect-brk-node|inspect-wait|inspect-port|inspect-publish-uid|debug|debug-brk|debug-port)$/;
/** Those of them whose value may be the next argument (the others take one only after '='). */
const DEBUG_OPTION_VALUE = /^--(?:inspect-port|inspect-publish-uid|debug-port)$/;

/**
 * NODE_OPTIONS without Node's debugger options; every other option is kept as written (--require
 * hooks, --experimental flags, quoted paths). Split as Node splits it (node.cc
 * ParseNodeOptionsEnvVar): at spaces outside double quotes, a backslash in quotes escaping the next
 * character. execArgv needs nothing: execFile passes the child only its own arguments.
 */
export function withoutDebugOptions(nodeOptions: string): string {
  const raw: string[] = [];
  const parsed: string[] = [];
  let inString = false;
  let start = -1;
  for (let i = 0; i <= nodeOptions.length; i++) {
    const c = nodeOptions[i];
    if (c === undefined || (c === ' ' && !inString)) {
      if (start >= 0) raw.push(nodeOptions.slice(start, i));
      start = -1;
      continue;
    }
    if (start < 0) {
      start = i;
      parsed.push('');
    }
    if (c === '\\' && inString) parsed[parsed.length - 1] += nodeOptions[++i] ?? '';
    else if (c === '"') inString = !inString;
    else parsed[parsed.length - 1] += c;
  }
  const kept: string[] = [];
  for (let i = 0; i < parsed.length; i++) {
    const [name, value] = splitOption(parsed[i]!);
    if (!DEBUG_OPTION.test(name)) kept.push(raw[i]!);
    else if (value === undefined && DEBUG_OPTION_VALUE.test(name) && i + 1 < parsed.length && !parsed[i + 1]!.startsWith('-')) i++;
  }
  return kept.join(' ');
}

function splitOption(arg: string): [string, string | undefined] {
  const eq = arg.indexOf('=');
  const name = eq < 0 ? arg : arg.slice(0, eq);
  // Node takes --inspect_brk for --inspect-brk (the dashes after the leading two may be either).
  return [name.startsWith('--') ? `--${name.slice(2).replaceAll('_', '-')}` : name, eq < 0 ? undefined : arg.slice(eq + 1)];
}

/**
 * The child's environment: this one's, less NODE_OPTIONS' debugger options (see DEBUG_OPTION), with
 * ELECTRON_RUN_AS_NODE: under Electron (probeChildBlockedBy) execPath is the app, which runs as Node with it.
 */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ELECTRON_RUN_AS_NODE: '1' };
  if (env.NODE_OPTIONS !== undefined) {
    const kept = withoutDebugOptions(env.NODE_OPTIONS);
    if (kept) env.NODE_OPTIONS = kept;
    else delete env.NODE_OPTIONS;
  }
  return env;
}

/**
 * Where the probe's lines go (`onNotice`, the caller's: the index options' one reaches it through
 * the platform's probeAdapter hook), and internal knobs for tests: the child's arguments in place of
 * the probe's, the webgpu module the probe's own child imports (a file: URL), shorter waits, the
 * runtime's facts.
 */
export interface ProbeKnobs {
  /**
   * Told the wait past 3 s and the give-up at 30 s. Without it they are not said, as the library's
   * other notices are not: they went to process.stderr, which an embedding app (Electron, a service
   * with its own logger) could neither route nor silence.
   */
  onNotice?: (message: string) => void;
  /**
   * Told why, where the probe gave up (the child gave no answer in 30 s): the answer stays null (no
   * adapter), and a caller that comes later, which heard no give-up line, is told why there is none.
   */
  onGiveUp?: (reason: string) => void;
  args?: string[];
  webgpuUrl?: string;
  noticeMs?: number;
  timeoutMs?: number;
  facts?: RuntimeFacts;
}

/**
 * Dawn's default adapter (as create([]).requestAdapter({ powerPreference: 'high-performance' })
 * finds it), asked in a child Node process: null for none (also where the child gives no answer in
 * 30 s: said through onNotice, as a wait past 3 s is), undefined where the child cannot run as Node here
 * or could not answer (the caller then probes in-process, as before).
 * Why a child: Dawn prints DAWN_LIMIT_NOTICE when requestAdapter discovers a Vulkan adapter
 * (PhysicalDeviceBase::Initialize -> NormalizeLimits -> dawn::WarningLog, a plain fprintf to
 * stderr), before any device, for every driver offering more than 16 dynamic buffers (lavapipe's
 * 1000000, NVIDIA's too). No request option, instance toggle or create() flag skips it, the
 * binding exposes no logging callback (and this log bypasses the instance's), and Node cannot
 * redirect its own fd 2: in-process, a CPU-only run on lavapipe that then took WASM printed GPU
 * noise. The child's other stderr lines (Vulkan loader messages, errors) are passed on to stderr. Costs a
 * Node start beside the discovery (0.57 s against 0.23 s in-process on the 2-core CI machine).
 */
export async function probeDawnAdapter(knobs: ProbeKnobs = {}): Promise<AdapterSummary | null | undefined> {
  if (probeChildBlockedBy(knobs.facts)) return undefined;
  let args: string[];
  try {
    args = knobs.args ?? ['--input-type=module', '-e', PROBE_CHILD, knobs.webgpuUrl ?? pathToFileURL(createRequire(import.meta.url).resolve('webgpu')).href];
  } catch {
    return undefined; // not resolvable this way: the in-process probe says what it finds
  }
  const timeoutMs = knobs.timeoutMs ?? PROBE_TIMEOUT_MS;
  const say = (message: string) => {
    try {
      knobs.onNotice?.(message);
    } catch {
      // Said from a timer or the child's exit: thrown there it would be an uncaught exception, or
      // (caught by the caller's probe) taken for no adapter. A notice is not worth either.
    }
  };
  const child = await new Promise<{ stdout: string; stderr: string } | 'timeout' | undefined>((resolve) => {
    let proc: ChildProcess;
    try {
      proc = execFile(
        process.execPath,
        args,
        { env: childEnv(), maxBuffer: 1 << 20, windowsHide: true },
        (error, stdout, stderr) => {
          clearTimeout(notice);
          clearTimeout(limit);
          const rest = stderr
            .split('\n')
            .filter((l) => l !== '' && !DAWN_LIMIT_NOTICE.test(l.replace(/\r$/, '')))
            .join('\n');
          // To stderr as they are, not onNotice: they are the driver's and Dawn's, which the same
          // discovery in-process (backend 'gpu') writes to fd 2 unasked, not tessera's; as notices
          // they broke 'auto''s one notice (a CPU-only run with Dawn but no driver said three).
          if (rest) process.stderr.write(`${rest}\n`);
          resolve(error && !stdout.includes(PROBE_MARK) ? undefined : { stdout, stderr });
        },
      );
    } catch {
      // Refused by Node's permission model (no --allow-child-process: ERR_ACCESS_DENIED): the
      // in-process probe looks instead, and says why where Dawn cannot load (loadDawnGpu). Before,
      // the refusal was taken as no adapter, so --allow-addons alone still gave WASM.
      resolve(undefined);
      return;
    }
    const notice = setTimeout(() => {
      say(`waiting for Dawn's WebGPU adapter discovery (a child process for backend 'auto'; given up at ${timeoutMs / 1000} s): backend 'wasm' (--backend wasm) skips it`);
    }, Math.min(knobs.noticeMs ?? PROBE_NOTICE_MS, timeoutMs));
    const limit = setTimeout(() => {
      clearTimeout(notice);
      // Taken as no adapter, not handed to the in-process probe: the same discovery would hang this
      // process, with no limit at all.
      say(`Dawn's WebGPU adapter discovery (a child process) gave no answer in ${timeoutMs / 1000} s (a hung GPU driver?) and was stopped: taken as no adapter, backend 'auto' runs on WASM; backend 'wasm' (--backend wasm) skips the wait`);
      knobs.onGiveUp?.(
        `the adapter probe gave up after ${timeoutMs / 1000} s: the GPU driver did not answer (hung?), so no adapter was taken; check the driver (nvidia-smi, vulkaninfo) for the GPU, or use backend 'wasm', which skips the probe`,
      );
      proc.kill('SIGKILL');
      // Nor kept waiting on: a child stuck in the driver dies only when the driver lets it go, and
      // pipes a process of its own still holds stay open; either kept Node from exiting after the
      // answer (a CLI run stayed up after its output).
      proc.unref();
      for (const s of [proc.stdin, proc.stdout, proc.stderr]) s?.destroy();
      resolve('timeout');
    }, timeoutMs);
  });
  if (child === 'timeout') return null;
  const line = child?.stdout.split('\n').find((l) => l.startsWith(PROBE_MARK));
  if (!line) return undefined;
  try {
    return JSON.parse(line.slice(PROBE_MARK.length)) as AdapterSummary | null;
  } catch {
    return undefined;
  }
}
