// The package's ground floor, imported by every other module and importing none: coded errors, argument checks, byte sources, bounded request bodies, the host's default storage.
// It stays free of imports: the report collector and aggregators import readBounded from it, and their workerd configs embed this one file.

/** Largest request body `handleRequest` reads (the same limit as the Rust endpoint). */
export const MAX_BODY_BYTES = 64 * 1024;

/**
 * The body's bytes, or null once it passes `limit` (the rest is not read).
 * The report collector reads its bodies with it too.
 */
export async function readBounded(request, limit) {
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** An Error with a stable `code`, like the ones the engine throws. */
export function edgerecError(code, message) {
  const err = new Error(message);
  err.code = code;
  return err;
}

async function fetchBytes(url) {
  let res;
  try {
    res = await fetch(url);
  } catch (e) {
    throw edgerecError('BUNDLE_FETCH', `fetching ${url} failed: ${e.message}`);
  }
  if (!res.ok) throw edgerecError('BUNDLE_FETCH', `fetching ${url} failed: HTTP ${res.status}`);
  try {
    return new Uint8Array(await res.arrayBuffer());
  } catch (e) {
    throw edgerecError('BUNDLE_FETCH', `reading ${url} failed halfway: ${e.message}`);
  }
}

/** Bytes from a Uint8Array, ArrayBuffer, Response, URL or URL string. */
export async function defaultReadSource(source) {
  if (source instanceof Uint8Array) return source;
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  if (typeof Response !== 'undefined' && source instanceof Response) return new Uint8Array(await source.arrayBuffer());
  if (source instanceof URL || typeof source === 'string') return fetchBytes(source);
  throw edgerecError('INVALID_OPTIONS', 'Recommender.load expects bytes, a Response or a URL');
}

/** The browser's localStorage when there is one (not in Node or workerd). */
export function defaultStorage() {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null; // a sandboxed frame throws on access
  }
}

/** Tests only: the method that makes a recommender's engine trap. */
export const FORCE_TRAP = Symbol('edgerec.forceTrap');

/**
 * What `value` is, for a message. Never throws: a value from outside may be
 * an object without a prototype or with a toString that throws.
 */
export function describe(value) {
  if (typeof value === 'string') return JSON.stringify(value).slice(0, 60);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'function') return 'a function';
  return `${typeof value} ${String(value).slice(0, 40)}`;
}

/** `value` as JSON text for the engine; what JSON cannot hold (a BigInt, a cycle, a toJSON that returns nothing) is a coded error. */
export function toJson(value, what, code = 'INVALID_OPTIONS', replacer = undefined) {
  let text;
  try {
    text = JSON.stringify(value, replacer);
  } catch (e) {
    throw edgerecError(code, `${what} cannot be written as JSON: ${e?.message ?? e}`);
  }
  if (typeof text !== 'string') throw edgerecError(code, `${what} cannot be written as JSON (it writes as nothing)`);
  return text;
}

/**
 * `value` when it is a string, else a coded error: wasm-bindgen copies a
 * string argument without checking its type (a number or an object traps
 * inside WebAssembly, an array throws a TypeError), so every string that
 * crosses is checked here first.
 */
export function textArg(value, what, code = 'INVALID_OPTIONS') {
  if (typeof value !== 'string') throw edgerecError(code, `${what} must be a string, not ${describe(value)}`);
  return value;
}

/** `err` when it carries a code; else a coded error with its message. */
export function coded(err, code) {
  if (typeof err?.code === 'string' && /^[A-Z_]+$/.test(err.code)) return err;
  let message;
  try {
    message = String(err?.message ?? err);
  } catch {
    message = describe(err);
  }
  return edgerecError(code, message);
}

/** `value` when it is an object (not null), else INVALID_OPTIONS naming `what`. */
export function objectArg(value, what) {
  if (value === null || typeof value !== 'object') throw edgerecError('INVALID_OPTIONS', `${what} must be an object`);
  return value;
}
