# H200 call kc1: the multiply loop of flat_fused at nq 32..1024 (1M x 768 f32, k = 10; torch fp32 in
# the same call). Variants (knobs of kernelTuning, NOTES.md "kc1" has the predictions):
#   k8a: KC 8 on 8x8w (48..127 and >= 128 classes) with the candidate slots in the staging area (svs)
#        and heaps of exactly k slots: 32 dims a step, half the barrier pairs, 32 slots a query;
#   k8:  KC 8 with the slots in `sv` (4 a query: what fits 48 KiB);  sv: svs alone at KC 4 (its barrier);
#   g528: gemmTargetL 528 (>= 128 queries: 33 x 16 = 528 workgroups at 1024 = 4 full waves of 132,
#        against 8 x 16 = 128 on 132 SMs); k8ag: k8a + g528;
#   nq 32 (17..47): m8r 32 x 8 of 4 x 8 (32 x 256 blocks; 12 reads a 128 multiply-adds against 8 a 64)
#        at targetWorkgroups 512, m8r1 / m8r2 at 132 / 264, m8rk m8r2 + KC 8 + svs.
# Each timed twice (second pass _2); `w` the warm-up whose ids every variant must equal.
# Bundle (clean worktree of the commit; carry .device, out/b1):
#   npx esbuild bench/gpu-flat/run.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/b1/run.mjs; cp bench/gpu-flat/summary.mjs out/b1/
# On the device: source .device/setup.sh && bash bench/gpu-flat/results/h200-2026-12-04-kc1/run.sh
set -o pipefail
OUT=${OUT:-/tmp/kc1-out}; mkdir -p $OUT
D=${D:-out/b1}
T=.device/torch_flat_baseline.py
N1=${N1:-1000000}
TQ=${TQ:-1}
S0=$SECONDS
touch $OUT/t1m.jsonl $OUT/g1m.jsonl
el() { echo "$1 rc=$2 t=$((SECONDS-S0))" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader > $OUT/info.txt 2>&1
K="kc8=6,svs=6"
VB="w:;d:;k8a:$K;k8:kc8=6;sv:svs=6;g528:gtl=528;k8ag:$K,gtl=528;d_2:;k8a_2:$K;k8_2:kc8=6;sv_2:svs=6;g528_2:gtl=528;k8ag_2:$K,gtl=528"
VM="w:;d:;m8r:midBF32=4x8r;m8r1:midBF32=4x8r,gemmTargetM=132;m8r2:midBF32=4x8r,gemmTargetM=264;m8rk:midBF32=4x8r,gemmTargetM=264,kc8=1,svs=1;d_2:;m8r_2:midBF32=4x8r;m8r1_2:midBF32=4x8r,gemmTargetM=132;m8r2_2:midBF32=4x8r,gemmTargetM=264;m8rk_2:midBF32=4x8r,gemmTargetM=264,kc8=1,svs=1"
if [ "$TQ" = 1 ]; then timeout 60 python3 $T --n $N1 --d 768 --nq 32,64,256,1024 --k 10 --reps 10 --dtypes float32 > $OUT/t1m.jsonl 2>> $OUT/logs.txt; el torch1m $?; fi
timeout 170 node $D/run.mjs --n $N1 --nq 64,256,1024 --precisions f32 --min-ms 200 --max-reps 40 --oracle-queries 2 --variants "$VB" >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el g1mB $?
timeout 60 node $D/run.mjs --n $N1 --nq 32 --precisions f32 --min-ms 200 --max-reps 40 --oracle-queries 2 --variants "$VM" >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el g1mM $?
node $D/summary.mjs $OUT/t1m.jsonl $OUT/g1m.jsonl > $OUT/summary.txt 2>&1
grep -v "artificially" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
grep -h "self-search\|oracle of\|rror" $OUT/logs.txt | head -8
cut -c1-600 $OUT/summary.txt
cat $OUT/info.txt; echo "total t=$((SECONDS-S0))"
