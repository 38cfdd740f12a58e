// A model release served per request (docs/design.md §8): the store's release file
// is read at most once a minute; each request's shopper key is placed by
// the hash the device uses, so a shopper sees the same model at the edge
// as on the page; one recommender per bundle version, loaded once per
// isolate. A release file that cannot be read or checked keeps the last
// good one; a candidate that fails to load gives way to the current bundle.
import { Recommender } from 'edgerec';

/** How long a read release file is used before it is read again. */
export const RELEASE_TTL_MS = 60_000;

export class Releases {
  #url;
  #ttl;
  #readSource;
  #text = null;
  #readAt = -Infinity;
  #reading = null;
  /** version → Promise<Recommender> */
  #loaded = new Map();
  /** The last refresh's error while an older release file is kept. */
  lastError = null;

  constructor(url, { ttlMs = RELEASE_TTL_MS, readSource = fetchBytes } = {}) {
    this.#url = String(url);
    this.#ttl = ttlMs;
    this.#readSource = readSource;
  }

  async #release(now) {
    if (this.#text !== null && now - this.#readAt < this.#ttl) return this.#text;
    this.#reading ??= this.#refresh(now).finally(() => (this.#reading = null));
    await this.#reading;
    return this.#text;
  }

  async #refresh(now) {
    try {
      const text = new TextDecoder().decode(await this.#readSource(this.#url, 'RELEASE_FETCH'));
      // Placing any key checks the whole file (schema, shares, matching bundles).
      const { current } = await Recommender.placeShopper(text, 'release-check');
      const named = new Set([current.version, JSON.parse(text).candidate?.version]);
      for (const version of this.#loaded.keys()) if (!named.has(version)) this.#loaded.delete(version);
      this.#text = text;
      this.lastError = null;
    } catch (err) {
      if (this.#text === null) throw err;
      this.lastError = err;
    } finally {
      this.#readAt = now;
    }
  }

  #recommender(bundle) {
    let rec = this.#loaded.get(bundle.version);
    if (!rec) {
      rec = this.#readSource(new URL(bundle.url, this.#url).href, 'BUNDLE_FETCH').then((bytes) => Recommender.load(bytes, { storage: null }));
      this.#loaded.set(bundle.version, rec);
      rec.catch(() => this.#loaded.delete(bundle.version));
    }
    return rec;
  }

  /**
   * The recommender for a shopper key (none: the current side) and where
   * it placed them; `placed` is set when their side's bundle failed.
   */
  async forShopper(shopperKey, now = Date.now()) {
    const text = await this.#release(now);
    const { placement, fallback } = await Recommender.placeShopper(text, shopperKey ?? 'no-shopper-key');
    const chosen = shopperKey === undefined ? fallback : placement;
    try {
      const rec = await this.#recommender(chosen.bundle);
      rec.joinRelease(chosen);
      return { rec, placement: chosen };
    } catch (err) {
      if (chosen.side === 'current') throw err;
      const rec = await this.#recommender(fallback.bundle);
      rec.joinRelease(fallback);
      return { rec, placement: { ...fallback, placed: 'candidate' }, error: err };
    }
  }
}

async function fetchBytes(url, code) {
  let res;
  try {
    res = await fetch(url);
  } catch (e) {
    throw Object.assign(new Error(`fetching ${url} failed: ${e.message}`), { code });
  }
  if (!res.ok) throw Object.assign(new Error(`fetching ${url} failed: HTTP ${res.status}`), { code });
  return new Uint8Array(await res.arrayBuffer());
}
