#!/usr/bin/env bash
# Checks the statistics layer without a GPU: builds it and the fake driver layer (fake_driver_layer.c)
# and creates one pipeline through Dawn on lavapipe with the fake below the real one; the layer must
# print that pipeline's statistics and write its SPIR-V and representation. Run from the repository
# root after npm ci (Dawn's binding), with gcc and libvulkan-dev.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
bash "$here/build.sh" "$dir" > /dev/null
bash "$here/build.sh" "$dir/fake" fake_stats > /dev/null
mkdir "$dir/files"
# The loader stacks the layers in the order it finds their manifests, the first nearest the
# application (not in VK_INSTANCE_LAYERS' order): the fake's folder comes second, so it sits below.
VK_LAYER_PATH=$dir:$dir/fake VK_INSTANCE_LAYERS=VK_LAYER_TESSERA_stats:VK_LAYER_TESSERA_fake_stats \
  TESSERA_STATS_DIR=$dir/files TESSERA_STATS_CACHE=1 node "$here/selftest.mjs" 2> "$dir/err.txt" || { cat "$dir/err.txt"; exit 1; }
fail() { echo "selftest: $1"; grep 'tessera-stats\|fake-driver' "$dir/err.txt"; exit 1; }
grep -q 'fake-driver: vkCreateDevice asked for the extension: yes, the feature: yes' "$dir/err.txt" || fail 'the layer did not enable the extension and its feature'
grep -q 'fake-driver: a pipeline without the capture flag' "$dir/err.txt" && fail 'a pipeline was created without the capture flag'
line=$(grep 'tessera-stats: pipeline 1 ' "$dir/err.txt") || fail 'no line for pipeline 1'
for want in 'doubled' 'local 64x1x1' 'Compute Shader (subgroup 32): Register Count=40 Spills=false' '[ir fake disassembly: 23 bytes]' '[pipeline cache: '; do
  [[ $line == *"$want"* ]] || fail "pipeline 1's line lacks '$want': $line"
done
[ "$(od -An -tx4 -N4 "$dir/files/p1.spv" | tr -d ' ')" = 07230203 ] || fail 'p1.spv is not SPIR-V'
grep -q FFMA "$dir/files/p1-e0-i0.txt" || fail 'no p1-e0-i0.txt'
# The pipeline's own cache (lavapipe's data): Vulkan's header first, 32 bytes of header version one.
[ "$(od -An -tu4 -N8 "$dir/files/p1-cache.bin" | tr -s ' ')" = ' 32 1' ] || fail 'p1-cache.bin is not a pipeline cache'
echo "selftest: ok ($line)"
