# Lead's closing call "fin2" (2026-12-04 ~11:00 UTC): every precision's defaults at the commit in COMMIT
# (after this session's helpers: flat_fused 4x8r / 6x8w at 17-48 queries, merge_one order 2,
# int8_gemv targetOne 528 + sgs, the tensor scorer's shared bounds and 1584 workgroups), each twice,
# against torch in the same call; plus a diagnostic: gpu-int8 call a4 saw the tensor scorer's GPU time
# at 1M x 256 rise 2.3 -> 12 ms variant after variant in one process (gpu-tensor run 17: single slow
# variants). D1: the defaults nine times; D2: a4's workgroup-target changes, then the defaults again;
# D3: D2 with the shared bounds off (tsh 0). Each in its own process.
# Bundles (clean worktree of COMMIT; carry .device, out/fin2):
#   npx esbuild bench/gpu-flat/run.ts ... --outfile=out/fin2/flat.mjs; cp bench/gpu-flat/summary.mjs out/fin2/
#   npx esbuild bench/gpu-tensor/index-21m.ts ... --outfile=out/fin2/int8.mjs
#   (all with --bundle --platform=node --format=esm --loader:.wgsl=text --external:webgpu --ignore-annotations)
# On the device: source .device/setup.sh && bash bench/gpu-flat/results/h200-2026-12-04-fin2/run.sh
set -o pipefail
OUT=${OUT:-/tmp/fin2}; mkdir -p $OUT
B=${B:-out/fin2}
N1=${N1:-1000000}
N21=${N21:-21015324}
T=.device/torch_flat_baseline.py
S0=$SECONDS
el() { echo "[$((SECONDS-S0)) s] $1 rc=$2" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
timeout 60 python3 $T --n $N1 --d 768 --nq 1,16,32,48,64,256,1024 --k 10 --reps 10 --dtypes float16,float32 > $OUT/torch1m.jsonl 2>> $OUT/logs.txt; el torch1m $?
timeout 120 node $B/flat.mjs --n $N1 --nq 1,16,32,48,64,256,1024 --precisions f32 --min-ms 200 --max-reps 40 --oracle-queries 2 --variants 'w:;d:;d_2:' > $OUT/flat1m.jsonl 2>> $OUT/logs.txt; el f32-1m $?
timeout 60 node $B/flat.mjs --n $N1 --nq 1,16,64 --precisions f16 --min-ms 200 --max-reps 40 --oracle-queries 2 --variants 'w:;d:;d_2:' >> $OUT/flat1m.jsonl 2>> $OUT/logs.txt; el f16-1m $?
timeout 90 node $B/int8.mjs --n $N1 --ceilings 1 --unquantised 1 --nq 1,16,64,256,1024 --min-ms 300 --max-reps 40 --variants 'warm:nq=64/256;d;d2' > $OUT/int8-1m.jsonl 2>> $OUT/logs.txt; el int8-1m $?
R="--n $N1 --nq 256 --unquantised 1 --host-rows regen --min-ms 1500 --max-reps 8"
timeout 60 node $B/int8.mjs $R --variants 'warm;d1;d2;d3;d4;d5;d6;d7;d8' > $OUT/diag1.jsonl 2>> $OUT/logs.txt; el diag1 $?
timeout 60 node $B/int8.mjs $R --variants 'warm;d;t1320:twb=1320;t1452:twb=1452;t1584:twb=1584;t1716:twb=1716;t2112:twb=2112;d2;d3;d4' > $OUT/diag2.jsonl 2>> $OUT/logs.txt; el diag2 $?
timeout 60 node $B/int8.mjs $R --variants 'warm:tsh=0;d:tsh=0;t1320:twb=1320,tsh=0;t1452:twb=1452,tsh=0;t1584:twb=1584,tsh=0;t1716:twb=1716,tsh=0;t2112:twb=2112,tsh=0;d2:tsh=0;d3:tsh=0;d4:tsh=0' > $OUT/diag3.jsonl 2>> $OUT/logs.txt; el diag3 $?
timeout 90 python3 $T --n $N21 --d 768 --nq 1,64,256,1024 --k 10 --reps 5 --chunk 4194304 --dtypes float16 > $OUT/torch21m.jsonl 2>> $OUT/logs.txt; el torch21m $?
timeout 150 node $B/int8.mjs --n $N21 --unquantised 1 --nq 1,64,256,1024 --host-rows regen --min-ms 0 --max-reps 3 --variants 'warm:nq=64;d;d2' > $OUT/int8-21m.jsonl 2>> $OUT/logs.txt; el int8-21m $?
node $B/summary.mjs $OUT/torch1m.jsonl $OUT/flat1m.jsonl > $OUT/summary.txt 2>&1
grep -v "artificially\|deprecated\|subgroupMatrix\|^ *\^\|^\s*$\|warning\|Compilation" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
for f in $OUT/int8-1m.jsonl $OUT/diag1.jsonl $OUT/diag2.jsonl $OUT/diag3.jsonl $OUT/int8-21m.jsonl; do grep -v '^{' $f | grep -E '^(variant|[a-z0-9_]+ +[0-9]+ +[0-9]+ )' > $f.txt; done
grep -h . $OUT/torch1m.jsonl $OUT/torch21m.jsonl | cut -c1-130
grep -h ceilings $OUT/int8-1m.jsonl | cut -c1-200
cut -c1-400 $OUT/summary.txt | head -40
for f in $OUT/*.jsonl.txt; do echo "== $f"; cut -c1-75 $f; done
grep -h "self-search\|oracle of\|rror" $OUT/logs.txt | head -8
cat $OUT/info.txt
