// The script-tag integration in real Chromium: www/plain.html is a store page
// with no bundler and no framework, one <script type="module"> of
// js/element.mjs and <edgerec-slot> elements in the store's own markup.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { devices } from 'playwright-core';
import { openStore } from './chromium.mjs';

const STATE_KEY = 'plain-store';
let store;

before(async () => {
  store = await openStore();
});
after(() => store?.close());

/** A phone, a shopper in the policy arm (fixed key), the plain page with every slot settled. */
async function plainPage() {
  const context = await store.browser.newContext({ ...devices['Pixel 7'], serviceWorkers: 'block' });
  const page = await context.newPage();
  await page.addInitScript(([key, state]) => {
    if (!localStorage.getItem(key)) localStorage.setItem(key, state);
  }, [STATE_KEY, JSON.stringify({ version: 1, shopperKey: 'storefront-test-1', session: 0, lastSeen: 0, draws: 0, log: [], bandit: {} })]);
  const requests = [];
  page.on('request', (r) => requests.push(r));
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${store.base}/plain.html`);
  await settled(page);
  return { context, page, requests, errors };
}

const settled = (page) => page.waitForFunction(
  () => [...document.querySelectorAll('edgerec-slot')].every((s) => s.dataset.state), null, { timeout: 60_000 });

const slotItems = (page, id) => page.locator(`edgerec-slot[data-testid="${id}"]`).evaluate((s) => s.result.items.map((i) => i.item));

test('one script tag fills the store’s own markup: templates, plain lists, reasons, one item once', async () => {
  const { context, page, requests, errors } = await plainPage();
  assert.deepEqual(errors, []);
  const together = page.locator('edgerec-slot[data-testid="together"] .tile');
  assert.equal(await together.count(), 4, 'k = 4 tiles from the store’s template');
  const first = together.first();
  assert.match(await first.locator('[data-field="price"]').textContent(), /^£\d+\.\d\d$/);
  assert.ok((await first.locator('[data-field="title"]').first().textContent()).length > 3);
  assert.match(await first.locator('a[data-field="link"]').getAttribute('href'), /^\/#\/p\/\w+$/);
  assert.ok((await first.locator('[data-field="reason"]').textContent()).length > 10, 'the reason is shown');
  const add = first.locator('button[data-edgerec-track="add_to_cart"]');
  assert.match(await add.textContent(), /^Add .+ to basket$/, 'the button says what it adds');
  assert.ok(await add.getAttribute('data-edgerec-item'), 'the item is filled into the template');
  // No template: the element's own list.
  assert.equal(await page.locator('edgerec-slot[data-testid="similar"] li').count(), 4);
  // The reasons are there for the store's code too.
  const reasons = await page.locator('edgerec-slot[data-testid="together"]').evaluate((s) => s.result.items.map((i) => i.reasons[0].text));
  assert.ok(reasons.every((r) => r.length > 0));
  // One item, one place: across every slot of the page, the product itself included.
  const shown = [];
  for (const id of ['offer', 'together', 'similar', 'cart-offer']) shown.push(...(await slotItems(page, id)));
  assert.ok(!shown.includes('22386'), 'the product on screen is not suggested');
  assert.equal(new Set(shown).size, shown.length, `an item twice: ${shown}`);
  // The page view was tracked from data-edgerec-view, and kept for the next page.
  const session = await page.evaluate((key) => JSON.parse(localStorage.getItem(`${key}:session`)), STATE_KEY);
  assert.deepEqual(session, [{ type: 'view', item: '22386' }]);
  // Every request stays on the store's origin and carries no body.
  for (const r of requests) {
    assert.equal(new URL(r.url()).origin, store.base, r.url());
    assert.equal(r.postData(), null, r.url());
  }
  await context.close();
});

test('a tracked add-to-basket refills the slots; a reload is not a second view', async () => {
  const { context, page } = await plainPage();
  const renders = () => page.evaluate(() => window.renders);
  await page.evaluate(() => {
    window.renders = 0;
    document.addEventListener('edgerec-render', (e) => { if (e.target.dataset.testid === 'cart-offer') window.renders += 1; });
  });
  await page.locator('[data-testid="add-22386"]').tap();
  await page.waitForFunction((key) => JSON.parse(localStorage.getItem(`${key}:session`)).length === 2, STATE_KEY);
  // The basket's offer is decided again, for a basket holding the product.
  await page.waitForFunction(() => window.renders > 0, null, { timeout: 30_000 });
  assert.ok((await renders()) >= 1);
  // A take from the store's own button inside a list.
  const tile = page.locator('edgerec-slot[data-testid="together"] .tile').first();
  const item = await tile.locator('button').getAttribute('data-edgerec-item');
  await tile.locator('button').tap();
  await page.waitForFunction(([key, it]) => JSON.parse(localStorage.getItem(`${key}:session`)).some((e) => e.type === 'add_to_cart' && e.item === it), [STATE_KEY, item]);
  await settled(page);
  const before = await page.evaluate((key) => localStorage.getItem(`${key}:session`), STATE_KEY);
  await page.reload();
  await settled(page);
  await page.waitForTimeout(300);
  assert.equal(await page.evaluate((key) => localStorage.getItem(`${key}:session`), STATE_KEY), before, 'a reload adds no view');
  // The session came back: the product is still in the basket, so the cart offer does not offer it.
  assert.ok(!(await slotItems(page, 'cart-offer')).includes('22386'));
  await context.close();
});

test('an offer slot sends its context attribute and fills an action’s link; a bad context is a coded error', async () => {
  const { context, page, errors } = await plainPage();
  // Two more product views make three: the club invite's threshold.
  await page.evaluate(async () => {
    await window.edgerec.track('view', '85123A');
    await window.edgerec.track('view', '22423');
    for (const [id, ctx] of [['club', '{"channel": "web", "loggedIn": false}'], ['bad-context', '{"channel": "fax"}']]) {
      const slot = document.createElement('edgerec-slot');
      slot.dataset.testid = id;
      slot.setAttribute('offer', 'product');
      slot.setAttribute('item', '22423');
      slot.setAttribute('context', ctx);
      slot.innerHTML = '<h2 data-field="heading"></h2><a data-field="action" hidden></a>';
      document.body.append(slot);
    }
  });
  await settled(page);
  const club = page.locator('edgerec-slot[data-testid="club"]');
  assert.equal(await club.getAttribute('data-state'), 'ready');
  assert.equal(await club.evaluate((s) => s.result.decision.offer.id), 'join-the-club');
  const link = club.locator('a[data-field="action"]');
  assert.equal(await link.textContent(), 'Join free');
  assert.match(await link.getAttribute('href'), /\/club$/);
  assert.equal(await link.isVisible(), true);
  assert.match(await club.locator('[data-field="heading"]').textContent(), /free delivery/);
  const bad = page.locator('edgerec-slot[data-testid="bad-context"]');
  assert.deepEqual([await bad.getAttribute('data-state'), await bad.getAttribute('data-error')], ['error', 'INVALID_REQUEST']);
  assert.deepEqual(errors, []);
  await context.close();
});
