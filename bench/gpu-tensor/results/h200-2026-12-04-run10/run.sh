# gpu-tensor run 10 (H200): the tensor scorer's packed lists inside GpuFlatIndex, 1M x 768, k = 10
# (k' = 40), nq 64 / 256 / 1024, GPU ms from timestamps, torch fp16 / fp32 in the same call:
#  pk   (tl=1)          lists 'packed': k' registers of key << 6 | slot, ids in workgroup memory
#  pkf  (tl=1,tins=1)   the same with the flat insertion (two live compares)
#  fl   (tins=1)        flat insertion alone (run 9's form kept all k' compares live: slower)
#  pknp (tl=1,tpf=0)    packed without prefetch (fewer registers)
#  pk4  (tl=1,trt=4)    packed with 64-row tiles below 256 queries too (nq 64)
#  pk2b (tl=1,trtb=2)   packed with 32-row tiles at 256 / 1024 (fewer accumulators)
# A warm-up variant first (clocks rise during a call's first variants), the default twice.
# Bundle from a clean worktree of COMMIT (carry .device, out/t10):
#   npx esbuild bench/gpu-int8/run.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/t10/run.mjs
# On the device: source .device/setup.sh && bash bench/gpu-tensor/results/h200-2026-12-04-run10/run.sh
set -o pipefail
N=${N:-1000000}
NQ=${NQ:-64,256,1024}
OUT=${OUT:-/tmp/t10}; mkdir -p $OUT
INFO=$OUT/info.txt
S0=$SECONDS
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $INFO 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat bench/gpu-tensor/results/h200-2026-12-04-run10/COMMIT 2>/dev/null)" >> $INFO
timeout 60 python3 .device/torch_flat_baseline.py --n $N --d 768 --nq $NQ --k 10 --reps 10 --dtypes float16,float32 > $OUT/torch.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] torch rc=$?" | tee -a $INFO
V="warm:nq=64/256/1024;d;pk:tl=1;pkf:tl=1,tins=1;fl:tins=1;pknp:tl=1,tpf=0"
V="$V;pk4:tl=1,trt=4,nq=64;pk2b:tl=1,trtb=2,nq=256/1024;pk2:tl=1;d2"
timeout ${T_INT8:-240} node out/t10/run.mjs --n $N --nq $NQ --variants "$V" --min-ms 300 --max-reps 40 > $OUT/int8-1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] int8 rc=$?" | tee -a $INFO
grep -h . $OUT/torch.jsonl | cut -c1-160
grep -h -v '^{' $OUT/int8-1m.jsonl | grep -v '^$' | grep -v -i 'warning\|subgroupMatrix\|\^\|Compilation' | tail -40
