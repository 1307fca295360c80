/**
 * FAISS IndexScalarQuantizer ("IxSQ") files and the ScalarQuantizer record that IndexIVFScalarQuantizer
 * ("IwSq") embeds (FAISS impl/index_read.cpp read_ScalarQuantizer, index_write.cpp), little-endian:
 *
 *   ScalarQuantizer: int32 qtype | int32 rangestat | float32 rangestat_arg | uint64 d | uint64 code_size
 *                    | uint64 n | float32[n] trained   (QT_8bit: n = 2d, vmin[d] then vdiff[d])
 *   IxSQ:            "IxSQ" | index header | ScalarQuantizer | uint64 n = ntotal * code_size | uint8[n] codes
 *
 * tessera serves QT_8bit (FAISS "SQ8": per-dimension trained ranges, code = floor(255 * (x - vmin) / vdiff)
 * clamped to [0, 1] first; decoded as vmin + (code + 0.5) / 255 * vdiff). Other qtypes raise UNSUPPORTED.
 */
import { TesseraError } from '../../core/errors.js';
import type { Metric } from '../../core/types.js';
import type { ByteReader } from '../byte-reader.js';
import { float32View } from '../byte-reader.js';
import { encodeIndexHeader, type FaissFileInfo, type FaissFormat, type FaissIndexHeader, readIndexHeader, requireMetric } from './header.js';

export const SQ_FOURCC = 'IxSQ';
/** FAISS ScalarQuantizer::QuantizerType QT_8bit. */
export const QT_8BIT = 0;
/** ScalarQuantizer::QuantizerType names by value (faiss/impl/ScalarQuantizer.h, FAISS 1.7 to 2026). */
const QTYPE_NAMES = [
  'QT_8bit', 'QT_4bit', 'QT_8bit_uniform', 'QT_4bit_uniform', 'QT_fp16', 'QT_8bit_direct', 'QT_6bit', 'QT_bf16', 'QT_8bit_direct_signed',
  'QT_0bit', 'QT_1bit_tqmse', 'QT_2bit_tqmse', 'QT_3bit_tqmse', 'QT_4bit_tqmse', 'QT_8bit_tqmse', 'QT_2bit_tq', 'QT_3bit_tq', 'QT_4bit_tq', 'QT_5bit_tq',
  'QT_1bit_eden', 'QT_2bit_eden', 'QT_3bit_eden', 'QT_4bit_eden', 'QT_5bit_eden', 'QT_6bit_eden', 'QT_7bit_eden', 'QT_8bit_eden',
];
/** FAISS appends quantizer types: a small value past the known ones is a newer FAISS's, not corruption. */
const QTYPE_FUTURE_LIMIT = 256;

/** A FAISS ScalarQuantizer as stored. */
export interface SqParams {
  qtype: number;
  rangestat: number;
  rangestatArg: number;
  d: number;
  codeSize: number;
  /** QT_8bit: vmin (d values) then vdiff (d values). */
  trained: Float32Array;
}

/** Reads a ScalarQuantizer record; only QT_8bit with 2d trained values is accepted. */
export async function readSqParams(r: ByteReader, d: number): Promise<SqParams> {
  const qtypeAt = r.offset;
  const qtype = await r.i32('int32 ScalarQuantizer qtype');
  if (qtype !== QT_8BIT) {
    const name = QTYPE_NAMES[qtype] ?? (qtype > 0 && qtype < QTYPE_FUTURE_LIMIT ? `qtype ${qtype} (newer than the FAISS types tessera knows)` : undefined);
    if (name === undefined) throw r.error(`bad ScalarQuantizer qtype ${qtype}: not a FAISS quantizer type; the file is corrupt`, qtypeAt);
    throw new TesseraError(
      'UNSUPPORTED',
      `${r.label}: scalar quantizer ${name} is not supported: tessera reads QT_8bit ("SQ8") only (at byte offset ${qtypeAt}); rebuild the index as SQ8 or IVF<nlist>,SQ8 (tessera convert)`,
    );
  }
  const rangestat = await r.i32('int32 ScalarQuantizer rangestat');
  const rangestatArg = await r.f32('float32 ScalarQuantizer rangestat_arg');
  const dAt = r.offset;
  const sqd = await r.count64('uint64 ScalarQuantizer d');
  if (sqd !== d) throw r.error(`ScalarQuantizer d = ${sqd} differs from the index dimension ${d}; the file is corrupt`, dAt);
  const csAt = r.offset;
  const codeSize = await r.count64('uint64 ScalarQuantizer code_size');
  if (codeSize !== d) throw r.error(`ScalarQuantizer code_size = ${codeSize}, expected ${d} (one byte per dimension for QT_8bit); the file is corrupt`, csAt);
  const nAt = r.offset;
  const n = await r.count64('uint64 number of trained values');
  // An untrained quantizer (FAISS writes one for an index saved before train) stores no values.
  if (n !== 2 * d && n !== 0) throw r.error(`ScalarQuantizer has ${n} trained values, expected 2 * d = ${2 * d} (vmin, vdiff); the file is corrupt`, nAt);
  const trainedAt = r.offset;
  const trained = float32View(await r.bytes(4 * n, `${n} float32 trained values`)).slice();
  const bad = trained.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw r.error(`ScalarQuantizer trained value ${bad} is ${trained[bad]}, expected a finite float; the file is corrupt`, trainedAt + 4 * bad);
  return { qtype, rangestat, rangestatArg, d, codeSize, trained };
}

