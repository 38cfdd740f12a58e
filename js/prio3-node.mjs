// The Prio3 module in Node (issue 21): read from the package directory.
import { readFileSync } from 'node:fs';
import * as glue from '../pkg/edgerec_prio3.js';

let instance;
export async function loadPrio3() {
  instance ??= glue.initSync({ module: readFileSync(new URL('../pkg/edgerec_prio3_bg.wasm', import.meta.url)) });
  return glue;
}
