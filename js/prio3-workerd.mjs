// The Prio3 module in workerd (issue 21): imported, as workerd compiles no
// wasm from bytes; the leader and helper Workers and a Worker that seals.
import wasmModule from '../pkg/edgerec_prio3_bg.wasm';
import * as glue from '../pkg/edgerec_prio3.js';

let instance;
export async function loadPrio3() {
  instance ??= glue.initSync({ module: wasmModule });
  return glue;
}
