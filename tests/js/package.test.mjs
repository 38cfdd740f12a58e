// The built npm package, used the way a store uses it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { Recommender } from 'edgerec';
import { thrown } from './helpers.mjs';

const bundlePath = new URL('../../models/online-retail/online-retail.edgerec', import.meta.url);
const bundle = new Uint8Array(await readFile(bundlePath));
const rec = await Recommender.load(bundle);

async function loadError(bytes) {
  try {
    await Recommender.load(bytes);
  } catch (e) {
    return e;
  }
  assert.fail('a broken bundle must not load');
}


test('loads the default bundle and reports its model card', () => {
  const info = rec.info;
  assert.ok(info.itemCount > 3000);
  assert.equal(info.dim, 100);
  assert.deepEqual(Object.keys(info.blend).sort(), ['copurchase', 'model', 'popularity', 'recency', 'revisit']);
  assert.match(info.modelCard.dataset, /Online Retail/);
  assert.ok(info.modelCard.metrics['recall@20'] > 0);
});

test('a session gets ranked items with score parts and reasons', () => {
  rec.reset();
  assert.equal(rec.track({ type: 'view', item: '85123A' }), true);
  assert.equal(rec.track('add_to_cart', '85123A'), true);
  const out = rec.recommend({ k: 8 });
  assert.equal(out.items.length, 8);
  assert.equal(out.stats.encoded, true);
  for (const r of out.items) {
    assert.notEqual(r.item, '85123A');
    assert.equal(typeof r.title, 'string');
    assert.ok(Number.isFinite(r.score));
    assert.ok(r.reasons.length >= 1 && r.reasons.every((x) => x.text.length > 0));
    // One shape of parts for lists and offers; the score is the blend over them.
    assert.deepEqual(Object.keys(r.parts).sort(), ['copurchase', 'lift', 'margin', 'model', 'popularity', 'priceStep', 'revisit', 'taken']);
    const w = rec.policy.ranking ?? rec.info.blend; // the policy's override, else the bundle's
    const blended = w.model * r.parts.model + w.copurchase * r.parts.copurchase + w.popularity * r.parts.popularity;
    assert.ok(Math.abs(r.score - blended) < 1e-5, `${r.score} vs ${blended}`);
    assert.equal(typeof r.inStock, 'boolean');
  }
  const scores = out.items.map((r) => r.score);
  assert.deepEqual(scores, [...scores].sort((a, b) => b - a));
  assert.ok(out.items.some((r) => r.reasons.some((x) => /^Often bought together with the /.test(x.text) && /lift \d/.test(x.detail))));
});

test('an empty session falls back to popular items', () => {
  rec.reset();
  const out = rec.recommend();
  assert.equal(out.items.length, 10);
  assert.equal(out.stats.encoded, false);
  assert.ok(out.items.every((r) => r.reasons[0].code === 'popular'));
});

test('unknown items are skipped and counted, never fatal', () => {
  rec.reset();
  assert.equal(rec.track('view', 'NOT-A-PRODUCT'), false);
  const out = rec.recommend({ k: 3, anchor: 'ALSO-NOT', exclude: ['NOPE'] });
  assert.equal(out.items.length, 3);
  assert.equal(out.stats.unknownItems, 3);
});

test('malformed events and options throw coded errors and lose nothing', () => {
  rec.reset();
  rec.track('view', '22423');
  assert.equal(thrown(() => rec.track({ type: 'view', item: 42 })).code, 'INVALID_EVENT');
  assert.equal(thrown(() => rec.track({ type: 'click', item: '22423' })).code, 'INVALID_EVENT');
  assert.equal(thrown(() => rec.track(null)).code, 'INVALID_EVENT');
  assert.equal(thrown(() => rec.recommend({ k: 0 })).code, 'INVALID_OPTIONS');
  assert.equal(thrown(() => rec.recommend({ k: 'ten' })).code, 'INVALID_OPTIONS');
  assert.equal(thrown(() => rec.recommend({ kk: 3 })).code, 'INVALID_OPTIONS');
  const out = rec.recommend({ k: 5 });
  assert.equal(out.items.length, 5);
  assert.equal(out.stats.sessionLength, 1, 'the failed events changed nothing');
});

