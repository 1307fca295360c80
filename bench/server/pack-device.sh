#!/bin/sh
# Packs the Search-R1-scale serve test for the device machine into out/device-server/ (ignored,
# carried): the tessera CLI and bench/server/scale.ts as esbuild bundles (fastify, commander, the
# tokenizer bundled in; Dawn's webgpu comes from .device/), onnxruntime-web's dist files it loads (the
# .wasm xz-compressed: the carried tree is size-limited), the e5-shaped model script and the demo
# vocabulary. Run on the device: sh out/device-server/run.sh (see the bottom of this file).
set -eu
cd "$(dirname "$0")/../.."
O=out/device-server
rm -rf "$O" && mkdir -p "$O/node_modules/onnxruntime-web/dist"
bundle() {
  npx esbuild "$1" --bundle --platform=node --format=esm --target=node20 --loader:.wgsl=text --log-level=warning --minify-whitespace --minify-syntax \
    --external:onnxruntime-web --external:onnxruntime-web/webgpu --external:onnxruntime-node --external:webgpu \
    --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" \
    --outfile="$2"
}
bundle src/cli/main.ts "$O/cli.mjs"
bundle bench/server/scale.ts "$O/scale.mjs"
W=node_modules/onnxruntime-web
cp $W/package.json "$O/node_modules/onnxruntime-web/"
for f in ort.node.min.mjs ort.webgpu.bundle.min.mjs ort-wasm-simd-threaded.mjs ort-wasm-simd-threaded.asyncify.mjs; do
  [ -f "$W/dist/$f" ] && cp "$W/dist/$f" "$O/node_modules/onnxruntime-web/dist/"
done
for f in ort-wasm-simd-threaded.wasm ort-wasm-simd-threaded.asyncify.wasm; do xz -T2 -6 -c "$W/dist/$f" > "$O/node_modules/onnxruntime-web/dist/$f.xz"; done
cp -r node_modules/onnxruntime-common "$O/node_modules/"
cp bench/server/e5_shaped_model.py assets/demo/model/tokenizer.json "$O/"
cat > "$O/run.sh" <<'RUN'
# On the device, from the repository root: source .device/setup.sh && sh out/device-server/run.sh
set -eu
cd out/device-server
for f in node_modules/onnxruntime-web/dist/*.xz; do xz -d -f "$f"; done
python3 e5_shaped_model.py tokenizer.json /tmp/e5-shaped 2>&1 | grep -v Warning | tail -3
node scale.mjs --cli cli.mjs --model /tmp/e5-shaped --out "${OUT:-.}" ${SCALE_ARGS:-}
RUN
du -sh "$O"
