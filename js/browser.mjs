// Browsers, webviews and bundlers: the .wasm is fetched next to this file
// and compiled with streaming compilation.
import init, * as glue from '../pkg/edgerec.js';
import { edgerecError, MAX_BODY_BYTES } from './recommender.mjs';
import { makeRecommender } from './recommender-api.mjs';

let initialising;
/** Compiles the module once; `wasm` overrides where it is (a hashed CDN URL). */
function ready({ wasm } = {}) {
  initialising ??= init({ module_or_path: wasm ?? new URL('../pkg/edgerec_bg.wasm', import.meta.url) }).then(
    () => glue,
    (e) => {
      initialising = undefined; // a failed download can be retried
      throw edgerecError('MODULE_LOAD', `the edgerec module did not load: ${e?.message ?? e}`);
    },
  );
  return initialising;
}

// The Prio3 module comes with the first sealed report, in its own chunk.
const prio3 = (options) => import('./prio3-browser.mjs').then((m) => m.loadPrio3(options));
export const Recommender = makeRecommender(ready, undefined, prio3);

/** Start fetching and compiling the module now (a later `load` uses it); rejects with MODULE_LOAD. */
export const prepare = (wasm) => ready({ wasm }).then(() => undefined);
export { edgerecError, MAX_BODY_BYTES };
