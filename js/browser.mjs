// Browsers, webviews and bundlers: the .wasm is fetched next to this file
// and compiled with streaming compilation.
import init, * as glue from '../pkg/edgerec.js';
import { makeRecommender, edgerecError, MAX_BODY_BYTES } from './recommender.mjs';

let initialising;
function ready() {
  initialising ??= init({ module_or_path: new URL('../pkg/edgerec_bg.wasm', import.meta.url) }).then(() => glue);
  return initialising;
}

export const Recommender = makeRecommender(ready);
export { edgerecError, MAX_BODY_BYTES };
