// Prio3 reports through two real workerd aggregators (issue 21): 10,000
// simulated devices seal their day through the real engine and the Prio3
// module; the leader and the helper, each its own workerd process with its
// own SQLite storage and keys, verify every proof together and release
// noised sums. Checked: the CTR bound against the truth, forged and broken
// reports refused and counted, one aggregator's storage looks uniform,
// replays and oversized uploads, a helper that is down, restarts, and keys
// rotated mid-day.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Recommender } from 'edgerec';
import { loadPrio3 } from 'edgerec/prio3';
import { BUNDLE_PATH, postOversized, ROOT } from './helpers.mjs';
import { ctrRows, postAll, simulate, TRUE_CTR } from './collector-helpers.mjs';
import { hpkeConfig, pairSecrets, PEER_TOKEN, provision, startAggregator } from './prio3-helpers.mjs';

const DEVICES = Number(process.env.EDGEREC_SIM_DEVICES ?? 10_000);
const DAY_MS = 86_400_000;
const REPORTING = { mechanism: 'prio3' };
const isoDay = (ms) => new Date(ms).toISOString().slice(0, 10);

/** The rows of every table of every SQLite file under `dir`, read by Python's sqlite3. */
function dumpStorage(dir) {
  const script = `
import sqlite3, glob, json, sys, base64
out = []
for path in glob.glob(sys.argv[1] + '/**/*.sqlite', recursive=True):
    db = sqlite3.connect('file:' + path + '?mode=ro', uri=True)
    for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'"):
        if table.startswith('_'): continue
        cur = db.execute('SELECT * FROM "%s"' % table)
        cols = [c[0] for c in cur.description]
        for row in cur:
            out.append({'table': table, **{c: (base64.b64encode(v).decode() if isinstance(v, bytes) else v) for c, v in zip(cols, row)}})
print(json.dumps(out))`;
  return JSON.parse(execFileSync('python3', ['-c', script, dir], { maxBuffer: 256 << 20 }).toString());
}

/** Adds a finished report id of each `days` entry ({ id: day }) to the storage of the task under `dir` (its workerd stopped). */
function plantReportIds(dir, days) {
  const script = `
import sqlite3, glob, json, sys
planted = 0
for path in glob.glob(sys.argv[1] + '/**/*.sqlite', recursive=True):
    db = sqlite3.connect(path)
    # The provisioned task's object (a request for an unknown task leaves an empty one).
    if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'task'").fetchone() and db.execute('SELECT 1 FROM task').fetchone():
        for id, day in json.loads(sys.argv[2]).items():
            db.execute("INSERT INTO reports (id, day, model, state, answer) VALUES (?, ?, 'planted', 'aggregated', '{}')", (id, day))
        db.commit()
        planted += 1
    db.close()
print(planted)`;
  const planted = execFileSync('python3', ['-c', script, dir, JSON.stringify(days)]).toString().trim();
  assert.equal(planted, '1', `one task's storage under ${dir}`);
}

/** Field128 elements (16 bytes, little-endian) of `bytes`: the share of a measurement entry each. */
function elements(bytes, count) {
  const out = [];
  for (let i = 0; i < count; i++) out.push(bytes.subarray(16 * i, 16 * i + 16));
  return out;
}

/** A share looks uniform: no element is small (a plain 0/1 or count would be), bytes average 127.5. */
function assertUniform(shares, entries, what) {
  let small = 0;
  let sum = 0;
  let n = 0;
  for (const share of shares) {
    for (const e of elements(share, entries)) {
      if (e.subarray(8).every((b) => b === 0)) small += 1;
      for (const b of e) { sum += b; n += 1; }
    }
  }
  assert.ok(n >= 4000, `${what}: enough bytes to judge (${n})`);
  assert.equal(small, 0, `${what}: ${small} elements below 2^64 (a plain value would be)`);
  const mean = sum / n;
  // Uniform bytes: mean 127.5, sd 73.9/√n.
  assert.ok(Math.abs(mean - 127.5) < 6 * 73.9 / Math.sqrt(n), `${what}: byte mean ${mean.toFixed(2)}`);
  return { elements: n / 16, mean };
}

