// The demo store's static server (`npm start`): www/ at /, and the npm
// package's published files at /vendor/edgerec/ (what a CDN serving the
// package would offer). Loopback only. GET and HEAD, plus POST /v1/reports:
// the storefront's differentially private reports (sent only with the
// shopper's consent), kept in memory here — a store points its pages at the
// collector Worker (edge/cloudflare/src/collector.mjs) instead.
//   node www/server.mjs [--port 8080]      (PORT also works; 0 picks a free port)
import { createServer } from 'node:http';
import { readFile, realpath, stat } from 'node:fs/promises';
import { join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hashedUrl, precompress, serveFile, splitHashed } from './static.mjs';
import { Refused, validate } from '../edge/cloudflare/src/report.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const www = join(root, 'www');
const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));

/** Only files the package publishes are served from it. */
function published(rel) {
  return pkg.files.some((f) => (f.endsWith('/') ? rel.startsWith(f) : rel === f));
}

/**
 * The package under a versioned path (`/vendor/edgerec@0.1.0/…`), as a CDN
 * serves npm packages: immutable, since another version is another URL.
 * Measured on a repeat visit (phone profile): revalidating the package's
 * scripts cost the worker's own script a round trip before it could run
 * (Chromium revalidates a worker's script even under stale-while-revalidate).
 */
const VERSIONED_URL = `/vendor/edgerec@${pkg.version}`;
const VERSIONED = `vendor${sep}edgerec@${pkg.version}${sep}`;

/** Extra trees (URL prefix → directory inside the repository), e.g. the benchmark's pages. */
const mounts = new Map();

/** A path that percent-decodes and names no NUL byte (else the answer is 400). */
function wellFormed(urlPath) {
  try {
    return !decodeURIComponent(urlPath).includes('\0');
  } catch {
    return false; // `/%`, `/%ff`
  }
}

/** A decoded URL path without its leading slashes, or null if it climbs out. */
function cleanPath(decoded) {
  const clean = normalize(decoded).replace(/^[/\\]+/, '');
  return clean.split(sep).includes('..') || clean.includes('\0') ? null : clean;
}

/** The file a URL path names, or null (outside the served trees, or malformed). */
function resolve(urlPath) {
  let decoded;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null; // `/%`, `/%ff`: not a path we serve
  }
  const clean = cleanPath(decoded);
  if (clean === null) return null;
  const vendor = [`vendor${sep}edgerec${sep}`, VERSIONED].find((prefix) => clean.startsWith(prefix));
  if (vendor) {
    const rel = clean.slice(vendor.length).split(sep).join('/');
    return published(rel) ? join(root, rel) : null;
  }
  for (const [prefix, dir] of mounts) {
    if (clean.startsWith(`${prefix}${sep}`)) return join(dir, clean.slice(prefix.length + 1));
  }
  if (clean === 'server.mjs' || clean === 'static.mjs') return null;
  return join(www, clean === '' ? 'index.html' : clean);
}

/** Symlinks are not followed out of the tree a file was resolved in. */
async function inside(file) {
  const real = await realpath(file).catch(() => null);
  return real !== null && (real.startsWith(join(await realpath(root), sep)));
}

/** A page's `{{vendor}}` (the package's versioned path) and `{{hashed:/path}}` placeholders. */
async function renderHashedUrls(text) {
  text = text.replaceAll('{{vendor}}', VERSIONED_URL).replaceAll('{{reporting}}', escapeAttribute(reporting));
  const tokens = [...new Set(text.match(/\{\{hashed:[^}]+\}\}/g) ?? [])];
  for (const token of tokens) {
    const path = token.slice('{{hashed:'.length, -2);
    text = text.replaceAll(token, await hashedUrl(path, resolve(path)));
  }
  return text;
}

/**
 * How the page reports (JSON, empty: local noise to this server's
 * /v1/reports): e.g. {"mechanism":"prio3","leader":URL,"helper":URL,"store":S}
 * sends Prio3 shares to two aggregators (edge/cloudflare/aggregators.capnp).
 */
let reporting = process.env.EDGEREC_REPORTING ?? '';
const escapeAttribute = (text) => text.replace(/[&"<>]/g, (c) => `&#${c.charCodeAt(0)};`);

const MAX_REPORT_BYTES = 256 * 1024;
/** Reports received, newest last (the demo keeps the last 1,000). */
export const receivedReports = [];

async function receiveReport(req, res) {
  let size = 0;
  const chunks = [];
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_REPORT_BYTES) {
      res.writeHead(413).end();
      req.destroy();
      return;
    }
    chunks.push(chunk);
  }
  let report;
  try {
    report = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    report = null;
  }
  // The collector's own checks, so the demo refuses what a real collector would.
  try {
    validate(report, Date.now());
  } catch (e) {
    const status = e instanceof Refused ? e.status : 400;
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: e.code ?? 'INVALID_REPORT', message: e.message } }));
    return;
  }
  receivedReports.push(report);
  receivedReports.splice(0, Math.max(0, receivedReports.length - 1000));
  res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ id: report.id, status: 'accepted' }));
}

/** The large files the page names by hash: compressed once when the server starts. */
const PRECOMPRESSED = ['pkg/edgerec_bg.wasm', 'models/online-retail/online-retail.edgerec'];

/** `mount`: { prefix: 'compare', dir } serves `dir` (inside the repository) at `/compare/`. */
export function startServer({ port = 8080, host = '127.0.0.1', mount = null, reporting: how } = {}) {
  if (mount) mounts.set(mount.prefix, mount.dir);
  if (how !== undefined) reporting = JSON.stringify(how);
  for (const rel of PRECOMPRESSED) precompress(join(root, rel)).catch(() => {});
  const server = createServer((req, res) => {
    handle(req, res).catch((e) => {
      // One bad request never takes the server down.
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`error: ${e.message}`);
    });
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => ok(server));
  });
}

async function handle(req, res) {
  if (req.method === 'POST' && req.url === '/v1/reports') {
    await receiveReport(req, res);
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD (POST /v1/reports)' }).end();
    return;
  }
  let path;
  try {
    path = new URL(req.url, 'http://x').pathname;
  } catch {
    path = '';
  }
  if (!wellFormed(path)) {
    res.writeHead(400, { 'content-type': 'text/plain', 'cache-control': 'no-store' }).end('malformed path');
    return;
  }
  const [plain, hash] = splitHashed(path) ?? [path, null];
  const file = resolve(plain);
  const info = file && (await inside(file)) ? await stat(file).catch(() => null) : null;
  if (!info?.isFile()) {
    res.writeHead(404, { 'content-type': 'text/plain', 'cache-control': 'no-store' }).end('not found');
    return;
  }
  const render = file.endsWith('.html') ? renderHashedUrls : null;
  // `name@1.2.3/` in a path names one version of a package: immutable.
  const immutable = /\/[^/]+@\d[^/]*\//.test(plain);
  await serveFile(req, res, file, info, { hash, render, immutable });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const flag = process.argv.indexOf('--port');
  const port = Number(flag > 0 ? process.argv[flag + 1] : process.env.PORT ?? 8080);
  const server = await startServer({ port });
  const { port: bound } = server.address();
  console.log(`edgerec demo store: http://127.0.0.1:${bound}/  (Ctrl-C to stop)`);
}
