// Shared by the edge-runtime tests: start a server process in its own
// process group (so npm shims cannot orphan it), wait for it, and check the
// /v1/recommend contract against the Node build of the same package.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import { request as httpRequest } from 'node:http';
import assert from 'node:assert/strict';
import { Recommender } from 'edgerec';

export const ROOT = new URL('../../', import.meta.url).pathname;
export const BUNDLE_PATH = `${ROOT}models/online-retail/online-retail.edgerec`;

/** A free loopback port. */
export function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

/** Start `cmd args` detached; returns { proc, output(), stop() }. */
export function startProcess(cmd, args, options = {}) {
  const proc = spawn(cmd, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], ...options });
  let output = '';
  proc.stdout.on('data', (d) => { output += d; });
  proc.stderr.on('data', (d) => { output += d; });
  return {
    proc,
    output: () => output,
    stop: () => {
      try { process.kill(-proc.pid, 'SIGKILL'); } catch { /* already gone */ }
    },
  };
}

/** Poll until `port` accepts connections, bounded by `timeoutMs`; returns the ms waited. */
export async function waitForPort(port, server, timeoutMs = 120_000) {
  const started = performance.now();
  for (;;) {
    const open = await new Promise((ok) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => { socket.destroy(); ok(true); });
      socket.once('error', () => ok(false));
    });
    if (open) return performance.now() - started;
    if (performance.now() - started > timeoutMs) throw new Error(`port ${port} did not open in ${timeoutMs} ms:\n${server.output()}`);
    if (server.proc.exitCode !== null) throw new Error(`server exited (${server.proc.exitCode}):\n${server.output()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Poll `url` until it answers (any status), bounded by `timeoutMs`. */
export async function waitUntilServing(url, server, timeoutMs = 60_000) {
  const started = performance.now();
  for (;;) {
    try {
      const res = await fetch(url);
      await res.arrayBuffer();
      return performance.now() - started;
    } catch {
      if (performance.now() - started > timeoutMs) throw new Error(`${url} did not answer in ${timeoutMs} ms:\n${server.output()}`);
      if (server.proc.exitCode !== null) throw new Error(`server exited (${server.proc.exitCode}):\n${server.output()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/**
 * POST about `size` bytes, chunked (no content-length) or with the length
 * declared (then only the headers and a few bytes go out: a server that
 * reads the length answers at once), and resolve with the status. The server
 * may answer and close before reading it all, so write errors after the
 * answer are expected.
 */
export function postChunked(url, size, { declared = false } = {}) {
  const prefix = '{"events": [], "pad": "';
  const chunk = Buffer.alloc(8192, 'x');
  const total = Buffer.byteLength(prefix) + Math.ceil(size / chunk.length) * chunk.length;
  const headers = declared ? { 'content-length': String(total) } : { 'transfer-encoding': 'chunked' };
  return new Promise((ok, fail) => {
    const req = httpRequest(url, { method: 'POST', headers }, (res) => {
      res.resume();
      ok(res.statusCode);
      if (declared) req.destroy();
    });
    req.on('error', (err) => setTimeout(() => fail(err), 1000));
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        sent += chunk.length;
        if (!req.write(chunk)) return req.once('drain', pump);
      }
      req.end();
    };
    req.write(prefix);
    // A declared length is judged from the headers: send no more, await the answer.
    if (!declared) pump();
  });
}

/** The two items of the default bundle used by the journeys. */
/**
 * postChunked past a limit, answered 413: the server answers and closes
 * mid-upload, so a client whose write loses that race sees a reset before
 * the answer and tries again (the answer itself must be 413).
 */
export async function postOversized(url, opts) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await postChunked(url, opts.size, opts);
    } catch (err) {
      if (attempt === 3 || !['EPIPE', 'ECONNRESET'].includes(err.code)) throw err;
    }
  }
}

export const ITEMS = { bag: '22386', heart: '85123A', cakestand: '22423' };

export const SAMPLE_REQUEST = {
  events: [
    { type: 'view', item: ITEMS.heart },
    { type: 'add_to_cart', item: ITEMS.heart },
    { type: 'view', item: ITEMS.bag },
  ],
  anchor: ITEMS.bag,
  k: 5,
};

let reference;
/** What the package's Node build answers for the same request. */
export async function referenceAnswer(method, path, body) {
  reference ??= await Recommender.load(await readFile(BUNDLE_PATH));
  const init = { method, headers: { 'content-type': 'application/json' } };
  if (body !== undefined) init.body = body;
  const res = await reference.handleRequest(new Request(`http://reference${path}`, init));
  return { status: res.status, body: await res.text() };
}

