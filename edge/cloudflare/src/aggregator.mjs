// A Prio3 aggregator (issue 21): the same Worker runs as the leader or the
// helper (env.ROLE), each deployed by its own party with its own Durable
// Object storage, HPKE keys and tokens. After DAP (draft-ietf-ppm-dap):
//   GET  /v1/hpke_config                 the HPKE config devices seal to now
//   GET  /v1/hpke_configs                every config still accepted (rotation)
//   PUT  /v1/tasks?store=S               provision a task (Bearer ADMIN_TOKEN)
// leader:
//   POST /v1/reports?store=S             one device upload (both shares sealed)
//   POST /v1/aggregate?store=S&task=T    run the pending aggregation jobs now
//                                        (the task's alarm runs them too)
//   GET  /v1/aggregates?store=S&task=T[&through=YYYY-MM-DD][&k=N]
//                                        collect: the released sums of every
//                                        closed batch backed by ≥ k reports
// helper (Bearer PEER_TOKEN, from the leader only):
//   POST /v1/aggregation_jobs?store=S&task=T   verify reports with the leader
//   POST /v1/aggregate_shares?store=S&task=T   a batch's noised share
// A batch is (task, day, model). Each is collected once, as in DAP: its
// noise is drawn once by each aggregator, and a report for it after that is
// refused, so no release can be differenced against another.
import { DurableObject } from 'cloudflare:workers';
import { loadPrio3 } from '../../../js/prio3-workerd.mjs';
import { readBounded } from '../../../js/recommender.mjs';
import { DAY_MS, RETENTION_DAYS, Refused } from './report.mjs';

/** An upload is a few shares of a few kB; a job is the leader's batch of them. */
const MAX_UPLOAD_BYTES = 64 * 1024;
const MAX_JOB_BYTES = 16 * 1024 * 1024;
const MAX_TASK_BYTES = 256 * 1024;
/** Reports per aggregation job (one leader → helper round trip). */
const JOB_SIZE = 200;
/**
 * How long a report may wait for a job of JOB_SIZE before the task's alarm
 * runs what is pending (env.AGGREGATE_AFTER_S overrides), and again after
 * that while the helper is down.
 */
const AGGREGATE_AFTER_S = 600;
/**
 * Days a report id is remembered against replays: the days a report is
 * accepted, and two more for a job held up while the helper was down. The
 * helper refuses reports older than that, so none can count twice.
 */
const KEPT_DAYS = RETENTION_DAYS + 2;
/** How long the leader trusts its copy of the helper's accepted key ids. */
const HELPER_KEYS_TTL_MS = 60_000;

/** What a store's pages call from their own origin: the configs and the upload. */
const DEVICE_ROUTES = ['/v1/hpke_config', '/v1/hpke_configs', '/v1/reports'];
const CORS = {
  'access-control-allow-origin': '*',
  'access-control-allow-methods': 'GET, POST',
  'access-control-allow-headers': 'content-type',
  'access-control-max-age': '86400',
};

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (!DEVICE_ROUTES.includes(url.pathname)) return route(request, env, url);
    if (request.method === 'OPTIONS') return new Response(null, { status: 204, headers: CORS });
    const response = await route(request, env, url);
    for (const [k, v] of Object.entries(CORS)) response.headers.set(k, v);
    return response;
  },
};

