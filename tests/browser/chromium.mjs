// Debian's Chromium as Playwright drives it here (tests and benchmarks).
import { chromium } from 'playwright-core';

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
