/**
 * The tensor-core scorer's knobs and config choice (hook.ts plans with them), apart from hook.ts:
 * GpuFlatIndex plans digit planes and lists with them for every index, while hook.ts and its kernel
 * text are loaded only for devices with subgroup matrices (flat-index.ts loadTensorScorer).
 */
import { type MatrixConfig, pickConfig, pickHalfConfig, SUBGROUP_MATRIX_FEATURE } from './choose.js';

/** Knobs of the GpuFlatIndex tensor scorer (benchmarks set them; the defaults are the measured best). */
export const tensorTuning = {
  /**
   * Smallest batch the tensor kernel takes. Measured on the H200 (run 3: 1M x 768, k' = 40, GPU
   * time, built-in kernels after a51b16d in the same process): tensor 3.3 / 6.2 / 18.5 / 54 ms
   * against built-in 3.9 / 15.8 / 39.7 / 104 ms at 16 / 64 / 256 / 1024 queries; at 1 query the
   * built-in flat_gemv wins (1.4 against 2.4 ms). 8 since gpu-int8 run 18 (H200, 1M x 768, k' = 40,
   * GPU ms, same labels): the 32-query block at 8 / 12 queries 0.752 / 0.754 and 0.768 / 0.770
   * against the built-in flat_fused's 1.920 / 3.407 (its time hardly depends on the live queries:
   * 0.78 at 16). 5 since gpu-int8 run 19 (H200, same call as torch, same labels): 0.648 / 0.649 /
   * 0.651 ms at 5 / 6 / 7 queries against flat_fused's 1.540 / 1.609 / 1.654 (torch fp32 1.380 /
   * 1.536 / 1.552: 2.13x-2.38x against 0.90x-0.95x). Up to 4 queries int8_gemv reads each row once.
   */
  minBatch: 5,
  /**
   * Result matrices per subgroup along rows (rows per block = 16 x this), below midBatch queries a
   * shard batch. 2 (32 rows x 32 queries):
   * H200 run 4, in the index with k' = 40, GPU ms at 1 / 16 / 64 / 256 / 1024 queries 0.80 / 1.05 /
   * 1.97 / 5.64 / 19.6 against 0.93 / 1.26 / 2.27 / 6.60 / 23.3 with 4 (the standalone kernel's
   * best at k' = 16): half the accumulators beside 80 registers of lists, so more warps stay resident.
   */
  rowTiles: 2,
  /**
   * rowTiles from bigBatch queries a shard batch (the index searches int8 in batches of up to 512:
   * 1024 queries are two). H200 run 5 (mask selection and prefetch, GPU ms in the index at 16 / 64 /
   * 256 / 1024 queries): 64-row tiles 0.92 / 1.39 / 3.34 / 11.78 against 32-row 0.81 / 1.27 / 3.37 /
   * 12.27; without prefetch 64-row tiles were slower (13.20 at 1024). At 21M and 1024 queries 219
   * against 241 ms; run 6 at 21M and 256 queries 59.09 against 63.02 ms (bigBatch 256 against 512).
   */
  rowTilesBig: 4,
  /**
   * rowTiles from midBatch queries a shard batch up to bigBatch (0: off). 4 (64-row tiles, with
   * kcSmall 32-dim chunks and selectRows 32: 5.5 KiB of workgroup memory a warp) since gpu-tensor run
   * 11 (H200, 1M x 768, nq 64, k' = 40, GPU ms, same call as torch, same labels): 1.060 against
   * 1.208 for 32-row tiles (64-dim chunks 1.103); run 7 had 64-row tiles 1.10x slower at 64 when
   * they held 10.5 KiB. midBatch 32 since run 12 (same call as torch, same labels; with the flat
   * insertion): 0.750 / 1.019 ms at 32 / 48 queries against 0.842-0.849 / 1.170-1.178 (32-row tiles).
   */
  rowTilesMid: 4,
  midBatch: 32,
  /**
   * The matrix shape's N (queries a result matrix) when the adapter lists both: 16, or 8 (M16 N8
   * K32: a 32-query block is 4 result matrices across, twice the multiplies and query-fragment
   * loads of half the size each, the same bytes; not measured before gpu-tensor run 7).
   */
  matrixN: 16 as 8 | 16,
  /** Dims staged per chunk and the padding of staged rows (words): 64 / 4 the fastest standalone variant on the H200. */
  kc: 64,
  /**
   * Dims a chunk below bigBatch queries a shard batch (32-row tiles); 0: kc. H200 run 5 (1M, mask,
   * prefetch, 32-row tiles at every batch): 32-dim chunks 0.78 / 1.23 / 3.60 / 13.65 ms against 0.81 /
   * 1.27 / 3.37 / 12.24 at 16 / 64 / 256 / 1024 queries: better only at the small batches. gpu-int8
   * run 17 (same call, GPU ms in the index, same labels): 0.782 / 1.220 against 0.810 / 1.256 at 16 /
   * 64 queries; nq 16 with 2 / 4 searches in flight 0.816-0.845 ms a search against 0.845-1.054. So 32.
   */
  kcSmall: 32,
  padWords: 4,
  /**
   * How each 32 x 32 scores tile reaches the k' lists (kernel-source.ts StageOptions.select): 'row'
   * (every row inserted in turn: a warp-wide insertion whenever any invocation keeps a row) or 'mask'
   * (survivors of one compare marked first, then only they inserted; the same lists). H200 run 5
   * (1M x 768, k' = 40, 32-row tiles, GPU ms in the index at 16 / 64 / 256 / 1024 queries): row
   * 1.09 / 2.08 / 6.24 / 22.0, mask 0.81 / 1.27 / 3.41 / 12.2; at 21M and 1024 queries 416 against
   * 241 ms. With 'mask', k' = 26 is only 1.05x faster than 40 (it was 1.4x with 'row').
   */
  select: 'mask' as 'row' | 'mask',
  /**
   * Issue the next chunk's global loads before the current chunk's multiplies (StageOptions.prefetch).
   * H200 run 5: no change with 32-row tiles (12.27 / 12.22 ms at 1024 queries with / without), 1.06-
   * 1.12x with 64-row tiles (twice the row loads a chunk): 11.78 against 13.20 ms at 1024.
   */
  prefetch: true,
  /**
   * Chunks ahead whose global loads are in flight during the multiplies (StageOptions.prefetchDepth).
   * 1 is what every call above measured; deeper keeps more bytes in flight a warp at the cost of
   * registers (the f16 conversion at half f32's memory loads at ~1.5 TB/s of the H100's 3.35, h2).
   */
  prefetchDepth: 1,
  /**
   * The next tile's first chunks loaded during the current tile's last ones, so loads stay in flight
   * while the scores tile is selected (StageOptions.prefetchTiles). Off until a device times it.
   */
  prefetchTiles: false,
  /**
   * Warps (32-wide subgroups) a workgroup, each scoring its own 32 queries against rows staged once
   * for all of them (queries 'pre' only; 1 = one warp, the measured default). Matrix offsets come
   * from @builtin(subgroup_id), which Dawn's Tint counts as subgroup-uniform (WGSL language feature
   * subgroup_uniformity); offsets from local_invocation_index were rejected (NOTES item 1). Needs
   * the subgroups feature and 32-wide subgroups; elsewhere the planner keeps one warp. H200 (run
   * "warps", 1M x 768, k' = 40, GPU ms in the index at 64 / 256 / 1024 queries, same lists): 1 warp
   * 1.26 / 3.34 / 11.51; 2 warps 1.50 / 4.06 / 15.22 at 1024 workgroups a tile (1.77 / 4.51 / 16.67
   * at 2048); 4 warps 3.55 / 6.54 / 15.81 at 512 (4.47 / 8.02 / 19.35 at 2048). So 1.
   */
  warps: 1,
  /**
   * With several warps: each warp's multiplies and stores in its own branch on subgroup_id, so the
   * matrix offsets are constants (StageOptions.warpBranch). H200 run 6 (1M x 768, k' = 40, GPU ms in
   * the index at 16 / 64 / 256 / 1024 queries, same lists): 2 warps @1024 workgroups with branches
   * 1.46 / 1.58 / 4.37 / 14.04, without 1.39 / 1.51 / 4.09 / 15.70; one warp 0.80 / 1.27 / 3.36 /
   * 11.68. The constant offsets pay 1.12x at 1024 only, and several warps stay slower: off.
   */
  warpBranch: false,
  /**
   * Where the k' lists live (StageOptions.lists): 'reg' (scalar registers) or 'wg' (workgroup memory,
   * mask selection only; frees 2 k' registers an invocation). H200 run 6, same lists: 'wg' 2.8-5x
   * slower (1M, 1024 queries 42.6 ms; 21M 105 / 228 / 613 against 19.3 / 63.0 / 219 ms at 64 / 256 /
   * 1024): each insertion is a chain of dependent workgroup-memory reads. So 'reg'. 'packed' (mask
   * selection, one warp, not the 16-query block): k' registers of key << bits | slot, the ids in
   * workgroup memory at their slot (written once an insertion, read at the end): half the list
   * registers. gpu-tensor run 9 (H200, 1M, GPU ms in the index): lists of k' = 16 (32 registers
   * instead of 80) were 1.21 / 1.22x faster at 64 / 1024 queries than 40, so registers bind.
   */
  lists: 'reg' as 'reg' | 'wg' | 'packed',
  /**
   * Rows of the scores tile stored and selected at a time (StageOptions.selectRows; 0: the whole
   * tile). 32 with 64-row tiles: the tile's workgroup memory 8 -> 5 KiB (+ 2.5 KiB of staged
   * queries at 64-dim chunks). gpu-tensor runs 9-10 (H200): the hook's speed follows the warps
   * workgroup memory lets an SM hold (held queries, 29-33 KiB, 3.4-4.3x slower; packed lists' 5 KiB
   * more, 1.18-1.30x slower). Mask selection, one warp, one list a query only. 32 since run 11 (1M
   * x 768, k' = 40, flat insertion, GPU ms in the index, same call as torch, same labels): 2.692 /
   * 9.495 ms at 256 / 1024 queries against 3.175 / 11.137 without (1.18 / 1.17x; with the chain
   * insertion 2.846 / 9.936 against 3.324 / 11.527); 32-dim chunks with it slower (2.884 / 10.740).
   */
  selectRows: 32,
  /** Largest k (candidates a query per segment): the lists live in registers. */
  maxK: 64,
  /**
   * How the kernel gets its quantised queries: 'pre' from a pre-pass that quantises the batch once
   * (ChunkScorer pre-pass), staged per chunk beside the rows (~7.5 KiB of workgroup memory, the
   * standalone kernel's staging); 'whole' keeps all dims of its 32 queries in workgroup memory
   * (~33 KiB); 'quant' quantises each staged chunk of dims from the float queries (~11 KiB; needs
   * the subgroups feature). 'auto': 'pre'. Run 3 (H200, GPU ms at 1 / 16 / 64 / 256 / 1024
   * queries, 512 workgroups a dispatch): whole 2.4 / 3.3 / 6.2 / 18.5 / 62, quant 8.7 / 9.8 / 18.0
   * / 38.8 / 54. 'hold': the pre-pass's codes of the block copied once per workgroup into
   * workgroup memory (all dims, ~25 KiB at d = 768) and held for the segment, so each chunk stages
   * only the rows (half the staging loads and stores of 'pre' at 32-row tiles, a third at 64):
   * one warp, 32-query blocks. gpu-tensor run 9 (H200, 1M x 768, k' = 40, GPU ms in the index at
   * 64 / 256 / 1024 queries, same labels): 5.16 / 11.40 / 39.71 against 1.21 / 3.36 / 11.75: the
   * 25 KiB a warp leave an SM 6-7 warps. So 'pre'.
   */
  queries: 'auto' as 'auto' | 'pre' | 'quant' | 'whole' | 'hold',
  /**
   * How a row enters a k' list (StageOptions.insert): 'chain' (a chain of k' dependent selects a
   * pass) or 'flat' (each slot from its own and its neighbour's old entry: two selects deep; the
   * same lists). Not lists 'wg'. gpu-tensor run 9: with all k' compares made first 2 % faster at 64
   * queries and slower at 256 / 1024 (registers); runs 10-11 (each compare right before its two
   * uses; H200, 1M x 768, k' = 40, GPU ms in the index, same labels): 1.171-1.176 / 3.175-3.177 /
   * 11.137-11.167 against 1.208-1.216 / 3.300-3.319 / 11.485-11.492 at 64 / 256 / 1024 queries
   * (1.03-1.04x). From insertFrom queries a shard batch (below: 'chain'). 16 since run 12 (32-row
   * tiles: 0.654 / 0.809 / 1.135 ms at 16 / 32 / 48 queries against 0.667-0.668 / 0.842-0.849 /
   * 1.170-1.178); below 16 not measured.
   */
  insert: 'flat' as 'chain' | 'flat',
  insertFrom: 16,
  /**
   * Workgroups a tile's dispatch aims for: targetWorkgroups from bigBatch queries (a shard's batch:
   * the index searches int8 in sub-batches of 512), targetWorkgroupsSmall below. The index's
   * default (kernelTuning.targetWorkgroups, 512) is sized for 256-invocation workgroups; this
   * kernel's workgroup is one 32-wide subgroup, so 512 of them are ~4 warps an SM of the H200's 132
   * (run 3's in-index rows ran that way: 2.8x slower at 1024 queries). H200 run 4 call 2 (32-row
   * tiles, GPU ms at 1 / 4 / 16 / 64 / 256 / 1024 queries): 1024 workgroups 0.87 / 0.98 / 1.16 / 2.06
   * / 6.23 / 22.2, 2048 1.27 / 1.44 / 1.54 / 2.33 / 6.74 / 19.5 (call 1, 64-row tiles: 4096 slower
   * than 2048 at every batch). With the mask selection (run 5, 16 / 64 / 256 / 1024 queries): 2048
   * 0.81 / 1.27 / 3.41 / 12.2, 1024 0.83 / 1.30 / 3.85 / 14.4: 2048 at every batch the scorer takes.
   * With run 11-12's tiles (64-row tiles in 32-row parts, flat insertion) the best targets moved;
   * gpu-tensor runs 13-14 (1M x 768, k' = 40, GPU ms, same call as torch, same labels, each twice):
   * targetWorkgroupsSmall 1024 at 32 / 48 / 64 / 128 queries 0.624 / 0.891 / 0.895-0.898 / 1.496-1.502
   * against 0.755-0.773 / 1.011-1.021 / 1.052-1.067 / 1.652 at 2048 (768: 0.937, 1280: 1.162, 1536:
   * 1.052 at 64); targetWorkgroups 1536 at 256 / 1024 queries 2.548-2.558 / 9.069-9.131 against
   * 2.710-2.743 / 9.579-9.667 at 2048 (1024 3.080 / 11.40, 1280 2.646 / 9.680, 1408 2.684 / 9.626,
   * 1664 3.067 / 11.04, 1792 2.872 / 10.40, 3072 2.902 / 9.861, 4096 3.106 / 10.58). So an SM holds
   * 12 of these workgroups (1528 fit one wave, 1648 do not): targetWorkgroups 1584 = 12 x 132 since
   * run 16 (198 segments of 5056 rows x 8 blocks at 256 queries, every SM 12 warps; 99 x 16 at 512):
   * 2.500 / 2.485, 8.953 / 8.898 ms at 256 / 1024 against 2.562 / 2.572, 9.142 / 9.113 (with share
   * 8: 2.328 / 2.327, 8.670 / 8.638 against 2.390 / 2.387, 8.836 / 8.808). targetWorkgroupsSmall
   * 1056 (8 an SM x 132; 1188, 9 an SM, took two waves: 1.227 / 1.212 ms at 64) was 1.5-2 % faster
   * at 64 / 128 and 2 % slower at 32: kept at 1024.
   */
  targetWorkgroups: 1584,
  targetWorkgroupsSmall: 1024,
  /**
   * Workgroups a tile's dispatch aims for at up to 16 queries (0: targetWorkgroupsSmall). gpu-int8
   * run 18 call 2 (H200, 1M x 768, nq 16, k' = 40, GPU ms, same labels): 1024 0.699 / 0.670 against
   * 2048 0.781 / 0.782 (1536: 0.791); the 16-query block 0.794 / 0.790 against 0.918. Not measured at
   * 8 / 12 queries or in flight; 17-255 queries keep 2048 (run 5: 1024 slower at 64).
   */
  targetWorkgroupsTiny: 1024,
  /**
   * Shard batch (queries) from which rowTilesBig and targetWorkgroups apply. 256 since run 6 (H200,
   * 21M x 768 in the index, same call: 64-row tiles at 256 queries 59.09 against 63.02 ms GPU, 64 and
   * 1024 queries unchanged; at 1M run 5 had 3.34 against 3.37 ms at 256).
   */
  bigBatch: 256,
  /**
   * Batches of up to 16 queries in a 16-query block (BQ 16: one 16 x 16 result matrix across, two
   * invocations a query, each selecting from alternate rows of the tile, the two lists merged in
   * workgroup memory at the end of the segment) instead of a 32-query block half of padding, for k'
   * up to block16MaxK. Needs 32-wide subgroups, queries 'pre', lists 'reg' and one warp; elsewhere
   * the 32-query block. H200 gpu-int8 run 18 (1M x 768, nq 16, GPU ms in the index, same labels,
   * lists word for word equal to the 32-query block's): k' = 20 0.520 / 0.522 against 0.630 / 0.632;
   * k' = 40 (the index's k' for k = 10) 0.918 / 0.920 / 0.919 against 0.781 / 0.782 / 0.783 (the
   * merge area, 2 x 16 x 2 k' words, grows with k': 10 KiB of workgroup memory at 40).
   */
  block16: true,
  /** Largest k' the 16-query block takes (measured: faster at 20, slower at 40; between, not measured). */
  block16MaxK: 20,
  /**
   * Buckets of shared lower bounds on each query's k'-th best key (StageOptions.share: workgroups of
   * a batch publish their lists' ceil(k' / share)-th key, and rows under the bound are not inserted;
   * same merged lists), from shareFrom queries a shard batch. 0: off. Only with the mask selection,
   * lists 'reg', one warp, one list a query (not the 16-query block). 8 since gpu-tensor run 16
   * (H200, 1M x 768, k' = 40, GPU ms in the index, same call as torch, every variant twice, same
   * labels): 0.578 / 0.582, 0.844 / 0.827, 1.435 / 1.430, 2.390 / 2.387, 8.836 / 8.808 at 32 / 64 /
   * 128 / 256 / 1024 queries against 0.619 / 0.613, 0.901 / 0.901, 1.502 / 1.504, 2.562 / 2.572,
   * 9.142 / 9.113 without (4 buckets: 0.845 / 0.839, 2.413 / 6.011, 8.863 / 11.13 at 64 / 256 /
   * 1024). Run 17 (same call as torch, twice): 16 / 40 buckets 0.840 / 0.829, 0.845 / 0.844 at 64,
   * 2.315, 2.349 at 256, 8.626, 8.832 at 1024 against 0.840, 2.331, 8.657 / 8.654 with 8 (level or
   * slower); below 32 queries (32-query block, k' 40) 0.603 / 0.611, 0.603 / 0.611, 0.623 / 0.613
   * at 8 / 16 / 24 queries against 0.744 / 0.654, 1.271 / 0.654, 1.342 / 0.668 without: shareFrom
   * 0 (every batch the scorer takes; the 16-query block, k' <= 20, has no bounds).
   */
  share: 8,
  shareFrom: 0,
  /** Off switch (tests and benchmarks compare against the built-in kernels). */
  enabled: true,
  /**
   * f16 shards too: the rows' halves are quantised to i8 while staged (per-dimension centres and
   * steps from the rows' ranges, StageOptions.rowsF16), the tensor cores give approximate keys, and
   * the shard re-ranks each query's k' best exactly from the f16 rows on the GPU (approx_rerank.wgsl),
   * so the results are the f16 kernels' up to candidates the int8 keys missed. From f16MinBatch
   * queries a shard batch; fewer stay with flat_gemv / flat_gemv_multi.
   */
  f16: true,
  f16MinBatch: 9,
  /**
   * Converting halves (no code plane): batches up to f16MultiUpTo that the shard's flat_gemv_multi
   * takes (a fixed subgroup size) stay with it. H100 call h37 (1M / 21M x 768, k = 10, GPU ms, ids
   * equal, torch in the same call): its block of 16 0.883 / 0.937 / 1.018 ms at 9 / 10 / 12 queries
   * against the conversion's 1.032 / 1.035 / 1.037 (21M nq 9 / 12 17.39 / 19.98 against 19.68 /
   * 20.20), 1.091 / 1.132 / 1.373 at 13 / 14 / 16 against 1.044 / 1.039 / 1.034. Since h64-h65 its
   * 9-16 are two even blocks: H100 call h66 (1M, same call) 0.977 / 0.982 / 1.097 ms at 13 / 14 / 16
   * against the conversion's 1.039 / 1.040 / 1.032-1.034, so 14 (was 12).
   */
  f16MultiUpTo: 14,
  /**
   * Result matrices a subgroup along rows for f16 batches below bigBatch (in place of rowTiles /
   * rowTilesMid): 2 (32-row tiles, half the staged halves in registers a chunk). gpu-tensor
   * split, H200 call h3 (1M x 768, k' = 40, scoring dispatch ms at 32 / 64 / 128 queries): 0.864 /
   * 1.403 / 2.617 against 1.373 / 2.213 / 2.95 with rowTilesMid's 64-row tiles.
   */
  f16RowTiles: 2,
  /**
   * Warps a workgroup for f16 batches from f16WarpsFrom queries (in place of warps): the warps share
   * each staged chunk of rows, so every row is converted to i8 once per 32 x warps queries instead
   * of once per 32. gpu-tensor calls h12-h13 (H200, 1M x 768, k' = 40, scoring dispatch ms, 1 warp
   * against 2): 5.20 / 10.22 / 20.23 against 4.76 / 8.16 / 15.28 at 256 / 512 / 1024 queries (whole
   * batch 1.08 / 1.22 / 1.31x; 4 warps no better than 2; warpBranch level); at 64 / 128 queries
   * (32-row tiles) 2 warps were slower: 1.573 / 2.859 against 1.286 / 2.408. So 2 from 256.
   */
  f16Warps: 2,
  f16WarpsFrom: 256,
  /**
   * f16 codes' steps: one a dimension ('dims', centred on each dimension's range) or one for all
   * ('uniform', centred on 0: one load a staged chunk instead of eight). Call h3 (as above, 32-row tiles, steps
   * then loaded for every code word): uniform 0.727 / 0.750 / 1.166 ms at 16 / 32 / 64 queries
   * against 0.846 / 0.864 / 1.403; since the loads are once a chunk (call h6) 0.740 against 0.760 at
   * 9 queries. A dimension of larger range than the others coarsens every other one's codes: 'dims'.
   */
  f16Scale: 'dims' as 'dims' | 'uniform',
  /**
   * The f16 conversion's loads (StageOptions.f16Split): each of a copy's two 16-byte loads covers
   * whole 32-byte sectors across the warp. H100 call h12 (GPU ms, alternating, ids equal): level
   * (1M 1.087 / 1.509 at 16 / 64 queries against 1.077-1.086 / 1.519-1.521; 21M 21.36 / 29.61
   * against 21.20-21.39 / 29.80-29.90), so off.
   */
  f16Split: false,
  /**
   * prefetchDepth / prefetchTiles for the f16 conversion (rowsF16, f16 without the code plane: half
   * of f32's memory) below bigBatch queries, in place of the knobs above. From bigBatch (64-row tiles,
   * two warps) the knobs above (off) stay: H100 call h13 (1M, alternating, ids equal), depth 2 and
   * the next tile's chunks 5.88 / 5.87 ms at 256 queries against 5.04 / 5.03, 18.98 / 18.88 at 1024
   * against 17.04 / 17.07. H100 call h12 (GPU ms, same call as torch fp16,
   * ids equal): depth 2 and the next tile's chunks 1M 1.036 / 1.487 ms at 16 / 64 queries against
   * 1.077 / 1.086 and 1.519 / 1.521 (depth 2 alone 1.045 / 1.505, tiles alone 1.084 / 1.491); 21M
   * 20.33 / 29.77 against 21.39 / 21.20 and 29.80 / 29.90 (depth 2 alone 20.51 / 30.06). 2-5% at
   * 16 queries, level at 21M 64: torch fp16 0.735 / 1.146 and 14.75 / 22.40, so still 0.71-0.75x.
   */
  f16PrefetchDepth: 2,
  f16PrefetchTiles: true,
  /**
   * f16 shards with a code plane (planner digits: the rows' i8 codes, a byte a dimension beside
   * their two, made once a version of the rows; StageOptions.signedRows): the kernel reads codes as
   * int8 does instead of converting halves while staging, in int8's shapes, from minBatch queries.
   * Off: the conversion even where the plane is planned (benchmarks). Call f6 (H200, GPU ms, same
   * call as torch fp16): 1M 0.484 / 0.484 / 0.495 / 0.497 / 0.761 / 2.245 / 8.083 at 5 / 8 / 9 / 16 /
   * 64 / 256 / 1024 queries (torch fp16 0.452 / 0.477 / 0.492 / 0.537 / 0.963 / 2.518 / 9.479; the
   * conversion 0.785 / 0.785 / 1.355 / 4.875 / 15.56 from 9; flat_gemv_multi 0.741 / 0.777 at 5 / 8);
   * 21M 9.49 / 14.49 / 43.6 / 166.7 at 16 / 64 / 256 / 1024 (torch fp16 10.86 / 18.48 / 51.89 /
   * 221.8). Ids equal to the f16 kernels' in every case.
   */
  f16Codes: true,
  /**
   * Smallest f16 batch the code plane takes. Call f8 (H200, 1M x 768, GPU ms, same call as torch
   * fp16): 0.477 / 0.478 / 0.476 ms at 2 / 3 / 4 queries against flat_gemv's 0.720 / 0.862 / 1.032
   * (torch fp16 0.443 / 0.448 / 0.455); one query stays on flat_gemv (0.41 ms, 1.06x torch fp16).
   */
  f16CodesMinBatch: 2,
  /**
   * Result matrices a subgroup along rows for f16 batches from the code plane below bigBatch (in
   * place of rowTiles / rowTilesMid). Calls f9-f10 (H200, 1M x 768, k' = 40, GPU ms, same call as
   * torch fp16 0.443 / 0.461 / 0.504 / 0.530 / 0.555 / 0.669 / 0.704): 64-row tiles 0.431 / 0.436 /
   * 0.450 / 0.455 / 0.471 / 0.467 / 0.492 ms at 2 / 4 / 9 / 12 / 16 / 24 / 31 queries against 32-row
   * ones' 0.476 / 0.480 / 0.493 / 0.493 / 0.494 / 0.512 / 0.543 (other dispatch targets and 64-dim
   * chunks slower, f9). int8 keeps rowTiles: its run.ts rows there (host re-rank between searches,
   * clocks falling) were too noisy to decide.
   */
  f16CodesRowTiles: 4,
  /**
   * f16 shards on f16 subgroup matrices where the adapter lists an f16 x f16 -> f32 config and the
   * device has shader-f16 (StageOptions.rowsHalf; Dawn lists them on NVIDIA only under the
   * vulkan_enable_f16_on_nvidia toggle, which a caller's own `gpu` may set): the rows' halves multiplied as
   * they are, no code plane and no conversion (exactly half of f32's GPU memory); the shard re-ranks
   * each query's k' best exactly from the rows (the keys use f16-rounded queries). Where the adapter
   * also lists the i8 config, f16HalfFirst decides: false (default) keeps the code plane / the
   * conversion, measured faster on the H200 (call p2, 1M x 768, GPU ms at 16 / 64 / 256 / 1024
   * queries: f16 matrices 0.932 / 1.548 / 7.52 / 26.8; conversion while staging 0.795 / 1.339 /
   * 6.06 / 15.65; torch fp16 0.554 / 0.965 / 2.51 / 9.41): the staged halves are twice the codes'
   * bytes and K 16 takes twice int8's multiplies. Adapters with f16 configs and no i8 one (Apple's
   * and several others' subgroup matrices) take them. From f16HalfMinBatch queries a shard batch,
   * f16HalfRowTiles result matrices along rows a subgroup below bigBatch (rowTilesBig from there):
   * call p2's 64-row tiles 0.932 ms at 16 queries against 1.097 for 32-row ones.
   */
  f16Half: true,
  f16HalfFirst: false,
  f16HalfMinBatch: 2,
  f16HalfRowTiles: 4,
  /**
   * f16 batches of f16ScanMinBatch to f16ScanMaxBatch queries on the f16 two-pass scan (half-scan.ts,
   * hook.ts planHalfScan) where the index asks for it (IndexOptions.f16TwoPass, by default
   * disableRobustness) and its shard has no code plane; f16Scan forces it (code plane or not: the
   * benchmarks' knob). The adapter must list the f16 x f16 -> f32 M16 N16 K16 config and the device
   * have shader-f16 and 32-wide subgroups (on NVIDIA: Dawn's vulkan_enable_f16_on_nvidia toggle). The
   * rows' halves are read straight from storage (exactly half of f32's memory), before the other f16
   * routes. The shape (H100 calls h83-h92, BENCHMARKS.md): f16ScanWarps warps a workgroup,
   * f16ScanAhead row fragments (steps of 16 dims) loaded ahead a warp (over its f16ScanGroup
   * blocks), f16ScanWorkgroups workgroups a tile where each warp takes one block at a time (4 an SM
   * of the H100's 132; f16ScanGroupWorkgroups, 2 an SM, where it takes a group), the queries staged
   * whole at 16 and f16ScanQueryChunk dims at a time above (Dawn's 48 KiB), in two buffers where they
   * fit (f16ScanDoubleStage: one barrier a chunk, the next chunk's loads behind the multiplies; 32
   * queries 0.933 -> 0.829 ms over 1M, h87), a sample of 1 / f16ScanSampleDiv of the shard's rows
   * (spread over at most f16ScanSampleTiles tiles) in at most f16ScanSampleWorkgroups workgroups,
   * f16ScanCap candidates a query a tile. With robustness on (Dawn's default) Tint's bounds checks
   * make the driver load each half alone (0.60x torch fp16 at 16 queries, h86).
   */
  f16Scan: false,
  f16ScanMinBatch: 9,
  f16ScanMaxBatch: 64,
  f16ScanWarps: 8,
  f16ScanAhead: 8,
  /**
   * 528 since H100 call h94 (one tile of 1M with in-place lists, GPU ms at 9 / 12 / 16 queries, two
   * searches in flight): 0.667-0.668 / 0.668 / 0.672 against 264's 0.681-0.683 / 0.682 / 0.685
   * (396 0.675 / 0.675 / 0.678, 660 0.672 / - / 0.675, 792 0.682). Not yet timed over 21M, whose
   * tiles (1.3M rows) run the same scan a tile.
   */
  f16ScanWorkgroups: 528,
  f16ScanQueryChunk: 128,
  f16ScanSampleDiv: 64,
  f16ScanSampleWorkgroups: 132,
  f16ScanCap: 8192,
  f16ScanDoubleStage: true,
  /** Most tiles the f16 scan's sample spreads over (flat-shard.ts twoPassSamples; 1: the first tile only, as timed through h91). */
  f16ScanSampleTiles: 64,
  /**
   * The sample as one block a workgroup, its warps splitting the block's dims (HalfScanShape.sampleSplit):
   * the whole-row sample keeps each warp on one block for all its steps, a chain of dependent loads
   * too long for the few rows it reads (~40 us over 1M, h92). H100 call h93: the sample 48 against
   * 53 us per-step, the whole pass no faster (with the two knobs below 0.690 against 0.692 ms at 9
   * and 12 queries over 1M). h94: alone 12 us slower over 1M; over 21M with f16ScanRadixHeld 0.8%
   * faster (13.114 against 13.218 ms at 9 queries), not yet timed alone there: off.
   */
  f16ScanSampleSplit: false,
  /**
   * A shard of one tile (1M rows of d = 768 at f16): the selection writes the final lists in place
   * and merge_one's pass over the one list a query is left out (flat-shard.ts TwoPassShape.directList).
   * 16 us a search per-step (h92); whole-pass with two searches in flight, H100 call h94 over 1M,
   * GPU ms at 9 / 16 / 32 / 48 queries: 0.681 / 0.684 / 0.788 / 0.881 against 0.692 / 0.695 /
   * 0.799 / 0.893 without (h93 had seen ~1 us, at 9-16 only).
   */
  f16ScanDirectList: true,
  /**
   * Values each invocation of the threshold and selection kernels keeps in registers across
   * radix_select's 4 rounds (HalfScanShape.radixHeld; 0: every round reads them from storage again,
   * the threshold's strided over the sample's bests). h93: 1-2 us per-step; h94 whole-pass over 1M
   * 0.690-0.691 against 0.692 ms at 9 / 12 queries: 0.
   */
  f16ScanRadixHeld: 0,
  /**
   * The sample's blocks in runs of this many consecutive blocks (HalfScanShape.sampleRun). Over 1M
   * its 984 blocks lie 1.5 MB apart, and its ~38 us did not follow the warps' chain (split 8 ways,
   * h93) nor its size (h86): the guess was address translation, a page a block. h94 over 1M at 9-16
   * queries: runs of 16 / 64 0.692-0.695 ms against 0.692, so not that. 1.
   */
  f16ScanSampleRun: 1,
  /**
   * Blocks of 16 rows a scan warp takes at a time (HalfScanShape.group: 1, 2 or 4) for batches of
   * f16ScanGroupMinBatch queries or more (two query tiles; below, 1), each staged query chunk and
   * right fragment serving them all; f16ScanAhead then counts the row fragments ahead over the
   * group's blocks (steps ahead = f16ScanAhead / group: the registers of one block's). H100 call
   * h92, 21M, GPU ms at 24 / 32 / 48 / 64 queries: 2 blocks (4 steps ahead) 15.01 / 15.04 / 16.63 /
   * 19.36 against one's 15.97 / 16.03 / 18.49 / 20.96 (torch fp16 15.46 / 16.74 / 19.31 / 21.77);
   * at 16 queries 15.18 against 13.56.
   */
  f16ScanGroup: 2,
  f16ScanGroupMinBatch: 17,
  /**
   * Workgroups a tile of the scan whose warps take blocks in groups (f16ScanWorkgroups: one block at a
   * time). h94 at 32 queries over 1M: 528 0.837, 660 0.792, 792 0.794 against 264's 0.788-0.799 ms.
   */
  f16ScanGroupWorkgroups: 264,
  /**
   * f32 shards too: each row value's two i8 digits of its dimension's step, read from the shard's
   * digit planes (StageOptions.rowsF32: 2 bytes a dimension beside the 4 of the rows, made once a
   * version of the rows, for the tiles the planner gave them; tiles without run the f32 kernels),
   * the queries split into two digits by the pre-pass, three tensor products a K step (keys of
   * about 15 bits a dimension); the shard re-ranks each query's k' best exactly from
   * the f32 rows (approx_rerank.wgsl) and certifies that no row outside them can be in the exact
   * top k (approx-rerank.ts uncertifiedF32), else searches that query again with flat_fused /
   * flat_gemv. From f32MinBatch queries a shard batch.
   */
  f32: true,
  /**
   * Call f3 (H200, same call as torch, GPU ms): at 16 queries the tensor path 1.389 ms at 1M
   * (split) and 25.92 at 21M against flat_gemv_multi's 1.631 / 32.41; at 64 / 256 / 1024, 21M:
   * 46.96 / 184.0 / 716.5 against the f32 kernels' 62.62 / 232.5 / 937.1 (torch fp32 58.35 / 226.4
   * / 911.7). 9 until the 9-15 query batches are measured. Where only some tiles have digit planes
   * (planner digitTiles) the batch mixes them with the f32 kernels for the rest from here too: call
   * q1 (21M planned for an 80 GB H100's 79.6 GiB, 19 of 31 tiles with planes, torch fp32 in the same
   * call, twice each) the mix 27.9 / 28.2 / 28.3 / 31.5 / 31.9 ms at 9 / 12 / 16 / 20 / 24 queries
   * against the f32 kernels' 31.2 / 31.6 / 32.2 / 40.2 / 40.4 (torch 32.5 / 33.7 / 34.9 / 40.0 /
   * 42.7); calls p9-p10 had found the mix slower below 32 before the exact tiles selected the
   * caller's k (list_widen.wgsl).
   */
  f32MinBatch: 9,
  /**
   * Result matrices a subgroup along rows for f32 batches (in place of rowTiles / rowTilesMid /
   * rowTilesBig): f32RowTiles below f32RowTilesFrom queries, f32RowTilesBig from there. Call f2
   * (H200, 1M x 768, k' = 40, GPU ms in the index): the int8 shape from bigBatch (64-row tiles, 2
   * warps: two accumulators a result and two digit planes, ~38 KiB of workgroup memory) 14.17 /
   * 48.52 ms at 256 / 1024 against the f32 kernels' 11.18 / 44.71. Call f4 (same call as torch,
   * one warp): 64-row tiles (stored and selected 32 rows at a time) 2.104 / 3.706 / 7.153 / 26.92 ms
   * at 64 / 128 / 256 / 1024 queries against 2.363 / 4.348 / 8.825 / 34.33 with 32-row tiles;
   * below 64, 32-row tiles 1.322 / 1.331 / 1.330 ms at 9 / 12 / 16 (64-row ones not measured there).
   */
  f32RowTiles: 2,
  f32RowTilesBig: 4,
  f32RowTilesFrom: 64,
  /**
   * Warps a workgroup for f32 batches from f32WarpsFrom queries (each staged chunk of digits shared
   * by them). Call f4: 2 warps (32-row tiles) 3.254 / 5.690 / 17.67 / 60.53 ms at 64 / 128 / 256 /
   * 1024 queries against one warp's 2.363 / 4.348 / 8.825 / 34.33: one.
   */
  f32Warps: 1,
  f32WarpsFrom: 256,
};

