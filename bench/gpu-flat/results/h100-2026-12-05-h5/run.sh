# H100 call h5 (session 22): f32 21M with allowExperimental and no gpuMemory / 79.6 GiB: planes kept for the tiles that fit (3505c0a).
set -o pipefail
R=${OUT:-/tmp/h5r}; OUT=/tmp/h5w; mkdir -p $OUT $R
B=out/h5; N21=21015324; T=.device/torch_flat_baseline.py; S0=$SECONDS
el() { echo "[$((SECONDS-S0)) s] $1 rc=$2" | tee -a $OUT/info.txt; }
echo "commit $(cat $B/COMMIT)" >> $OUT/info.txt
timeout 80 python3 $T --n $N21 --d 768 --nq 1,16,64,256 --k 10 --reps 3 --chunk 4194304 --dtypes float32 > $OUT/torch.jsonl 2>> $OUT/logs.txt; el torch21 $?
timeout 150 node $B/flat.mjs --n $N21 --nq 1,16,64,256 --precisions f32 --experimental 1 --check-rows 4 --warm-ms 1000 --min-ms 0 --max-reps 3 > $OUT/flat-nomem.jsonl 2>> $OUT/logs.txt; el nomem $?
timeout 150 node $B/flat.mjs --n $N21 --nq 1,16,64,256 --precisions f32 --experimental 1 --gpu-memory 79.6 --check-rows 4 --warm-ms 1000 --min-ms 0 --max-reps 3 > $OUT/flat-796.jsonl 2>> $OUT/logs.txt; el g796 $?
tar czf $R/h5.tgz -C $OUT . ; cp $OUT/info.txt $R/
grep -h . $OUT/torch.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
for f in $OUT/flat-nomem.jsonl $OUT/flat-796.jsonl; do echo $f; grep -h '^{' $f | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l)
  if 'precision' in r: print(r['precision'], r['nq'], 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'k', r.get('gpu_k'), 'unc', r.get('uncertified'), 'planned', r.get('digit_tiles'), 'made', r.get('digit_gib_made'), 'cut', r.get('digits_cut','')[:150], 'ref', r.get('digits_refused','')[:100])"; done
grep -v "artificially\|deprecated\|subgroupMatrix\|^ *\^\|^\s*$\|warning\|Compilation" $OUT/logs.txt | cut -c1-400 | tail -8
cat $OUT/info.txt
