# gpu-tensor run 9 (H200): the tensor scorer's new knobs inside GpuFlatIndex, 1M x 768, k = 10
# (k' = 40), nq 64 / 256 / 1024, GPU ms from timestamps, torch fp16 / fp32 in the same call:
#  hold  (tq=1)   queries held in workgroup memory for the segment, only rows staged a chunk
#  flat  (tins=1) flat insertion into the k' lists (two selects deep instead of a chain of k')
#  hf4 / hf6 / f6 64- / 96-row tiles at every batch with them; k16 (depth=16): diagnostic only
#  (lists of 16: what the lists' registers and insertions cost; its labels differ).
# A warm-up variant first (clocks rise during a call's first variants), the default twice.
# Bundle from a clean worktree of COMMIT (carry .device, out/t9):
#   npx esbuild bench/gpu-int8/run.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/t9/run.mjs
# On the device: source .device/setup.sh && bash bench/gpu-tensor/results/h200-2026-12-04-run9/run.sh
set -o pipefail
N=${N:-1000000}
NQ=${NQ:-64,256,1024}
OUT=${OUT:-/tmp/t9}; mkdir -p $OUT
INFO=$OUT/info.txt
S0=$SECONDS
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $INFO 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat bench/gpu-tensor/results/h200-2026-12-04-run9/COMMIT 2>/dev/null)" >> $INFO
timeout 60 python3 .device/torch_flat_baseline.py --n $N --d 768 --nq $NQ --k 10 --reps 10 --dtypes float16,float32 > $OUT/torch.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] torch rc=$?" | tee -a $INFO
V="warm:nq=64/256/1024;d;flat:tins=1;hold:tq=1;hf:tq=1,tins=1"
V="$V;hf4:tq=1,tins=1,trt=4;f6:tins=1,trt=6,trtb=6;hf6:tq=1,tins=1,trt=6,trtb=6;k16:depth=16,nq=64/1024;d2"
timeout ${T_INT8:-240} node out/t9/run.mjs --n $N --nq $NQ --variants "$V" --min-ms 300 --max-reps 40 > $OUT/int8-1m.jsonl 2>> $OUT/logs.txt; echo "[$((SECONDS-S0)) s] int8 rc=$?" | tee -a $INFO
grep -h . $OUT/torch.jsonl | cut -c1-160
grep -h -v '^{' $OUT/int8-1m.jsonl | grep -v '^$' | grep -v -i 'warning\|subgroupMatrix\|\^\|Compilation' | tail -40
