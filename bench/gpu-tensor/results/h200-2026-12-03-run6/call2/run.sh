# bench/gpu-tensor run 6, call 2: the hook's k' lists in workgroup memory (tensorTuning.lists 'wg':
# 2 k' registers an invocation fewer) at 1M and 21M; 64-row tiles from 256 queries a shard batch
# (tensorTuning.bigBatch 256 instead of 512) at 21M; at 1M also 64-row tiles at every batch ('/r4')
# and 128-dim chunks without prefetch ('/c128'); defaults first and last; torch fp16 / fp32 on the
# same 1M rows (bench.ts) and torch fp16 at 21M in the same call; the standalone staged kernel with
# mask + prefetch (TensorInt8Flat's new default), keys / ids against the CPU int32 reference.
set -o pipefail
B=out/tensor-r6
T=.device/torch_flat_baseline.py
S0=$SECONDS
log() { echo "[$((SECONDS-S0)) s] $*" | tee -a $OUT/info.txt; }
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm --format=csv,noheader >> $OUT/info.txt 2>&1
timeout 25 python3 $T --n 21015324 --d 768 --nq 64,256,1024 --k 10 --reps 5 --chunk 4194304 --dtypes float16 > $OUT/torch21m.jsonl 2>> $OUT/logs.txt; log "torch 21M rc=$?"
grep -h '^{' $OUT/torch21m.jsonl | cut -c1-200
for v in default bb256 wg; do
  TT=''; [ $v = bb256 ] && TT='{"bigBatch":256}'; [ $v = wg ] && TT='{"lists":"wg"}'
  TENSOR_TUNING="$TT" timeout 30 node $B/index-21m.mjs --n 21015324 --nq 64,256,1024 --host-rows regen --variants default --min-ms 0 --max-reps 3 > $OUT/index21m-$v.jsonl 2>> $OUT/logs.txt; log "index 21M $v rc=$?"
  grep -h '^{' $OUT/index21m-$v.jsonl | python3 -c "import sys,json;[print(v, {k:o.get(k) for k in ('nq','gpu_ms','wall_ms','recall_at_10','reps')}, o.get('kernel','')[-24:]) for o in map(json.loads,sys.stdin) for v in ['$v']]"
done
M="pre@2048/m/p,pre@2048/m/p/l,pre@4096/m/p/l,pre@2048/m/p/r4,pre@2048/m/c128,pre@2048/m/p"
timeout 100 node $B/bench.mjs --n 1000000 --d 768 --nq 16,64,256,1024 --k 10 --kp 40 --stages 64p4wgumf \
  --layouts mid,large --dot4 0 --copy 0 --torch $T --flat 1 --flat-modes "$M" --out $OUT 2>> $OUT/logs.txt | grep -v '^\s*\^\|subgroupMatrix' > $OUT/bench.log
log "bench 1M rc=$?"
grep '"what":"torch"' $OUT/bench.log | cut -c1-160
grep -E '"what":"flat-error"' $OUT/bench.log | cut -c1-400
grep '"what":"int8"' $OUT/bench.log | python3 -c "import sys,json;[print({k:o.get(k) for k in ('kernel','nq','layout','ms','tops','exact','agree','recall')}) for o in map(json.loads,sys.stdin)]"
sed -n '/^in-index/,$p' $OUT/bench.log | head -40
rm -f $OUT/tensor.json  # 8 files come back; tensor.jsonl holds the same rows
log done
