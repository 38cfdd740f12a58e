// The report collector (docs/design.md §8): a Cloudflare Worker in front of Durable
// Objects with SQLite storage.
//   POST /v1/reports?store=S     one device report (edgerec takeReport())
//   GET  /v1/aggregates?store=S&policy=P   sums backed by ≥ k reports
// A report is split by experiment; each part goes to the shard of
// (store, policy, experiment, noise, model), which de-duplicates by report id and
// adds it in one transaction. A retried report (same id) is counted once per
// shard, so a half-applied report is completed by the device's retry, never
// doubled. Sums of different noise models or cohorts are never mixed.
//
// Release: a row is released once k reports back it. Under distributed noise
// each value of a row carries 1/cohort of a discrete Laplace (the row states
// its cohort), so a released sum must add at least `cohort` reports, and so
// must every change to it: the released value moves only when `cohort` new
// reports have arrived since the last one.
// Successive releases then differ by disjoint groups that each carry a full
// noise draw, and nobody can difference one report out of two releases.
import { DurableObject } from 'cloudflare:workers';
// The package's own bounded reader (the module imports nothing, runs in workerd as is).
import { readBounded } from '../../../js/recommender.mjs';
import {
  CELL_METRICS, DAY_MS, MAX_BODY_BYTES, NO_EXPERIMENT, NO_MODEL, RETENTION_DAYS, Refused, TOP_SCORE_BINS, VISIT_METRICS, name, refuse, validate,
} from './report.mjs';

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    try {
      if (url.pathname === '/v1/reports') {
        if (request.method !== 'POST') throw new Refused(405, 'METHOD_NOT_ALLOWED', 'POST a report');
        return await receive(request, env, url);
      }
      if (url.pathname === '/v1/aggregates') {
        if (request.method !== 'GET') throw new Refused(405, 'METHOD_NOT_ALLOWED', 'GET the aggregates');
        return await release(env, url);
      }
      if (url.pathname === '/v1/health') return Response.json({ ok: true });
      throw new Refused(404, 'NOT_FOUND', `no route ${url.pathname}`);
    } catch (err) {
      if (err instanceof Refused) return Response.json({ error: { code: err.code, message: err.message } }, { status: err.status });
      return Response.json({ error: { code: 'INTERNAL', message: String(err?.message ?? err) } }, { status: 500 });
    }
  },
};

function storeOf(url) {
  const store = url.searchParams.get('store') ?? 'default';
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(store)) throw new Refused(400, 'INVALID_STORE', 'store must be 1-64 letters, digits, _ or -');
  return store;
}

/** The body as text, refused once it passes the limit (never buffered past it). */
async function readLimited(request) {
  const declared = Number(request.headers.get('content-length') ?? 0);
  const tooLarge = () => new Refused(413, 'PAYLOAD_TOO_LARGE', `a report is at most ${MAX_BODY_BYTES} bytes`);
  if (declared > MAX_BODY_BYTES) throw tooLarge();
  const bytes = await readBounded(request, MAX_BODY_BYTES);
  if (bytes === null) throw tooLarge();
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return refuse('the body is not UTF-8');
  }
}

// Version-1 reports (no model) keep the shard names they always had.
const shardName = (store, policy, experiment, noise, model = NO_MODEL) =>
  JSON.stringify(model === NO_MODEL ? [store, policy, experiment, noise] : [store, policy, experiment, noise, model]);

async function receive(request, env, url) {
  const store = storeOf(url);
  const text = await readLimited(request);
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    refuse('the body is not JSON');
  }
  const report = validate(parsed, Date.now());
  // One part per experiment (cells outside experiments form their own).
  const parts = new Map();
  const partOf = (experiment) => {
    if (!parts.has(experiment)) parts.set(experiment, { cells: [], visits: [] });
    return parts.get(experiment);
  };
  for (const c of report.cells) partOf(c.experiment).cells.push(c);
  for (const v of report.visits) partOf(v.experiment).visits.push(v);
  // The drift row rides with the cells outside experiments.
  if (parts.size === 0 || report.drift) partOf(NO_EXPERIMENT);
  const limit = Number(env.MAX_REPORTS_PER_DAY ?? 1_000_000);
  const results = await Promise.all(
    [...parts].map(async ([experiment, part]) => {
      const shard = env.SHARDS.get(env.SHARDS.idFromName(shardName(store, report.policy, experiment, report.noise, report.model)));
      const drift = experiment === NO_EXPERIMENT ? report.drift : null;
      const result = await shard.add({ ...report, cells: part.cells, visits: part.visits, drift, limit });
      if (result.first) {
        const index = env.INDEX.get(env.INDEX.idFromName(JSON.stringify([store, report.policy])));
        await index.register(experiment, report.noise, report.model);
      }
      return result;
    }),
  );
  if (results.some((r) => r.full)) throw new Refused(429, 'QUOTA', `this store takes at most ${limit} reports a day per experiment`);
  const added = results.some((r) => r.added);
  return Response.json({ id: report.id, status: added ? 'accepted' : 'duplicate' }, { status: added ? 202 : 200 });
}

