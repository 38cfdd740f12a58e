// The live catalog in the page's worker, as a phone runs it (benches/page.mjs's
// profile: Chromium, CPU 4x slower, 150 ms RTT): `applyPatch` of a store's
// patch and `updateItems` of 100 repricings through `edgerec/element`'s
// worker Recommender (www/plain.html), each on a fresh page once its slots
// are filled, round trip to the worker included.
import { launchChromium } from '../tests/browser/chromium.mjs';
import { startServer } from '../www/server.mjs';
import { median } from './stats.mjs';

const PHONE = { latency: 150, downloadThroughput: 9.4e6 / 8, uploadThroughput: 750e3 / 8, offline: false };

export async function measureLiveInPage(patch, repricing, { runs = 5 } = {}) {
  const server = await startServer({ port: 0 });
  const url = `http://127.0.0.1:${server.address().port}/plain.html`;
  const browser = await launchChromium();
  const applied = [];
  const updated = [];
  try {
    for (let i = 0; i < runs; i++) {
      const context = await browser.newContext({ viewport: { width: 412, height: 915 }, isMobile: true, hasTouch: true });
      const page = await context.newPage();
      const cdp = await context.newCDPSession(page);
      await cdp.send('Network.enable');
      await cdp.send('Network.emulateNetworkConditions', PHONE);
      await cdp.send('Emulation.setCPUThrottlingRate', { rate: Number(process.env.EDGEREC_CPU_RATE ?? 4) });
      await page.goto(url);
      // Once the page's own slots are filled (their calls would queue ahead in the worker).
      await page.waitForFunction(() => [...document.querySelectorAll('edgerec-slot')].every((s) => s.dataset.state), null, { timeout: 120_000 });
      await page.waitForTimeout(500);
      const t = await page.evaluate(async ([text, items]) => {
        const rec = await globalThis.edgerec.ready;
        const timed = async (fn) => { const t0 = performance.now(); await fn(); return performance.now() - t0; };
        return { patch: await timed(() => rec.applyPatch(text)), update: await timed(() => rec.updateItems(items)) };
      }, [patch, repricing]);
      applied.push(t.patch);
      updated.push(t.update);
      await context.close();
    }
  } finally {
    await browser.close();
    server.close();
  }
  return { runs, applyPatchP50: median(applied), applyPatchMax: Math.max(...applied), updateItems100P50: median(updated) };
}
