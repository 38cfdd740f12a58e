// Checking one device report (edgerec takeReport()) before the collector
// adds it: the exact fields, names, bounded counts, a day within retention,
// one noise model. Apart from the collector so that it can be fuzzed in Node
// (tests/js/fuzz.test.mjs) without the Workers runtime.

export const MAX_BODY_BYTES = 256 * 1024;
export const MAX_CELLS = 1000;
export const MAX_VISITS = 64;
export const MAX_NAME = 128;
export const MAX_VALUE = 1_000_000;
export const RETENTION_DAYS = 30;
export const DAY_MS = 86_400_000;
export const CELL_METRICS = ['impressions', 'clicks', 'addToCarts', 'purchases', 'revenue'];
export const VISIT_METRICS = ['exposed', 'converted', 'orders', 'revenue'];
/** The drift row's values: views, unknown views, then one per top-score bin. */
export const DRIFT_METRICS = ['views', 'unknownViews', 'topScore'];
export const TOP_SCORE_BINS = 5;
/** Reports of version 1 (before bundles had version ids) are keyed by this model. */
export const NO_MODEL = '';
export const NO_EXPERIMENT = '';
export const LOCAL = 'discrete-laplace';
export const DISTRIBUTED = 'distributed-discrete-laplace';
export const MAX_COHORT = 10_000_000;

export class Refused extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export const refuse = (message) => {
  throw new Refused(400, 'INVALID_REPORT', message);
};

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

function exactKeys(value, keys, path) {
  if (!isObject(value)) refuse(`${path} must be an object`);
  for (const k of Object.keys(value)) if (!keys.includes(k)) refuse(`${path}.${k} is not a report field`);
  for (const k of keys) if (!(k in value)) refuse(`${path}.${k} is missing`);
}

export function name(value, path, nullable = false) {
  if (nullable && value === null) return NO_EXPERIMENT;
  if (typeof value !== 'string' || value.length < 1 || value.length > MAX_NAME) {
    refuse(`${path} must be a string of 1-${MAX_NAME} characters${nullable ? ' or null' : ''}`);
  }
  return value;
}

function counts(value, metrics, path) {
  return metrics.map((m) => {
    const v = value[m];
    if (!Number.isInteger(v) || Math.abs(v) > MAX_VALUE) refuse(`${path}.${m} must be an integer within ±${MAX_VALUE}`);
    return v;
  });
}

function variances(value, metrics, path) {
  exactKeys(value, metrics, path);
  return metrics.map((m) => {
    const v = value[m];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > 1e12) refuse(`${path}.${m} must be a finite variance ≥ 0`);
    return v;
  });
}

const dayNumber = (day) => {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return NaN;
  const t = Date.parse(`${day}T00:00:00Z`);
  return Number.isFinite(t) && new Date(t).toISOString().slice(0, 10) === day ? t / DAY_MS : NaN;
};

