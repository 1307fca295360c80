# NOT RUN (forty-first session: no device machine came). Its folder, from the repository root:
#   mkdir -p out/h85 && cp bench/gpu-f16mma/{scan2.mjs,scan2-kernel.mjs,common.mjs} bench/gpu-f16mma/results/prepared-h85/run.sh out/h85/
# on the device (carry .device and out/h85): source .device/setup.sh > /dev/null && OUT=$OUT bash out/h85/run.sh
# Call h85: (1) sel T shapes at 32 queries (host thresholds from the first 1/16, as h82), and two at
# 64; (2) the two-pass search with the radix selection against the bisection, the sample spread over
# the index (first device run of --sample-stride), each stage timed in a pass of its own; sample
# 1/32 and 1/128 beside 1/64; (3) the two-pass search over 21M in 16 buffers (first run: A over
# each buffer, one threshold, C over each, one final selection). torch fp16 before and after, same call.
OUT=${OUT:-/tmp/h85}; mkdir -p $OUT
S=out/h85/scan2.mjs
timeout 90 python3 .device/torch_flat_baseline.py --n 1000000 --d 768 --nq 16,32,64 --k 10 --reps 20 --dtypes float16 > $OUT/torch.jsonl 2>> $OUT/logs.txt
echo "== sel T shapes"
S32='reg:8:1:s:8:264:T:128,reg:8:1:s:8:264:T:384,reg:8:1:s:8:264:T:256,reg:8:1:s:4:264:T:384,reg:8:1:s:12:264:T:384,reg:8:1:s:24:264:T:384'
S64='reg:8:1:s:8:264:T:128,reg:8:1:s:12:264:T:192'
mkdir -p $OUT/nvcache; __GL_SHADER_DISK_CACHE=1 __GL_SHADER_DISK_CACHE_PATH=$OUT/nvcache __GL_SHADER_DISK_CACHE_SKIP_CLEANUP=1 timeout 150 node $S --n 1000000 --nq 32 --robust 0 --check 0 --variants $S32 2>&1 | grep '"ms"\|skipped\|error' >> $OUT/scan.jsonl
timeout 100 node $S --n 1000000 --nq 64 --robust 0 --check 0 --variants $S64 2>&1 | grep '"ms"\|skipped\|error' >> $OUT/scan.jsonl
echo "== pipelines"
P16='reg:8:1:s:8:132|reg:8:1:s:8:264:T'
P32='reg:8:1:s:4:132:q:128|reg:8:1:s:8:264:T:384,reg:8:1:s:4:132:q:128|reg:8:1:s:8:264:T:128'
P64='reg:8:1:s:4:132:q:128|reg:8:1:s:8:264:T:128'
for sel in radix bisect; do
  CK=$([ $sel = radix ] && echo 1 || echo 0)
  timeout 100 node $S --n 1000000 --nq 16 --robust 0 --check $CK --stages 1 --select $sel --pipeline "$P16" 2>&1 | grep '"ms"\|error\|skipped' >> $OUT/pipe.jsonl
  timeout 150 node $S --n 1000000 --nq 32 --robust 0 --check $CK --stages 1 --select $sel --pipeline "$P32" 2>&1 | grep '"ms"\|error\|skipped' >> $OUT/pipe.jsonl
  timeout 100 node $S --n 1000000 --nq 64 --robust 0 --check $CK --stages 1 --select $sel --pipeline "$P64" 2>&1 | grep '"ms"\|error\|skipped' >> $OUT/pipe.jsonl
done
for div in 32 128; do
  timeout 100 node $S --n 1000000 --nq 16 --robust 0 --check 0 --stages 1 --select radix --sample-div $div --pipeline "$P16" 2>&1 | grep '"ms"\|error\|skipped' >> $OUT/pipe.jsonl
  timeout 100 node $S --n 1000000 --nq 64 --robust 0 --check 0 --stages 1 --select radix --sample-div $div --pipeline "$P64" 2>&1 | grep '"ms"\|error\|skipped' >> $OUT/pipe.jsonl
done
timeout 90 python3 .device/torch_flat_baseline.py --n 1000000 --d 768 --nq 16,32,64 --k 10 --reps 20 --dtypes float16 >> $OUT/torch.jsonl 2>> $OUT/logs.txt
echo "== 21M"
T21='--n 21015324 --tile-rows 1350000 --pad-rows 40000 --robust 0 --check 0 --stages 1 --select radix'
timeout 80 node $S $T21 --nq 16 --pipeline "$P16" > $OUT/n21-16.log 2>&1; grep '"ms"\|error\|skipped' $OUT/n21-16.log >> $OUT/pipe.jsonl; tail -n 3 $OUT/n21-16.log
timeout 80 node $S $T21 --nq 32 --pipeline "${P32%%,*}" > $OUT/n21-32.log 2>&1; grep '"ms"\|error\|skipped' $OUT/n21-32.log >> $OUT/pipe.jsonl; tail -n 3 $OUT/n21-32.log
timeout 80 node $S $T21 --nq 64 --pipeline "$P64" > $OUT/n21-64.log 2>&1; grep '"ms"\|error\|skipped' $OUT/n21-64.log >> $OUT/pipe.jsonl; tail -n 3 $OUT/n21-64.log
timeout 120 python3 .device/torch_flat_baseline.py --n 21015324 --d 768 --nq 16,32,64 --k 10 --reps 5 --chunk 4194304 --dtypes float16 >> $OUT/torch.jsonl 2>> $OUT/logs.txt
python3 - $OUT <<'PY'
import sys, json
d = sys.argv[1]
for l in open(d + '/torch.jsonl'):
  r = json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])
for l in open(d + '/scan.jsonl'):
  try: r = json.loads(l)
  except Exception: print(l.strip()[:300]); continue
  if r.get('kind') == 'read': print('read', round(r['ms'], 4)); continue
  print(r.get('variant'), r.get('nq'), r.get('ms') and round(r['ms'], 4), (r.get('sample') or {}).get('cand_mean'), r.get('skipped') or r.get('error', ''))
for l in open(d + '/pipe.jsonl'):
  try: r = json.loads(l)
  except Exception: print(l.strip()[:300]); continue
  if r.get('kind') == 'read': continue
  if 'pipeline' not in r: print(l.strip()[:300]); continue
  print(r.get('n'), r.get('nq'), r.get('select'), 'div', r.get('sample_div'), r.get('C'), r.get('ms') and round(r['ms'], 4), 'stages', r.get('stages_ms'), 'cand', r.get('cand_mean'), r.get('cand_max'), 'ovf', r.get('overflow'), r.get('check'), r.get('error', '') or r.get('skipped', ''))
PY
