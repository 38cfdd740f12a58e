// The demo store's static server (`npm start`): www/ at /, and the npm
// package's published files at /vendor/edgerec/ (what a CDN serving the
// package would offer). Loopback only. GET and HEAD, plus POST /v1/reports:
// the storefront's differentially private reports (sent only with the
// shopper's consent), kept in memory here — a store points its pages at the
// collector Worker (edge/cloudflare/src/collector.mjs) instead.
//   node www/server.mjs [--port 8080]      (PORT also works; 0 picks a free port)
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = fileURLToPath(new URL('..', import.meta.url));
const www = join(root, 'www');
const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.edgerec': 'application/octet-stream',
  '.ts': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
};
const COMPRESSIBLE = new Set(['.html', '.mjs', '.js', '.css', '.json', '.wasm', '.edgerec']);

/** Only files the package publishes are served from it. */
function published(rel) {
  return pkg.files.some((f) => (f.endsWith('/') ? rel.startsWith(f) : rel === f));
}

function resolve(urlPath) {
  const clean = normalize(decodeURIComponent(urlPath)).replace(/^[/\\]+/, '');
  if (clean.split(sep).includes('..')) return null;
  if (clean.startsWith(`vendor${sep}edgerec${sep}`)) {
    const rel = clean.slice(`vendor${sep}edgerec${sep}`.length).split(sep).join('/');
    return published(rel) ? join(root, rel) : null;
  }
  if (clean === 'server.mjs') return null;
  return join(www, clean === '' ? 'index.html' : clean);
}

const gzipCache = new Map();
async function body(file, mtimeMs, gzip) {
  const raw = await readFile(file);
  if (!gzip) return raw;
  const key = `${file}:${mtimeMs}`;
  if (!gzipCache.has(key)) gzipCache.set(key, gzipSync(raw, { level: 6 }));
  return gzipCache.get(key);
}

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
  if (report?.version !== 1 || typeof report.id !== 'string') {
    res.writeHead(400, { 'content-type': 'application/json' }).end('{"error":{"code":"INVALID_REPORT"}}');
    return;
  }
  receivedReports.push(report);
  receivedReports.splice(0, Math.max(0, receivedReports.length - 1000));
  res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ id: report.id, status: 'accepted' }));
}

export function startServer({ port = 8080, host = '127.0.0.1' } = {}) {
  const server = createServer(async (req, res) => {
    if (req.method === 'POST' && req.url === '/v1/reports') {
      await receiveReport(req, res);
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD (POST /v1/reports)' }).end();
      return;
    }
    const file = resolve(new URL(req.url, 'http://x').pathname);
    const info = file && (await stat(file).catch(() => null));
    if (!info?.isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const ext = extname(file);
    const gzip = COMPRESSIBLE.has(ext) && /\bgzip\b/.test(req.headers['accept-encoding'] ?? '');
    const data = await body(file, info.mtimeMs, gzip);
    res.writeHead(200, {
      'content-type': TYPES[ext] ?? 'application/octet-stream',
      'content-length': data.length,
      'cache-control': 'no-cache',
      ...(gzip ? { 'content-encoding': 'gzip', vary: 'accept-encoding' } : {}),
    });
    res.end(req.method === 'HEAD' ? undefined : data);
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => ok(server));
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const flag = process.argv.indexOf('--port');
  const port = Number(flag > 0 ? process.argv[flag + 1] : process.env.PORT ?? 8080);
  const server = await startServer({ port });
  const { port: bound } = server.address();
  console.log(`edgerec demo store: http://127.0.0.1:${bound}/  (Ctrl-C to stop)`);
}
