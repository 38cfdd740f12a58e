// Follows a store's release file: reads it (or the last good one kept), places the shopper in its experiment, and opens their side's bundle, falling back to the current one when the candidate fails.
import { coded, edgerecError } from './recommender.mjs';
import { randomKey } from './recommender-storage.mjs';
import { Supervisor } from './recommender-supervisor.mjs';

/** `Recommender.load({ release, ... })`: the options come first, with no bundle. */
export function isReleaseOptions(source) {
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

/** Where a release file places a shopper key, under the supervisor's guard (a trap is INVALID_RELEASE). */
export function place(runtime, glue, text, key) {
  return JSON.parse(Supervisor.guarded(runtime, glue, () => glue.placeInRelease(text, key), 'INVALID_RELEASE', 'the release file', 'nothing was placed'));
}

/**
 * Follow a release file: place the shopper (by the key they keep), load
 * their side's bundle and check it is the one named; a candidate that
 * fails to load or check gives way to the current bundle. A release
 * file that cannot be read or checked gives way to the last good one
 * `store` kept; with none, it fails with its code. `open(bytes, ref)`
 * makes the recommender of a bundle and checks it is `ref`'s.
 * Returns `{ rec, key, placement, releaseError }`.
 */
export async function followRelease(release, { runtime, glue, readSource, store, shopperKey, open }) {
  const key = shopperKey ?? store.shopperKey() ?? randomKey();
  let placed;
  let releaseError;
  try {
    const text = new TextDecoder().decode(await readRelease(release, readSource));
    placed = place(runtime, glue, text, key);
    store.keepRelease(text);
  } catch (err) {
    // What storage kept, when it is text: anything else is no last good release.
    const kept = store.lastGoodRelease();
    if (kept === null) throw coded(err, 'INVALID_RELEASE');
    placed = place(runtime, glue, kept, key);
    releaseError = coded(err, 'INVALID_RELEASE');
  }
  const openRef = async (ref) => {
    let bytes;
    try {
      bytes = await readSource(resolveAgainst(release, ref.url));
    } catch (err) {
      throw coded(err, 'BUNDLE_FETCH');
    }
    return open(bytes, ref);
  };
  let { placement } = placed;
  let rec;
  try {
    rec = await openRef(placement.bundle);
  } catch (err) {
    if (placement.side === 'current') throw coded(err, 'BUNDLE_INVALID');
    // Whatever the candidate did (a trap restarted the instance), the current bundle loads.
    rec = await openRef(placed.fallback.bundle);
    releaseError = coded(err, 'BUNDLE_INVALID');
    placement = { ...placed.fallback, placed: 'candidate' };
  }
  return { rec, key, placement, releaseError };
}
