// Cloudflare Workers (workerd): compiling wasm from bytes at run time is not
// allowed there, so the module is imported and instantiated synchronously.
import wasmModule from '../pkg/edgerec_bg.wasm';
import * as glue from '../pkg/edgerec.js';
import { edgerecError, MAX_BODY_BYTES } from './recommender.mjs';
import { makeRecommender } from './recommender-api.mjs';
import { loadPrio3 } from './prio3-workerd.mjs';

glue.initSync({ module: wasmModule });

export const Recommender = makeRecommender(async () => glue, undefined, loadPrio3);
export { edgerecError, MAX_BODY_BYTES };
