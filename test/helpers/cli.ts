import { Command } from 'commander';
import { vi } from 'vitest';

/**
 * Runs one tessera command as the CLI does (a commander program with `register`'s command,
 * exits thrown), returning what it wrote on stdout. Its stderr goes to `seen.stderr` as it is
 * written, so a caller reads it after a run that throws too.
 */
export async function runCommand(register: (program: Command) => void, argv: string[], seen: { stderr: string } = { stderr: '' }): Promise<string> {
  const program = new Command().exitOverride();
  register(program);
  let out = '';
  // The CLI waits for stdout's write callback (writeOut) before it returns: call it.
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array, ...rest: unknown[]) => {
    out += String(s);
    (rest.find((a) => typeof a === 'function') as (() => void) | undefined)?.();
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
    seen.stderr += String(s);
    return true;
  });
  try {
    await program.parseAsync(['node', 'tessera', ...argv]);
  } finally {
    write.mockRestore();
    err.mockRestore();
  }
  return out;
}
