// edgerec as a Cloudflare module Worker: POST /v1/recommend (the session's
// events in, ranked items, bundles and one offer with reasons out) and
// GET /v1/health. Stateless: each request carries its session's events.
// With a RELEASE_URL variable it follows the store's model release, placing
// each request by the caller's shopper key (releases.mjs; RELEASE_TTL_MS:
// how long a read release file is used, default a minute).
import { MAX_BODY_BYTES, Recommender } from 'edgerec';
// A Data module (wrangler.toml [[rules]]): the bundle's bytes, shipped with the Worker.
import bundle from 'edgerec/models/online-retail/online-retail.edgerec';
import { Releases } from './releases.mjs';

// One engine per isolate, loaded on the first request and shared after.
let ready;
let releases;

const failure = (err, status, prefix = '') =>
  Response.json({ error: { code: err.code ?? 'BUNDLE_INVALID', message: `${prefix}${err.message}` } }, { status });

/**
 * The caller's shopper key: the `x-edgerec-shopper-key` header, else the
 * `shopperKey` of a JSON body (what /v1/offer carries), read from a copy.
 */
async function shopperKey(request) {
  const header = request.headers.get('x-edgerec-shopper-key');
  if (header !== null) return header;
  const length = Number(request.headers.get('content-length') ?? NaN);
  if (request.method !== 'POST' || !(length > 0 && length <= MAX_BODY_BYTES)) return undefined;
  try {
    const key = JSON.parse(await request.clone().text())?.shopperKey;
    return typeof key === 'string' ? key : undefined;
  } catch {
    return undefined; // the endpoint says what is wrong with the body
  }
}

async function serveRelease(request, env) {
  const ttl = Number(env.RELEASE_TTL_MS);
  releases ??= new Releases(env.RELEASE_URL, Number.isFinite(ttl) && ttl >= 0 ? { ttlMs: ttl } : {});
  let chosen;
  try {
    chosen = await releases.forShopper(await shopperKey(request));
  } catch (err) {
    return err.code === 'INVALID_OPTIONS' ? failure(err, 400) : failure(err, 503, "the Worker's release did not load: ");
  }
  const response = await chosen.rec.handleRequest(request);
  const { bundle: model, experiment, side } = chosen.placement;
  response.headers.set('x-edgerec-model', model.version);
  response.headers.set('x-edgerec-release', `${experiment}/${side}`);
  return response;
}

export default {
  async fetch(request, env) {
    if (env?.RELEASE_URL) return serveRelease(request, env);
    ready ??= Recommender.load(new Uint8Array(bundle));
    let recommender;
    try {
      recommender = await ready;
    } catch (err) {
      ready = undefined;
      return failure(err, 503, "the Worker's bundle did not load: ");
    }
    return recommender.handleRequest(request);
  },
};
