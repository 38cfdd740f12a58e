import { readFile } from 'node:fs/promises';
import * as glue from './pkg/edgerec.js';
const w = glue.initSync({ module: await readFile('pkg/edgerec_bg.wasm') });
for (const b of ['models/online-retail/online-retail.edgerec', 'models/diginetica/diginetica.edgerec']) {
const e = glue.Engine.load(await readFile(b));
const id = b.includes('digi') ? ['1','3','5'] : ['85123A', '22423'];
for (const i of id) e.track('view', i);
console.log(b, e.profile()); console.log(e.profile());
}
