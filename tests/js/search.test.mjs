// The storefront's catalog search on the store's own catalog: words, not
// substrings; case and plurals ignored; every word must match.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { matchCount, search, stem } from '../../www/search.mjs';

const catalog = JSON.parse(readFileSync(new URL('../../www/catalog.json', import.meta.url), 'utf8'));
const titles = (q) => search(catalog, q).map((p) => p.title);

test('plural and case do not change what a query finds', () => {
  assert.deepEqual(titles('mugs'), titles('mug'));
  assert.deepEqual(titles('RED MUGS'), titles('red mug'));
  assert.ok(titles('mug').length >= 50);
  for (const [plural, one] of [['mugs', 'mug'], ['boxes', 'box'], ['cherries', 'cherry'], ['glasses', 'glass'], ['dishes', 'dish'], ['cases', 'case']]) {
    assert.equal(stem(plural), one, plural);
  }
  for (const word of ['glass', 'bus', 'tea', 'christmas']) assert.equal(stem(stem(word)), stem(word), word);
});

test('every word must start a word of the title; whole words rank first', () => {
  const red = titles('red mug');
  assert.ok(red.length > 1, `${red.length} red mugs`);
  for (const t of red) assert.match(t.toLowerCase(), /\bred/);
  for (const t of red) assert.match(t.toLowerCase(), /\bmug/);
  assert.ok(titles('retro').includes('Red Retrospot Mug'), 'a word prefix matches');
  assert.ok(!titles('etro').length, 'the middle of a word does not');
  const order = search(catalog, 'mug').map((p) => catalog.indexOf(p));
  const whole = order.filter((i) => /\bmugs?\b/i.test(catalog[i].title));
  assert.deepEqual(order.slice(0, whole.length), whole, 'whole-word matches first, in catalog order');
});

test('an id finds its product; an empty query finds all; counts read as English', () => {
  assert.deepEqual(search(catalog, '85123a').map((p) => p.item), ['85123A']);
  assert.equal(search(catalog, '   ').length, catalog.length);
  assert.equal(search(catalog, 'zzzz').length, 0);
  assert.equal(matchCount(0, 'zzzz'), 'No products match “zzzz”');
  assert.equal(matchCount(1, 'x'), '1 product matches “x”');
  assert.equal(matchCount(1234, 'x'), '1,234 products match “x”');
});
