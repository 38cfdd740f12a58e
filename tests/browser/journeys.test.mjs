// The journeys issue 38 names, in real Chromium with the engine in the
// page's worker (`edgerec/worker`) on the shipped default bundle: similar
// items and upgrades of the same kind, a product added after the build
// recommended from one patch line, stock and prices from the host honoured,
// and the script tag's filter and promotion attributes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { openStore } from './chromium.mjs';

const ROOT = new URL('../../', import.meta.url).pathname;
const BUNDLE = '/vendor/edgerec/models/online-retail/online-retail.edgerec';
let store;
let page;
let upgradeOnly;

before(async () => {
  store = await openStore();
  page = await store.browser.newPage();
  await page.goto(`${store.base}/style.css`); // any page of the store's origin
  // The default policy with its upgrade offer alone, so a decision shows what an upgrade is.
  const policy = JSON.parse(await readFile(`${ROOT}models/online-retail/policy.json`, 'utf8'));
  const offers = policy.offers.filter((o) => o.kind === 'upsell');
  upgradeOnly = {
    version: policy.version, id: 'upgrades-only', currency: policy.currency, offers,
    slots: [{ id: 'product', placement: 'productPage', offers: offers.map((o) => o.id) }],
  };
});

after(() => store?.close());

/** Run `fn(rec, arg)` in the page against a fresh worker Recommender. */
const withEngine = (fn, arg) => page.evaluate(async ([bundle, body, a]) => {
  const { Recommender } = await import('/vendor/edgerec/js/worker.mjs');
  const rec = await Recommender.load(bundle, { storage: null });
  try {
    // eslint-disable-next-line no-new-func
    return await new Function('rec', 'arg', `return (${body})(rec, arg);`)(rec, a);
  } finally {
    await rec.free();
  }
}, [BUNDLE, fn.toString(), arg]);

test('similar items keep to the kind on screen: cake stands for a cake stand, lunch bags for a lunch bag', async () => {
  const got = await withEngine(async (rec) => {
    const kinds = async (anchor) => (await rec.page({ anchor, k: 5, slots: ['similar'] })).similar.map((r) => [r.title, r.category]);
    return { cakeStand: await kinds('22423'), lunchBag: await kinds('20725') };
  });
  assert.equal(got.cakeStand.length, 5);
  assert.ok(got.cakeStand.every(([, kind]) => kind === 'cake stand'), JSON.stringify(got.cakeStand));
  assert.equal(got.lunchBag.length, 5);
  assert.ok(got.lunchBag.every(([, kind]) => kind === 'lunch bag'), JSON.stringify(got.lunchBag));
});

test('an upgrade is the same kind at a clearly higher price: a dearer teacup and saucer, never a doormat of the same price', async () => {
  const got = await withEngine(async (rec, policy) => {
    await rec.usePolicy(policy);
    const catalog = await rec.catalog();
    const product = (id) => catalog.find((c) => c.item === id);
    const upgrade = async (anchor) => {
      const d = await rec.nextBestOffer({ slot: 'product', anchor });
      return { focus: product(anchor), items: (d.offer?.items ?? []).filter((i) => i.add) };
    };
    return { teacup: await upgrade('22072'), regency: await upgrade('22697'), doormat: await upgrade('48187') };
  }, upgradeOnly);
  const { teacup, regency, doormat } = got;
  // The Regency teacup (£2.95) steps up to a pricier cup and saucer; the
  // Retrospot one (£3.75) is the dearest of its kind: no upgrade (it was
  // offered a chocolate mould before the types were cleaned).
  assert.equal(regency.focus.category, 'cup and saucer');
  assert.ok(regency.items.length > 0, 'the Regency teacup has an upgrade');
  assert.equal(teacup.items.length, 0, JSON.stringify(teacup.items));
  for (const it of regency.items) {
    assert.equal(it.category, 'cup and saucer', `${it.title} is a ${it.category}`);
    assert.ok(it.price >= 1.2 * regency.focus.price, `${it.title} at ${it.price} is a clear step from ${regency.focus.price}`);
  }
  // Every doormat sells at about the same list price (the demo catalog's
  // robust price): no doormat is a clear step up, so none is offered.
  for (const it of doormat.items) {
    assert.equal(it.category, 'doormat');
    assert.ok(it.price >= 1.2 * doormat.focus.price, `${it.title} at ${it.price}`);
  }
  assert.ok(!doormat.items.some((it) => it.item === '48189'), 'the Friendship doormat is not an upgrade of another doormat');
});

