// Accessibility of the demo store and the plain script-tag page, audited by
// axe-core in Chromium on desktop and a phone: no serious or critical
// violation (WCAG 2.2 AA rules, tap targets included) on home, product,
// cart and privacy; buttons that say what they do; focus on the new view's
// heading after each navigation; a live region only for short status text.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { devices } from 'playwright-core';
import { openStore } from './chromium.mjs';

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const PROFILES = { desktop: { viewport: { width: 1280, height: 900 } }, 'pixel-7': devices['Pixel 7'] };
const PRODUCT = '22386';
let store;

before(async () => {
  store = await openStore();
});
after(() => store?.close());

/** axe-core's serious and critical violations on the page as it is now. */
export async function audit(page) {
  await page.addScriptTag({ path: AXE });
  const results = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
  }));
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}, ${v.nodes.length}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`);
}

const settled = (page) => page.waitForFunction(() => !document.querySelector('[aria-busy="true"], [data-pending]'), null, { timeout: 60_000 });

for (const [profile, options] of Object.entries(PROFILES)) {
  test(`the store passes axe-core on ${profile}: home, product, cart, privacy, the plain page`, async () => {
    const context = await store.browser.newContext({ ...options, serviceWorkers: 'block' });
    const page = await context.newPage();
    const found = {};
    await page.goto(`${store.base}/`);
    await page.locator('[data-slot="recommended"][data-source="engine"]').waitFor({ timeout: 60_000 });
    await settled(page);
    found.home = await audit(page);
    await page.goto(`${store.base}/#/p/${PRODUCT}`);
    await page.locator('[data-slot="recommended"][data-source="engine"]').waitFor({ timeout: 60_000 });
    await settled(page);
    await page.locator('[data-slot="boughtTogether"] details.why summary').first().evaluate((s) => s.click());
    found.product = await audit(page);
    await page.locator(`[data-testid="product"] [data-testid="add-${PRODUCT}"]`).click();
    await page.goto(`${store.base}/#/cart`);
    await page.locator('section[data-slot="offer"]').waitFor({ timeout: 60_000 });
    await settled(page);
    found.cart = await audit(page);
    await page.goto(`${store.base}/#/privacy`);
    await page.locator('[data-testid="consent"]').waitFor({ timeout: 60_000 });
    found.privacy = await audit(page);
    await page.goto(`${store.base}/plain.html`);
    await page.waitForFunction(() => [...document.querySelectorAll('edgerec-slot')].every((s) => s.dataset.state), null, { timeout: 60_000 });
    found.plain = await audit(page);
    console.log(`# ${profile}: ${JSON.stringify(found)}`);
    assert.deepEqual(found, { home: [], product: [], cart: [], privacy: [], plain: [] });
    await context.close();
  });
}

test('names say what a control does, focus follows the view, one small live region, 24 px targets', async () => {
  const context = await store.browser.newContext({ ...devices['Pixel 7'], serviceWorkers: 'block' });
  const page = await context.newPage();
  await page.goto(`${store.base}/`);
  await page.locator('[data-slot="recommended"][data-source="engine"]').waitFor({ timeout: 60_000 });
  assert.equal(await page.locator('main h1').count(), 1, 'the home page has its h1');
  // Every add button's name names its product: two buttons share a name only when they add the same one.
  const buttons = await page.getByRole('button', { name: /^Add .+ to cart$/ }).evaluateAll((bs) => bs.map((b) => [b.textContent, b.dataset.testid]));
  assert.ok(buttons.length >= 24, `${buttons.length} add buttons`);
  const itemOf = new Map();
  for (const [name, id] of buttons) assert.equal(itemOf.get(name) ?? id, id, `"${name}" adds two products`), itemOf.set(name, id);
  assert.equal(await page.getByRole('button', { name: 'Add to cart', exact: true }).count(), 0);
  // Only the status line is live, not the whole view.
  const live = await page.locator('[aria-live], [role="status"], [role="alert"]').evaluateAll((els) => els.map((e) => e.id));
  assert.deepEqual(live, ['status']);
  await page.locator('[data-testid="search"]').fill('red mugs');
  await page.locator('[data-testid="live-status"]', { hasText: /products? match/ }).waitFor();
  // Targets: every button, link-button and "Why this?" at least 24 px tall and wide.
  const small = await page.locator('main button, main summary, header a, header input').evaluateAll((els) => els
    .map((e) => ({ e, r: e.getBoundingClientRect() })).filter(({ r }) => r.width > 0 && (r.height < 24 || r.width < 24))
    .map(({ e, r }) => `${e.tagName} ${e.textContent.trim().slice(0, 20)} ${r.width.toFixed(0)}x${r.height.toFixed(0)}`));
  assert.deepEqual(small, []);
  // After a navigation focus is on the new view's heading; after "Add to cart", not on <body>.
  await page.locator('[data-testid="search"]').fill('');
  await page.locator(`[data-testid="product-grid"] .card[data-item="${PRODUCT}"] a.title`).evaluate((a) => a.click());
  await page.locator(`[data-testid="product"][data-item="${PRODUCT}"]`).waitFor();
  await page.waitForFunction(() => document.activeElement?.tagName === 'H1');
  await page.locator(`[data-testid="product"] [data-testid="add-${PRODUCT}"]`).tap();
  await page.locator('#cart-count', { hasText: '1' }).waitFor();
  assert.notEqual(await page.evaluate(() => document.activeElement?.tagName), 'BODY', 'focus is kept after an action');
  await page.locator('[data-testid="live-status"]', { hasText: 'added to your cart' }).waitFor();
  await context.close();
});
