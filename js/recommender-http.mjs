// The stateless HTTP API: reads a fetch-style Request (its body up to the limit), hands it to the engine, and answers with the engine's JSON or a coded error; never throws for a bad request.
import { MAX_BODY_BYTES, readBounded } from './recommender.mjs';

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };

function errorResponse(status, code, message) {
  return new Response(JSON.stringify({ error: { code, message } }), { status, headers: JSON_HEADERS });
}

const tooLarge = () => errorResponse(413, 'PAYLOAD_TOO_LARGE', `request body is larger than the ${MAX_BODY_BYTES}-byte limit`);

/**
 * The Response to `request` (see Recommender.handleRequest). `now()` reads
 * the clock (it throws a coded error); `call(fn)` runs `fn` on the engine
 * under the supervisor.
 */
export async function handleRequest(request, { now: readClock, call }) {
  const declared = Number(request.headers.get('content-length') ?? 0);
  if (declared > MAX_BODY_BYTES) return tooLarge();
  const body = request.method === 'GET' || request.method === 'HEAD' ? new Uint8Array(0) : await readBounded(request, MAX_BODY_BYTES);
  if (body === null) return tooLarge();
  let now;
  try {
    now = readClock();
  } catch (e) {
    return errorResponse(500, e.code, e.message); // the store's clock is broken, not the request
  }
  try {
    const path = new URL(request.url).pathname;
    const [status, text] = call((engine) => {
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