test('a product added by one patch line is on its own page and in others; out of stock and sale prices are honoured', async () => {
  const got = await withEngine(async (rec) => {
    const added = await rec.updateItems([
      { id: 'NEW-CAKE-1', title: 'Pink Regency Cakestand 3 Tier', category: 'cake stand', price: 14.95 },
      { id: '22424', inStock: false },
      { id: '22423', price: 12.75, salePrice: 9.99 },
    ]);
    const own = await rec.page({ anchor: 'NEW-CAKE-1', k: 4, slots: ['similar'] });
    const elsewhere = await rec.page({ anchor: '22423', k: 10, slots: ['similar'] });
    const inStock = await rec.recommend({ k: 50, filter: { inStock: true }, anchor: '22423' });
    await rec.track({ type: 'add_to_cart', item: '22423' });
    const cart = await rec.priceCart();
    return { added, own: own.similar.map((r) => r.category), elsewhere: elsewhere.similar.map((r) => r.item), inStock: inStock.items.map((r) => r.item), cart: cart.total };
  });
  assert.equal(got.added.added, 1);
  assert.ok(got.own.length === 4 && got.own.every((k) => k === 'cake stand'), JSON.stringify(got.own));
  assert.ok(got.elsewhere.includes('NEW-CAKE-1'), `the new cake stand is among the Regency's similar items: ${got.elsewhere}`);
  assert.ok(!got.inStock.includes('22424'), 'an item marked out of stock is not in an in-stock list');
  assert.equal(got.cart, 9.99, 'the cart charges the sale price');
});

test("the script tag's filter and promotion attributes keep a slot to them; a bad one is a coded error", async () => {
  const context = await store.browser.newContext({ serviceWorkers: 'block' });
  const tab = await context.newPage();
  await tab.goto(`${store.base}/plain.html`);
  await tab.waitForFunction(() => [...document.querySelectorAll('edgerec-slot')].every((s) => s.dataset.state), null, { timeout: 60_000 });
  const got = await tab.evaluate(async () => {
    const slot = (attrs) => {
      const s = document.createElement('edgerec-slot');
      for (const [k, v] of Object.entries(attrs)) s.setAttribute(k, v);
      document.body.append(s);
      return new Promise((resolve) => s.addEventListener('edgerec-render', () => resolve(s.result.items), { once: true }));
    };
    const cheap = await slot({ list: 'recommended', k: '6', filter: JSON.stringify({ maxPrice: 2, inStock: true }) });
    const promoted = await slot({
      list: 'recommended', k: '4', item: '22423',
      promotion: JSON.stringify({ name: 'bags', percent: 50, filter: { categories: ['lunch bag'] } }),
    });
    const bad = document.createElement('edgerec-slot');
    bad.setAttribute('list', 'similar');
    bad.setAttribute('item', '22423');
    bad.setAttribute('filter', '{not json');
    document.body.append(bad);
    await new Promise((r) => { const t = setInterval(() => { if (bad.dataset.state) { clearInterval(t); r(); } }, 50); });
    return {
      cheap: cheap.map((r) => r.price),
      promoted: promoted.map((r) => [r.category, r.promotion ?? null]),
      bad: [bad.dataset.state, bad.dataset.error],
    };
  });
  await context.close();
  assert.ok(got.cheap.length > 0 && got.cheap.every((p) => p <= 2), JSON.stringify(got.cheap));
  const marked = got.promoted.filter(([, p]) => p === 'bags');
  assert.equal(marked.length, 2, JSON.stringify(got.promoted));
  assert.ok(marked.every(([kind]) => kind === 'lunch bag'));
  assert.deepEqual(got.bad, ['error', 'INVALID_OPTIONS']);
});
