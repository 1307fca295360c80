# H200 call kc4: 6 x 8 tiles (6x8w: 32 x 8 invocations, 48 x 256 blocks, 48 accumulators an invocation)
# for 33..63 queries (one 48-query block instead of 64 slots) and, exploratory, from 128 (`s6L`), at 132 or
# 264 workgroups (`g`: two workgroups an SM if the smaller tile frees registers). 1M x 768 f32, k = 10,
# torch fp32 in the same call; each variant twice (_2); `w` the warm-up (ids all must equal). NOTES "kc4".
# Bundle (clean worktree of the commit; carry .device, out/b1):
#   npx esbuild bench/gpu-flat/run.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/b1/run.mjs; cp bench/gpu-flat/summary.mjs out/b1/
# On the device: source .device/setup.sh && bash bench/gpu-flat/results/h200-2026-12-04-kc4/run.sh
set -o pipefail
OUT=${OUT:-/tmp/kc4-out}; mkdir -p $OUT
D=${D:-out/b1}
T=.device/torch_flat_baseline.py
N1=${N1:-1000000}
TQ=${TQ:-1}
S0=$SECONDS
touch $OUT/t1m.jsonl $OUT/g1m.jsonl
el() { echo "$1 rc=$2 t=$((SECONDS-S0))" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader > $OUT/info.txt 2>&1
S="s6:midBF32L=6x8w,bigF32=6x8w;s6g:midBF32L=6x8w,bigF32=6x8w,gemmTargetM=264,gt=264"
L="s6L:bigF32L=6x8w;s6Lg:bigF32L=6x8w,gtl=264"
VS="w:;d:;$S;d_2:;$(echo "$S" | sed 's/\([a-z0-9]*\):/\1_2:/g')"
VL="w:;d:;$L;d_2:;$(echo "$L" | sed 's/\([a-zA-Z0-9]*\):/\1_2:/g')"
if [ "$TQ" = 1 ]; then timeout 60 python3 $T --n $N1 --d 768 --nq 40,47,48,64,256,1024 --k 10 --reps 10 --dtypes float32 > $OUT/t1m.jsonl 2>> $OUT/logs.txt; el torch1m $?; fi
timeout 100 node $D/run.mjs --n $N1 --nq 40,47,48,64 --precisions f32 --min-ms 200 --max-reps 40 --oracle-queries 2 --variants "$VS" >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el g1mS $?
timeout 100 node $D/run.mjs --n $N1 --nq 256,1024 --precisions f32 --min-ms 200 --max-reps 40 --oracle-queries 2 --variants "$VL" >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el g1mL $?
node $D/summary.mjs $OUT/t1m.jsonl $OUT/g1m.jsonl > $OUT/summary.txt 2>&1
grep -v "artificially" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
grep -h "self-search\|oracle of\|rror" $OUT/logs.txt | head -8
cut -c1-500 $OUT/summary.txt
cat $OUT/info.txt; echo "total t=$((SECONDS-S0))"
