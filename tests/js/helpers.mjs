// Shared by the tests of the npm package.
import assert from 'node:assert/strict';
import { Recommender } from 'edgerec';

/** The error `fn` throws (failing the test if it returns). */
export function thrown(fn) {
  try {
    fn();
  } catch (e) {
    return e;
  }
  assert.fail('expected an error');
}

/** Real device reports from `bundle` at host time `t0`, under local and distributed noise. */
export async function sampleReports(bundle, t0, shopperKey = 'sample-reports') {
  const out = [];
  for (const reporting of [{}, { mechanism: 'distributed', cohort: 900 }]) {
    const rec = await Recommender.load(bundle, { storage: null, clock: () => t0, shopperKey, consent: true, reporting });
    rec.track('add_to_cart', '85123A');
    rec.shown(rec.nextBestOffer({ slot: 'cart' }));
    out.push(JSON.parse(rec.takeReport()));
    rec.free();
  }
  return out;
}
