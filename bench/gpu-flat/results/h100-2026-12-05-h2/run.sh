# H100 call 2 (session 22): the f16 code plane measured for real (the bench now resets the knobs
# before each index), f32 21M with a plan the H100 holds (--gpu-memory 78.5), int8 21M end to end.
set -o pipefail
R=${OUT:-/tmp/h2r}; OUT=/tmp/h2w; mkdir -p $OUT $R
B=out/h2; N21=21015324; NQ=1,16,64,256,1024; T=.device/torch_flat_baseline.py; S0=$SECONDS
el() { echo "[$((SECONDS-S0)) s] $1 rc=$2" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
echo "commit $(cat $B/COMMIT) + bench fix" >> $OUT/info.txt
timeout 60 python3 $T --n 1000000 --d 768 --nq $NQ --k 10 --reps 10 --dtypes float16,float32 > $OUT/torch.jsonl 2>> $OUT/logs.txt; el torch1m $?
timeout 120 node $B/flat.mjs --n 1000000 --nq $NQ --precisions f32,f16 --experimental 1 --variants 'c:tf16c=1;h:tf16c=0' --warm-ms 300 --min-ms 300 --max-reps 20 --oracle-queries 2 > $OUT/flat.jsonl 2>> $OUT/logs.txt; el flat-1m $?
timeout 90 python3 $T --n $N21 --d 768 --nq 1,16,64,256 --k 10 --reps 3 --chunk 4194304 --dtypes float16 >> $OUT/torch.jsonl 2>> $OUT/logs.txt; el torch21-16 $?
timeout 90 python3 $T --n $N21 --d 768 --nq 1,16,64,256 --k 10 --reps 3 --chunk 4194304 --dtypes float32 >> $OUT/torch.jsonl 2>> $OUT/logs.txt; el torch21-32 $?
timeout 60 python3 $T --n $N21 --d 768 --nq 1024 --k 10 --reps 2 --chunk 1048576 --dtypes float32 >> $OUT/torch.jsonl 2>> $OUT/logs.txt; el torch21-32-1024 $?
timeout 150 node $B/flat.mjs --n $N21 --nq $NQ --precisions f32,f16 --experimental 1 --gpu-memory 78.5 --variants 'c:tf16c=1;h:tf16c=0' --check-rows 4 --warm-ms 1000 --min-ms 0 --max-reps 3 >> $OUT/flat.jsonl 2>> $OUT/logs.txt; el flat-21m $?
node $B/summary.mjs $OUT/torch.jsonl $OUT/flat.jsonl > $OUT/summary.txt 2>&1
tar czf $R/h2.tgz -C $OUT . ; cp $OUT/summary.txt $OUT/info.txt $R/
cat $OUT/summary.txt
grep -h '^{' $OUT/flat.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l)
  if 'precision' in r: print(r['precision'], r['n'], r['nq'], r.get('variant',''), 'gpu', r['gpu_ms'], 'k', r.get('gpu_k'), 'dig', r.get('digit_gib'), r.get('digit_tiles'), 'ref', r.get('digits_refused','')[:80], 'rec', r.get('recall_vs_f32'), r.get('oracle_ok'))"
LEFT=$((570-(SECONDS-S0)))
if [ $LEFT -gt 200 ]; then timeout $LEFT node $B/int8.mjs --n $N21 --host-rows gpu --nq $NQ --variants "gpu;one:ts=0" --min-ms 400 --max-reps 20 --unquantised 1 > $OUT/int8-21m.jsonl 2>> $OUT/int8.txt; el int8-21m $?; fi
grep -v "artificially\|deprecated\|subgroupMatrix\|^ *\^\|^\s*$\|warning\|Compilation" $OUT/int8.txt | cut -c1-300 | tail -12
tail -14 $OUT/int8-21m.jsonl | cut -c1-400
grep -v "artificially\|deprecated\|subgroupMatrix\|^ *\^\|^\s*$\|warning\|Compilation" $OUT/logs.txt | cut -c1-300 | tail -8
cat $OUT/info.txt
tar czf $R/h2.tgz -C $OUT . ; cp $OUT/info.txt $R/
