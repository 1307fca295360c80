# Lead's call "q2" (2026-12-04, seventh session), for issue 9 on a one-GPU kind: 21M x 768 f32 split
# over 1, 2 and 4 Dawn devices of the one H200 (--devices-per-gpu: one shard a device, searched
# concurrently, merged on the host), nq 1 / 64 / 512, k 10; the f32 kernels, and allowExperimental
# (digit planes for every tile) at 1 and 4; torch fp32 in the same call. Wall time is the figure
# (devices of one GPU take turns on it); host_ms.ids holds the merge.
# Bundle (clean worktree of out/q2/COMMIT): npx esbuild bench/gpu-flat/run.ts --bundle --platform=node
#   --format=esm --loader:.wgsl=text --external:webgpu --ignore-annotations --outfile=out/q2/flat.mjs
# On the device: source .device/setup.sh && bash out/q2/run.sh
set -o pipefail
OUT=${OUT:-/tmp/q2}; mkdir -p $OUT
B=${B:-out/q2}
T=.device/torch_flat_baseline.py
S0=$SECONDS
el() { echo "[$((SECONDS-S0)) s] $1 rc=$2" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat $B/COMMIT)" >> $OUT/info.txt
timeout 120 python3 $T --n 21015324 --d 768 --nq 1,64,512 --k 10 --reps 3 --chunk 4194304 --dtypes float32 > $OUT/torch.jsonl 2>> $OUT/logs.txt; el torch21m $?
for cfg in "1 0" "2 0" "4 0" "1 1" "4 1"; do
  set -- $cfg
  timeout 150 node $B/flat.mjs --n 21015324 --nq 1,64,512 --precisions f32 --experimental $2 --devices-per-gpu $1 --warm-ms 1000 --min-ms 0 --max-reps 3 > $OUT/flat-d$1-x$2.jsonl 2>> $OUT/logs.txt; el "f32-21m devices $1 experimental $2" $?
done
grep -v "artificially\|deprecated\|subgroupMatrix\|^ *\^\|^\s*$\|warning\|Compilation" $OUT/logs.txt > $OUT/l2; mv $OUT/l2 $OUT/logs.txt
grep -h . $OUT/torch.jsonl | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print('torch', r['dtype'], r['n'], r['nq'], r['ms'])"
for f in $OUT/flat-d*.jsonl; do echo $f; grep -h '^{' $f | python3 -c "import sys,json
for l in sys.stdin:
  r=json.loads(l); print(r['precision'], r['n'], r['nq'], 'shards', r['shards'], 'gpu', r['gpu_ms'], 'wall', r['wall_ms'], 'reps', r['reps'], 'k', r.get('gpu_k'), 'unc', r.get('uncertified'), 'host', json.dumps(r['host_ms']), 'fill', r['fill_s'], 'temp', r['temp_gib'])"; done
grep -h "rror" $OUT/logs.txt | cut -c1-300 | head -8
cat $OUT/info.txt