/** Bad requests every runtime must answer with a 4xx and a coded JSON error. */
export const BAD_REQUESTS = [
  { name: 'malformed JSON', body: '{"events": [', status: 400, code: 'INVALID_REQUEST' },
  { name: 'not an object', body: '[1, 2, 3]', status: 400, code: 'INVALID_REQUEST' },
  { name: 'unknown field', body: '{"evnts": []}', status: 400, code: 'INVALID_REQUEST' },
  { name: 'bad event type', body: JSON.stringify({ events: [{ type: 'click', item: ITEMS.bag }] }), status: 400, code: 'INVALID_EVENT' },
  { name: 'bad k', body: '{"k": 100000}', status: 400, code: 'INVALID_OPTIONS' },
  { name: 'unknown item', body: JSON.stringify({ events: [{ type: 'view', item: 'NOT-IN-CATALOG' }] }), status: 422, code: 'UNKNOWN_ITEM' },
  { name: 'oversized body', body: JSON.stringify({ events: [], pad: 'x'.repeat(70_000) }), status: 413, code: 'PAYLOAD_TOO_LARGE' },
];

/**
 * The same JSON, numbers within 1e-6: the Fastly app's tract is built for
 * wasm32-wasip1, the package's for the web, and floats may differ in the
 * last bit. Fails with the path of the first difference (not both bodies).
 */
export function assertSameJson(actual, expected, path = '$') {
  if (typeof expected === 'number') {
    assert.equal(typeof actual, 'number', path);
    assert.ok(Math.abs(actual - expected) <= 1e-6, `${path}: ${actual} vs ${expected}`);
  } else if (expected === null || typeof expected !== 'object') {
    assert.equal(actual, expected, path);
  } else {
    assert.equal(Array.isArray(actual), Array.isArray(expected), path);
    assert.deepEqual(Object.keys(actual ?? {}), Object.keys(expected), `${path}: keys`);
    for (const key of Object.keys(expected)) assertSameJson(actual[key], expected[key], `${path}.${key}`);
  }
}

const post = (url, body) => fetch(url, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });

/**
 * POST /v1/offer: the same decisions as the Node build for a named policy
 * (a plain slot, and a bandit arm whose Thompson draws must agree), caps
 * that hold as the state travels back, and coded errors.
 */
async function checkOffers(base) {
  const offerRequest = (extra) => ({
    events: SAMPLE_REQUEST.events, slot: 'product', anchor: ITEMS.bag, policy: 'online-retail-default',
    shopperKey: 'edge-test-shopper', now: 1.7e12, ...extra,
  });
  // "storefront-test-0" falls in the cart experiment's bandit arm.
  for (const extra of [{}, { slot: 'cart', anchor: undefined, shopperKey: 'storefront-test-0' }]) {
    const req = offerRequest(extra);
    const res = await post(`${base}/v1/offer`, req);
    const text = await res.text();
    assert.equal(res.status, 200, text);
    const answer = JSON.parse(text);
    assert.ok(answer.decision.offer && answer.decision.trace.length > 0, text);
    assertSameJson(answer, JSON.parse((await referenceAnswer('POST', '/v1/offer', JSON.stringify(req))).body));
  }
  // The state goes back with each request: the set's cap (3 per session) holds at the edge,
  // one impression a page view (each request one more `view`; the same page again counts nothing).
  let state;
  const shown = [];
  const events = [...SAMPLE_REQUEST.events];
  for (let i = 0; i < 4; i++) {
    events.push({ type: 'view', item: ITEMS.bag });
    const request = offerRequest({ state, events, now: 1.7e12 + i });
    const answer = await (await post(`${base}/v1/offer`, request)).json();
    const rerender = await (await post(`${base}/v1/offer`, { ...request, state: answer.state })).json();
    assert.deepEqual(rerender.state.log, answer.state.log, 'a re-render of the page counts nothing');
    state = answer.state;
    shown.push(answer.decision.offer.id);
  }
  assert.deepEqual(shown.slice(0, 3), ['complete-the-set', 'complete-the-set', 'complete-the-set']);
  assert.notEqual(shown[3], 'complete-the-set');
  const bad = [
    [offerRequest({ policy: 'no-such-policy' }), 422, 'UNKNOWN_POLICY'],
    [offerRequest({ state: { version: 1 } }), 400, 'INVALID_STATE'],
    [offerRequest({ slot: 'sidebar' }), 400, 'INVALID_OPTIONS'],
    [{ slot: 'product' }, 400, 'INVALID_REQUEST'],
  ];
  for (const [body, status, code] of bad) {
    const r = await post(`${base}/v1/offer`, body);
    const j = await r.json();
    assert.equal(r.status, status, JSON.stringify(j));
    assert.equal(j.error.code, code);
  }
}

