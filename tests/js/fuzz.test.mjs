// Seeded fuzzing of what takes outside values in JavaScript (issue 15), with
// fast-check: the collector's report check, the WebAssembly API ("a failed
// call changes nothing": an engine given every call, hostile ones included,
// ends like a twin given only the calls that succeeded), handleRequest(), and
// bundles whose encoder is mutated (issue 36: a failed load leaves the module
// answering as a fresh one does).
// EDGEREC_FUZZ_RUNS sets the runs per property (default: a short run);
// EDGEREC_FUZZ_SEED replays a seed fast-check printed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import fc from 'fast-check';
import { Recommender } from 'edgerec';
import { Refused, validate } from '../../edge/cloudflare/src/report.mjs';
import { editEncoder } from './bundle-edit.mjs';
import { sampleReports } from './helpers.mjs';

const RUNS = Number(process.env.EDGEREC_FUZZ_RUNS ?? 150);
const SEED = Number(process.env.EDGEREC_FUZZ_SEED ?? 20261201);
const params = (runs = RUNS) => ({ numRuns: runs, seed: SEED, endOnFailure: true });
const bundle = new Uint8Array(await readFile(new URL('../../models/online-retail/online-retail.edgerec', import.meta.url)));
const policyText = await readFile(new URL('../../models/online-retail/policy.json', import.meta.url), 'utf8');
const T0 = Date.parse('2026-11-21T12:00:00Z');

/** Values that broke parsers before, or might. */
const hostile = fc.oneof(
  fc.constantFrom(null, undefined, true, '', '0', 'NaN', '__proto__', 'constructor', -0, NaN, Infinity, -1, 2 ** 53, 1e308, 1e-300, 4294967296),
  fc.double(), fc.integer(), fc.string({ maxLength: 40 }), fc.string({ unit: 'grapheme', maxLength: 8 }),
  fc.jsonValue({ maxDepth: 3 }), fc.array(fc.anything({ maxDepth: 1 }), { maxLength: 4 }),
);

/** `value` with one place in it (a key, an element, the whole) replaced by a hostile value or removed. */
function mutated(value) {
  const paths = [];
  const walk = (v, path) => {
    paths.push(path);
    if (v && typeof v === 'object') for (const k of Object.keys(v)) walk(v[k], [...path, k]);
  };
  walk(value, []);
  return fc.tuple(fc.constantFrom(...paths), hostile, fc.boolean(), fc.string({ maxLength: 12 })).map(([path, with_, drop, extraKey]) => {
    const copy = structuredClone(value);
    if (path.length === 0) return with_;
    const parent = path.slice(0, -1).reduce((o, k) => o[k], copy);
    const key = path.at(-1);
    if (drop && Array.isArray(parent)) parent.splice(Number(key), 1);
    else if (drop) delete parent[key];
    else parent[key] = with_;
    if (extraKey && !Array.isArray(parent)) parent[extraKey] = with_;
    return copy;
  });
}

test('the collector refuses every malformed report with a 4xx code, and what it accepts is well formed', async () => {
  const reports = await sampleReports(bundle, T0, 'fuzz-reports'); // real reports, to mutate
  for (const r of reports) assert.ok(validate(r, T0).cells.length > 0, 'the seeds are accepted');
  const candidates = fc.oneof(...reports.map(mutated), fc.jsonValue(), fc.string().map((s) => { try { return JSON.parse(s); } catch { return s; } }));
  fc.assert(fc.property(candidates, (candidate) => {
    // What reaches the collector is JSON text, parsed.
    const text = JSON.stringify(candidate);
    if (text === undefined) return;
    const report = JSON.parse(text);
    let checked;
    try {
      checked = validate(report, T0);
    } catch (e) {
      assert.ok(e instanceof Refused, `not a Refused: ${e?.stack ?? e}`);
      assert.ok(e.status >= 400 && e.status < 500 && /^[A-Z_]+$/.test(e.code), `${e.status} ${e.code}`);
      return;
    }
    for (const row of [...checked.cells, ...checked.visits]) {
      assert.ok(row.values.every(Number.isInteger) && Number.isInteger(row.cohort), JSON.stringify(row));
    }
    assert.ok([...checked.cellVar, ...checked.visitVar].every(Number.isFinite));
  }), params(RUNS * 4));
});

