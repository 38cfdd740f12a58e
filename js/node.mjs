// Node (ESM): the module is read from the package directory, bundles from
// bytes, URLs or file paths.
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import * as glue from '../pkg/edgerec.js';
import { defaultReadSource, edgerecError, MAX_BODY_BYTES } from './recommender.mjs';
import { makeRecommender } from './recommender-api.mjs';

let instance;
/** The glue, with its restart noting the fresh instance (whose memory wasmMemoryBytes measures; the old one is let go). */
const restartable = {
  ...glue,
  __edgerec_restart() {
    instance = glue.__edgerec_restart();
    return instance;
  },
};
function ready() {
  instance ??= glue.initSync({ module: readFileSync(new URL('../pkg/edgerec_bg.wasm', import.meta.url)) });
  return restartable;
}

/** Size of the module's linear memory (benchmarks, memory budgets). */
export function wasmMemoryBytes() {
  return instance ? instance.memory.buffer.byteLength : 0;
}

async function readSource(source) {
  const isPath = typeof source === 'string' && !/^https?:\/\//.test(source);
  if (isPath || (source instanceof URL && source.protocol === 'file:')) {
    try {
      return new Uint8Array(await readFile(source));
    } catch (e) {
      throw edgerecError('BUNDLE_FETCH', `reading ${source} failed: ${e.message}`);
    }
  }
  return defaultReadSource(source);
}

const prio3 = () => import('./prio3-node.mjs').then((m) => m.loadPrio3());
export const Recommender = makeRecommender(async () => ready(), readSource, prio3);
export { edgerecError, MAX_BODY_BYTES };
