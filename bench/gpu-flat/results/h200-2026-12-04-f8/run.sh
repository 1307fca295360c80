# Lead's call "f8" (2026-12-04, fifth session): f32 at 64 queries again (call f7 had 3.567 ms against
# f4 / f5's 2.104 / 2.105: a slow-clock stretch?), three repeats after 1 s of warm-up; f16 at 2-4
# queries from the code plane (m2: f16CodesMinBatch 2) against flat_gemv (d), torch in the same call.
# Bundle (clean worktree of out/f8/COMMIT): npx esbuild bench/gpu-flat/run.ts --bundle --platform=node
#   --format=esm --loader:.wgsl=text --external:webgpu --ignore-annotations --outfile=out/f8/flat.mjs
# On the device: source .device/setup.sh && bash out/f8/run.sh
set -o pipefail
OUT=${OUT:-/tmp/f8}; mkdir -p $OUT
B=${B:-out/f8}
T=.device/torch_flat_baseline.py
S0=$SECONDS
el() { echo "[$((SECONDS-S0)) s] $1 rc=$2" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat $B/COMMIT)" >> $OUT/info.txt
timeout 60 python3 $T --n 1000000 --d 768 --nq 2,3,4,64 --k 10 --reps 10 > $OUT/torch.jsonl 2>> $OUT/logs.txt; el torch1m $?
timeout 120 node $B/flat.mjs --n 1000000 --nq 64 --precisions f32 --experimental 1 --warm-ms 1000 --min-ms 300 --max-reps 20 --oracle-queries 2 --variants 'd:;d2:;d3:;x:tensor=0' > $OUT/flat.jsonl 2>> $OUT/logs.txt; el f32-64 $?
timeout 120 node $B/flat.mjs --n 1000000 --nq 2,3,4 --precisions f16 --experimental 1 --warm-ms 300 --min-ms 300 --max-reps 20 --oracle-queries 2 --variants 'd:;m2:tf16cmin=2' >> $OUT/flat.jsonl 2>> $OUT/logs.txt; el f16-few $?
grep -v "artificially\|deprecated\|subgroupMatrix\|^ *\^\|^\s*$\|warning\|Compilation" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
grep -h . $OUT/torch.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
grep -h '^{' $OUT/flat.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print(r['precision'], r['n'], r['nq'], r.get('variant'), 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'reps', r['reps'], 'k', r.get('gpu_k'), 'ids', r.get('ids_as_first'), 'oracle', r.get('oracle_ok'), 'unc', r.get('uncertified'))"
grep -h "rror" $OUT/logs.txt | cut -c1-300 | head -8
cat $OUT/info.txt