// ---- the WebAssembly API: a failed call changes nothing ----

const ITEMS = ['85123A', '22423', '22386', '21175', '47566'];
const item = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...ITEMS) }, { weight: 1, arbitrary: hostile });
const eventType = fc.oneof({ weight: 4, arbitrary: fc.constantFrom('view', 'add_to_cart', 'remove_from_cart', 'purchase') }, { weight: 1, arbitrary: hostile });
const sometimes = (good) => fc.oneof({ weight: 3, arbitrary: good }, { weight: 1, arbitrary: good.chain(mutated) }, { weight: 1, arbitrary: hostile });
const policy = JSON.parse(policyText);
/** A model release's placement naming this very bundle (joinable), to mutate. */
const placement = await (async () => {
  const probe = await Recommender.load(bundle, { storage: null });
  const { version, dim, modelCard } = probe.info;
  probe.free();
  return { experiment: 'model-w49', side: 'current', share: 0.75, bundle: { url: 'live.edgerec', version, dim, catalog: modelCard.dataset } };
})();

/** One call a store might make, with values from outside; `decision` is the last decision made. */
const call = fc.oneof(
  fc.tuple(eventType, item).map(([type, it]) => ['track', type, it]),
  fc.tuple(fc.constantFrom(...ITEMS), eventType).map(([it, type]) => ['track', { type, item: it }]),
  sometimes(fc.record({ k: fc.integer({ min: 1, max: 20 }), anchor: fc.constantFrom(...ITEMS) }, { requiredKeys: [] })).map((o) => ['recommend', o]),
  sometimes(fc.record({ k: fc.integer({ min: 1, max: 8 }), slots: fc.subarray(['similar', 'boughtTogether', 'completeTheSet', 'recommended']) }, { requiredKeys: [] })).map((o) => ['page', o]),
  sometimes(fc.record({ slot: fc.constantFrom('product', 'cart', 'post-purchase'), anchor: fc.constantFrom(...ITEMS) }, { requiredKeys: ['slot'] })).map((o) => ['nextBestOffer', o]),
  fc.oneof(fc.constant('last'), hostile).map((d) => ['shown', d]),
  sometimes(fc.record({ slot: fc.constantFrom('cart', 'product'), offer: fc.constantFrom('complete-the-set', 'bestseller', 'upgrade'), outcome: fc.constantFrom('click', 'dismiss', 'purchase') })).map((f) => ['feedback', f]),
  sometimes(fc.record({ lines: fc.array(fc.record({ item: fc.constantFrom(...ITEMS), quantity: fc.integer({ min: 1, max: 5 }) }), { maxLength: 4 }) })).map((o) => ['priceCart', o]),
  mutated(policy).map((p) => ['usePolicy', p]),
  sometimes(fc.record({ 'complete-the-set': fc.record({ shown: fc.nat(1e6), taken: fc.nat(10) }) })).map((p) => ['loadPriors', p]),
  hostile.map((a) => ['loadAggregates', a]),
  fc.oneof(fc.boolean(), hostile).map((c) => ['setConsent', c]),
  fc.oneof(fc.array(fc.record({ type: eventType, item }), { maxLength: 5 }), hostile).map((events) => ['restore', events]),
  fc.constant(['importState', 'mutated']),
  sometimes(fc.constant(placement)).map((p) => ['joinRelease', p]),
  fc.constant(['reset']),
);

/** What a failed call must leave as it was. */
function snapshot(rec) {
  return JSON.stringify({
    state: JSON.parse(rec.exportState()), policy: rec.policyId, page: rec.page({ k: 4 }), cart: rec.priceCart(), privacy: rec.privacy(),
  });
}

