/**
 * Builds the package as it ships (the repo's own tsup config, its exports map, its asset folders)
 * into a temporary folder, so runtime tests exercise the published layout without touching the
 * shared dist/ that other tests and engineers use.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build, type Options } from 'tsup';

export const repoRoot = resolve(import.meta.dirname, '../../..');

export interface BuiltPackage {
  /** Folder holding package.json, dist/ and the asset folders, as `npm pack` would lay them out. */
  dir: string;
  /** A folder whose node_modules/ has `tessera` linked to `dir`, plus every repo dependency except `omit`. */
  consumer: string;
  cleanup(): void;
}

/**
 * Builds with tsup.config.ts and links a consumer project to it. `omit` names packages left out
 * of the consumer's node_modules (e.g. 'webgpu' to stand for a machine where Dawn's optional
 * dependency did not install). `dts` also writes the declaration files (off by default: runtimes
 * do not load them, and they take most of the build time). `dist` takes a built dist/ instead.
 */
export async function buildPackage(opts: { omit?: readonly string[]; dts?: boolean; dist?: string } = {}): Promise<BuiltPackage> {
  const root = mkdtempSync(join(tmpdir(), 'tessera-pkg-'));
  const dir = join(root, 'tessera');
  mkdirSync(dir);
  // `dist`: a dist/ the same config already built (a packed tarball's), taken as is but for its
  // source maps (left out, as this build leaves them): one build less, ~20 s on CI.
  if (opts.dist) cpSync(opts.dist, join(dir, 'dist'), { recursive: true, filter: (src) => !src.endsWith('.map') });
  const configs = opts.dist ? [] : ((await import('../../../tsup.config.js')).default as unknown as Options[]);
  for (const config of configs) {
    await build({
      ...config,
      outDir: join(dir, 'dist'),
      dts: opts.dts ? config.dts : false,
      sourcemap: false,
      clean: false,
      silent: true,
      // tsup resolves entries against the working folder; vitest runs from the repo root.
      entry: config.entry,
    });
  }
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { files?: string[] };
  writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg, null, 2));
  // Asset folders listed in "files" (shaders, .wasm, demo data) are read relative to dist/ at run time.
  for (const entry of pkg.files ?? []) {
    const from = join(repoRoot, entry);
    if (entry !== 'dist' && existsSync(from)) cpSync(from, join(dir, entry), { recursive: true, dereference: true });
  }

  const consumer = join(root, 'consumer');
  const modules = join(consumer, 'node_modules');
  mkdirSync(modules, { recursive: true });
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  const omit = new Set(opts.omit ?? []);
  // The package resolves its own dependencies from dir/node_modules, as an installed package would.
  const deps = join(dir, 'node_modules');
  mkdirSync(deps);
  for (const name of readdirSync(join(repoRoot, 'node_modules'))) {
    if (name.startsWith('.')) continue;
    if (name.startsWith('@')) {
      mkdirSync(join(deps, name));
      for (const sub of readdirSync(join(repoRoot, 'node_modules', name))) {
        if (!omit.has(`${name}/${sub}`)) symlinkSync(join(repoRoot, 'node_modules', name, sub), join(deps, name, sub));
      }
    } else if (!omit.has(name)) {
      symlinkSync(join(repoRoot, 'node_modules', name), join(deps, name));
    }
  }
  symlinkSync(dir, join(modules, 'tessera'));
  return { dir, consumer, cleanup: () => rmSync(root, { recursive: true, force: true }) };
}