/** A checked report, or a Refused naming the first bad field. */
export function validate(report, nowMs) {
  if (report?.version !== 1 && report?.version !== 2) refuse('report.version must be 1 or 2');
  const v2 = report.version === 2;
  exactKeys(report, ['version', 'id', 'day', 'policy', ...(v2 ? ['model', 'drift'] : []), 'mechanism', 'cells', 'visits'], 'report');
  if (v2 && (typeof report.model !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(report.model))) refuse('report.model must be "sha256:" and 64 lowercase hex digits');
  if (typeof report.id !== 'string' || !/^[0-9a-f]{32}$/.test(report.id)) refuse('report.id must be 32 lowercase hex digits');
  const day = dayNumber(report.day);
  if (Number.isNaN(day)) refuse('report.day must be a YYYY-MM-DD date');
  const today = Math.floor(nowMs / DAY_MS);
  // One day of slack either way for clocks and time zones at the edges.
  if (day > today + 1) throw new Refused(422, 'TIME_BUCKET', `report.day ${report.day} is in the future`);
  if (day < today - RETENTION_DAYS) throw new Refused(422, 'TIME_BUCKET', `report.day ${report.day} is older than ${RETENTION_DAYS} days`);
  const policy = name(report.policy, 'report.policy');
  const m = report.mechanism;
  if (m?.name !== LOCAL && m?.name !== DISTRIBUTED) refuse(`report.mechanism.name must be "${LOCAL}" or "${DISTRIBUTED}"`);
  exactKeys(m, ['name', 'epsilon', ...(m.name === DISTRIBUTED ? ['cohort'] : []), 'variance'], 'report.mechanism');
  if (typeof m.epsilon !== 'number' || !(m.epsilon > 0 && m.epsilon <= 10)) refuse('report.mechanism.epsilon must be in (0, 10]');
  const distributed = m.name === DISTRIBUTED;
  const cohortOf = (value, path) => {
    if (!distributed) return 1;
    if (!Number.isInteger(value) || value < 2 || value > MAX_COHORT) refuse(`${path} must be an integer in 2..${MAX_COHORT}`);
    return value;
  };
  cohortOf(m.cohort, 'report.mechanism.cohort');
  const rowKeys = distributed ? ['cohort'] : [];
  // Local reports of any ε add up (each is private alone); shares of
  // distributed noise only with shares of the same ε (and cohort: the row key).
  const noise = distributed ? `${DISTRIBUTED}/${m.epsilon}` : LOCAL;
  exactKeys(m.variance, ['cells', 'visits', ...(v2 ? ['drift'] : [])], 'report.mechanism.variance');
  const cellVar = variances(m.variance.cells, CELL_METRICS, 'report.mechanism.variance.cells');
  const visitVar = variances(m.variance.visits, VISIT_METRICS, 'report.mechanism.variance.visits');
  let drift = null;
  if (v2) {
    const dv = m.variance.drift;
    exactKeys(dv, DRIFT_METRICS, 'report.mechanism.variance.drift');
    if (!Array.isArray(dv.topScore) || dv.topScore.length !== 1) refuse('report.mechanism.variance.drift.topScore must hold one variance');
    const [views, unknownViews, topScore] = variances({ ...dv, topScore: dv.topScore[0] }, DRIFT_METRICS, 'report.mechanism.variance.drift');
    const d = report.drift;
    exactKeys(d, [...rowKeys, ...DRIFT_METRICS], 'report.drift');
    if (!Array.isArray(d.topScore) || d.topScore.length !== TOP_SCORE_BINS) refuse(`report.drift.topScore must hold ${TOP_SCORE_BINS} counts`);
    const bins = Object.fromEntries(d.topScore.map((x, i) => [`t${i}`, x]));
    const binNames = Object.keys(bins);
    drift = {
      cohort: cohortOf(d.cohort, 'report.drift.cohort'),
      values: [...counts(d, ['views', 'unknownViews'], 'report.drift'), ...counts(bins, binNames, 'report.drift.topScore')],
      variances: [views, unknownViews, ...binNames.map(() => topScore)],
    };
  }
  if (!Array.isArray(report.cells) || report.cells.length > MAX_CELLS) refuse(`report.cells must be an array of at most ${MAX_CELLS}`);
  if (!Array.isArray(report.visits) || report.visits.length > MAX_VISITS) refuse(`report.visits must be an array of at most ${MAX_VISITS}`);
  const seen = new Set();
  const once = (key, path) => {
    if (seen.has(key)) refuse(`${path} repeats a cell`);
    seen.add(key);
  };
  const cells = report.cells.map((c, i) => {
    const path = `report.cells[${i}]`;
    exactKeys(c, ['experiment', 'arm', 'slot', 'offer', ...rowKeys, ...CELL_METRICS], path);
    const experiment = name(c.experiment, `${path}.experiment`, true);
    const arm = name(c.arm, `${path}.arm`, true);
    if ((experiment === NO_EXPERIMENT) !== (arm === NO_EXPERIMENT)) refuse(`${path}: experiment and arm are both null or both set`);
    const cell = {
      experiment, arm, slot: name(c.slot, `${path}.slot`), offer: name(c.offer, `${path}.offer`),
      cohort: cohortOf(c.cohort, `${path}.cohort`), values: counts(c, CELL_METRICS, path),
    };
    once(JSON.stringify(['c', experiment, arm, cell.slot, cell.offer]), path);
    return cell;
  });
  const visits = report.visits.map((v, i) => {
    const path = `report.visits[${i}]`;
    exactKeys(v, ['experiment', 'arm', ...rowKeys, ...VISIT_METRICS], path);
    const visit = {
      experiment: name(v.experiment, `${path}.experiment`), arm: name(v.arm, `${path}.arm`),
      cohort: cohortOf(v.cohort, `${path}.cohort`), values: counts(v, VISIT_METRICS, path),
    };
    once(JSON.stringify(['v', visit.experiment]), path);
    return visit;
  });
  return { id: report.id, day: report.day, policy, model: v2 ? report.model : NO_MODEL, noise, cellVar, visitVar, cells, visits, drift };
}