async function twins() {
  let now = T0;
  const make = () => Recommender.load(bundle, { storage: null, clock: () => now, shopperKey: 'fuzz-twin' });
  const [hostileRec, goodRec] = await Promise.all([make(), make()]);
  return { hostileRec, goodRec, tick: () => { now += 1000; } };
}

/** Make `c` on `rec`; returns the decision made, if any. */
function apply(rec, c, state) {
  const [name, ...args] = c;
  if (name === 'shown') return rec.shown(args[0] === 'last' ? state.decision : args[0]);
  if (name === 'importState') return rec.importState(state.mutatedState);
  const out = rec[name](...args);
  if (name === 'nextBestOffer') state.decision = out;
  return out;
}

test('a failed call changes nothing: an engine given hostile calls ends like its twin given only the good ones', async () => {
  const { hostileRec, goodRec, tick } = await twins();
  const exported = JSON.parse(hostileRec.exportState());
  const stateSample = fc.sample(mutated({ ...exported, log: [{ t: T0, s: 0, slot: 'cart', offer: 'bestseller', outcome: 'impression', items: ['22423'] }] }), { numRuns: 64, seed: SEED });
  let failed = 0;
  let calls = 0;
  fc.assert(fc.property(fc.array(call, { minLength: 1, maxLength: 25 }), fc.nat(63), (sequence, pick) => {
    // Both start from the same place each run.
    for (const r of [hostileRec, goodRec]) {
      r.reset();
      r.importState(JSON.stringify(exported));
    }
    const mutatedState = JSON.stringify(stateSample[pick]);
    const hostileSide = { mutatedState };
    const goodSide = { mutatedState };
    for (const c of sequence) {
      tick();
      calls += 1;
      // Both twins are read alike: a ranking notes the model's top score for drift.
      const before = snapshot(hostileRec);
      snapshot(goodRec);
      let ok = true;
      try {
        apply(hostileRec, c, hostileSide);
      } catch (e) {
        ok = false;
        failed += 1;
        assert.ok(typeof e.code === 'string' && e.code !== 'ENGINE_RESTARTED', `${JSON.stringify(c)} threw without a code: ${e.stack}`);
        assert.equal(snapshot(hostileRec), before, `${JSON.stringify(c)} failed (${e.code}) and changed the engine`);
      }
      if (ok) apply(goodRec, c, goodSide);
    }
    assert.equal(snapshot(hostileRec), snapshot(goodRec));
  }), params());
  assert.ok(failed > 0 && failed < calls, `${failed} of ${calls} calls failed: the generators reach both sides`);
  hostileRec.free();
  goodRec.free();
});

test('handleRequest answers every hostile request with a coded 4xx, never a throw or a 5xx', async () => {
  const rec = await Recommender.load(bundle, { storage: null, clock: () => T0 });
  const good = JSON.stringify({ events: [{ type: 'view', item: '85123A' }, { type: 'add_to_cart', item: '22423' }], slot: 'cart', shopperKey: 'k', k: 3 });
  const body = fc.oneof(
    fc.constant(good),
    fc.constant(JSON.parse(good)).chain(mutated).map((v) => JSON.stringify(v) ?? ''),
    fc.uint8Array({ maxLength: 200 }),
    fc.string({ maxLength: 200 }),
    fc.nat(70_000).map((n) => 'x'.repeat(n)),
  );
  const request = fc.record({
    method: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
    path: fc.oneof(fc.constantFrom('/v1/recommend', '/v1/offer', '/v1/cart', '/v1/health', '/', '/v1', '/v1/recommend/', '/V1/OFFER'), fc.webPath()),
    body,
    length: fc.option(fc.oneof(fc.nat(), fc.constantFrom('-1', 'abc', '1e9', '99999999999999999999'))),
  });
  await fc.assert(fc.asyncProperty(request, async ({ method, path, body: b, length }) => {
    const headers = length === null ? {} : { 'content-length': String(length) };
    let req;
    try {
      req = new Request(`http://edge.test${path.startsWith('/') ? path : `/${path}`}`, { method, headers, body: method === 'GET' ? undefined : b });
    } catch {
      return; // not a request a runtime would hand over
    }
    const res = await rec.handleRequest(req);
    assert.ok([200, 400, 404, 405, 413, 422].includes(res.status), `${method} ${path}: ${res.status}`);
    const json = await res.json();
    if (res.status !== 200) assert.match(json.error.code, /^[A-Z_]+$/);
  }), params());
  rec.free();
});

