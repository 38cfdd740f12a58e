// Static files the way a CDN should serve them (docs/guide.md, "Serving it"):
// - content-hashed names (`edgerec_bg.3f2a9c01b7d4.wasm`) for the module and
//   the bundles: `cache-control: public, max-age=31536000, immutable`, so a
//   repeat visit never asks for them again;
// - everything else with a strong ETag: `no-cache` (revalidated, 304) for
//   HTML, and for scripts and styles `max-age=0, stale-while-revalidate`, so a
//   repeat visit uses them at once while the browser revalidates behind;
// - brotli files pre-compressed once (`name.br` beside the file, quality 11),
//   else gzip, else identity, chosen by `accept-encoding`.
import { createHash } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';

const brotli = promisify(brotliCompress);
const gzipAsync = promisify(gzip);

export const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.edgerec': 'application/octet-stream',
  '.onnx': 'application/octet-stream',
  '.ts': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
};
const COMPRESSIBLE = new Set(['.html', '.mjs', '.js', '.css', '.json', '.wasm', '.edgerec', '.onnx', '.ts', '.md']);
/** Files that get content-hashed names. */
export const HASHED = new Set(['.wasm', '.edgerec', '.onnx']);
const HASH_LEN = 12;
const IMMUTABLE = 'public, max-age=31536000, immutable';
const REVALIDATE = 'no-cache';
const SWR = 'public, max-age=0, stale-while-revalidate=604800';

/** One file's bytes and their encodings, computed once per (mtime, size). */
const cache = new Map();

async function load(file, info) {
  const key = `${info.mtimeMs}:${info.size}`;
  const hit = cache.get(file);
  if (hit?.key === key) return hit;
  const raw = await readFile(file);
  const hash = createHash('sha256').update(raw).digest('hex');
  const entry = { key, raw, hash, etag: `"${hash.slice(0, 32)}"`, encoded: new Map() };
  cache.set(file, entry);
  return entry;
}

/** The pre-compressed `file.br` when it is fresh, else made once now. */
async function brotliOf(file, info, entry) {
  const br = `${file}.br`;
  const brInfo = await stat(br).catch(() => null);
  if (brInfo && brInfo.mtimeMs >= info.mtimeMs) return readFile(br);
  const out = await brotli(entry.raw, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: entry.raw.length },
  });
  await writeFile(br, out).catch(() => {}); // a read-only tree still serves
  return out;
}

async function encoded(file, info, entry, encoding) {
  if (!entry.encoded.has(encoding)) {
    const promise = encoding === 'br' ? brotliOf(file, info, entry) : gzipAsync(entry.raw, { level: 9 });
    entry.encoded.set(encoding, promise);
  }
  return entry.encoded.get(encoding);
}

/** Make `file`'s brotli form now (off the event loop), so no visitor waits for it. */
export async function precompress(file) {
  const info = await stat(file);
  await encoded(file, info, await load(file, info), 'br');
}

/** `name.<hash>.ext` → [`name.ext`, hash], or null. */
export function splitHashed(path) {
  const m = new RegExp(`^(.*)\\.([0-9a-f]{${HASH_LEN}})(\\.[a-z]+)$`).exec(path);
  return m && HASHED.has(m[3]) ? [m[1] + m[3], m[2]] : null;
}

/** The content-hashed URL of `urlPath` (served by `file`). */
export async function hashedUrl(urlPath, file) {
  const info = await stat(file);
  const { hash } = await load(file, info);
  const ext = extname(urlPath);
  return `${urlPath.slice(0, -ext.length)}.${hash.slice(0, HASH_LEN)}${ext}`;
}

function pickEncoding(ext, acceptEncoding = '') {
  if (!COMPRESSIBLE.has(ext)) return null;
  if (/\bbr\b/.test(acceptEncoding)) return 'br';
  if (/\bgzip\b/.test(acceptEncoding)) return 'gzip';
  return null;
}

/**
 * Answer GET/HEAD for `file` (already resolved and checked to be a file).
 * `hash`: the hash the URL named, if any (it must match the content).
 * `render`: optional text transform (the HTML's hashed asset URLs).
 * `immutable`: the URL names one version (a versioned package path).
 */
export async function serveFile(req, res, file, info, { hash = null, render = null, immutable = false } = {}) {
  let entry = await load(file, info);
  if (hash !== null && !entry.hash.startsWith(hash)) {
    res.writeHead(404, { 'content-type': 'text/plain', 'cache-control': 'no-store' }).end('not found');
    return;
  }
  const ext = extname(file);
  if (render) entry = await rendered(file, entry, render);
  const cacheControl = hash !== null || immutable ? IMMUTABLE : ext === '.html' ? REVALIDATE : SWR;
  const common = { etag: entry.etag, 'cache-control': cacheControl, vary: 'accept-encoding' };
  if (req.headers['if-none-match'] === entry.etag) {
    res.writeHead(304, common).end();
    return;
  }
  const encoding = pickEncoding(ext, req.headers['accept-encoding']);
  const data = encoding ? await encoded(file, info, entry, encoding) : entry.raw;
  res.writeHead(200, {
    ...common,
    'content-type': TYPES[ext] ?? 'application/octet-stream',
    'content-length': data.length,
    ...(encoding ? { 'content-encoding': encoding } : {}),
  });
  res.end(req.method === 'HEAD' ? undefined : data);
}

/** A templated text file, cached per source version and rendered text. */
const renderedCache = new Map();
async function rendered(file, entry, render) {
  const text = await render(entry.raw.toString('utf8'));
  const hit = renderedCache.get(file);
  if (hit?.text === text) return hit.entry;
  const raw = Buffer.from(text, 'utf8');
  const hash = createHash('sha256').update(raw).digest('hex');
  const out = { key: entry.key, raw, hash, etag: `"${hash.slice(0, 32)}"`, encoded: new Map() };
  // Rendered text is small: compress it in memory, never beside the file.
  out.encoded.set('br', brotli(raw));
  renderedCache.set(file, { text, entry: out });
  return out;
}
