#!/usr/bin/env python3
"""Unpacks the NVIDIA driver's shader disk cache into one file an object, for nvdisasm.

NVIDIA's Vulkan driver keeps every pipeline it compiles in a disk cache (the folder named by
__GL_SHADER_DISK_CACHE_PATH): pairs of .toc (an index) and .bin (the objects) files. The layout,
as the open nvcachetools project documents it (github.com/therontarigo/nvcachetools, format.txt):
  .toc: a 0x20-byte header ("CDVN"), then 0x18-byte entries whose u32 words 4 and 5 are the
        object's offset in the .bin and its section size;
  .bin: at that offset a 0x24-byte header (u32 magic 0x9846A19D; word 7 the section size again,
        word 8 the unpacked size), then section size - 4 bytes of data: zstd-compressed (frame
        magic 28 B5 2F FD) on current drivers, else stored as they are.
An unpacked object starts with "NVuc" (older drivers), "NVVMNVuc" / "NVDANVVMNVuc" (a 4 / 8-byte
prefix before the NVuc archive) or 50 02 00 00 then an ELF (a CUDA-style cubin: nvdisasm and
cuobjdump read it). Each is written as objectNNNNN.elf / .nvuc / .bin; with --disassemble the ELF
and NVuc objects are disassembled too (objectNNNNN.sass), by the first nvdisasm found on PATH or in
the Python packages' CUDA tools (Triton ships one).

A second source of the same objects: the statistics layer's pN-cache.bin (TESSERA_STATS_CACHE: each
pipeline's own VkPipelineCache data, Vulkan's header then the driver's blob, whose layout nothing
documents). --scan carves from any such file every ELF (cut where its header says it ends) and every
zstd frame (unpacked: an object where it starts with one of the prefixes above, else carved the same way).

Usage: nvcache.py CACHE_DIR OUT_DIR [--disassemble]
       nvcache.py --scan OUT_DIR FILE... [--disassemble]
"""
import glob
import os
import shutil
import struct
import subprocess
import sys

SECTION_MAGIC = 0x9846A19D
ZSTD_MAGIC = b'\x28\xb5\x2f\xfd'
PREFIXES = [(b'NVDANVVMNVuc', 8, 'nvuc'), (b'NVVMNVuc', 4, 'nvuc'), (b'NVuc', 0, 'nvuc'), (b'\x50\x02\x00\x00\x7fELF', 4, 'elf')]


def unzstd(data: bytes) -> bytes:
    """The first zstd frame of data unpacked (bytes after it ignored), b'' where it does not unpack;
    RuntimeError where no decoder is found."""
    try:
        import zstandard  # type: ignore
        try:
            return zstandard.ZstdDecompressor().decompressobj().decompress(data)
        except zstandard.ZstdError:
            return b''
    except ImportError:
        pass
    try:
        from compression import zstd  # type: ignore  # Python 3.14
        try:
            return zstd.ZstdDecompressor().decompress(data)
        except zstd.ZstdError:
            return b''
    except ImportError:
        pass
    if shutil.which('zstd'):
        # The tool writes the first frame's bytes before it fails on what follows it.
        return subprocess.run(['zstd', '-dc'], input=data, capture_output=True).stdout
    raise RuntimeError('no zstd decoder: install python3-zstandard or the zstd tool, or unpack the .zst objects elsewhere')


