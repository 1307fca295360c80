#!/usr/bin/env bash
# Builds a layer into DIR (default out/shader-stats): the shared library and its manifest. LAYER is
# stats (default: the statistics layer, stats_layer.c) or fake_stats (selftest.sh's fake driver,
# fake_driver_layer.c). Needs a C compiler and the Vulkan headers (Debian: gcc, libvulkan-dev); the
# device machine needs neither: carry DIR with the call.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-out/shader-stats}
layer=${2:-stats}
case $layer in
  stats) src=stats_layer.c ;;
  fake_stats) src=fake_driver_layer.c ;;
  *) echo "build.sh: LAYER must be stats or fake_stats, got '$layer'" >&2; exit 2 ;;
esac
mkdir -p "$dir"
cc -O2 -fPIC -shared -fvisibility=hidden -Wall -Wextra -Wno-missing-field-initializers -Werror -o "$dir/libVkLayer_tessera_$layer.so" "$here/$src" -lpthread
cp "$here/VkLayer_tessera_$layer.json" "$dir/"
echo "built $dir/libVkLayer_tessera_$layer.so"
