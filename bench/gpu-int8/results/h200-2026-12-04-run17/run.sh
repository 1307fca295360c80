# gpu-int8 run 17 (one call on nvidia-h200, 2026-12-04): the tensor scorer at 16 / 64 queries, 1M x
# 768, k = 10, k' = 40, where issue 4's 2x torch fp32 is missed at 16 (run 13: 1.82-1.97x in flight;
# run 15: GPU 0.81 ms = 2.04x): 32-dim chunks below bigBatch (tensorTuning.kcSmall 32; run 5 had
# 0.78 / 1.23 against 0.81 / 1.27 ms at 16 / 64 with 32-row tiles at every batch) and 3072
# workgroups below bigBatch (targetWorkgroupsSmall), each against the default, twice, GPU ms from
# timestamps, labels against the first variant's; then nq 16 wall time with timestamps off, one
# search at a time and 2 / 4 in flight, default and kcSmall 32; torch fp32 / fp16 in the same call.
# Then the staged kernel at 32- and 64-dim chunks (the hook's stagedTile code) against a CPU int32
# reference of the same quantised dot products (bench/gpu-tensor, 200K rows, no torch).
# Bundles (carry .device, out/r17, out/t7):
#   npx esbuild bench/gpu-int8/run.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/r17/run.mjs
#   out/t7/bench.mjs: bench/gpu-tensor/bench.ts as for gpu-tensor run 7 (unchanged since)
# On the device: source .device/setup.sh && bash bench/gpu-int8/results/h200-2026-12-04-run17/run.sh
# (N: rows, 1000000; the lavapipe dry run used 5000.)
set -o pipefail
N=${N:-1000000}
INFO=$OUT/info.txt
S0=$SECONDS
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $INFO 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat bench/gpu-int8/results/h200-2026-12-04-run17/COMMIT 2>/dev/null)" >> $INFO
timeout 20 python3 .device/torch_flat_baseline.py --n $N --d 768 --nq 16,64 --k 10 --reps 20 > $OUT/torch.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] torch rc=$?" | tee -a $INFO
V="d:nq=16/64;c32:tkcs=32,nq=16/64;w3:tws=3072,nq=16/64;c32w3:tkcs=32,tws=3072,nq=16/64;d2:nq=16/64;c32b:tkcs=32,nq=16/64"
V="$V;d1w:ts=0,nq=16;dc2:ts=0,conc=2,nq=16;dc4:ts=0,conc=4,nq=16"
V="$V;c1w:tkcs=32,ts=0,nq=16;cc2:tkcs=32,ts=0,conc=2,nq=16;cc4:tkcs=32,ts=0,conc=4,nq=16"
V="$V;dc2b:ts=0,conc=2,nq=16;cc2b:tkcs=32,ts=0,conc=2,nq=16"
timeout 120 node out/r17/run.mjs --n $N --variants "$V" --min-ms 300 --max-reps 300 > $OUT/int8-1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] int8 rc=$?" | tee -a $INFO
NX=$(( N < 200000 ? N : 200000 ))
timeout 90 node out/t7/bench.mjs --n $NX --d 768 --nq 16,64 --k 10 --kp 40 --stages 32p4wgumf,64p4wgumf --layouts mid,large --dot4 0 --copy 0 --out $OUT/x 2>> $OUT/logs.txt | grep -v '^\s*\^\|subgroupMatrix' > $OUT/exact.log; echo "[$((SECONDS-S0)) s] exact rc=$?" | tee -a $INFO
rm -rf $OUT/x
grep -h . $OUT/torch.jsonl | cut -c1-150
grep -E '"what":"(probe-stage|int8)"' $OUT/exact.log | python3 -c "import sys,json;[print({k:o.get(k) for k in ('what','kernel','stage','layout','nq','ms','ok','exact','agree')}) for o in map(json.loads,sys.stdin)]" | cut -c1-200 | tail -16
grep -h -v '^{' $OUT/int8-1m.jsonl | grep -v '^$' | grep -v -i 'warning\|subgroupMatrix\|\^\|Compilation' | tail -22
