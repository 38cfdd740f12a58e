// The public Recommender class (load, track, offers, pages, cart prices, reports, state), wiring the trap supervisor, storage, release, report and HTTP modules together.
import { defaultReadSource, defaultStorage, describe, edgerecError, FORCE_TRAP, objectArg, textArg, toJson } from './recommender.mjs';
import { handleRequest } from './recommender-http.mjs';
import { followRelease, isReleaseOptions, place } from './recommender-release.mjs';
import { sendReports, takeSealedReport } from './recommender-reports.mjs';
import { randomKey, ShopperStorage } from './recommender-storage.mjs';
import { makeRuntime, Supervisor } from './recommender-supervisor.mjs';

const EVENT_TYPES = new Set(['view', 'add_to_cart', 'remove_from_cart', 'purchase']);

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

/** Host time the engine's days can hold: years 0 to 9999 (a day outside them would not import again). */
const EARLIEST_MS = -62167219200000; // 0000-01-01T00:00:00.000Z
const LATEST_MS = 253402300799999; // 9999-12-31T23:59:59.999Z

/**
 * The Recommender class over one wasm-bindgen glue: each entry point (node,
 * browser, workerd, embedded) initialises the glue its own way and hands
 * over `ready({ wasm })`, which resolves to it, with how it reads a bundle
 * source and, where it has one, how it loads the Prio3 module.
 */