test('the Prio3 module: a mutated upload, aggregation request or measurement is a coded error or a rejection, never a trap', async () => {
  const { loadPrio3 } = await import('edgerec/prio3');
  const prio3 = await loadPrio3();
  const [leaderKey, helperKey] = [1, 1].map((id) => JSON.parse(prio3.generateKeypair(id)));
  const rec = await Recommender.load(bundle, { storage: null, clock: () => T0, reporting: { mechanism: 'prio3' }, consent: true });
  rec.track('add_to_cart', rec.catalog()[0].item);
  rec.shown(rec.nextBestOffer({ slot: 'cart' }));
  const task = JSON.stringify(rec.prio3Task());
  const measured = JSON.parse(rec.previewReport());
  rec.free();
  const configs = [JSON.stringify(leaderKey.config), JSON.stringify(helperKey.config)];
  const upload = JSON.parse(prio3.sealReport(JSON.stringify(measured), ...configs));
  const key = 'cd'.repeat(32);
  const leader = new prio3.Prio3Aggregator(task, 'leader', key, JSON.stringify([leaderKey]));
  const helper = new prio3.Prio3Aggregator(task, 'helper', key, JSON.stringify([helperKey]));
  const opened = JSON.parse(leader.open(JSON.stringify(upload)));
  const verifier = JSON.parse(leader.start(opened.id, opened.public, opened.share)).verifier;
  const request = { id: opened.id, day: opened.day, model: opened.model, public: opened.public, helper: opened.helper, verifier };
  const coded = (fn) => {
    try {
      return fn();
    } catch (e) {
      assert.match(e?.code ?? '', /^[A-Z_]+$/, String(e?.stack ?? e));
      return null;
    }
  };
  await fc.assert(fc.asyncProperty(mutated(upload), mutated(request), mutated(measured), async (u, q, m) => {
    coded(() => leader.open(JSON.stringify(u) ?? ''));
    const answer = coded(() => JSON.parse(helper.help(JSON.stringify(q) ?? '')));
    if (answer) assert.ok(answer.message || answer.rejected);
    if (answer?.message) helper.forget(answer.id);
    coded(() => prio3.sealReport(JSON.stringify(m) ?? '', ...configs));
  }), params());
  // Still whole: the honest request verifies, the honest upload opens.
  assert.ok(JSON.parse(helper.help(JSON.stringify(request))).message);
  assert.equal(JSON.parse(leader.open(JSON.stringify(upload))).id, upload.id);
  leader.free();
  helper.free();
});

// ---- bundles: a mutated encoder, then a good load answers as a fresh module ----
// Each run rewrites the shipped bundle's encoder (its graph.nnef text, its tar
// entries or a .dat tensor header) with the checksums recomputed, so the
// mutation reaches the readers, and loads it: it loads, or fails with a code.
// Then the good bundle, loaded afresh, and a recommender live since before
// must answer the fixed session exactly as a fresh process does.
// Nesting is 1..10 or thousands deep: in between, tract's parse time grows
// exponentially (16 levels ~3 s, 20 levels ~46 s) until the engine bounds it.

const LOAD_RUNS = Number(process.env.EDGEREC_FUZZ_LOAD_RUNS ?? Math.max(1, Math.round(RUNS / 3)));
const SESSION = [['view', '85123A'], ['add_to_cart', '22423'], ['view', '22386']];
const encoder = new TextEncoder();
const decoder = new TextDecoder();

