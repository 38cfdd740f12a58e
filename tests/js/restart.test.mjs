// No poisoned instance (issue 15): a call that traps inside WebAssembly is
// answered with ENGINE_RESTARTED, and the same recommender objects keep
// working on a fresh instance, rebuilt from the bundle, their setup, the
// session's events and the shopper's saved state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { Recommender } from 'edgerec';
import { thrown } from './helpers.mjs';
import { FORCE_TRAP } from '../../js/recommender.mjs';

const bundle = new Uint8Array(await readFile(new URL('../../models/online-retail/online-retail.edgerec', import.meta.url)));
const T0 = 1.7e12;
const STORE_POLICY = {
  version: 1, id: 'store-own',
  offers: [{ id: 'cakestand', kind: 'item', items: ['22423'], caps: { perSession: 5 } }],
  slots: [{ id: 'home', placement: 'home', offers: ['cakestand'] }],
};
const EVENTS = [['view', '85123A'], ['add_to_cart', '85123A'], ['view', '22386'], ['add_to_cart', '22386']];


/** A recommender as a store sets one up: its policy, a session, an impression shown. */
async function shopper(key) {
  const rec = await Recommender.load(bundle, { storage: null, clock: () => T0, shopperKey: key });
  rec.usePolicy(STORE_POLICY);
  for (const [type, item] of EVENTS) rec.track(type, item);
  const d = rec.nextBestOffer({ slot: 'home' });
  assert.equal(rec.shown(d), true);
  return { rec, decision: d };
}

test('a trap inside WebAssembly restarts the engine, and the same objects answer as before it', async () => {
  const { rec, decision } = await shopper('trap-shopper');
  const { rec: neighbour } = await shopper('neighbour');
  const before = {
    state: rec.exportState(), policy: rec.policyId, page: rec.page({ k: 5 }), offer: rec.nextBestOffer({ slot: 'home' }),
    neighbour: neighbour.recommend({ k: 5 }),
  };

  const err = thrown(() => rec[FORCE_TRAP]());
  assert.equal(err.code, 'ENGINE_RESTARTED', err.message);

  // The same objects, on a fresh instance: the same policy, session, state and answers.
  assert.equal(rec.policyId, before.policy);
  assert.deepEqual(JSON.parse(rec.exportState()), JSON.parse(before.state));
  assert.deepEqual(rec.page({ k: 5 }), before.page);
  const again = rec.nextBestOffer({ slot: 'home' });
  assert.equal(again.offer.id, before.offer.offer.id);
  assert.ok(again.id > before.offer.id, 'decision ids keep rising across the restart');
  assert.equal(again.trace[0].caps[0].count, 0, 'the impression shown before the trap still counts (this page view)');
  assert.equal(thrown(() => rec.shown(decision)).code, 'DECISION_EXPIRED', 'a decision of the old engine');
  assert.equal(rec.shown(again), false, 'the same page view: nothing new');
  assert.deepEqual(neighbour.recommend({ k: 5 }), before.neighbour, 'a recommender on the same instance is rebuilt too');
  const health = await rec.handleRequest(new Request('http://edge.test/v1/health'));
  assert.equal(health.status, 200);

  // A fresh recommender fed the same good calls agrees with the rebuilt one.
  const { rec: fresh } = await shopper('trap-shopper');
  assert.deepEqual(fresh.page({ k: 5 }), rec.page({ k: 5 }));

  // It can happen again, and free() still frees.
  assert.equal(thrown(() => neighbour[FORCE_TRAP]()).code, 'ENGINE_RESTARTED');
  assert.deepEqual(rec.page({ k: 5 }), before.page);
  for (const r of [rec, neighbour, fresh]) r.free();
  assert.equal(thrown(() => rec.recommend({ k: 1 })).code, 'INVALID_STATE');
});

test('after a trap the HTTP endpoint serves the next request (a trapped request itself is a 503 ENGINE_RESTARTED)', async () => {
  const rec = await Recommender.load(bundle, { storage: null });
  assert.equal(thrown(() => rec[FORCE_TRAP]()).code, 'ENGINE_RESTARTED');
  const body = JSON.stringify({ events: [{ type: 'view', item: '85123A' }], k: 3 });
  const res = await rec.handleRequest(new Request('http://edge.test/v1/recommend', { method: 'POST', body }));
  assert.equal(res.status, 200);
  assert.equal((await res.json()).recommended.length, 3);
  rec.free();
});
