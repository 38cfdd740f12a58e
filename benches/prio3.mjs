// Prio3 reports (issue 21), WASM in Node: what sealing a day costs a device
// (shard + HPKE, in the Prio3 module) and its bytes, beside the distributed
// report it replaces; and each aggregator's work per report (the leader:
// open its share, start, finish; the helper: open, start, combine), as
// reports/s on one core. The workerd test prints the same end to end, with
// HTTP and SQLite (tests/edge/prio3.test.mjs).
import { readFile } from 'node:fs/promises';
import { Recommender } from '../js/node.mjs';
import { loadPrio3 } from '../js/prio3-node.mjs';
import { median, quantile } from './stats.mjs';

const root = new URL('..', import.meta.url).pathname;

/** `devices` shopper-days: each views, adds to cart and sees the cart offer. */
async function days(bytes, reporting, devices, take) {
  const rec = await Recommender.load(bytes, { storage: null, reporting });
  const items = rec.catalog().slice(0, 300).map((c) => c.item);
  const out = [];
  const ms = [];
  for (let d = 0; d < devices; d++) {
    rec.importState(JSON.stringify({ version: 1, shopperKey: `bench-${d}`, session: 0, lastSeen: 0, draws: 0, ledger: { consent: true } }));
    rec.reset();
    rec.track('add_to_cart', items[(d * 7) % items.length]);
    rec.shown(rec.nextBestOffer({ slot: 'cart' }));
    const t0 = performance.now();
    out.push(await take(rec));
    ms.push(performance.now() - t0);
  }
  const task = rec.prio3Task();
  rec.free();
  return { out, ms, task };
}

const timed = (fn) => {
  const t0 = performance.now();
  const value = fn();
  return [performance.now() - t0, value];
};

export async function benchPrio3(devices = 300) {
  const bytes = new Uint8Array(await readFile(`${root}models/online-retail/online-retail.edgerec`));
  const prio3 = await loadPrio3();
  const [leaderKey, helperKey] = [1, 1].map((id) => JSON.parse(prio3.generateKeypair(id)));
  const configs = [JSON.stringify(leaderKey.config), JSON.stringify(helperKey.config)];

  // The peer: the distributed report of the same day (noise shares, one collector).
  const distributed = await days(bytes, { mechanism: 'distributed', cohort: 10_000 }, devices, (r) => r.takeReport());
  const peerBytes = median(distributed.out.map((r) => Buffer.byteLength(r)));

  const { out: measured, ms: measureMs, task } = await days(bytes, { mechanism: 'prio3' }, devices, (r) => r.previewReport());
  const seal = measured.map((m) => timed(() => prio3.sealReport(m, ...configs)));
  const uploads = seal.map(([, u]) => u);

  const taskJson = JSON.stringify(task);
  const verifyKey = 'ab'.repeat(32);
  const leader = new prio3.Prio3Aggregator(taskJson, 'leader', verifyKey, JSON.stringify([leaderKey]));
  const helper = new prio3.Prio3Aggregator(taskJson, 'helper', verifyKey, JSON.stringify([helperKey]));
  const leaderMs = [];
  const helperMs = [];
  const ids = [];
  for (const upload of uploads) {
    const [openMs, opened] = timed(() => JSON.parse(leader.open(upload)));
    const [startMs, started] = timed(() => JSON.parse(leader.start(opened.id, opened.public, opened.share)));
    const request = JSON.stringify({ id: opened.id, day: opened.day, model: opened.model, public: opened.public, helper: opened.helper, verifier: started.verifier });
    const [helpMs, answer] = timed(() => JSON.parse(helper.help(request)));
    const [finishMs, rejected] = timed(() => leader.finish(opened.id, answer.message));
    if (rejected || answer.rejected) throw new Error(`an honest report was rejected: ${rejected ?? answer.rejected}`);
    leaderMs.push(openMs + startMs + finishMs);
    helperMs.push(helpMs);
    ids.push(opened.id);
  }
  const [mergeMs] = timed(() => leader.merge(undefined, JSON.stringify(ids)));
  helper.merge(undefined, JSON.stringify(ids));
  leader.free();
  helper.free();
  const sealMs = seal.map(([ms]) => ms);
  const madeMs = sealMs.map((ms, i) => ms + measureMs[i]);
  return {
    devices,
    entries: JSON.parse(measured[0]).measurement.length,
    seal: { p50: median(sealMs), p99: quantile(sealMs, 0.99) },
    /** The engine's measurement plus shard and seal, against the distributed report's take. */
    made: { p50: median(madeMs), p99: quantile(madeMs, 0.99) },
    peerMade: { p50: median(distributed.ms), p99: quantile(distributed.ms, 0.99) },
    uploadBytes: median(uploads.map((u) => Buffer.byteLength(u))),
    peerBytes,
    leader: { p50: median(leaderMs), perSecond: 1000 / median(leaderMs) },
    helper: { p50: median(helperMs), perSecond: 1000 / median(helperMs) },
    mergePerReportMs: mergeMs / devices,
  };
}