const TOKENS = [
  '[', ']', '(', ')', ',', '=', ';', ':', '"', '\n', '-', '0', '1', '-1', '2147483647', '4294967296', '1e39', 'NaN', 'true', '""',
  'axes', 'hidden', 'shape', 'scalar', 'tensor<scalar>', 'variable<scalar>', 'fragment', 'graph', 'scan_body_0', 'edgerec_f', '__Div', 'R',
  'i64', 'bool', 'string', 'extension', 'version 9.9;', '', '..', '\u0000', '\u00e9',
];
const OPERATORS = [
  'matmul', 'add', 'mul', 'sigmoid', 'squeeze', 'unsqueeze', 'transpose', 'sum_reduce', 'tract_core_gru_epilogue', 'tract_core_scan',
  'tract_core_einsum', 'tract_core_gather', 'tract_core_cast', 'variable', 'external', 'reshape', 'conv', 'box', 'debox', 'tract_core_fft',
  'select', 'edgerec_f',
];
const NUMBERS = ['0', '-1', '1', '2', '3', '7', '-2147483648', '2147483647', '4294967295', '4294967296', '1e39', '-0', '0.5', '1e-45', 'inf', '100000000'];
const depth = fc.oneof(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 2000, max: 4000 }));

/** Edits of graph.nnef's text. */
const graphEdit = fc.oneof(
  fc.record({ op: fc.constant('splice'), at: fc.nat(), cut: fc.nat(8), insert: fc.constantFrom(...TOKENS) }),
  fc.record({ op: fc.constant('number'), index: fc.nat(), value: fc.constantFrom(...NUMBERS) }),
  fc.record({ op: fc.constant('nest'), index: fc.nat(), depth, bracket: fc.constantFrom('[', '(') }),
  fc.record({ op: fc.constant('line'), index: fc.nat(), action: fc.constantFrom('delete', 'duplicate', 'swap') }),
  fc.record({ op: fc.constant('operator'), index: fc.nat(), to: fc.constantFrom(...OPERATORS) }),
  fc.record({ op: fc.constant('recurse'), mutual: fc.boolean() }),
);

/** Edits of the tar's entries. */
const tarEdit = fc.oneof(
  fc.record({ op: fc.constantFrom('drop', 'duplicate'), index: fc.nat() }),
  fc.record({ op: fc.constant('rename'), index: fc.nat(), to: fc.constantFrom('', 'graph.nnef', '../up.dat', '/abs.dat', 'R.dat', 'graph.quant', 'x'.repeat(99), 'dir/', 'R.dat\u0000x') }),
  fc.record({ op: fc.constant('truncate'), index: fc.nat(), keep: fc.nat(200_000) }),
  fc.record({ op: fc.constant('size'), index: fc.nat(), raw: fc.constantFrom('77777777777\0', '00000000000\0', '00000000001\0', 'zzzzzzzzzzz\0', '-1', '', '1'.repeat(12)) }),
  fc.record({ op: fc.constant('swap'), i: fc.nat(), j: fc.nat() }),
  fc.record({
    op: fc.constant('quant'),
    line: fc.constantFrom(
      'R: zero_point_linear_quantize(zero_point = 0, scale = 1.0, bits = 0, signed = true, symmetric = false);',
      'R: zero_point_linear_quantize(zero_point = 0, scale = 1.0, bits = 64, signed = true, symmetric = false);',
      'R: linear_quantize(min = 0.0, max = -1.0, bits = 8);',
      '"R": nonsense;',
    ),
  }),
);

/** Edits of a .dat tensor's 128-byte header: a u32 field (size, rank, dims, bits), the item type, or any byte. */
const datEdit = fc.oneof(
  fc.record({
    op: fc.constant('u32'), index: fc.nat(), at: fc.constantFrom(4, 8, 12, 16, 20, 24, 40, 44),
    value: fc.oneof(fc.constantFrom(0, 1, 2, 3, 8, 9, 16, 100, 300, 0x7fffffff, 0x80000000, 0xffffffff, 2 ** 29), fc.nat({ max: 0xffffffff })),
  }),
  fc.record({ op: fc.constant('u16'), index: fc.nat(), at: fc.constantFrom(0, 2, 48, 50), value: fc.nat(0xffff) }),
  fc.record({ op: fc.constant('byte'), index: fc.nat(), at: fc.nat(127), value: fc.nat(255) }),
);