async function route(request, env, url) {
  try {
    const route = `${request.method} ${url.pathname}`;
    if (route === 'GET /v1/health') return Response.json({ ok: true, role: role(env) });
    if (route === 'GET /v1/hpke_config') return Response.json(keys(env)[0].config);
    if (route === 'GET /v1/hpke_configs') return Response.json(keys(env).map((k) => k.config));
    if (route === 'PUT /v1/tasks') {
      authorize(request, env.ADMIN_TOKEN);
      const text = await readText(request, MAX_TASK_BYTES);
      const id = (await loadPrio3()).taskId(text);
      const store = storeOf(url);
      return reply(await taskObject(env, store, id).provision(text, store));
    }
    const leader = role(env) === 'leader';
    if (leader && route === 'POST /v1/reports') {
      const text = await readText(request, MAX_UPLOAD_BYTES);
      const task = taskOfUpload(text);
      return reply(await taskObject(env, storeOf(url), task).upload(text));
    }
    if (leader && route === 'POST /v1/aggregate') {
      return reply(await taskObject(env, storeOf(url), taskOf(url)).aggregate());
    }
    if (leader && route === 'GET /v1/aggregates') {
      return reply(await taskObject(env, storeOf(url), taskOf(url)).collect({
        through: url.searchParams.get('through'),
        k: Number(url.searchParams.get('k') ?? 0),
      }));
    }
    if (!leader && route === 'POST /v1/aggregation_jobs') {
      authorize(request, env.PEER_TOKEN);
      const job = JSON.parse(await readText(request, MAX_JOB_BYTES));
      return reply(await taskObject(env, storeOf(url), taskOf(url)).help(job.reports));
    }
    if (!leader && route === 'POST /v1/aggregate_shares') {
      authorize(request, env.PEER_TOKEN);
      const ask = JSON.parse(await readText(request, 4096));
      return reply(await taskObject(env, storeOf(url), taskOf(url)).share(ask));
    }
    throw new Refused(404, 'NOT_FOUND', `no route ${route} on the ${role(env)}`);
  } catch (err) {
    if (err instanceof Refused) return Response.json({ error: { code: err.code, message: err.message } }, { status: err.status });
    if (err instanceof SyntaxError) return Response.json({ error: { code: 'INVALID_REPORT', message: 'the body is not JSON' } }, { status: 400 });
    return Response.json({ error: { code: 'INTERNAL', message: String(err?.message ?? err) } }, { status: 500 });
  }
}

/** A Durable Object's answer ({ status, body }; errors cross RPC as plain values). */
const reply = ({ status, body }) => Response.json(body, { status });

/** Runs `fn` and answers its value with 200, or its Refused with that code. */
async function answering(fn) {
  try {
    const out = await fn();
    return out?.status && out?.body ? out : { status: 200, body: out };
  } catch (err) {
    if (err instanceof Refused) return { status: err.status, body: { error: { code: err.code, message: err.message } } };
    return { status: 500, body: { error: { code: 'INTERNAL', message: String(err?.message ?? err) } } };
  }
}

const role = (env) => (env.ROLE === 'helper' ? 'helper' : 'leader');

/** The keypairs this aggregator accepts, the advertised one first. */
function keys(env) {
  try {
    const list = JSON.parse(env.HPKE_KEYS ?? '[]');
    if (Array.isArray(list) && list.length) return list;
  } catch {}
  throw new Refused(500, 'NOT_CONFIGURED', 'HPKE_KEYS holds no keypair');
}

function authorize(request, token) {
  if (!token || request.headers.get('authorization') !== `Bearer ${token}`) {
    throw new Refused(401, 'UNAUTHORIZED', 'a bearer token is required');
  }
}

function storeOf(url) {
  const store = url.searchParams.get('store') ?? 'default';
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(store)) throw new Refused(400, 'INVALID_STORE', 'store must be 1-64 letters, digits, _ or -');
  return store;
}

const TASK_ID = /^sha256:[0-9a-f]{64}$/;

function taskOf(url) {
  const task = url.searchParams.get('task') ?? '';
  if (!TASK_ID.test(task)) throw new Refused(400, 'UNKNOWN_TASK', 'task must be a task id ("sha256:" and 64 hex digits)');
  return task;
}

function taskOfUpload(text) {
  const task = JSON.parse(text)?.task;
  if (typeof task !== 'string' || !TASK_ID.test(task)) throw new Refused(400, 'INVALID_REPORT', 'upload.task must be a task id');
  return task;
}

async function readText(request, limit) {
  const tooLarge = () => new Refused(413, 'PAYLOAD_TOO_LARGE', `at most ${limit} bytes`);
  if (Number(request.headers.get('content-length') ?? 0) > limit) throw tooLarge();
  const bytes = await readBounded(request, limit);
  if (bytes === null) throw tooLarge();
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new Refused(400, 'INVALID_REPORT', 'the body is not UTF-8');
  }
}

const taskObject = (env, store, task) => env.TASKS.get(env.TASKS.idFromName(JSON.stringify([store, task])));

const dayNumber = (day) => Date.parse(`${day}T00:00:00Z`) / DAY_MS;
const today = () => Math.floor(Date.now() / DAY_MS);
const isoDay = (n) => new Date(n * DAY_MS).toISOString().slice(0, 10);
const bytes = (value) => (value == null ? undefined : new Uint8Array(value));
const b64url = (u8) => btoa(String.fromCharCode(...u8)).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
const unb64url = (text) => Uint8Array.from(atob(text.replaceAll('-', '+').replaceAll('_', '/')), (c) => c.charCodeAt(0));

