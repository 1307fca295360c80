# The machine code NVIDIA's driver compiles for the f16/f32 scan kernels (flat_gemv, flat_gemv_multi's
# blocks of 8 and 16; the f16 conversion's tensor-core kernels), for counting what an inner loop
# issues besides its multiply-adds (sass_loops.py). The driver
# keeps every pipeline it compiles in its shader disk cache; with the cache in W, nvcache.py unpacks
# it afterwards and disassembles each object with nvdisasm where one is found (Triton's, beside
# torch). The statistics layer runs too where L names it, so each pipeline's register count and
# binary size (stats.txt, identify.mjs) tie the objects to the kernels. On the device, from the repo root:
#   B=<folder of flat.mjs> [L=<folder of the built layer>] W=<output folder> bash bench/shader-stats/sass.sh
# Writes W/sass.tgz (the objects, their disassembly, stats.txt, the cache's file list).
set -u
mkdir -p "$W/nvcache" "$W/sass"
export __GL_SHADER_DISK_CACHE=1 __GL_SHADER_DISK_CACHE_PATH=$W/nvcache __GL_SHADER_DISK_CACHE_SKIP_CLEANUP=1
if [ -n "${L:-}" ]; then export VK_LAYER_PATH=$L VK_INSTANCE_LAYERS=VK_LAYER_TESSERA_stats; fi
common="--n ${SASS_N:-200000} --k 10 --min-ms 20 --max-reps 2 --toggles disable_symbol_renaming --experimental 0"
{
  echo "== f16 and f32, 1 / 8 / 9 / 16 queries, the defaults; b16: 16 queries as one block of 16"
  timeout 90 node "$B/flat.mjs" $common --nq 1,8,9,16 --precisions f16,f32 --variants "d;b16:h16split=17,m16split=17"
  echo "== allowExperimental: f16 converting its halves on the tensor cores (h), 16 and 64 queries"
  timeout 60 node "$B/flat.mjs" ${common/--experimental 0/--experimental 1} --nq 16,64 --precisions f16 --variants "h:tf16c=0"
} > "$W/sass/stats.txt" 2>&1
unset VK_LAYER_PATH VK_INSTANCE_LAYERS __GL_SHADER_DISK_CACHE_PATH
find "$W/nvcache" -type f -printf '%s %p\n' > "$W/sass/cache-files.txt"
python3 "$(dirname "$0")/nvcache.py" "$W/nvcache" "$W/sass" --disassemble > "$W/sass/objects.txt" 2>&1
tail -5 "$W/sass/objects.txt"
echo "tools: $(python3 -c 'import triton, os; print(os.path.dirname(triton.__file__))' 2>&1 | tail -1)"
if [ -n "${L:-}" ]; then node bench/shader-stats/identify.mjs "$W/sass/stats.txt" | cut -c1-150 | head -30; fi
tar czf "$W/sass.tgz" -C "$W" sass && rm -rf "$W/sass" "$W/nvcache"
ls -la "$W/sass.tgz"