test('prio3: 10,000 devices through two workerd aggregators', { timeout: 1_800_000 }, async (t) => {
  execFileSync('cargo', ['build', '--quiet', '--example', 'prio3_forge'], { cwd: ROOT, stdio: 'inherit' });
  const dir = await mkdtemp(join(tmpdir(), 'edgerec-prio3-'));
  const storage = { leader: join(dir, 'leader'), helper: join(dir, 'helper') };
  execFileSync('mkdir', ['-p', storage.leader, storage.helper]);
  const secrets = await pairSecrets();
  let helper = await startAggregator({ role: 'helper', storage: storage.helper, keys: secrets.helperKeys, verifyKey: secrets.verifyKey });
  // The task's alarm stays out of the way (an hour) but in its own part.
  const startLeader = (keys = secrets.leaderKeys, aggregateAfterS = 3600) =>
    startAggregator({ role: 'leader', storage: storage.leader, keys, verifyKey: secrets.verifyKey, helperUrl: helper.base, port: leader?.port, aggregateAfterS });
  const startHelper = (keys = secrets.helperKeys) =>
    startAggregator({ role: 'helper', storage: storage.helper, keys, verifyKey: secrets.verifyKey, port: helper.port });
  let leader;
  leader = await startLeader();
  const servers = () => [leader.server, helper.server];
  try {
    const rec = await Recommender.load(await readFile(BUNDLE_PATH), { storage: null, reporting: REPORTING, consent: true });
    const task = rec.prio3Task();
    rec.track('view', rec.catalog()[0].item);
    // Entries of the measurement: each share's first elements are theirs.
    const entries = JSON.parse(rec.previewReport()).measurement.length;
    rec.free();
    const prio3 = await loadPrio3();
    const taskId = prio3.taskId(JSON.stringify(task));
    assert.equal((await provision(leader.base, task, 'default', 'wrong')).status, 401, 'provisioning needs the admin token');
    for (const a of [leader, helper]) assert.equal((await provision(a.base, task)).status, 200);
    const configs = { leader: await hpkeConfig(leader.base), helper: await hpkeConfig(helper.base) };
    assert.deepEqual(configs.leader, secrets.leaderKeys[0].config);
    const seal = (r) => r.takeSealedReport(configs);
    const aggregates = async (through, k = 50) => {
      const res = await fetch(`${leader.base}/v1/aggregates?store=default&task=${taskId}&through=${through}&k=${k}`);
      return { status: res.status, body: await res.json() };
    };
    const aggregate = () => fetch(`${leader.base}/v1/aggregate?store=default&task=${taskId}`, { method: 'POST' });
    const today = isoDay(Date.now());

    // The simulation: every device seals its day; the uploads go to the leader.
    let started = performance.now();
    const sim = await simulate({ devices: DEVICES, now: Date.now(), reporting: REPORTING, label: 'prio3', seed: 2028, take: seal });
    const sealSeconds = (performance.now() - started) / 1000;
    const sizes = sim.reports.map((r) => Buffer.byteLength(r)).sort((a, b) => a - b);
    started = performance.now();
    // A keep-alive connection the server closes as the next upload goes out
    // fails that upload (undici: "other side closed"); devices resend, and a
    // resent upload is a duplicate by its report id.
    const resent = { n: 0 };
    const statuses = await postAll(`${leader.base}/v1/reports`, sim.reports, 16, { retries: 3, resent });
    const uploadSeconds = (performance.now() - started) / 1000;
    assert.ok(statuses.every((s) => s === 202 || s === 200), 'every upload accepted');
    assert.ok(statuses.filter((s) => s === 200).length <= resent.n, 'a duplicate only where an upload was resent');
    started = performance.now();
    const job = await (await aggregate()).json();
    const aggregateSeconds = (performance.now() - started) / 1000;
    // Uploads past a job's size ran jobs on the way; what is left runs now.
    console.log(`# prio3: ${DEVICES} devices sealed in ${sealSeconds.toFixed(1)} s (engine day + shard + seal: ${(1000 * sealSeconds / DEVICES).toFixed(2)} ms a device in Node's WebAssembly); upload median ${sizes[sizes.length >> 1]} bytes`);
    console.log(`# prio3: leader took ${DEVICES} uploads in ${uploadSeconds.toFixed(1)} s (${Math.round(DEVICES / uploadSeconds)}/s, with the aggregation jobs they triggered; ${resent.n} resent); the last job ${job.aggregated} reports in ${aggregateSeconds.toFixed(2)} s`);

    await t.test('released CTR within its bound (±1 pt from 3,000 impressions), every sum within its stated noise', async () => {
      const { status, body: agg } = await aggregates(today);
      assert.equal(status, 200, JSON.stringify(agg));
      assert.equal(agg.pending, 0);
      assert.deepEqual(agg.rejected, {});
      const rows = ctrRows(agg, sim.truth, () => true);
      assert.ok(rows.length >= 4, 'both offer arms released');
      for (const x of rows) {
        console.log(`# prio3 ${x.arm.padEnd(8)} ${x.offer.padEnd(17)} ${(100 * TRUE_CTR[x.offer]).toFixed(1)}%: impressions ${x.real.impressions} / ${x.imp.toFixed(0)} (±${(1.96 * x.sd.impressions).toFixed(0)}), clicks ${x.real.clicks} / ${x.clk.toFixed(0)} (±${(1.96 * x.sd.clicks).toFixed(0)}), CTR ${(100 * x.r).toFixed(2)}% / ${(100 * x.estimate).toFixed(2)}% (±${(196 * x.ctrSe).toFixed(2)} pt noise; ±${(196 * x.samplingSe).toFixed(2)} pt sampling)`);
      }
      // Two discrete Laplace draws a sum (one per aggregator): within a one-in-a-million miss.
      const tail = Math.log(1e6) / Math.SQRT2;
      for (const x of rows) {
        for (const m of ['impressions', 'clicks']) {
          const error = (m === 'impressions' ? x.imp : x.clk) - x.real[m];
          assert.ok(Math.abs(error) <= tail * x.sd[m], `${x.arm}/${x.offer} ${m}: error ${error} > ${tail.toFixed(1)}·sd ${x.sd[m]}`);
        }
      }
      // Distributed noise meets ±1 pt (95 %), or 1.5 times the sampling error, on cells of
      // ≥ 1,200 impressions. Prio3's sums carry two full draws, one per aggregator (so that
      // either one alone still faces a whole draw): √2 times that noise, no more; and
      // ±1 pt itself on cells of ≥ 3,000 impressions.
      const large = rows.filter((x) => x.real.impressions >= 1200);
      assert.ok(large.length >= 2, 'cells large enough to check');
      for (const x of large) {
        const bound = Math.SQRT2 * Math.max(0.01 / 1.96, 1.5 * x.samplingSe);
        assert.ok(x.ctrSe <= bound, `${x.arm}/${x.offer}: noise ${x.ctrSe} vs √2 × the distributed bound ${bound}`);
      }
      const largest = rows.filter((x) => x.real.impressions >= 3000);
      assert.ok(largest.length >= 1, 'a cell of 3,000 impressions');
      for (const x of largest) assert.ok(1.96 * x.ctrSe <= 0.01, `${x.arm}/${x.offer}: ±${(196 * x.ctrSe).toFixed(2)} pt`);
      const errors = rows.map((x) => Math.abs(x.estimate - x.r) * 100).sort((a, b) => a - b);
      console.log(`# prio3: CTR error median ${errors[errors.length >> 1].toFixed(2)} pt, max ${errors.at(-1).toFixed(2)} pt; 95% noise bound up to ±${(196 * Math.max(...large.map((x) => x.ctrSe))).toFixed(2)} pt on cells of ≥ 1,200 impressions`);
      const visits = agg.visits.filter((v) => v.experiment === 'cart-offers-2026-11');
      assert.ok(visits.length >= 2);
      assert.ok(visits.every((v) => v.reports === DEVICES), 'every report in the batch');
      await writeFile(join(dir, 'aggregates-prio3.json'), JSON.stringify(agg));
      // The readers of the other mechanisms read these.
      const reader = await Recommender.load(await readFile(BUNDLE_PATH), { storage: null });
      assert.ok(reader.loadAggregates(JSON.stringify(agg)) >= 3, 'bandit priors seeded');
      reader.free();
      execFileSync('cargo', ['run', '--quiet', '--bin', 'edgerec', '--', 'report', '--aggregates', join(dir, 'aggregates-prio3.json'), '--out', join(dir, 'lift.html')], { cwd: ROOT, stdio: 'inherit' });
    });

    // Each later part reports on a day of its own (a collected batch takes no more reports).
    let dayBack = 0;
    const devicesOn = async (devices, label, take = seal, sameDay = false) => {
      if (!sameDay) dayBack += 1;
      const now = Date.now() - dayBack * DAY_MS;
      return { day: isoDay(now), ...(await simulate({ devices, now, reporting: REPORTING, label, seed: 100 + dayBack, take })) };
    };

    await t.test('one aggregator alone holds only uniform-looking shares', async () => {
      // Fewer than a job's worth: they wait at the leader until aggregated.
      const { reports } = await devicesOn(150, 'storage');
      assert.deepEqual([...new Set(await postAll(`${leader.base}/v1/reports`, reports))], [202]);
      // Pending at the leader: its input shares, opened.
      const pending = dumpStorage(storage.leader).filter((r) => r.table === 'reports' && r.state === 'pending');
      assert.equal(pending.length, reports.length);
      const leaderShares = pending.map((r) => Buffer.from(JSON.parse(r.opened).share, 'base64url'));
      const a = assertUniform(leaderShares, entries, 'leader input shares');
      assert.equal((await aggregate()).status, 200);
      // Summed: each aggregator's batch shares (before any noise).
      for (const [who, dirOf] of Object.entries(storage)) {
        const rows = dumpStorage(dirOf).filter((r) => r.table === 'batches' && r.share);
        const b = assertUniform(rows.map((r) => Buffer.from(r.share, 'base64')), entries, `${who} aggregate shares`);
        const plain = dumpStorage(dirOf).filter((r) => r.table === 'reports' && r.opened);
        assert.equal(plain.length, 0, `${who}: nothing kept of a report once summed`);
        console.log(`# prio3 storage, ${who}: ${b.elements} aggregate-share elements, none below 2^64, byte mean ${b.mean.toFixed(2)}`);
      }
      console.log(`# prio3 storage, leader: ${a.elements} input-share elements of ${reports.length} pending reports, none below 2^64, byte mean ${a.mean.toFixed(2)}`);
    });

    await t.test('a forged count of 5 or revenue out of range fails the proof and is counted as rejected', async () => {
      const { day, reports } = await devicesOn(60, 'honest');
      const measured = await devicesOn(2, 'forger', (r) => r.previewReport(), true);
      const files = { leader: join(dir, 'leader.json'), helper: join(dir, 'helper.json') };
      await writeFile(files.leader, JSON.stringify(configs.leader));
      await writeFile(files.helper, JSON.stringify(configs.helper));
      const clicks = task.cells.length; // impressions first, one bit a cell: this is the first cell's click
      const revenueBit = task.cells.length * 4; // a revenue bit of 2
      const forged = measured.reports.map((m, i) => {
        const file = join(dir, `measured-${i}.json`);
        const forge = `${process.env.CARGO_TARGET_DIR ?? `${ROOT}target`}/debug/examples/prio3_forge`;
        return writeFile(file, m).then(() =>
          execFileSync(forge, [file, files.leader, files.helper, String(i ? revenueBit : clicks), String(i ? 2 : 5)]).toString().trim());
      });
      const uploads = await Promise.all(forged);
      const before = (await aggregates(today)).body.rejected.invalid ?? 0;
      assert.deepEqual([...new Set(await postAll(`${leader.base}/v1/reports`, [...reports, ...uploads]))], [202], 'the leader cannot tell before the proof is checked');
      const { body } = await aggregates(day, 50);
      assert.equal(body.rejected.invalid - before, 2, JSON.stringify(body.rejected));
      const visits = body.visits.filter((v) => v.day === day);
      assert.ok(visits.length && visits.every((v) => v.reports === reports.length), 'only the honest reports are summed');
    });

    await t.test('malformed, truncated, foreign and oversized uploads are refused with a code, nothing counted', async () => {
      const { reports } = await devicesOn(1, 'bad');
      const good = JSON.parse(reports[0]);
      const variants = [
        ['not JSON', '{', 400, 'INVALID_REPORT'],
        ['unknown field', { ...good, extra: 1 }, 400, 'INVALID_REPORT'],
        ['bad id', { ...good, id: 'XYZ' }, 400, 'INVALID_REPORT'],
        ['truncated leader share', { ...good, leader: { ...good.leader, payload: good.leader.payload.slice(0, 100) } }, 400, 'UNDECRYPTABLE'],
        ['altered public share', { ...good, public: `A${good.public.slice(1)}` === good.public ? `B${good.public.slice(1)}` : `A${good.public.slice(1)}` }, 400, 'UNDECRYPTABLE'],
        ['unknown config', { ...good, leader: { ...good.leader, configId: 9 } }, 400, 'OUTDATED_CONFIG'],
        ['unknown task', { ...good, task: `sha256:${'0'.repeat(64)}` }, 404, 'UNKNOWN_TASK'],
        ['stale day', { ...good, day: '2020-01-01' }, 422, 'TIME_BUCKET'],
      ];
      for (const [name, body, status, code] of variants) {
        const res = await fetch(`${leader.base}/v1/reports`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body) });
        const reply = await res.json();
        assert.equal(res.status, status, `${name}: ${JSON.stringify(reply)}`);
        assert.equal(reply.error.code, code, name);
      }
      assert.equal(await postOversized(`${leader.base}/v1/reports`, { size: 200_000 }), 413, 'oversized');
      assert.equal((await fetch(`${helper.base}/v1/aggregation_jobs?store=default&task=${taskId}`, { method: 'POST', body: '{"reports":[]}' })).status, 401, 'the helper takes jobs from the leader only');
      assert.equal((await fetch(`${helper.base}/v1/reports`, { method: 'POST', body: reports[0] })).status, 404, 'devices upload to the leader');
      // Past the days report ids are kept against replays, the helper takes no report, whatever the leader says.
      const old = { id: 'ab'.repeat(16), day: '2020-01-01', model: good.model ?? '', public: good.public, helper: good.helper, verifier: '' };
      const job = await fetch(`${helper.base}/v1/aggregation_jobs?store=default&task=${taskId}`, {
        method: 'POST', body: JSON.stringify({ reports: [old] }), headers: { authorization: `Bearer ${PEER_TOKEN}` },
      });
      assert.equal(job.status, 200);
      assert.deepEqual((await job.json()).answers, [{ id: old.id, rejected: 'timeBucket' }]);
    });

    await t.test('a replayed upload is counted once', async () => {
      const { day, reports } = await devicesOn(60, 'replay');
      assert.deepEqual([...new Set(await postAll(`${leader.base}/v1/reports`, reports))], [202]);
      assert.deepEqual([...new Set(await postAll(`${leader.base}/v1/reports`, reports))], [200]);
      const { body } = await aggregates(day, 50);
      assert.ok(body.visits.filter((v) => v.day === day).every((v) => v.reports === 60));
      assert.ok(body.rejected.replayed >= 60);
    });

    await t.test('the helper down: the leader keeps the shares, retries, counts each once', async () => {
      const { day, reports } = await devicesOn(80, 'down');
      helper.server.stop();
      assert.deepEqual([...new Set(await postAll(`${leader.base}/v1/reports`, reports))], [202], 'uploads still accepted');
      const down = await aggregate();
      assert.equal(down.status, 503);
      assert.equal((await down.json()).error.code, 'HELPER_UNAVAILABLE');
      const collecting = await aggregates(day, 50);
      assert.equal(collecting.status, 503, 'nothing collected while a share is missing');
      // A restart of either loses nothing: both come back on the same storage.
      leader.server.stop();
      helper = await startHelper();
      leader = await startLeader();
      const { status, body } = await aggregates(day, 50);
      assert.equal(status, 200, JSON.stringify(body));
      assert.equal(body.pending, 0);
      assert.ok(body.visits.filter((v) => v.day === day).every((v) => v.reports === 80), 'every report once');
      const earlier = body.cells.filter((c) => c.day === today);
      assert.ok(earlier.length > 0 && earlier.every((c) => c.reports === DEVICES), 'earlier releases kept across restarts');
    });

    await t.test("the task's alarm verifies pending reports on its own, and retries while the helper is down", async () => {
      const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
      const nothingPending = async () => (await (await aggregate()).json()).aggregated === 0;
      leader.server.stop();
      leader = await startLeader(secrets.leaderKeys, 1);
      // Fewer than a job's worth, and no call to /v1/aggregate: the alarm runs the job.
      const quiet = await devicesOn(60, 'alarm');
      assert.deepEqual([...new Set(await postAll(`${leader.base}/v1/reports`, quiet.reports))], [202]);
      await sleep(4000);
      assert.ok(await nothingPending(), 'the alarm aggregated the 60 reports');
      // The helper down when the alarm rings: it rings again until the helper is back.
      const late = await devicesOn(60, 'alarm-down');
      helper.server.stop();
      assert.deepEqual([...new Set(await postAll(`${leader.base}/v1/reports`, late.reports))], [202]);
      await sleep(3000);
      helper = await startHelper();
      await sleep(4000);
      assert.ok(await nothingPending(), 'aggregated once the helper answered again');
      // The leader stopped before its alarm rings: the alarm outlives the process.
      const restarted = await devicesOn(60, 'alarm-restart');
      leader.server.stop();
      leader = await startLeader(secrets.leaderKeys, 5);
      const uploaded = Date.now();
      assert.deepEqual([...new Set(await postAll(`${leader.base}/v1/reports`, restarted.reports))], [202]);
      leader.server.stop();
      assert.ok(Date.now() - uploaded < 5000, 'stopped before the alarm was due');
      leader = await startLeader(secrets.leaderKeys, 5);
      await sleep(Math.max(0, uploaded + 8000 - Date.now()));
      assert.ok(await nothingPending(), 'aggregated by the alarm set before the restart');
      for (const { day } of [quiet, late, restarted]) {
        const { status, body } = await aggregates(day, 50);
        assert.equal(status, 200, JSON.stringify(body));
        const visits = body.visits.filter((v) => v.day === day);
        assert.ok(visits.length && visits.every((v) => v.reports === 60), `every report of ${day} once`);
      }
    });

    await t.test('report ids are forgotten after 32 days (30 accepted, 2 for an outage), not before', async () => {
      leader.server.stop();
      helper.server.stop();
      const kept = isoDay(Date.now() - 31 * DAY_MS);
      const planted = { ['0'.repeat(31) + '1']: isoDay(Date.now() - 33 * DAY_MS), ['0'.repeat(31) + '2']: kept };
      for (const dir of Object.values(storage)) plantReportIds(dir, planted);
      helper = await startHelper();
      leader = await startLeader();
      // An aggregation job clears old ids at both aggregators.
      const { reports } = await devicesOn(60, 'forget');
      assert.deepEqual([...new Set(await postAll(`${leader.base}/v1/reports`, reports))], [202]);
      assert.equal((await (await aggregate()).json()).aggregated, 60);
      for (const [who, dir] of Object.entries(storage)) {
        const left = dumpStorage(dir).filter((r) => r.table === 'reports' && r.model === 'planted').map((r) => r.day);
        assert.deepEqual(left, [kept], `${who}: the 33-day-old id forgotten, the 31-day-old kept`);
      }
    });

    await t.test('keys rotated mid-day: shares sealed to the old keys still count; a stale config is resealed', async () => {
      const { day, reports } = await devicesOn(60, 'rotate');
      const rotated = { leader: [JSON.parse(prio3.generateKeypair(2)), ...secrets.leaderKeys], helper: [JSON.parse(prio3.generateKeypair(2)), ...secrets.helperKeys] };
      leader.server.stop();
      helper.server.stop();
      helper = await startHelper(rotated.helper);
      leader = await startLeader(rotated.leader);
      assert.equal((await hpkeConfig(leader.base)).id, 2, 'the new key is advertised');
      // Sealed to the old configs before the rotation, uploaded after it.
      assert.deepEqual([...new Set(await postAll(`${leader.base}/v1/reports`, reports))], [202]);
      // A device holding a config no aggregator has any more: OUTDATED_CONFIG, fetch again, reseal, accepted.
      const device = await Recommender.load(await readFile(BUNDLE_PATH), { storage: null, reporting: REPORTING, clock: () => Date.parse(`${day}T12:00:00Z`) });
      device.importState(JSON.stringify({ version: 1, shopperKey: 'rotating-device', session: 0, lastSeen: 0, draws: 0, ledger: { consent: true } }));
      device.track('add_to_cart', device.catalog()[0].item);
      device.shown(device.nextBestOffer({ slot: 'cart' }));
      let served = 0;
      const stale = { id: 7, publicKey: JSON.parse(prio3.generateKeypair(7)).config.publicKey };
      const fetchStaleOnce = async (url, init) => {
        if (String(url).endsWith('/v1/hpke_config') && String(url).startsWith(leader.base) && served++ === 0) return Response.json(stale);
        return fetch(url, init);
      };
      const sent = await device.sendReports(`${leader.base}/v1/reports?store=default`, { helper: helper.base, fetch: fetchStaleOnce });
      assert.deepEqual(sent, { sent: 1, waiting: 0 });
      device.free();
      const { body } = await aggregates(day, 50);
      assert.ok(body.visits.filter((v) => v.day === day).every((v) => v.reports === 61), JSON.stringify(body.visits.filter((v) => v.day === day)));
      assert.ok(body.rejected.outdatedConfig >= 1, 'the stale upload was refused, counted, then resealed');
      // The helper's old key dropped for good: a share sealed to it is refused at the leader
      // at once (the device can reseal), not rejected by the helper at aggregation.
      // (The leader trusts its copy of the helper's key ids for a minute: restarted here, it asks again.)
      helper.server.stop();
      leader.server.stop();
      helper = await startHelper([rotated.helper[0]]);
      leader = await startLeader(rotated.leader);
      const late = await devicesOn(1, 'dropped');
      const res = await fetch(`${leader.base}/v1/reports`, { method: 'POST', body: late.reports[0] });
      assert.equal(res.status, 400);
      assert.equal((await res.json()).error.code, 'OUTDATED_CONFIG');
    });
  } catch (err) {
    console.log(`# cause: ${err.cause?.message ?? err.cause} ${err.cause?.code ?? ""}`);
    for (const s of servers()) console.log(`# server output:\n${s.output().slice(-3000)}`);
    throw err;
  } finally {
    for (const s of servers()) s.stop();
  }
});

