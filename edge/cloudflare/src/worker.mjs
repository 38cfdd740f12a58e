// edgerec as a Cloudflare module Worker: POST /v1/recommend (the session's
// events in, ranked items, bundles and one offer with reasons out) and
// GET /v1/health. Stateless: each request carries its session's events.
import { Recommender } from 'edgerec';
// A Data module (wrangler.toml [[rules]]): the bundle's bytes, shipped with the Worker.
import bundle from 'edgerec/models/online-retail/online-retail.edgerec';

// One engine per isolate, loaded on the first request and shared after.
let ready;

export default {
  async fetch(request) {
    ready ??= Recommender.load(new Uint8Array(bundle));
    let recommender;
    try {
      recommender = await ready;
    } catch (err) {
      ready = undefined;
      const error = { code: err.code ?? 'BUNDLE_INVALID', message: `the Worker's bundle did not load: ${err.message}` };
      return Response.json({ error }, { status: 503 });
    }
    return recommender.handleRequest(request);
  },
};
