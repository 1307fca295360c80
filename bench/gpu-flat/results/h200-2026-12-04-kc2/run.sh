# H200 call kc2: after kc1 (NOTES.md "kc1 outcome", "kc2 prediction"). 1M x 768 f32, k = 10, torch fp32
# in the same call. nq 64 / 256 / 1024: `sv` svs at KC 4 (now a vec4 a slot), `k8a` KC 8 + svs,
# `kc2` 8x8w at KC 2, 512-invocation blocks `x` (8x8x, 128 x 256, >= 128 queries) and `t` (8x8t,
# 64 x 512, from 48), `xs` / `ts` with svs. nq 20 / 32 / 40: `m8r1` (4x8r at 132 workgroups), with
# svs (`m8r1s`), with KC 8 + svs (`m8r1k`). Each twice (_2); `w` the warm-up whose ids all must equal.
# Bundle (clean worktree of the commit; carry .device, out/b1):
#   npx esbuild bench/gpu-flat/run.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/b1/run.mjs; cp bench/gpu-flat/summary.mjs out/b1/
# On the device: source .device/setup.sh && bash bench/gpu-flat/results/h200-2026-12-04-kc2/run.sh
set -o pipefail
OUT=${OUT:-/tmp/kc2-out}; mkdir -p $OUT
D=${D:-out/b1}
T=.device/torch_flat_baseline.py
N1=${N1:-1000000}
TQ=${TQ:-1}
S0=$SECONDS
touch $OUT/t1m.jsonl $OUT/g1m.jsonl
el() { echo "$1 rc=$2 t=$((SECONDS-S0))" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader > $OUT/info.txt 2>&1
P="sv:svs=6;k8a:kc8=6,svs=6;kc2:kc=2;x:bigF32L=8x8x;xs:bigF32L=8x8x,svs=4;t:bigF32=8x8t,bigF32L=8x8t;ts:bigF32=8x8t,bigF32L=8x8t,svs=6"
P2=$(echo "$P" | sed 's/\([a-z0-9]*\):/\1_2:/g')
VB="w:;d:;$P;d_2:;$P2"
M="m8r1:midBF32=4x8r,gemmTargetM=132;m8r1s:midBF32=4x8r,gemmTargetM=132,svs=1;m8r1k:midBF32=4x8r,gemmTargetM=132,kc8=1,svs=1"
M2=$(echo "$M" | sed 's/\([a-z0-9]*\):/\1_2:/g')
VM="w:;d:;$M;d_2:;$M2"
if [ "$TQ" = 1 ]; then timeout 60 python3 $T --n $N1 --d 768 --nq 20,32,40,64,256,1024 --k 10 --reps 10 --dtypes float32 > $OUT/t1m.jsonl 2>> $OUT/logs.txt; el torch1m $?; fi
timeout 200 node $D/run.mjs --n $N1 --nq 64,256,1024 --precisions f32 --min-ms 200 --max-reps 40 --oracle-queries 2 --variants "$VB" >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el g1mB $?
timeout 90 node $D/run.mjs --n $N1 --nq 20,32,40 --precisions f32 --min-ms 200 --max-reps 40 --oracle-queries 2 --variants "$VM" >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el g1mM $?
node $D/summary.mjs $OUT/t1m.jsonl $OUT/g1m.jsonl > $OUT/summary.txt 2>&1
grep -v "artificially" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
grep -h "self-search\|oracle of\|rror" $OUT/logs.txt | head -8
cut -c1-700 $OUT/summary.txt
cat $OUT/info.txt; echo "total t=$((SECONDS-S0))"