test('values JSON cannot hold and broken clocks are coded errors that change nothing (issue 15, item 4)', async () => {
  const circular = { k: 3 };
  circular.self = circular;
  for (const call of [
    () => rec.recommend({ k: 3n }),
    () => rec.recommend(circular),
    () => rec.page({ slots: [{ id: 1n }] }),
    () => rec.nextBestOffer({ slot: 'cart', now: 1n }),
  ]) {
    const e = thrown(call);
    assert.equal(e.code, 'INVALID_OPTIONS', e.message);
  }
  assert.equal(thrown(() => rec.usePolicy({ version: 1n })).code, 'INVALID_POLICY');
  let reading = 1.7e12;
  const clocked = await Recommender.load(bundle, { storage: null, clock: () => reading, shopperKey: 'k' });
  clocked.track('view', '22423');
  for (const bad of [1n, NaN, Infinity, 'now', undefined]) {
    reading = bad;
    assert.equal(thrown(() => clocked.track('view', '85123A')).code, 'INVALID_OPTIONS', String(bad));
    assert.equal(thrown(() => clocked.nextBestOffer({ slot: 'cart' })).code, 'INVALID_OPTIONS', String(bad));
    const res = await clocked.handleRequest(new Request('http://x/v1/health'));
    assert.equal(res.status, 500);
    assert.equal((await res.json()).error.code, 'INVALID_OPTIONS');
  }
  reading = 1.7e12 + 1000;
  assert.equal(clocked.recommend({ k: 3 }).stats.sessionLength, 1, 'the refused calls tracked nothing');
  clocked.free();
});

test('corrupt, truncated and wrong bundles are rejected with codes; the module keeps working', async () => {
  assert.equal((await loadError(bundle.slice(0, 1000))).code, 'BUNDLE_CORRUPT');
  assert.equal((await loadError(new Uint8Array([1, 2, 3]))).code, 'BUNDLE_CORRUPT');
  const flipped = bundle.slice();
  flipped[flipped.length - 5] ^= 0xff;
  assert.equal((await loadError(flipped)).code, 'BUNDLE_CHECKSUM');
  const e = await loadError(new URL('file:///no/such/bundle.edgerec'));
  assert.equal(e.code, 'BUNDLE_FETCH');
  // The same WebAssembly instance still serves.
  assert.equal(rec.recommend({ k: 2 }).items.length, 2);
  const again = await Recommender.load(bundle);
  assert.equal(again.recommend({ k: 2 }).items.length, 2);
  again.free();
});

test('the module reads NNEF encoders only: an ONNX bundle gets MODEL_CONTRACT, a corrupt encoder too', async () => {
  // Renaming the encoder tensor in the header (same length, checksums keyed
  // by name) turns the bundle into one that claims an ONNX encoder.
  const headerEnd = 8 + Number(new DataView(bundle.buffer, bundle.byteOffset).getBigUint64(0, true));
  const renamed = Buffer.from(bundle);
  for (let at = renamed.indexOf('encoder_nnef'); at >= 0 && at < headerEnd; at = renamed.indexOf('encoder_nnef', at + 1)) {
    renamed.write('encoder_onnx', at);
  }
  const onnx = await loadError(renamed);
  assert.equal(onnx.code, 'MODEL_CONTRACT');
  assert.match(onnx.message, /NNEF encoders only.*edgerec repack/);
  assert.equal(rec.recommend({ k: 2 }).items.length, 2, 'the module keeps working');
});

test('a session of 100,000 events stays bounded', () => {
  rec.reset();
  const ids = ['85123A', '22423', '22720', '47566', '20725', '84879', '22197', '21212'];
  for (let i = 0; i < 100_000; i++) rec.track(i % 9 === 0 ? 'add_to_cart' : 'view', ids[(i * 5) % ids.length]);
  const out = rec.recommend({ k: 10 });
  assert.ok(out.stats.sessionLength <= 64);
  assert.ok(out.items.length > 0);
  assert.ok(out.items.every((r) => !ids.includes(r.item)));
});

