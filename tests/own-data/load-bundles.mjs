// Run from a folder where `npm install edgerec-*.tgz` put the package, as a
// store's page would use it: every bundle edgerec-train made loads, knows the
// store's items by their own ids and titles, and recommends for a session.
//   node load-bundles.mjs STORE.edgerec ...
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { Recommender } from 'edgerec';

for (const path of process.argv.slice(2)) {
  const rec = await Recommender.load(new Uint8Array(await readFile(path)));
  const info = rec.info;
  assert.ok(info.itemCount >= 20, `${path}: ${info.itemCount} items`);
  const popular = rec.recommend({ k: 3 }).items;
  assert.equal(popular.length, 3, `${path}: an empty session gets popular items`);
  rec.track('add_to_cart', popular[0].item);
  const { items, stats } = rec.recommend({ k: 5 });
  assert.equal(items.length, 5, `${path}: five recommendations`);
  assert.equal(stats.encoded, true);
  assert.ok(items.every((r) => r.item !== popular[0].item && r.title && r.reasons.length > 0));
  const page = rec.page({ anchor: popular[0].item, k: 4 });
  assert.ok(page.similar.length > 0, `${path}: similar items`);
  console.log(`${path}: ${info.itemCount} items, "${popular[0].title}" → ${items.slice(0, 3).map((r) => `"${r.title}"`).join(', ')}`);
}
