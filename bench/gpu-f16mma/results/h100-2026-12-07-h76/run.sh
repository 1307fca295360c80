# h76: the machine code of three scan2 variants (robustness off), from the driver's disk cache.
OUT=${OUT:-/tmp/h76}; mkdir -p $OUT/nvcache $OUT/r
export __GL_SHADER_DISK_CACHE=1 __GL_SHADER_DISK_CACHE_PATH=$OUT/nvcache __GL_SHADER_DISK_CACHE_SKIP_CLEANUP=1
timeout 100 node out/h75/scan2.mjs --n 1000000 --nq 16 --robust 0 --reps 10 --variants 'reg:4:1:s:4:528,reg:8:1:s:4:264' --out $OUT/r 2>&1 | grep -v "artificially\|deprecated" | grep '"ms"\|error' | cut -c1-300
timeout 100 node out/h75/scan2.mjs --n 1000000 --nq 64 --robust 0 --reps 10 --variants 'reg:4:2:g:4:528' --out $OUT/r 2>&1 | grep -v "artificially\|deprecated" | grep '"ms"\|error' | cut -c1-300
find $OUT/nvcache -type f | wc -l
cd $OUT && tar czf h76.tgz nvcache r && rm -rf nvcache r && ls -la h76.tgz
