// Model releases on the device: Recommender.load({ release }) places the
// shopper by the release file (the same draw as `edgerec release`'s Rust
// side), loads and checks their side's bundle, reports it, and keeps the
// last good model when the file or the candidate is bad.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { copyFile, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Recommender } from 'edgerec';

const root = new URL('../../', import.meta.url).pathname;
const BUNDLE = join(root, 'models/online-retail/online-retail.edgerec');
const edgerec = (...args) => execFileSync('cargo', ['run', '--quiet', '--bin', 'edgerec', '--', ...args], { cwd: root, encoding: 'utf8' });

/** A memory localStorage. */
function memory() {
  const m = new Map();
  return { getItem: (k) => (m.has(k) ? m.get(k) : null), setItem: (k, v) => m.set(k, String(v)), removeItem: (k) => m.delete(k) };
}

const dir = await mkdtemp(join(tmpdir(), 'edgerec-release-'));
await copyFile(BUNDLE, join(dir, 'current.edgerec'));
// A real second bundle of the same catalog: the table stored as f16.
edgerec('repack', BUNDLE, '--table-format', 'f16', '--out', join(dir, 'candidate.edgerec'));
edgerec('release', '--current', join(dir, 'current.edgerec'), '--candidate', join(dir, 'candidate.edgerec'),
  '--experiment', 'model-w49', '--canary', '0.5', '--out', join(dir, 'release.json'));
const release = JSON.parse(await readFile(join(dir, 'release.json'), 'utf8'));
const sha = async (file) => `sha256:${createHash('sha256').update(await readFile(file)).digest('hex')}`;

async function variant(name, change) {
  const r = structuredClone(release);
  change(r);
  await writeFile(join(dir, name), JSON.stringify(r));
  return join(dir, name);
}

test('shoppers are placed by the release, load their side and say which', async () => {
  assert.equal(release.current.version, await sha(join(dir, 'current.edgerec')), 'the version is sha256 of the bytes');
  const sides = { current: 0, candidate: 0 };
  for (let i = 0; i < 12; i++) {
    const rec = await Recommender.load({ release: join(dir, 'release.json'), shopperKey: `shopper-${i}`, storage: memory() });
    const { version, release: placed } = rec.info;
    assert.equal(placed.experiment, 'model-w49');
    assert.equal(placed.loaded, placed.side);
    assert.equal(version, release[placed.side].version, 'the side\'s bundle is the one loaded');
    assert.equal(rec.releaseError, undefined);
    sides[placed.side] += 1;
    // Stable: the same shopper lands on the same side again.
    const again = await Recommender.load({ release: join(dir, 'release.json'), shopperKey: `shopper-${i}`, storage: null });
    assert.equal(again.info.release.side, placed.side);
    rec.free();
    again.free();
  }
  assert.ok(sides.current > 0 && sides.candidate > 0, JSON.stringify(sides));
});

test('the shopper key kept in storage places a returning shopper, and reports carry the side and the model', async () => {
  const storage = memory();
  const first = await Recommender.load({ release: join(dir, 'release.json'), storage, consent: true, clock: () => Date.UTC(2026, 11, 2, 12) });
  const side = first.info.release.side;
  first.track('view', first.catalog()[0].item);
  const report = JSON.parse(first.takeReport());
  assert.equal(report.model, first.info.version);
  assert.deepEqual(report.visits.find((v) => v.experiment === 'model-w49')?.arm, side);
  first.free();
  const back = await Recommender.load({ release: join(dir, 'release.json'), storage });
  assert.equal(back.info.release.side, side);
  back.free();
});

test('over HTTP, bundle URLs are read relative to the release file', async () => {
  const server = createServer(async (req, res) => {
    try {
      res.end(await readFile(join(dir, decodeURIComponent(new URL(req.url, 'http://x').pathname))));
    } catch {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  try {
    const rec = await Recommender.load({ release: `http://127.0.0.1:${server.address().port}/release.json`, shopperKey: 'web', storage: null });
    assert.equal(rec.info.version, release[rec.info.release.side].version);
    rec.free();
  } finally {
    server.close();
  }
});

test('a bad candidate gives way to the current bundle; a bad release file to the last good one', async () => {
  // A shopper on the candidate side at a 100 % canary.
  const everyone = (r) => { r.canaryShare = 1; r.steps = [1]; };
  const missing = await variant('missing.json', (r) => { everyone(r); r.candidate.url = 'nowhere.edgerec'; });
  const rec = await Recommender.load({ release: missing, shopperKey: 'k', storage: null });
  assert.equal(rec.info.release.placed, 'candidate');
  assert.deepEqual([rec.info.release.side, rec.info.release.loaded], ['current', 'current'], 'they count as the side they see');
  assert.equal(rec.info.version, release.current.version);
  assert.equal(rec.releaseError.code, 'BUNDLE_FETCH');
  assert.ok(rec.recommend({ k: 3 }).items.length > 0, 'a working model, never an empty slot');
  rec.free();
  // The candidate URL serves another file than the release names.
  const swapped = await variant('swapped.json', (r) => { everyone(r); r.candidate.url = 'current.edgerec'; });
  const other = await Recommender.load({ release: swapped, shopperKey: 'k', storage: null });
  assert.equal(other.releaseError.code, 'RELEASE_MISMATCH');
  assert.equal(other.info.release.loaded, 'current');
  other.free();

  const storage = memory();
  const good = await Recommender.load({ release: join(dir, 'release.json'), shopperKey: 'k', storage });
  const side = good.info.release.side;
  good.free();
  const bad = {
    'malformed.json': null,
    'share.json': (r) => { r.canaryShare = 1.5; },
    'dims.json': (r) => { r.candidate.dim = 64; },
    'catalogs.json': (r) => { r.candidate.catalog = 'another store'; },
  };
  const codes = {};
  for (const [name, change] of Object.entries(bad)) {
    const file = change === null ? join(dir, name) : await variant(name, change);
    if (change === null) await writeFile(file, '{ "version": 1, ');
    // Without a last good release: the load fails with the code.
    const e = await Recommender.load({ release: file, shopperKey: 'k', storage: null }).then(() => null, (err) => err);
    codes[name] = e?.code;
    // With one: the shopper keeps the last good release's bundle.
    const kept = await Recommender.load({ release: file, shopperKey: 'k', storage });
    assert.equal(kept.info.release.side, side, name);
    assert.equal(kept.info.version, release[side].version, name);
    assert.equal(kept.releaseError?.code, codes[name], name);
    kept.free();
  }
  assert.deepEqual(codes, { 'malformed.json': 'INVALID_RELEASE', 'share.json': 'INVALID_RELEASE', 'dims.json': 'RELEASE_MISMATCH', 'catalogs.json': 'RELEASE_MISMATCH' });
  const absent = await Recommender.load({ release: join(dir, 'absent.json'), shopperKey: 'k', storage: null }).then(() => null, (err) => err);
  assert.equal(absent?.code, 'RELEASE_FETCH');
});
