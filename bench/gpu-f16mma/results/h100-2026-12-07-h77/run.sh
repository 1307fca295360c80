# Call h77: scan2 with more warps a workgroup, query tiles selected one at a time (sel q) and, for
# 32-64 queries, the queries staged KC dims at a time; robustness off (r0) then on (r1); torch fp16.
OUT=${OUT:-/tmp/h77}; mkdir -p $OUT/r0 $OUT/r1 $OUT/nvcache
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader | tee $OUT/info.txt
timeout 90 python3 .device/torch_flat_baseline.py --n 1000000 --d 768 --nq 16,32,64 --k 10 --reps 20 --dtypes float16 > $OUT/torch.jsonl 2>> $OUT/logs.txt
V16='reg:8:1:s:4:264,reg:16:1:s:4:132,reg:8:2:s:4:264,reg:8:1:s:8:264,reg:8:1:s:2:264,reg:8:1:s:6:264,reg:8:1:s:4:264:q,reg:8:1:s:4:264:0,reg:16:2:s:4:132,reg:16:1:s:8:132'
V64='reg:8:1:s:4:264:q:192,reg:8:1:s:4:264:q:256,reg:4:1:s:4:528:q:256,reg:8:2:s:4:264:q:192,reg:8:1:s:4:264:q:128,reg:16:1:s:4:132:q:192,reg:8:1:s:8:264:q:192,reg:8:1:s:2:264:q:192'
export __GL_SHADER_DISK_CACHE=1 __GL_SHADER_DISK_CACHE_PATH=$OUT/nvcache __GL_SHADER_DISK_CACHE_SKIP_CLEANUP=1
for R in 0 1; do
  timeout 150 node out/h75/scan2.mjs --n 1000000 --nq 16 --robust $R --variants $V16 --out $OUT/r$R 2>&1 | grep -v "artificially\|deprecated" > $OUT/r$R/stdout16.txt
  mv $OUT/r$R/scan2.jsonl $OUT/r$R/s16.jsonl
  timeout 200 node out/h75/scan2.mjs --n 1000000 --nq 32,64 --robust $R --variants $V64 --out $OUT/r$R 2>&1 | grep -v "artificially\|deprecated" > $OUT/r$R/stdout64.txt
  mv $OUT/r$R/scan2.jsonl $OUT/r$R/s64.jsonl
done
unset __GL_SHADER_DISK_CACHE __GL_SHADER_DISK_CACHE_PATH
grep -h . $OUT/torch.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
for R in 0 1; do echo "== robust $R"; cat $OUT/r$R/s16.jsonl $OUT/r$R/s64.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l)
  if r.get('kind')=='read': print('read', round(r['ms'],4), round(r['gbps']))
  elif 'ms' in r: print(r['variant'], r['nq'], round(r['ms'],4), round(r['min_ms'],4), 'err', r['max_err_best'], round(r['gbps']), 'compile', r['compile_ms'])
  else: print(json.dumps(r)[:300])"; done
grep -h "error\|uncaught" $OUT/r*/stdout*.txt | cut -c1-300 | head -5
cd $OUT && tar czf h77.tgz info.txt torch.jsonl logs.txt r0 r1 nvcache && ls -la h77.tgz && rm -rf r0 r1 nvcache
