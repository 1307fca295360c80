# H100 call 3 (session 22): f32 at one query, 21M (0.986-0.989x torch fp32 in calls h1-h2): flat_gemv's knobs, torch before and after.
set -o pipefail
R=${OUT:-/tmp/h3r}; OUT=/tmp/h3w; mkdir -p $OUT $R
B=out/h3; N21=21015324; T=.device/torch_flat_baseline.py; S0=$SECONDS
el() { echo "[$((SECONDS-S0)) s] $1 rc=$2" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
V='d;t396:target=396;t528:target=528;t660:target=660;t792:target=792;t1056:target=1056;tr1:tr=1;tr2:tr=2;tr8:tr=8;qr:qr=1;pf:pf=1;qr528:qr=1,target=528;d2'
timeout 60 python3 $T --n $N21 --d 768 --nq 1,4 --k 10 --reps 20 --chunk 4194304 --dtypes float32 > $OUT/torch.jsonl 2>> $OUT/logs.txt; el torch21a $?
timeout 200 node $B/flat.mjs --n $N21 --nq 1 --precisions f32 --experimental 0 --variants "$V" --check-rows 4 --warm-ms 500 --min-ms 400 --max-reps 40 > $OUT/flat21.jsonl 2>> $OUT/logs.txt; el flat21 $?
timeout 60 python3 $T --n $N21 --d 768 --nq 1,4 --k 10 --reps 20 --chunk 4194304 --dtypes float32 >> $OUT/torch.jsonl 2>> $OUT/logs.txt; el torch21b $?
timeout 30 python3 $T --n 1000000 --d 768 --nq 1 --k 10 --reps 30 --dtypes float32 > $OUT/torch1m.jsonl 2>> $OUT/logs.txt; el torch1m $?
timeout 90 node $B/flat.mjs --n 1000000 --nq 1 --precisions f32 --experimental 0 --variants "$V" --warm-ms 300 --min-ms 300 --max-reps 200 > $OUT/flat1m.jsonl 2>> $OUT/logs.txt; el flat1m $?
timeout 30 python3 $T --n 1000000 --d 768 --nq 1 --k 10 --reps 30 --dtypes float32 >> $OUT/torch1m.jsonl 2>> $OUT/logs.txt; el torch1m-b $?
tar czf $R/h3.tgz -C $OUT . ; cp $OUT/info.txt $R/
cat $OUT/torch.jsonl $OUT/torch1m.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
for f in $OUT/flat21.jsonl $OUT/flat1m.jsonl; do grep -h '^{' $f | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l)
  if 'precision' in r: print(r['precision'], r['n'], r['nq'], r.get('variant',''), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'reps', r['reps'], 'ids1', r.get('ids_as_first'), r.get('oracle_ok'))"; done
grep -v "artificially\|deprecated\|subgroupMatrix\|^ *\^\|^\s*$\|warning\|Compilation" $OUT/logs.txt | cut -c1-300 | tail -6
cat $OUT/info.txt
