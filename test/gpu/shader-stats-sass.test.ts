/**
 * bench/shader-stats' machine-code tools, without a GPU: nvcache.py unpacks NVIDIA's shader disk
 * cache (a .toc index and a .bin of objects, zstd-compressed or stored) into one file an object,
 * and sass_loops.py counts what each loop of nvdisasm's text issues. The cache here is built by the
 * test in the layout nvcache.py documents; needs python3 and the zstd tool (.ci/install-system.sh).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REQUIRE_WEBGPU } from '../helpers/gpu.js';

const hasTools = spawnSync('python3', ['--version']).status === 0 && spawnSync('zstd', ['--version']).status === 0;
if (!hasTools) {
  const message = 'no python3 or zstd: the shader-cache tools cannot be checked (apt-get install python3 zstd)';
  if (REQUIRE_WEBGPU) throw new Error(`${message}; REQUIRE_WEBGPU=1 (CI) makes this a failure`);
  console.warn(`[SKIPPED] ${message}`);
}

const dir = mkdtempSync(join(tmpdir(), 'tessera-sass-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const SECTION_MAGIC = 0x9846a19d;

/** One .bin section: the 0x24-byte header, then the data (section size = data + 4). */
function section(data: Buffer, unpacked: number): Buffer {
  const head = Buffer.alloc(0x24);
  head.writeUInt32LE(SECTION_MAGIC, 0);
  head.writeUInt32LE(data.length + 4, 0x1c);
  head.writeUInt32LE(unpacked, 0x20);
  return Buffer.concat([head, data]);
}

/** Writes name.toc / name.bin holding these sections (each a [data, unpacked size] pair). */
function writeCache(folder: string, name: string, sections: Array<[Buffer, number]>): void {
  mkdirSync(folder, { recursive: true });
  const header = Buffer.concat([Buffer.from('CDVN'), Buffer.alloc(28)]);
  const parts: Buffer[] = [header];
  const entries: Buffer[] = [header];
  let offset = header.length;
  for (const [data, unpacked] of sections) {
    const s = section(data, unpacked);
    const entry = Buffer.alloc(0x18);
    entry.writeUInt32LE(offset, 0x10);
    entry.writeUInt32LE(data.length + 4, 0x14);
    entries.push(entry);
    parts.push(s);
    offset += s.length;
  }
  writeFileSync(join(folder, `${name}.toc`), Buffer.concat(entries));
  writeFileSync(join(folder, `${name}.bin`), Buffer.concat(parts));
}

