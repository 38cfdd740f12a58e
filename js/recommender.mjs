// The storefront API over the wasm-bindgen glue. Each entry point (node,
// browser, workerd) initialises the glue its own way, then calls
// makeRecommender(glue, readSource).

const EVENT_TYPES = new Set(['view', 'add_to_cart', 'remove_from_cart', 'purchase']);
/** Largest request body `handleRequest` reads (the same limit as the Rust endpoint). */
export const MAX_BODY_BYTES = 64 * 1024;
const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };

/** The body's bytes, or null once it passes `limit` (the rest is not read). */
async function readBounded(request, limit) {
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

function tooLarge() {
  const error = { code: 'PAYLOAD_TOO_LARGE', message: `request body is larger than the ${MAX_BODY_BYTES}-byte limit` };
  return new Response(JSON.stringify({ error }), { status: 413, headers: JSON_HEADERS });
}

/** An Error with a stable `code`, like the ones the engine throws. */
export function edgerecError(code, message) {
  const err = new Error(message);
  err.code = code;
  return err;
}

async function fetchBytes(url) {
  const res = await fetch(url);
  if (!res.ok) throw edgerecError('BUNDLE_FETCH', `fetching ${url} failed: HTTP ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
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

export function makeRecommender(ready, readSource = defaultReadSource) {
  class Recommender {
    #engine;

    constructor(engine) {
      this.#engine = engine;
    }

    /** Load a bundle from bytes or a URL; rejects with a coded Error if it is unusable. */
    static async load(source) {
      const glue = await ready();
      const bytes = await readSource(source);
      return new Recommender(glue.Engine.load(bytes));
    }

    /**
     * Record what the shopper did: track({ type, item }) or track(type, item).
     * Returns false when the item is not in the catalog (skipped, counted).
     */
    track(typeOrEvent, item) {
      const event = typeof typeOrEvent === 'string' ? { type: typeOrEvent, item } : typeOrEvent;
      if (event === null || typeof event !== 'object') {
        throw edgerecError('INVALID_EVENT', 'an event is { type, item }');
      }
      if (!EVENT_TYPES.has(event.type)) {
        throw edgerecError('INVALID_EVENT', `unknown event type ${JSON.stringify(String(event.type)).slice(0, 60)}`);
      }
      return this.#engine.track(event.type, event.item);
    }

    /** Ranked items with score parts and reasons: { items, stats }. */
    recommend(options = {}) {
      if (options === null || typeof options !== 'object') {
        throw edgerecError('INVALID_OPTIONS', 'recommend options are { k?, anchor?, exclude? }');
      }
      return JSON.parse(this.#engine.recommendJson(JSON.stringify(options)));
    }

    /**
     * Every slot of a page for the live session: { recommended, similar,
     * boughtTogether, completeTheSet, offer, stats }. Options:
     * { k?, anchor?, exclude?, slots? }.
     */
    page(options = {}) {
      if (options === null || typeof options !== 'object') {
        throw edgerecError('INVALID_OPTIONS', 'page options are { k?, anchor?, exclude?, slots? }');
      }
      return JSON.parse(this.#engine.pageJson(JSON.stringify(options)));
    }

    /**
     * Serve the stateless HTTP API for a fetch-style Request:
     * POST /v1/recommend (events in, slots out) and GET /v1/health.
     * Never throws: a bad request is a 4xx with { error: { code, message } }.
     */
    async handleRequest(request) {
      const declared = Number(request.headers.get('content-length') ?? 0);
      if (declared > MAX_BODY_BYTES) return tooLarge();
      const body = request.method === 'GET' || request.method === 'HEAD' ? new Uint8Array(0) : await readBounded(request, MAX_BODY_BYTES);
      if (body === null) return tooLarge();
      const reply = this.#engine.handleHttp(request.method, new URL(request.url).pathname, body);
      try {
        return new Response(reply.body, { status: reply.status, headers: JSON_HEADERS });
      } finally {
        reply.free();
      }
    }

    /** The bundle's catalog, most popular first: [{ item, title, price, category, inStock }]. */
    catalog() {
      return JSON.parse(this.#engine.catalogJson());
    }

    /** Forget the current session. */
    reset() {
      this.#engine.reset();
    }

    /** Manifest summary and model card of the loaded bundle. */
    get info() {
      return this.#engine.info();
    }

    /** The bundle's default offer policy. */
    get policy() {
      return JSON.parse(this.#engine.policyJson());
    }

    /** Release the engine's WebAssembly memory. */
    free() {
      this.#engine.free();
    }
  }
  return Recommender;
}
