// Every error code the engine and its wrappers can produce is the one list
// index.d.ts types and docs/guide.md documents ("Errors and their codes"), and a value
// of the wrong type gets its call's code before it reaches WebAssembly (issue 36).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Recommender } from 'edgerec';

const root = new URL('../../', import.meta.url);
const text = (path) => readFile(new URL(path, root), 'utf8');
const all = (source, pattern) => new Set([...source.matchAll(pattern)].map((m) => m[1]));

async function thrownCodes() {
  const codes = new Set();
  const rust = (await text('src/error.rs')) + (await text('src/api.rs'));
  for (const c of all(rust, /=> "([A-Z_]+)"/g)) codes.add(c);
  for (const c of all(rust, /plain_error\(\d+, "([A-Z_]+)"/g)) codes.add(c);
  for (const file of (await readdir(new URL('js/', root))).filter((f) => f.endsWith('.mjs'))) {
    const js = await text(`js/${file}`);
    for (const c of all(js, /edgerecError\('([A-Z_]+)'/g)) codes.add(c);
    for (const c of all(js, /code: '([A-Z_]+)'/g)) codes.add(c);
  }
  return codes;
}

test('the codes thrown are the codes typed and documented', async () => {
  const thrown = await thrownCodes();
  assert.ok(thrown.size >= 20, `found ${thrown.size} codes: the patterns still match the sources`);
  const dts = await text('index.d.ts');
  const union = dts.slice(dts.indexOf('export type ErrorCode'), dts.indexOf(';', dts.indexOf('export type ErrorCode')));
  const typed = all(union, /'([A-Z_]+)'/g);
  assert.deepEqual([...thrown].filter((c) => !typed.has(c)), [], 'thrown but not in index.d.ts ErrorCode');
  assert.deepEqual([...typed].filter((c) => !thrown.has(c)), [], 'typed but never thrown');
  // The guide's section, from its heading to the next one: a table with one row per code.
  const guide = await text('docs/guide.md');
  const start = guide.indexOf('\n## Errors and their codes\n');
  assert.ok(start >= 0, 'docs/guide.md has its "Errors and their codes" section');
  const end = guide.indexOf('\n## ', start + 1);
  const section = guide.slice(start, end < 0 ? undefined : end);
  const documented = all(section, /^\| `([A-Z_]+)` \|/gm);
  assert.deepEqual([...thrown].filter((c) => !documented.has(c)), [], 'thrown but not in docs/guide.md\'s table of codes');
  assert.deepEqual([...documented].filter((c) => !thrown.has(c)), [], 'in docs/guide.md\'s table of codes but never thrown');
});

// ---- every input crosses the boundary typed (issue 36) ----
// wasm-bindgen copies a string argument without checking its type: a number
// or an object trapped inside WebAssembly (ENGINE_RESTARTED, every engine
// rebuilt) and an array threw a TypeError. The wrapper refuses them first,
// with the code of the call, and nothing changes.

const bundle = new Uint8Array(await readFile(new URL('models/online-retail/online-retail.edgerec', root)));
const T0 = Date.parse('2026-11-21T12:00:00Z');
const FIRST_MS = -62167219200000; // 0000-01-01T00:00:00.000Z
const LAST_MS = 253402300799999; // 9999-12-31T23:59:59.999Z

/** The error `fn` throws or rejects with, or 'no error'. */
async function failure(fn) {
  try {
    await fn();
  } catch (e) {
    return e;
  }
  return { code: 'no error' };
}

const codeOf = (e) => e?.code ?? `${e?.name} without a code: ${e?.message}`;

test('ids, keys, stored state, clocks and options of the wrong type are refused in the wrapper with their code, and nothing restarts', async () => {
  // A recommender whose decision's trace is read lazily: after a restart it would be TRACE_EXPIRED.
  const neighbour = await Recommender.load(bundle, { storage: null, clock: () => T0, shopperKey: 'neighbour' });
  neighbour.track('add_to_cart', '85123A');
  const decision = neighbour.nextBestOffer({ slot: 'cart' });
  const before = neighbour.exportState();

  const got = {};
  const expected = {};
  const expect = async (label, code, fn) => {
    expected[label] = code;
    got[label] = codeOf(await failure(fn));
  };
  for (const key of [42, {}, ['k']]) {
    await expect(`shopperKey ${JSON.stringify(key)}`, 'INVALID_OPTIONS', () => Recommender.load(bundle, { storage: null, shopperKey: key }));
  }
  await expect('storageKey 7', 'INVALID_OPTIONS', () => Recommender.load(bundle, { storage: null, storageKey: 7 }));

  // Stored state that is not text is unreadable state: INVALID_STATE, and the shopper starts afresh.
  const afresh = await Recommender.load(bundle, { storage: null, clock: () => T0, shopperKey: 'stored' });
  for (const value of [42, {}, ['x'], true, Object.create(null)]) {
    const storage = { getItem: () => value, setItem() {}, removeItem() {} };
    const rec = await Recommender.load(bundle, { storage, clock: () => T0, shopperKey: 'stored' });
    expected[`stored state ${describe(value)}`] = 'INVALID_STATE';
    got[`stored state ${describe(value)}`] = rec.stateError ? codeOf(rec.stateError) : 'no stateError';
    expected[`stored state ${describe(value)}: afresh`] = true;
    got[`stored state ${describe(value)}: afresh`] = rec.exportState() === afresh.exportState();
    rec.free();
  }
  afresh.free();

  // A last good release that is not text is none: the release file's own error.
  const dir = await mkdtemp(join(tmpdir(), 'edgerec-typed-'));
  await writeFile(join(dir, 'malformed.json'), '{ "version": 1, ');
  for (const value of [42, {}]) {
    const storage = { getItem: () => value, setItem() {}, removeItem() {} };
    await expect(`stored release ${describe(value)}`, 'INVALID_RELEASE', () => Recommender.load({ release: join(dir, 'malformed.json'), shopperKey: 'k', storage }));
  }

  // Clocks outside the years 0 to 9999: the day they would write is one importState refuses.
  let now = T0;
  const timed = await Recommender.load(bundle, { storage: null, clock: () => now, shopperKey: 'timed', consent: true });
  const timedBefore = timed.exportState();
  for (const t of [1e300, -1e300, Date.UTC(10000, 0, 1), LAST_MS + 1, FIRST_MS - 1]) {
    now = t;
    await expect(`clock ${t}: track`, 'INVALID_OPTIONS', () => timed.track('view', '85123A'));
    await expect(`clock ${t}: nextBestOffer`, 'INVALID_OPTIONS', () => timed.nextBestOffer({ slot: 'cart' }));
    await expect(`clock ${t}: privacy`, 'INVALID_OPTIONS', () => timed.privacy());
  }
  now = T0;
  expected['a refused clock changed nothing'] = true;
  got['a refused clock changed nothing'] = timed.exportState() === timedBefore;
  timed.free();

  const rec = await Recommender.load(bundle, { storage: null, clock: () => T0, shopperKey: 'calls' });
  rec.track('add_to_cart', '85123A');
  const recBefore = rec.exportState();
  await expect('track({ type: Object.create(null) })', 'INVALID_EVENT', () => rec.track({ type: Object.create(null), item: '85123A' }));
  await expect('track({ type: throwing toString })', 'INVALID_EVENT', () => rec.track({ type: { toString() { throw new Error('no'); } }, item: '85123A' }));
  await expect('importState(Object.create(null))', 'INVALID_STATE', () => rec.importState(Object.create(null)));
  await expect('recommend({ toJSON: () => undefined })', 'INVALID_OPTIONS', () => rec.recommend({ toJSON: () => undefined }));
  await expect('takeSealedReport(null)', 'INVALID_OPTIONS', () => rec.takeSealedReport(null));
  await expect('sendReports(url, null)', 'INVALID_OPTIONS', () => rec.sendReports('https://collector.test/v1/reports', null));
  await expect('sendReports(42)', 'INVALID_OPTIONS', () => rec.sendReports(42, { fetch: async () => new Response('') }));
  const { version, dim, modelCard } = rec.info;
  const placement = { experiment: 'model-w49', side: 'current', share: 1, bundle: { url: 'live.edgerec', version, dim, catalog: modelCard.dataset } };
  await expect('joinRelease with a BigInt', 'INVALID_OPTIONS', () => rec.joinRelease({ ...placement, share: 1n }));
  expected['the refused calls changed nothing'] = true;
  got['the refused calls changed nothing'] = rec.exportState() === recBefore;
  rec.free();

  const release = JSON.stringify({ version: 1, experiment: 'model-w49', current: placement.bundle });
  await expect('placeShopper(release, key, null)', 'INVALID_OPTIONS', () => Recommender.placeShopper(release, 'k', null));
  for (const key of [42, {}, ['k']]) {
    await expect(`placeShopper(release, ${JSON.stringify(key)})`, 'INVALID_OPTIONS', () => Recommender.placeShopper(release, key));
  }
  assert.equal((await Recommender.placeShopper(release, 'k')).placement.side, 'current', 'a string key is placed');

  assert.deepEqual(got, expected);
  // Nothing restarted: the neighbour's engine is the same one (an earlier decision's trace is still there).
  assert.ok(Array.isArray(decision.trace), 'the neighbour\'s trace is still kept: no restart');
  assert.equal(neighbour.exportState(), before);
  neighbour.free();
});

test('a clock at the first or last millisecond of the years 0 to 9999 writes state that imports again', async () => {
  for (const t of [FIRST_MS, LAST_MS, -1, 0]) {
    const rec = await Recommender.load(bundle, { storage: null, clock: () => t, shopperKey: 'edges', consent: true });
    rec.track('add_to_cart', '85123A');
    rec.shown(rec.nextBestOffer({ slot: 'cart' }));
    const state = rec.exportState();
    const other = await Recommender.load(bundle, { storage: null, clock: () => T0 });
    other.importState(state);
    assert.deepEqual(JSON.parse(other.exportState()), JSON.parse(state), `at ${new Date(t).toISOString()}`);
    rec.free();
    other.free();
  }
});

function describe(value) {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') return Object.getPrototypeOf(value) === null ? 'null-prototype object' : 'object';
  return `${typeof value} ${String(value)}`;
}
