# H200 run 8 of bench/gpu-flat (one call): f32 flat_fused block shapes and targets per batch class
# (8x8s with gemmTarget 132-528, 8x8 / 8x8w / 4x8r blocks, mid blocks for nq 9..16), SWZ (8 x 4
# invocation patches per 32-lane subgroup), the GEMM without selection (NOSEL, *NS variants), at 1M;
# then the per-class composition of the fastest (pick.cjs) against the default at 1M (float64
# oracle on the first query) and 21M; torch fp32/fp16 in the same call. Bundle: out/gf8/gpu-flat.mjs
# (esbuild as in BENCHMARKS gpu-flat); carry .device, out/gf8.
set -o pipefail
D=out/gf8
B=$D/gpu-flat.mjs
T=.device/torch_flat_baseline.py
S0=$SECONDS
el() { echo "$1 rc=$2 t=$((SECONDS-S0))" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader | tee $OUT/info.txt
{ echo "tools: $(which nvcc cuobjdump nvdisasm ncu nsys nv-nsight-cu-cli 2>/dev/null | tr '\n' ' ')"; ls -d /usr/local/cuda* /opt/nvidia* 2>&1 | tr '\n' ' '; echo; python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'; ls /usr/lib/x86_64-linux-gnu | grep -i -E "nvidia-(compiler|ptxjit)|nvrtc" | tr '\n' ' '; echo; } >> $OUT/info.txt 2>&1
timeout 40 python3 $T --n 1000000 --d 768 --nq 1,16,64,256,1024 --k 10 --reps 10 > $OUT/t1m.jsonl 2>> $OUT/logs.txt; el torch1m $?
R="--n 1000000 --precisions f32 --min-ms 300 --max-reps 10"
VA="d:;s:swz=6;dNS:nosel=1;e88s:bigF32=8x8s;e88s264:bigF32=8x8s,gt=264;e88s264s:bigF32=8x8s,gt=264,swz=6;e88s396:bigF32=8x8s,gt=396;e88s396s:bigF32=8x8s,gt=396,swz=6;e88s528s:bigF32=8x8s,gt=528,swz=6;e88:bigF32=8x8;e88sw:bigF32=8x8,swz=6;w:bigF32=8x8w;ws:bigF32=8x8w,swz=6;r:bigF32=4x8r;rs:bigF32=4x8r,swz=6;r264s:bigF32=4x8r,gt=264,swz=6;s264:swz=6,gt=264;e88s264NS:bigF32=8x8s,gt=264,nosel=1;e88s264sNS:bigF32=8x8s,gt=264,swz=6,nosel=1;d2:"
timeout 120 node $B $R --nq 64,256,1024 --oracle-queries 1 --variants "$VA" >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el sweepA $?
VB="d:;s:swz=1;dNS:nosel=1;m48:midF32=4x8;m48s:midF32=4x8,swz=1;m48h:midF32=4x8h;m48hs:midF32=4x8h,swz=1;m48w:midF32=4x8w;m48ws:midF32=4x8w,swz=1;m48sNS:midF32=4x8,swz=1,nosel=1;d2:"
timeout 60 node $B $R --nq 1,16 --oracle-queries 1 --variants "$VB" >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el sweepB $?
C=$(node $D/pick.cjs $OUT/g1m.jsonl "$VA;$VB" 2>> $OUT/info.txt); echo "combined: $C" | tee -a $OUT/info.txt
timeout 60 node $B $R --nq 1,16,64,256,1024 --check-rows 4 --oracle-queries 1 --variants "d3:;$C" >> $OUT/g1m.jsonl 2>> $OUT/logs.txt; el comb1m $?
timeout 90 python3 $T --n 21015324 --d 768 --nq 1,16,64,256,1024 --k 10 --reps 10 --chunk 4194304 > $OUT/t21m.jsonl 2>> $OUT/logs.txt; el torch21m $?
timeout 90 node $B --n 21015324 --nq 1,16,64,256,1024 --precisions f32 --check-rows 4 --min-ms 0 --max-reps 3 --variants "d:;$C" >> $OUT/g21m.jsonl 2>> $OUT/logs.txt; el g21m $?
{ node $D/summary.mjs $OUT/t1m.jsonl $OUT/g1m.jsonl; node $D/summary.mjs $OUT/t21m.jsonl $OUT/g21m.jsonl; } > $OUT/summary.txt
grep -v "artificially" $OUT/logs.txt > $OUT/l2 && mv $OUT/l2 $OUT/logs.txt
cut -c1-330 $OUT/summary.txt; cat $OUT/info.txt; echo "total t=$((SECONDS-S0))"
