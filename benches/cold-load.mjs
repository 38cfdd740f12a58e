// One cold start, in a fresh process: runtime import + WebAssembly compile +
// instantiate + model load, until the engine can answer. Prints milliseconds.
//   node benches/cold-load.mjs edgerec BUNDLE | node benches/cold-load.mjs ort PEER.onnx
import { readFile } from 'node:fs/promises';

const [engine, path] = process.argv.slice(2);
const bytes = new Uint8Array(await readFile(path));
const t0 = performance.now();
if (engine === 'edgerec') {
  const { Recommender } = await import('../js/node.mjs');
  await Recommender.load(bytes);
} else {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
}
console.log((performance.now() - t0).toFixed(1));
