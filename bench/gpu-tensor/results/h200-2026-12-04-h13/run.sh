# Lead's call "h13" (2026-12-04, fourth session): call h12 again where it hinted a gain: f16 at 256 /
# 512 / 1024 queries with 2 warps a workgroup and warpBranch (h12: 8.6 against 10.2 ms of scoring at
# 512, in a slow-clock stretch), each variant twice: d, w2b, d2, w2b2, w2 (no branch), 4 warps w4b.
# Same bundle as h12 (out/h12/split.mjs, commit in COMMIT). On the device: source .device/setup.sh && bash out/h13/run.sh
set -o pipefail
OUT=${OUT:-/tmp/h13}; mkdir -p $OUT
B=${B:-out/h13}
S0=$SECONDS
el() { echo "[$((SECONDS-S0)) s] $1 rc=$2" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat $B/COMMIT)" >> $OUT/info.txt
timeout 200 node $B/split.mjs --precision f16 --n 1000000 --nq 256,512,1024 --reps 7 --variants 'w;d;w2b:tw=2,twbr=1;d2;w2b2:tw=2,twbr=1;w2:tw=2;w4b:tw=4,twbr=1' > $OUT/split.jsonl 2>> $OUT/logs.txt; el split-f16 $?
grep -v "artificially\|deprecated\|subgroupMatrix\|^ *\^\|^\s*$\|warning\|Compilation" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
cat $OUT/split.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  if not l.startswith('{'): continue
  r=json.loads(l); print(r['precision'], r['nq'], r['variant'], 'prep', r['prep_us'], 'score', r['score_us'], 'merge', r['merge_us'], 'rerank', r['rerank_us'], 'span', r['span_us'], r['key'][:40], '|', ' '.join('%s:%s' % (s['groups'], s['us']) for s in r['steps']))"
grep -h "rror" $OUT/logs.txt | cut -c1-300 | head -8
cat $OUT/info.txt
