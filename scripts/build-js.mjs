#!/usr/bin/env node
// What `npm start` builds: tsup.config.ts's JavaScript (dist/cli/main.js and the chunks it loads),
// without the declaration files, which the demo never reads, and without build-wasm's staleness
// check (the demo runs the committed WebAssembly either way). Those two were nearly all of
// `npm run build`: 35 s against 1.9 s for this on a busy 2-core machine. `npm run build` (and so
// prepack, `npm pack`) still does both.
//
// tsup's build() reads tsup.config.ts as its CLI does; options given here override the config's.
import { build } from 'tsup';

await build({ dts: false, silent: true });
