// The storefront API over the wasm-bindgen glue. Each entry point (node,
// browser, workerd) initialises the glue its own way, then calls
// makeRecommender(glue, readSource).

const EVENT_TYPES = new Set(['view', 'add_to_cart', 'remove_from_cart', 'purchase']);
/** Largest request body `handleRequest` reads (the same limit as the Rust endpoint). */
export const MAX_BODY_BYTES = 64 * 1024;
const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };

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

function errorResponse(status, code, message) {
  return new Response(JSON.stringify({ error: { code, message } }), { status, headers: JSON_HEADERS });
}

const tooLarge = () => errorResponse(413, 'PAYLOAD_TOO_LARGE', `request body is larger than the ${MAX_BODY_BYTES}-byte limit`);

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

/** `Recommender.load({ release, ... })`: the options come first, with no bundle. */
function isReleaseOptions(source) {
  return source !== null && typeof source === 'object' && Object.getPrototypeOf(source) === Object.prototype && 'release' in source;
}

/** The release file's bytes; a failure is RELEASE_FETCH (the file) rather than BUNDLE_FETCH. */
async function readRelease(release, readSource) {
  try {
    return await readSource(release);
  } catch (e) {
    throw edgerecError('RELEASE_FETCH', String(e?.message ?? e).replace(/^fetching|^reading/, 'the release file:'));
  }
}

/** A bundle's URL in a release file, read relative to the release file's own. */
function resolveAgainst(release, url) {
  if (/^[a-z][a-z0-9+.-]*:/i.test(url) || url.startsWith('/')) return url;
  const base = String(release);
  try {
    return new URL(url, new URL(base, globalThis.location?.href)).href;
  } catch {
    return base.replace(/[^/]*$/, '') + url; // a file path (Node)
  }
}

/** What `storage` keeps under `key` when it is text; null when it is not (absent, another type, storage blocked). */
function storedText(storage, key) {
  try {
    const value = storage?.getItem(key);
    return typeof value === 'string' ? value : null;
  } catch {
    return null;
  }
}

/** The shopper key kept with the stored state, if any. */
function storedShopperKey(storage, storageKey) {
  try {
    const key = JSON.parse(storedText(storage, storageKey) ?? 'null')?.shopperKey;
    return typeof key === 'string' ? key : null;
  } catch {
    return null;
  }
}

/** A random shopper key (it only places the shopper in experiment arms). */
function randomKey() {
  const bytes = new Uint8Array(16);
  if (globalThis.crypto?.getRandomValues) globalThis.crypto.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256); // bare JS shells
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/**
 * What `value` is, for a message. Never throws: a value from outside may be
 * an object without a prototype or with a toString that throws.
 */
function describe(value) {
  if (typeof value === 'string') return JSON.stringify(value).slice(0, 60);
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'function') return 'a function';
  return `${typeof value} ${String(value).slice(0, 40)}`;
}

function asEvent(typeOrEvent, item) {
  const event = typeof typeOrEvent === 'string' ? { type: typeOrEvent, item } : typeOrEvent;
  if (event === null || typeof event !== 'object') {
    throw edgerecError('INVALID_EVENT', 'an event is { type, item }');
  }
  if (typeof event.type !== 'string' || !EVENT_TYPES.has(event.type)) {
    throw edgerecError('INVALID_EVENT', `unknown event type ${describe(event.type)}`);
  }
  return event;
}

