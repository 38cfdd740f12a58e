// The edge runtimes following a model release: the Worker in the real
// workerd and the Fastly app in Viceroy place each request by the caller's
// shopper key exactly as the device places it, fetch the bundles the
// release names, and keep the last good model when the release file or
// the candidate goes bad.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Recommender } from 'edgerec';
import { BUNDLE_PATH, freePort, ITEMS, ROOT, startProcess, waitForPort } from './helpers.mjs';

const edgerec = (...args) => execFileSync('cargo', ['run', '--quiet', '--bin', 'edgerec', '--', ...args], { cwd: ROOT, encoding: 'utf8' });

/** A static file server over `dir` on loopback: the store's origin. */
async function serveFiles(dir) {
  const server = createServer(async (req, res) => {
    try {
      const body = await readFile(join(dir, new URL(req.url, 'http://x').pathname.slice(1)));
      res.writeHead(200).end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return { server, base: `http://127.0.0.1:${server.address().port}` };
}

/** An origin with two bundles of one catalog and a 50 % canary between them. */
async function origin() {
  const dir = await mkdtemp(join(tmpdir(), 'edgerec-edge-release-'));
  await copyFile(BUNDLE_PATH, join(dir, 'current.edgerec'));
  edgerec('repack', BUNDLE_PATH, '--table-format', 'f16', '--out', join(dir, 'candidate.edgerec'));
  edgerec('release', '--current', join(dir, 'current.edgerec'), '--candidate', join(dir, 'candidate.edgerec'),
    '--experiment', 'model-w49', '--canary', '0.5', '--out', join(dir, 'release.json'));
  const files = await serveFiles(dir);
  const stop = async () => {
    files.server.close();
    await rm(dir, { recursive: true, force: true });
  };
  return { dir, base: files.base, text: await readFile(join(dir, 'release.json'), 'utf8'), stop };
}

/** A key the release puts on `side`. */
async function keyOn(release, side, prefix) {
  for (let i = 0; i < 100; i++) {
    if ((await Recommender.placeShopper(release, `${prefix}-${i}`)).placement.side === side) return `${prefix}-${i}`;
  }
  throw new Error(`no key on the ${side} side`);
}

/** What either runtime must do with the origin's release (its file is changed as it goes). */
async function checkFollowsRelease(url, { dir, text }) {
  const release = JSON.parse(text);
  const body = JSON.stringify({ events: [{ type: 'view', item: ITEMS.heart }], k: 3 });
  const ask = async (key) => {
    const res = await fetch(`${url}/v1/recommend`, { method: 'POST', body, headers: key ? { 'x-edgerec-shopper-key': key } : {} });
    return { status: res.status, model: res.headers.get('x-edgerec-model'), release: res.headers.get('x-edgerec-release'), json: await res.json() };
  };
  const sides = new Set();
  for (let i = 0; i < 10; i++) {
    const key = `shopper-${i}`;
    const { placement } = await Recommender.placeShopper(text, key);
    const got = await ask(key);
    assert.equal(got.status, 200, JSON.stringify(got.json));
    assert.equal(got.model, release[placement.side].version, 'the device\'s draw, the side\'s bundle');
    assert.equal(got.release, `model-w49/${placement.side}`);
    assert.ok(got.json.recommended.length > 0);
    sides.add(placement.side);
  }
  assert.deepEqual([...sides].sort(), ['candidate', 'current'], 'both sides served');
  assert.equal((await ask(undefined)).model, release.current.version, 'no key: the current model');

  // /v1/offer carries the key in its body.
  const candidateKey = await keyOn(text, 'candidate', 'offer');
  const offer = await fetch(`${url}/v1/offer`, { method: 'POST', body: JSON.stringify({ events: [{ type: 'add_to_cart', item: ITEMS.heart }], slot: 'cart', shopperKey: candidateKey }) });
  assert.equal(offer.status, 200);
  assert.equal(offer.headers.get('x-edgerec-model'), release.candidate.version);

  const bad = await ask('x'.repeat(500));
  assert.equal(bad.status, 400, 'a malformed shopper key is the caller\'s error');
  assert.equal(bad.json.error.code, 'INVALID_OPTIONS');

  // A malformed release file: the last good one goes on serving.
  await writeFile(join(dir, 'release.json'), '{"version": 1, "current": ');
  const kept = await ask(candidateKey);
  assert.equal(kept.status, 200);
  assert.equal(kept.model, release.candidate.version);
  // A release whose new candidate is not there: its shoppers get the current model.
  const gone = { ...release, candidate: { ...release.candidate, url: 'gone.edgerec', version: `sha256:${'ab'.repeat(32)}` }, experiment: 'model-w50' };
  await writeFile(join(dir, 'release.json'), JSON.stringify(gone));
  const fallback = await ask(await keyOn(gone, 'candidate', 'gone'));
  assert.equal(fallback.status, 200);
  assert.equal(fallback.model, release.current.version, 'placed on the candidate, served the current model');
  assert.equal(fallback.release, 'model-w50/current');
}

test('the Worker in workerd follows the release by shopper key and keeps the last good model', async () => {
  const store = await origin();
  execFileSync(process.execPath, [`${ROOT}edge/cloudflare/build.mjs`], { stdio: 'inherit' });
  const dist = `${ROOT}edge/cloudflare/dist`;
  // The built config, with the release's URL, no caching of the file, and loopback reachable.
  const config = (await readFile(`${dist}/config.capnp`, 'utf8'))
    .replace('services = [(name = "main", worker = .edgerecWorker)]',
      'services = [(name = "main", worker = .edgerecWorker), (name = "loopback", network = (allow = ["local"]))]')
    .replace(/compatibilityDate = "([^"]+)",\n\);/, `compatibilityDate = "$1",
  bindings = [(name = "RELEASE_URL", text = "${store.base}/release.json"), (name = "RELEASE_TTL_MS", text = "0")],
  globalOutbound = "loopback",
);`);
  assert.match(config, /RELEASE_URL/);
  await writeFile(`${dist}/release-config.capnp`, config);
  const port = await freePort();
  const server = startProcess(`${ROOT}node_modules/.bin/workerd`, [
    'serve', `${dist}/release-config.capnp`, '--socket-addr', `http=127.0.0.1:${port}`, '--verbose',
  ]);
  try {
    await waitForPort(port, server);
    await checkFollowsRelease(`http://127.0.0.1:${port}`, store);
  } finally {
    server.stop();
    await store.stop();
  }
});

