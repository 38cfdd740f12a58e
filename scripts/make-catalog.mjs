// The demo store's own product data (www/catalog.json), the way a store's
// pages already carry their products: written once from the default
// bundle's catalog, most popular first. tests/js/package.test.mjs checks it
// still matches the bundle.   node scripts/make-catalog.mjs
import { readFile, writeFile } from 'node:fs/promises';
import { Recommender } from 'edgerec';

const bundle = await readFile(new URL('../models/online-retail/online-retail.edgerec', import.meta.url));
const rec = await Recommender.load(bundle);
const out = new URL('../www/catalog.json', import.meta.url);
await writeFile(out, `${JSON.stringify(rec.catalog())}\n`);
console.log(`wrote ${out.pathname}: ${rec.catalog().length} products`);