export function makeRecommender(ready, readSource = defaultReadSource, readyPrio3 = null) {
  // Every recommender made here shares the glue's one instance; after a
  // trap it is replaced, and each recommender rebuilds its engine on it.
  const runtime = makeRuntime();

  class Recommender {
    /** The engine, under the trap supervisor. */
    #sup;
    #clock;
    /** Where the shopper's state, unsent reports and last good release are kept. */
    #store;
    /** The shopper's placement in the store's release, and the side whose bundle loaded. */
    #release = null;
    /** Item updates applied so far: each is replayed, in order, on a rebuilt engine. */
    #itemUpdates = 0;

    constructor(glue, bytes, { clock, storage, storageKey }) {
      this.#sup = new Supervisor(runtime, glue, bytes);
      this.#clock = clock;
      this.#store = new ShopperStorage(storage, storageKey);
    }

    /** Run `fn` on the engine under the supervisor (a trap is ENGINE_RESTARTED; see Supervisor.call). */
    #call(fn) {
      return this.#sup.call(fn);
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
          rec.#sup.remember('setReporting', text);
        }
        if (consent !== undefined) rec.setConsent(consent);
      } catch (e) {
        rec.free(); // the load failed: its engine's memory goes now, not at the next GC
        throw e;
      }
      return rec;
    }

    /**
     * Follow a release file (see followRelease): the recommender of the
     * shopper's side, with their state restored, joined to its placement.
     */
    static async #fromRelease(glue, release, { clock, storage, storageKey, shopperKey }) {
      const open = (bytes, ref) => {
        const rec = new Recommender(glue, bytes, { clock, storage, storageKey });
        try {
          rec.#call((engine) => engine.checkReleaseBundle(JSON.stringify(ref)));
        } catch (err) {
          rec.free(); // not the bundle named: its memory goes now
          throw err;
        }
        return rec;
      };
      const store = new ShopperStorage(storage, storageKey);
      const { rec, key, placement, releaseError } = await followRelease(release, { runtime, glue, readSource, store, shopperKey, open });
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
      return place(runtime, glue, text, shopperKey);
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
      this.#sup.remember('joinRelease', text);
      this.#release = { ...placement, loaded: placement.side, ...(placed ? { placed } : {}) };
    }

    #restoreState(shopperKey) {
      const { stored, error } = this.#store.readState();
      if (error) this.stateError = error;
      if (stored !== null) {
        try {
          this.#call((engine) => engine.importState(stored));
          this.#sup.keepState(stored);
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
      const state = this.#call((engine) => engine.exportState());
      this.#sup.keepState(state);
      this.#store.writeState(state);
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
      this.#sup.keepEvent(event);
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
          this.#sup.keepEvent(event);
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
      decision.id = this.#sup.decisionId(decision.id);
      // The trace is fetched from the engine when first read: with a large
      // policy it is tens of KB, and most callers never look at it.
      let trace;
      Object.defineProperty(decision, 'trace', {
        enumerable: true,
        configurable: true,
        get: () => {
          if (trace === undefined) {
            const id = this.#sup.engineId(decision.id);
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
      const [engineId, now] = [this.#sup.engineId(id), this.#now()];
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

    /**
     * The store's items as they are now: [{ id, price?, salePrice?, inStock?, margin?, title?,
     * category?, brand?, url?, image?, row? }]. Absent fields keep what the engine has; an item the
     * catalog lacks is added (with a title and a price) and placed from its words. Every later
     * answer ranks, offers and prices with them. Returns { changed, added, placedFromContent };
     * INVALID_ITEM names the item and field of a refused update, and then nothing is applied.
     */
    updateItems(items) {
      if (!Array.isArray(items)) throw edgerecError('INVALID_OPTIONS', 'updateItems takes an array of items');
      // NaN and ±Infinity would write as null: they go as text, which the engine refuses by name.
      const text = toJson(items, 'the item updates', 'INVALID_ITEM', (_, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v));
      const done = JSON.parse(this.#call((engine) => engine.updateItems(text)));
      this.#sup.remember('updateItems', text, `updateItems:${this.#itemUpdates++}`);
      return done;
    }

    /**
     * A catalog patch from `edgerec patch` (JSON text or the parsed object) on top of this bundle:
     * its items as updateItems applies them. PATCH_MISMATCH when it was made for another bundle.
     */
    applyPatch(patch) {
      const text = typeof patch === 'string' ? patch : toJson(objectArg(patch, 'a catalog patch'), 'a catalog patch');
      const done = JSON.parse(this.#call((engine) => engine.applyPatch(text)));
      this.#sup.remember('applyPatch', text, `updateItems:${this.#itemUpdates++}`);
      return done;
    }

    /** Check a store's policy (object or JSON text) and make it the active one; returns its id. */
    usePolicy(policy) {
      const text = typeof policy === 'string' ? policy : toJson(objectArg(policy, 'a policy'), 'a policy', 'INVALID_POLICY');
      const id = this.#call((engine) => engine.usePolicy(text));
      this.#sup.remember('usePolicy', text, `usePolicy:${id}`);
      return id;
    }

    /** Seed bandit priors with aggregates: { offerId: { shown, taken } }. */
    loadPriors(priors) {
      const text = toJson(objectArg(priors, 'priors'), 'priors');
      const n = this.#call((engine) => engine.loadPriors(text));
      this.#sup.remember('loadPriors', text);
      return n;
    }

    /**
     * Bandit priors from the collector's released aggregates (the JSON of
     * GET /v1/aggregates, object or text); returns the offers seeded.
     */
    loadAggregates(aggregates) {
      const text = typeof aggregates === 'string' ? aggregates : toJson(objectArg(aggregates, 'aggregates'), 'aggregates');
      const n = this.#call((engine) => engine.loadAggregates(text));
      this.#sup.remember('loadAggregates', text);
      return n;
    }

    /**
     * The shopper's choice about aggregate reports (default off). Off erases
     * every pending count and unsent report: nothing is sent, ever.
     */
    setConsent(consent) {
      if (typeof consent !== 'boolean') throw edgerecError('INVALID_OPTIONS', 'consent is true or false');
      this.#call((engine) => engine.setConsent(consent));
      if (!consent) this.#store.writeOutbox([]);
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
      return takeSealedReport(options, { readyPrio3, mechanism: () => this.privacy().mechanism, take: () => this.#take() });
    }

    /**
     * POST every report there is to `url` (the collector's /v1/reports).
     * Reports that fail to send wait in storage and go first next time.
     * Returns { sent, waiting }.
     */
    async sendReports(url, options = {}) {
      return sendReports(url, options, { readyPrio3, take: () => this.#take(), consent: () => this.privacy().consent, store: this.#store });
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
      return handleRequest(request, { now: () => this.#now(), call: (fn) => this.#call(fn) });
    }

    /** The bundle's catalog, most popular first: [{ item, title, price, category, inStock }]. */
    catalog() {
      return JSON.parse(this.#call((engine) => engine.catalogJson()));
    }

    /** Forget the current session (a new visit: per-session caps start over). */
    reset() {
      this.#call((engine) => engine.reset());
      this.#sup.forgetEvents();
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
      this.#sup.free();
    }

    /** Tests only: trap inside WebAssembly, as a bug would (see #call). */
    [FORCE_TRAP]() {
      return this.#call((engine) => engine.__forceTrap());
    }
  }
  return Recommender;
}
