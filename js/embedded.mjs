// Engines with neither fetch nor Node (JavaScriptCore as in iOS webviews,
// custom webview loaders, QuickJS-style hosts): the host hands over the
// .wasm bytes (or a compiled WebAssembly.Module) itself.
import * as glue from '../pkg/edgerec.js';
import { edgerecError, MAX_BODY_BYTES } from './recommender.mjs';
import { makeRecommender } from './recommender-api.mjs';

/** A Recommender class bound to this module's wasm; call once per realm. */
export function createRecommender(wasm) {
  glue.initSync({ module: wasm });
  return makeRecommender(async () => glue);
}

export { edgerecError, MAX_BODY_BYTES };
