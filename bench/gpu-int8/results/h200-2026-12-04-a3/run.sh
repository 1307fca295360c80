# gpu-int8 call a3 (2026-12-04): merge_one's sorts of <= 256 pairs in registers through subgroup
# shuffles (mergeOneTuning.order 2, the default now; m1ord=1 = call a1's merge, m1ord=0 = the
# morning's), one merge level with them (m1fan), int8_gemv at 528 workgroups (gt=528: a2 measured
# its scan 1 % faster); int8 / f16 / f32 one query at 1M, int8 at 21M. torch fp16 / fp32 in the call.
# bench/gpu-int8/nq1.ts as in calls a1-a2 (gpu = the shard's pass; split = each dispatch in its own pass).
# Bundle (carry .device, out/a3), from a clean worktree of the commit in COMMIT:
#   npx esbuild bench/gpu-int8/nq1.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/a3/nq1.mjs
# On the device: source .device/setup.sh && bash bench/gpu-int8/results/h200-2026-12-04-a3/run.sh
set -o pipefail
OUT=${OUT:-/tmp/a3}; mkdir -p $OUT
INFO=$OUT/info.txt
S0=$SECONDS
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $INFO 2>&1
echo "cpus $(nproc); node $(node --version)" >> $INFO
timeout 40 python3 .device/torch_flat_baseline.py --n 1000000 --d 768 --nq 1 --k 10 --reps 20 --dtypes float16,float32 > $OUT/torch1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] torch 1M rc=$?" | tee -a $INFO
V="warm;old:m1ord=0;o1:m1ord=1;d;g528:gt=528;o1g528:m1ord=1,gt=528;one:m1fan=1024;f64l:m1fan=64;f16l:m1fan=16"
V="$V;old2:m1ord=0;o1b:m1ord=1;d2;g528b:gt=528;oneb:m1fan=1024;d3"
timeout 120 node out/a3/nq1.mjs --n 1000000 --ceil 1 --precisions int8 --reps 60 --variants "$V" > $OUT/int8-1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] int8 1M rc=$?" | tee -a $INFO
V="warm;old:m1ord=0;o1:m1ord=1;d;one:m1fan=1024;old2:m1ord=0;o1b:m1ord=1;d2"
timeout 90 node out/a3/nq1.mjs --n 1000000 --precisions f16,f32 --reps 60 --variants "$V" > $OUT/f16-f32-1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] f16/f32 1M rc=$?" | tee -a $INFO
V="warm;old:m1ord=0;o1:m1ord=1;d;g528:gt=528;old2:m1ord=0;o1b:m1ord=1;d2;g528b:gt=528"
timeout 120 node out/a3/nq1.mjs --n 21015324 --precisions int8 --reps 10 --wall 0 --variants "$V" > $OUT/int8-21m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] int8 21M rc=$?" | tee -a $INFO
grep -h . $OUT/torch1m.jsonl | cut -c1-200
grep -h '"case":"ceilings"\|"case":"base"' $OUT/*.jsonl | cut -c1-300
grep -h -v '^{' $OUT/logs.txt | grep -E '^(int8|f16|f32) ' | sed -e 's/"[0-9]*:scan":[0-9.]*,//g' | cut -c1-240
grep -h 'error\|NOT-SAME\|DIFF' $OUT/*.jsonl $OUT/logs.txt | cut -c1-200 | head; true