/** `value` as JSON text for the engine; what JSON cannot hold (a BigInt, a cycle, a toJSON that returns nothing) is a coded error. */
function toJson(value, what, code = 'INVALID_OPTIONS') {
  let text;
  try {
    text = JSON.stringify(value);
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
function textArg(value, what, code = 'INVALID_OPTIONS') {
  if (typeof value !== 'string') throw edgerecError(code, `${what} must be a string, not ${describe(value)}`);
  return value;
}

/** `err` when it carries a code; else a coded error with its message. */
function coded(err, code) {
  if (typeof err?.code === 'string' && /^[A-Z_]+$/.test(err.code)) return err;
  let message;
  try {
    message = String(err?.message ?? err);
  } catch {
    message = describe(err);
  }
  return edgerecError(code, message);
}

function objectArg(value, what) {
  if (value === null || typeof value !== 'object') throw edgerecError('INVALID_OPTIONS', `${what} must be an object`);
  return value;
}

/** Host time the engine's days can hold: years 0 to 9999 (a day outside them would not import again). */
const EARLIEST_MS = -62167219200000; // 0000-01-01T00:00:00.000Z
const LATEST_MS = 253402300799999; // 9999-12-31T23:59:59.999Z

/** Tests only: the method that makes a recommender's engine trap. */
export const FORCE_TRAP = Symbol('edgerec.forceTrap');

/** Events a recommender keeps to rebuild its session after a restart (the engine keeps fewer). */
const KEPT_EVENTS = 1000;

/**
 * A trap inside WebAssembly (a bug, memory exhausted, the stack overflowed)
 * leaves the instance unusable: the engine it trapped in stays borrowed, and
 * its memory may be half-written. What such a call throws.
 */
function isTrap(e) {
  return e instanceof WebAssembly.RuntimeError || e instanceof RangeError ||
    /recursive use of an object detected|null pointer passed to rust|attempted to take ownership/.test(e?.message ?? '');
}

/** A Prio3 measurement (engine.takeReport under `prio3`): sealed before it leaves the device. */
const isMeasurement = (text) => {
  try {
    return JSON.parse(text)?.mechanism === 'prio3';
  } catch {
    return false;
  }
};

/** An aggregator's HPKE config ({ id, publicKey }) from its /v1/hpke_config. */
async function fetchConfig(url, send) {
  const res = await send(url);
  if (!res.ok) throw new Error(`${url} answered ${res.status}`); // caught: the report waits for the next try
  return JSON.stringify(await res.json());
}

export function makeRecommender(ready, readSource = defaultReadSource, readyPrio3 = null) {
  // Every recommender made here shares the glue's one instance; after a
  // trap it is replaced, and each recommender rebuilds its engine on it.
  const runtime = { generation: 0, live: new Set() };

  class Recommender {
    #glue;
    #engine;
    #generation;
    /** What rebuilds the engine: the bundle, the calls that configured it, the session's events, the state. */
    #bytes;
    #setup = [];
    #events = [];
    #state = null;
    /** Decision ids of earlier engines are below this (the engine counts from 1). */
    #idBase = 0;
    #lastId = 0;
    #self = new WeakRef(this);
    #clock;
    #storage;
    #storageKey;
    #outbox;
    /** The shopper's placement in the store's release, and the side whose bundle loaded. */
    #release = null;

    constructor(glue, bytes, { clock, storage, storageKey }) {
      this.#glue = glue;
      this.#bytes = bytes;
      this.#engine = Recommender.#load(glue, bytes);
      this.#generation = runtime.generation;
      runtime.live.add(this.#self);
      this.#clock = clock;
      this.#storage = storage;
      this.#storageKey = storageKey;
    }

    /**
     * Run `fn` on the engine. If it traps, the instance is replaced, this
     * engine is rebuilt from the bundle, its setup, the session's events and
     * the last saved state, and the call fails with ENGINE_RESTARTED
     * (nothing of it is kept); the recommender keeps working.
     */
    #call(fn) {
      if (this.#engine === null) throw edgerecError('INVALID_STATE', 'the recommender was freed');
      try {
        if (this.#generation !== runtime.generation) this.#rebuild();
        return fn(this.#engine);
      } catch (e) {
        if (!isTrap(e)) throw e;
        Recommender.#restart(this.#glue);
        try {
          this.#rebuild();
        } catch (again) {
          if (!isTrap(again)) throw again;
          // The rebuild trapped too: a fresh instance again, and the next call rebuilds.
          Recommender.#restart(this.#glue);
        }
        throw edgerecError('ENGINE_RESTARTED', `the engine failed inside WebAssembly (${e?.message ?? e}) and was restarted from the bundle and the shopper's saved state; this call did nothing, try it again`);
      }
    }

    /**
     * A new engine of `bytes`, under the same guard as every call: a trap or
     * a stack overflow while the engine reads the bundle (a hostile encoder
     * graph, a bug) leaves the instance unusable, so it is replaced (the
     * live recommenders rebuild on the fresh one) and the load fails with
     * BUNDLE_INVALID. A coded error from the engine is thrown as it is.
     */
    static #load(glue, bytes) {
      return Recommender.#guarded(glue, () => glue.Engine.load(bytes), 'BUNDLE_INVALID', 'this bundle', 'nothing was loaded');
    }

    /** Where a release file places a shopper key, under the same guard (a trap is INVALID_RELEASE). */
    static #place(glue, text, key) {
      return JSON.parse(Recommender.#guarded(glue, () => glue.placeInRelease(text, key), 'INVALID_RELEASE', 'the release file', 'nothing was placed'));
    }

    /** `fn()`, a call into the module outside any engine: a trap restarts the instance and is a `code` error. */
    static #guarded(glue, fn, code, what, outcome) {
      try {
        return fn();
      } catch (e) {
        if (!isTrap(e)) throw e;
        Recommender.#restart(glue);
        throw edgerecError(code, `the engine failed inside WebAssembly while reading ${what} (${e?.message ?? e}) and was restarted; ${outcome}`);
      }
    }

    /** A fresh instance; the engines of the old one are let go without calling into it. */
    static #restart(glue) {
      for (const ref of runtime.live) {
        const rec = ref.deref();
        if (rec) rec.#engine?.__destroy_into_raw();
        else runtime.live.delete(ref);
      }
      runtime.generation += 1;
      glue.__edgerec_restart();
    }

    #rebuild() {
      const engine = this.#glue.Engine.load(this.#bytes);
      try {
        for (const { method, arg } of this.#setup) engine[method](arg);
        if (this.#state !== null) engine.importState(this.#state);
        for (const e of this.#events) engine.replay(e.type, e.item);
      } catch (e) {
        if (!isTrap(e)) engine.free();
        throw e;
      }
      this.#engine = engine;
      this.#generation = runtime.generation;
      this.#idBase = this.#lastId;
    }

    /** Remember a configuring call (the last of each kind, a policy per id) for a rebuild. */
    #remember(method, arg, key = method) {
      this.#setup = this.#setup.filter((c) => c.key !== key);
      this.#setup.push({ method, arg, key });
    }

    #keepEvent(event) {
      this.#events.push({ type: event.type, item: String(event.item) });
      if (this.#events.length > KEPT_EVENTS) this.#events.splice(0, this.#events.length - KEPT_EVENTS);
    }

    /** The engine's id of a decision id handed out, or null when it was an earlier engine's. */
    #engineId(id) {
      return id > this.#idBase ? id - this.#idBase : null;
    }

    /** The clock's reading: a finite number of milliseconds, or INVALID_OPTIONS (nothing changes). */
    #now() {
      let t;
      try {
        t = this.#clock();
      } catch (e) {
        throw edgerecError('INVALID_OPTIONS', `the clock threw: ${e?.message ?? e}`);
      }
      if (typeof t !== 'number' || !Number.isFinite(t)) {
        throw edgerecError('INVALID_OPTIONS', `the clock must return a finite number of milliseconds, not ${typeof t === 'number' ? t : `a ${typeof t}`}`);
      }
      if (t < EARLIEST_MS || t > LATEST_MS) {
        throw edgerecError('INVALID_OPTIONS', `the clock must read a time in the years 0 to 9999 (${EARLIEST_MS} to ${LATEST_MS} ms), not ${t}`);
      }
      return t;
    }

    /**
     * Load a bundle from bytes or a URL; rejects with a coded Error if it is
     * unusable. Options: clock (() => ms, default Date.now), storage (a
     * localStorage-like object where the shopper's caps and bandit state
     * live; the browser's localStorage by default, none elsewhere),
     * storageKey, shopperKey (default: the stored one, else a random key),
     * policy (a store's own offer policy, object or JSON text), wasm (in
     * browsers: where the .wasm is, e.g. its content-hashed CDN URL).
     */
    static async load(source, options = {}) {
      if (isReleaseOptions(source)) [source, options] = [null, source];
      const { clock = Date.now, storage = defaultStorage(), storageKey = 'edgerec:state', policy, consent, reporting, wasm, release } = objectArg(options, 'load options');
      if (typeof clock !== 'function') throw edgerecError('INVALID_OPTIONS', 'clock must be a function returning ms');
      textArg(storageKey, 'storageKey');
      // null is no key, as undefined is (the stored one, else a random one).
      const shopperKey = options.shopperKey ?? undefined;
      if (shopperKey !== undefined) textArg(shopperKey, 'shopperKey');
      let rec;
      if (release !== undefined) {
        rec = await Recommender.#fromRelease(await ready({ wasm }), release, { clock, storage, storageKey, shopperKey });
      } else {
        // The module compiles while the bundle downloads.
        const [glue, bytes] = await Promise.all([ready({ wasm }), readSource(source)]);
        rec = new Recommender(glue, bytes, { clock, storage, storageKey });
      }
      try {
        if (release === undefined) rec.#restoreState(shopperKey);
        if (policy !== undefined) rec.usePolicy(policy);
        if (reporting !== undefined) {
          const text = toJson(objectArg(reporting, 'reporting'), 'reporting');
          rec.#call((engine) => engine.setReporting(text));
          rec.#remember('setReporting', text);
        }
        if (consent !== undefined) rec.setConsent(consent);
      } catch (e) {
        rec.free(); // the load failed: its engine's memory goes now, not at the next GC
        throw e;
      }
      return rec;
    }

    /**
     * Follow a release file: place the shopper (by the key they keep), load
     * their side's bundle and check it is the one named; a candidate that
     * fails to load or check gives way to the current bundle. A release
     * file that cannot be read or checked gives way to the last good one
     * this storage kept; with none, the load fails with its code.
     */
    static async #fromRelease(glue, release, { clock, storage, storageKey, shopperKey }) {
      const key = shopperKey ?? storedShopperKey(storage, storageKey) ?? randomKey();
      const lastGood = `${storageKey}:release`;
      let placed;
      let releaseError;
      try {
        const text = new TextDecoder().decode(await readRelease(release, readSource));
        placed = Recommender.#place(glue, text, key);
        try {
          storage?.setItem(lastGood, text);
        } catch {
          // Quota or privacy mode: no last good release to fall back on.
        }
      } catch (err) {
        // What storage kept, when it is text: anything else is no last good release.
        const kept = storedText(storage, lastGood);
        if (kept === null) throw coded(err, 'INVALID_RELEASE');
        placed = Recommender.#place(glue, kept, key);
        releaseError = coded(err, 'INVALID_RELEASE');
      }
      const open = async (ref) => {
        let bytes;
        try {
          bytes = await readSource(resolveAgainst(release, ref.url));
        } catch (err) {
          throw coded(err, 'BUNDLE_FETCH');
        }
        const rec = new Recommender(glue, bytes, { clock, storage, storageKey });
        try {
          rec.#call((engine) => engine.checkReleaseBundle(JSON.stringify(ref)));
        } catch (err) {
          rec.free(); // not the bundle named: its memory goes now
          throw err;
        }
        return rec;
      };
      let { placement } = placed;
      let rec;
      try {
        rec = await open(placement.bundle);
      } catch (err) {
        if (placement.side === 'current') throw coded(err, 'BUNDLE_INVALID');
        // Whatever the candidate did (a trap restarted the instance), the current bundle loads.
        rec = await open(placed.fallback.bundle);
        releaseError = coded(err, 'BUNDLE_INVALID');
        placement = { ...placed.fallback, placed: 'candidate' };
      }
      rec.#restoreState(key);
      rec.#join(placement);
      if (releaseError !== undefined) rec.releaseError = releaseError;
      return rec;
    }

    /**
     * Where a release file (JSON text or object) places `shopperKey`:
     * `{ placement: { experiment, side, share, bundle }, current, fallback }`
     * by the hash experiment arms use; `fallback` is the placement to join
     * when the placement's bundle fails (the current side). For servers that
     * place each request themselves (the Worker).
     */
    static async placeShopper(release, shopperKey, options = {}) {
      const { wasm } = objectArg(options, 'placeShopper options');
      const text = typeof release === 'string' ? release : toJson(objectArg(release, 'release'), 'release');
      textArg(shopperKey, 'shopperKey');
      const glue = await ready({ wasm });
      return Recommender.#place(glue, text, shopperKey);
    }

    /**
     * Report as one side of a release from now on: `placement` is
     * `placeShopper`'s, and this recommender's bundle must be the one it
     * names (RELEASE_MISMATCH otherwise). `load({ release })` does this itself.
     */
    joinRelease(placement) {
      const p = objectArg(placement, 'placement');
      this.#call((engine) => engine.checkReleaseBundle(toJson(objectArg(p.bundle, 'placement.bundle'), 'placement.bundle')));
      this.#join(p);
    }

    /** `placed` says where the hash put the shopper when their side's bundle failed. */
    #join({ placed, ...placement }) {
      const text = toJson(placement, 'placement');
      this.#call((engine) => engine.joinRelease(text));
      this.#remember('joinRelease', text);
      this.#release = { ...placement, loaded: placement.side, ...(placed ? { placed } : {}) };
    }

    #restoreState(shopperKey) {
      let stored = null;
      try {
        stored = this.#storage?.getItem(this.#storageKey) ?? null;
      } catch {
        stored = null; // storage blocked: state lives in memory only
      }
      if (stored !== null && typeof stored !== 'string') {
        // Not text, so not state the engine wrote: unreadable, start afresh.
        this.stateError = edgerecError('INVALID_STATE', `the stored state under ${describe(this.#storageKey)} is not text but ${describe(stored)}: started afresh`);
        stored = null;
      }
      if (stored !== null) {
        try {
          this.#call((engine) => engine.importState(stored));
          this.#state = stored;
          const key = JSON.parse(stored).shopperKey;
          if (shopperKey === undefined || shopperKey === key) return;
        } catch (err) {
          // Unreadable stored state: start afresh, and say so.
          this.stateError = err;
        }
      }
      this.#call((engine) => engine.setShopperKey(shopperKey ?? randomKey()));
      this.#saveState();
    }

    /** Export the engine's state: into storage, and as what a rebuild starts from. */
    #saveState() {
      this.#state = this.#call((engine) => engine.exportState());
      try {
        this.#storage?.setItem(this.#storageKey, this.#state);
      } catch {
        // Quota or privacy mode: caps hold for this page's life only.
      }
    }

    /**
     * Record what the shopper did: track({ type, item }) or track(type, item).
     * Returns false when the item is not in the catalog (skipped, counted).
     * A purchase of an item an offer showed counts as that offer's take.
     */
    track(typeOrEvent, item) {
      const event = asEvent(typeOrEvent, item);
      const now = this.#now();
      const known = this.#call((engine) => engine.track(event.type, event.item, now));
      this.#keepEvent(event);
      if (event.type === 'purchase' || event.type === 'add_to_cart') this.#saveState();
      return known;
    }

    /**
     * Replay a stored session (oldest first) after a reload: rebuilds the
     * session without counting its purchases as offer takes again.
     * Malformed events are skipped; returns how many were replayed.
     */
    restore(events) {
      if (!Array.isArray(events)) throw edgerecError('INVALID_OPTIONS', 'restore expects an array of events');
      let replayed = 0;
      for (const e of events) {
        try {
          const event = asEvent(e);
          this.#call((engine) => engine.replay(event.type, event.item));
          this.#keepEvent(event);
          replayed += 1;
        } catch (err) {
          if (err.code === 'ENGINE_RESTARTED') throw err;
          // a malformed stored event is dropped
        }
      }
      return replayed;
    }

    /**
     * One offer for a slot of the store's policy, or its fallback, or none:
     * { id, offer, fallback, arm, slotCaps, trace }. Options: { slot,
     * anchor?, segments? }. A decision counts nothing until it is on screen:
     * then call shown(decision). `trace` is read from the engine on first
     * access, within the next 64 decisions (else TRACE_EXPIRED).
     */
    nextBestOffer(options) {
      objectArg(options, 'nextBestOffer options');
      const [text, now] = [toJson(options, 'nextBestOffer options'), this.#now()];
      const decision = JSON.parse(this.#call((engine) => engine.nextBestOfferJson(text, now)));
      decision.id += this.#idBase;
      this.#lastId = decision.id;
      // The trace is fetched from the engine when first read: with a large
      // policy it is tens of KB, and most callers never look at it.
      let trace;
      Object.defineProperty(decision, 'trace', {
        enumerable: true,
        configurable: true,
        get: () => {
          if (trace === undefined) {
            const id = this.#engineId(decision.id);
            const text = id === null ? undefined : this.#call((engine) => engine.traceJson(id));
            if (text === undefined) throw edgerecError('TRACE_EXPIRED', 'a decision trace is kept for the last 64 decisions; read it sooner');
            trace = JSON.parse(text);
          }
          return trace;
        },
      });
      return decision;
    }

    /**
     * The decision (or its id) is on the shopper's screen: its offer's
     * impression counts for caps, the bandit and the reports, once per page
     * view (a page view starts with each `view` event). Showing it again,
     * or a re-render with the same offer, counts nothing. Returns whether an
     * impression was counted; DECISION_EXPIRED past the last 64 decisions.
     */
    shown(decision) {
      const id = typeof decision === 'number' ? decision : decision?.id;
      if (!Number.isInteger(id) || id < 0 || id > 0xffffffff) throw edgerecError('INVALID_OPTIONS', 'shown() takes a decision from nextBestOffer() or its id');
      const [engineId, now] = [this.#engineId(id), this.#now()];
      if (engineId === null) throw edgerecError('DECISION_EXPIRED', `decision ${id} was made before the engine restarted: decide again`);
      const counted = this.#call((engine) => engine.shown(engineId, now));
      if (counted) this.#saveState();
      return counted;
    }

    /**
     * The cart priced as checkout should charge it: { lines, subtotal,
     * discounts, total }. A bundle's discount that an offer showed the
     * shopper (in the last 24 h) is taken off once the cart holds every item
     * of that set. Options: { lines?: [{ item, quantity? }] } (default: the
     * session's cart).
     */
    priceCart(options = {}) {
      objectArg(options, 'priceCart options');
      const [text, now] = [toJson(options, 'priceCart options'), this.#now()];
      return JSON.parse(this.#call((engine) => engine.priceCartJson(text, now)));
    }

    /** The shopper's reaction to an offer: { slot, offer, outcome: 'click' | 'dismiss' | 'purchase' }. */
    feedback(event) {
      objectArg(event, 'feedback');
      const [text, now] = [toJson(event, 'the feedback event'), this.#now()];
      this.#call((engine) => engine.feedbackJson(text, now));
      this.#saveState();
    }

    /** Check a store's policy (object or JSON text) and make it the active one; returns its id. */
    usePolicy(policy) {
      const text = typeof policy === 'string' ? policy : toJson(objectArg(policy, 'a policy'), 'a policy', 'INVALID_POLICY');
      const id = this.#call((engine) => engine.usePolicy(text));
      this.#remember('usePolicy', text, `usePolicy:${id}`);
      return id;
    }

    /** Seed bandit priors with aggregates: { offerId: { shown, taken } }. */
    loadPriors(priors) {
      const text = toJson(objectArg(priors, 'priors'), 'priors');
      const n = this.#call((engine) => engine.loadPriors(text));
      this.#remember('loadPriors', text);
      return n;
    }

    /**
     * Bandit priors from the collector's released aggregates (the JSON of
     * GET /v1/aggregates, object or text); returns the offers seeded.
     */
    loadAggregates(aggregates) {
      const text = typeof aggregates === 'string' ? aggregates : toJson(objectArg(aggregates, 'aggregates'), 'aggregates');
      const n = this.#call((engine) => engine.loadAggregates(text));
      this.#remember('loadAggregates', text);
      return n;
    }

    /**
     * The shopper's choice about aggregate reports (default off). Off erases
     * every pending count and unsent report: nothing is sent, ever.
     */
    setConsent(consent) {
      if (typeof consent !== 'boolean') throw edgerecError('INVALID_OPTIONS', 'consent is true or false');
      this.#call((engine) => engine.setConsent(consent));
      if (!consent) this.#writeOutbox([]);
      this.#saveState();
    }

    get consent() {
      return this.privacy().consent;
    }

    /** { consent, epsilonPerDay, epsilonPerReport, mechanism, spentToday, pendingDays, withheld }. */
    privacy() {
      const now = this.#now();
      return JSON.parse(this.#call((engine) => engine.privacyJson(now)));
    }

    /** The exact text of the next report, without taking it (null: none). */
    previewReport() {
      const now = this.#now();
      return this.#call((engine) => engine.previewReport(now)) ?? null;
    }

    /**
     * The next differentially private report as JSON text, its ε spent and
     * its counts cleared; null without consent, with nothing pending or
     * with the day's budget spent (see privacy().withheld).
     */
    takeReport() {
      if (this.privacy().mechanism === 'prio3') {
        throw edgerecError('INVALID_REQUEST', 'prio3 reports leave the device sealed: use takeSealedReport() or sendReports()');
      }
      return this.#take();
    }

    #take() {
      const now = this.#now();
      const report = this.#call((engine) => engine.takeReport(now)) ?? null;
      if (report !== null) this.#saveState();
      return report;
    }

    async #prio3() {
      if (!readyPrio3) throw edgerecError('MODULE_LOAD', 'this build of edgerec has no Prio3 module');
      return readyPrio3();
    }

    /** The Prio3 task (object) this device's reports fill: what the store provisions both aggregators with. */
    prio3Task() {
      return JSON.parse(this.#call((engine) => engine.prio3Task()));
    }

    /**
     * Under `reporting: { mechanism: 'prio3' }`: the next report as a Prio3
     * upload (JSON text) for the leader's /v1/reports: the measurement split
     * into two shares with a proof of range, each sealed to its aggregator's
     * HPKE config ({ id, publicKey }, from its /v1/hpke_config). null when
     * there is none to take; the configs are checked before anything is taken.
     */
    async takeSealedReport(options = {}) {
      const { leader, helper } = objectArg(options, 'takeSealedReport configs');
      const prio3 = await this.#prio3();
      const configs = [leader, helper].map((c, i) => {
        const text = toJson(objectArg(c, i ? 'helper' : 'leader'), 'HPKE config');
        this.#sealing(() => prio3.checkConfig(text));
        return text;
      });
      if (this.privacy().mechanism !== 'prio3') throw edgerecError('INVALID_REQUEST', 'reporting.mechanism is not prio3');
      const measured = this.#take();
      return measured === null ? null : this.#sealing(() => prio3.sealReport(measured, ...configs));
    }

    #sealing(fn) {
      try {
        return fn();
      } catch (e) {
        throw edgerecError(e?.code ?? 'INTERNAL', e?.message ?? String(e));
      }
    }

    /**
     * POST every report there is to `url` (the collector's /v1/reports).
     * Reports that fail to send wait in storage and go first next time.
     * Returns { sent, waiting }.
     */
    async sendReports(url, options = {}) {
      const { fetch: send = globalThis.fetch, keepalive = false, helper } = objectArg(options, 'sendReports options');
      if (typeof url !== 'string' && !(url instanceof URL)) throw edgerecError('INVALID_OPTIONS', `sendReports needs the collector's URL, not ${describe(url)}`);
      if (options.fetch !== undefined && typeof send !== 'function') throw edgerecError('INVALID_OPTIONS', 'sendReports options.fetch must be a function');
      if (helper !== undefined && typeof helper !== 'string' && !(helper instanceof URL)) throw edgerecError('INVALID_OPTIONS', `sendReports options.helper must be the helper's URL, not ${describe(helper)}`);
      const queue = this.#readOutbox();
      for (let r = this.#take(); r !== null; r = this.#take()) queue.push(r);
      this.#writeOutbox(queue);
      // Prio3 measurements wait here as they are (on the device, as the ledger
      // does) and are sealed just before each upload with the configs the two
      // aggregators advertise then: a key rotated since is no loss.
      let configs = null;
      const seal = async (measured, fresh) => {
        if (helper === undefined) throw edgerecError('INVALID_OPTIONS', 'prio3 reports need the helper aggregator: sendReports(url, { helper })');
        if (!configs || fresh) {
          const leaderBase = new URL(url, globalThis.location?.href);
          configs = await Promise.all([new URL('/v1/hpke_config', leaderBase), new URL('/v1/hpke_config', helper)].map((u) => fetchConfig(u, send)));
        }
        const prio3 = await this.#prio3();
        return this.#sealing(() => prio3.sealReport(measured, ...configs));
      };
      const post = (body) => send(url, { method: 'POST', body, keepalive, headers: { 'content-type': 'application/json' } });
      let sent = 0;
      while (queue.length && this.privacy().consent) {
        let ok = false;
        try {
          const prio3 = isMeasurement(queue[0]);
          let res = await post(prio3 ? await seal(queue[0], false) : queue[0]);
          if (prio3 && res.status === 400 && (await res.clone().json().catch(() => null))?.error?.code === 'OUTDATED_CONFIG') {
            res = await post(await seal(queue[0], true));
          }
          // 4xx other than 429 will never succeed: drop rather than retry forever.
          ok = res.ok || (res.status >= 400 && res.status < 500 && res.status !== 429);
        } catch (e) {
          if (e?.code === 'INVALID_OPTIONS') throw e;
          ok = false;
        }
        if (!ok) break;
        queue.shift();
        sent += 1;
        this.#writeOutbox(queue);
      }
      return { sent, waiting: queue.length };
    }

    #readOutbox() {
      if (this.#outbox === undefined) {
        try {
          const list = JSON.parse(storedText(this.#storage, `${this.#storageKey}:outbox`) ?? '[]');
          this.#outbox = Array.isArray(list) ? list.filter((r) => typeof r === 'string') : [];
        } catch {
          this.#outbox = [];
        }
      }
      return [...this.#outbox];
    }

    #writeOutbox(queue) {
      // At most 100 unsent reports wait; the oldest go first.
      this.#outbox = queue.slice(-100);
      try {
        if (this.#outbox.length) this.#storage?.setItem(`${this.#storageKey}:outbox`, JSON.stringify(this.#outbox));
        else this.#storage?.removeItem(`${this.#storageKey}:outbox`);
      } catch {
        // storage blocked: unsent reports wait in memory for this page's life
      }
    }

    /** The shopper's decisioning state (caps, bandit) as JSON text. */
    exportState() {
      return this.#call((engine) => engine.exportState());
    }

    /** Restore state from exportState(); throws INVALID_STATE and changes nothing if bad. */
    importState(text) {
      const state = textArg(text, 'the state (exportState()\'s text)', 'INVALID_STATE');
      this.#call((engine) => engine.importState(state));
      this.#saveState();
    }

    /** The active policy's id. */
    get policyId() {
      return this.#call((engine) => engine.policyId());
    }

    /** Ranked items with score parts and reasons: { items, stats }. */
    recommend(options = {}) {
      if (options === null || typeof options !== 'object') {
        throw edgerecError('INVALID_OPTIONS', 'recommend options are { k?, anchor?, exclude? }');
      }
      const text = toJson(options, 'recommend options');
      return JSON.parse(this.#call((engine) => engine.recommendJson(text)));
    }

    /**
     * Every slot of a page for the live session: { recommended, similar,
     * boughtTogether, completeTheSet, stats }. Options:
     * { k?, anchor?, exclude?, slots? }.
     */
    page(options = {}) {
      if (options === null || typeof options !== 'object') {
        throw edgerecError('INVALID_OPTIONS', 'page options are { k?, anchor?, exclude?, slots? }');
      }
      const text = toJson(options, 'page options');
      return JSON.parse(this.#call((engine) => engine.pageJson(text)));
    }

    /**
     * Serve the stateless HTTP API for a fetch-style Request:
     * POST /v1/recommend (events in, slots out), POST /v1/offer (events and
     * decisioning state in, a decision and the new state out), GET /v1/health.
     * Never throws: a bad request is a 4xx with { error: { code, message } }.
     */
    async handleRequest(request) {
      const declared = Number(request.headers.get('content-length') ?? 0);
      if (declared > MAX_BODY_BYTES) return tooLarge();
      const body = request.method === 'GET' || request.method === 'HEAD' ? new Uint8Array(0) : await readBounded(request, MAX_BODY_BYTES);
      if (body === null) return tooLarge();
      let now;
      try {
        now = this.#now();
      } catch (e) {
        return errorResponse(500, e.code, e.message); // the store's clock is broken, not the request
      }
      try {
        const path = new URL(request.url).pathname;
        const [status, text] = this.#call((engine) => {
          const reply = engine.handleHttp(request.method, path, body, now);
          try {
            return [reply.status, reply.body];
          } finally {
            reply.free();
          }
        });
        return new Response(text, { status, headers: JSON_HEADERS });
      } catch (e) {
        if (e.code === 'ENGINE_RESTARTED') return errorResponse(503, e.code, e.message);
        throw e;
      }
    }

    /** The bundle's catalog, most popular first: [{ item, title, price, category, inStock }]. */
    catalog() {
      return JSON.parse(this.#call((engine) => engine.catalogJson()));
    }

    /** Forget the current session (a new visit: per-session caps start over). */
    reset() {
      this.#call((engine) => engine.reset());
      this.#events = [];
      this.#saveState();
    }

    /** Manifest summary and model card of the loaded bundle. */
    get info() {
      const info = this.#call((engine) => engine.info());
      if (this.#release !== null) {
        const { loaded, placed } = this.#release;
        info.release = { ...info.release, loaded, ...(placed ? { placed } : {}) };
      }
      return info;
    }

    /** The bundle's default offer policy. */
    get policy() {
      return JSON.parse(this.#call((engine) => engine.policyJson()));
    }

    /** Release the engine's WebAssembly memory. */
    free() {
      runtime.live.delete(this.#self);
      if (this.#generation === runtime.generation) this.#engine?.free();
      else this.#engine?.__destroy_into_raw();
      this.#engine = null;
    }

    /** Tests only: trap inside WebAssembly, as a bug would (see #call). */
    [FORCE_TRAP]() {
      return this.#call((engine) => engine.__forceTrap());
    }
  }
  return Recommender;
}
