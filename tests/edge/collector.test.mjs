// The report collector (edge/cloudflare/src/collector.mjs) in the real
// workerd with SQLite Durable Objects on local disk: 10,000 simulated
// devices with known take rates report through the real engine; the released
// estimates are checked against the documented error bound; malformed,
// oversized, replayed and flooding reports; a restart keeps every count.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Recommender } from 'edgerec';
import { BUNDLE_PATH, postOversized, ROOT } from './helpers.mjs';
import { ctrRows, fetchAggregates, postAll, simulate as simulateWith, startCollector, TRUE_CTR } from './collector-helpers.mjs';

const DEVICES = Number(process.env.EDGEREC_SIM_DEVICES ?? 10_000);
const POLICY = 'online-retail-default';
const aggregates = (base, store) => fetchAggregates(base, POLICY, store);
const QUOTA = 1500;
/**
 * Distributed noise: the reports the store expects a day, a little under the
 * real count (an arm's rows expect its weight share; a row is released only
 * once that many reports back it).
 */
const COHORT = Math.round(0.9 * DEVICES);
const MECHANISMS = {
  local: { reporting: {}, rows: 'discrete-laplace' },
  distributed: { reporting: { mechanism: 'distributed', cohort: COHORT }, rows: 'distributed-discrete-laplace/1' },
};

/** Every device's day through the engine under `mechanism`'s reporting. */
const simulate = (devices, now, mechanism, seed, first = 0) =>
  simulateWith({ devices, now, reporting: MECHANISMS[mechanism].reporting, label: mechanism, seed, first });

