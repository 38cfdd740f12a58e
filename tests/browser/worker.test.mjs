// `edgerec/worker` in real Chromium: the same API with the engine in a Web
// Worker, state written back to the page's localStorage, and coded errors
// (no Workers, a bundle that fails to download, a module that is not wasm)
// that leave the page able to try again.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { openStore } from './chromium.mjs';

const BUNDLE = '/vendor/edgerec/models/online-retail/online-retail.edgerec';
let store;
let page;

before(async () => {
  store = await openStore();
  page = await store.browser.newPage();
  await page.goto(`${store.base}/style.css`); // any page of the store's origin
});

after(() => store?.close());

const inPage = (fn, arg) => page.evaluate(fn, arg);

test('the worker entry answers like the main-thread one and keeps state in the page', async () => {
  const got = await inPage(async (bundle) => {
    const { Recommender } = await import('/vendor/edgerec/js/worker.mjs');
    const rec = await Recommender.load(bundle, { storageKey: 'worker-test' });
    const known = await rec.track({ type: 'view', item: '22386' });
    const page = await rec.page({ anchor: '22386', k: 4 });
    const decision = await rec.nextBestOffer({ slot: 'product', anchor: '22386' });
    const counted = [await rec.shown(decision), await rec.shown(decision.id)];
    const stored = localStorage.getItem('worker-test');
    const unknown = await rec.recommend({ k: 0 }).catch((e) => e.code);
    await rec.free();
    const afterFree = await rec.recommend({ k: 2 }).catch((e) => e.code);
    return {
      known, info: rec.info, similar: page.similar.length, trace: decision.trace.length, counted, stored, unknown, afterFree,
    };
  }, BUNDLE);
  assert.equal(got.known, true);
  assert.ok(got.info.itemCount > 3000);
  assert.ok(got.similar > 0);
  assert.ok(got.trace > 0, 'the decision trace crosses from the worker');
  assert.deepEqual(got.counted, [true, false], 'shown() counts once through the worker too');
  assert.match(got.stored, /"outcome":"impression"/, 'the engine state, with the impression, is saved in the page');
  assert.equal(got.unknown, 'INVALID_OPTIONS', 'errors keep their code across the thread');
  assert.equal(got.afterFree, 'INVALID_STATE');
});

test('bad sources and missing Workers are coded errors, and the page can try again', async () => {
  const got = await inPage(async (bundle) => {
    const { Recommender } = await import('/vendor/edgerec/js/worker.mjs');
    const code = (p) => p.then(() => 'loaded', (e) => e.code);
    const missing = await code(Recommender.load('/no/such/bundle.edgerec'));
    const notWasm = await code(Recommender.load(bundle, { wasm: '/style.css' }));
    const noModule = await code(Recommender.load(bundle, { wasm: '/no/such/module.wasm' }));
    const notBundle = await code(Recommender.load('/style.css'));
    const saved = globalThis.Worker;
    globalThis.Worker = undefined;
    const noWorkers = await code(Recommender.load(bundle));
    globalThis.Worker = saved;
    const rec = await Recommender.load(bundle);
    const items = (await rec.recommend({ k: 3 })).items.length;
    await rec.free();
    return { missing, notWasm, noModule, notBundle, noWorkers, items };
  }, BUNDLE);
  assert.deepEqual(got, { missing: 'BUNDLE_FETCH', notWasm: 'MODULE_LOAD', noModule: 'MODULE_LOAD', notBundle: 'BUNDLE_CORRUPT', noWorkers: 'MODULE_LOAD', items: 3 });
});
