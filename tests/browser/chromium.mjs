// Debian's Chromium as Playwright drives it here (tests and benchmarks).
import { chromium } from 'playwright-core';
import { startServer } from '../../www/server.mjs';

const ROOT = new URL('../../', import.meta.url).pathname;

export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
    env: { ...process.env, XDG_CONFIG_HOME: `${ROOT}test-results/.chromium-config` },
  });
}

/** The demo store on a free loopback port and a Chromium to visit it; `close()` ends both. */
export async function openStore() {
  const server = await startServer({ port: 0 });
  const browser = await launchChromium();
  return {
    server,
    browser,
    base: `http://127.0.0.1:${server.address().port}`,
    async close() {
      await browser.close();
      server.close();
    },
  };
}

/** A desktop page in a fresh context, recording every request ({ url, method, body }) and page error. */
export async function watchedPage(browser) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, serviceWorkers: 'block' });
  const page = await context.newPage();
  const requests = [];
  page.on('request', (r) => requests.push({ url: r.url(), method: r.method(), body: r.postData() }));
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return { context, page, requests, errors };
}
