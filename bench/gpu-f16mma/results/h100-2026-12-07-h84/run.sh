# Call h84: h83's checks again, against the rows sel T scanned (h83 compared with the first 1M only,
# while whole segments reach 13,760 rows into the buffer's padding).
OUT=${OUT:-/tmp/h84}; mkdir -p $OUT
P16='reg:8:1:s:8:132|reg:8:1:s:8:264:T'
P64='reg:8:1:s:4:132:q:128|reg:8:1:s:8:264:T:128'
timeout 150 node out/h75/scan2.mjs --n 1000000 --nq 16 --robust 0 --reps 3 --pipeline "$P16" --sample-div 64 2>&1 | grep '"ms"\|error\|skipped' >> $OUT/pipe.jsonl
timeout 200 node out/h75/scan2.mjs --n 1000000 --nq 32,64 --robust 0 --reps 3 --pipeline "$P64" --sample-div 64 2>&1 | grep '"ms"\|error\|skipped' >> $OUT/pipe.jsonl
python3 - $OUT/pipe.jsonl <<'PY'
import sys, json
for l in open(sys.argv[1]):
  r = json.loads(l)
  if 'pipeline' in r: print(r['nq'], r.get('check'), r.get('error', ''))
PY
