// Report transport: seals Prio3 measurements to the two aggregators' HPKE configs and posts the outbox of reports to the collector, keeping what fails to send for the next try.
import { describe, edgerecError, objectArg, toJson } from './recommender.mjs';

/** A Prio3 measurement (engine.takeReport under `prio3`): sealed before it leaves the device. */
const isMeasurement = (text) => {
  try {
    return JSON.parse(text)?.mechanism === 'prio3';
  } catch {
    return false;
  }
};

/** An aggregator's HPKE config ({ id, publicKey }) from its /v1/hpke_config. */
async function fetchConfig(url, send) {
  const res = await send(url);
  if (!res.ok) throw new Error(`${url} answered ${res.status}`); // caught: the report waits for the next try
  return JSON.stringify(await res.json());
}

/** The Prio3 module, from the entry point's loader (none: MODULE_LOAD). */
async function prio3Module(readyPrio3) {
  if (!readyPrio3) throw edgerecError('MODULE_LOAD', 'this build of edgerec has no Prio3 module');
  return readyPrio3();
}

/** `fn()`, a call into the Prio3 module: what it throws is a coded error. */
function sealing(fn) {
  try {
    return fn();
  } catch (e) {
    throw edgerecError(e?.code ?? 'INTERNAL', e?.message ?? String(e));
  }
}

/**
 * The next report as a sealed Prio3 upload, or null (see
 * Recommender.takeSealedReport). From the recommender: { readyPrio3, mechanism() (the
 * reporting mechanism), take() (the next report, taken) }.
 */
export async function takeSealedReport(options, { readyPrio3, mechanism, take }) {
  const { leader, helper } = objectArg(options, 'takeSealedReport configs');
  const prio3 = await prio3Module(readyPrio3);
  const configs = [leader, helper].map((c, i) => {
    const text = toJson(objectArg(c, i ? 'helper' : 'leader'), 'HPKE config');
    sealing(() => prio3.checkConfig(text));
    return text;
  });
  if (mechanism() !== 'prio3') throw edgerecError('INVALID_REQUEST', 'reporting.mechanism is not prio3');
  const measured = take();
  return measured === null ? null : sealing(() => prio3.sealReport(measured, ...configs));
}

/**
 * POST every report there is to `url` (see Recommender.sendReports).
 * From the recommender: { readyPrio3, take() (the next report, taken), consent() (the
 * shopper's consent now), store (the outbox) }. Returns { sent, waiting }.
 */
export async function sendReports(url, options, { readyPrio3, take, consent, store }) {
  const { fetch: send = globalThis.fetch, keepalive = false, helper } = objectArg(options, 'sendReports options');
  if (typeof url !== 'string' && !(url instanceof URL)) throw edgerecError('INVALID_OPTIONS', `sendReports needs the collector's URL, not ${describe(url)}`);
  if (options.fetch !== undefined && typeof send !== 'function') throw edgerecError('INVALID_OPTIONS', 'sendReports options.fetch must be a function');
  if (helper !== undefined && typeof helper !== 'string' && !(helper instanceof URL)) throw edgerecError('INVALID_OPTIONS', `sendReports options.helper must be the helper's URL, not ${describe(helper)}`);
  const queue = store.readOutbox();
  for (let r = take(); r !== null; r = take()) queue.push(r);
  store.writeOutbox(queue);
  // Prio3 measurements wait here as they are (on the device, as the ledger
  // does) and are sealed just before each upload with the configs the two
  // aggregators advertise then: a key rotated since is no loss.
  let configs = null;
  const seal = async (measured, fresh) => {
    if (helper === undefined) throw edgerecError('INVALID_OPTIONS', 'prio3 reports need the helper aggregator: sendReports(url, { helper })');
    if (!configs || fresh) {
      const leaderBase = new URL(url, globalThis.location?.href);
      configs = await Promise.all([new URL('/v1/hpke_config', leaderBase), new URL('/v1/hpke_config', helper)].map((u) => fetchConfig(u, send)));
    }
    const prio3 = await prio3Module(readyPrio3);
    return sealing(() => prio3.sealReport(measured, ...configs));
  };
  const post = (body) => send(url, { method: 'POST', body, keepalive, headers: { 'content-type': 'application/json' } });
  let sent = 0;
  while (queue.length && consent()) {
    let ok = false;
    try {
      const prio3 = isMeasurement(queue[0]);
      let res = await post(prio3 ? await seal(queue[0], false) : queue[0]);
      if (prio3 && res.status === 400 && (await res.clone().json().catch(() => null))?.error?.code === 'OUTDATED_CONFIG') {
        res = await post(await seal(queue[0], true));
      }
      // 4xx other than 429 will never succeed: drop rather than retry forever.
      ok = res.ok || (res.status >= 400 && res.status < 500 && res.status !== 429);
    } catch (e) {
      if (e?.code === 'INVALID_OPTIONS') throw e;
      ok = false;
    }
    if (!ok) break;
    queue.shift();
    sent += 1;
    store.writeOutbox(queue);
  }
  return { sent, waiting: queue.length };
}
