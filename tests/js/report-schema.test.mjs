// One definition of the device report (schema/report.schema.json): the
// engine writes what it describes, and the collector's checks
// (edge/cloudflare/src/report.mjs) read the same metric lists, mechanism
// names and retention from it, refusing what it refuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import Ajv2020 from 'ajv/dist/2020.js';
import { sampleReports } from './helpers.mjs';
import {
  CELL_METRICS, DISTRIBUTED, LOCAL, RETENTION_DAYS, VISIT_METRICS, validate as collectorAccepts,
} from '../../edge/cloudflare/src/report.mjs';

const root = new URL('../../', import.meta.url);
const schema = JSON.parse(await readFile(new URL('schema/report.schema.json', root), 'utf8'));
const ajv = new Ajv2020({ allErrors: true });
ajv.addKeyword('x-retentionDays'); // an annotation: how long the collector keeps a day
const follows = ajv.compile(schema);
const bundle = new Uint8Array(await readFile(new URL('models/online-retail/online-retail.edgerec', root)));
const T0 = Date.UTC(2026, 11, 1, 12);

const accepted = (report) => {
  try {
    collectorAccepts(report, T0);
    return true;
  } catch (e) {
    assert.equal(e.status, 400, e.message);
    return false;
  }
};

test("the collector's constants are the schema's", () => {
  assert.deepEqual(CELL_METRICS, schema.$defs.cellMetrics.const);
  assert.deepEqual(VISIT_METRICS, schema.$defs.visitMetrics.const);
  assert.equal(RETENTION_DAYS, schema['x-retentionDays']);
  assert.deepEqual([LOCAL, DISTRIBUTED], schema.properties.mechanism.properties.name.enum);
});

test('the engine writes reports the schema describes and the collector accepts', async () => {
  for (const report of await sampleReports(bundle, T0)) {
    assert.ok(follows(report), JSON.stringify(follows.errors));
    assert.ok(accepted(report));
    // A version-1 report (no model, no drift) from an older package is still collected.
    const { model, drift, ...old } = structuredClone(report);
    delete old.mechanism.variance.drift;
    assert.ok(model && drift && accepted({ ...old, version: 1 }));
    assert.ok(report.cells.length > 0 && report.visits.length >= 0);
  }
});

test('what the schema refuses, the collector refuses', async () => {
  const [report] = await sampleReports(bundle, T0);
  const variants = [
    (r) => { r.cells[0].views = 1; },
    (r) => { delete r.cells[0].clicks; },
    (r) => { r.mechanism.variance.visits.bounces = 1; },
    (r) => { delete r.mechanism.variance.cells.revenue; },
    (r) => { r.mechanism.name = 'gaussian'; },
    (r) => { r.version = 3; },
    (r) => { delete r.model; },
    (r) => { r.model = 'v42'; },
    (r) => { r.drift.topScore.pop(); },
    (r) => { delete r.drift.unknownViews; },
    (r) => { delete r.mechanism.variance.drift; },
    (r) => { r.day = '1 Dec 2026'; },
    (r) => { r.extra = true; },
  ];
  for (const change of variants) {
    const r = structuredClone(report);
    change(r);
    assert.equal(follows(r), false, `schema accepts ${change}`);
    assert.equal(accepted(r), false, `collector accepts ${change}`);
  }
});
