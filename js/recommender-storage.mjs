// Keeps what the shopper's device remembers in a localStorage-like store: the engine's state, the outbox of unsent reports, the last good release file and the shopper key; blocked storage is never an error.
import { describe, edgerecError } from './recommender.mjs';

/** What `storage` keeps under `key` when it is text; null when it is not (absent, another type, storage blocked). */
function storedText(storage, key) {
  try {
    const value = storage?.getItem(key);
    return typeof value === 'string' ? value : null;
  } catch {
    return null;
  }
}

/** A random shopper key (it only places the shopper in experiment arms). */
export function randomKey() {
  const bytes = new Uint8Array(16);
  if (globalThis.crypto?.getRandomValues) globalThis.crypto.getRandomValues(bytes);
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256); // bare JS shells
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** The shopper's keys in one store: the state under `key`, the outbox and the last good release beside it. */
export class ShopperStorage {
  #storage;
  #key;
  #outbox;

  constructor(storage, key) {
    this.#storage = storage;
    this.#key = key;
  }

  /**
   * The stored state: `{ stored }` (text, or null when there is none or
   * storage is blocked), with `error` when what is stored is not text
   * (not state the engine wrote: start afresh).
   */
  readState() {
    let stored = null;
    try {
      stored = this.#storage?.getItem(this.#key) ?? null;
    } catch {
      stored = null; // storage blocked: state lives in memory only
    }
    if (stored !== null && typeof stored !== 'string') {
      const error = edgerecError('INVALID_STATE', `the stored state under ${describe(this.#key)} is not text but ${describe(stored)}: started afresh`);
      return { stored: null, error };
    }
    return { stored };
  }

  writeState(state) {
    try {
      this.#storage?.setItem(this.#key, state);
    } catch {
      // Quota or privacy mode: caps hold for this page's life only.
    }
  }

  /** The shopper key kept with the stored state, if any. */
  shopperKey() {
    try {
      const key = JSON.parse(storedText(this.#storage, this.#key) ?? 'null')?.shopperKey;
      return typeof key === 'string' ? key : null;
    } catch {
      return null;
    }
  }

  /** The last release file that was read and placed a shopper; null when none is kept as text. */
  lastGoodRelease() {
    return storedText(this.#storage, `${this.#key}:release`);
  }

  keepRelease(text) {
    try {
      this.#storage?.setItem(`${this.#key}:release`, text);
    } catch {
      // Quota or privacy mode: no last good release to fall back on.
    }
  }

  /** The reports waiting to be sent, oldest first (a copy). */
  readOutbox() {
    if (this.#outbox === undefined) {
      try {
        const list = JSON.parse(storedText(this.#storage, `${this.#key}:outbox`) ?? '[]');
        this.#outbox = Array.isArray(list) ? list.filter((r) => typeof r === 'string') : [];
      } catch {
        this.#outbox = [];
      }
    }
    return [...this.#outbox];
  }

  writeOutbox(queue) {
    // At most 100 unsent reports wait; the oldest go first.
    this.#outbox = queue.slice(-100);
    try {
      if (this.#outbox.length) this.#storage?.setItem(`${this.#key}:outbox`, JSON.stringify(this.#outbox));
      else this.#storage?.removeItem(`${this.#key}:outbox`);
    } catch {
      // storage blocked: unsent reports wait in memory for this page's life
    }
  }
}