/** Little-endian byte builder for the small structured parts of FAISS files. */
export class LeWriter {
  private parts: Uint8Array[] = [];
  private scratch = new DataView(new ArrayBuffer(8));
  private push(n: number): void {
    this.parts.push(new Uint8Array(this.scratch.buffer.slice(0, n)));
  }
  fourcc(s: string): this {
    this.parts.push(Uint8Array.from(s, (c) => c.charCodeAt(0)));
    return this;
  }
  u8(v: number): this {
    this.scratch.setUint8(0, v);
    this.push(1);
    return this;
  }
  i32(v: number): this {
    this.scratch.setInt32(0, v, true);
    this.push(4);
    return this;
  }
  f32(v: number): this {
    this.scratch.setFloat32(0, v, true);
    this.push(4);
    return this;
  }
  u64(v: number | bigint): this {
    this.scratch.setBigUint64(0, BigInt(v), true);
    this.push(8);
    return this;
  }
  f64(v: number): this {
    this.scratch.setFloat64(0, v, true);
    this.push(8);
    return this;
  }
  bytes(b: Uint8Array): this {
    this.parts.push(b.slice());
    return this;
  }
  /** A FAISS std::vector: uint64 count then the elements' bytes. */
  vector(x: Float32Array | Int32Array | Float64Array | BigInt64Array | BigUint64Array | Uint8Array): this {
    this.u64(x.length);
    return this.bytes(new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
  }
  header(d: number, ntotal: number, metric: Metric, isTrained = true): this {
    return this.bytes(encodeIndexHeader(d, ntotal, metric, isTrained));
  }
  done(): Uint8Array {
    const out = new Uint8Array(this.parts.reduce((s, p) => s + p.length, 0));
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

/**
 * How a ScalarQuantizer learns its ranges (FAISS ScalarQuantizer::RangeStat and rangestat_arg). The
 * trained vmin / vdiff are what search uses; these are kept so that a file saved again trains in
 * FAISS (and in tessera) as it did, e.g. an untrained file or FAISS's own train after a reset.
 */
export interface SqRangeStat {
  /** 0 RS_minmax (FAISS's default), 1 RS_meanstd, 2 RS_quantiles, 3 RS_optim. */
  rangestat: number;
  rangestatArg: number;
}
export const RS_MINMAX = 0;
export const RANGESTAT_NAMES = ['RS_minmax', 'RS_meanstd', 'RS_quantiles', 'RS_optim'];
/** FAISS's default: min-max ranges, not widened. */
export const DEFAULT_RANGESTAT: SqRangeStat = { rangestat: RS_MINMAX, rangestatArg: 0 };

/** Bytes of a QT_8bit ScalarQuantizer record, with the range statistic it was (or will be) trained by. */
export function encodeSqParams(d: number, trained: Float32Array, range: SqRangeStat = DEFAULT_RANGESTAT): Uint8Array {
  return new LeWriter().i32(QT_8BIT).i32(range.rangestat).f32(range.rangestatArg).u64(d).u64(d).vector(trained).done();
}

/** Where an IxSQ file's parts lie. */
export interface SqLayout extends FaissIndexHeader {
  metric: Metric;
  sq: SqParams;
  /** Byte offset of code 0; codes are ntotal x d bytes, row-major. */
  codesOffset: number;
}

/** Reads an IxSQ file's header and quantizer at the reader (just past the fourcc); checks the code size against the file. */
export async function readSqLayout(r: ByteReader): Promise<SqLayout> {
  const header = await readIndexHeader(r);
  const metric = requireMetric(header, r.label);
  const sq = await readSqParams(r, header.d);
  const nAt = r.offset;
  const n = await r.count64('uint64 number of code bytes');
  if (n !== header.ntotal * sq.codeSize) {
    throw r.error(`bad code size: ${n} bytes stored but ntotal * code_size = ${header.ntotal} * ${sq.codeSize}; the file is corrupt`, nAt);
  }
  const codesOffset = r.offset;
  r.require(n, `${header.ntotal} codes of ${sq.codeSize} bytes`);
  r.offset += n;
  return { ...header, metric, sq, codesOffset };
}

/**
 * Bytes of an IxSQ file before its codes; untrained (is_trained 0) without ranges: a sharded SQ8
 * saved before train said trained with no ranges, and FAISS's add then crashed (segfault).
 */
export function encodeSqFileHeader(d: number, ntotal: number, metric: Metric, trained: Float32Array, range: SqRangeStat = DEFAULT_RANGESTAT): Uint8Array {
  return new LeWriter().fourcc(SQ_FOURCC).header(d, ntotal, metric, trained.length > 0).bytes(encodeSqParams(d, trained, range)).u64(ntotal * d).done();
}

/** `tessera info` details for a range statistic other than FAISS's default. */
export function rangeStatDetails(sq: SqRangeStat): Record<string, string | number> {
  if (sq.rangestat === RS_MINMAX && sq.rangestatArg === 0) return {};
  return { rangestat: RANGESTAT_NAMES[sq.rangestat] ?? `rangestat ${sq.rangestat}`, rangestatArg: sq.rangestatArg };
}

export const sqFormats: FaissFormat[] = [
  {
    fourcc: SQ_FOURCC,
    kind: 'sq',
    type: 'IndexScalarQuantizer',
    async inspect(r: ByteReader, fourcc: string) {
      const l = await readSqLayout(r);
      const info: FaissFileInfo = {
        fourcc,
        type: 'IndexScalarQuantizer',
        description: 'SQ8',
        d: l.d,
        ntotal: l.ntotal,
        metric: l.metric,
        metricName: l.metricName,
        isTrained: l.isTrained,
        details: { qtype: 'QT_8bit', codeSize: l.sq.codeSize, ...rangeStatDetails(l.sq) },
      };
      return { info, structure: l };
    },
  },
];