/** An i8 config the hook's int8 shapes fit (M 16, K 32, N 16 or 8), if the adapter lists one. */
export function int8Config(configs: readonly MatrixConfig[]): MatrixConfig | undefined {
  const c = pickConfig(configs, { signed: true, preferN: tensorTuning.matrixN });
  return c && c.M === 16 && c.K === 32 && (c.N === 16 || c.N === 8) ? c : undefined;
}

/**
 * The f16 config f16 batches take (tensorTuning.f16Half: f16 rows on f16 matrices), or none: the
 * device has shader-f16, the adapter lists f16 x f16 -> f32 (M 16, K 16), and it lists no fitting
 * i8 config unless f16HalfFirst. The planner asks too (no code plane for f16 that takes halves).
 */
export function halfMatrixConfig(features: ReadonlySet<string> | GPUSupportedFeatures, configs: readonly MatrixConfig[]): MatrixConfig | undefined {
  if (!tensorTuning.f16Half || !features.has('shader-f16')) return undefined;
  if (!tensorTuning.f16HalfFirst && int8Config(configs)) return undefined;
  return pickHalfConfig(configs, tensorTuning.matrixN);
}

/**
 * Why the f16 two-pass scan is not asked for a shard, or undefined: the index's f16TwoPass off (and
 * the knob f16Scan, which forces it), or the shard holds a code plane, whose route is faster (H100
 * h87, 1M: 0.486 / 0.752 ms at 16 / 64 queries against the scan's 0.699 / 1.120). hook.ts
 * planHalfScan plans with it; GpuFlatIndex names the route by it.
 */
