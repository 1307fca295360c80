# gpu-tensor run 8 (one call on nvidia-h200, 2026-12-04), torch in the same call:
# (1) 21M x 768 in GpuFlatIndex (rows generated on the GPU, 15.03 GiB of codes, re-rank rows
#     regenerated on the host; GPU ms from timestamps, recall@10 against the f32 index over the same
#     rows, labels against the first variant's): 32-dim chunks below 256 queries (tensorTuning.kcSmall
#     32, the new default from gpu-int8 run 17 at 1M) against 64 (kcSmall 0), each twice, at 16 / 64
#     queries; the defaults at 256 / 1024 (first, as the warm-up); torch fp16 / fp32 at 21M.
# (2) 1M nq = 16 with the new default, 2 / 3 / 4 searches in flight (issue 4's 2x torch fp32), torch
#     fp32 / fp16 at 1M.
# (3) the staged kernel's keys at 32- and 64-dim chunks against a CPU int32 reference (200K rows).
# Bundles (carry .device, out/i21, out/r17, out/t7):
#   npx esbuild bench/gpu-tensor/index-21m.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/i21/index-21m.mjs
#   out/r17/run.mjs, out/t7/bench.mjs: as for gpu-int8 run 17
# On the device: source .device/setup.sh && bash bench/gpu-tensor/results/h200-2026-12-04-run8/run.sh
# (N21 / N1: rows, 21015324 / 1000000; the lavapipe dry run used 4000 / 3000.)
set -o pipefail
N21=${N21:-21015324}
N1=${N1:-1000000}
INFO=$OUT/info.txt
S0=$SECONDS
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $INFO 2>&1
echo "cpus $(nproc); $(free -g | sed -n 2p); node $(node --version); commit $(cat bench/gpu-tensor/results/h200-2026-12-04-run8/COMMIT 2>/dev/null)" >> $INFO
timeout 60 python3 .device/torch_flat_baseline.py --n $N21 --d 768 --nq 16,64,256,1024 --k 10 --reps 5 --chunk 4194304 > $OUT/torch21m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] torch 21M rc=$?" | tee -a $INFO
V="big:nq=1024/256;d:nq=16/64;c0:tkcs=0,nq=16/64;d2:nq=16/64;c0b:tkcs=0,nq=16/64"
timeout 150 node out/i21/index-21m.mjs --n $N21 --host-rows regen --variants "$V" --min-ms 0 --max-reps 5 > $OUT/index21m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] index 21M rc=$?" | tee -a $INFO
timeout 20 python3 .device/torch_flat_baseline.py --n $N1 --d 768 --nq 16 --k 10 --reps 20 > $OUT/torch1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] torch 1M rc=$?" | tee -a $INFO
V1="g:nq=16;c2:ts=0,conc=2,nq=16;c3:ts=0,conc=3,nq=16;c4:ts=0,conc=4,nq=16;c2b:ts=0,conc=2,nq=16;c4b:ts=0,conc=4,nq=16"
timeout 60 node out/r17/run.mjs --n $N1 --variants "$V1" --min-ms 400 --max-reps 600 > $OUT/int8-1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] int8 1M rc=$?" | tee -a $INFO
NX=$(( N1 < 200000 ? N1 : 200000 ))
timeout 60 node out/t7/bench.mjs --n $NX --d 768 --nq 16,64 --k 10 --kp 40 --stages 32p4wgumf,64p4wgumf --layouts mid --dot4 0 --copy 0 --out $OUT/x 2>> $OUT/logs.txt | grep '"what":"\(probe-stage\|int8\|int-reference\)"' > $OUT/exact.log; echo "[$((SECONDS-S0)) s] exact rc=$?" | tee -a $INFO
rm -rf $OUT/x
grep -h . $OUT/torch21m.jsonl $OUT/torch1m.jsonl | cut -c1-130
grep -c '"exact":true' $OUT/exact.log; grep -c '"ok":true' $OUT/exact.log; grep -c '"exact":false\|"ok":false' $OUT/exact.log
grep -h -v '^{' $OUT/index21m.jsonl | grep -v '^$' | grep -v -i 'warning\|subgroupMatrix\|\^\|Compilation' | tail -12
grep -h -v '^{' $OUT/int8-1m.jsonl | grep -v '^$' | grep -v -i 'warning\|subgroupMatrix\|\^\|Compilation' | tail -8
