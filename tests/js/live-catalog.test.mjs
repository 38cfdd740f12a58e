// The live catalog through the npm package (issue 38): updateItems adds a
// product the bundle lacks and reprices or restocks the ones it has; every
// later answer uses them, a refused update names the item and field and
// changes nothing, and a restarted engine keeps them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { Recommender } from 'edgerec';
import { thrown } from './helpers.mjs';
import { FORCE_TRAP } from '../../js/recommender.mjs';

const bundle = new Uint8Array(await readFile(new URL('../../models/online-retail/online-retail.edgerec', import.meta.url)));
const NEW_STAND = { id: 'NEW-CAKE-1', title: 'Pink Regency Cakestand 3 Tier', category: 'cake stand', price: 14.95, url: '/p/new-cake-1' };

test('a product added after the build is recommended on its own page and on others', async () => {
  const rec = await Recommender.load(bundle, { storage: null });
  assert.equal(rec.page({ anchor: NEW_STAND.id, k: 3 }).stats.unknownItems, 1, 'before: counted, not fatal');
  assert.deepEqual(rec.updateItems([NEW_STAND]), { changed: 0, added: 1, placedFromContent: 1 });

  const own = rec.page({ anchor: NEW_STAND.id, k: 6 });
  assert.equal(own.stats.unknownItems, 0);
  assert.ok(own.similar.filter((r) => r.category === 'cake stand').length >= 4, JSON.stringify(own.similar.map((r) => r.title)));
  const regency = rec.page({ anchor: '22423', k: 10, slots: ['similar'] });
  const shown = regency.similar.find((r) => r.item === NEW_STAND.id);
  assert.ok(shown, 'the Regency Cakestand lists the new one among its look-alikes');
  assert.equal(shown.price, 14.95);
  assert.equal(shown.url, '/p/new-cake-1');

  rec.track('add_to_cart', NEW_STAND.id);
  assert.equal(rec.priceCart().total, 14.95, 'the new item is priced at its own price');
  rec.updateItems([{ id: NEW_STAND.id, price: 14.95, salePrice: 11.95 }]);
  assert.equal(rec.priceCart().total, 11.95, 'a sale is what the cart charges');
  assert.equal(rec.catalog().find((i) => i.item === NEW_STAND.id).regularPrice, 14.95);

  // A trap restarts the engine: the item updates are replayed on the fresh one, in order.
  assert.equal(thrown(() => rec[FORCE_TRAP]()).code, 'ENGINE_RESTARTED');
  assert.equal(rec.priceCart().total, 11.95);
  assert.equal(rec.page({ anchor: NEW_STAND.id, k: 3 }).stats.unknownItems, 0, 'the added item is still known');
  assert.equal(rec.catalog().find((i) => i.item === NEW_STAND.id).regularPrice, 14.95);
  rec.free();
});

test('a refused update names the item and the field, and nothing of it is applied', async () => {
  const rec = await Recommender.load(bundle, { storage: null });
  const before = JSON.stringify(rec.page({ anchor: '22423', k: 5 }));
  const cases = [
    [[NEW_STAND, { id: '22423', price: -1 }], 'INVALID_ITEM', /"22423": price/],
    [[{ id: '22423', price: Number.NaN }], 'INVALID_ITEM', /price .*NaN/],
    [[{ id: '22423', salePrice: Infinity }], 'INVALID_ITEM', /salePrice .*Infinity/],
    [[{ id: '22423', colour: 'red' }], 'INVALID_ITEM', /colour is not a field/],
    [[{ id: 'NEW-2', title: 'Mug', price: 1, row: [0.1, 0.2] }], 'INVALID_ITEM', /row has 2 values/],
    [[{ id: 'NEW-3', price: 1 }], 'INVALID_ITEM', /title/],
    [{ id: '22423' }, 'INVALID_OPTIONS', /array/],
    [null, 'INVALID_OPTIONS', /array/],
  ];
  for (const [items, code, says] of cases) {
    const err = thrown(() => rec.updateItems(items));
    assert.equal(err.code, code, `${JSON.stringify(items)}: ${err.message}`);
    assert.match(err.message, says);
  }
  assert.equal(JSON.stringify(rec.page({ anchor: '22423', k: 5 })), before, 'the engine is unchanged');
  assert.equal(rec.page({ anchor: NEW_STAND.id, k: 3 }).stats.unknownItems, 1, 'the refused call added nothing');
  rec.free();
});

test('a catalog patch applies on the bundle it was made for, and only there', async () => {
  const rec = await Recommender.load(bundle, { storage: null });
  const codes = Buffer.from(Int8Array.from({ length: rec.info.dim }, (_, i) => ((i * 37) % 255) - 127).buffer).toString('base64');
  const patch = {
    format: 'edgerec-patch/1',
    bundle: rec.info.version,
    items: [
      { id: 'NEW-P', title: 'Ivory Regency Cakestand', category: 'cake stand', price: 12.5, row: { scale: 0.001, codes } },
      { id: '22423', inStock: false },
    ],
  };
  assert.equal(thrown(() => rec.applyPatch({ ...patch, bundle: 'sha256:0000' })).code, 'PATCH_MISMATCH');
  assert.equal(thrown(() => rec.applyPatch({ ...patch, format: 'edgerec-patch/9' })).code, 'PATCH_MISMATCH');
  assert.equal(rec.page({ anchor: 'NEW-P', k: 2 }).stats.unknownItems, 1, 'a refused patch adds nothing');
  assert.deepEqual(rec.applyPatch(JSON.stringify(patch)), { changed: 1, added: 1, placedFromContent: 0 });
  assert.equal(rec.catalog().find((i) => i.item === '22423').inStock, false);
  assert.equal(thrown(() => rec[FORCE_TRAP]()).code, 'ENGINE_RESTARTED');
  assert.equal(rec.catalog().find((i) => i.item === 'NEW-P').price, 12.5, 'replayed after a restart');
  rec.free();
});
