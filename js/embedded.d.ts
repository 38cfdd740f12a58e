// Types of `edgerec/embedded`: the Recommender of `edgerec`, bound to a
// .wasm the host hands over (bytes or a compiled module).
import type { Recommender } from '../index.js';

export * from '../index.js';

/** A Recommender class bound to this module's wasm; call once per realm. */
export declare function createRecommender(wasm: BufferSource | WebAssembly.Module): typeof Recommender;
