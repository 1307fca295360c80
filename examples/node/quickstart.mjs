import { indexFactory } from 'tessera';

const d = 64;
const vectors = new Float32Array(10_000 * d).map(() => Math.random() - 0.5);
const queries = vectors.slice(0, 2 * d); // rows 0 and 1: each finds itself first

const index = await indexFactory(d, 'Flat', 'ip', {
  backend: 'auto', // WebGPU (Dawn in Node) on a GPU, else WASM (also in place of a software renderer)
  onNotice: (message) => console.log(`notice: ${message}`),
});
await index.add(vectors);
const { labels, distances } = await index.search(queries, 3); // 2 x 3, best first
console.log(`backend: ${index.backend}`);
console.log(`query 0 -> ${labels.slice(0, 3).join(' ')} (${distances[0].toFixed(2)})`);
console.log(`query 1 -> ${labels.slice(3, 6).join(' ')}`);
await index.dispose();
