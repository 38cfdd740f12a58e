// Node (CommonJS): the same API; the ESM implementation is loaded on the
// first (already asynchronous) Recommender.load().
'use strict';

class Recommender {
  static async load(source, options) {
    const { Recommender: Impl } = await import('./node.mjs');
    return Impl.load(source, options);
  }
}

module.exports = { Recommender };
