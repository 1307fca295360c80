# The driver's statistics of every pipeline the flat benchmark creates (VK_LAYER_TESSERA_stats, see
# README.md here): both precisions' portable kernels, then the tensor-core ones (allowExperimental:
# f16 with the code plane `c` and converting `h`, f32's digits, int8), over a small N (the kernels
# and their registers do not depend on N). Each pipeline's line falls just before the JSON row of
# the case that compiled it (stdout and stderr share the file; each run's SPIR-V in its own folder:
# the pipeline numbers start again at 1). On the device, from the repo root:
#   B=<folder of flat.mjs> L=<folder of the built layer> W=<output folder> bash bench/shader-stats/device.sh
export VK_LAYER_PATH=$L VK_INSTANCE_LAYERS=VK_LAYER_TESSERA_stats TESSERA_STATS_DIR=$W/stats-files
mkdir -p "$TESSERA_STATS_DIR/portable" "$TESSERA_STATS_DIR/experimental"
common="--n ${STATS_N:-200000} --k 10 --min-ms 20 --max-reps 2 --toggles disable_symbol_renaming"
{
  echo "== portable kernels (allowExperimental off)"
  TESSERA_STATS_DIR=$W/stats-files/portable timeout 60 node "$B/flat.mjs" $common --nq 1,4,8,9,14,16,64,256,1024 --precisions f32,f16 --experimental 0
  echo "== allowExperimental"
  TESSERA_STATS_DIR=$W/stats-files/experimental timeout 60 node "$B/flat.mjs" $common --nq 1,9,16,64,256,1024 --precisions f32,f16,int8 --experimental 1 --variants 'c:tf16c=1;h:tf16c=0'
} > "$W/stats.txt" 2>&1
tar czf "$W/stats-files.tgz" -C "$W" stats-files && rm -rf "$W/stats-files"
unset VK_LAYER_PATH VK_INSTANCE_LAYERS TESSERA_STATS_DIR
echo "stats: $(grep -c 'tessera-stats: pipeline' "$W/stats.txt") pipelines; $(grep -m1 'tessera-stats: device' "$W/stats.txt")"
# One row a pipeline: its case, its source, its workgroup size, the statistics (for the reply's tail).
node bench/shader-stats/identify.mjs "$W/stats.txt" | cut -c1-150 | head -70
