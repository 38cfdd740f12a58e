// The report collector in a real workerd, for the tests that post device
// reports to it (collector.test.mjs, rollout.test.mjs).
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, ROOT, startProcess, waitUntilServing } from './helpers.mjs';

/** A workerd serving the collector config with `storage` as its disk. */
export async function startCollector(dir, storage, quota = 1_000_000) {
  const config = (await readFile(`${ROOT}edge/cloudflare/collector.capnp`, 'utf8'))
    .replace('embed "src/collector.mjs"', 'embed "collector.mjs"')
    .replace('embed "src/report.mjs"', 'embed "report.mjs"')
    .replace('embed "../../js/recommender.mjs"', 'embed "js/recommender.mjs"')
    .replace('text = "1000000"', `text = "${quota}"`);
  const file = join(dir, `collector-${quota}.capnp`);
  await writeFile(file, config);
  for (const module of ['collector.mjs', 'report.mjs']) {
    await writeFile(join(dir, module), await readFile(`${ROOT}edge/cloudflare/src/${module}`));
  }
  await mkdir(join(dir, 'js'), { recursive: true });
  await writeFile(join(dir, 'js/recommender.mjs'), await readFile(`${ROOT}js/recommender.mjs`));
  const port = await freePort();
  const server = startProcess(`${ROOT}node_modules/.bin/workerd`, [
    'serve', file, '--directory-path', `reports-storage=${storage}`, '--socket-addr', `http=127.0.0.1:${port}`,
  ]);
  const base = `http://127.0.0.1:${port}`;
  await waitUntilServing(`${base}/v1/health`, server);
  return { base, server };
}

/** POST bodies with at most `width` in flight; returns the statuses. */
export async function postAll(url, bodies, width = 32) {
  const statuses = new Array(bodies.length);
  let next = 0;
  const worker = async () => {
    while (next < bodies.length) {
      const i = next++;
      const res = await fetch(url, { method: 'POST', body: bodies[i] });
      await res.arrayBuffer();
      statuses[i] = res.status;
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return statuses;
}

/** The released aggregates of one store's policy. */
export const fetchAggregates = async (base, policy, store = 'default') =>
  (await fetch(`${base}/v1/aggregates?store=${store}&policy=${policy}`)).json();

/** A seeded generator for the simulated shoppers' choices (not for noise). */
export function mulberry32(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
