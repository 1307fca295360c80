#!/usr/bin/env node
// Placeholder entry replaced by the CLI module; kept so the build has its bin target.
console.error('tessera: CLI not built yet');
process.exit(1);
