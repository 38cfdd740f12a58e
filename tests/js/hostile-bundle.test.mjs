// A hostile bundle never takes the module down (issue 36). Bundle format 2
// hands the encoder's NNEF graph to tract: a graph that nests thousands of
// brackets deep or calls itself overflows the stack inside WebAssembly, and a
// small edit makes tract panic. load() runs under the same guard as every
// call: the instance is restarted, the load fails with a code, and a good
// bundle then loads and answers exactly as on a fresh module, as do the
// recommenders that were live. The bundles are rewritten here with their
// checksums recomputed, so that each mutation reaches the readers. (Once the
// engine refuses such graphs before tract, the code is MODEL_CONTRACT and no
// restart is needed: either passes.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Recommender, wasmMemoryBytes } from 'edgerec';
import { makeRecommender } from '../../js/recommender-api.mjs';
import { declaringTwoGiB, deeplyNested, editEncoder, editGraph, graphText, selfCalling } from './bundle-edit.mjs';

const BUNDLE = new URL('../../models/online-retail/online-retail.edgerec', import.meta.url);
const bundle = new Uint8Array(await readFile(BUNDLE));
const T0 = Date.parse('2026-11-21T12:00:00Z');
const SESSION = [['view', '85123A'], ['add_to_cart', '22423'], ['view', '22386']];
/** The codes a hostile bundle may be refused with: screened before tract, or trapped in it. */
const REFUSED = ['MODEL_CONTRACT', 'BUNDLE_INVALID'];

/** What a good bundle answers for the fixed session. */
async function answers(source = bundle) {
  const rec = await Recommender.load(source, { storage: null, clock: () => T0, shopperKey: 'fixed' });
  for (const [type, item] of SESSION) rec.track(type, item);
  const out = { recommend: rec.recommend({ k: 10 }), page: rec.page({ k: 4 }), offer: rec.nextBestOffer({ slot: 'cart' }).offer?.id ?? null };
  rec.free();
  return out;
}

// Before anything hostile: this process's module is a fresh one.
const FRESH = await answers();

/** Loads `source`, which must fail: how it failed (its code, or the error's name) and how long it took. */
async function hostileLoad(source) {
  const start = performance.now();
  const err = await Recommender.load(source, { storage: null }).then(
    (rec) => {
      rec.free();
      return null;
    },
    (e) => e,
  );
  return { code: err === null ? 'LOADED' : (err.code ?? `${err.name} (no code): ${err.message}`), ms: performance.now() - start };
}

/** Every hostile load was refused with a code of REFUSED. */
function assertRefused(loads) {
  const wrong = loads.filter(({ code }) => !REFUSED.includes(code)).map(({ code }) => ({ code }));
  assert.deepEqual(wrong, [], `refused with ${[...new Set(wrong.map((l) => l.code))].join('; ')}`);
}

test('the helper rewrites a bundle faithfully: an unedited rewrite is the same bytes, and the edits reach the graph', () => {
  assert.deepEqual(editGraph(bundle, (text) => text), bundle);
  assert.match(graphText(editGraph(bundle, deeplyNested(3000))), /axes = \[{3000}0\]{3000}/);
  assert.match(graphText(editGraph(bundle, selfCalling())), /y = edgerec_loop\(x\);[^]*session = edgerec_loop\(__Div\);/);
});

test('a graph nested 3000 brackets deep or calling itself is a coded error, and a good bundle then loads and answers as on a fresh module', async (t) => {
  // A store's recommender, live through it all: a policy, a session, a decision.
  const live = await Recommender.load(bundle, { storage: null, clock: () => T0, shopperKey: 'live' });
  for (const [type, item] of SESSION) live.track(type, item);
  const liveBefore = { recommend: live.recommend({ k: 10 }), state: JSON.parse(live.exportState()) };

  const hostile = { nested: editGraph(bundle, deeplyNested(3000)), selfCalling: editGraph(bundle, selfCalling()) };
  const loads = [];
  // Twice each, alternating: before the guard, the load after the first self-calling one (and
  // every load after it) failed with "memory access out of bounds", the good bundle's included.
  for (const round of [1, 2]) {
    for (const [name, bytes] of Object.entries(hostile)) {
      loads.push({ name, ...(await hostileLoad(bytes)) });
      assert.deepEqual(await answers(), FRESH, `a good load after the ${name} bundle (round ${round})`);
    }
  }
  t.diagnostic(loads.map(({ name, code, ms }) => `${name}: ${code} in ${Math.round(ms)} ms`).join('; '));
  assertRefused(loads);
  assert.ok(loads.every(({ ms }) => ms < 5000), `hostile loads took ${loads.map(({ ms }) => Math.round(ms)).join(', ')} ms`);

  // The live recommender was rebuilt on the fresh instance: the same session, state and answers.
  assert.deepEqual(live.recommend({ k: 10 }), liveBefore.recommend);
  assert.deepEqual(JSON.parse(live.exportState()), liveBefore.state);
  assert.equal(live.track('add_to_cart', '22386'), true);
  live.free();
});

