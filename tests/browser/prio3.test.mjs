// The storefront reporting with Prio3 (issue 21) in real Chromium: the page,
// set up by the store for two aggregators, loads the Prio3 module only when
// it seals a report, sends the leader one upload of two sealed shares (never
// the counts), and the two workerd aggregators verify its proof together.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Recommender } from 'edgerec';
import { startServer } from '../../www/server.mjs';
import { launchChromium, watchedPage } from './chromium.mjs';
import { pairSecrets, provision, startAggregator } from '../edge/prio3-helpers.mjs';

const ROOT = new URL('../../', import.meta.url).pathname;
const PRODUCT = '22386';

test('storefront: a Prio3 report sealed in Chromium, verified by the two aggregators', { timeout: 300_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'edgerec-prio3-page-'));
  execFileSync('mkdir', ['-p', join(dir, 'leader'), join(dir, 'helper')]);
  const secrets = await pairSecrets();
  const helper = await startAggregator({ role: 'helper', storage: join(dir, 'helper'), keys: secrets.helperKeys, verifyKey: secrets.verifyKey });
  const leader = await startAggregator({ role: 'leader', storage: join(dir, 'leader'), keys: secrets.leaderKeys, verifyKey: secrets.verifyKey, helperUrl: helper.base });
  const server = await startServer({ port: 0, reporting: { mechanism: 'prio3', leader: leader.base, helper: helper.base, store: 'demo' } });
  const base = `http://127.0.0.1:${server.address().port}`;
  const browser = await launchChromium();
  try {
    // The store provisions the task its pages' engine derives from the policy.
    const rec = await Recommender.load(await readFile(`${ROOT}models/online-retail/online-retail.edgerec`), { storage: null, reporting: { mechanism: 'prio3' } });
    const task = rec.prio3Task();
    rec.free();
    for (const a of [leader, helper]) assert.equal((await provision(a.base, task, 'demo')).status, 200);

    const { context, page, requests, errors } = await watchedPage(browser);
    await page.goto(`${base}/#/p/${PRODUCT}`);
    await page.locator('section[data-slot="product-offer"]').waitFor({ timeout: 60_000 });
    assert.ok(!requests.some((r) => r.url.includes('prio3')), 'the Prio3 module is not part of the first load');
    await page.locator('[data-testid="privacy-link"]').click();
    await page.locator('[data-testid="consent"]').check();
    await page.goto(`${base}/#/p/${PRODUCT}`);
    await page.locator('section[data-slot="product-offer"]').waitFor({ timeout: 60_000 });
    await page.locator(`[data-testid="product"] [data-testid="add-${PRODUCT}"]`).click();
    await page.locator('[data-testid="cart-link"]').click();
    await page.locator('section.offer[data-slot="offer"]').waitFor();
    await page.locator('[data-testid="privacy-link"]').click();
    const panel = await page.locator('section.privacy').innerText();
    assert.match(panel, /two servers run by different organisations/);
    const hidden = JSON.parse(await page.locator('[data-testid="next-report"]').textContent());
    assert.equal(hidden.mechanism, 'prio3');
    assert.equal(hidden.task.policy, task.policy);

    const posted = page.waitForResponse((r) => r.url().startsWith(`${leader.base}/v1/reports`) && r.request().method() === 'POST');
    const started = Date.now();
    await page.locator('[data-testid="send-reports"]').click();
    assert.equal((await posted).status(), 202);
    await page.locator('[data-testid="sent-note"]', { hasText: '1 report sent.' }).waitFor();
    const sent = requests.filter((r) => r.method === 'POST');
    assert.equal(sent.length, 1, 'one upload, nothing else');
    const upload = JSON.parse(sent[0].body);
    assert.deepEqual(Object.keys(upload).sort(), ['day', 'helper', 'id', 'leader', 'model', 'public', 'task', 'version']);
    assert.equal(upload.id, hidden.id);
    assert.ok(!sent[0].body.includes(hidden.measurement) && !sent[0].body.includes('cells'), 'the counts never leave in the clear');
    assert.ok(requests.some((r) => r.url.endsWith('edgerec_prio3_bg.wasm')), 'the Prio3 module came with the first sealed report');
    console.log(`# storefront: the Prio3 module loaded, a report sealed and uploaded in ${Date.now() - started} ms (${sent[0].body.length} bytes)`);

    // The two aggregators check its proof together: counted, not rejected (one report stays under k).
    const collected = await (await fetch(`${leader.base}/v1/aggregates?store=demo&task=${upload.task}&through=${upload.day}`)).json();
    assert.equal(collected.pending, 0);
    assert.deepEqual(collected.rejected, {});
    assert.equal(collected.withheld.batches, 1, 'one report: held back under k');
    assert.deepEqual(errors, []);
    await context.close();
  } finally {
    await browser.close();
    server.close();
    leader.server.stop();
    helper.server.stop();
  }
});
