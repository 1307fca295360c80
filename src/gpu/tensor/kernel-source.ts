/**
 * WGSL for the int8 scoring kernels: fills the templates shaders/int8_mma_select.wgsl and
 * shaders/int8_mma_merge.wgsl with compile-time constants and the tile-scoring body, either on
 * subgroup matrices (Dawn's chromium_experimental_subgroup_matrix: the tensor cores) or on
 * dot4I8Packed / dot4U8Packed. Everything here is a compile-time fact; sizes go in uniforms.
 */
import mergeTemplate from '../../../shaders/int8_mma_merge.wgsl';
import selectTemplate from '../../../shaders/int8_mma_select.wgsl';
import hookTemplate from '../../../shaders/int8_mma_hook.wgsl';
import stagedTemplate from '../../../shaders/int8_mma_staged.wgsl';

/** How subgroupMatrixLoad/Store take the layout: a bool argument (older Dawn) or a template enum. */
export type MatrixSyntax = 'bool-arg' | 'template-enum';

/**
 * How this driver reads 8-bit subgroup matrices, found by bench/gpu-tensor's probe: the stride
 * multiplier and the layout flags that make the kernel equal the CPU integer reference.
 * Default: { strideMul: 1, leftColMajor: false, rightColMajor: true } (the extension's semantics).
 */
export interface MatrixQuirk {
  strideMul: number;
  leftColMajor: boolean;
  rightColMajor: boolean;
}

export const DEFAULT_QUIRK: MatrixQuirk = { strideMul: 1, leftColMajor: false, rightColMajor: true };

/** Shape of one compiled select kernel. */
export interface SelectShape {
  /** 'mma': subgroup matrices; 'dot4': packed 4 x 8-bit dot products (any adapter). */
  kind: 'mma' | 'dot4';
  /** i8 x i8 -> i32 (true) or u8 x u8 -> u32 (false) operands. */
  signed: boolean;
  /** Bytes (dims) per row: a multiple of 32. */
  dPad: number;
  /** Subgroup matrix shape (M rows of base, N queries, K dims); dot4 ignores it. */
  m: number;
  n: number;
  k: number;
  /** Subgroups along rows and along queries (workgroup = sgRows * sgQueries * subgroupSize). */
  sgRows: number;
  sgQueries: number;
  /** Result matrices per subgroup along rows and along queries. */
  rowTiles: number;
  queryTiles: number;
  /** Invocations per subgroup (the adapter's subgroupMaxSize; 32 on NVIDIA). */
  subgroupSize: number;
  /** Candidates kept per invocation list (and per query after the merge): k'. */
  kp: number;
  syntax: MatrixSyntax;
  quirk?: MatrixQuirk;
  /** mma only: stage rows (and queries) in workgroup memory, fragments loaded from there. */
  stage?: StageOptions;
}

/**
 * Workgroup-memory staging of the tensor-core kernel: chunks of `kc` dims of the tile's rows are
 * copied with 16-byte coalesced loads, rows padded by `padWords` words (bank conflicts); queries
 * staged the same way ('wg') or their fragments loaded straight from storage ('storage').
 */
export interface StageOptions {
  kc: number;
  padWords: number;
  queries: 'wg' | 'storage' | 'whole';
  /** Unroll the chunk and K-step loops (constant workgroup offsets: no bounds checks). */
  unroll?: boolean;
  /** Rows hold u8 codes to be read as i8 (c - 128): flip the top bits while staging. */
  xorRows?: boolean;
}

/** Rows and queries one workgroup scores per tile, and its invocation count. */
export function tileOf(s: SelectShape): { br: number; bq: number; nt: number; tpq: number } {
  const br = s.sgRows * s.rowTiles * s.m;
  const bq = s.sgQueries * s.queryTiles * s.n;
  const nt = s.sgRows * s.sgQueries * s.subgroupSize;
  return { br, bq, nt, tpq: nt / bq };
}