async function release(env, url) {
  const store = storeOf(url);
  const policy = name(url.searchParams.get('policy') ?? '', 'policy');
  const floor = Number(env.K ?? 50);
  const asked = Number(url.searchParams.get('k') ?? floor);
  // A caller may ask for more backing, never for less than the store's k.
  const k = Number.isInteger(asked) ? Math.max(floor, asked) : floor;
  const index = env.INDEX.get(env.INDEX.idFromName(JSON.stringify([store, policy])));
  const shards = await index.list();
  const parts = await Promise.all(
    shards.map((s) => env.SHARDS.get(env.SHARDS.idFromName(shardName(store, policy, s.experiment, s.noise, s.model))).release(k)),
  );
  const out = { store, policy, k, cells: [], visits: [], drift: [], withheld: { cells: 0, visits: 0, drift: 0 } };
  for (const [i, p] of parts.entries()) {
    // Which noise the sums carry ("discrete-laplace" or "distributed-discrete-laplace/ε"), and which model made them.
    for (const row of [...p.cells, ...p.visits, ...p.drift]) {
      row.mechanism = shards[i].noise;
      row.model = shards[i].model === NO_MODEL ? null : shards[i].model;
    }
    out.cells.push(...p.cells);
    out.visits.push(...p.visits);
    out.drift.push(...p.drift);
    for (const key of ['cells', 'visits', 'drift']) out.withheld[key] += p.withheld[key];
  }
  return Response.json(out);
}

const snake = (m) => m.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const CELL_COLS = CELL_METRICS.map(snake);
const VISIT_COLS = VISIT_METRICS.map((m) => `v_${snake(m)}`);
const TOP_COLS = Array.from({ length: TOP_SCORE_BINS }, (_, i) => `top_score_${i}`);
const DRIFT_COLS = ['views', 'unknown_views', ...TOP_COLS];

