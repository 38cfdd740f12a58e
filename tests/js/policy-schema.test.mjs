// The documented JSON Schema (schema/policy.schema.json) and the engine
// agree: the shipped and benchmark policies pass both, and shape errors
// are refused by both (the engine also names the field).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import Ajv2020 from 'ajv/dist/2020.js';
import { Recommender } from 'edgerec';
import { bigPolicy } from '../../benches/offers.mjs';

const root = new URL('../../', import.meta.url);
const schema = JSON.parse(await readFile(new URL('schema/policy.schema.json', root), 'utf8'));
const validate = new Ajv2020({ allErrors: true }).compile(schema);
const bundle = new Uint8Array(await readFile(new URL('models/online-retail/online-retail.edgerec', root)));
const rec = await Recommender.load(bundle, { storage: null });

test('the shipped default policy and the 200-offer benchmark policy follow the schema', async () => {
  const shipped = JSON.parse(await readFile(new URL('models/online-retail/policy.json', root), 'utf8'));
  assert.ok(validate(shipped), JSON.stringify(validate.errors));
  assert.deepEqual(rec.policy, shipped, 'the bundle carries models/online-retail/policy.json');
  const big = bigPolicy(rec.catalog());
  assert.ok(validate(big), JSON.stringify(validate.errors));
  assert.equal(rec.usePolicy(big), 'bench-200');
});

test('shape errors are refused by the schema and by the engine, which names the field', () => {
  const ok = { version: 1, offers: [{ id: 'o', kind: 'item', items: ['85123A'] }], slots: [{ id: 's', placement: 'cart', offers: ['o'] }] };
  const broken = [
    [{ ...ok, colour: 'red' }, /colour/],
    [{ ...ok, version: 2 }, /version/],
    [{ ...ok, offers: [{ id: 'o', kind: 'coupon' }] }, /offers\[0\]\.kind/],
    [{ ...ok, offers: [{ id: 'o', kind: 'item', items: ['85123A'], caps: { perDay: 0 } }] }, /offers\[0\]\.caps\.perDay/],
    [{ ...ok, offers: [{ id: 'o', kind: 'item', items: ['85123A'], eligibility: [{ cartValue: { min: 1 }, inStock: true }] }] }, /offers\[0\]\.eligibility\[0\]/],
    [{ ...ok, slots: [{ id: 's', placement: 'sidebar', offers: ['o'] }] }, /slots\[0\]\.placement/],
    [{ ...ok, offers: [{ id: 'o', kind: 'action', title: 'Join', message: 'Join us' }] }, /offers\[0\]\.value/],
    [{ ...ok, offers: [{ id: 'o', kind: 'action', title: 'Join', message: 'Join us', value: -1 }] }, /offers\[0\]\.value/],
    [{ ...ok, offers: [{ id: 'o', kind: 'fillTheGap', threshold: -5 }] }, /offers\[0\]\.threshold/],
    [{ ...ok, context: { channel: { type: 'string' } }, offers: [{ id: 'o', kind: 'item', items: ['85123A'], caps: { channels: { email: {} } } }] }, /offers\[0\]\.caps\.channels\.email/],
    [{ ...ok, experiments: [{ id: 'x', salt: 's', slots: ['s'], arms: [{ id: 'a', weight: -1 }] }] }, /experiments\[0\]\.arms\[0\]\.weight/],
  ];
  for (const [policy, field] of broken) {
    assert.equal(validate(policy), false, `schema accepts ${JSON.stringify(policy)}`);
    let err;
    try {
      rec.usePolicy(policy);
    } catch (e) {
      err = e;
    }
    assert.equal(err?.code, 'INVALID_POLICY', JSON.stringify(policy));
    assert.match(err.message, field);
  }
});
