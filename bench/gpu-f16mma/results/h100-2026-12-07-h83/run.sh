# Call h83: the two-pass search end to end in one timed compute pass (scan2.mjs --pipeline): a
# stand-in over the first N / 64 (or / 16) rows, each query's 40th largest best as its threshold,
# sel T over all N rows, each query's 40 best candidates; the first 4 queries' final lists checked
# against the exact 40 best of all 1M rows (float64); torch fp16 in the same call.
OUT=${OUT:-/tmp/h83}; mkdir -p $OUT
timeout 90 python3 .device/torch_flat_baseline.py --n 1000000 --d 768 --nq 16,32,64 --k 10 --reps 20 --dtypes float16 > $OUT/torch.jsonl 2>> $OUT/logs.txt
P16='reg:8:1:s:8:132|reg:8:1:s:8:264:T'
P64='reg:8:1:s:4:132:q:128|reg:8:1:s:8:264:T:128'
timeout 200 node out/h75/scan2.mjs --n 1000000 --nq 16 --robust 0 --pipeline "$P16" --sample-div 64 2>&1 | grep '"ms"\|error\|skipped' >> $OUT/pipe.jsonl
timeout 200 node out/h75/scan2.mjs --n 1000000 --nq 32,64 --robust 0 --pipeline "$P64" --sample-div 64 2>&1 | grep '"ms"\|error\|skipped' >> $OUT/pipe.jsonl
for pass in 1 2; do
  timeout 100 node out/h75/scan2.mjs --n 1000000 --nq 16 --robust 0 --check 0 --pipeline "$P16" --sample-div 16 2>&1 | grep '"ms"\|error\|skipped' >> $OUT/pipe.jsonl
  timeout 100 node out/h75/scan2.mjs --n 1000000 --nq 32,64 --robust 0 --check 0 --pipeline "$P64" --sample-div 16 2>&1 | grep '"ms"\|error\|skipped' >> $OUT/pipe.jsonl
  timeout 100 node out/h75/scan2.mjs --n 1000000 --nq 16 --robust 0 --check 0 --pipeline "$P16" --sample-div 64 2>&1 | grep '"ms"\|error\|skipped' >> $OUT/pipe.jsonl
  timeout 100 node out/h75/scan2.mjs --n 1000000 --nq 32,64 --robust 0 --check 0 --pipeline "$P64" --sample-div 64 2>&1 | grep '"ms"\|error\|skipped' >> $OUT/pipe.jsonl
done
timeout 90 python3 .device/torch_flat_baseline.py --n 1000000 --d 768 --nq 16,32,64 --k 10 --reps 20 --dtypes float16 >> $OUT/torch.jsonl 2>> $OUT/logs.txt
grep -h . $OUT/torch.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
python3 - $OUT/pipe.jsonl <<'PY'
import sys, json
for l in open(sys.argv[1]):
  r = json.loads(l)
  if 'ms' not in r: print(json.dumps(r)[:400]); continue
  print(r['nq'], 'div', r['sample_div'], round(r['ms'], 4), round(r['min_ms'], 4), 'cand', round(r['cand_mean']), r['cand_max'], 'overflow', r['overflow'], r.get('check', ''))
PY
