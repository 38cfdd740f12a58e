// The two Prio3 aggregators (edge/cloudflare/aggregators.capnp), each a real
// workerd process with its own storage, for prio3.test.mjs and the storefront.
import { randomBytes } from 'node:crypto';
import { loadPrio3 } from 'edgerec/prio3';
import { freePort, ROOT, startProcess, waitUntilServing } from './helpers.mjs';

export const ADMIN_TOKEN = 'test-admin-token';
export const PEER_TOKEN = 'test-peer-token';

/** Fresh secrets for a pair: a keypair each (id 1) and the shared verify key. */
export async function pairSecrets() {
  const prio3 = await loadPrio3();
  return {
    leaderKeys: [JSON.parse(prio3.generateKeypair(1))],
    helperKeys: [JSON.parse(prio3.generateKeypair(1))],
    verifyKey: randomBytes(32).toString('hex'),
  };
}

/**
 * Starts one aggregator: `role` "leader" or "helper", its own `storage`
 * directory, its `keys`; the leader needs `helperUrl` (and may be given
 * `aggregateAfterS`, its alarm's delay). Returns { base, server, port }.
 */
export async function startAggregator({ role, storage, keys, verifyKey, helperUrl = '', port, aggregateAfterS = '' }) {
  port ??= await freePort();
  const server = startProcess(`${ROOT}node_modules/.bin/workerd`, [
    'serve', `${ROOT}edge/cloudflare/aggregators.capnp`, role,
    '--directory-path', `storage=${storage}`, '--socket-addr', `http=127.0.0.1:${port}`,
  ], {
    env: {
      ...process.env,
      EDGEREC_HPKE_KEYS: JSON.stringify(keys),
      EDGEREC_VERIFY_KEY: verifyKey,
      EDGEREC_PEER_TOKEN: PEER_TOKEN,
      EDGEREC_ADMIN_TOKEN: ADMIN_TOKEN,
      EDGEREC_HELPER_URL: helperUrl,
      EDGEREC_AGGREGATE_AFTER_S: String(aggregateAfterS),
    },
  });
  const base = `http://127.0.0.1:${port}`;
  await waitUntilServing(`${base}/v1/health`, server);
  return { base, server, port };
}

/** Provisions `task` (an object) at an aggregator; returns the response. */
export const provision = (base, task, store = 'default', token = ADMIN_TOKEN) =>
  fetch(`${base}/v1/tasks?store=${store}`, { method: 'PUT', body: JSON.stringify(task), headers: { authorization: `Bearer ${token}` } });

export const hpkeConfig = async (base) => (await fetch(`${base}/v1/hpke_config`)).json();
