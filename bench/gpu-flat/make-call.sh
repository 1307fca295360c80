#!/usr/bin/env bash
# Assembles a device call's folder out/NAME for bench/gpu-flat/grid.sh: the two benchmark bundles
# (gzipped: with .device and the repo they would pass the 64 MiB a call may carry), grid.sh as
# run.sh with NAME in place of h66, its helpers, the commit, and the pipeline statistics layer
# (bench/shader-stats, run first by grid.sh where L is set; skipped without gcc and the Vulkan headers).
# Usage: bash bench/gpu-flat/make-call.sh h67 [short]   (short: bench/gpu-flat/short.sh as run.sh)
#        bash bench/gpu-flat/make-call.sh h95 bench/gpu-flat/results/prepared-h95/run.sh   (a prepared script;
#        the int8 bundle only where the script runs int8.mjs)
# Then on the device (run: carry [".device", "out/h67"]):
#   gunzip out/h67/*.gz && source .device/setup.sh && L=out/h67/layer bash out/h67/run.sh
set -euo pipefail
name=${1:?usage: make-call.sh NAME [short | SCRIPT] (the call, e.g. h67)}
if [ -f "${2:-}" ]; then script=$2; else script=bench/gpu-flat/${2:-grid}.sh; fi
[ -f "$script" ] || { echo "make-call: no script $script" >&2; exit 2; }
dir=out/$name
rm -rf "$dir" && mkdir -p "$dir"
node bench/device-bundle.mjs bench/gpu-flat/run.ts "$dir/flat.mjs"
# A script that times no int8 (short.sh, most prepared ones) leaves its bundle out (the carried tree is near its limit, below).
if grep -q 'int8\.mjs' "$script"; then node bench/device-bundle.mjs bench/gpu-int8/run.ts "$dir/int8.mjs"; fi
gzip -9 "$dir"/*.mjs
{ echo "# Call $name: $script at $(git rev-parse --short HEAD) (make-call.sh), its folder out/$name."
  sed -e "s|^B=out/h66|B=out/$name|" -e "s|/tmp/h66|/tmp/$name|" "$script"; } > "$dir/run.sh"
cp bench/gpu-flat/device-common.sh bench/gpu-flat/summary.mjs "$dir/"
git rev-parse --short HEAD > "$dir/COMMIT"
if bash bench/shader-stats/build.sh "$dir/layer" > /dev/null 2>&1; then
  cp bench/shader-stats/device.sh "$dir/stats.sh"
else
  echo "make-call: no layer (bench/shader-stats/build.sh needs gcc and libvulkan-dev); run without L=" >&2
fi
du -sh "$dir"
# What the call carries, counted as a tar of the tracked files, .device and this folder: the device's
# 64 MiB limit counts about that (h71: refused at 64.1 MiB by this count, taken at 63.8).
size=$( (git ls-files; echo .device; echo "$dir") | tar cf - -T - 2>/dev/null | wc -c)
echo "carried: $((size / 1048576)) MiB of 64 (tracked files, .device, $dir)"
if [ "$size" -gt $((63 * 1048576)) ]; then echo "make-call: within 1 MiB of the 64 MiB a call carries: leave the layer or a bundle out, or compress recorded results" >&2; fi
echo "device: gunzip $dir/*.gz && source .device/setup.sh && L=$dir/layer bash $dir/run.sh"
