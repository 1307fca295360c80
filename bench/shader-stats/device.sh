# The driver's statistics of every pipeline the flat benchmark creates (VK_LAYER_TESSERA_stats, see
# README.md here): both precisions' portable kernels, then the tensor-core ones (allowExperimental:
# f16 with the code plane `c` and converting `h`, f32's digits, int8), over a small N (the kernels
# and their registers do not depend on N). Each pipeline's line falls just before the JSON row of
# the case that compiled it (stdout and stderr share the file). On the device, from the repo root:
#   B=<folder of flat.mjs> L=<folder of the built layer> W=<output folder> bash bench/shader-stats/device.sh
export VK_LAYER_PATH=$L VK_INSTANCE_LAYERS=VK_LAYER_TESSERA_stats TESSERA_STATS_DIR=$W/stats-files
mkdir -p "$TESSERA_STATS_DIR"
common="--n ${STATS_N:-200000} --k 10 --min-ms 20 --max-reps 2 --toggles disable_symbol_renaming"
{
  echo "== portable kernels (allowExperimental off)"
  timeout 45 node "$B/flat.mjs" $common --nq 1,4,8,9,14,16,64,256,1024 --precisions f32,f16 --experimental 0
  echo "== allowExperimental"
  timeout 45 node "$B/flat.mjs" $common --nq 1,9,16,64,256,1024 --precisions f32,f16,int8 --experimental 1 --variants 'c:tf16c=1;h:tf16c=0'
} > "$W/stats.txt" 2>&1
tar czf "$W/stats-files.tgz" -C "$W" stats-files && rm -rf "$W/stats-files"
unset VK_LAYER_PATH VK_INSTANCE_LAYERS TESSERA_STATS_DIR
echo "stats: $(grep -c 'tessera-stats: pipeline' "$W/stats.txt") pipelines; $(grep -m1 'tessera-stats: device' "$W/stats.txt")"
# The distinct register counts a module (by its functions), for the reply's tail.
grep -o 'pipeline [0-9]* \[[^]]*\].*' "$W/stats.txt" | sed -E 's/^pipeline ([0-9]+) \[([^],]*,?[^],]*)[^]]*\] local ([0-9x]+).*[Rr]egister [Cc]ount=([0-9]+).*/\1 \2 \3 regs=\4/' | cut -c1-90 | head -60
