/**
 * The shipped WGSL text (scripts/wgsl-text.ts): comments out, code and the loaders' directive lines
 * untouched, for every kernel under shaders/.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compactWgsl } from '../../scripts/wgsl-text.js';

const shaderDir = join(import.meta.dirname, '..', '..', 'shaders');
const shaders = readdirSync(shaderDir).filter((f) => f.endsWith('.wgsl'));
/** The code of a WGSL text without comments, as a token list (whitespace is not significant). */
const codeTokens = (text: string) =>
  text
    .split('\n')
    .map((l) => (l.trimStart().startsWith('//#') || l.trimStart().startsWith('//@') ? l : l.replace(/\/\/.*$/, '')))
    .join(' ')
    .split(/\s+/)
    .filter(Boolean);
const directives = (text: string) => text.split('\n').filter((l) => /^\s*\/\/[#@]/.test(l)).map((l) => l.trim());

describe('compactWgsl', () => {
  it('drops comment lines, trailing comments and blank lines; keeps code, indentation and directive lines', () => {
    const src = ['// kernel notes', '//! include note', '', '//#include flat_params', 'fn f() -> u32 {', '  let a = 1u; // why', '  //@SELECT', '//#if F16', '  return a;', '//#endif', '}', ''].join('\n');
    expect(compactWgsl(src)).toBe(['//#include flat_params', 'fn f() -> u32 {', '  let a = 1u;', '  //@SELECT', '//#if F16', '  return a;', '//#endif', '}', ''].join('\n'));
  });

  it('refuses block comments, naming the file', () => {
    expect(() => compactWgsl('let a = 1; /* x */', 'shaders/x.wgsl')).toThrow(/shaders\/x\.wgsl: block comments/);
  });

  it.each(shaders)('%s: the same code tokens and directive lines, fewer bytes', (file) => {
    const text = readFileSync(join(shaderDir, file), 'utf8');
    const compact = compactWgsl(text, file);
    expect(codeTokens(compact)).toEqual(codeTokens(text));
    expect(directives(compact)).toEqual(directives(text));
    expect(compact).not.toMatch(/^\s*\/\/[^#@]/m);
    expect(compact.length).toBeLessThan(text.length);
  });
});
