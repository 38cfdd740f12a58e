// The Prio3 module in browsers (issue 21): fetched and compiled only when a
// device first seals a report, never on the page's first load.
import init, * as glue from '../pkg/edgerec_prio3.js';
import { edgerecError } from './recommender.mjs';

let initialising;
/** The module's exports, compiled once; `wasm` overrides where it is. */
export function loadPrio3({ wasm } = {}) {
  initialising ??= init({ module_or_path: wasm ?? new URL('../pkg/edgerec_prio3_bg.wasm', import.meta.url) }).then(
    () => glue,
    (e) => {
      initialising = undefined; // a failed download can be retried
      throw edgerecError('MODULE_LOAD', `the edgerec Prio3 module did not load: ${e?.message ?? e}`);
    },
  );
  return initialising;
}
