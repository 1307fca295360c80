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

Usage: nvcache.py CACHE_DIR OUT_DIR [--disassemble]
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


def unzstd(data: bytes, size: int) -> bytes:
    try:
        import zstandard  # type: ignore
        return zstandard.ZstdDecompressor().decompress(data, max_output_size=size)
    except ImportError:
        pass
    try:
        from compression import zstd  # type: ignore  # Python 3.14
        return zstd.decompress(data)
    except ImportError:
        pass
    if shutil.which('zstd'):
        return subprocess.run(['zstd', '-dc'], input=data, capture_output=True, check=True).stdout
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
                data = unzstd(data, head[8])
            except RuntimeError as e:
                print(e, file=sys.stderr)
                yield i, 'zst', data
                continue
        for magic, skip, kind in PREFIXES:
            if data.startswith(magic):
                yield i, kind, data[skip:]
                break
        else:
            yield i, 'bin', data


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
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    cache, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    tool = find_nvdisasm() if '--disassemble' in sys.argv else None
    if '--disassemble' in sys.argv:
        print(f'nvdisasm: {tool or "not found"}')
    n = 0
    bad = 0
    for toc in sorted(glob.glob(os.path.join(cache, '**', '*.toc'), recursive=True)):
        try:
            found = list(objects(toc))
        except (OSError, ValueError) as e:
            print(f'skipped: {e}', file=sys.stderr)
            bad += 1
            continue
        for i, kind, data in found:
            name = os.path.join(out, f'object{n:05d}.{kind}')
            open(name, 'wb').write(data)
            line = f'{name}: {os.path.relpath(toc, cache)} entry {i}, {kind}, {len(data)} bytes'
            if tool and kind in ('elf', 'nvuc'):
                r = subprocess.run([tool, '-c', name] if kind == 'elf' else [tool, name], capture_output=True, text=True)
                open(name.rsplit('.', 1)[0] + '.sass', 'w').write(r.stdout + r.stderr)
                line += f', sass {r.returncode} ({r.stdout.count(chr(10))} lines)'
            print(line)
            n += 1
    print(f'{n} objects' + (f', {bad} unreadable index file(s)' if bad else ''))
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