test('collector: 10,000 devices, estimates within the documented bound, abuse, restart', { timeout: 900_000 }, async (t) => {
  execFileSync('cargo', ['build', '--quiet', '--bin', 'edgerec'], { cwd: ROOT, stdio: 'inherit' });
  const dir = await mkdtemp(join(tmpdir(), 'edgerec-collector-'));
  const storage = join(dir, 'storage');
  await writeFile(join(dir, '.keep'), '');
  execFileSync('mkdir', ['-p', storage]);
  let { base, server } = await startCollector(dir, storage);
  try {
    const sims = {};
    for (const [mechanism, seed] of [['local', 2026], ['distributed', 2027]]) {
      const started = performance.now();
      const sim = await simulate(DEVICES, Date.now(), mechanism, seed);
      const simulated = performance.now();
      const statuses = await postAll(`${base}/v1/reports`, sim.reports);
      assert.deepEqual([...new Set(statuses)], [202], 'every report accepted once');
      console.log(`# ${DEVICES} devices, ${mechanism} noise: reports made in ${((simulated - started) / 1000).toFixed(1)} s, posted in ${((performance.now() - simulated) / 1000).toFixed(1)} s`);
      sims[mechanism] = sim;
    }
    const { reports } = sims.local;

    for (const mechanism of ['local', 'distributed']) await t.test(`${mechanism} noise: released CTR within the documented error bound`, async () => {
      const { truth } = sims[mechanism];
      const agg = await aggregates(base);
      assert.equal(agg.k, 50);
      const mine = (row) => row.mechanism === MECHANISMS[mechanism].rows;
      const rows = ctrRows(agg, truth, mine);
      assert.ok(rows.length >= 4, 'both offer arms released');
      console.log('# arm      offer             true CTR  impressions: real / released (±95%)   clicks: real / released (±95%)   CTR: real / released (±95% noise; ±95% sampling)');
      for (const x of rows) {
        const pair = (a, b, s) => `${String(a).padStart(6)} / ${b.toFixed(0).padStart(7)} (±${(1.96 * s).toFixed(0)})`.padEnd(32);
        console.log(`# ${x.arm.padEnd(8)} ${x.offer.padEnd(17)} ${(100 * TRUE_CTR[x.offer]).toFixed(1).padStart(7)}%  ${pair(x.real.impressions, x.imp, x.sd.impressions)} ${pair(x.real.clicks, x.clk, x.sd.clicks)} ${(100 * x.r).toFixed(1)}% / ${(100 * x.estimate).toFixed(1)}% (±${(196 * x.ctrSe).toFixed(1)} pt; ±${(196 * x.samplingSe).toFixed(1)} pt)`);
      }
      // Every released sum within a one-in-a-million miss of the truth, and
      // about 95% within the 95% bound. A local sum adds thousands of draws,
      // so it is near normal: 4.9 sd. A distributed sum carries one discrete
      // Laplace, whose tails are exponential, P(|X| > t·sd) ≈ e^(−√2·t):
      // 9.8 sd (at 4 sd this test failed with a 4.7 sd error, at 6.8 sd once
      // with 6.9 sd; 40,000 simulated sums of the shares reached 8.9 sd).
      const tail = mechanism === 'local' ? 4.9 : Math.log(1e6) / Math.SQRT2;
      let inside = 0;
      for (const x of rows) {
        for (const m of ['impressions', 'clicks']) {
          const error = (m === 'impressions' ? x.imp : x.clk) - x.real[m];
          assert.ok(Math.abs(error) <= tail * x.sd[m], `${x.arm}/${x.offer} ${m}: error ${error} > ${tail.toFixed(1)}·sd ${x.sd[m]}`);
          inside += Math.abs(error) <= 1.96 * x.sd[m];
        }
      }
      const worst = Math.max(...rows.map((x) => 1.96 * x.ctrSe));
      const errors = rows.map((x) => Math.abs(x.estimate - x.r) * 100).sort((a, b) => a - b);
      // Local noise grows as √reports, so the bound shrinks as 1/√devices;
      // distributed noise is one draw per sum, so it shrinks as 1/devices.
      const scale = mechanism === 'local' ? (worst / 0.01) ** 2 : worst / 0.01;
      console.log(`# ${mechanism}: ${inside}/${2 * rows.length} released sums inside their 95% bound; CTR error observed median ${errors[errors.length >> 1].toFixed(2)} pt, max ${errors.at(-1).toFixed(2)} pt; 95% bound up to ±${(100 * worst).toFixed(2)} pt at ε = 1 per day (±1 pt for every cell at about ${Math.ceil(DEVICES * Math.max(1, scale)).toExponential(1)} devices)`);
      // Pooled over arms: each offer's CTR, and each arm's.
      const pooled = (group) => {
        const by = new Map();
        for (const x of rows) {
          const g = by.get(group(x)) ?? { imp: 0, clk: 0, real: { impressions: 0, clicks: 0 } };
          g.imp += x.imp; g.clk += x.clk; g.real.impressions += x.real.impressions; g.real.clicks += x.real.clicks;
          by.set(group(x), g);
        }
        return [...by].map(([k, g]) => `${k} ${(100 * g.real.clicks / g.real.impressions).toFixed(2)}% → ${(100 * g.clk / g.imp).toFixed(2)}%`).join(', ');
      };
      console.log(`# ${mechanism}: CTR real → released per offer: ${pooled((x) => x.offer)}; per arm: ${pooled((x) => x.arm)}`);
      if (mechanism === 'distributed') {
        // The price of privacy: within ±1 pt, or at most 1.5 times the sampling error, on
        // cells of at least 1,200 impressions. The noise is fixed per sum, so its share of
        // the CTR shrinks as 1/n against sampling's 1/√n: below ~1,100 impressions at a 4%
        // CTR it is the larger (a bandit arm that values other offers more gives a cheap
        // one only that many).
        const large = rows.filter((x) => x.real.impressions >= 1200);
        assert.ok(large.length >= 2, 'cells large enough to check');
        for (const x of large) {
          assert.ok(x.ctrSe <= Math.max(0.01 / 1.96, 1.5 * x.samplingSe), `${x.arm}/${x.offer}: noise ${x.ctrSe} vs sampling ${x.samplingSe}`);
        }
      }
      // Visits: every report carries its arm's row, so the counts are exact.
      const visits = agg.visits.filter((v) => mine(v) && v.experiment === 'cart-offers-2026-11');
      assert.equal(visits.reduce((s, v) => s + v.reports, 0), DEVICES);
      await writeFile(join(dir, `aggregates-${mechanism}.json`), JSON.stringify({ ...agg, cells: agg.cells.filter(mine), visits: agg.visits.filter(mine) }));
    });

    await t.test('a distributed release moves only by a cohort of reports; local ones with every report', async () => {
      const released = async (mechanism) => (await aggregates(base)).cells.filter((c) => c.mechanism === MECHANISMS[mechanism].rows);
      const before = { local: await released('local'), distributed: await released('distributed') };
      for (const mechanism of ['local', 'distributed']) {
        const late = await simulate(200, Date.now(), mechanism, 7, DEVICES);
        assert.deepEqual([...new Set(await postAll(`${base}/v1/reports`, late.reports))], [202]);
      }
      // 200 more reports are fewer than any distributed row's cohort: releasing
      // them would let anyone difference 200 reports' tiny noise shares.
      assert.deepEqual(await released('distributed'), before.distributed);
      const local = await released('local');
      assert.equal(local.reduce((s, c) => s + c.reports, 0) - before.local.reduce((s, c) => s + c.reports, 0) > 0, true);
    });

    await t.test('the engine loads the released aggregates as bandit priors', async () => {
      const rec = await Recommender.load(await readFile(BUNDLE_PATH), { storage: null });
      const seeded = rec.loadAggregates(await readFile(join(dir, 'aggregates-distributed.json'), 'utf8'));
      assert.ok(seeded >= 3, `${seeded} offers seeded`);
      rec.free();
    });

    await t.test('the lift report renders from the released aggregates', async () => {
      const html = join(dir, 'lift.html');
      execFileSync('cargo', ['run', '--quiet', '--bin', 'edgerec', '--', 'report', '--aggregates', join(dir, 'aggregates-distributed.json'), '--out', html], { cwd: ROOT, stdio: 'inherit' });
      const page = await readFile(html, 'utf8');
      for (const want of ['holdout', 'bandit', 'Conversion', 'Revenue per visitor', 'Lift vs holdout', '<svg']) assert.ok(page.includes(want), want);
      assert.ok(!/<script|https?:\/\//.test(page.replace(/xmlns="http:\/\/www\.w3\.org\/2000\/svg"/g, '')), 'self-contained');
    });

    await t.test('malformed, oversized and stale reports are refused with a typed error, nothing counted', async () => {
      const before = await aggregates(base);
      const good = JSON.parse(reports[0]);
      const variants = [
        ['not JSON', '{', 400],
        ['unknown field', { ...good, id: 'a'.repeat(32), shopperKey: 'x' }, 400],
        ['missing field', (({ cells, ...rest }) => rest)({ ...good, id: 'b'.repeat(32) }), 400],
        ['bad id', { ...good, id: 'XYZ' }, 400],
        ['fractional count', { ...good, id: 'c'.repeat(32), cells: [{ ...good.cells[0], clicks: 0.5 }] }, 400],
        ['huge count', { ...good, id: 'd'.repeat(32), cells: [{ ...good.cells[0], clicks: 1e9 }] }, 400],
        ['negative variance', { ...good, id: 'e'.repeat(32), mechanism: { ...good.mechanism, variance: { ...good.mechanism.variance, cells: { ...good.mechanism.variance.cells, clicks: -1 } } } }, 400],
        ['repeated cell', { ...good, id: 'f'.repeat(32), cells: [good.cells[0], good.cells[0]] }, 400],
        ['future day', { ...good, id: '1'.repeat(32), day: '2099-01-01' }, 422],
        ['stale day', { ...good, id: '2'.repeat(32), day: '2020-01-01' }, 422],
        ['bad date', { ...good, id: '3'.repeat(32), day: '2026-02-30' }, 400],
        ['wrong mechanism', { ...good, id: '4'.repeat(32), mechanism: { ...good.mechanism, name: 'none' } }, 400],
      ];
      for (const [name, body, status] of variants) {
        const res = await fetch(`${base}/v1/reports`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });
        const reply = await res.json();
        assert.equal(res.status, status, `${name}: ${JSON.stringify(reply)}`);
        assert.match(reply.error.code, /^[A-Z_]+$/, name);
      }
      assert.equal(await postOversized(`${base}/v1/reports`, { size: 270_000 }), 413, 'streamed past the limit');
      // Declared too large: refused before reading (the client may see the socket close mid-upload).
      assert.equal(await postOversized(`${base}/v1/reports`, { size: 300_000, declared: true }), 413, 'declared past the limit');
      assert.equal((await fetch(`${base}/v1/reports?store=a/b`, { method: 'POST', body: reports[0] })).status, 400);
      assert.equal((await fetch(`${base}/v1/reports`)).status, 405);
      assert.deepEqual(await aggregates(base), before, 'nothing counted');
    });

    await t.test('a replayed report is counted once', async () => {
      const before = await aggregates(base);
      const statuses = await postAll(`${base}/v1/reports`, reports.slice(0, 200), 16);
      assert.deepEqual([...new Set(statuses)], [200]);
      assert.deepEqual(await aggregates(base), before);
    });

    await t.test('a flood is bounded by the daily quota, nothing lost or doubled', async () => {
      const floodStorage = join(dir, 'flood-storage');
      execFileSync('mkdir', ['-p', floodStorage]);
      const flooded = await startCollector(dir, floodStorage, QUOTA);
      try {
        const flood = Array.from({ length: QUOTA + 300 }, (_, i) => JSON.stringify({ ...JSON.parse(reports[i % reports.length]), id: i.toString(16).padStart(32, '0') }));
        const started = performance.now();
        const statuses = await postAll(`${flooded.base}/v1/reports`, flood, 64);
        const seconds = (performance.now() - started) / 1000;
        const accepted = statuses.filter((s) => s === 202).length;
        assert.equal(accepted, QUOTA);
        assert.equal(statuses.filter((s) => s === 429).length, flood.length - QUOTA);
        const agg = await aggregates(flooded.base);
        const reportsIn = agg.visits.filter((v) => v.experiment === 'cart-offers-2026-11').reduce((s, v) => s + v.reports, 0);
        assert.equal(reportsIn, QUOTA, 'exactly the accepted reports are in the sums');
        assert.ok((await fetch(`${flooded.base}/v1/health`)).ok, 'still serving');
        console.log(`# flood: ${flood.length} reports in ${seconds.toFixed(1)} s (${Math.round(flood.length / seconds)}/s), ${accepted} accepted, the rest 429`);
      } finally {
        flooded.server.stop();
      }
    });

    await t.test('a restarted workerd still has every count', async () => {
      const before = await aggregates(base);
      server.stop();
      ({ base, server } = await startCollector(dir, storage));
      assert.deepEqual(await aggregates(base), before);
      const replay = await fetch(`${base}/v1/reports`, { method: 'POST', body: reports[1] });
      assert.equal(replay.status, 200, 'ids survive the restart too');
    });
  } finally {
    server.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