/**
 * Server-side channels through the edge: an email decision per week
 * (`caps.channels.email`), push with caps of its own, the agent console's
 * add-on and its logged acceptance (`/v1/feedback`), all in the state the
 * caller keeps; an undeclared channel is a coded 400.
 */
async function checkChannels(base) {
  const day = 86_400_000;
  const call = async (path, body) => {
    const r = await post(`${base}${path}`, body);
    const text = await r.text();
    assert.equal(r.status, 200, text);
    return JSON.parse(text);
  };
  const ask = (slot, channel, state, now) => call('/v1/offer', {
    events: [{ type: 'purchase', item: ITEMS.bag }], slot, shopperKey: 'crm-7', context: { channel }, now, ...(state ? { state } : {}),
  });
  const first = await ask('message', 'email', null, 1.7e12);
  assert.equal(first.decision.offer.id, 'weekly-pick', JSON.stringify(first.decision));
  const again = await ask('message', 'email', first.state, 1.7e12 + day);
  assert.notEqual(again.decision.offer?.id, 'weekly-pick', 'one offer email a week');
  assert.ok(again.decision.trace[0].caps.some((c) => c.channel === 'email' && !c.passed));
  const push = await ask('message', 'push', again.state, 1.7e12 + day);
  assert.equal(push.decision.offer.id, 'weekly-pick', 'push counts its own impressions');
  const agent = await ask('service', 'agent', push.state, 1.7e12 + 2 * day);
  assert.equal(agent.decision.offer.id, 'agent-add-on');
  const logged = await call('/v1/feedback', {
    slot: 'service', offer: 'agent-add-on', outcome: 'click', shopperKey: 'crm-7', state: agent.state, now: 1.7e12 + 2 * day + 1,
  });
  assert.deepEqual(
    [logged.state.log.at(-1).offer, logged.state.log.at(-1).outcome],
    ['agent-add-on', 'click'],
  );
  const r = await post(`${base}/v1/offer`, { slot: 'message', shopperKey: 'crm-7', context: { channel: 'fax' } });
  const j = await r.json();
  assert.equal(r.status, 400);
  assert.equal(j.error.code, 'INVALID_REQUEST');
  assert.match(j.error.message, /context\.channel/);
}

/** The endpoint contract, against a running server at `base`. */
/**
 * Requests that arrive together before the engine has loaded (the first of
 * an isolate or sandbox): each waits for the one load and all get the same
 * answer. Call right after the port opens.
 */
export async function checkFirstRequestsTogether(base, n = 6) {
  const body = JSON.stringify(SAMPLE_REQUEST);
  const post = () => fetch(`${base}/v1/recommend`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  const answers = await Promise.all(Array.from({ length: n }, async () => {
    const res = await post();
    return { status: res.status, text: await res.text() };
  }));
  for (const a of answers) assert.equal(a.status, 200, a.text);
  assert.ok(answers.every((a) => a.text === answers[0].text), 'one answer for the same request');
}

export async function checkEndpoint(base) {
  const body = JSON.stringify(SAMPLE_REQUEST);
  const res = await fetch(`${base}/v1/recommend`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  assert.match(res.headers.get('content-type'), /application\/json/);
  const page = JSON.parse(text);
  assert.equal(page.recommended.length, 5);
  assert.ok(page.boughtTogether.length > 0 && page.similar.length > 0);
  assert.ok(page.completeTheSet[0].totalPrice > 0);
  assert.ok(page.recommended.every((r) => r.reasons.length > 0 && r.reasons[0].text.length > 0));
  const expected = await referenceAnswer('POST', '/v1/recommend', body);
  assertSameJson(page, JSON.parse(expected.body));

  for (const bad of BAD_REQUESTS) {
    const r = await fetch(`${base}/v1/recommend`, { method: 'POST', body: bad.body });
    const j = await r.json();
    assert.equal(r.status, bad.status, `${bad.name}: ${JSON.stringify(j)}`);
    assert.equal(j.error.code, bad.code, bad.name);
    assert.ok(j.error.message.length > 10, bad.name);
  }
  // A body streamed without a length is cut off at the limit all the same.
  assert.equal(await postChunked(`${base}/v1/recommend`, 70_000), 413);

  await checkOffers(base);
  await checkChannels(base);

  assert.equal((await fetch(`${base}/v1/recommend`)).status, 405);
  assert.equal((await fetch(`${base}/nowhere`)).status, 404);
  const health = await fetch(`${base}/v1/health`);
  assert.equal(health.status, 200);
  assert.equal((await health.json()).items, 3754);
}
