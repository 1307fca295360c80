# gpu-tensor run 17 (2026-12-04 ~10:35 UTC): confirmation of run 16's adopted defaults (shared bounds
# share 8 from 32 queries, targetWorkgroups 1584) against the old (tsh=0, twb=1536) at 1M x 768 and
# 21M x 768 (256 queries), torch fp16 in the same call; the per-dispatch split (split.mjs, now with
# unrounded timestamps and the shard's search alone); more buckets (16, 40) and the bounds below 32
# queries (shareFrom 5 at 8 / 16 / 24) as variants. Each twice.
# Bundles (carry .device, out/c2), from a clean worktree of COMMIT:
#   npx esbuild bench/gpu-tensor/index-21m.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/c2/index-21m.mjs   (and split.ts -> out/c2/split.mjs)
# On the device: source .device/setup.sh && bash bench/gpu-tensor/results/h200-2026-12-04-run17/run.sh
set -o pipefail
OUT=${OUT:-/tmp/t17}; mkdir -p $OUT
N=${N:-1000000}
N21=${N21:-21015324}
S0=$SECONDS
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
timeout 40 python3 .device/torch_flat_baseline.py --n $N --d 768 --nq 64,256,1024 --k 10 --reps 10 --dtypes float16 > $OUT/torch1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] torch 1M rc=$?" | tee -a $OUT/info.txt
V="warm:nq=64/256/1024;d:nq=32/64/128/256/1024;old:tsh=0,twb=1536,nq=64/256/1024;s16:tsh=16,nq=64/256/1024;s40:tsh=40,nq=64/256/1024;lo:tshf=5,nq=8/16/24;dlo:nq=8/16/24"
V="$V;d2:nq=32/64/128/256/1024;old2:tsh=0,twb=1536,nq=64/256/1024;s16b:tsh=16,nq=64/256/1024;s40b:tsh=40,nq=64/256/1024;lo2:tshf=5,nq=8/16/24;dlo2:nq=8/16/24"
timeout 150 node out/c2/index-21m.mjs --n $N --nq 64,256,1024 --min-ms 300 --max-reps 40 --variants "$V" > $OUT/int8-1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] int8 1M rc=$?" | tee -a $OUT/info.txt
timeout 50 node out/c2/split.mjs --n $N --nq 64,256,1024 --reps 20 --variants 'd;o:tsh=0,twb=1536;d2' > $OUT/split.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] split rc=$?" | tee -a $OUT/info.txt
timeout 40 python3 .device/torch_flat_baseline.py --n $N21 --d 768 --nq 256 --k 10 --reps 5 --chunk 4194304 --dtypes float16 > $OUT/torch21m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] torch 21M rc=$?" | tee -a $OUT/info.txt
timeout 100 node out/c2/index-21m.mjs --n $N21 --nq 256 --host-rows regen --min-ms 0 --max-reps 3 \
  --variants 'warm;d;old:tsh=0,twb=1536;d2;old2:tsh=0,twb=1536' > $OUT/index21m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] int8 21M rc=$?" | tee -a $OUT/info.txt
grep -h . $OUT/torch1m.jsonl $OUT/torch21m.jsonl | cut -c1-150
grep -h '^{' $OUT/split.jsonl | cut -c1-190
grep -h -v '^{' $OUT/int8-1m.jsonl $OUT/index21m.jsonl | grep -v '^$' | grep -v -i 'warning\|subgroupMatrix\|\^\|Compilation' | cut -c1-110 | tail -60
