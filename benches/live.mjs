// The live catalog (issue 38): what updateItems costs in the page's engine
// (WASM in Node), and what a catalog grown by it costs recommend(): 100
// repricings, 100 products added from their words, recommend p50/p99 on the
// same real sessions before and after, and with a request filter.
import { readFile, writeFile, mkdtemp } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, constants as zc } from 'node:zlib';
import { Recommender } from '../js/node.mjs';
import { retailSessions, pick } from './sessions.mjs';
import { median, quantile } from './stats.mjs';
import { measureLiveInPage } from './live-page.mjs';

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

/**
 * `POST /v1/recommend` through the package's handler (the edge's path), a
 * page of 4 slots for a real session: as sent, and with 10 of the host's
 * item updates in the request (applied to a copy of the store).
 */
async function v1Times(rec, sessions, catalog) {
  const items = catalog.slice(0, 10).map((c) => ({ id: c.item, price: c.price, salePrice: Math.round(c.price * 80) / 100 }));
  const times = { plain: [], withItems: [] };
  for (const [i, s] of sessions.slice(0, 300).entries()) {
    const events = s.map((item) => ({ type: 'view', item }));
    for (const [key, extra] of [['plain', {}], ['withItems', { items }]]) {
      const request = new Request('http://edge/v1/recommend', { method: 'POST', body: JSON.stringify({ events, k: 4, skipUnknown: true, ...extra }) });
      const t0 = performance.now();
      const res = await rec.handleRequest(request);
      await res.text();
      if (i >= 50) times[key].push(performance.now() - t0);
      if (res.status !== 200) throw new Error(`/v1/recommend answered ${res.status}`);
    }
  }
  return { plainP50: median(times.plain), withItemsP50: median(times.withItems) };
}

/**
 * A catalog patch as a store would make one: the default store's catalog
 * with 1,000 items repriced or out of stock and 100 products added, through
 * `edgerec patch`.
 */
async function storePatch(bundlePath, catalog) {
  const dir = await mkdtemp(join(tmpdir(), 'edgerec-live-'));
  const lines = catalog.map((c, i) => {
    const item = { id: c.item, title: c.title, category: c.category, price: c.price, in_stock: c.inStock };
    if (i % 3 === 1 && i < 1000) item.in_stock = false;
    else if (i % 3 !== 1 && i < 1000) item.price = Math.round(c.price * 110) / 100;
    return item;
  });
  for (const [i, c] of catalog.slice(300, 400).entries()) lines.push({ id: `NEW-${i}`, title: `Ivory ${c.title}`, category: c.category, price: c.price });
  await writeFile(join(dir, 'catalog.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n'));
  const out = join(dir, 'store.patch.json');
  execFileSync('cargo', ['run', '--quiet', '--release', '--bin', 'edgerec', '--', 'patch', bundlePath, '--catalog', join(dir, 'catalog.jsonl'), '--out', out], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  return readFile(out, 'utf8');
}

export async function benchLive(queries = 1000) {
  const bundlePath = `${root}models/online-retail/online-retail.edgerec`;
  const bytes = new Uint8Array(await readFile(bundlePath));
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
  const patch = await storePatch(bundlePath, catalog);
  const patched = [];
  let patchItems = null;
  for (let round = 0; round < 10; round++) {
    const fresh = await Recommender.load(bytes, { storage: null });
    patched.push(timed(() => { patchItems = fresh.applyPatch(patch); }));
    fresh.free();
  }
  const inPage = await measureLiveInPage(patch, reprice(1));
  const v1 = await v1Times(rec, sessions, catalog);
  const grown = catalog.slice(200, 300).map((c, i) => ({ id: `NEW-${i}`, title: `New ${c.title}`, category: c.category, price: c.price }));
  rec.updateItems(grown);
  const after = recommendTimes(rec, sessions);
  const filtered = recommendTimes(rec, sessions, { filter: { maxPrice: 5, inStock: true } });
  rec.free();
  return {
    items: catalog.length,
    repricing100: { p50: median(repriced), p99: quantile(repriced, 0.99) },
    adding100: { p50: median(added), max: Math.max(...added) },
    patch: {
      ...patchItems,
      bytes: patch.length,
      brotli: brotliCompressSync(Buffer.from(patch), { params: { [zc.BROTLI_PARAM_QUALITY]: 11 } }).length,
      applyP50: median(patched),
      applyMax: Math.max(...patched),
    },
    inPage,
    v1,
    recommendBefore: before,
    recommendAfter: after,
    recommendFiltered: filtered,
  };
}