test('tract panicking while loading leaks nothing: 10 panicking loads later the module is the size of a fresh one', async () => {
  const live = await Recommender.load(bundle, { storage: null, clock: () => T0, shopperKey: 'live' });
  live.recommend({ k: 10 });
  const before = wasmMemoryBytes();
  // A GRU with no hidden units, a transpose over axis 2147483647: tract panics inside load.
  const panics = [
    editGraph(bundle, (text) => text.replace('hidden = 100', 'hidden = 0')),
    editGraph(bundle, (text) => text.replace('axes = [1, 0, 2]', 'axes = [2147483647]')),
  ];
  const loads = [];
  for (let i = 0; i < 10; i++) loads.push(await hostileLoad(panics[i % 2]));
  assert.deepEqual(await answers(), FRESH);
  live.recommend({ k: 10 }); // rebuilt, where it was restarted
  // Each panic kept ~5 MB of the instance's memory before the guard (53 MB over these ten).
  assert.ok(wasmMemoryBytes() <= before + 16 * 2 ** 20, `${before / 2 ** 20} MiB → ${wasmMemoryBytes() / 2 ** 20} MiB`);
  assertRefused(loads);
  live.free();
});

test('a tensor header declaring 2 GiB is refused before anything that size is allocated', async () => {
  const before = wasmMemoryBytes();
  const load = await hostileLoad(editEncoder(bundle, declaringTwoGiB));
  assertRefused([load]);
  assert.deepEqual(await answers(), FRESH);
  // Before the check, WebAssembly memory grew to 2 GiB (and stayed there) before the load failed.
  assert.ok(wasmMemoryBytes() <= before + 64 * 2 ** 20, `${before / 2 ** 20} MiB → ${wasmMemoryBytes() / 2 ** 20} MiB`);
});

// ---- through a model release ----

const dir = await mkdtemp(join(tmpdir(), 'edgerec-hostile-'));
const sha = (bytes) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const { dim, catalog } = await (async () => {
  const probe = await Recommender.load(bundle, { storage: null });
  const info = probe.info;
  probe.free();
  return { dim: info.dim, catalog: info.modelCard.dataset };
})();
await writeFile(join(dir, 'current.edgerec'), bundle);

/** A release file whose candidate, `bytes`, every shopper is drawn into (a 100 % canary). */
async function releaseWithCandidate(name, bytes) {
  await writeFile(join(dir, `${name}.edgerec`), bytes);
  const release = {
    version: 1,
    experiment: 'model-w49',
    current: { url: 'current.edgerec', version: sha(bundle), dim, catalog },
    candidate: { url: `${name}.edgerec`, version: sha(bytes), dim, catalog },
    canaryShare: 1,
    steps: [1],
  };
  await writeFile(join(dir, `${name}.json`), JSON.stringify(release));
  return join(dir, `${name}.json`);
}

test('a hostile canary candidate gives way to the current bundle, whatever it did, and releaseError has a code', async () => {
  // Before the guard: after the self-calling candidate the fallback failed too ("memory access
  // out of bounds": no recommender at all); after the others it worked, with no code.
  const candidates = {
    selfCalling: editGraph(bundle, selfCalling()),
    nested: editGraph(bundle, deeplyNested(3000)),
    panics: editGraph(bundle, (text) => text.replace('hidden = 100', 'hidden = 0')),
  };
  const errors = [];
  for (const round of [1, 2]) {
    for (const [name, bytes] of Object.entries(candidates)) {
      const release = await releaseWithCandidate(name, bytes);
      const rec = await Recommender.load({ release, shopperKey: 'canary', storage: null, clock: () => T0 });
      const what = `${name}, round ${round}`;
      assert.equal(rec.info.release.placed, 'candidate', what);
      assert.deepEqual([rec.info.release.side, rec.info.release.loaded], ['current', 'current'], what);
      assert.equal(rec.info.version, sha(bundle), what);
      for (const [type, item] of SESSION) rec.track(type, item);
      assert.deepEqual(rec.recommend({ k: 10 }), FRESH.recommend, what);
      errors.push({ what, code: rec.releaseError?.code ?? `no code: ${rec.releaseError?.message}` });
      rec.free();
    }
  }
  assert.deepEqual(errors.filter(({ code }) => !REFUSED.includes(code)), [], 'every releaseError carries MODEL_CONTRACT or BUNDLE_INVALID');
});

test('a candidate that fails with an error of no code (a store\'s own reader) leaves a coded releaseError, with its message', async () => {
  // A glue of its own (another instance of the module), so that this Recommender class shares nothing with edgerec's.
  const glue = await import(new URL('../../pkg/edgerec.js?own-reader', import.meta.url).href);
  glue.initSync({ module: await readFile(new URL('../../pkg/edgerec_bg.wasm', import.meta.url)) });
  const readSource = async (source) => {
    if (String(source).endsWith('unreadable.edgerec')) throw new Error('the disk is on fire');
    return new Uint8Array(await readFile(source));
  };
  const Own = makeRecommender(async () => glue, readSource);
  const release = await releaseWithCandidate('unreadable', editGraph(bundle, (text) => `${text}\n`));
  const rec = await Own.load({ release, shopperKey: 'canary', storage: null, clock: () => T0 });
  assert.equal(rec.info.release.loaded, 'current');
  assert.equal(typeof rec.releaseError?.code, 'string', `releaseError without a code: ${rec.releaseError?.stack}`);
  assert.match(rec.releaseError.message, /the disk is on fire/);
  rec.free();
});
