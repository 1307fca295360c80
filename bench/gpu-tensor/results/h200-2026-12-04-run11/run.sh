# gpu-tensor run 11 (H200): the scores tile selected 32 rows at a time (workgroup memory a warp:
# 64-row tiles 10.5 -> 7.5 KiB at 64-dim chunks, 5.5 KiB at 32), and the flat insertion, inside
# GpuFlatIndex, 1M x 768, k = 10 (k' = 40), nq 64 / 256 / 1024, GPU ms from timestamps, torch fp16 /
# fp32 in the same call:
#  fl / fl2 (tins=1)            flat insertion (run 10: 1.03-1.04x)
#  h   (tsr=32)                 64-row tiles (256 / 1024) in two 32-row parts
#  hf  (tsr=32,tins=1)          the same with flat (nq 64: flat alone, 32-row tiles)
#  hf32 (tsr=32,tins=1,tkc=32)  ... and 32-dim chunks at 256 / 1024 (5.5 KiB)
#  h4 / h4b (trt=4, nq 64)      64-row tiles in two parts at 64 queries, 32- / 64-dim chunks
# A warm-up variant first (clocks rise during a call's first variants), the default twice.
# Bundle from a clean worktree of COMMIT (carry .device, out/t11):
#   npx esbuild bench/gpu-int8/run.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/t11/run.mjs
# On the device: source .device/setup.sh && bash bench/gpu-tensor/results/h200-2026-12-04-run11/run.sh
set -o pipefail
N=${N:-1000000}
NQ=${NQ:-64,256,1024}
OUT=${OUT:-/tmp/t11}; mkdir -p $OUT
INFO=$OUT/info.txt
S0=$SECONDS
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $INFO 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat bench/gpu-tensor/results/h200-2026-12-04-run11/COMMIT 2>/dev/null)" >> $INFO
timeout 60 python3 .device/torch_flat_baseline.py --n $N --d 768 --nq $NQ --k 10 --reps 10 --dtypes float16,float32 > $OUT/torch.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] torch rc=$?" | tee -a $INFO
V="warm:nq=64/256/1024;d;fl:tins=1;h:tsr=32,nq=256/1024;hf:tsr=32,tins=1;hf32:tsr=32,tins=1,tkc=32,nq=256/1024"
V="$V;h4:tsr=32,tins=1,trt=4,nq=64;h4b:tsr=32,tins=1,trt=4,tkcs=64,nq=64;d2;fl2:tins=1;hf2:tsr=32,tins=1"
timeout ${T_INT8:-240} node out/t11/run.mjs --n $N --nq $NQ --variants "$V" --min-ms 300 --max-reps 40 > $OUT/int8-1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] int8 rc=$?" | tee -a $INFO
grep -h . $OUT/torch.jsonl | cut -c1-160
grep -h -v '^{' $OUT/int8-1m.jsonl | grep -v '^$' | grep -v -i 'warning\|subgroupMatrix\|\^\|Compilation' | tail -40
