// The storefront's price format is what Intl.NumberFormat en-GB GBP gives.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatPounds } from '../../www/money.mjs';

test('prices read as Intl.NumberFormat en-GB writes them, half pence rounded the same way', () => {
  const intl = new Intl.NumberFormat('en-GB', { style: 'currency', currency: 'GBP' });
  const edge = [0, 0.004, 0.005, 0.5, 1.25, 2.675, 3.005, 12.5, 999.99, 999.995, 1000, 1234.5, 12345.67, 1234567.891];
  let seed = 7;
  const random = Array.from({ length: 50_000 }, () => (seed = (seed * 48271) % 2147483647) % 100_000_000 / 1000);
  for (const v of [...edge, ...random]) assert.equal(formatPounds(v), intl.format(v), String(v));
});
