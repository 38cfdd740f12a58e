// A product page as the storefront asks for it: one `page()` for its four
// slots and one `nextBestOffer()` for its offer slot, per session state, in
// WASM (Node), on real Online Retail sessions with the bundle's own policy.
// Each session is viewed item by item and the page is that of its last item.
//   node benches/product-page.mjs [--save FILE.json.gz | --compare FILE.json.gz]
// prints the timings; --save writes what every page and decision showed,
// --compare says how many of them differ from a saved run (issue 16 compares
// outputs before and after unifying the pipelines, not only tests).
import { readFile, writeFile } from 'node:fs/promises';
import { gzipSync, gunzipSync } from 'node:zlib';
import { Recommender } from '../js/node.mjs';
import { retailSessions, pick } from './sessions.mjs';
import { median, quantile } from './stats.mjs';

const SLOTS = ['boughtTogether', 'completeTheSet', 'similar', 'recommended'];
const bundlePath = new URL('../models/online-retail/online-retail.edgerec', import.meta.url).pathname;

/** What a shopper sees of a page and a decision: items and offers in order. */
function onScreen(page, decision) {
  const ids = (list) => (list ?? []).map((r) => r.item ?? r.items?.map((i) => i.item).join('+'));
  return {
    slots: Object.fromEntries(SLOTS.map((s) => [s, ids(page[s])])),
    offer: decision.offer ? `${decision.offer.id}:${decision.offer.items.map((i) => i.item).join('+')}` : null,
    fallback: decision.fallback ?? null,
  };
}

export async function benchProductPage(sessions, warmup = 100) {
  const bytes = new Uint8Array(await readFile(bundlePath));
  const rec = await Recommender.load(bytes, { storage: null, clock: () => 1.7e12, shopperKey: 'bench' });
  const known = new Set(rec.catalog().map((c) => c.item));
  const pages = sessions.map((s) => s.filter((item) => known.has(item))).filter((s) => s.length > 0);
  const [pageTimes, decisionTimes, both, outputs] = [[], [], [], []];
  for (let i = 0; i < warmup + pages.length; i++) {
    const s = pages[i % pages.length];
    const anchor = s[s.length - 1];
    rec.reset();
    for (const item of s) rec.track('view', item);
    const a = performance.now();
    const page = rec.page({ anchor, k: 6, slots: SLOTS });
    const b = performance.now();
    const decision = rec.nextBestOffer({ slot: 'product', anchor });
    const c = performance.now();
    if (i < warmup) continue;
    pageTimes.push(b - a);
    decisionTimes.push(c - b);
    both.push(c - a);
    outputs.push(onScreen(page, decision));
  }
  rec.free();
  const summary = (xs) => ({ p50: median(xs), p99: quantile(xs, 0.99) });
  return { pages: pages.length, page: summary(pageTimes), decision: summary(decisionTimes), both: summary(both), outputs };
}

/** Pages and decisions that differ from a saved run's, slot by slot. */
export function compareOutputs(before, after) {
  const differ = { pages: 0, decisions: 0, slots: Object.fromEntries(SLOTS.map((s) => [s, 0])) };
  before.forEach((b, i) => {
    const a = after[i];
    const changed = SLOTS.filter((s) => JSON.stringify(b.slots[s]) !== JSON.stringify(a?.slots[s]));
    for (const s of changed) differ.slots[s] += 1;
    if (changed.length) differ.pages += 1;
    if (b.offer !== a?.offer || b.fallback !== a?.fallback) differ.decisions += 1;
  });
  return { compared: before.length, ...differ };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await benchProductPage(pick(await retailSessions(), 2000));
  const ms = (x) => `${x.toFixed(3)} ms`;
  console.log(`product page, online-retail, ${r.pages} real sessions: page (4 slots) p50 ${ms(r.page.p50)} p99 ${ms(r.page.p99)}; decision p50 ${ms(r.decision.p50)}; both p50 ${ms(r.both.p50)} p99 ${ms(r.both.p99)}`);
  const [flag, file] = process.argv.slice(2);
  // A saved run is gzip'd JSON (benches/published keeps the one from before issue 16).
  if (flag === '--save') await writeFile(file, gzipSync(`${JSON.stringify(r.outputs)}\n`, { level: 9 }));
  if (flag === '--compare') console.log(JSON.stringify(compareOutputs(JSON.parse(gunzipSync(await readFile(file))), r.outputs)));
}