export function shapeKey(s: SelectShape): string {
  const st = s.stage ? `stage${s.stage.kc}p${s.stage.padWords}${s.stage.queries}${s.stage.unroll ? 'u' : ''}${s.stage.xorRows ? 'x' : ''}` : 'direct';
  return [s.kind, s.signed ? 'i8' : 'u8', s.dPad, s.m, s.n, s.k, s.sgRows, s.sgQueries, s.rowTiles, s.queryTiles, s.subgroupSize, s.kp, s.syntax, JSON.stringify(s.quirk ?? DEFAULT_QUIRK), st].join(':');
}

function checkShape(s: SelectShape): void {
  const { br, bq, nt, tpq } = tileOf(s);
  const bad = (why: string) => new Error(`int8 kernel shape ${shapeKey(s)}: ${why}`);
  if (s.dPad % 32 !== 0) throw bad('dPad must be a multiple of 32');
  if (!Number.isInteger(tpq) || tpq < 1) throw bad(`invocations (${nt}) must be a multiple of the queries per tile (${bq})`);
  if (br % tpq !== 0) throw bad('rows per tile must be a multiple of invocations per query');
  if (s.kind === 'mma' && s.dPad % s.k !== 0) throw bad(`dPad must be a multiple of K=${s.k}`);
  // Dawn requires subgroup-matrix offsets to be workgroup-uniform: one subgroup a workgroup.
  if (s.sgRows !== 1 || s.sgQueries !== 1) throw bad('a workgroup is one subgroup (sgRows = sgQueries = 1)');
  if (s.stage) {
    const { kc, padWords } = s.stage;
    if (s.kind !== 'mma') throw bad('staging is for the tensor-core kernel');
    if (kc % s.k !== 0 || kc % 16 !== 0 || s.dPad % kc !== 0) throw bad(`stage kc=${kc} must divide dPad and be a multiple of K and 16`);
    if (padWords % 4 !== 0) throw bad('stage padWords must be a multiple of 4 (16-byte rows)');
    if (s.dPad % 16 !== 0) throw bad('dPad must be a multiple of 16 when staging');
  }
}

/** Workgroup bytes a shape needs (scores tile, or the staging buffers when they are larger). */
export function workgroupBytes(s: SelectShape): number {
  const { br, bq } = tileOf(s);
  if (!s.stage) return br * bq * 4;
  const sw = s.stage.kc / 4 + s.stage.padWords;
  const q = s.stage.queries === 'wg' ? bq * sw : s.stage.queries === 'whole' ? bq * (s.dPad / 4 + 4) : 0;
  return (Math.max(br * sw, br * bq) + q) * 4;
}

const u = (n: number) => `${n}u`;

/** Replaces each template line that is only `//@NAME` (indentation allowed) with its text. */
function fill(template: string, parts: Record<string, string>): string {
  return template.replace(/^([ \t]*)\/\/@([A-Z_]+)[ \t]*$/gm, (line, _indent: string, name: string) => {
    const text = parts[name];
    if (text === undefined) throw new Error(`template marker //@${name} has no text`);
    return text;
  });
}

/** The select kernel's WGSL for a shape. */
export function selectSource(s: SelectShape): string {
  checkShape(s);
  const { br, bq, nt, tpq } = tileOf(s);
  const consts = [
    `const D: u32 = ${u(s.dPad)};`,
    `const BR: u32 = ${u(br)};`,
    `const BQ: u32 = ${u(bq)};`,
    `const NT: u32 = ${u(nt)};`,
    `const TPQ: u32 = ${u(tpq)};`,
    `const KP: u32 = ${u(s.kp)};`,
    `const SIGNED: bool = ${s.signed};`,
    // Subgroup matrices of i8 / u8 load from arrays of their scalar shader type (i32 / u32).
    `alias ET = ${s.signed ? 'i32' : 'u32'};`,
  ].join('\n');
  const enables =
    s.kind === 'mma'
      ? 'enable chromium_experimental_subgroup_matrix;'
      : '';
  if (s.stage) {
    if (s.stage.queries === 'whole') throw new Error(`int8 kernel shape ${shapeKey(s)}: queries 'whole' is the hook kernel's (hookSource)`);
    const sw = s.stage.kc / 4 + s.stage.padWords;
    const qwg = s.stage.queries === 'wg';
    const parts = {
      ENABLES: enables,
      CONSTS: `${consts}\nconst KC: u32 = ${u(s.stage.kc)};\nconst SW: u32 = ${u(sw)};\nconst WR_WORDS: u32 = ${u(Math.max(br * sw, br * bq))};`,
      QBIND: qwg
        ? '@group(0) @binding(2) var<storage, read> queries: array<vec4<u32>>;'
        : '@group(0) @binding(2) var<storage, read> queries: array<ET>;',
      QDECL: qwg ? `var<workgroup> wq: array<ET, ${u(bq * sw)}>;` : '',
      SCORE_TILE: stagedTile(s, br, bq, nt, sw),
    };
    return unrollLists(fill(stagedTemplate, parts), s.kp);
  }
  const body = s.kind === 'mma' ? mmaTile(s, bq) : dot4Tile(s, br, bq, nt);
  return unrollLists(fill(selectTemplate, { ENABLES: enables, CONSTS: consts, SCORE_TILE: body }), s.kp);
}