const bundleMutation = fc.oneof(
  fc.record({ part: fc.constant('graph'), edits: fc.array(graphEdit, { minLength: 1, maxLength: 3 }) }),
  fc.record({ part: fc.constant('tar'), edit: tarEdit }),
  fc.record({ part: fc.constant('dat'), edit: datEdit }),
);

const pick = (list, index) => list[index % list.length];

function editText(text, e) {
  if (e.op === 'splice') {
    const at = e.at % (text.length + 1);
    return text.slice(0, at) + e.insert + text.slice(at + e.cut);
  }
  const nth = (pattern, index, replace) => {
    const matches = [...text.matchAll(pattern)];
    if (!matches.length) return text;
    const m = pick(matches, index);
    return text.slice(0, m.index) + replace(m) + text.slice(m.index + m[0].length);
  };
  if (e.op === 'number') return nth(/-?\b\d+(\.\d+)?(e-?\d+)?\b/g, e.index, () => e.value);
  if (e.op === 'nest' && e.bracket === '[') return nth(/\[[^[\]]*\]/g, e.index, (m) => '['.repeat(e.depth) + m[0].slice(1, -1) + ']'.repeat(e.depth));
  if (e.op === 'nest') return nth(/= (-?[\w."]+)/g, e.index, (m) => `= ${'('.repeat(e.depth)}${m[1]}${')'.repeat(e.depth)}`);
  if (e.op === 'operator') return nth(/\b([a-z_]+)\(/g, e.index, () => `${e.to}(`);
  if (e.op === 'recurse') {
    const fragments = e.mutual
      ? 'fragment edgerec_f(x: tensor<scalar>) -> (y: tensor<scalar>)\n{\n  y = edgerec_g(x);\n}\n\nfragment edgerec_g(x: tensor<scalar>) -> (y: tensor<scalar>)\n{\n  y = edgerec_f(x);\n}\n\n'
      : 'fragment edgerec_f(x: tensor<scalar>) -> (y: tensor<scalar>)\n{\n  y = edgerec_f(x);\n}\n\n';
    return text.replace('graph network(', `${fragments}graph network(`).replace('session = __Div;', 'session = edgerec_f(__Div);');
  }
  const lines = text.split('\n');
  const i = e.index % lines.length;
  if (e.action === 'delete') lines.splice(i, 1);
  else if (e.action === 'duplicate') lines.splice(i, 0, lines[i]);
  else [lines[i], lines[(i + 1) % lines.length]] = [lines[(i + 1) % lines.length], lines[i]];
  return lines.join('\n');
}

function editEntries(entries, e) {
  const out = [...entries];
  const i = e.index === undefined ? 0 : e.index % out.length;
  if (e.op === 'drop') out.splice(i, 1);
  else if (e.op === 'duplicate') out.splice(i, 0, out[i]);
  else if (e.op === 'rename') out[i] = { ...out[i], name: e.to };
  else if (e.op === 'truncate') out[i] = { ...out[i], data: out[i].data.subarray(0, e.keep % (out[i].data.length + 1)) };
  else if (e.op === 'size') out[i] = { ...out[i], rawSize: e.raw };
  else if (e.op === 'swap') [out[e.i % out.length], out[e.j % out.length]] = [out[e.j % out.length], out[e.i % out.length]];
  else if (e.op === 'quant') out.push({ name: 'graph.quant', data: encoder.encode(`${e.line}\n`) });
  return out;
}

function editDat(entries, e) {
  const dats = entries.filter((x) => x.name.endsWith('.dat'));
  const target = pick(dats, e.index);
  const data = target.data.slice();
  const view = new DataView(data.buffer);
  if (e.op === 'u32') view.setUint32(e.at, e.value, true);
  else if (e.op === 'u16') view.setUint16(e.at, e.value, true);
  else data[e.at] = e.value;
  return entries.map((x) => (x === target ? { ...x, data } : x));
}

/** The shipped bundle with mutation `m` made, checksums recomputed. */
function mutatedBundle(m) {
  return editEncoder(bundle, (entries) => {
    if (m.part === 'tar') return editEntries(entries, m.edit);
    if (m.part === 'dat') return editDat(entries, m.edit);
    return entries.map((x) => (x.name === 'graph.nnef' ? { ...x, data: encoder.encode(m.edits.reduce(editText, decoder.decode(x.data))) } : x));
  });
}

/** What the fixed session gets from a good load of the bundle (a recommender is left live when `keep`). */
async function sessionAnswer(keep = false) {
  const rec = await Recommender.load(bundle, { storage: null, clock: () => T0, shopperKey: 'fuzz-bundle' });
  for (const [type, item] of SESSION) rec.track(type, item);
  const answer = { recommend: rec.recommend({ k: 10 }), page: rec.page({ k: 4 }) };
  if (keep) return { rec, answer };
  rec.free();
  return answer;
}

test('a bundle with a mutated encoder loads or fails with a code, and the good bundle then answers as on a fresh module', async (t) => {
  // The answer of a fresh process, before anything in this one was mutated.
  const script = `
    import { Recommender } from ${JSON.stringify(new URL('../../js/node.mjs', import.meta.url).href)};
    import { readFileSync } from 'node:fs';
    const rec = await Recommender.load(new Uint8Array(readFileSync(${JSON.stringify(new URL('../../models/online-retail/online-retail.edgerec', import.meta.url).pathname)})), { storage: null, clock: () => ${T0}, shopperKey: 'fuzz-bundle' });
    for (const [type, item] of ${JSON.stringify(SESSION)}) rec.track(type, item);
    process.stdout.write(JSON.stringify({ recommend: rec.recommend({ k: 10 }), page: rec.page({ k: 4 }) }));`;
  const fresh = JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }));
  assert.deepEqual(await sessionAnswer(), fresh, 'this process answers as a fresh one before any mutation');
  const { rec: live, answer: liveAnswer } = await sessionAnswer(true);

  const outcomes = {};
  let slowest = { ms: 0 };
  await fc.assert(fc.asyncProperty(bundleMutation, async (m) => {
    const bytes = mutatedBundle(m);
    const start = performance.now();
    let outcome = 'loaded';
    try {
      const rec = await Recommender.load(bytes, { storage: null, clock: () => T0, shopperKey: 'fuzz-bundle' });
      try {
        // A mutant that loads answers, or refuses with a code.
        for (const [type, item] of SESSION) rec.track(type, item);
        rec.recommend({ k: 10 });
      } catch (e) {
        assert.match(String(e?.code), /^[A-Z_]+$/, `a loaded mutant's call failed without a code: ${e?.stack ?? e}`);
        outcome = `loaded, then ${e.code}`;
      } finally {
        rec.free();
      }
    } catch (e) {
      assert.match(String(e?.code), /^[A-Z_]+$/, `the load failed without a code: ${e?.stack ?? e}`);
      outcome = /inside WebAssembly/.test(e.message) ? `${e.code} (a trap: restarted)` : e.code;
    }
    const ms = performance.now() - start;
    outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
    if (ms > slowest.ms) slowest = { ms, m };
    assert.deepEqual(await sessionAnswer(), fresh, `a good load after ${JSON.stringify(m)} (${outcome})`);
    assert.deepEqual({ recommend: live.recommend({ k: 10 }), page: live.page({ k: 4 }) }, liveAnswer, `the live recommender after ${JSON.stringify(m)}`);
  }), params(LOAD_RUNS));
  live.free();
  t.diagnostic(`${LOAD_RUNS} mutated loads: ${JSON.stringify(outcomes)}; slowest ${Math.round(slowest.ms)} ms (${JSON.stringify(slowest.m)})`);
});
