// Runs under `jsc -m` (JavaScriptCore, the engine of iOS webviews): the
// package's node-free entry, one session, every slot; prints JSON.
import './jsc-text-codec.mjs';
import { createRecommender } from '../../js/embedded.mjs';

const Recommender = createRecommender(readFile('pkg/edgerec_bg.wasm', 'binary'));
const rec = await Recommender.load(readFile('models/online-retail/online-retail.edgerec', 'binary'));
rec.track('view', '85123A');
rec.track('add_to_cart', '85123A');
rec.track('view', '22386');
const page = rec.page({ anchor: '22386', k: 5 });
let code = null;
try {
  rec.track('click', '22386');
} catch (err) {
  code = err.code;
}
print(JSON.stringify({ page, badEventCode: code, simd: typeof WebAssembly.validate === 'function' }));