test('CommonJS require gives the same API', async () => {
  const require = createRequire(import.meta.url);
  const { Recommender: CjsRecommender } = require('edgerec');
  const r = await CjsRecommender.load(bundle);
  r.track('view', '85123A');
  assert.equal(r.recommend({ k: 3 }).items.length, 3);
});

test('page() fills every slot; its options are validated like recommend()', () => {
  rec.reset();
  rec.track('view', '85123A');
  rec.track('add_to_cart', '85123A');
  const page = rec.page({ anchor: '22386', k: 4 });
  assert.deepEqual(Object.keys(page).sort(), ['boughtTogether', 'completeTheSet', 'recommended', 'similar', 'stats']);
  assert.equal(page.recommended.length, 4);
  assert.equal(thrown(() => rec.page({ k: 0 })).code, 'INVALID_OPTIONS');
  assert.equal(thrown(() => rec.page({ slots: ['nope'] })).code, 'INVALID_OPTIONS');
  assert.equal(thrown(() => rec.page(null)).code, 'INVALID_OPTIONS');
  assert.equal(rec.page({ anchor: 'NO-SUCH-ITEM', k: 2 }).stats.unknownItems, 1, 'an anchor newer than the bundle is counted');
  assert.deepEqual(Object.keys(rec.page({ slots: ['similar'] })).sort(), ['similar', 'stats']);
});

/** A Map-backed localStorage stand-in (Node has none): what the browser keeps across reloads. */
function memoryStorage() {
  const m = new Map();
  return { getItem: (k) => (m.has(k) ? m.get(k) : null), setItem: (k, v) => m.set(k, String(v)), removeItem: (k) => m.delete(k), map: m };
}

test('nextBestOffer() decides under the policy, with a trace, and caps hold across a reload', async () => {
  const storage = memoryStorage();
  let now = 1.7e12;
  const clock = () => now;
  const first = await Recommender.load(bundle, { storage, clock, shopperKey: 'js-shopper' });
  assert.equal(first.policyId, 'online-retail-default');
  first.track('add_to_cart', '22386');
  const shownIds = [];
  for (let i = 0; i < 3; i++) {
    first.track('view', '22386'); // a page view each
    const d = first.nextBestOffer({ slot: 'product', anchor: '22386' });
    assert.ok(d.offer && first.shown(d), JSON.stringify(d.trace));
    assert.ok(d.trace.length >= 3 && d.trace.every((t) => Array.isArray(t.rules) && Array.isArray(t.caps)));
    shownIds.push(d.offer.id);
    now += 60_000;
  }
  assert.deepEqual(shownIds, ['complete-the-set', 'complete-the-set', 'complete-the-set']);
  const stored = JSON.parse(storage.getItem('edgerec:state'));
  assert.equal(stored.shopperKey, 'js-shopper');
  assert.equal(stored.log.length, 3);
  // A reload: a new engine on the same storage; the per-session cap (3) still holds.
  const second = await Recommender.load(bundle, { storage, clock });
  const viewed = { type: 'view', item: '22386' };
  second.restore([{ type: 'add_to_cart', item: '22386' }, viewed, viewed, viewed, { type: 'bogus' }]);
  second.track(viewed); // the next page
  const capped = second.nextBestOffer({ slot: 'product', anchor: '22386' });
  assert.notEqual(capped.offer.id, 'complete-the-set');
  const set = capped.trace.find((t) => t.offer === 'complete-the-set');
  assert.equal(set.verdict, 'capped');
  assert.deepEqual(set.caps.find((c) => c.cap === 'perSession'), { cap: 'perSession', count: 3, limit: 3, passed: false });
  // Feedback and typed errors.
  second.feedback({ slot: 'product', offer: capped.offer.id, outcome: 'dismiss' });
  assert.equal(thrown(() => second.feedback({ slot: 'product', offer: 'nope', outcome: 'click' })).code, 'INVALID_OPTIONS');
  assert.equal(thrown(() => second.nextBestOffer({ slot: 'sidebar' })).code, 'INVALID_OPTIONS');
  assert.equal(thrown(() => second.nextBestOffer({ slot: 'cart', colour: 'red' })).code, 'INVALID_OPTIONS');
  assert.equal(thrown(() => second.importState('{"version": 7}')).code, 'INVALID_STATE');
  // Corrupt stored state: the engine starts afresh and says so.
  storage.setItem('edgerec:state', '{oops');
  const third = await Recommender.load(bundle, { storage, clock });
  assert.equal(third.stateError.code, 'INVALID_STATE');
  assert.equal(JSON.parse(storage.getItem('edgerec:state')).log.length, 0);
});

