// The demo store's static server serves files the way a CDN should:
// content-hashed immutable names, validators, pre-compressed brotli, and
// no request can take it down or reach outside its trees.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { brotliDecompressSync } from 'node:zlib';
import { readFile, symlink, rm } from 'node:fs/promises';
import { startServer } from '../../www/server.mjs';

const server = await startServer({ port: 0 });
const base = `http://127.0.0.1:${server.address().port}`;
after(() => server.close());

/** GET with raw control over the path and headers (fetch would normalise `/%`). */
function get(path, headers = {}) {
  return new Promise((ok, fail) => {
    const req = request(`${base}${path.startsWith('/') ? '' : '/'}${path}`, { headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => ok({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', fail);
    req.end();
  });
}

const BUNDLE = '/vendor/edgerec/models/online-retail/online-retail.edgerec';

test('the page names the module and the bundle by content hash, served immutable and in brotli', async () => {
  const page = await get('/', { 'accept-encoding': 'gzip, br' });
  assert.equal(page.status, 200);
  assert.equal(page.headers['content-encoding'], 'br');
  assert.equal(page.headers['cache-control'], 'no-cache');
  const html = brotliDecompressSync(page.body).toString('utf8');
  const hashed = [...html.matchAll(/(?:href|content)="([^"]+\.[0-9a-f]{12}\.(?:wasm|edgerec))"/g)].map((m) => m[1]);
  assert.equal(hashed.length, 2, 'the page names the module and the bundle by hash');
  const bundleUrl = hashed.find((u) => u.endsWith('.edgerec'));
  const res = await get(bundleUrl, { 'accept-encoding': 'br' });
  assert.equal(res.status, 200);
  assert.equal(res.headers['cache-control'], 'public, max-age=31536000, immutable');
  assert.equal(res.headers['content-encoding'], 'br');
  const raw = await readFile(new URL(`../..${BUNDLE.replace('/vendor/edgerec', '')}`, import.meta.url));
  assert.deepEqual(brotliDecompressSync(res.body), raw, 'brotli gives back the file byte for byte');
  assert.ok(res.body.length < raw.length * 0.8);
  // A hash that is not the file's content names nothing.
  assert.equal((await get(bundleUrl.replace(/\.[0-9a-f]{12}\./, '.000000000000.'))).status, 404);
});

test('the package goes by a versioned path, immutable; another version names nothing', async () => {
  const { version } = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8'));
  const html = brotliDecompressSync((await get('/', { 'accept-encoding': 'br' })).body).toString('utf8');
  assert.ok(!html.includes('{{'), 'every placeholder is rendered');
  assert.match(html, new RegExp(`"/vendor/edgerec@${version.replaceAll('.', '\\.')}/js/worker\\.mjs"`));
  const worker = await get(`/vendor/edgerec@${version}/js/worker.mjs`);
  assert.equal(worker.status, 200);
  assert.equal(worker.headers['cache-control'], 'public, max-age=31536000, immutable');
  assert.equal((await get('/vendor/edgerec@0.0.0-not-this/js/worker.mjs')).status, 404);
  assert.equal((await get(`/vendor/edgerec@${version}/Cargo.toml`)).status, 404, 'only published files');
  // The unversioned path still works, revalidated.
  assert.match((await get('/vendor/edgerec/js/worker.mjs')).headers['cache-control'], /max-age=0/);
});

test('the rest is revalidated with a strong ETag (304 without a body)', async () => {
  const first = await get('/app.mjs');
  assert.equal(first.status, 200);
  assert.match(first.headers.etag, /^"[0-9a-f]{32}"$/);
  assert.match(first.headers['cache-control'], /stale-while-revalidate/);
  const again = await get('/app.mjs', { 'if-none-match': first.headers.etag });
  assert.equal(again.status, 304);
  assert.equal(again.body.length, 0);
  assert.equal((await get(BUNDLE, { 'if-none-match': '"stale"' })).status, 200);
  // Identity when the client takes no compression.
  assert.equal((await get('/app.mjs')).headers['content-encoding'], undefined);
});

test('malformed paths get 400, traversal and symlinks out of the tree 404, and the server lives on', async () => {
  for (const path of ['/%', '/%ff', '/a%zz', '/%00', '/app.mjs%00.txt']) {
    assert.equal((await get(path)).status, 400, path);
  }
  for (const path of ['/..%2f..%2fetc%2fpasswd', '/vendor/edgerec/Cargo.toml', '/server.mjs']) {
    assert.equal((await get(path)).status, 404, path);
  }
  const link = new URL('../../www/escape-test.txt', import.meta.url);
  await symlink('/etc/hostname', link).catch(() => {});
  try {
    assert.equal((await get('/escape-test.txt')).status, 404);
  } finally {
    await rm(link, { force: true });
  }
  assert.equal((await get('/')).status, 200, 'still serving');
});