/** The sums of one (store, policy, experiment), in the object's SQLite. */
export class ReportShard extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    const metricCols = (cols) => cols.map((c) => `${c} INTEGER NOT NULL, var_${c} REAL NOT NULL`).join(', ');
    this.sql.exec(`CREATE TABLE IF NOT EXISTS reports (id TEXT PRIMARY KEY, day TEXT NOT NULL)`);
    this.sql.exec(`CREATE INDEX IF NOT EXISTS reports_by_day ON reports (day)`);
    // Reports a day, for the quota: counting the ids on every add was O(reports).
    this.sql.exec(`CREATE TABLE IF NOT EXISTS day_counts (day TEXT PRIMARY KEY, n INTEGER NOT NULL)`);
    if (!this.sql.exec('SELECT 1 FROM day_counts LIMIT 1').toArray().length) {
      this.sql.exec('INSERT INTO day_counts (day, n) SELECT day, count(*) FROM reports GROUP BY day');
    }
    // Live sums, and the released snapshot of each (same columns).
    for (const table of ['cells', 'released_cells']) {
      this.sql.exec(`CREATE TABLE IF NOT EXISTS ${table} (day TEXT, experiment TEXT, arm TEXT, slot TEXT, offer TEXT, cohort INTEGER,
        reports INTEGER NOT NULL, ${metricCols(CELL_COLS)}, PRIMARY KEY (day, experiment, arm, slot, offer, cohort))`);
    }
    for (const table of ['visits', 'released_visits']) {
      this.sql.exec(`CREATE TABLE IF NOT EXISTS ${table} (day TEXT, experiment TEXT, arm TEXT, cohort INTEGER,
        reports INTEGER NOT NULL, ${metricCols(VISIT_COLS)}, PRIMARY KEY (day, experiment, arm, cohort))`);
    }
    for (const table of ['drift', 'released_drift']) {
      this.sql.exec(`CREATE TABLE IF NOT EXISTS ${table} (day TEXT, cohort INTEGER,
        reports INTEGER NOT NULL, ${metricCols(DRIFT_COLS)}, PRIMARY KEY (day, cohort))`);
    }
  }

  /** Add one report's part unless its id was seen; all or nothing. */
  add(part) {
    return this.ctx.storage.transactionSync(() => {
      if (this.sql.exec('SELECT 1 FROM reports WHERE id = ?', part.id).toArray().length) return { added: false };
      const today = this.sql.exec('SELECT n FROM day_counts WHERE day = ?', part.day).toArray()[0]?.n ?? 0;
      if (today >= part.limit) return { added: false, full: true };
      const first = !this.sql.exec('SELECT 1 FROM reports LIMIT 1').toArray().length;
      const oldest = new Date(Date.now() - (RETENTION_DAYS + 2) * DAY_MS).toISOString().slice(0, 10);
      this.sql.exec('DELETE FROM reports WHERE day < ?', oldest);
      this.sql.exec('DELETE FROM day_counts WHERE day < ?', oldest);
      this.sql.exec('INSERT INTO reports (id, day) VALUES (?, ?)', part.id, part.day);
      this.sql.exec('INSERT INTO day_counts (day, n) VALUES (?, 1) ON CONFLICT (day) DO UPDATE SET n = n + 1', part.day);
      // A row's values carry 1/cohort of a full draw's variance.
      const upsert = (table, keys, cols, values, fullVars, cohort) => {
        const vars = fullVars.map((v) => v / cohort);
        const all = [...keys.map((k) => k[0]), 'reports', ...cols, ...cols.map((c) => `var_${c}`)];
        const sets = ['reports = reports + 1', ...cols.flatMap((c) => [`${c} = ${c} + excluded.${c}`, `var_${c} = var_${c} + excluded.var_${c}`])];
        this.sql.exec(
          `INSERT INTO ${table} (${all.join(', ')}) VALUES (${all.map(() => '?').join(', ')})
           ON CONFLICT (${keys.map((k) => k[0]).join(', ')}) DO UPDATE SET ${sets.join(', ')}`,
          ...keys.map((k) => k[1]), 1, ...values, ...vars,
        );
      };
      for (const c of part.cells) {
        const keys = [['day', part.day], ['experiment', c.experiment], ['arm', c.arm], ['slot', c.slot], ['offer', c.offer], ['cohort', c.cohort]];
        upsert('cells', keys, CELL_COLS, c.values, part.cellVar, c.cohort);
      }
      for (const v of part.visits) {
        const keys = [['day', part.day], ['experiment', v.experiment], ['arm', v.arm], ['cohort', v.cohort]];
        upsert('visits', keys, VISIT_COLS, v.values, part.visitVar, v.cohort);
      }
      if (part.drift) {
        const d = part.drift;
        upsert('drift', [['day', part.day], ['cohort', d.cohort]], DRIFT_COLS, d.values, d.variances, d.cohort);
      }
      return { added: true, first };
    });
  }

  /**
   * The released rows, each metric as {sum, variance}: a row's snapshot
   * moves to its live sums once k reports back it and its cohort of reports
   * have arrived since the snapshot was last taken (local noise, cohort 1:
   * whenever it changed).
   */
  release(k) {
    const rows = (table, keys, cols, metrics) => {
      const on = keys.map((key) => `l.${key} = r.${key}`).join(' AND ');
      this.ctx.storage.transactionSync(() =>
        this.sql.exec(
          `INSERT OR REPLACE INTO released_${table} SELECT l.* FROM ${table} l LEFT JOIN released_${table} r ON ${on}
           WHERE l.reports >= ? AND l.reports >= coalesce(r.reports, 0) + l.cohort`,
          k,
        ),
      );
      const released = this.sql.exec(`SELECT * FROM released_${table} WHERE reports >= ? ORDER BY ${keys.join(', ')}`, k).toArray();
      const withheld = this.sql.exec(`SELECT count(*) AS n FROM ${table}`).one().n - released.length;
      const out = released.map((r) => {
        const row = Object.fromEntries(keys.map((key) => [key, r[key]]));
        row.reports = r.reports;
        metrics.forEach((m, i) => (row[m] = { sum: r[cols[i]], variance: r[`var_${cols[i]}`] }));
        return row;
      });
      return { out, withheld };
    };
    const cells = rows('cells', ['day', 'experiment', 'arm', 'slot', 'offer', 'cohort'], CELL_COLS, CELL_METRICS);
    for (const c of cells.out) {
      if (c.experiment === NO_EXPERIMENT) c.experiment = c.arm = null;
    }
    const visits = rows('visits', ['day', 'experiment', 'arm', 'cohort'], VISIT_COLS, VISIT_METRICS);
    const drift = rows('drift', ['day', 'cohort'], DRIFT_COLS, ['views', 'unknownViews', ...TOP_COLS]);
    for (const d of drift.out) d.topScore = TOP_COLS.map((c) => { const v = d[c]; delete d[c]; return v; });
    return {
      cells: cells.out, visits: visits.out, drift: drift.out,
      withheld: { cells: cells.withheld, visits: visits.withheld, drift: drift.withheld },
    };
  }
}

/**
 * Which (experiment, noise, model) shards a (store, policy) has. Written once
 * per shard. `shards` is the table of collectors from before model versions
 * (its rows are model ''); new shards go to `model_shards`.
 */
export class PolicyIndex extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec('CREATE TABLE IF NOT EXISTS shards (experiment TEXT, noise TEXT, PRIMARY KEY (experiment, noise))');
    this.sql.exec(`CREATE TABLE IF NOT EXISTS model_shards (experiment TEXT, noise TEXT, model TEXT,
      PRIMARY KEY (experiment, noise, model))`);
  }

  register(experiment, noise, model) {
    if (model === NO_MODEL) this.sql.exec('INSERT OR IGNORE INTO shards (experiment, noise) VALUES (?, ?)', experiment, noise);
    else this.sql.exec('INSERT OR IGNORE INTO model_shards (experiment, noise, model) VALUES (?, ?, ?)', experiment, noise, model);
  }

  list() {
    return this.sql.exec(`SELECT experiment, noise, '' AS model FROM shards UNION ALL
      SELECT experiment, noise, model FROM model_shards ORDER BY experiment, noise, model`).toArray();
  }
}