test('an impression is one decision shown, counted once per page view; re-renders and reloads count nothing (issue 15, item 8)', async () => {
  const storage = memoryStorage();
  let now = 1.7e12;
  const clock = () => now;
  const opts = { storage, clock, shopperKey: 'render-test' };
  const first = await Recommender.load(bundle, opts);
  const events = [{ type: 'view', item: '22386' }];
  first.track(events[0]);
  const impressions = () => JSON.parse(storage.getItem('edgerec:state')).log.filter((e) => e.outcome === 'impression').length;
  const d = first.nextBestOffer({ slot: 'product', anchor: '22386' });
  assert.ok(d.offer && Number.isInteger(d.id));
  assert.equal(impressions(), 0, 'a decision not yet on screen counts nothing');
  assert.equal(first.shown(d), true);
  assert.equal(first.shown(d), false, 'the same decision twice');
  // "Add to cart" re-renders the page: the same offer again, same page view.
  for (let i = 0; i < 3; i++) {
    now += 1000;
    events.push({ type: 'add_to_cart', item: '21175' });
    first.track(events.at(-1));
    const again = first.nextBestOffer({ slot: 'product', anchor: '22386' });
    assert.equal(again.offer.id, d.offer.id, 'the offer does not change under the shopper');
    assert.equal(first.shown(again), false, 're-render');
    // What this page already shows does not count against it (count 0): a re-render keeps it on screen.
    assert.deepEqual(again.trace.find((t) => t.offer === d.offer.id).caps.find((c) => c.cap === 'perSession'), { cap: 'perSession', count: 0, limit: 3, passed: true });
  }
  assert.equal(impressions(), 1);
  // A reload rebuilds the same page view: still nothing new.
  const second = await Recommender.load(bundle, opts);
  second.restore(events);
  assert.equal(second.shown(second.nextBestOffer({ slot: 'product', anchor: '22386' })), false, 'reload');
  // The next page view counts.
  second.track('view', '22386');
  assert.equal(second.shown(second.nextBestOffer({ slot: 'product', anchor: '22386' })), true);
  assert.equal(impressions(), 2);
});

test('restore() replays a stored session and counts nothing again: a purchase an offer showed is its take once', async () => {
  const storage = memoryStorage();
  const opts = { storage, clock: () => 1.7e12, shopperKey: 'replay-test' };
  const purchases = () => JSON.parse(storage.getItem('edgerec:state')).log.filter((e) => e.outcome === 'purchase').length;
  const first = await Recommender.load(bundle, opts);
  const events = [{ type: 'view', item: '22386' }];
  first.track(events[0]);
  const d = first.nextBestOffer({ slot: 'product', anchor: '22386' });
  assert.equal(first.shown(d), true);
  const bought = d.offer.items.at(-1).item;
  events.push({ type: 'purchase', item: bought });
  first.track(events[1]);
  assert.equal(purchases(), 1, 'the purchase is the shown offer\'s take');
  const second = await Recommender.load(bundle, opts);
  assert.equal(second.restore(events), 2);
  assert.equal(purchases(), 1, 'a replayed purchase is not taken again');
  assert.ok(second.recommend({ k: 3 }).stats.sessionLength >= 1, 'the session is rebuilt');
});

