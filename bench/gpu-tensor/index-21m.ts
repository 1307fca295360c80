/**
 * The int8 GpuFlatIndex at 21M through bench/gpu-int8/run.ts (rows generated on the GPU, re-rank
 * rows regenerated on the host, since 21M f32 rows are 64.5 GB), with the tensor scorer's tuning from
 * TENSOR_TUNING (tuning-env.ts, evaluated first): the in-index 21M time of a hook variant.
 *
 *   TENSOR_TUNING='{"select":"mask"}' node out/<dir>/index-21m.mjs --n 21015324 --nq 256,1024 \
 *     --host-rows regen --variants default --min-ms 0 --max-reps 3
 */
import './tuning-env.js';
import '../gpu-int8/run.js';
