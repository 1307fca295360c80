#!/usr/bin/env bash
# Builds the statistics layer into DIR (default out/shader-stats): the shared library and its
# manifest. Needs a C compiler and the Vulkan headers (Debian: gcc, libvulkan-dev); the device
# machine needs neither: carry DIR with the call.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-out/shader-stats}
mkdir -p "$dir"
cc -O2 -fPIC -shared -fvisibility=hidden -Wall -Wextra -Wno-missing-field-initializers -Werror -o "$dir/libVkLayer_tessera_stats.so" "$here/stats_layer.c" -lpthread
cp "$here/VkLayer_tessera_stats.json" "$dir/"
echo "built $dir/libVkLayer_tessera_stats.so"