export function halfScanNotAsked(f16TwoPass: boolean, codePlane: boolean): string | undefined {
  if (!tensorTuning.enabled || !(f16TwoPass || tensorTuning.f16Scan)) return 'f16 two-pass scan off (f16TwoPass, tensorTuning.f16Scan)';
  if (codePlane && tensorTuning.f16Codes && !tensorTuning.f16Scan) return 'the shard has a code plane (digitPlanes), whose route is faster';
  return undefined;
}

/**
 * Why a device cannot run the f16 two-pass scan (src/gpu/tensor/half-scan.ts), or undefined: it
 * needs the subgroup matrices with the f16 x f16 -> f32 M16 N16 K16 config, shader-f16 and 32-wide
 * subgroups. hook.ts planHalfScan plans with it; GpuFlatIndex names the route by it.
 */
export function halfScanDeviceRefusal(features: ReadonlySet<string> | GPUSupportedFeatures, configs: readonly MatrixConfig[], subgroupSize: number): string | undefined {
  for (const feature of [SUBGROUP_MATRIX_FEATURE, 'shader-f16', 'subgroups']) if (!features.has(feature)) return `device lacks ${feature}`;
  if (!configs.some((c) => c.componentType === 'f16' && c.resultComponentType === 'f32' && c.M === 16 && c.N === 16 && c.K === 16)) return 'no f16 x f16 -> f32 M16 N16 K16 config';
  if (subgroupSize !== 32) return `subgroup size ${subgroupSize} (the f16 scan's warps are 32 wide)`;
  return undefined;
}
