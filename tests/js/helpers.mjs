// Shared by the tests of the npm package.
import assert from 'node:assert/strict';

/** The error `fn` throws (failing the test if it returns). */
export function thrown(fn) {
  try {
    fn();
  } catch (e) {
    return e;
  }
  assert.fail('expected an error');
}