/**
 * The GpuFlatIndex scorer's WGSL (shaders/int8_mma_hook.wgsl): f32 queries quantised in the
 * kernel, u8 codes read as i8, f32 keys. The shape must be a staged tensor-core shape with queries
 * 'whole', one list a query (BQ equal to the subgroup size) and kp the k it writes.
 */
export function hookSource(s: SelectShape): string {
  checkShape(s);
  const { br, bq, nt, tpq } = tileOf(s);
  const st = s.stage;
  if (s.kind !== 'mma' || !st || st.queries !== 'whole' || !st.xorRows || !s.signed || tpq !== 1) {
    throw new Error(`int8 hook kernel needs a signed staged tensor shape, queries 'whole', xorRows and BQ = ${nt}: got ${shapeKey(s)}`);
  }
  const sw = st.kc / 4 + st.padWords;
  const consts = [
    `const D: u32 = ${u(s.dPad)};`,
    `const BR: u32 = ${u(br)};`,
    `const BQ: u32 = ${u(bq)};`,
    `const NT: u32 = ${u(nt)};`,
    `const KP: u32 = ${u(s.kp)};`,
    `const KC: u32 = ${u(st.kc)};`,
    `const SW: u32 = ${u(sw)};`,
    `const QSW: u32 = ${u(s.dPad / 4 + 4)};`,
    `const WR_WORDS: u32 = ${u(Math.max(br * sw, br * bq))};`,
    'alias ET = i32;',
  ].join('\n');
  const parts = { ENABLES: 'enable chromium_experimental_subgroup_matrix;', CONSTS: consts, SCORE_TILE: stagedTile(s, br, bq, nt, sw) };
  return unrollLists(fill(hookTemplate, parts), s.kp);
}

/** The merge kernel's WGSL for k' candidates per query. */
export function mergeSource(kp: number): string {
  return unrollLists(fill(mergeTemplate, { CONSTS: `const KP: u32 = ${u(kp)};` }), kp);
}

/**
 * Turns the templates' sorted lists `kk` / `ii` (array<i32, KP>) into KP scalar variables and
 * unrolls every `for (var i = 0u; i < KP; i++) { ... }` over them. Measured on the H100: left as
 * arrays indexed in a loop they live in local memory and the insertions dominated the kernel.
 */
