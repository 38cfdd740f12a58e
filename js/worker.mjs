// `edgerec/worker`: the same Recommender API, with the engine in a Web
// Worker so compiling the module, loading the bundle and scoring never block
// the page. Every method (and getter) returns a Promise of what the same call
// returns from `edgerec`. The shopper's state is still kept in the page's
// localStorage (the worker sends each write back here).
import { defaultReadSource, defaultStorage, edgerecError, MAX_BODY_BYTES } from './recommender.mjs';

const HOST_URL = new URL('./worker-host.mjs', import.meta.url);
/** Members proxied as getters (the rest are methods). */
const GETTERS = ['consent', 'policy', 'policyId'];
const METHODS = [
  'track', 'restore', 'recommend', 'page', 'nextBestOffer', 'shown', 'priceCart', 'feedback', 'updateItems', 'applyPatch', 'usePolicy', 'loadPriors',
  'loadAggregates', 'setConsent', 'privacy', 'previewReport', 'takeReport', 'takeSealedReport', 'sendReports', 'prio3Task', 'exportState',
  'importState', 'catalog', 'reset',
];

/** What the page has stored under the recommender's keys, for the worker to start from. */
function snapshot(storage, storageKey) {
  const out = {};
  for (const key of [storageKey, `${storageKey}:outbox`]) {
    try {
      const value = storage?.getItem(key);
      // Only text crosses: anything else is not what the engine wrote (the worker starts afresh).
      if (typeof value === 'string') out[key] = value;
    } catch {
      // storage blocked: the worker starts empty
    }
  }
  return out;
}

/**
 * Where the worker gets the module: it fetches and compiles it itself, from
 * the moment it starts, so neither the body nor the compile touches this
 * thread. Measured on a repeat visit at 4x CPU (benches/page.mjs): a module
 * compiled here, or only downloaded here (even streamed on to the worker),
 * put 90-110 ms tasks on this thread; fetched in the worker, none.
 */
function moduleUrl(wasm) {
  return new URL(wasm ?? '../pkg/edgerec_bg.wasm', wasm ? globalThis.location?.href ?? import.meta.url : import.meta.url).href;
}

/** The bundle's bytes, as a buffer of our own that can move to the worker without a copy. */
async function ownBytes(source) {
  const bytes = await defaultReadSource(source);
  const callers = source instanceof ArrayBuffer || ArrayBuffer.isView(source);
  return callers ? bytes.slice() : bytes;
}

class Connection {
  #worker;
  #next = 1;
  #pending = new Map();
  #failed = null;

  constructor(worker, storage) {
    this.#worker = worker;
    worker.onmessage = ({ data }) => {
      if (data.op === 'store') {
        try {
          if (data.value === null) storage?.removeItem(data.key);
          else storage?.setItem(data.key, data.value);
        } catch {
          // quota or privacy mode: state lives for this page's life only
        }
        return;
      }
      const waiting = this.#pending.get(data.id);
      if (!waiting) return;
      this.#pending.delete(data.id);
      if (data.error) waiting.reject(edgerecError(data.error.code, data.error.message));
      else waiting.resolve(data.ok);
    };
    // The worker's script or module failed to start (network, CSP, syntax).
    worker.onerror = (event) => {
      event.preventDefault?.();
      this.#fail(edgerecError('MODULE_LOAD', `the edgerec worker failed: ${event.message ?? 'could not start'}`));
    };
    worker.onmessageerror = () => this.#fail(edgerecError('MODULE_LOAD', 'a message from the edgerec worker could not be read'));
  }

  #fail(error) {
    this.#failed = error;
    for (const { reject } of this.#pending.values()) reject(error);
    this.#pending.clear();
    this.#worker.terminate();
  }

  send(message, transfer = []) {
    if (this.#failed) return Promise.reject(this.#failed);
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      try {
        this.#worker.postMessage({ ...message, id }, transfer);
      } catch (e) {
        this.#pending.delete(id);
        reject(edgerecError('INVALID_OPTIONS', `cannot send to the worker: ${e.message}`));
      }
    });
  }

  close(error) {
    this.#fail(error);
  }
}

export class Recommender {
  #connection;
  #info;

  constructor(connection, info) {
    this.#connection = connection;
    this.#info = info;
  }

  /**
   * Start a worker and load a bundle in it. Options are those of
   * `edgerec`'s Recommender.load, less `clock` (the worker uses its own
   * Date.now) and with `storage` staying on this thread.
   */
  static async load(source, options = {}) {
    if (typeof Worker === 'undefined') {
      throw edgerecError('MODULE_LOAD', 'Web Workers are not available here: import "edgerec" instead of "edgerec/worker"');
    }
    if (options === null || typeof options !== 'object') throw edgerecError('INVALID_OPTIONS', 'load options must be an object');
    const { storage = defaultStorage(), clock, wasm, ...rest } = options;
    if (clock !== undefined) throw edgerecError('INVALID_OPTIONS', 'a worker keeps its own clock: drop the clock option');
    const storageKey = rest.storageKey ?? 'edgerec:state';
    // The worker fetches and compiles the module while the bundle downloads here.
    const module = wasm instanceof WebAssembly.Module ? wasm : moduleUrl(wasm);
    const host = new URL(HOST_URL);
    if (typeof module === 'string') host.hash = new URLSearchParams({ wasm: module }).toString();
    const worker = new Worker(host, { type: 'module', name: 'edgerec' });
    const connection = new Connection(worker, storage);
    try {
      const compiling = connection.send({ op: 'module', wasm: module });
      const bytes = await ownBytes(source);
      await compiling;
      const message = { op: 'load', source: bytes, options: rest, stored: snapshot(storage, storageKey) };
      const { info } = await connection.send(message, [bytes.buffer]);
      return new Recommender(connection, info);
    } catch (e) {
      connection.close(e);
      throw e;
    }
  }

  /** The bundle's manifest summary, as `edgerec` gives it (known since load). */
  get info() {
    return this.#info;
  }

  /** Ends the worker; later calls reject with INVALID_STATE. */
  async free() {
    await this.#call('free', []).catch(() => {});
    this.#connection.close(edgerecError('INVALID_STATE', 'the recommender was freed'));
  }

  #call(name, args) {
    return this.#connection.send({ op: 'call', name, args });
  }

  static {
    for (const name of METHODS) {
      Object.defineProperty(Recommender.prototype, name, {
        value(...args) {
          return this.#call(name, args);
        },
        writable: true,
        configurable: true,
      });
    }
    for (const name of GETTERS) {
      Object.defineProperty(Recommender.prototype, name, {
        get() {
          return this.#call(name, []);
        },
        configurable: true,
      });
    }
  }
}

export { edgerecError, MAX_BODY_BYTES };
