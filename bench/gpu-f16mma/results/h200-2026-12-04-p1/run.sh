# Call p1: f16 subgroup-matrix probe + prototype timing, torch fp16 in the same call
OUT=${OUT:-/tmp/p1}; mkdir -p $OUT
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader | tee $OUT/info.txt
timeout 60 python3 .device/torch_flat_baseline.py --n 1000000 --d 768 --nq 16,64 --k 10 --reps 20 --dtypes float16 > $OUT/torch.jsonl 2>> $OUT/logs.txt
timeout 400 node out/p1/probe.mjs --n 1000000 --nq 16,64 --out $OUT 2>&1 | grep -v "artificially\|deprecated" | tail -40
grep -h . $OUT/torch.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