/**
 * The Fastly app in Viceroy with `origin` (a base URL) as its `origin`
 * backend and `config` (key = value) in its `edgerec` config store.
 */
async function fastlyApp(dir, origin, config) {
  const [viceroy, app] = [process.env.EDGEREC_VICEROY, process.env.EDGEREC_FASTLY_WASM];
  assert.ok(viceroy && existsSync(viceroy), `EDGEREC_VICEROY must name the viceroy binary (got ${viceroy})`);
  assert.ok(app && existsSync(app), `EDGEREC_FASTLY_WASM must name the built app (got ${app})`);
  const manifest = join(dir, 'fastly.toml');
  await writeFile(manifest, `manifest_version = 3
name = "edgerec-edge-test"
language = "rust"

[local_server.backends.origin]
url = "${origin}"

[local_server.config_stores.edgerec]
format = "inline-toml"

[local_server.config_stores.edgerec.contents]
${Object.entries(config).map(([k, v]) => `${k} = "${v}"`).join('\n')}
`);
  const port = await freePort();
  const server = startProcess(viceroy, ['serve', '--addr', `127.0.0.1:${port}`, '-C', manifest, app]);
  await waitForPort(port, server, 120_000);
  return { url: `http://127.0.0.1:${port}`, server };
}

test('the Fastly app in Viceroy follows the release by shopper key and keeps the last good model', async () => {
  const store = await origin();
  let app = null;
  try {
    // The release path (read on every request) in the config store.
    app = await fastlyApp(store.dir, store.base, { release: '/release.json', release_ttl_ms: '0' });
    await checkFollowsRelease(app.url, store);
  } finally {
    app?.server.stop();
    await store.stop();
  }
});

test("the Fastly app in Viceroy applies the store's catalog patch: a product added after the build, a sale price; another bundle's patch is left out", async () => {
  const dir = await mkdtemp(join(tmpdir(), 'edgerec-edge-patch-'));
  const catalog = [
    { id: 'NEW-CAKE-1', title: 'Pink Regency Cakestand 3 Tier', category: 'cake stand', price: 14.95 },
    { id: '22423', title: 'Regency Cakestand 3 Tier', category: 'cake stand', price: 12.75, sale_price: 9.99 },
  ];
  await writeFile(join(dir, 'catalog.jsonl'), catalog.map((c) => JSON.stringify(c)).join('\n'));
  edgerec('patch', BUNDLE_PATH, '--catalog', join(dir, 'catalog.jsonl'), '--out', join(dir, 'store.patch.json'));
  const files = await serveFiles(dir);
  let app = null;
  const post = async (path, body) => {
    const res = await fetch(`${app.url}${path}`, { method: 'POST', body: JSON.stringify(body) });
    return { status: res.status, patch: res.headers.get('x-edgerec-patch'), json: await res.json() };
  };
  const cart = { shopperKey: 'patch-test', events: [{ type: 'add_to_cart', item: '22423' }] };
  try {
    app = await fastlyApp(dir, files.base, { patch: '/store.patch.json', patch_ttl_ms: '0' });
    const page = await post('/v1/recommend', { anchor: 'NEW-CAKE-1', k: 4, slots: ['similar'], events: [{ type: 'view', item: 'NEW-CAKE-1' }] });
    assert.equal(page.status, 200, JSON.stringify(page.json));
    assert.equal(page.patch, 'applied');
    assert.equal(page.json.stats.unknownItems, 0, 'the new product is known');
    assert.ok(page.json.similar.length === 4 && page.json.similar.every((r) => r.category === 'cake stand'), JSON.stringify(page.json.similar));
    const onSale = await post('/v1/cart', cart);
    assert.equal(onSale.json.total, 9.99, 'the cart charges the patched sale price');

    // Another bundle's patch (its version changed) is PATCH_MISMATCH: the store serves as built.
    const patch = JSON.parse(await readFile(join(dir, 'store.patch.json'), 'utf8'));
    await writeFile(join(dir, 'store.patch.json'), JSON.stringify({ ...patch, bundle: `sha256:${'0'.repeat(64)}` }));
    const asBuilt = await post('/v1/cart', cart);
    assert.equal(asBuilt.status, 200);
    assert.equal(asBuilt.patch, 'none');
    assert.equal(asBuilt.json.total, 12.75);
  } finally {
    app?.server.stop();
    files.server.close();
    await rm(dir, { recursive: true, force: true });
  }
});