def objects(toc_path: str):
    """Yields (index, kind, bytes) for each object the .toc lists; kind 'zst' where no decoder was found."""
    toc = open(toc_path, 'rb').read()
    binf = open(toc_path[:-4] + '.bin', 'rb').read()
    if toc[:4] != b'CDVN' or (len(toc) - 0x20) % 0x18:
        raise ValueError(f'{toc_path}: not a shader cache index (magic {toc[:4]!r}, {len(toc)} bytes)')
    for i in range((len(toc) - 0x20) // 0x18):
        offset, section = struct.unpack_from('<II', toc, 0x20 + i * 0x18 + 0x10)
        if section < 4 or offset + 0x24 + section - 4 > len(binf):
            print(f'{toc_path} entry {i}: out of range (offset {offset}, size {section})', file=sys.stderr)
            continue
        head = struct.unpack_from('<9I', binf, offset)
        if head[0] != SECTION_MAGIC or head[7] != section:
            print(f'{toc_path} entry {i}: unexpected header {head[0]:#x}', file=sys.stderr)
            continue
        data = binf[offset + 0x24:offset + 0x24 + section - 4]
        if data[:4] == ZSTD_MAGIC:
            try:
                unpacked = unzstd(data)
            except RuntimeError as e:
                print(e, file=sys.stderr)
                yield i, 'zst', data
                continue
            if len(unpacked) != head[8]:
                print(f'{toc_path} entry {i}: unpacked {len(unpacked)} bytes where its header says {head[8]}: kept packed', file=sys.stderr)
                yield i, 'zst', data
                continue
            data = unpacked
        found = prefixed(data)
        yield (i, *found) if found else (i, 'bin', data)


def elf_end(blob: bytes, at: int) -> int:
    """Where the 64-bit little-endian ELF at `at` ends (its last section or table), 0 if it is not one."""
    if len(blob) < at + 64 or blob[at + 4] != 2 or blob[at + 5] != 1:
        return 0
    phoff, shoff = struct.unpack_from('<QQ', blob, at + 0x20)
    phentsize, phnum, shentsize, shnum = struct.unpack_from('<HHHH', blob, at + 0x36)
    end = max(64, phoff + phentsize * phnum, shoff + shentsize * shnum)
    for i in range(shnum):
        h = at + shoff + i * shentsize
        if h + 64 > len(blob):
            return 0
        kind, = struct.unpack_from('<I', blob, h + 4)
        offset, size = struct.unpack_from('<QQ', blob, h + 0x18)
        if kind != 8:  # SHT_NOBITS takes no file bytes
            end = max(end, offset + size)
    return end if at + end <= len(blob) else 0


def prefixed(data: bytes):
    """(kind, object) where data starts with one of the driver's object prefixes, else None."""
    for magic, skip, kind in PREFIXES:
        if data.startswith(magic):
            return kind, data[skip:]
    return None


def carve(blob: bytes, depth: int = 0):
    """Yields (kind, bytes) for each ELF in blob and for each zstd frame it holds: the frame's
    object where it unpacks to one (NVuc on 580 drivers, h69), else the ELFs inside it."""
    if depth:
        found = prefixed(blob)
        if found:
            yield found
            return
    at = blob.find(b'\x7fELF')
    while at >= 0:
        end = elf_end(blob, at)
        if end:
            yield 'elf', blob[at:at + end]
        at = blob.find(b'\x7fELF', at + max(end, 1))
    if depth == 0:
        at = blob.find(ZSTD_MAGIC)
        while at >= 0:
            yield from carve(unzstd(blob[at:]), 1)
            at = blob.find(ZSTD_MAGIC, at + 4)


def find_nvdisasm():
    found = shutil.which('nvdisasm')
    if found:
        return found
    # Triton (beside torch) ships one in triton/backends/nvidia/bin; pip's CUDA packages in nvidia/*/bin.
    for root in sys.path:
        for depth in ('*', '*/*', '*/*/*'):
            for hit in glob.glob(os.path.join(root, depth, 'bin', 'nvdisasm')):
                return hit
    return None


def main() -> int:
    args = [a for a in sys.argv[1:] if a != '--disassemble']
    scan = args[:1] == ['--scan']
    if scan:
        args = args[1:]
    if len(args) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = args[1] if not scan else args[0]
    os.makedirs(out, exist_ok=True)
    tool = find_nvdisasm() if '--disassemble' in sys.argv else None
    if '--disassemble' in sys.argv:
        print(f'nvdisasm: {tool or "not found"}')
    n = 0
    bad = 0
    sources = []  # (where, [(entry, kind, bytes)])
    if scan:
        for path in args[1:]:
            try:
                sources.append((path, [(i, kind, data) for i, (kind, data) in enumerate(carve(open(path, 'rb').read()))]))
            except (OSError, RuntimeError) as e:
                print(f'skipped: {path}: {e}', file=sys.stderr)
                bad += 1
    else:
        cache = args[0]
        for toc in sorted(glob.glob(os.path.join(cache, '**', '*.toc'), recursive=True)):
            try:
                sources.append((os.path.relpath(toc, cache), list(objects(toc))))
            except (OSError, ValueError) as e:
                print(f'skipped: {e}', file=sys.stderr)
                bad += 1
    for where, found in sources:
        for i, kind, data in found:
            name = os.path.join(out, f'object{n:05d}.{kind}')
            open(name, 'wb').write(data)
            line = f'{name}: {where} entry {i}, {kind}, {len(data)} bytes'
            if tool and kind in ('elf', 'nvuc'):
                r = subprocess.run([tool, '-c', name] if kind == 'elf' else [tool, name], capture_output=True, text=True)
                open(name.rsplit('.', 1)[0] + '.sass', 'w').write(r.stdout + r.stderr)
                line += f', sass {r.returncode} ({r.stdout.count(chr(10))} lines)'
            print(line)
            n += 1
    print(f'{n} objects' + (f', {bad} unreadable file(s)' if bad else ''))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
