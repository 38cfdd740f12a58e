// The report collector in a real workerd, for the tests that post device
// reports to it (collector.test.mjs, rollout.test.mjs).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import { readFile as readBytes } from 'node:fs/promises';
import { Recommender } from 'edgerec';
import { BUNDLE_PATH, freePort, ROOT, startProcess, waitUntilServing } from './helpers.mjs';

/** A workerd serving the collector config with `storage` as its disk. */
export async function startCollector(dir, storage, quota = 1_000_000) {
  const config = (await readFile(`${ROOT}edge/cloudflare/collector.capnp`, 'utf8'))
    .replace('embed "src/collector.mjs"', 'embed "collector.mjs"')
    .replace('embed "src/report.mjs"', 'embed "report.mjs"')
    .replace('embed "../../js/recommender.mjs"', 'embed "js/recommender.mjs"')
    .replace('text = "1000000"', `text = "${quota}"`);
  const file = join(dir, `collector-${quota}.capnp`);
  await writeFile(file, config);
  for (const module of ['collector.mjs', 'report.mjs']) {
    await writeFile(join(dir, module), await readFile(`${ROOT}edge/cloudflare/src/${module}`));
  }
  await mkdir(join(dir, 'js'), { recursive: true });
  await writeFile(join(dir, 'js/recommender.mjs'), await readFile(`${ROOT}js/recommender.mjs`));
  const port = await freePort();
  const server = startProcess(`${ROOT}node_modules/.bin/workerd`, [
    'serve', file, '--directory-path', `reports-storage=${storage}`, '--socket-addr', `http=127.0.0.1:${port}`,
  ]);
  const base = `http://127.0.0.1:${port}`;
  await waitUntilServing(`${base}/v1/health`, server);
  return { base, server };
}

/**
 * POST bodies with at most `width` in flight; returns the statuses. With
 * `retries`, a body whose connection closed before the answer is sent again,
 * as a device does with its outbox (for endpoints where a resend is a no-op).
 */
export async function postAll(url, bodies, width = 32, { retries = 0, resent = { n: 0 } } = {}) {
  const statuses = new Array(bodies.length);
  let next = 0;
  const worker = async () => {
    while (next < bodies.length) {
      const i = next++;
      for (let attempt = 0; ; attempt++) {
        try {
          const res = await fetch(url, { method: 'POST', body: bodies[i] });
          await res.arrayBuffer();
          statuses[i] = res.status;
          break;
        } catch (err) {
          if (attempt >= retries) throw err;
          resent.n += 1;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return statuses;
}

/** The released aggregates of one store's policy. */
export const fetchAggregates = async (base, policy, store = 'default') =>
  (await fetch(`${base}/v1/aggregates?store=${store}&policy=${policy}`)).json();

/** A seeded generator for the simulated shoppers' choices (not for noise). */
export function mulberry32(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The simulation's true click-through rate of each offer. */
export const TRUE_CTR = { 'cart-topup': 0.04, 'complete-the-set': 0.06, 'goes-with': 0.08, upgrade: 0.12, bestseller: 0.05 };

/**
 * Every device's day through the real engine: a cart, the cart slot's offer,
 * a click at the true rate, maybe a purchase; then its report, by `take`
 * (default takeReport(); a Prio3 test seals it). Returns the truth per
 * "arm/offer" and the reports.
 */
export async function simulate({ devices, now, reporting, label, seed, first = 0, take = (rec) => rec.takeReport() }) {
  const rec = await Recommender.load(await readBytes(BUNDLE_PATH), { storage: null, clock: () => now, reporting });
  const items = rec.catalog().slice(0, 300).map((c) => c.item);
  const random = mulberry32(seed);
  const truth = new Map(); // "arm/offer" → { impressions, clicks }
  const reports = [];
  for (let d = first; d < first + devices; d++) {
    rec.importState(JSON.stringify({ version: 1, shopperKey: `${label}-device-${d}`, session: 0, lastSeen: 0, draws: 0, ledger: { consent: true } }));
    rec.reset();
    rec.track('add_to_cart', items[Math.floor(random() * items.length)]);
    const decision = rec.nextBestOffer({ slot: 'cart' });
    rec.shown(decision);
    const offer = decision.offer?.id;
    if (offer) {
      const key = `${decision.arm.arm}/${offer}`;
      const t = truth.get(key) ?? { impressions: 0, clicks: 0 };
      t.impressions += 1;
      if (random() < TRUE_CTR[offer]) {
        t.clicks += 1;
        rec.feedback({ slot: 'cart', offer, outcome: 'click' });
      }
      truth.set(key, t);
    }
    if (random() < 0.1) rec.track('purchase', items[Math.floor(random() * items.length)]);
    const report = await take(rec);
    assert.ok(report, `device ${d} has a report`);
    reports.push(report);
  }
  rec.free();
  return { truth, reports };
}

/**
 * The released cart-slot cells of `agg` (rows passing `mine`) beside the
 * truth: sums, their noise sd, the CTR and its noise and sampling errors.
 */
export function ctrRows(agg, truth, mine) {
  const rows = [];
  for (const [key, real] of truth) {
    const [arm, offer] = key.split('/');
    const cells = agg.cells.filter((c) => mine(c) && c.arm === arm && c.offer === offer && c.slot === 'cart');
    if (!cells.length) continue;
    const sum = (m) => cells.reduce((s, c) => s + c[m].sum, 0);
    const variance = (m) => cells.reduce((s, c) => s + c[m].variance, 0);
    const [imp, clk] = [sum('impressions'), sum('clicks')];
    // The documented bound of a released sum: ±1.96·√(Σ noise variances).
    const sd = { impressions: Math.sqrt(variance('impressions')), clicks: Math.sqrt(variance('clicks')) };
    const r = real.clicks / real.impressions;
    // CTR by the delta method (valid while the impressions' noise is small beside them).
    const ctrSe = Math.sqrt(sd.clicks ** 2 + r * r * sd.impressions ** 2) / real.impressions;
    // The sampling error any A/B test has on these impressions, private or not.
    const samplingSe = Math.sqrt((r * (1 - r)) / real.impressions);
    rows.push({ arm, offer, reports: cells[0].reports, real, imp, clk, sd, r, estimate: clk / imp, ctrSe, samplingSe });
  }
  return rows;
}
