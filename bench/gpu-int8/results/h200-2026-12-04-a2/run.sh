# gpu-int8 call a2 (2026-12-04): after call a1 (merge_one heads first: 1M int8 nq = 1 0.308 -> 0.259 ms,
# f16 0.444 -> 0.421), the merge's sorts by rank (mergeOneTuning.order 2, the default now; m1ord=1
# is a1's, m1ord=0 the morning's) and int8_gemv's early rank sort (rk=1) with its check interval,
# workgroups, lanes, query bits; f16 and f32 one query with the new merges; 21M int8.
# bench/gpu-int8/nq1.ts as in call a1 (gpu = the shard's pass; split = each dispatch in its own pass).
# Bundle (carry .device, out/a2), from a clean worktree of the commit in COMMIT:
#   npx esbuild bench/gpu-int8/nq1.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/a2/nq1.mjs
# On the device: source .device/setup.sh && bash bench/gpu-int8/results/h200-2026-12-04-a2/run.sh
set -o pipefail
OUT=${OUT:-/tmp/a2}; mkdir -p $OUT
INFO=$OUT/info.txt
S0=$SECONDS
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $INFO 2>&1
echo "cpus $(nproc); node $(node --version)" >> $INFO
timeout 40 python3 .device/torch_flat_baseline.py --n 1000000 --d 768 --nq 1 --k 10 --reps 20 --dtypes float16,float32 > $OUT/torch1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] torch 1M rc=$?" | tee -a $INFO
V="warm:rk=1;old:m1ord=0;o1:m1ord=1;d;rk:rk=1;rkc6:rk=1,ci=6;rkc12:rk=1,ci=12;rk528:rk=1,gt=528;g528:gt=528;rkq8:rk=1,qbits=8"
V="$V;rksp:rk=1,sp=256,ci=6;rkl32:rk=1,lanes=32;rkl8:rk=1,lanes=8;rk1056:rk=1,gt=1056;rkone:rk=1,m1fan=1024;rkru1:rk=1,ru=1"
V="$V;old2:m1ord=0;o1b:m1ord=1;d2;rk2:rk=1;rkc6b:rk=1,ci=6;rk528b:rk=1,gt=528;g528b:gt=528;rkc12b:rk=1,ci=12"
timeout 150 node out/a2/nq1.mjs --n 1000000 --ceil 1 --precisions int8 --reps 60 --variants "$V" > $OUT/int8-1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] int8 1M rc=$?" | tee -a $INFO
V="warm;old:m1ord=0;o1:m1ord=1;d;one:m1fan=1024;old2:m1ord=0;o1b:m1ord=1;d2"
timeout 90 node out/a2/nq1.mjs --n 1000000 --precisions f16,f32 --reps 60 --variants "$V" > $OUT/f16-f32-1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] f16/f32 1M rc=$?" | tee -a $INFO
V="warm:rk=1;old:m1ord=0;d;rk:rk=1;rkc6:rk=1,ci=6;rk528:rk=1,gt=528;old2:m1ord=0;d2;rk2:rk=1;rkc6b:rk=1,ci=6"
timeout 150 node out/a2/nq1.mjs --n 21015324 --precisions int8 --reps 10 --wall 0 --variants "$V" > $OUT/int8-21m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] int8 21M rc=$?" | tee -a $INFO
grep -h . $OUT/torch1m.jsonl | cut -c1-200
grep -h '"case":"ceilings"\|"case":"base"' $OUT/*.jsonl | cut -c1-300
grep -h -v '^{' $OUT/logs.txt | grep -E '^(int8|f16|f32) ' | sed -e 's/"[0-9]*:scan":[0-9.]*,//g' | cut -c1-240
grep -h 'error\|NOT-SAME\|DIFF' $OUT/*.jsonl $OUT/logs.txt | cut -c1-200 | head; true
