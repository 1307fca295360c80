/**
 * A minimal ONNX ModelProto writer (protobuf wire format by hand, field numbers from onnx/onnx.proto3):
 * enough for graphs of a few nodes with tensor initializers. Used to build the demo model and test models
 * without a Python toolchain.
 */

const enc = new TextEncoder();

/** Protobuf message builder: fields appended in call order. */
class Msg {
  private parts: Uint8Array[] = [];
  private size = 0;

  private push(b: Uint8Array): void {
    this.parts.push(b);
    this.size += b.length;
  }

  private varint(v: bigint | number): void {
    let x = BigInt.asUintN(64, BigInt(v));
    const out: number[] = [];
    do {
      let byte = Number(x & 0x7fn);
      x >>= 7n;
      if (x !== 0n) byte |= 0x80;
      out.push(byte);
    } while (x !== 0n);
    this.push(Uint8Array.from(out));
  }

  int(field: number, v: number | bigint): this {
    this.varint((field << 3) | 0);
    this.varint(v);
    return this;
  }

  float(field: number, v: number): this {
    this.varint((field << 3) | 5);
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.push(b);
    return this;
  }

  bytes(field: number, b: Uint8Array): this {
    this.varint((field << 3) | 2);
    this.varint(b.length);
    this.push(b);
    return this;
  }

  str(field: number, s: string): this {
    return this.bytes(field, enc.encode(s));
  }

  msg(field: number, m: Msg): this {
    return this.bytes(field, m.finish());
  }

  finish(): Uint8Array {
    const out = new Uint8Array(this.size);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

/** ONNX TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, FLOAT16: 10 } as const;

export interface TensorSpec {
  name: string;
  dataType: number;
  dims: readonly number[];
  /** Little-endian element bytes (raw_data); with `external`, the bytes the caller stores in that file instead. */
  raw: Uint8Array;
  /** ONNX external data: the bytes live in `location` (beside the model) at `offset`, not in the graph. */
  external?: { location: string; offset?: number };
}

export type AttrValue = number | string | readonly number[] | { ints: readonly number[] } | { float: number };

export interface NodeSpec {
  op: string;
  inputs: readonly string[];
  outputs: readonly string[];
  name?: string;
  attrs?: Record<string, AttrValue>;
}

export interface ValueSpec {
  name: string;
  dataType: number;
  /** Numbers are fixed sizes, strings symbolic ones ("batch", "sequence"). */
  shape: readonly (number | string)[];
}

export interface GraphSpec {
  name: string;
  nodes: readonly NodeSpec[];
  initializers: readonly TensorSpec[];
  inputs: readonly ValueSpec[];
  outputs: readonly ValueSpec[];
  opset?: number;
  producer?: string;
  docString?: string;
}

function tensor(t: TensorSpec): Msg {
  const m = new Msg();
  for (const d of t.dims) m.int(1, d);
  m.int(2, t.dataType).str(8, t.name);
  if (!t.external) return m.bytes(9, t.raw);
  const entry = (k: string, v: string) => new Msg().str(1, k).str(2, v);
  m.msg(13, entry('location', t.external.location))
    .msg(13, entry('offset', String(t.external.offset ?? 0)))
    .msg(13, entry('length', String(t.raw.length)));
  return m.int(14, 1);
}

function attribute(name: string, v: AttrValue): Msg {
  const m = new Msg().str(1, name);
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) throw new Error(`attribute ${name}: pass {float: x} for floats`);
    return m.int(3, v).int(20, 2);
  }
  if (typeof v === 'string') return m.str(4, v).int(20, 3);
  if ('float' in v) return m.float(2, v.float).int(20, 1);
  const ints = 'ints' in v ? v.ints : (v as readonly number[]);
  for (const i of ints) m.int(8, i);
  return m.int(20, 7);
}

function valueInfo(v: ValueSpec): Msg {
  const shape = new Msg();
  for (const d of v.shape) shape.msg(1, typeof d === 'number' ? new Msg().int(1, d) : new Msg().str(2, d));
  const tensorType = new Msg().int(1, v.dataType).msg(2, shape);
  return new Msg().str(1, v.name).msg(2, new Msg().msg(1, tensorType));
}

/** Serialises a graph into ONNX model bytes (IR version 8, default-domain opset 17 unless told). */
export function writeOnnxModel(g: GraphSpec): Uint8Array {
  const graph = new Msg();
  g.nodes.forEach((n, i) => {
    const node = new Msg();
    for (const x of n.inputs) node.str(1, x);
    for (const y of n.outputs) node.str(2, y);
    node.str(3, n.name ?? `${n.op}_${i}`).str(4, n.op);
    for (const [k, v] of Object.entries(n.attrs ?? {})) node.msg(5, attribute(k, v));
    graph.msg(1, node);
  });
  graph.str(2, g.name);
  for (const t of g.initializers) graph.msg(5, tensor(t));
  if (g.docString) graph.str(10, g.docString);
  for (const v of g.inputs) graph.msg(11, valueInfo(v));
  for (const v of g.outputs) graph.msg(12, valueInfo(v));
  const model = new Msg()
    .int(1, 8)
    .str(2, g.producer ?? 'tessera')
    .str(3, '0.1.0')
    .msg(7, graph)
    .msg(8, new Msg().str(1, '').int(2, g.opset ?? 17));
  return model.finish();
}

/** Float32 values -> raw little-endian bytes. */
export function f32Bytes(a: ArrayLike<number>): Uint8Array {
  const f = Float32Array.from(a);
  return new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
}
