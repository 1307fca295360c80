# gpu-int8 call a4 (2026-12-04): the defaults after calls a1-a3 (merge_one order 2, int8_gemv at
# 528 workgroups for one query) against the morning's (old: m1ord=0, gt=512), and int8_gemv's early
# first sort with its one-query sorts in registers through subgroup shuffles (sgs=1), with fewer
# buffer checks (ci 6 / 12). 1M and 21M, one query; the int8 read floor from the call's read kernel.
# Secondary: the tensor scorer at 1M x 256 queries against its workgroup target (twb, default 1536),
# GPU ms unquantised, torch fp16 at nq 256 in the call.
# Bundles (carry .device, out/a4), from a clean worktree of the commit in COMMIT:
#   npx esbuild bench/gpu-int8/nq1.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/a4/nq1.mjs
#   npx esbuild bench/gpu-int8/run.ts ... --outfile=out/a4/run.mjs
# On the device: source .device/setup.sh && bash bench/gpu-int8/results/h200-2026-12-04-a4/run.sh
set -o pipefail
OUT=${OUT:-/tmp/a4}; mkdir -p $OUT
INFO=$OUT/info.txt
S0=$SECONDS
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $INFO 2>&1
echo "cpus $(nproc); node $(node --version)" >> $INFO
timeout 40 python3 .device/torch_flat_baseline.py --n 1000000 --d 768 --nq 1,256 --k 10 --reps 20 --dtypes float16,float32 > $OUT/torch1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] torch 1M rc=$?" | tee -a $INFO
V="warm;old:m1ord=0,gt=512;d;sgs:sgs=1;sgsc6:sgs=1,ci=6;sgsc12:sgs=1,ci=12;c6:ci=6;old2:m1ord=0,gt=512;d2;sgs2:sgs=1;sgsc6b:sgs=1,ci=6;d3"
timeout 100 node out/a4/nq1.mjs --n 1000000 --ceil 1 --precisions int8 --reps 60 --variants "$V" > $OUT/int8-1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] int8 1M rc=$?" | tee -a $INFO
V="warm;old:m1ord=0,gt=512;d;sgs:sgs=1;sgsc6:sgs=1,ci=6;old2:m1ord=0,gt=512;d2;sgs2:sgs=1"
timeout 100 node out/a4/nq1.mjs --n 21015324 --precisions int8 --reps 10 --wall 0 --variants "$V" > $OUT/int8-21m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] int8 21M rc=$?" | tee -a $INFO
V="warm:nq=256;d;t1320:twb=1320;t1452:twb=1452;t1584:twb=1584;t1716:twb=1716;t1848:twb=1848;t2112:twb=2112;d2;t1452b:twb=1452;t1584b:twb=1584"
timeout 120 node out/a4/run.mjs --n 1000000 --nq 256 --unquantised 1 --host-rows regen --min-ms 1500 --max-reps 8 --variants "$V" > $OUT/tensor-1m-256.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] tensor 1M x 256 rc=$?" | tee -a $INFO
grep -h . $OUT/torch1m.jsonl | cut -c1-200
grep -h '"case":"ceilings"\|"case":"base"' $OUT/*.jsonl | cut -c1-300
grep -h -v '^{' $OUT/logs.txt | grep -E '^(int8|f16|f32) ' | sed -e 's/"[0-9]*:scan":[0-9.]*,//g' | cut -c1-240
grep -h '^{' $OUT/tensor-1m-256.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l)
  print(r.get('variant'), r.get('nq'), r.get('kernel'), 'gpu', r.get('gpu_ms'), 'recall', r.get('recall_at_10'), r.get('error',''))"
grep -h 'error\|NOT-SAME\|DIFF' $OUT/int8-*.jsonl $OUT/logs.txt | cut -c1-200 | head; true
