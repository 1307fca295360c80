# H200 call gm3: flat_gemv_multi (named accumulators, gm2) with the queries staged in workgroup memory
# (mqw: all 8 of a block of 8, the first 8 of 16), 9-16 queries as two blocks of 8 (mq16), 264 workgroups (mtarget) and checks every 3 iterations (mci),
# against the flat_fused default; nq 5 / 8 / 12 / 16 at 1M, 8 / 16 at 21M, f32 / f16, k = 10; torch in the same call. Oracle 2 queries at 1M, 4 rows at 21M.
# Bundle (carry .device, out/gm3):
#   flock /tmp/tessera-build.lock npx esbuild bench/gpu-flat/run.ts --bundle --platform=node --format=esm \
#     --loader:.wgsl=text --external:webgpu --ignore-annotations --outfile=out/gm3/gpu-flat.mjs
#   cp bench/gpu-flat/summary.mjs out/gm3/
# On the device: source .device/setup.sh && bash bench/gpu-flat/results/h200-2026-12-04-gm3/run.sh
# Local dry run (lavapipe): N1=3000 N21=5000 TQ=0 bash bench/gpu-flat/results/h200-2026-12-04-gm3/run.sh
set -o pipefail
OUT=${OUT:-/tmp/gm3-out}; mkdir -p $OUT
D=out/gm3
T=.device/torch_flat_baseline.py
N1=${N1:-1000000}
N21=${N21:-21015324}
TQ=${TQ:-1}
S0=$SECONDS
touch $OUT/t1m.jsonl $OUT/t21m.jsonl $OUT/g1m.jsonl $OUT/g21m.jsonl
el() { echo "$1 rc=$2 t=$((SECONDS-S0))" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader > $OUT/info.txt 2>&1
M="gemvMulti=15"
V1=${V1:-"d:;m:$M;t:$M,mtarget=264;tc:$M,mtarget=264,mci=3;q:$M,mqw=1;qtc:$M,mqw=1,mtarget=264,mci=3;s:$M,mq16=1;sq:$M,mq16=1,mqw=1;sqtc:$M,mq16=1,mqw=1,mtarget=264,mci=3;d2:;m2:$M"}
V21=${V21:-"d:;m:$M;tc:$M,mtarget=264,mci=3;qtc:$M,mqw=1,mtarget=264,mci=3;sqtc:$M,mq16=1,mqw=1,mtarget=264,mci=3;d2:"}
if [ "$TQ" = 1 ]; then timeout 40 python3 $T --n $N1 --d 768 --nq 5,8,12,16 --k 10 --reps 10 > $OUT/t1m.jsonl 2>> $OUT/logs.txt; el torch1m $?; fi
timeout 120 node $D/gpu-flat.mjs --n $N1 --nq 5,8,12,16 --precisions f32,f16 --min-ms 200 --max-reps 40 --oracle-queries 2 --variants "$V1" >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el g1m $?
if [ "$TQ" = 1 ]; then timeout 60 python3 $T --n $N21 --d 768 --nq 8,16 --k 10 --reps 3 --chunk 4194304 > $OUT/t21m.jsonl 2>> $OUT/logs.txt; el torch21m $?; fi
timeout 90 node $D/gpu-flat.mjs --n $N21 --nq 8,16 --precisions f32,f16 --check-rows 4 --min-ms 0 --max-reps 6 --variants "$V21" >> $OUT/g21m.jsonl 2>> $OUT/logs.txt; el g21m $?
{ node $D/summary.mjs $OUT/t1m.jsonl $OUT/g1m.jsonl; node $D/summary.mjs $OUT/t21m.jsonl $OUT/g21m.jsonl; } > $OUT/summary.txt 2>&1
grep -v "artificially" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
grep -h "self-search\|oracle of\|rror" $OUT/logs.txt | head -8
cut -c1-330 $OUT/summary.txt
cat $OUT/info.txt; echo "total t=$((SECONDS-S0))"
