// The Prio3 client inside workerd (issue 21): a Worker loads the engine and
// seals a shopper's day with the Prio3 module compiled for workerd; the two
// workerd aggregators take its upload and verify its proof.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPrio3 } from 'edgerec/prio3';
import { freePort, ROOT, startProcess, waitForPort } from './helpers.mjs';
import { hpkeConfig, pairSecrets, provision, startAggregator } from './prio3-helpers.mjs';

test('prio3: a Worker seals a report in workerd that the two aggregators verify', { timeout: 300_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'edgerec-prio3-workerd-'));
  const dist = join(dir, 'sealer');
  execFileSync(process.execPath, [`${ROOT}edge/cloudflare/build.mjs`, `${ROOT}tests/edge/workers/prio3-sealer.mjs`, dist], { stdio: 'inherit' });
  execFileSync('mkdir', ['-p', join(dir, 'leader'), join(dir, 'helper')]);
  const secrets = await pairSecrets();
  const helper = await startAggregator({ role: 'helper', storage: join(dir, 'helper'), keys: secrets.helperKeys, verifyKey: secrets.verifyKey });
  const leader = await startAggregator({
    role: 'leader', storage: join(dir, 'leader'), keys: secrets.leaderKeys, verifyKey: secrets.verifyKey, helperUrl: helper.base, aggregateAfterS: 3600,
  });
  const port = await freePort();
  const sealer = startProcess(`${ROOT}node_modules/.bin/workerd`, ['serve', join(dist, 'config.capnp'), '--socket-addr', `http=127.0.0.1:${port}`]);
  try {
    await waitForPort(port, sealer);
    const configs = { leader: await hpkeConfig(leader.base), helper: await hpkeConfig(helper.base) };
    const sealed = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: JSON.stringify(configs) });
    const { task, upload, error } = await sealed.json();
    assert.equal(sealed.status, 200, `sealed in workerd: ${JSON.stringify(error)}`);
    assert.equal(typeof upload, 'string');
    // The upload is the sealed message, the counts in no field of it.
    assert.deepEqual(Object.keys(JSON.parse(upload)).sort(), ['day', 'helper', 'id', 'leader', 'model', 'public', 'task', 'version']);
    for (const a of [leader, helper]) assert.equal((await provision(a.base, task)).status, 200);
    const taskId = (await loadPrio3()).taskId(JSON.stringify(task));
    assert.equal(JSON.parse(upload).task, taskId, 'sealed for the task the engine derives');
    const posted = await fetch(`${leader.base}/v1/reports`, { method: 'POST', body: upload });
    assert.equal(posted.status, 202, await posted.text());
    const job = await (await fetch(`${leader.base}/v1/aggregate?store=default&task=${taskId}`, { method: 'POST' })).json();
    assert.deepEqual(job, { aggregated: 1, rejected: 0 }, 'the helper and the leader verified its proof');
    // A config that is not an HPKE config is a typed error from the Worker, not a crash.
    const bad = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: JSON.stringify({ leader: { id: 1 }, helper: configs.helper }) });
    assert.equal(bad.status, 400);
    assert.match((await bad.json()).error.code, /^[A-Z_]+$/);
    const again = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', body: JSON.stringify(configs) });
    assert.equal(again.status, 200, 'the Worker still seals after a bad request');
  } finally {
    sealer.stop();
    leader.server.stop();
    helper.server.stop();
  }
});