/** One task of one store at one aggregator: its reports, batches and counts. */
export class Prio3Task extends DurableObject {
  #prio3;
  #aggregator;
  #job = null;
  /** The helper's accepted HPKE config ids, and when they were fetched. */
  #helperKeys = { ids: null, at: 0 };

  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec('CREATE TABLE IF NOT EXISTS task (id TEXT PRIMARY KEY, json TEXT NOT NULL, store TEXT NOT NULL)');
    // Leader: `opened` holds a pending report's public share, own input share
    // and the helper's sealed share, until its job is done. Helper: `answer`
    // is what it told the leader, given again to a retried job.
    this.sql.exec(`CREATE TABLE IF NOT EXISTS reports (id TEXT PRIMARY KEY, day TEXT NOT NULL, model TEXT NOT NULL,
      state TEXT NOT NULL, opened TEXT, answer TEXT)`);
    this.sql.exec('CREATE INDEX IF NOT EXISTS reports_by_state ON reports (state)');
    this.sql.exec('CREATE INDEX IF NOT EXISTS reports_by_day ON reports (day)');
    this.sql.exec(`CREATE TABLE IF NOT EXISTS batches (day TEXT, model TEXT, reports INTEGER NOT NULL, checksum TEXT NOT NULL,
      share BLOB, noised BLOB, released TEXT, PRIMARY KEY (day, model))`);
    this.sql.exec('CREATE TABLE IF NOT EXISTS rejected (reason TEXT PRIMARY KEY, n INTEGER NOT NULL)');
  }

  async #ready() {
    if (this.#aggregator) return this.#aggregator;
    const row = this.sql.exec('SELECT json FROM task').toArray()[0];
    if (!row) throw new Refused(404, 'UNKNOWN_TASK', 'no such task at this aggregator');
    this.#prio3 = await loadPrio3();
    if (!/^[0-9a-f]{64}$/.test(this.env.VERIFY_KEY ?? '')) throw new Refused(500, 'NOT_CONFIGURED', 'VERIFY_KEY is 32 bytes of hex');
    this.#aggregator = new this.#prio3.Prio3Aggregator(row.json, role(this.env), this.env.VERIFY_KEY, JSON.stringify(keys(this.env)));
    return this.#aggregator;
  }

  provision(json, store) {
    return answering(() => this.#provision(json, store));
  }

  #provision(json, store) {
    const held = this.sql.exec('SELECT id FROM task').toArray()[0];
    if (!held) this.sql.exec('INSERT INTO task (id, json, store) VALUES (?, ?, ?)', 'task', json, store);
    return { provisioned: !held };
  }

  #reject(reason, n = 1) {
    this.sql.exec('INSERT INTO rejected (reason, n) VALUES (?, ?) ON CONFLICT (reason) DO UPDATE SET n = n + excluded.n', reason, n);
  }

  /** Report ids past KEPT_DAYS forgotten: no report of their day is taken any more. */
  #forgetOldReports() {
    this.sql.exec("DELETE FROM reports WHERE day < ? AND state != 'pending'", isoDay(today() - KEPT_DAYS));
  }

  #collected(day, model) {
    return this.sql.exec('SELECT 1 FROM batches WHERE day = ? AND model = ? AND noised IS NOT NULL', day, model).toArray().length > 0;
  }

  /** The leader on one upload: checked, its share opened, kept until its job runs. */
  upload(text) {
    return answering(() => this.#upload(text));
  }

  async #upload(text) {
    const aggregator = await this.#ready();
    let opened;
    try {
      opened = JSON.parse(aggregator.open(text));
    } catch (e) {
      const code = e?.code ?? 'INVALID_REPORT';
      this.#reject(code === 'OUTDATED_CONFIG' ? 'outdatedConfig' : code === 'UNDECRYPTABLE' ? 'undecryptable' : 'malformed');
      return { status: 400, body: { error: { code, message: e?.message ?? String(e) } } };
    }
    const day = dayNumber(opened.day);
    // One day of slack either way for clocks and time zones at the edges.
    if (day > today() + 1 || day < today() - RETENTION_DAYS) {
      this.#reject('timeBucket');
      return { status: 422, body: { error: { code: 'TIME_BUCKET', message: `report day ${opened.day} is outside the ${RETENTION_DAYS} days kept` } } };
    }
    if (this.sql.exec('SELECT 1 FROM reports WHERE id = ?', opened.id).toArray().length) {
      this.#reject('replayed');
      return { status: 200, body: { id: opened.id, status: 'duplicate' } };
    }
    if ((await this.#helperHolds(opened.helper.configId)) === false) {
      this.#reject('outdatedConfig');
      return { status: 400, body: { error: { code: 'OUTDATED_CONFIG', message: 'the helper share is sealed to a config the helper no longer holds' } } };
    }
    if (this.#collected(opened.day, opened.model)) {
      this.#reject('batchCollected');
      return { status: 409, body: { error: { code: 'BATCH_COLLECTED', message: `the batch of ${opened.day} was collected` } } };
    }
    const { id, public: pub, share, helper } = opened;
    this.sql.exec("INSERT INTO reports (id, day, model, state, opened) VALUES (?, ?, ?, 'pending', ?)",
      id, opened.day, opened.model, JSON.stringify({ public: pub, share, helper }));
    const pending = this.sql.exec("SELECT count(*) AS n FROM reports WHERE state = 'pending'").one().n;
    if (pending >= JOB_SIZE) await this.#aggregate().catch(() => {}); // the helper may be down: the alarm retries
    await this.#aggregateLater();
    return { status: 202, body: { id, status: 'accepted' } };
  }

  /**
   * Sets the task's alarm while reports are pending, unless one is due
   * sooner (in the alarm itself, `again`: the running one may still read as
   * set).
   */
  async #aggregateLater(again = false) {
    const pending = this.sql.exec("SELECT 1 FROM reports WHERE state = 'pending' LIMIT 1").toArray().length;
    if (!pending) return;
    const at = Date.now() + 1000 * (Number(this.env.AGGREGATE_AFTER_S) || AGGREGATE_AFTER_S);
    const set = again ? null : await this.ctx.storage.getAlarm();
    if (set === null || set > at) await this.ctx.storage.setAlarm(at);
  }

  /**
   * The leader's alarm: pending reports verified without waiting for a full
   * job or a collection, so a day's reports are checked as they come and a
   * helper outage is retried on its own (no Cron Trigger to set up).
   */
  async alarm() {
    try {
      await this.#aggregate();
    } catch {
      // The helper is down or the task is gone: the reports stay pending.
    }
    await this.#aggregateLater(true);
  }

  /**
   * Whether the helper still holds config `id` (its /v1/hpke_configs, kept a
   * minute and fetched again on a miss), so that a share it could not open
   * is refused at upload, when the device can still reseal it; null when
   * the helper does not answer (the upload is kept, as any other).
   */
  async #helperHolds(id) {
    const fresh = () => Date.now() - this.#helperKeys.at < HELPER_KEYS_TTL_MS;
    for (let attempt = 0; attempt < 2; attempt++) {
      if (!this.#helperKeys.ids || !fresh() || attempt === 1) {
        try {
          const res = await fetch(new URL('/v1/hpke_configs', this.env.HELPER_URL));
          if (!res.ok) return null;
          this.#helperKeys = { ids: new Set((await res.json()).map((c) => c.id)), at: Date.now() };
        } catch {
          return null;
        }
      }
      if (this.#helperKeys.ids.has(id)) return true;
    }
    return false;
  }

  /** The leader: every pending report through an aggregation job with the helper. */
  aggregate() {
    return answering(() => this.#aggregate());
  }

  async #aggregate() {
    await this.#ready();
    if (this.#job) return this.#job;
    this.#job = (async () => {
      const done = { aggregated: 0, rejected: 0 };
      for (;;) {
        const rows = this.sql.exec("SELECT id, day, model, opened FROM reports WHERE state = 'pending' LIMIT ?", JOB_SIZE).toArray();
        if (!rows.length) return done;
        const r = await this.#runJob(rows);
        done.aggregated += r.aggregated;
        done.rejected += r.rejected;
      }
    })();
    try {
      return await this.#job;
    } finally {
      this.#job = null;
    }
  }

  async #runJob(rows) {
    const aggregator = this.#aggregator;
    const verdicts = new Map(); // id → rejection reason, or null: counted
    const requests = [];
    for (const row of rows) {
      const o = JSON.parse(row.opened);
      const started = JSON.parse(aggregator.start(row.id, o.public, o.share));
      if (started.rejected) verdicts.set(row.id, started.rejected);
      else if (this.#collected(row.day, row.model)) verdicts.set(row.id, 'batchCollected');
      else requests.push({ id: row.id, day: row.day, model: row.model, public: o.public, helper: o.helper, verifier: started.verifier });
    }
    let answers = [];
    if (requests.length) {
      try {
        answers = await this.#toHelper('aggregation_jobs', { reports: requests });
      } catch (e) {
        for (const q of requests) aggregator.forget(q.id);
        throw e;
      }
    }
    for (const a of answers.answers ?? []) {
      if (!requests.some((q) => q.id === a.id)) continue;
      verdicts.set(a.id, a.rejected ?? aggregator.finish(a.id, a.message) ?? null);
    }
    const byId = new Map(rows.map((r) => [r.id, r]));
    const result = { aggregated: 0, rejected: 0 };
    this.ctx.storage.transactionSync(() => {
      this.#forgetOldReports();
      const batches = new Map();
      for (const [id, reason] of verdicts) {
        const still = this.sql.exec("SELECT 1 FROM reports WHERE id = ? AND state = 'pending'", id).toArray().length;
        if (!still) {
          aggregator.forget(id);
          continue;
        }
        if (reason) {
          this.sql.exec("UPDATE reports SET state = 'rejected', opened = NULL, answer = ? WHERE id = ?", reason, id);
          this.#reject(reason);
          result.rejected += 1;
        } else {
          const { day, model } = byId.get(id);
          const key = JSON.stringify([day, model]);
          if (!batches.has(key)) batches.set(key, { day, model, ids: [] });
          batches.get(key).ids.push(id);
          this.sql.exec("UPDATE reports SET state = 'aggregated', opened = NULL WHERE id = ?", id);
          result.aggregated += 1;
        }
      }
      for (const b of batches.values()) this.#addToBatch(b.day, b.model, b.ids);
    });
    // Answers the helper did not give stay pending for the next job.
    for (const q of requests) if (!verdicts.has(q.id)) aggregator.forget(q.id);
    return result;
  }

  /** Adds the output shares of `ids` to a batch's stored share (in the caller's transaction). */
  #addToBatch(day, model, ids) {
    const row = this.sql.exec('SELECT share, checksum FROM batches WHERE day = ? AND model = ?', day, model).toArray()[0];
    const share = this.#aggregator.merge(bytes(row?.share), JSON.stringify(ids));
    const checksum = this.#prio3.batchChecksum(row?.checksum ?? '', JSON.stringify(ids));
    this.sql.exec(`INSERT INTO batches (day, model, reports, checksum, share) VALUES (?, ?, ?, ?, ?)
      ON CONFLICT (day, model) DO UPDATE SET reports = reports + excluded.reports, checksum = excluded.checksum, share = excluded.share`,
    day, model, ids.length, checksum, share.buffer);
  }

  async #toHelper(path, body) {
    const url = new URL(`/v1/${path}`, this.env.HELPER_URL);
    url.searchParams.set('store', this.sql.exec('SELECT store FROM task').one().store);
    url.searchParams.set('task', this.#aggregator.taskId());
    let res;
    try {
      res = await fetch(url, {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.env.PEER_TOKEN}` },
      });
    } catch (e) {
      throw new Refused(503, 'HELPER_UNAVAILABLE', `the helper did not answer: ${e?.message ?? e}`);
    }
    const json = await res.json().catch(() => null);
    if (!res.ok) {
      const status = res.status >= 500 ? 503 : 502;
      throw new Refused(status, json?.error?.code === 'BATCH_MISMATCH' ? 'BATCH_MISMATCH' : 'HELPER_UNAVAILABLE',
        `the helper answered ${res.status}: ${json?.error?.message ?? ''}`);
    }
    return json;
  }

  /** The helper on one aggregation job: each report verified with the leader, once. */
  help(requests) {
    return answering(() => this.#help(requests));
  }

  async #help(requests) {
    const aggregator = await this.#ready();
    if (!Array.isArray(requests) || requests.length > 10 * JOB_SIZE) throw new Refused(400, 'INVALID_JOB', 'reports must be an array');
    const answers = [];
    const fresh = [];
    for (const q of requests) {
      const id = typeof q?.id === 'string' ? q.id : '';
      const seen = this.sql.exec('SELECT answer FROM reports WHERE id = ?', id).toArray()[0];
      if (seen) {
        answers.push(JSON.parse(seen.answer));
        continue;
      }
      let answer;
      if (!(dayNumber(String(q?.day)) >= today() - KEPT_DAYS)) answer = { id, rejected: 'timeBucket' };
      else if (this.#collected(String(q?.day), String(q?.model))) answer = { id, rejected: 'batchCollected' };
      else answer = JSON.parse(aggregator.help(JSON.stringify(q)));
      answers.push(answer);
      fresh.push({ q, answer });
    }
    this.ctx.storage.transactionSync(() => {
      this.#forgetOldReports();
      const batches = new Map();
      for (const { q, answer } of fresh) {
        if (!/^[0-9a-f]{32}$/.test(answer.id) || this.sql.exec('SELECT 1 FROM reports WHERE id = ?', answer.id).toArray().length) continue;
        this.sql.exec('INSERT INTO reports (id, day, model, state, answer) VALUES (?, ?, ?, ?, ?)',
          answer.id, String(q.day), String(q.model), answer.rejected ? 'rejected' : 'aggregated', JSON.stringify(answer));
        if (answer.rejected) {
          this.#reject(answer.rejected);
          continue;
        }
        const key = JSON.stringify([q.day, q.model]);
        if (!batches.has(key)) batches.set(key, { day: q.day, model: q.model, ids: [] });
        batches.get(key).ids.push(answer.id);
      }
      for (const b of batches.values()) this.#addToBatch(b.day, b.model, b.ids);
    });
    return { answers };
  }

  /** The helper: a batch's share with its noise, once the leader's count and checksum agree. */
  share(ask) {
    return answering(() => this.#share(ask ?? {}));
  }

  async #share({ day, model, reports, checksum }) {
    await this.#ready();
    const row = this.sql.exec('SELECT * FROM batches WHERE day = ? AND model = ?', String(day), String(model)).toArray()[0];
    if (!row || row.reports !== reports || row.checksum !== checksum) {
      return { status: 409, body: { error: { code: 'BATCH_MISMATCH', message: `the helper holds ${row?.reports ?? 0} reports of ${day}` } } };
    }
    const noised = this.#noisedOnce(row);
    return { status: 200, body: { share: b64url(noised) } };
  }

  /** A batch's noised share, drawn on first collection and kept. */
  #noisedOnce(row) {
    if (row.noised) return new Uint8Array(row.noised);
    const noised = this.#aggregator.noised(bytes(row.share));
    this.sql.exec('UPDATE batches SET noised = ? WHERE day = ? AND model = ?', noised.buffer, row.day, row.model);
    return noised;
  }

  /** The leader's collection: pending jobs run, then each closed batch of ≥ k reports released. */
  collect(ask) {
    return answering(() => this.#collect(ask));
  }

  async #collect({ through, k }) {
    await this.#ready();
    const floor = Number(this.env.K ?? 50);
    k = Number.isInteger(k) ? Math.max(floor, k) : floor;
    const last = through === null ? isoDay(today() - 1) : through;
    if (!/^\d{4}-\d{2}-\d{2}$/.test(last)) throw new Refused(400, 'INVALID_REQUEST', 'through must be a YYYY-MM-DD day');
    await this.#aggregate(); // HELPER_UNAVAILABLE while the helper is down: nothing is collected
    const task = JSON.parse(this.sql.exec('SELECT json FROM task').one().json);
    for (const row of this.sql.exec('SELECT * FROM batches WHERE released IS NULL AND day <= ? AND reports >= ?', last, k).toArray()) {
      const helper = await this.#toHelper('aggregate_shares', { day: row.day, model: row.model, reports: row.reports, checksum: row.checksum });
      const own = this.#noisedOnce(row);
      const released = this.#prio3.collectBatch(JSON.stringify(task), own, unb64url(helper.share), row.day, row.model, row.reports);
      this.sql.exec('UPDATE batches SET released = ? WHERE day = ? AND model = ?', released, row.day, row.model);
    }
    const mechanism = `prio3/${task.epsilon}`;
    const out = { policy: task.policy, task: this.#aggregator.taskId(), k, mechanism, cells: [], visits: [], drift: [] };
    for (const { released } of this.sql.exec('SELECT released FROM batches WHERE released IS NOT NULL ORDER BY day, model').toArray()) {
      const r = JSON.parse(released);
      for (const key of ['cells', 'visits', 'drift']) out[key].push(...r[key].map((row) => ({ ...row, mechanism })));
    }
    out.withheld = { batches: this.sql.exec('SELECT count(*) AS n FROM batches WHERE released IS NULL').one().n };
    out.pending = this.sql.exec("SELECT count(*) AS n FROM reports WHERE state = 'pending'").one().n;
    out.rejected = Object.fromEntries(this.sql.exec('SELECT reason, n FROM rejected ORDER BY reason').toArray().map((r) => [r.reason, r.n]));
    return { status: 200, body: out };
  }
}