describe.skipIf(!hasTools)('bench/shader-stats machine-code tools', () => {
  it('nvcache.py unpacks compressed and stored objects by their prefixes and reports an unreadable index', () => {
    const elf = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]), Buffer.from('cubin body '.repeat(40))]);
    const elfObject = Buffer.concat([Buffer.from([0x50, 0x02, 0x00, 0x00]), elf]);
    const compressed = execFileSync('zstd', ['-c', '-q'], { input: elfObject });
    expect(compressed.subarray(0, 4)).toEqual(Buffer.from([0x28, 0xb5, 0x2f, 0xfd]));
    const nvuc = Buffer.from('NVuc microcode archive');
    const stored = Buffer.concat([Buffer.from('NVDANVVM'), nvuc]);
    const cache = join(dir, 'cache');
    writeCache(join(cache, 'GLCache', 'ab', 'cd'), 'x', [[compressed, elfObject.length], [stored, stored.length]]);
    const out = join(dir, 'objects');
    const r = spawnSync('python3', ['bench/shader-stats/nvcache.py', cache, out], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/object00000\.elf: GLCache\/ab\/cd\/x\.toc entry 0, elf, \d+ bytes/);
    expect(r.stdout).toContain('2 objects');
    expect(readFileSync(join(out, 'object00000.elf'))).toEqual(elf);
    expect(readFileSync(join(out, 'object00001.nvuc'))).toEqual(nvuc);

    // A truncated index (not 0x20 + n x 0x18 bytes): named, skipped, exit 1; the good one still unpacked.
    writeFileSync(join(cache, 'GLCache', 'bad.toc'), Buffer.concat([Buffer.from('CDVN'), Buffer.alloc(30)]));
    writeFileSync(join(cache, 'GLCache', 'bad.bin'), Buffer.alloc(0));
    const r2 = spawnSync('python3', ['bench/shader-stats/nvcache.py', cache, join(dir, 'objects2')], { encoding: 'utf8' });
    expect(r2.status).toBe(1);
    expect(r2.stderr).toMatch(/skipped: .*bad\.toc: not a shader cache index/);
    expect(r2.stdout).toContain('2 objects, 1 unreadable file(s)');

    // A frame that unpacks to other than its header's size: named, and the object kept packed.
    const wrong = join(dir, 'wrong-size');
    writeCache(wrong, 'y', [[compressed, elfObject.length + 1]]);
    const r3 = spawnSync('python3', ['bench/shader-stats/nvcache.py', wrong, join(dir, 'objects3')], { encoding: 'utf8' });
    expect(r3.status).toBe(0);
    expect(r3.stderr).toContain(`y.toc entry 0: unpacked ${elfObject.length} bytes where its header says ${elfObject.length + 1}: kept packed`);
    expect(readFileSync(join(dir, 'objects3', 'object00000.zst'))).toEqual(compressed);
  });

  it('nvcache.py --scan carves ELF objects, plain and in zstd frames, out of a pipeline cache\'s data', () => {
    // A minimal ELF64: its header, 16 bytes of section data, a null section and one PROGBITS.
    const elf = Buffer.alloc(64 + 16 + 2 * 64);
    Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]).copy(elf, 0);
    elf.writeBigUInt64LE(80n, 0x28); // e_shoff
    elf.writeUInt16LE(64, 0x3a); // e_shentsize
    elf.writeUInt16LE(2, 0x3c); // e_shnum
    Buffer.from('section contents').copy(elf, 64);
    const section1 = 80 + 64;
    elf.writeUInt32LE(1, section1 + 4); // SHT_PROGBITS
    elf.writeBigUInt64LE(64n, section1 + 0x18);
    elf.writeBigUInt64LE(16n, section1 + 0x20);
    const vulkanHeader = Buffer.alloc(32);
    vulkanHeader.writeUInt32LE(32, 0);
    vulkanHeader.writeUInt32LE(1, 4);
    const framed = execFileSync('zstd', ['-c', '-q'], { input: Buffer.concat([Buffer.from([0x50, 0x02, 0, 0]), elf]) });
    const blob = join(dir, 'p7-cache.bin');
    writeFileSync(blob, Buffer.concat([vulkanHeader, Buffer.from('driver header'), elf, Buffer.from('between'), framed, Buffer.from('tail')]));
    const out = join(dir, 'carved');
    const r = spawnSync('python3', ['bench/shader-stats/nvcache.py', '--scan', out, blob], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(`object00000.elf: ${blob} entry 0, elf, ${elf.length} bytes`);
    expect(r.stdout).toContain('2 objects');
    expect(readFileSync(join(out, 'object00000.elf'))).toEqual(elf);
    expect(readFileSync(join(out, 'object00001.elf'))).toEqual(elf);

    // The 580 driver's pipeline cache (H100 h69): one zstd frame holding an NVuc archive, taken whole.
    const nvuc = Buffer.concat([Buffer.from('NVuc'), Buffer.from('microcode with \x7fELF-like bytes '.repeat(8))]);
    const blob2 = join(dir, 'p8-cache.bin');
    writeFileSync(blob2, Buffer.concat([vulkanHeader, Buffer.from('driver header'), execFileSync('zstd', ['-c', '-q'], { input: nvuc })]));
    const r2 = spawnSync('python3', ['bench/shader-stats/nvcache.py', '--scan', join(dir, 'carved2'), blob2], { encoding: 'utf8' });
    expect(r2.stderr).toBe('');
    expect(r2.status).toBe(0);
    expect(r2.stdout).toContain(`object00000.nvuc: ${blob2} entry 0, nvuc, ${nvuc.length} bytes`);
    expect(r2.stdout).toContain('1 objects');
    expect(readFileSync(join(dir, 'carved2', 'object00000.nvuc'))).toEqual(nvuc);
  });

  it('sass_loops.py counts each loop\'s instructions by opcode', () => {
    const sass = [
      '        /*0000*/                   LDC R1, c[0x0][0x28] ;',
      '.L_x_1:',
      '        /*0010*/                   LDG.E.128 R4, [R2.64] ;',
      '        /*0020*/                   FFMA R8, R4, R5, R8 ;',
      '        /*0030*/                   FFMA R9, R6, R7, R9 ;',
      '        /*0040*/                   HADD2.F32 R10, -RZ, R4.H0_H0 ;',
      '        /*0050*/                   ISETP.GE.U32.AND P0, PT, R0, R11, PT ;',
      '        /*0060*/              @!P0 BRA `(.L_x_1) ;',
      '        /*0070*/                   EXIT ;',
      '.L_x_2:',
      '        /*0080*/                   BRA `(.L_x_2);',
    ].join('\n');
    const file = join(dir, 'k.sass');
    writeFileSync(file, sass);
    const out = execFileSync('python3', ['bench/shader-stats/sass_loops.py', file], { encoding: 'utf8' });
    expect(out).toContain(`${file}: 9 instructions, 2 FFMA`);
    expect(out).toContain('loop 0x0010-0x0060: 6 instructions, 33% FFMA: FFMA 2, LDG 1, HADD2 1, ISETP 1, BRA 1');
    expect(out).toContain('loop 0x0080-0x0080: 1 instructions, 0% FFMA: BRA 1');

    // The driver's own objects (nvdisasm of an NVuc archive) name branch targets by address.
    const byAddress = [
      '        /*0a50*/                   ISETP.GE.U32.AND P0, PT, R7, cx[UR14][0x8], PT ;',
      '        /*0a60*/               @P0 BRA 0xab0 ;',
      '        /*0a70*/              @!P4 LDG.E.128.CONSTANT R80, [R11.U32+UR10], !P5 ;',
      '        /*0a80*/                   HADD2.F32 R47, -RZ, R80.reuse.H0_H0 ;',
      '        /*0a90*/                   FFMA.FTZ R49, R115, R32.reuse, R66 ;',
      '        /*0aa0*/                   BRA 0xa50 ;',
      '        /*0ab0*/                   EXIT ;',
    ].join('\n');
    const file2 = join(dir, 'object00008.sass');
    writeFileSync(file2, byAddress);
    const out2 = execFileSync('python3', ['bench/shader-stats/sass_loops.py', file2], { encoding: 'utf8' });
    expect(out2).toContain('loop 0x0a50-0x0aa0: 6 instructions, 17% FFMA: BRA 2, ISETP 1, LDG 1, HADD2 1, FFMA 1');
  });
});
