// The package's node-free build under JavaScriptCore (`jsc`, Debian's
// libjavascriptcoregtk): the same page as Node computes, to the last float.
import { test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import assert from 'node:assert/strict';
import { Recommender } from 'edgerec';
import { BUNDLE_PATH, ROOT } from './helpers.mjs';

test('a recommendation runs under JavaScriptCore and matches Node', async () => {
  const out = execFileSync('jsc', ['-m', 'tests/edge/jsc-driver.mjs'], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  const got = JSON.parse(out.trim().split('\n').at(-1));
  assert.equal(got.badEventCode, 'INVALID_EVENT');
  assert.equal(got.page.recommended.length, 5);

  const rec = await Recommender.load(await readFile(BUNDLE_PATH));
  rec.track('view', '85123A');
  rec.track('add_to_cart', '85123A');
  rec.track('view', '22386');
  assert.deepEqual(got.page, rec.page({ anchor: '22386', k: 5 }));
});
