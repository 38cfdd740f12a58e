// The Worker and the report collector as a store runs them: `wrangler dev`
// from their wrangler.toml / collector.toml (loopback only, telemetry off),
// answering the same requests as the other runtimes, and `wrangler deploy
// --dry-run --outdir` building what would be uploaded, with its size.
// wrangler needs Node 22: scripts/setup.sh wrangler puts both in the cache
// and scripts/test.sh passes their paths (EDGEREC_NODE22, EDGEREC_WRANGLER).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkEndpoint, freePort, ROOT, startProcess, waitUntilServing } from './helpers.mjs';

const NODE22 = process.env.EDGEREC_NODE22;
const WRANGLER = process.env.EDGEREC_WRANGLER;
const DIR = `${ROOT}edge/cloudflare`;

/** wrangler's own environment: local, quiet, its config inside a temp dir. */
async function wranglerEnv() {
  assert.ok(NODE22 && WRANGLER, 'EDGEREC_NODE22 and EDGEREC_WRANGLER name Node 22 and wrangler (scripts/setup.sh wrangler)');
  return {
    ...process.env,
    PATH: `${join(NODE22, '..')}:${process.env.PATH}`,
    WRANGLER_SEND_METRICS: 'false',
    WRANGLER_SEND_ERROR_REPORTS: 'false',
    CLOUDFLARE_CF_FETCH_ENABLED: 'false',
    XDG_CONFIG_HOME: await mkdtemp(join(tmpdir(), 'edgerec-wrangler-')),
    CI: '1',
  };
}

const wrangler = async (args, env) => execFileSync(NODE22, [WRANGLER, ...args], { cwd: DIR, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

async function dev(config, env) {
  const port = await freePort();
  const inspector = await freePort();
  const server = startProcess(NODE22, [WRANGLER, 'dev', '-c', config, '--ip', '127.0.0.1', '--port', String(port),
    '--inspector-port', String(inspector), '--persist-to', join(env.XDG_CONFIG_HOME, 'state'), '--show-interactive-dev-session=false'], { cwd: DIR, env });
  const base = `http://127.0.0.1:${port}`;
  await waitUntilServing(`${base}/v1/health`, server, 120_000);
  return { base, server };
}

test('wrangler deploy --dry-run builds the Worker, the collector and both Prio3 aggregators, and says what they upload', async () => {
  const env = await wranglerEnv();
  for (const [config, ...extra] of [['wrangler.toml'], ['collector.toml'], ['aggregator.toml'], ['aggregator.toml', '--env', 'helper']]) {
    const outdir = await mkdtemp(join(tmpdir(), 'edgerec-deploy-'));
    const out = await wrangler(['deploy', '--dry-run', '--outdir', outdir, '-c', config, ...extra], env);
    const upload = out.match(/Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/);
    assert.ok(upload, out);
    const files = await readdir(outdir);
    const bytes = (await Promise.all(files.map((f) => stat(join(outdir, f))))).reduce((s, f) => s + f.size, 0);
    console.log(`# wrangler deploy --dry-run -c ${[config, ...extra].join(' ')}: upload ${upload[1]} KiB, gzip ${upload[2]} KiB (${files.length} files in --outdir, ${(bytes / 1024).toFixed(0)} KiB)`);
    if (config === 'aggregator.toml') assert.ok(files.some((f) => f.endsWith('.wasm')), `the Prio3 module is uploaded as a module: ${files}`);
    if (config === 'wrangler.toml') {
      assert.ok(files.some((f) => f.endsWith('.wasm')), `the module is uploaded as a module: ${files}`);
      assert.ok(Number(upload[2]) < 3 * 1024, 'under the 3 MiB gzip limit of a free Worker');
    }
  }
});

test('wrangler dev serves the Worker as workerd serve does', { timeout: 240_000 }, async () => {
  const env = await wranglerEnv();
  const { base, server } = await dev('wrangler.toml', env);
  try {
    await checkEndpoint(base);
  } finally {
    server.stop();
  }
});

test('wrangler dev serves the collector with its Durable Objects', { timeout: 240_000 }, async () => {
  const env = await wranglerEnv();
  const { base, server } = await dev('collector.toml', env);
  try {
    const { Recommender } = await import('edgerec');
    const { readFile } = await import('node:fs/promises');
    const rec = await Recommender.load(await readFile(`${ROOT}models/online-retail/online-retail.edgerec`), { storage: null, consent: true });
    const item = rec.catalog()[0].item;
    rec.track('add_to_cart', item);
    rec.shown(rec.nextBestOffer({ slot: 'cart' }));
    const report = rec.takeReport();
    assert.ok(report);
    const post = await fetch(`${base}/v1/reports?store=wrangler-test`, { method: 'POST', body: report });
    assert.equal(post.status, 202, await post.text());
    assert.equal((await fetch(`${base}/v1/reports?store=wrangler-test`, { method: 'POST', body: report })).status, 200, 'a replay is a duplicate');
    const agg = await (await fetch(`${base}/v1/aggregates?store=wrangler-test&policy=${rec.policyId}`)).json();
    assert.equal(agg.k, 50);
    rec.free();
  } finally {
    server.stop();
  }
});
