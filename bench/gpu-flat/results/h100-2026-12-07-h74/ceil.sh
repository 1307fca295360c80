# h74: the fp32 and f16 FMA rates of WGSL through Dawn (bench/gpu-flat/ceilings.ts), without and with
# vulkan_enable_f16_on_nvidia (which lets NVIDIA's Vulkan driver offer shader-f16).
B=out/h74
source "$B/device-common.sh"
for t in disable_symbol_renaming vulkan_enable_f16_on_nvidia; do
  timeout 120 node $B/flat.mjs --n 100000 --nq 1 --precisions f32 --ceilings 1 --toggles $t --min-ms 10 --max-reps 2 2>/dev/null | grep ceilings; el ceilings-$t $?
done