test('usePolicy() refuses a bad policy with the field named, and a store policy takes over', async () => {
  const r = await Recommender.load(bundle, { storage: null, clock: () => 1.7e12, shopperKey: 'k' });
  const bad = thrown(() => r.usePolicy({ version: 1, offers: [{ id: 'x', kind: 'item', items: ['85123A'], caps: { perDay: 'often' } }] }));
  assert.equal(bad.code, 'INVALID_POLICY');
  assert.match(bad.message, /offers\[0\]\.caps\.perDay/);
  assert.equal(r.policyId, 'online-retail-default', 'a refused policy changes nothing');
  const id = r.usePolicy({
    version: 1, id: 'store-own',
    offers: [{ id: 'cakestand', kind: 'item', items: ['22423'], eligibility: [{ segment: 'bakers' }] }],
    slots: [{ id: 'home', placement: 'home', offers: ['cakestand'] }],
  });
  assert.equal(id, 'store-own');
  assert.equal(r.nextBestOffer({ slot: 'home' }).offer, null);
  const d = r.nextBestOffer({ slot: 'home', segments: ['bakers'] });
  assert.equal(d.offer.items[0].item, '22423');
  assert.deepEqual(d.trace[0].rules, [{ rule: 'shopper in segment bakers', passed: true }]);
  // The trace is kept in the engine for the last 64 decisions and read on demand.
  const old = r.nextBestOffer({ slot: 'home', segments: ['bakers'] });
  const kept = r.nextBestOffer({ slot: 'home', segments: ['bakers'] });
  for (let i = 0; i < 63; i++) r.nextBestOffer({ slot: 'home' });
  assert.equal(kept.trace[0].offer, 'cakestand');
  assert.equal(thrown(() => old.trace).code, 'TRACE_EXPIRED');
  assert.equal(thrown(() => r.shown(old)).code, 'DECISION_EXPIRED');
  assert.equal(r.shown(kept), true);
  for (const bad of [null, {}, { id: -1 }, { id: 1.5 }, '3']) assert.equal(thrown(() => r.shown(bad)).code, 'INVALID_OPTIONS');
  assert.deepEqual(JSON.parse(JSON.stringify(kept)).trace, kept.trace, 'the trace serialises with the decision');
});

test('rules chained hundreds deep are refused, and the recommender keeps deciding (issue 15, item 1)', async () => {
  const r = await Recommender.load(bundle, { storage: null, clock: () => 1.7e12, shopperKey: 'k' });
  const rules = Object.fromEntries(Array.from({ length: 400 }, (_, i) => [`r${i}`, i === 399 ? { inStock: true } : { rule: `r${i + 1}` }]));
  const chained = {
    version: 1, id: 'deep', rules,
    offers: [{ id: 'cakestand', kind: 'item', items: ['22423'], eligibility: [{ rule: 'r0' }] }],
    slots: [{ id: 'home', placement: 'home', offers: ['cakestand'] }],
  };
  const err = thrown(() => r.usePolicy(chained));
  assert.equal(err.code, 'INVALID_POLICY');
  assert.match(err.message, /rules\.r0/);
  assert.equal(r.policyId, 'online-retail-default');
  assert.ok('offer' in r.nextBestOffer({ slot: 'cart' }));
  assert.ok(r.recommend({ k: 3 }).items.length === 3);
  r.free();
});

test('catalog() lists every item, most popular first', () => {
  rec.reset();
  const catalog = rec.catalog();
  assert.equal(catalog.length, rec.info.itemCount);
  assert.deepEqual(Object.keys(catalog[0]).sort(), ['category', 'inStock', 'item', 'price', 'title']);
  assert.equal(catalog[0].item, rec.recommend({ k: 1 }).items[0].item, 'the cold-start top item leads the catalog');
});

test("the demo store's own catalog.json is the bundle's catalog (node scripts/make-catalog.mjs)", async () => {
  const stored = JSON.parse(await readFile(new URL('../../www/catalog.json', import.meta.url), 'utf8'));
  assert.deepEqual(stored, rec.catalog());
});

test('handleRequest() serves the endpoint and refuses oversized bodies before reading them', async () => {
  const post = (body, headers = {}) => rec.handleRequest(new Request('http://store.test/v1/recommend', { method: 'POST', body, headers }));
  const ok = await post(JSON.stringify({ events: [{ type: 'view', item: '85123A' }], k: 3 }));
  assert.equal(ok.status, 200);
  assert.equal((await ok.json()).recommended.length, 3);
  const declared = await post('{}', { 'content-length': String(10 * 1024 * 1024) });
  assert.equal(declared.status, 413);
  assert.equal((await declared.json()).error.code, 'PAYLOAD_TOO_LARGE');
  const unknown = await post(JSON.stringify({ events: [{ type: 'view', item: 'NOPE-1' }] }));
  assert.equal(unknown.status, 422);
  assert.match((await unknown.json()).error.message, /NOPE-1/);
});

