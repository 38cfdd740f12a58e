import { readFile } from 'node:fs/promises';
import * as glue from './pkg/edgerec.js';
const w = glue.initSync({ module: await readFile('pkg/edgerec_bg.wasm') });
for (const b of ['models/online-retail/online-retail.edgerec', 'models/diginetica/diginetica.edgerec']) {
  const bytes = await readFile(b);
  for (let i = 0; i < 3; i++) console.log(b.slice(7, 20), glue.load_profile(bytes));
}
