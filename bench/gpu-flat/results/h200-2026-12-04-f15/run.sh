# Lead's call "f15" (2026-12-04, fifth session): f16 at exactly half f32's memory (no code plane: the
# halves converted to codes while staged, tf16c=0) at 16 / 64 queries, with deeper staging (64-dim
# chunks, tkcs 64), other dispatch targets (twt / tws) and 16- / 64-row tiles (tf16rt), against
# torch fp16 in the same call: can the conversion path reach torch fp16?
# Bundle: out/f14/flat.mjs (commit in out/f15/COMMIT).
# On the device: source .device/setup.sh && bash out/f15/run.sh
set -o pipefail
OUT=${OUT:-/tmp/f15}; mkdir -p $OUT
F=${F:-out/f14}
T=.device/torch_flat_baseline.py
S0=$SECONDS
el() { echo "[$((SECONDS-S0)) s] $1 rc=$2" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat out/f15/COMMIT)" >> $OUT/info.txt
timeout 60 python3 $T --n 1000000 --d 768 --nq 16,64 --k 10 --reps 10 --dtypes float16 > $OUT/torch.jsonl 2>> $OUT/logs.txt; el torch1m $?
timeout 200 node $F/flat.mjs --n 1000000 --nq 16,64 --precisions f16 --experimental 1 --warm-ms 400 --min-ms 300 --max-reps 20 --variants 'cv:tf16c=0;kc64:tf16c=0,tkcs=64;t2k:tf16c=0,twt=2048,tws=2048;t512:tf16c=0,twt=512,tws=512;rt1:tf16c=0,tf16rt=1;rt4:tf16c=0,tf16rt=4;cv2:tf16c=0' > $OUT/flat.jsonl 2>> $OUT/logs.txt; el f16-cv $?
grep -v "artificially\|deprecated\|subgroupMatrix\|^ *\^\|^\s*$\|warning\|Compilation" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
grep -h . $OUT/torch.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
grep -h '^{' $OUT/flat.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'reps', r['reps'], 'k', r.get('gpu_k'), 'ids', r.get('ids_as_first'))"
grep -h "rror" $OUT/logs.txt | cut -c1-300 | head -8
cat $OUT/info.txt
