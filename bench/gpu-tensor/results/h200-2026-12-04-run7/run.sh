# One device call (nvidia-h200), 2026-12-04: gpu-int8 run 15 (int8_gemv against the tensor scorer
# at 8 / 16 queries, in flight at 16; its own script), then gpu-tensor run 7 at 1M x 768: the hook
# variants never measured, in GpuFlatIndex (k = 10, k' = 40, mask selection, 2048 workgroups, GPU
# ms from timestamps, recall@10 against torch's fp32 top-10 on the same rows, every mode's labels
# against the first mode's): defaults (first and last), '/r4' 64-row tiles at every batch (the
# default has them from 256 queries), '/c128' 128-dim chunks without and with prefetch, '/n8' the
# M16 N8 K32 config, '/n8/r4'; the standalone staged kernel (64- and 128-dim chunks, N16 and N8)
# keys / ids against a CPU int32 reference of the same quantised dot products (2 queries x all rows).
# torch fp16 / fp32 on the same rows, run by bench.mjs.
# Bundles (carry .device, out/r15, out/t7):
#   npx esbuild bench/gpu-int8/run.ts ... --outfile=out/r15/run.mjs
#   npx esbuild bench/gpu-tensor/bench.ts --bundle --platform=node --format=esm --loader:.wgsl=text \
#     --external:webgpu --ignore-annotations --outfile=out/t7/bench.mjs
# On the device: source .device/setup.sh && bash bench/gpu-tensor/results/h200-2026-12-04-run7/run.sh
# (N: rows, 1000000; the lavapipe dry run used 5000.)
set -o pipefail
N=${N:-1000000}
export INFO=$OUT/info.txt
S0=$SECONDS
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $INFO 2>&1
echo "cpus $(nproc); node $(node --version); commit $(cat bench/gpu-tensor/results/h200-2026-12-04-run7/COMMIT 2>/dev/null)" >> $INFO
N=$N bash bench/gpu-int8/results/h200-2026-12-04-run15/run.sh
M="pre@2048/m/p,pre@2048/m/p/r4,pre@2048/m/c128,pre@2048/m/p/c128,pre@2048/m/p/n8,pre@2048/m/p/n8/r4,pre@2048/m/p"
mkdir -p $OUT/t7
timeout 190 node out/t7/bench.mjs --n $N --d 768 --nq 16,64,256,1024 --k 10 --kp 40 --stages 64p4wgumf,128p4wgumf,64p4wgumfn8 \
  --layouts mid,large --dot4 0 --copy 0 --torch .device/torch_flat_baseline.py --flat 1 --flat-modes "$M" --out $OUT/t7 2>> $OUT/logs.txt | grep -v '^\s*\^\|subgroupMatrix' > $OUT/t7-bench.log
echo "[$((SECONDS-S0)) s] t7 bench rc=$?" | tee -a $INFO
mv $OUT/t7/tensor.jsonl $OUT/t7-tensor.jsonl 2>/dev/null; rm -rf $OUT/t7
grep '"what":"torch"' $OUT/t7-bench.log | cut -c1-150
grep -E '"what":"(flat-error|skip)"' $OUT/t7-bench.log | cut -c1-300
grep '"what":"int8"' $OUT/t7-bench.log | python3 -c "import sys,json;[print({k:o.get(k) for k in ('kernel','nq','layout','ms','tops','exact','agree','recall')}) for o in map(json.loads,sys.stdin)]" | tail -30
sed -n '/^in-index/,$p' $OUT/t7-bench.log | head -40
echo "[$((SECONDS-S0)) s] done" | tee -a $INFO
