// The live catalog (issue 38): what updateItems costs in the page's engine
// (WASM in Node), and what a catalog grown by it costs recommend(): 100
// repricings, 100 products added from their words, recommend p50/p99 on the
// same real sessions before and after, and with a request filter.
import { readFile } from 'node:fs/promises';
import { Recommender } from '../js/node.mjs';
import { retailSessions, pick } from './sessions.mjs';
import { median, quantile } from './stats.mjs';

const root = new URL('..', import.meta.url).pathname;
const ROUNDS = 50;

function timed(fn) {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

function recommendTimes(rec, sessions, options) {
  const times = [];
  for (const [i, s] of [...sessions, ...sessions.slice(0, 100)].entries()) {
    rec.reset();
    for (const item of s) rec.track('view', item);
    const ms = timed(() => rec.recommend({ k: 10, ...options }));
    if (i >= 100) times.push(ms);
  }
  return { p50: median(times), p99: quantile(times, 0.99) };
}

export async function benchLive(queries = 1000) {
  const bytes = new Uint8Array(await readFile(`${root}models/online-retail/online-retail.edgerec`));
  const sessions = pick(await retailSessions(), queries);
  const rec = await Recommender.load(bytes, { storage: null });
  const catalog = rec.catalog();
  const before = recommendTimes(rec, sessions);

  // 100 items repriced and restocked, as a page's feed would send them.
  const reprice = (round) =>
    catalog.slice(0, 100).map((c, i) => ({ id: c.item, price: c.price + (round % 2 ? 0.1 : 0), inStock: (i + round) % 7 !== 0 }));
  const repriced = Array.from({ length: ROUNDS }, (_, round) => timed(() => rec.updateItems(reprice(round))));

  // 100 products the bundle lacks, titled like the store's own, each on its own fresh engine.
  const added = [];
  for (let round = 0; round < 10; round++) {
    const fresh = await Recommender.load(bytes, { storage: null });
    const items = catalog.slice(200, 300).map((c, i) => ({
      id: `NEW-${round}-${i}`, title: `New ${c.title}`, category: c.category, price: c.price,
    }));
    added.push(timed(() => fresh.updateItems(items)));
    fresh.free();
  }
  const grown = catalog.slice(200, 300).map((c, i) => ({ id: `NEW-${i}`, title: `New ${c.title}`, category: c.category, price: c.price }));
  rec.updateItems(grown);
  const after = recommendTimes(rec, sessions);
  const filtered = recommendTimes(rec, sessions, { filter: { maxPrice: 5, inStock: true } });
  rec.free();
  return {
    items: catalog.length,
    repricing100: { p50: median(repriced), p99: quantile(repriced, 0.99) },
    adding100: { p50: median(added), max: Math.max(...added) },
    recommendBefore: before,
    recommendAfter: after,
    recommendFiltered: filtered,
  };
}
