// Node (CommonJS): the same API; the ESM implementation is loaded on the
// first (already asynchronous) Recommender.load().
'use strict';

class Recommender {
  static async load(source) {
    const { Recommender: Impl } = await import('./node.mjs');
    return Impl.load(source);
  }
}

module.exports = { Recommender };
