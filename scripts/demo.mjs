// `npm start`: the default model, live, through the npm package exactly as a
// store would use it: a sample shopper's session and the recommendations
// after each step, with their reasons.
import { readFile } from 'node:fs/promises';
import { Recommender } from 'edgerec';

const bundleUrl = new URL('../models/online-retail/online-retail.edgerec', import.meta.url);
const started = performance.now();
const rec = await Recommender.load(await readFile(bundleUrl));
const info = rec.info;
console.log(`edgerec: loaded ${info.itemCount} items (dim ${info.dim}) in ${(performance.now() - started).toFixed(0)} ms`);
console.log(`model: ${info.modelCard.dataset}; Recall@20 ${info.modelCard.metrics['recall@20']}%, MRR@20 ${info.modelCard.metrics['mrr@20']}%\n`);

const journey = [
  ['view', '85123A'], // White Hanging Heart T-Light Holder
  ['add_to_cart', '85123A'],
  ['view', '22423'], // Regency Cakestand 3 Tier
  ['view', '22720'], // Set Of 3 Cake Tins Pantry Design
  ['add_to_cart', '22720'],
];

function show(title, result) {
  console.log(title);
  for (const r of result.items) {
    console.log(`  ${r.item.padEnd(7)} ${r.title.slice(0, 38).padEnd(38)} £${r.price.toFixed(2).padStart(6)}  ${r.reasons.map((x) => x.text).join('; ')}`);
  }
  console.log();
}

show('cold start (no events yet):', rec.recommend({ k: 5 }));
for (const [type, item] of journey) {
  rec.track({ type, item });
  const t0 = performance.now();
  const result = rec.recommend({ k: 5 });
  const ms = (performance.now() - t0).toFixed(2);
  show(`after ${type} ${item} (recommend took ${ms} ms):`, result);
}
show('on the product page of 22423 (anchor), same session:', rec.recommend({ k: 5, anchor: '22423' }));
