// Keeps each recommender's engine usable across WebAssembly traps: every call runs under a guard, and a trap restarts the shared instance and rebuilds the engine from its bundle, setup, session and last saved state.
import { edgerecError } from './recommender.mjs';

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

/**
 * What the engines of one glue share: its one instance (after a trap it is
 * replaced, and each engine rebuilds on it), counted by `generation`, and
 * the live engines, held weakly.
 */
export function makeRuntime() {
  return { generation: 0, live: new Set() };
}

/** One recommender's engine, and what rebuilds it: the bundle, the calls that configured it, the session's events, the state. */
export class Supervisor {
  #runtime;
  #glue;
  #engine;
  #generation;
  #bytes;
  #setup = [];
  #events = [];
  #state = null;
  /** Decision ids of earlier engines are below this (the engine counts from 1). */
  #idBase = 0;
  #lastId = 0;
  #self = new WeakRef(this);

  constructor(runtime, glue, bytes) {
    this.#runtime = runtime;
    this.#glue = glue;
    this.#bytes = bytes;
    this.#engine = Supervisor.#load(runtime, glue, bytes);
    this.#generation = runtime.generation;
    runtime.live.add(this.#self);
  }

  /**
   * Run `fn` on the engine. If it traps, the instance is replaced, this
   * engine is rebuilt from the bundle, its setup, the session's events and
   * the last saved state, and the call fails with ENGINE_RESTARTED
   * (nothing of it is kept); the recommender keeps working.
   */
  call(fn) {
    if (this.#engine === null) throw edgerecError('INVALID_STATE', 'the recommender was freed');
    try {
      if (this.#generation !== this.#runtime.generation) this.#rebuild();
      return fn(this.#engine);
    } catch (e) {
      if (!isTrap(e)) throw e;
      Supervisor.#restart(this.#runtime, this.#glue);
      try {
        this.#rebuild();
      } catch (again) {
        if (!isTrap(again)) throw again;
        // The rebuild trapped too: a fresh instance again, and the next call rebuilds.
        Supervisor.#restart(this.#runtime, this.#glue);
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
  static #load(runtime, glue, bytes) {
    return Supervisor.guarded(runtime, glue, () => glue.Engine.load(bytes), 'BUNDLE_INVALID', 'this bundle', 'nothing was loaded');
  }

  /** `fn()`, a call into the module outside any engine: a trap restarts the instance and is a `code` error. */
  static guarded(runtime, glue, fn, code, what, outcome) {
    try {
      return fn();
    } catch (e) {
      if (!isTrap(e)) throw e;
      Supervisor.#restart(runtime, glue);
      throw edgerecError(code, `the engine failed inside WebAssembly while reading ${what} (${e?.message ?? e}) and was restarted; ${outcome}`);
    }
  }

  /** A fresh instance; the engines of the old one are let go without calling into it. */
  static #restart(runtime, glue) {
    for (const ref of runtime.live) {
      const sup = ref.deref();
      if (sup) sup.#engine?.__destroy_into_raw();
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
    this.#generation = this.#runtime.generation;
    this.#idBase = this.#lastId;
  }

  /** Remember a configuring call (the last of each kind, a policy per id) for a rebuild. */
  remember(method, arg, key = method) {
    this.#setup = this.#setup.filter((c) => c.key !== key);
    this.#setup.push({ method, arg, key });
  }

  /** Keep a session event for a rebuild (the last KEPT_EVENTS of them). */
  keepEvent(event) {
    this.#events.push({ type: event.type, item: String(event.item) });
    if (this.#events.length > KEPT_EVENTS) this.#events.splice(0, this.#events.length - KEPT_EVENTS);
  }

  /** A new session: no events to replay. */
  forgetEvents() {
    this.#events = [];
  }

  /** The state a rebuild starts from (the engine's last exported or imported state). */
  keepState(state) {
    this.#state = state;
  }

  /** The id to hand out for the engine's decision `engineId` (ids go on rising across restarts). */
  decisionId(engineId) {
    this.#lastId = engineId + this.#idBase;
    return this.#lastId;
  }

  /** The engine's id of a decision id handed out, or null when it was an earlier engine's. */
  engineId(id) {
    return id > this.#idBase ? id - this.#idBase : null;
  }

  /** Release the engine's WebAssembly memory (an engine of a replaced instance is only let go). */
  free() {
    this.#runtime.live.delete(this.#self);
    if (this.#generation === this.#runtime.generation) this.#engine?.free();
    else this.#engine?.__destroy_into_raw();
    this.#engine = null;
  }
}
