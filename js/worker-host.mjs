// Runs inside the Web Worker that `edgerec/worker` starts: the engine lives
// here (compiling, loading, scoring), the page's thread only posts messages.
// Protocol: { id, op: 'module', wasm } (a URL: fetch and compile it now, or
// a compiled module) | { id, op: 'load', source, options, stored } |
// { id, op: 'call', name, args } → { id, ok } | { id, error: { code, message } }, and
// { op: 'store', key, value } whenever the engine saves the shopper's state
// (the page writes it to its localStorage, which a worker cannot reach).
//
// No static imports: the module's download starts the moment the worker does
// (its URL rides on this script's URL as a fragment, `#wasm=`, which never
// leaves the browser), and the JS it needs loads
// beside it, all its files at once instead of a chain of imports (measured on
// the phone profile: the module request started ~0.6 s later through the chain).
const wasmParam = new URLSearchParams(new URL(self.location.href).hash.slice(1)).get('wasm');
const download = wasmParam ? fetch(wasmParam) : null;
download?.catch(() => {}); // a failure is reported when the page asks for the module
const imported = Promise.all([
  import('./browser.mjs'), import('../pkg/edgerec.js'), import('./recommender.mjs'), import('./recommender-api.mjs'),
  import('./recommender-supervisor.mjs'), import('./recommender-storage.mjs'), import('./recommender-release.mjs'),
  import('./recommender-reports.mjs'), import('./recommender-http.mjs'),
]).then(
  ([browser]) => browser,
);

let rec = null;

/** In-memory storage seeded with what the page had; writes go back to it. */
function pageStorage(stored) {
  const items = new Map(Object.entries(stored ?? {}));
  return {
    getItem: (key) => items.get(key) ?? null,
    setItem(key, value) {
      items.set(key, String(value));
      postMessage({ op: 'store', key, value: String(value) });
    },
    removeItem(key) {
      items.delete(key);
      postMessage({ op: 'store', key, value: null });
    },
  };
}

/** Methods that cannot cross a thread boundary (they take or return functions or Requests). */
const LOCAL_ONLY = new Set(['constructor', 'handleRequest']);

async function run({ op, wasm, source, options, stored, name, args }) {
  const { Recommender, prepare } = await imported;
  if (op === 'module') {
    // Compiled here as it downloads; `load` then instantiates it.
    await prepare(typeof wasm === 'string' && wasm === wasmParam && download ? download : wasm);
    return null;
  }
  if (op === 'load') {
    if (rec) throw Object.assign(new Error('this worker already holds a recommender'), { code: 'INVALID_STATE' });
    rec = await Recommender.load(source, { ...options, storage: pageStorage(stored) });
    return { info: rec.info, policyId: rec.policyId };
  }
  if (!rec) throw Object.assign(new Error('the recommender is not loaded (or was freed)'), { code: 'INVALID_STATE' });
  if (LOCAL_ONLY.has(name) || !(name in rec)) {
    throw Object.assign(new Error(`${name} is not available through a worker`), { code: 'INVALID_OPTIONS' });
  }
  const member = rec[name];
  const value = typeof member === 'function' ? await member.apply(rec, args) : member;
  if (name === 'free') rec = null;
  return value;
}

self.onmessage = async ({ data }) => {
  try {
    const ok = await run(data);
    // A decision's trace is read lazily from the engine; take it now so it crosses.
    if (ok && typeof ok === 'object' && 'trace' in ok) void ok.trace;
    postMessage({ id: data.id, ok });
  } catch (e) {
    postMessage({ id: data.id, error: { code: e?.code ?? 'MODEL_RUN', message: String(e?.message ?? e) } });
  }
};