export function unrollLists(src: string, kp: number): string {
  let out = src
    .replace(/var kk: array<i32, KP>;/g, Array.from({ length: kp }, (_, i) => `var kk_${i}: i32;`).join(' '))
    .replace(/var ii: array<i32, KP>;/g, Array.from({ length: kp }, (_, i) => `var ii_${i}: i32;`).join(' '))
    .replace(/kk\[KP - 1u\]/g, `kk_${kp - 1}`)
    .replace(/ii\[KP - 1u\]/g, `ii_${kp - 1}`);
  const head = 'for (var i = 0u; i < KP; i++) {';
  for (let at = out.indexOf(head); at >= 0; at = out.indexOf(head)) {
    let depth = 0;
    let end = at + head.length - 1;
    for (; end < out.length; end++) {
      if (out[end] === '{') depth++;
      else if (out[end] === '}' && --depth === 0) break;
    }
    const body = out.slice(at + head.length, end);
    const copies = Array.from({ length: kp }, (_, i) =>
      '{' + body.replace(/kk\[i\]/g, `kk_${i}`).replace(/ii\[i\]/g, `ii_${i}`).replace(/\bi\b/g, `${i}u`) + '}',
    );
    out = out.slice(0, at) + copies.join('\n') + out.slice(end + 1);
  }
  if (/\bkk\[|\bii\[/.test(out)) throw new Error('unrollLists: an indexed list access is left');
  return out;
}

function dot4Tile(s: SelectShape, br: number, bq: number, nt: number): string {
  const dot = s.signed ? 'dot4I8Packed(b, a)' : 'bitcast<i32>(dot4U8Packed(b, a))';
  const acc = s.signed ? 'var acc = 0i;' : 'var acc = 0i; // u8 sums stay below 2^31 (255 * 255 * d for d < 33000)';
  return `
    for (var e = lid; e < ${u(br * bq)}; e += ${u(nt)}) {
      let r = e % ${u(br)};
      let ql = e / ${u(br)};
      let bAt = (t + r) * (D / 4u);
      let qAt = (qBlock * BQ + ql) * (D / 4u);
      ${acc}
      for (var w = 0u; w < D / 4u; w++) {
        let b = bitcast<u32>(base[bAt + w]);
        let a = bitcast<u32>(queries[qAt + w]);
        acc += ${dot};
      }
      st[r * ${u(bq)} + ql] = bitcast<ET>(acc);
    }`;
}

/**
 * Tensor-core tile: the workgroup's one subgroup accumulates rowTiles x queryTiles result matrices
 * of M rows x N queries over K-dim steps. Left = base rows (row-major, stride D bytes); right =
 * queries as K x N (column-major: query n's dims are contiguous, stride D). 8-bit offsets and
 * strides count bytes (Dawn divides them by 4 for the i32 array), so they stay multiples of 4.
 * Results go to `st` row-major (stride BQ). Every offset is workgroup-uniform.
 */
function mmaTile(s: SelectShape, bq: number): string {
  const t = s.signed ? 'i8' : 'u8';
  const rt = s.signed ? 'i32' : 'u32';
  const L = `subgroup_matrix_left<${t}, ${s.k}, ${s.m}>`;
  const R = `subgroup_matrix_right<${t}, ${s.n}, ${s.k}>`;
  const A = `subgroup_matrix_result<${rt}, ${s.n}, ${s.m}>`;
  const load = (type: string, ptr: string, off: string, colMajor: boolean, stride: string) =>
    s.syntax === 'template-enum'
      ? `subgroupMatrixLoad<${type}, ${colMajor ? 'col_major' : 'row_major'}>(${ptr}, ${off}, ${stride})`
      : `subgroupMatrixLoad<${type}>(${ptr}, ${off}, ${colMajor}, ${stride})`;
  const store = (ptr: string, off: string, value: string, stride: string) =>
    s.syntax === 'template-enum'
      ? `subgroupMatrixStore<row_major>(${ptr}, ${off}, ${value}, ${stride})`
      : `subgroupMatrixStore(${ptr}, ${off}, ${value}, false, ${stride})`;
  const qk = s.quirk ?? DEFAULT_QUIRK;
  const stride = qk.strideMul === 1 ? 'D' : `${u(qk.strideMul)} * D`;
  const lines: string[] = [];
  lines.push('{');
  lines.push(`  let rowAt = t * D;`);
  lines.push(`  let qAt = qBlock * BQ * D;`);
  for (let i = 0; i < s.rowTiles; i++) for (let j = 0; j < s.queryTiles; j++) lines.push(`  var acc_${i}_${j} = ${A}();`);
  lines.push(`  for (var kd = 0u; kd < D; kd += ${u(s.k)}) {`);
  for (let i = 0; i < s.rowTiles; i++) lines.push(`    let l${i} = ${load(L, '&base', `rowAt + ${u(i * s.m)} * D + kd`, qk.leftColMajor, stride)};`);
  for (let j = 0; j < s.queryTiles; j++) lines.push(`    let r${j} = ${load(R, '&queries', `qAt + ${u(j * s.n)} * D + kd`, qk.rightColMajor, stride)};`);
  for (let i = 0; i < s.rowTiles; i++) {
    for (let j = 0; j < s.queryTiles; j++) lines.push(`    acc_${i}_${j} = subgroupMatrixMultiplyAccumulate(l${i}, r${j}, acc_${i}_${j});`);
  }
  lines.push('  }');
  // u8 x u8 accumulates in u32 into the u32 tile; the selection reads it as i32 (values < 2^31).
  for (let i = 0; i < s.rowTiles; i++) {
    for (let j = 0; j < s.queryTiles; j++) lines.push(`  ${store('&st', u(i * s.m * bq + j * s.n), `acc_${i}_${j}`, u(bq))};`);
  }
  lines.push('}');
  return lines.join('\n    ');
}

/** Spelling of subgroupMatrixLoad / Store for a shape's syntax. */
function spell(s: SelectShape) {
  const load = (type: string, ptr: string, off: string, colMajor: boolean, stride: string) =>
    s.syntax === 'template-enum'
      ? `subgroupMatrixLoad<${type}, ${colMajor ? 'col_major' : 'row_major'}>(${ptr}, ${off}, ${stride})`
      : `subgroupMatrixLoad<${type}>(${ptr}, ${off}, ${colMajor}, ${stride})`;
  const store = (ptr: string, off: string, value: string, stride: string) =>
    s.syntax === 'template-enum'
      ? `subgroupMatrixStore<row_major>(${ptr}, ${off}, ${value}, ${stride})`
      : `subgroupMatrixStore(${ptr}, ${off}, ${value}, false, ${stride})`;
  return { load, store };
}

/**
 * Copies `rows` rows x KC bytes starting at vec4 index `src` (row stride D/16 vec4) into the
 * workgroup array `dst` (row stride SW words): 16-byte loads, consecutive invocations on
 * consecutive addresses, at most 8 loads issued before their stores (independent loads in flight).
 */
function stageCopy(dst: string, srcArr: string, src: string, rows: number, kc: number, nt: number, tag: string, xor = false): string[] {
  const kc16 = kc / 16;
  const total = rows * kc16;
  const lines: string[] = [];
  const per = Math.ceil(total / nt);
  const guard = total % nt !== 0;
  for (let g = 0; g < per; g += 8) {
    const js = Array.from({ length: Math.min(8, per - g) }, (_, x) => g + x);
    for (const j of js) {
      lines.push(`let ${tag}e${j} = min(lid + ${u(j * nt)}, ${u(total - 1)});`);
      lines.push(`let ${tag}v${j} = ${srcArr}[${src} + (${tag}e${j} / ${u(kc16)}) * (D / 16u) + ${tag}e${j} % ${u(kc16)}];`);
    }
    for (const j of js) {
      const o = `${tag}o${j}`;
      // xor: u8 codes c become the i8 c - 128 (top bit flipped in every byte).
      const v = xor ? `(${tag}v${j} ^ vec4<u32>(0x80808080u))` : `${tag}v${j}`;
      const body = `let ${o} = (${tag}e${j} / ${u(kc16)}) * SW + (${tag}e${j} % ${u(kc16)}) * 4u; let ${tag}w${j} = ${v}; ${dst}[${o}] = bitcast<ET>(${tag}w${j}.x); ${dst}[${o} + 1u] = bitcast<ET>(${tag}w${j}.y); ${dst}[${o} + 2u] = bitcast<ET>(${tag}w${j}.z); ${dst}[${o} + 3u] = bitcast<ET>(${tag}w${j}.w);`;
      lines.push(guard && (j + 1) * nt > total ? `if (lid + ${u(j * nt)} < ${u(total)}) { ${body} }` : `{ ${body} }`);
    }
  }
  return lines;
}

/**
 * Tensor-core tile through workgroup memory (see shaders/int8_mma_staged.wgsl). With `unroll` the
 * chunk and K-step loops are unrolled, so every workgroup-memory matrix offset is a constant: Dawn
 * then needs no run-time bounds check around the load (measured on the H200: the checked fragment
 * loads ran at about 60 % of the unchecked ones). Queries: 'wg' staged per chunk like the rows,
 * 'storage' loaded as fragments from the buffer, 'whole' already in `wq` for all dims (QSW words a
 * query, written by the caller's prologue).
 */
function stagedTile(s: SelectShape, br: number, bq: number, nt: number, sw: number): string {
  const st = s.stage!;
  const t = s.signed ? 'i8' : 'u8';
  const rt = s.signed ? 'i32' : 'u32';
  const L = `subgroup_matrix_left<${t}, ${s.k}, ${s.m}>`;
  const R = `subgroup_matrix_right<${t}, ${s.n}, ${s.k}>`;
  const A = `subgroup_matrix_result<${rt}, ${s.n}, ${s.m}>`;
  const { load, store } = spell(s);
  const qk = s.quirk ?? DEFAULT_QUIRK;
  const mul = (x: string) => (qk.strideMul === 1 ? x : `${u(qk.strideMul)} * ${x}`);
  const wstride = mul(`${u(sw * 4)}`);
  const qsw = s.dPad / 4 + 4;
  const lines: string[] = ['{'];
  lines.push('  let rowAt16 = t * (D / 16u);');
  lines.push('  let qAt16 = qBlock * BQ * (D / 16u);');
  lines.push('  let qAt = qBlock * BQ * D;');
  for (let i = 0; i < s.rowTiles; i++) for (let j = 0; j < s.queryTiles; j++) lines.push(`  var acc_${i}_${j} = ${A}();`);
  const chunk = (kd: string, kcs: string[], ind: string) => {
    const out: string[] = [];
    out.push(...stageCopy('wr', 'base', `rowAt16 + ${kd} / 16u`, br, st.kc, nt, 'r', st.xorRows).map((l) => ind + l));
    if (st.queries === 'wg') out.push(...stageCopy('wq', 'queries', `qAt16 + ${kd} / 16u`, bq, st.kc, nt, 'q').map((l) => ind + l));
    out.push(ind + 'workgroupBarrier();');
    for (const kc of kcs) {
      out.push(ind + '{');
      for (let i = 0; i < s.rowTiles; i++) out.push(`${ind}  let l${i} = ${load(L, '&wr', `${u(i * s.m * sw * 4)} + ${kc}`, qk.leftColMajor, wstride)};`);
      for (let j = 0; j < s.queryTiles; j++) {
        const r =
          st.queries === 'wg'
            ? load(R, '&wq', `${u(j * s.n * sw * 4)} + ${kc}`, qk.rightColMajor, wstride)
            : st.queries === 'whole'
              ? load(R, '&wq', `${u(j * s.n * qsw * 4)} + ${kd} + ${kc}`, qk.rightColMajor, mul(u(qsw * 4)))
              : load(R, '&queries', `qAt + ${u(j * s.n)} * D + ${kd} + ${kc}`, qk.rightColMajor, mul('D'));
        out.push(`${ind}  let r${j} = ${r};`);
      }
      for (let i = 0; i < s.rowTiles; i++) {
        for (let j = 0; j < s.queryTiles; j++) out.push(`${ind}  acc_${i}_${j} = subgroupMatrixMultiplyAccumulate(l${i}, r${j}, acc_${i}_${j});`);
      }
      out.push(ind + '}');
    }
    out.push(ind + 'workgroupBarrier();');
    return out;
  };
  const steps = Array.from({ length: st.kc / s.k }, (_, x) => x * s.k);
  if (st.unroll) {
    // Each chunk in its own block: the staging lets repeat.
    for (let kd = 0; kd < s.dPad; kd += st.kc) lines.push('  {', ...chunk(u(kd), steps.map(u), '    '), '  }');
  } else {
    lines.push('  for (var kd = 0u; kd < D; kd += KC) {');
    lines.push(...chunk('kd', steps.map(u), '    '));
    lines.push('  }');
  }
  for (let i = 0; i < s.rowTiles; i++) {
    for (let j = 0; j < s.queryTiles; j++) lines.push(`  ${store('&wr', u(i * s.m * bq + j * s.n), `acc_${i}_${j}`, u(bq))};`);
  }
  lines.push('}');
  return lines.join('\n    ');
}
