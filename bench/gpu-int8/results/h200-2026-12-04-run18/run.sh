# gpu-int8 run 18 (one call on nvidia-h200, 2026-12-04): the tensor scorer's 16-query block
# (tensorTuning.block16: BQ 16, two invocations a query, lists merged at the end of the segment)
# against the 32-query block at 1M x 768, k = 10, k' = 40: GPU ms from timestamps at nq 8 / 12 / 16
# (tmin 8 lets the hook take 8 and 12; default minBatch 16 leaves them to the built-in kernels),
# twice; nq 16 wall time with timestamps off, one search at a time and 2 / 4 searches in flight,
# twice each; labels against the first variant's at each nq; torch fp32 / fp16 in the same call.
# Then check.mjs: the hook kernel alone on 200K random rows, 32- and 16-query blocks with poisoned
# output, lists word for word and the first 3 queries against a CPU integer top-k'.
# Bundles (carry .device, out/r18), from a clean worktree of the commit in COMMIT:
#   npx esbuild bench/gpu-int8/run.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/r18/run.mjs
#   the same for bench/gpu-int8/results/h200-2026-12-04-run18/check.ts -> out/r18/check.mjs
# On the device: source .device/setup.sh && bash bench/gpu-int8/results/h200-2026-12-04-run18/run.sh
# (lavapipe dry run: N=3000 EXP=0 KPC=8.)
set -o pipefail
N=${N:-1000000}
EXP=${EXP:-1}
KPC=${KPC:-40}
INFO=$OUT/info.txt
S0=$SECONDS
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $INFO 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat bench/gpu-int8/results/h200-2026-12-04-run18/COMMIT 2>/dev/null)" >> $INFO
timeout 25 python3 .device/torch_flat_baseline.py --n $N --d 768 --nq 8,12,16 --k 10 --reps 20 > $OUT/torch.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] torch rc=$?" | tee -a $INFO
V="w:nq=16;d:nq=8/12/16;b:tb16=1,tmin=8,nq=8/12/16;o:tmin=8,nq=8/12;d2:nq=16;b2:tb16=1,tmin=8,nq=8/12/16;o2:tmin=8,nq=8/12"
V="$V;d1w:ts=0,nq=16;b1w:tb16=1,ts=0,nq=16;dc2:ts=0,conc=2,nq=16;bc2:tb16=1,ts=0,conc=2,nq=16;dc4:ts=0,conc=4,nq=16;bc4:tb16=1,ts=0,conc=4,nq=16"
V="$V;dc2b:ts=0,conc=2,nq=16;bc2b:tb16=1,ts=0,conc=2,nq=16;dc4b:ts=0,conc=4,nq=16;bc4b:tb16=1,ts=0,conc=4,nq=16"
timeout 150 node out/r18/run.mjs --n $N --experimental $EXP --variants "$V" --min-ms 300 --max-reps 300 > $OUT/int8-1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] int8 rc=$?" | tee -a $INFO
NX=$(( N < 200000 ? N : 200000 ))
timeout 60 node out/r18/check.mjs --n $NX --nq 16,7 --kp $KPC --seg 512 --ref 3 --experimental $EXP > $OUT/check.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] check rc=$?" | tee -a $INFO
grep -h . $OUT/torch.jsonl | cut -c1-150
cat $OUT/check.jsonl
grep -h -v '^{' $OUT/int8-1m.jsonl | grep -v '^$' | grep -v -i 'warning\|subgroupMatrix\|\^\|Compilation' | tail -30
