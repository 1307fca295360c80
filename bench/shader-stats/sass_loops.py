#!/usr/bin/env python3
"""What each loop of a disassembled kernel issues: one line a loop, its instructions by opcode.

Reads nvdisasm's text (`nvdisasm -c object.elf`, or the .sass files nvcache.py writes). A loop is a
backward branch: the instructions from its target (a label, or an address) to the branch. Each loop's line gives its
address range, its instruction count and the opcodes (mnemonic before the first '.') by count, so
the multiply-adds (FFMA) can be set against everything else an iteration issues.

Usage: sass_loops.py FILE.sass [...]
"""
import collections
import re
import sys

INSTR = re.compile(r'/\*([0-9a-f]{4,})\*/\s+(?:@!?U?P[T0-9]+\s+)?([A-Z][A-Z0-9_]*)(\S*)\s*([^;]*);')
LABEL = re.compile(r'^\s*(\.L_x_\d+):')
BRANCH_TARGET = re.compile(r'`\((\.L_x_\d+)\)')
# The driver's own objects (nvcache.py's .sass, nvdisasm of a cuVN image) name targets by address.
ADDRESS_TARGET = re.compile(r'^(0x[0-9a-f]+)\s*$')


def parse(text):
    """(instructions as (address, opcode, suffix, operands), label -> address)."""
    instrs, labels, pending = [], {}, []
    for line in text.splitlines():
        m = LABEL.match(line)
        if m:
            pending.append(m.group(1))
            continue
        m = INSTR.search(line)
        if not m:
            continue
        addr = int(m.group(1), 16)
        for name in pending:
            labels[name] = addr
        pending = []
        instrs.append((addr, m.group(2), m.group(3), m.group(4)))
    return instrs, labels


def loops(instrs, labels):
    out = []
    for addr, op, _suffix, operands in instrs:
        if op not in ('BRA', 'BRX', 'JMP'):
            continue
        t = BRANCH_TARGET.search(operands)
        a = ADDRESS_TARGET.match(operands.strip())
        if t and t.group(1) in labels:
            start = labels[t.group(1)]
        elif a:
            start = int(a.group(1), 16)
        else:
            continue
        if start > addr:
            continue
        body = [i for i in instrs if start <= i[0] <= addr]
        out.append((start, addr, body))
    return out


def main():
    for path in sys.argv[1:]:
        instrs, labels = parse(open(path).read())
        total = collections.Counter(i[1] for i in instrs)
        print(f'{path}: {len(instrs)} instructions, {total.get("FFMA", 0)} FFMA')
        for start, end, body in sorted(loops(instrs, labels), key=lambda x: x[1] - x[0]):
            hist = collections.Counter(i[1] for i in body)
            ffma = hist.get('FFMA', 0)
            share = f'{ffma / len(body):.0%} FFMA' if body else ''
            print(f'  loop {start:#06x}-{end:#06x}: {len(body)} instructions, {share}: ' + ', '.join(f'{op} {n}' for op, n in hist.most_common()))
    return 0


if __name__ == '__main__':
    sys.exit(main())
