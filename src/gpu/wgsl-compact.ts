/**
 * The WGSL kernels as the package ships them: comments are for the reader of shaders/, not for the
 * GPU compiler, and they are more than half of the text every browser app downloads (the bundle
 * budget, BENCHMARKS.md section bundle). Used by the package build and the tests through
 * scripts/wgsl-text.ts (so the tests run the text that ships), by bench/bundle's size report, and
 * by tilesSource, whose counts are of code (a bundle that keeps the comments must rewrite alike).
 *
 * Kept: every line of code (indentation too) and the directive lines the loaders read: `//#include`,
 * `//#if F16` / `//#else` / `//#endif` (src/gpu/wgsl-include.ts, flat-shard's wgslVariant) and the
 * `//@NAME` template markers (src/gpu/tensor/kernel-source.ts, tiles-source.ts). Dropped:
 * comment-only lines, the comment after code on a line (WGSL has no string literals, so `//` always
 * starts a comment) and blank lines. Block comments are refused rather than half-handled.
 */
export function compactWgsl(text: string, file = 'WGSL'): string {
  if (text.includes('/*')) throw new Error(`${file}: block comments (/* */) are not supported by compactWgsl; use // comments`);
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const head = line.trimStart();
    if (head.startsWith('//#') || head.startsWith('//@')) {
      out.push(line.trimEnd());
      continue;
    }
    const at = line.indexOf('//');
    const code = (at >= 0 ? line.slice(0, at) : line).trimEnd();
    if (code.trim() !== '') out.push(code);
  }
  return out.join('\n') + '\n';
}
