# gpu-tensor run 12 (run by the lead ~07:10 UTC, with the gpu-flat call fin: the final f32 defaults
# at 1M and f16 at one query with other merge fans, lines marked 'fin'; written ~06:45 UTC). What run 11 left open, torch in the same call:
#  1. 21M x 768 at 64 / 256 / 1024 queries with the run-11 defaults against the old kernels
#     (old: tsr=0,tins=0,tmid=0): run 8 had 0.95 / 0.88 / 1.01x torch fp16 there;
#  2. 1M at 16 / 32 / 48 queries: the flat insertion below 64 (tinf=0) and 64-row tiles in two
#     parts from 32 queries (tmid=32), against the defaults (below 64: the pre-run-11 kernels).
# Bundle (carry .device, out/t12):
#   npx esbuild bench/gpu-tensor/index-21m.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/t12/index-21m.mjs
#   npx esbuild bench/gpu-int8/run.ts ... --outfile=out/t12/run.mjs
#   fin: npx esbuild bench/gpu-flat/run.ts ... --outfile=out/t12/gpu-flat.mjs; cp bench/gpu-flat/summary.mjs out/t12/
# On the device: source .device/setup.sh && bash bench/gpu-tensor/results/h200-2026-12-04-run12/run.sh
set -o pipefail
OUT=${OUT:-/tmp/t12}; mkdir -p $OUT
N21=${N21:-21015324}
S0=$SECONDS
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
timeout 60 python3 .device/torch_flat_baseline.py --n 1000000 --d 768 --nq 16,32,48,64,256,1024 --k 10 --reps 10 --dtypes float16,float32 > $OUT/torch1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] torch 1M rc=$?" | tee -a $OUT/info.txt
V="warm:nq=16/32/48/64;d:nq=16/32/48/64;fl:tinf=0,nq=16/32/48;m32:tmid=32,nq=32/48;m32f:tmid=32,tinf=0,nq=32/48;d2:nq=16/32/48/64"
# 3. registers next? (run 11: 7.5 KiB a warp gave less than the workgroup memory predicted) the
#    defaults at 256 / 1024 without prefetch (48 fewer registers at 64-row, 64-dim chunks).
V="$V;db:nq=256/1024;npf:tpf=0,nq=256/1024;db2:nq=256/1024"
timeout 120 node out/t12/run.mjs --n 1000000 --variants "$V" --min-ms 300 --max-reps 40 > $OUT/int8-1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] int8 1M rc=$?" | tee -a $OUT/info.txt
# fin (gpu-flat): torch nq 1 for f16, then the f32 defaults (TSEL + ROT, 8x8w from 48) at 16-1024 and
# f16 one query with merge_one in one level (fan 600 > 528 lists) or 8 lists a workgroup.
timeout 20 python3 .device/torch_flat_baseline.py --n 1000000 --d 768 --nq 1 --k 10 --reps 20 >> $OUT/torch1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] fin torch nq 1 rc=$?" | tee -a $OUT/info.txt
timeout 90 node out/t12/gpu-flat.mjs --n 1000000 --min-ms 200 --max-reps 40 --oracle-queries 2 --nq 16,32,64,256,1024 --precisions f32 --variants "warm:;d:;d2:" > $OUT/gflat1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] fin f32 rc=$?" | tee -a $OUT/info.txt
timeout 40 node out/t12/gpu-flat.mjs --n 1000000 --min-ms 200 --max-reps 60 --oracle-queries 1 --nq 1 --precisions f16 --variants "warm:;d:;m1:mergeOneFan=600;m8:mergeOneFan=8;d2:;m1b:mergeOneFan=600" >> $OUT/gflat1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] fin f16 rc=$?" | tee -a $OUT/info.txt
node out/t12/summary.mjs $OUT/torch1m.jsonl $OUT/gflat1m.jsonl 2>&1 | cut -c1-260 | grep -v "^torch"
timeout 120 python3 .device/torch_flat_baseline.py --n $N21 --d 768 --nq 64,256,1024 --k 10 --reps 5 --chunk 4194304 --dtypes float16 > $OUT/torch21m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] torch 21M rc=$?" | tee -a $OUT/info.txt
timeout 240 node out/t12/index-21m.mjs --n $N21 --nq 64,256,1024 --host-rows regen --min-ms 0 --max-reps 3 \
  --variants 'warm:nq=64;d;old:tsr=0,tins=0,tmid=0;d2' > $OUT/index21m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] int8 21M rc=$?" | tee -a $OUT/info.txt
grep -h . $OUT/torch1m.jsonl $OUT/torch21m.jsonl | cut -c1-150
grep -h -v '^{' $OUT/int8-1m.jsonl $OUT/index21m.jsonl | grep -v '^$' | grep -v -i 'warning\|subgroupMatrix\|\^\|Compilation' | tail -40
