# Call p5: the f16 subgroup-matrix prototype (bench/gpu-f16mma/probe.mjs) with and without Dawn's
# robustness (bounds checks around matrix loads from storage), fragments straight from storage
# ('direct', 'unrolled') against staged ('pf'), torch fp16 in the same call.
OUT=${OUT:-/tmp/p5}; mkdir -p $OUT
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader | tee $OUT/info.txt
timeout 60 python3 .device/torch_flat_baseline.py --n 1000000 --d 768 --nq 16,64 --k 10 --reps 20 --dtypes float16 > $OUT/torch.jsonl 2>> $OUT/logs.txt
V='direct:2:1056,direct:4:1056,direct:2:2112,direct:4:2112,unrolled:2:1056,unrolled:4:1056,unrolled:2:2112,pf:2:2112,pf:4:2112,pf:4:1056'
for R in 1 0; do
  mkdir -p $OUT/r$R
  timeout 200 node out/p5/probe.mjs --n 1000000 --nq 16,64 --robust $R --variants $V --out $OUT/r$R 2>&1 | grep -v "artificially\|deprecated" | grep -i "error" | head -3
done
grep -h . $OUT/torch.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
cat $OUT/r*/probe.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print('rob' if r['robust'] else 'norob', r['mode'], r['RT'], r['KC'], r['nWg'], r['nq'], r['ms'], r['min_ms'], r['max_err_best'])"
