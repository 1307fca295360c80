# Call h75: the second f16 subgroup-matrix scan prototype (bench/gpu-f16mma/scan2.mjs): several warps a
# workgroup, row fragments straight from storage CH steps ahead, queries in workgroup memory (s) or from
# storage (g); torch fp16 in the same call; the driver's disk cache kept for the machine code.
OUT=${OUT:-/tmp/h75}; mkdir -p $OUT
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader | tee $OUT/info.txt
timeout 90 python3 .device/torch_flat_baseline.py --n 1000000 --d 768 --nq 16,64 --k 10 --reps 20 --dtypes float16 > $OUT/torch.jsonl 2>> $OUT/logs.txt
V16='reg:4:1:s:4:528,reg:4:2:s:4:528,reg:4:1:s:8:528,reg:8:1:s:4:264,reg:4:4:s:2:528,reg:4:2:s:2:528,loop:4:2:s:4:528,loop:4:1:s:8:528,reg:4:1:s:4:1056,reg:4:2:s:4:264,reg:4:2:s:4:528:0,reg:4:2:g:4:528,reg:4:1:g:8:528'
V64='reg:4:1:g:4:528,reg:4:2:g:4:528,reg:4:1:g:8:528,reg:8:1:g:4:264,reg:4:2:g:2:528,loop:4:2:g:4:528,loop:4:1:g:8:528,reg:4:1:g:4:1056,reg:4:2:g:4:264,reg:4:2:g:4:528:0,reg:2:2:g:4:1056'
mkdir -p $OUT/r1 $OUT/r0
export __GL_SHADER_DISK_CACHE=1 __GL_SHADER_DISK_CACHE_PATH=$OUT/nvcache __GL_SHADER_DISK_CACHE_SKIP_CLEANUP=1
timeout 200 node out/h75/scan2.mjs --n 1000000 --nq 16 --variants $V16 --out $OUT/r1 2>&1 | grep -v "artificially\|deprecated" > $OUT/r1/stdout16.txt
cp $OUT/r1/scan2.jsonl $OUT/r1/s16.jsonl
timeout 200 node out/h75/scan2.mjs --n 1000000 --nq 64 --variants $V64 --out $OUT/r1 2>&1 | grep -v "artificially\|deprecated" > $OUT/r1/stdout64.txt
cp $OUT/r1/scan2.jsonl $OUT/r1/s64.jsonl
timeout 120 node out/h75/scan2.mjs --n 1000000 --nq 16,64 --robust 0 --variants 'reg:4:1:g:4:528,reg:4:2:g:4:528,reg:4:1:s:4:528' --out $OUT/r0 2>&1 | grep -v "artificially\|deprecated" > $OUT/r0/stdout.txt
unset __GL_SHADER_DISK_CACHE __GL_SHADER_DISK_CACHE_PATH
grep -h . $OUT/torch.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
cat $OUT/r1/s16.jsonl $OUT/r1/s64.jsonl $OUT/r0/scan2.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l)
  if r.get('kind')=='read': print('read', round(r['ms'],4), round(r['gbps']))
  elif 'ms' in r: print(r['variant'], r['nq'], round(r['ms'],4), round(r['min_ms'],4), 'err', r['max_err_best'], round(r['gbps']), 'compile', r['compile_ms'])
  else: print(r)"
grep -h "error\|uncaught\|skipped" $OUT/r1/stdout*.txt $OUT/r0/stdout.txt | cut -c1-400 | head
cd $OUT && tar czf h75.tgz info.txt torch.jsonl logs.txt r1 r0 $(ls -d nvcache 2>/dev/null) && ls -la h75.tgz && rm -rf r1 r0 nvcache
