/**
 * `//#include NAME` for the WGSL kernels: declarations that several kernels share live once under
 * shaders/ (the flat_common parts), and each kernel includes the parts it uses. Used by flat-shard.ts
 * (wgslVariant, merge_lists), merge-one.ts, int8-gemv.ts and tensor/kernel-source.ts; the texts are bundled as strings.
 */
import candidateSortWgsl from '../../shaders/candidate_sort.wgsl';
import commonWgsl from '../../shaders/flat_common.wgsl';
import heapWgsl from '../../shaders/flat_heap.wgsl';
import orderWgsl from '../../shaders/flat_order.wgsl';
import paramsWgsl from '../../shaders/flat_params.wgsl';
import mergeParamsWgsl from '../../shaders/merge_params.wgsl';
import mergeSortWgsl from '../../shaders/merge_sort.wgsl';
import subgroupSortWgsl from '../../shaders/subgroup_sort.wgsl';

const wgslIncludes: Record<string, string> = {
  flat_common: commonWgsl,
  flat_params: paramsWgsl,
  flat_order: orderWgsl,
  flat_heap: heapWgsl,
  merge_params: mergeParamsWgsl,
  merge_sort: mergeSortWgsl,
  candidate_sort: candidateSortWgsl,
  subgroup_sort: subgroupSortWgsl,
};

/**
 * Replaces each `//#include NAME` line by the lines of that file, less its `//!` lines (notes for the
 * reader of the include file); included files may include others.
 */
export function expandWgslIncludes(src: string, depth = 0): string {
  return src.replace(/^[ \t]*\/\/#include ([a-z_]+)[ \t]*(?:\n|$)/gm, (_line, name: string) => {
    const text = wgslIncludes[name];
    if (text === undefined) throw new Error(`WGSL //#include ${name}: no such file`);
    if (depth >= 4) throw new Error(`WGSL //#include ${name}: nested too deep`);
    return expandWgslIncludes(withoutNotes(text), depth + 1);
  });
}

/** An include file's text less its `//!` lines (for includes a lazily loaded kernel keeps to itself, e.g. tensor/half-scan.ts's radix_select). */
export function withoutNotes(text: string): string {
  return text.replace(/^[ \t]*\/\/!.*(?:\n|$)/gm, '');
}
