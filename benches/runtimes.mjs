// Figures for the places edgerec runs besides Node: the Worker in workerd
// and the Fastly app in Viceroy under a bounded local load (autocannon,
// 127.0.0.1 only), their cold starts, and the storefront's time from
// navigation to first recommendation in Chromium.
import autocannon from 'autocannon';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { freePort, ROOT, startProcess, waitForPort } from '../tests/edge/helpers.mjs';
import { launchChromium } from '../tests/browser/chromium.mjs';
import { startServer } from '../www/server.mjs';
import { median } from './stats.mjs';

const LOAD_SECONDS = Number(process.env.BENCH_LOAD_SECONDS ?? 10);
const CONNECTIONS = 4;
const MAX_REQUESTS = 100_000;
const PAGE_LOADS = 5;


/** Request bodies from real sessions: view every item, add the last to the cart. */
export function requestBodies(sessions) {
  return sessions.map((ids) => JSON.stringify({
    events: [...ids.map((item) => ({ type: 'view', item })), { type: 'add_to_cart', item: ids.at(-1) }],
    k: 10,
    skipUnknown: true,
  }));
}

async function load(base, bodies) {
  let next = 0;
  const result = await autocannon({
    url: `${base}/v1/recommend`,
    connections: CONNECTIONS,
    duration: LOAD_SECONDS,
    maxOverallRequests: MAX_REQUESTS, // bounded in time and in count
    requests: [{
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      setupRequest: (req) => ({ ...req, body: bodies[next++ % bodies.length] }),
    }],
  });
  return {
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

/** Start a server, time its first answers, then load it. */
async function benchServer(name, command, args, bodies) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const server = startProcess(command, args(port));
  const timed = async (fn) => {
    const t = performance.now();
    const res = await fn();
    await res.text();
    if (res.status !== 200) throw new Error(`${name}: answered ${res.status}`);
    return performance.now() - t;
  };
  try {
    const bootMs = await waitForPort(port, server);
    // The first request starts an isolate / sandbox and loads the bundle in it.
    const firstRecommendMs = await timed(() => fetch(`${base}/v1/recommend`, { method: 'POST', body: bodies[0] }));
    const secondRecommendMs = await timed(() => fetch(`${base}/v1/recommend`, { method: 'POST', body: bodies[1] }));
    return { name, bootMs, firstRecommendMs, secondRecommendMs, ...(await load(base, bodies)) };
  } finally {
    server.stop();
  }
}

async function timeToFirstRecommendation() {
  const server = await startServer({ port: 0 });
  const browser = await launchChromium();
  const times = [];
  try {
    for (let i = 0; i < PAGE_LOADS; i++) {
      const context = await browser.newContext(); // a fresh HTTP cache each time
      const page = await context.newPage();
      await page.goto(`http://127.0.0.1:${server.address().port}/`);
      await page.waitForFunction(() => window.edgerecDemo?.firstRecommendationMs, null, { timeout: 60_000 });
      times.push(await page.evaluate(() => window.edgerecDemo.firstRecommendationMs));
      await context.close();
    }
  } finally {
    await browser.close();
    server.close();
  }
  return { loads: PAGE_LOADS, medianMs: median(times), minMs: Math.min(...times), maxMs: Math.max(...times) };
}

export async function benchRuntimes(sessions) {
  const bodies = requestBodies(sessions);
  const out = { loadSeconds: LOAD_SECONDS, connections: CONNECTIONS, servers: [] };
  execFileSync(process.execPath, [`${ROOT}edge/cloudflare/build.mjs`], { stdio: 'ignore' });
  out.servers.push(await benchServer('workerd (Cloudflare Worker)', `${ROOT}node_modules/.bin/workerd`,
    (port) => ['serve', `${ROOT}edge/cloudflare/dist/config.capnp`, '--socket-addr', `http=127.0.0.1:${port}`], bodies));
  const viceroy = process.env.EDGEREC_VICEROY;
  const app = process.env.EDGEREC_FASTLY_WASM;
  if (viceroy && existsSync(viceroy) && app && existsSync(app)) {
    out.servers.push(await benchServer('Viceroy (Fastly Compute)', viceroy, (port) => ['serve', '--addr', `127.0.0.1:${port}`, app], bodies));
  } else {
    console.log('Viceroy or the Fastly app is missing (run through `npm run bench`): skipped');
  }
  out.page = await timeToFirstRecommendation();

  const f = (ms) => `${ms.toFixed(1)} ms`;
  console.log(`edge runtimes: POST /v1/recommend, ${CONNECTIONS} connections for ${LOAD_SECONDS} s, ${bodies.length} real sessions in rotation (127.0.0.1)`);
  console.log(`  ${''.padEnd(28)} ${'req/s'.padStart(6)} ${'p50'.padStart(8)} ${'p99'.padStart(8)} ${'boot'.padStart(10)} ${'1st req'.padStart(9)} ${'2nd req'.padStart(9)} ${'failed'.padStart(7)}`);
  for (const s of out.servers) {
    const cells = [f(s.p50), f(s.p99), f(s.bootMs), f(s.firstRecommendMs), f(s.secondRecommendMs)];
    const widths = [8, 8, 10, 9, 9];
    console.log(`  ${s.name.padEnd(28)} ${s.requestsPerSecond.toFixed(0).padStart(6)} ${cells.map((c, i) => c.padStart(widths[i])).join(' ')} ${String(s.non2xx + s.errors).padStart(7)}`);
  }
  console.log('  boot: process start until the port accepts (Viceroy compiles the module then; Fastly does it at deploy);');
  console.log('  1st req: the first /v1/recommend, which starts an isolate / sandbox and loads the bundle; 2nd req: the next one');
  console.log(`storefront in Chromium: navigation → first recommendation, median of ${PAGE_LOADS} fresh contexts: ${f(out.page.medianMs)} (min ${f(out.page.minMs)}, max ${f(out.page.maxMs)})\n`);
  return out;
}
