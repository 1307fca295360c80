# H200 run 3 of bench/gpu-flat (one call). Outputs under $OUT; at most 8 files come back.
set -o pipefail
B=out/device-gpu2/gpu-flat.mjs
T=.device/torch_flat_baseline.py
S0=$SECONDS
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader | tee $OUT/info.txt
V="d;db:db=1;l1:lay=1;l1db:lay=1,db=1;l2db:lay=2,db=1;e8l1:big=8x8,lay=1;e8l2db:big=8x8,lay=2,db=1;e8db:big=8x8,db=1;e84l1db:big=8x4,lay=1,db=1"
timeout 60 python3 $T --n 1000000 --d 768 --nq 1,16,64,256,1024 --k 10 --reps 10 > $OUT/t1m.jsonl 2> $OUT/t1m.err; echo "torch1m rc=$? t=$((SECONDS-S0))"
timeout 90 node $B --n 1000000 --nq 1,16,64,256,1024 --precisions f32 --check-rows 4 --oracle-queries 2 --min-ms 100 --max-reps 5 --variants "$V" > $OUT/g1m32.jsonl 2> $OUT/g1m32.err; echo "sweep rc=$? t=$((SECONDS-S0))"
# Best variant at nq >= 16 (sum of GPU ms over 16..1024, oracle and self-checks passed), its knobs.
BEST=$(node -e '
const fs=require("fs");const rows=fs.readFileSync(process.argv[1],"utf8").split("\n").filter(l=>l.startsWith("{")).map(JSON.parse).filter(r=>r.variant&&r.nq>=16);
const s={},bad=new Set();for(const r of rows){s[r.variant]=(s[r.variant]??0)+r.gpu_ms;if(r.oracle_recall!==undefined&&r.oracle_recall<1)bad.add(r.variant);}
const n={};for(const r of rows)n[r.variant]=(n[r.variant]??0)+1;const mx=Math.max(...Object.values(n));
const c=Object.entries(s).filter(([v])=>!bad.has(v)&&n[v]===mx).sort((a,b)=>a[1]-b[1]);console.log(c.length?c[0][0]:"d");' $OUT/g1m32.jsonl 2>/dev/null || echo d)
BK=$(echo "$V" | tr ';' '\n' | grep "^$BEST:" | cut -d: -f2)
echo "best=$BEST knobs=$BK" | tee -a $OUT/info.txt
timeout 60 node $B --n 1000000 --nq 1,16,64,256,1024 --precisions f16,int8 --min-ms 100 --max-reps 5 --variants "d;best:$BK" > $OUT/g1m.jsonl 2> $OUT/g1m.err; echo "f16/int8 rc=$? t=$((SECONDS-S0))"
node bench/gpu-flat/summary.mjs $OUT/t1m.jsonl $OUT/g1m32.jsonl $OUT/g1m.jsonl > $OUT/summary.txt
fold() { for f in t1m g1m32 g1m t21m g21m32; do [ -f $OUT/$f.err ] && { echo "== $f.err"; tail -40 $OUT/$f.err; rm $OUT/$f.err; }; done >> $OUT/logs.txt; }
fold
if [ $((SECONDS-S0)) -lt 100 ]; then
  timeout 60 python3 $T --n 21015324 --d 768 --nq 1,16,64,256,1024 --k 10 --reps 3 --chunk 4194304 > $OUT/t21m.jsonl 2> $OUT/t21m.err; echo "torch21m rc=$? t=$((SECONDS-S0))"
  timeout 50 node $B --n 21015324 --nq 1,16,64,256,1024 --precisions f32 --min-ms 0 --max-reps 2 --variants "d;best:$BK" > $OUT/g21m32.jsonl 2> $OUT/g21m32.err; echo "g21m rc=$? t=$((SECONDS-S0))"
  node bench/gpu-flat/summary.mjs $OUT/t21m.jsonl $OUT/g21m32.jsonl >> $OUT/summary.txt
fi
fold
cat $OUT/summary.txt; echo "total t=$((SECONDS-S0))"
