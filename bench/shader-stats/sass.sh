# The machine code NVIDIA's driver compiles for the f16/f32 scan kernels (flat_gemv, flat_gemv_multi's
# blocks of 8 and 16; the f16 conversion's tensor-core kernels), for counting what an inner loop
# issues besides its multiply-adds (sass_loops.py). The driver
# keeps every pipeline it compiles in its shader disk cache; with the cache in W, nvcache.py unpacks
# it afterwards and disassembles each object with nvdisasm where one is found (Triton's, beside
# torch). The statistics layer runs too where L names it, so each pipeline's register count and
# binary size (stats.txt, identify.mjs) tie the objects to the kernels. On the device, from the repo root:
#   B=<folder of flat.mjs> [L=<folder of the built layer>] W=<output folder> bash bench/shader-stats/sass.sh
# Writes W/sass.tgz: the cache as the driver left it, the objects and their disassembly, both runs' output
# (run.txt; stats.txt under the layer). Where the device has no nvdisasm or no zstd decoder (h69: none),
# unpack and disassemble the returned nvcache/ elsewhere: nvcache.py nvcache OUT --disassemble (nvdisasm
# from CUDA 11.8 or later reads SM90; Debian 12: nvidia-cuda-toolkit, non-free).
set -u
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$W/nvcache" "$W/sass"
common="--n ${SASS_N:-200000} --k 10 --min-ms 20 --max-reps 2 --toggles disable_symbol_renaming --experimental 0"
# Under the layer each process numbers its pipelines from p1, so each writes into a folder of its own
# (LF: portable/, experimental/; h69 had the second's p1-p6 over the first's).
cases() {
  echo "== f16 and f32, 1 / 8 / 9 / 16 queries, the defaults; b16: 16 queries as one block of 16"
  TESSERA_STATS_DIR=${LF:+$LF/portable} timeout 90 node "$B/flat.mjs" $common --nq 1,8,9,16 --precisions f16,f32 --variants "d;b16:h16split=17,m16split=17"
  echo "== allowExperimental: f16 converting its halves on the tensor cores (h), 16 and 64 queries"
  TESSERA_STATS_DIR=${LF:+$LF/experimental} timeout 60 node "$B/flat.mjs" ${common/--experimental 0/--experimental 1} --nq 16,64 --precisions f16 --variants "h:tf16c=0"
}
# The cases twice, the same pipelines in the same order: first into the disk cache, without the
# layer (whose capture flags might keep a pipeline out of the cache); then under the layer with the
# disk cache off, so every pipeline is compiled again, its statistics reported and (TESSERA_STATS_CACHE)
# its own pipeline cache's data written (pN-cache.bin): a second way to the same objects.
__GL_SHADER_DISK_CACHE=1 __GL_SHADER_DISK_CACHE_PATH=$W/nvcache __GL_SHADER_DISK_CACHE_SKIP_CLEANUP=1 cases > "$W/sass/run.txt" 2>&1
if [ -n "${L:-}" ]; then
  mkdir -p "$W/sass/layer-files/portable" "$W/sass/layer-files/experimental"
  VK_LAYER_PATH=$L VK_INSTANCE_LAYERS=VK_LAYER_TESSERA_stats __GL_SHADER_DISK_CACHE=0 \
    LF=$W/sass/layer-files TESSERA_STATS_CACHE=1 cases > "$W/sass/stats.txt" 2>&1
fi
find "$W/nvcache" -type f -printf '%s %p\n' > "$W/sass/cache-files.txt"
echo "disk cache: $(wc -l < "$W/sass/cache-files.txt") files, $(du -sh "$W/nvcache" | cut -f1)"
python3 "$here/nvcache.py" "$W/nvcache" "$W/sass/disk" --disassemble > "$W/sass/objects.txt" 2>&1
tail -3 "$W/sass/objects.txt"
for run in portable experimental; do
  if ls "$W/sass/layer-files/$run"/p*-cache.bin > /dev/null 2>&1; then
    python3 "$here/nvcache.py" --scan "$W/sass/pipeline-cache/$run" $(ls -v "$W/sass/layer-files/$run"/p*-cache.bin) --disassemble > "$W/sass/objects-pipeline-cache-$run.txt" 2>&1
    tail -3 "$W/sass/objects-pipeline-cache-$run.txt"
  fi
done
if [ -n "${L:-}" ]; then node "$here/identify.mjs" "$W/sass/stats.txt" | cut -c1-150 | head -30; fi
# Each object's line and its three largest loops (sass_loops.py lists them smallest first).
for f in "$W"/sass/disk/*.sass "$W"/sass/pipeline-cache/*/*.sass; do [ -e "$f" ] && python3 "$here/sass_loops.py" "$f" | { read -r head; echo "$head"; tail -3; }; done 2>/dev/null | cut -c1-200 | head -80
tar czf "$W/sass.tgz" -C "$W" sass nvcache && rm -rf "$W/sass" "$W/nvcache"
ls -la "$W/sass.tgz"
