// The demo store as a phone sees it (notes/RUNTIMES.md): Debian's Chromium
// through Playwright, 9.4 Mbit/s down, 0.75 up, 150 ms round trip, CPU
// slowed 4x through the DevTools protocol. Cold visits with the cache off,
// warm ones as the second visit of the same context. Median of 5 each:
// bytes over the wire, time to the first popular answer and to the first
// engine recommendation on screen, and the longest main-thread task.
//   node benches/page.mjs [--runs 5]
import { launchChromium } from '../tests/browser/chromium.mjs';
import { startServer } from '../www/server.mjs';
import { median } from './stats.mjs';

const runsFlag = process.argv.indexOf('--runs');
const RUNS = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : 5;
const PHONE = { latency: 150, downloadThroughput: 9.4e6 / 8, uploadThroughput: 750e3 / 8, offline: false };

const STORE_READY = '[data-slot="recommended"][data-source="engine"] .card';

async function visit(context, url, ready) {
  const page = context.pages()[0] ?? (await context.newPage());
  // Bytes over the wire, the worker's requests included (Playwright reports
  // them as the page's; a CDP session would see only the page's own).
  let bytes = 0;
  const pending = [];
  const onFinished = (r) => pending.push(r.sizes().then((s) => { bytes += s.responseBodySize + s.responseHeadersSize; }, () => {}));
  page.on('requestfinished', onFinished);
  await page.goto(url, { waitUntil: 'commit' });
  await page.locator(ready).first().waitFor({ timeout: 120_000 });
  const timing = await page.evaluate(() => ({
    ...window.edgerecDemo,
    longest: Math.max(0, ...(window.__longTasks ?? []).map((t) => t.duration)),
  }));
  await page.waitForTimeout(300); // late responses still count
  page.off('requestfinished', onFinished);
  await Promise.all(pending);
  return { bytes, ...timing };
}

/**
 * `path`: the page (default the store); `ready`: the selector that means the
 * first recommendation is on screen (the page sets `edgerecDemo.firstRecommendationMs`);
 * `mount`: an extra tree for the server (benches/peer-page.mjs).
 */
export async function measurePage({ runs = RUNS, path = '/', ready = STORE_READY, mount = null } = {}) {
  const server = await startServer({ port: 0, mount });
  const base = `http://127.0.0.1:${server.address().port}`;
  const url = `${base}${path}`;
  const browser = await launchChromium();
  const cold = [];
  const warm = [];
  try {
    // Let the server pre-compress its large files before the first visit.
    await fetch(url).then((r) => r.text());
    await new Promise((r) => setTimeout(r, 15_000));
    for (let i = 0; i < runs; i++) {
      const context = await browser.newContext({ viewport: { width: 412, height: 915 }, isMobile: true, hasTouch: true });
      await context.addInitScript(() => {
        window.__longTasks = [];
        new PerformanceObserver((list) => window.__longTasks.push(...list.getEntries())).observe({ type: 'longtask', buffered: true });
      });
      const page = await context.newPage();
      const cdp = await context.newCDPSession(page);
      await cdp.send('Network.enable');
      await cdp.send('Network.emulateNetworkConditions', PHONE);
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
      await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
      cold.push(await visit(context, url, ready));
      await cdp.send('Network.setCacheDisabled', { cacheDisabled: false });
      await visit(context, url, ready); // fills the cache
      warm.push(await visit(context, url, ready));
      await context.close();
    }
  } finally {
    await browser.close();
    server.close();
  }
  const summary = (xs) => ({
    bytes: median(xs.map((x) => x.bytes)),
    firstPopularMs: median(xs.map((x) => x.firstPopularMs ?? NaN)),
    firstRecommendationMs: median(xs.map((x) => x.firstRecommendationMs)),
    longestTaskMs: median(xs.map((x) => x.longest)),
    range: [Math.min(...xs.map((x) => x.firstRecommendationMs)), Math.max(...xs.map((x) => x.firstRecommendationMs))],
  });
  return { runs, cold: summary(cold), warm: summary(warm) };
}

if (process.argv[1] && new URL(import.meta.url).pathname === process.argv[1]) {
  const r = await measurePage();
  const row = (name, s) => console.log(`${name.padEnd(6)} ${(s.bytes / 1e3).toFixed(0).padStart(7)} KB  popular ${s.firstPopularMs?.toFixed(0) ?? '-'} ms  first recommendation ${s.firstRecommendationMs.toFixed(0)} ms (${s.range.map((x) => x.toFixed(0)).join('–')})  longest task ${s.longestTaskMs.toFixed(0)} ms`);
  console.log(`storefront on the phone profile (median of ${r.runs}):`);
  row('cold', r.cold);
  row('warm', r.warm);
}
