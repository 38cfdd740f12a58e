// The demo store's product pages as a phone shows them: how tall the page
// is once every slot has answered, and how many products it shows more than
// once (issue 17: "one item, one place"). Fresh shopper per page.
//   node benches/page-layout.mjs [--items 22386,85123A,…]
import { openStore } from '../tests/browser/chromium.mjs';
import { median } from './stats.mjs';

const ITEMS = ['22386', '85123A', '85099B', '22423', '47566', '20725', '84879', '22197', '21212', '23203'];
const SLOTS = ['product-offer', 'boughtTogether', 'similar', 'recommended'];

export async function measureLayout(items = ITEMS) {
  const store = await openStore();
  const pages = [];
  try {
    for (const item of items) {
      const context = await store.browser.newContext({ viewport: { width: 412, height: 915 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2.6 });
      const page = await context.newPage();
      await page.goto(`${store.base}/#/p/${item}`);
      for (const slot of SLOTS) await page.locator(`section[data-slot="${slot}"]`).waitFor({ timeout: 60_000 });
      await page.waitForFunction(() => !document.querySelector('[data-pending]'), null, { timeout: 60_000 });
      pages.push(await page.evaluate(() => {
        const shown = [...document.querySelectorAll('main [data-item]:not([data-testid="product"])')].map((e) => e.dataset.item);
        const counts = new Map();
        for (const id of shown) counts.set(id, (counts.get(id) ?? 0) + 1);
        return {
          height: document.documentElement.scrollHeight,
          products: counts.size,
          repeated: [...counts.values()].filter((n) => n > 1).length,
          mostTimes: Math.max(0, ...counts.values()),
          sets: document.querySelectorAll('[data-slot="completeTheSet"] .bundle').length + document.querySelectorAll('section.offer [data-testid="offer-price"]').length,
        };
      }));
      await context.close();
    }
  } finally {
    await store.close();
  }
  return pages;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const at = process.argv.indexOf('--items');
  const pages = await measureLayout(at > 0 ? process.argv[at + 1].split(',') : ITEMS);
  const sum = (k) => pages.reduce((s, p) => s + p[k], 0);
  console.log(`product pages on a phone (412 px wide), ${pages.length} products, fresh shoppers:`);
  console.log(`  height median ${median(pages.map((p) => p.height))} px (min ${Math.min(...pages.map((p) => p.height))}, max ${Math.max(...pages.map((p) => p.height))})`);
  console.log(`  products shown more than once: ${sum('repeated')} in all (most times one product appears: ${Math.max(...pages.map((p) => p.mostTimes))}); pages with two sets: ${pages.filter((p) => p.sets > 1).length}`);
  console.log(JSON.stringify(pages));
}