test('reports: off by default, the preview is what is sent, failed sends wait, opting out drops them', async () => {
  const { createServer } = await import('node:http');
  const received = [];
  let failNext = true;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      if (failNext) {
        failNext = false;
        res.writeHead(503).end();
        return;
      }
      received.push(body);
      res.writeHead(202).end('{}');
    });
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const url = `http://127.0.0.1:${server.address().port}/v1/reports`;
  try {
    const storage = new Map();
    const store = { getItem: (k) => storage.get(k) ?? null, setItem: (k, v) => storage.set(k, v), removeItem: (k) => storage.delete(k) };
    const rec = await Recommender.load(bundle, { storage: store, shopperKey: 'report-test' });
    const item = rec.catalog()[0].item;
    rec.track('add_to_cart', item);
    rec.shown(rec.nextBestOffer({ slot: 'cart' }));
    assert.equal(rec.consent, false);
    assert.equal(rec.takeReport(), null);
    assert.deepEqual(await rec.sendReports(url), { sent: 0, waiting: 0 });
    assert.equal(received.length, 0);

    rec.setConsent(true);
    rec.track('add_to_cart', rec.catalog()[1].item);
    rec.shown(rec.nextBestOffer({ slot: 'cart' }));
    const preview = rec.previewReport();
    assert.ok(preview && !preview.includes('report-test') && !preview.includes(item));
    assert.deepEqual(await rec.sendReports(url), { sent: 0, waiting: 1 }, 'the collector was down');
    assert.ok(storage.get('edgerec:state:outbox').includes(JSON.parse(preview).id), 'kept in storage');
    // A reload keeps consent, the spent budget and the unsent report.
    const again = await Recommender.load(bundle, { storage: store });
    assert.equal(again.consent, true);
    assert.equal(again.privacy().spentToday, 1);
    assert.deepEqual(await again.sendReports(url), { sent: 1, waiting: 0 });
    assert.deepEqual(received, [preview], 'the bytes previewed are the bytes sent');

    again.track('add_to_cart', rec.catalog()[2].item);
    again.setConsent(false);
    assert.equal(again.privacy().pendingDays, 0);
    assert.equal(storage.get('edgerec:state:outbox'), undefined);
    assert.throws(() => again.setConsent('yes'), { code: 'INVALID_OPTIONS' });
    await assert.rejects(Recommender.load(bundle, { storage: null, reporting: { epsilon: 5, epsilonPerDay: 1 } }), { code: 'INVALID_OPTIONS' });
    rec.free();
    again.free();
  } finally {
    server.close();
  }
});

test('a product-quantised bundle (the Diginetica one, pq3) loads in the module and ranks the next item', async () => {
  const bytes = new Uint8Array(await readFile(new URL('../../models/diginetica/diginetica.edgerec', import.meta.url)));
  // The safetensors header: pq3 at d = 100 stores 34 one-byte codes a row.
  const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength)));
  assert.deepEqual(header.item_embeddings_pq_codes.shape, [43097, 34]);
  const digi = await Recommender.load(bytes);
  assert.equal(digi.info.itemCount, 43097);
  const cases = (await readFile(new URL('../../../shared/data/diginetica/test_prefix_target.tsv', import.meta.url), 'utf8'))
    .split('\n').filter(Boolean).slice(0, 200).map((line) => line.split('\t'));
  let hits = 0;
  for (const [prefix, target] of cases) {
    digi.reset();
    for (const item of prefix.split(' ')) digi.track('view', item);
    const out = digi.recommend({ k: 20, includeViewed: true });
    assert.equal(out.items.length, 20);
    assert.ok(out.items.every((r) => Number.isFinite(r.score)));
    if (out.items.some((r) => r.item === target.trim())) hits += 1;
  }
  // Natively the first 500 cases give Recall@20 57.0 (tests/model_quality.rs); a broken decode gives ~0.
  assert.ok(hits / cases.length > 0.45, `Recall@20 on the first ${cases.length} cases: ${(100 * hits / cases.length).toFixed(1)}`);
  digi.free();
});
