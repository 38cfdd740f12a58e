// `npm run bench`: edgerec's WASM module against onnxruntime-web (wasm
// backend, one thread) running the same encoder plus full-catalog scoring,
// side by side in one run, on real sessions. Prints medians, p99s and ratios.
import { readFile, writeFile, mkdir, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { execFileSync } from 'node:child_process';

import { gzipSync, brotliCompressSync, constants as zc } from 'node:zlib';
import * as ort from 'onnxruntime-web';
import { Recommender, wasmMemoryBytes } from '../js/node.mjs';
import { benchRuntimes } from './runtimes.mjs';
import { benchOffers } from './offers.mjs';
import { measurePage } from './page.mjs';
import { measureLayout } from './page-layout.mjs';
import { benchMillion, SHARD_ITEMS } from './million.mjs';
import { timedLoads } from './loads.mjs';
import { manifestOf, readSafetensors } from './safetensors.mjs';
import { measurePeerPages } from './peer-page.mjs';
import { retailSessions, digineticaSessions, pick } from './sessions.mjs';
import { benchProductPage } from './product-page.mjs';
import { benchPrio3 } from './prio3.mjs';
import { benchHostileLoads } from './hostile.mjs';
import { benchLive } from './live.mjs';
import { median, quantile } from './stats.mjs';

const root = new URL('..', import.meta.url).pathname;
const cache = process.env.EDGEREC_CACHE ?? `${process.env.HOME}/.cache/edgerec`;
const QUERIES = Number(process.env.BENCH_QUERIES ?? 2000);
const WARMUP = 200;
const LOADS = 5;

ort.env.wasm.numThreads = 1;
ort.env.wasm.simd = true;

const fmt = (ms) => (ms < 1 ? `${(ms * 1000).toFixed(0)} µs` : `${ms.toFixed(2)} ms`);


async function benchEdgerec(bytes, sessions) {
  const { rec, loads } = await timedLoads(Recommender, bytes, LOADS);
  const times = [];
  for (let i = 0; i < WARMUP + sessions.length; i++) {
    const s = sessions[i % sessions.length];
    rec.reset();
    for (const item of s) rec.track('view', item);
    const t0 = performance.now();
    rec.recommend({ k: 10 });
    if (i >= WARMUP) times.push(performance.now() - t0);
  }
  const memory = wasmMemoryBytes();
  rec.free();
  return { load: median(loads), p50: median(times), p99: quantile(times, 0.99), memory };
}

async function peerModel(bundlePath, name) {
  const dir = `${cache}/bench`;
  await mkdir(dir, { recursive: true });
  const out = `${dir}/${name}-peer.onnx`;
  const fresh = existsSync(`${out}.table.f32`) && (await stat(out)).mtimeMs > (await stat(bundlePath)).mtimeMs;
  if (!fresh) {
    // The store's exported ONNX, kept beside the bundle that carries it as NNEF.
    const onnx = `${dirname(bundlePath)}/encoder.onnx`;
    execFileSync(`${cache}/venv/bin/python`, [`${root}benches/make_peer.py`, bundlePath, onnx, out], { stdio: 'inherit' });
  }
  const table = await readFile(`${out}.table.f32`);
  return { onnx: new Uint8Array(await readFile(out)), table: new Float32Array(table.buffer, table.byteOffset, table.byteLength / 4) };
}

async function benchOrt({ onnx: peerBytes, table }, bundle, sessions) {
  const manifest = manifestOf(bundle);
  const d = manifest.dim;
  const rowOf = new Map(manifest.item_ids.map((id, i) => [id, i]));
  const loads = [];
  let session;
  for (let i = 0; i < LOADS; i++) {
    await session?.release();
    const t0 = performance.now();
    session = await ort.InferenceSession.create(peerBytes, { executionProviders: ['wasm'] });
    loads.push(performance.now() - t0);
  }
  const times = [];
  for (let i = 0; i < WARMUP + sessions.length; i++) {
    const rows = sessions[i % sessions.length].map((id) => rowOf.get(id)).filter((r) => r !== undefined);
    if (rows.length === 0) continue;
    const t0 = performance.now();
    const x = new Float32Array(rows.length * d);
    rows.forEach((r, j) => x.set(table.subarray(r * d, (r + 1) * d), j * d));
    await session.run({ embeddings: new ort.Tensor('float32', x, [1, rows.length, d]) });
    if (i >= WARMUP) times.push(performance.now() - t0);
  }
  await session.release();
  return { load: median(loads), p50: median(times), p99: quantile(times, 0.99) };
}

/** Median cold start (fresh process) of `engine` on `model`. */
function coldStart(engine, model) {
  const runs = Array.from({ length: LOADS }, () =>
    Number(execFileSync(process.execPath, [`${root}benches/cold-load.mjs`, engine, model], { encoding: 'utf8' }).trim()));
  return median(runs);
}

async function wasmSizes(file = 'edgerec_bg.wasm') {
  const wasm = await readFile(`${root}pkg/${file}`);
  return {
    raw: wasm.length,
    gzip: gzipSync(wasm, { level: 9 }).length,
    brotli: brotliCompressSync(wasm, { params: { [zc.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
}

const bundles = [
  { name: 'online-retail', path: `${root}models/online-retail/online-retail.edgerec`, sessions: retailSessions },
  { name: 'diginetica-43k', path: `${root}models/diginetica/diginetica.edgerec`, sessions: digineticaSessions },
];

const mb = (b) => `${(b / 1e6).toFixed(2)} MB`;
const sizes = await wasmSizes();
const prio3Sizes = await wasmSizes('edgerec_prio3_bg.wasm');
console.log(`edgerec .wasm: ${mb(sizes.raw)} raw, ${mb(sizes.gzip)} gzip, ${mb(sizes.brotli)} brotli (budget 1 MB brotli)`);
console.log(`edgerec_prio3 .wasm (loaded with the first sealed report only): ${mb(prio3Sizes.raw)} raw, ${mb(prio3Sizes.gzip)} gzip, ${mb(prio3Sizes.brotli)} brotli`);
console.log(`queries per bundle: ${QUERIES} real sessions (last <= 20 items), after ${WARMUP} warm-up; loads: median of ${LOADS}\n`);
const rows = [];
// BENCH_ONLY=models | offers | runtimes | page | million | prio3 | hostile | live runs that part alone.
const only = process.env.BENCH_ONLY;
for (const b of !only || only === 'models' ? bundles : []) {
  if (!existsSync(b.path)) {
    console.log(`${b.name}: bundle missing at ${b.path}, skipped`);
    continue;
  }
  const bytes = new Uint8Array(await readFile(b.path));
  const sessions = pick(await b.sessions(), QUERIES);
  const ours = await benchEdgerec(bytes, sessions);
  const peerBytes = await peerModel(b.path, b.name);
  const peer = await benchOrt(peerBytes, bytes, sessions);
  ours.cold = coldStart('edgerec', b.path);
  peer.cold = coldStart('ort', `${cache}/bench/${b.name}-peer.onnx`);
  const items = manifestOf(bytes).item_count;
  const bundleBrotli = brotliCompressSync(bytes, { params: { [zc.BROTLI_PARAM_QUALITY]: 9 } }).length;
  const { tensors } = readSafetensors(bytes);
  const table = tensors.item_embeddings?.dtype ?? `pq (${tensors.item_embeddings_pq_codes.shape[1]} codes a row)`;
  rows.push({ b, items, ours, peer, bundleBytes: bytes.length, bundleBrotli, table });
  console.log(`${b.name} (${items} items, bundle ${mb(bytes.length)}, ${mb(bundleBrotli)} brotli, ${table} table, wasm memory ${mb(ours.memory)}):`);
  console.log(`  ${''.padEnd(34)} ${'edgerec'.padStart(10)} ${'ort-web'.padStart(10)} ${'ratio'.padStart(7)}`);
  const line = (label, a, p) => console.log(`  ${label.padEnd(34)} ${fmt(a).padStart(10)} ${fmt(p).padStart(10)} ${(p / a).toFixed(2).padStart(6)}x`);
  line('recommend p50 (encoder + top-10)', ours.p50, peer.p50);
  line('recommend p99', ours.p99, peer.p99);
  line('model load, runtime warm', ours.load, peer.load);
  line('cold start: import+compile+load', ours.cold, peer.cold);
  console.log();
}
let offers = null;
if (!only || only === 'offers') {
  const digi = bundles.find((b) => b.name === 'diginetica-43k');
  offers = await benchOffers(new Uint8Array(await readFile(digi.path)), pick(await digi.sessions(), QUERIES));
  console.log(`nextBestOffer, ${offers.offers}-offer policy (${(offers.policyBytes / 1024).toFixed(0)} KiB, checked in ${fmt(offers.policyLoad)}), diginetica-43k, ${QUERIES} real sessions, WASM in Node:`);
  console.log(`  ${''.padEnd(34)} ${'p50'.padStart(10)} ${'p99'.padStart(10)}`);
  console.log(`  ${'nextBestOffer (all 200 offers)'.padEnd(34)} ${fmt(offers.p50).padStart(10)} ${fmt(offers.p99).padStart(10)}`);
  console.log(`  ${'reading its trace (every 10th)'.padEnd(34)} ${fmt(offers.traceReadP50).padStart(10)} ${fmt(offers.traceReadP99).padStart(10)}`);
  console.log(`  ${'recommend k=10 (after it, same state)'.padEnd(34)} ${fmt(offers.recommendP50).padStart(10)} ${fmt(offers.recommendP99).padStart(10)}`);
  console.log(`  decision / recommend p50 ratio: ${(offers.p50 / offers.recommendP50).toFixed(2)}x; an offer shown in ${(100 * offers.shownShare).toFixed(0)}% of sessions\n`);
}
let productPage = null;
if (!only || only === 'offers') {
  // Issue 16's line: a page and the decision beside it, per session state (one encoder run for both).
  const { outputs, ...r } = await benchProductPage(pick(await retailSessions(), QUERIES));
  productPage = r;
  console.log(`product page (page() of 4 slots + nextBestOffer() for its offer slot), online-retail, ${r.pages} real sessions, WASM in Node:`);
  console.log(`  ${''.padEnd(34)} ${'p50'.padStart(10)} ${'p99'.padStart(10)}`);
  for (const [label, t] of [['page, 4 slots', r.page], ['decision', r.decision], ['page + decision', r.both]]) {
    console.log(`  ${label.padEnd(34)} ${fmt(t.p50).padStart(10)} ${fmt(t.p99).padStart(10)}`);
  }
  console.log(`  decision / page p50 ratio: ${(r.decision.p50 / r.page.p50).toFixed(2)}x\n`);
}
const runtimes = !only || only === 'runtimes' ? await benchRuntimes(pick(await retailSessions(), 200)) : null;
let page = null;
let peerPages = null;
if (!only || only === 'page') {
  page = await measurePage({ runs: 5 });
  console.log(`the demo store in Chromium, phone profile (9.4 Mbit/s, 150 ms RTT, CPU 4x slower), median of ${page.runs}:`);
  console.log(`  ${''.padEnd(8)} ${'bytes'.padStart(10)} ${'popular'.padStart(9)} ${'first rec.'.padStart(11)} ${'longest task'.padStart(13)}   targets: cold 2.0 s, warm 0.3 s, tasks 50 ms`);
  for (const [name, s] of [['cold', page.cold], ['warm', page.warm]]) {
    console.log(`  ${name.padEnd(8)} ${`${(s.bytes / 1e3).toFixed(0)} KB`.padStart(10)} ${`${s.firstPopularMs.toFixed(0)} ms`.padStart(9)} ${`${s.firstRecommendationMs.toFixed(0)} ms`.padStart(11)} ${`${s.longestTaskMs.toFixed(0)} ms`.padStart(13)}`);
  }
  peerPages = await measurePeerPages({ runs: 5 });
  console.log(`one recommendation on a minimal page (benches/peer-page/), same profile, median of ${peerPages.runs}:`);
  console.log(`  ${''.padEnd(8)} ${'edgerec'.padStart(22)} ${'onnxruntime-web'.padStart(22)} ${'ratio'.padStart(7)}`);
  for (const visit of ['cold', 'warm']) {
    const [e, o] = [peerPages.edgerec[visit], peerPages.ort[visit]];
    const cell = (s) => `${(s.bytes / 1e3).toFixed(0)} KB ${s.firstRecommendationMs.toFixed(0)} ms`.padStart(22);
    console.log(`  ${visit.padEnd(8)} ${cell(e)} ${cell(o)} ${`${(o.firstRecommendationMs / e.firstRecommendationMs).toFixed(2)}x`.padStart(7)}`);
  }
  console.log(`  longest main-thread task: edgerec ${peerPages.edgerec.cold.longestTaskMs.toFixed(0)} ms, onnxruntime-web ${peerPages.ort.cold.longestTaskMs.toFixed(0)} ms (cold)\n`);
  const layout = await measureLayout();
  const heights = layout.map((p) => p.height);
  console.log(`the store's product page on a phone (412 px), ${layout.length} products: height median ${median(heights)} px (before issue 17: 4,145); products shown twice: ${layout.reduce((s, p) => s + p.repeated, 0)} (before: 59); pages with two sets: ${layout.filter((p) => p.sets > 1).length} (before: 10)\n`);
}
let million = null;
let shard = null;
if (!only || only === 'million') {
  // The million, and the path docs/guide.md gives where it does not fit: the
  // catalog cut into shards (a department each) that do.
  million = await benchMillion();
  shard = await benchMillion(SHARD_ITEMS);
  console.log('synthetic catalogs (d = 64, pq table; examples/synthetic_catalog.rs), WASM in Node:');
  for (const m of [million, shard]) {
    console.log(`  ${m.items.toLocaleString('en').padStart(9)} items: bundle ${mb(m.bundleBytes)} raw, ${mb(m.bundleBrotli)} brotli (quality 5); load ${fmt(m.loadMs)}; wasm memory ${mb(m.memoryBytes)} (target 128 MB); recommend p50 ${fmt(m.p50Ms)}, p99 ${fmt(m.p99Ms)} (target p50 10 ms)`);
  }
  console.log('');
}
let prio3 = null;
if (!only || only === 'prio3') {
  prio3 = await benchPrio3();
  console.log(`Prio3 reports (issue 21), online-retail default policy (${prio3.entries} measurement entries), ${prio3.devices} shopper-days, WASM in Node:`);
  console.log(`  ${''.padEnd(44)} ${'prio3'.padStart(10)} ${'distributed'.padStart(12)}`);
  console.log(`  ${'bytes a device sends (median)'.padEnd(44)} ${`${prio3.uploadBytes} B`.padStart(10)} ${`${prio3.peerBytes} B`.padStart(12)}   ratio ${(prio3.uploadBytes / prio3.peerBytes).toFixed(2)}x`);
  console.log(`  ${'device: a report made, p50 (prio3: + sealed)'.padEnd(44)} ${fmt(prio3.made.p50).padStart(10)} ${fmt(prio3.peerMade.p50).padStart(12)}   ratio ${(prio3.made.p50 / prio3.peerMade.p50).toFixed(2)}x`);
  console.log(`  ${'device: a report made, p99'.padEnd(44)} ${fmt(prio3.made.p99).padStart(10)} ${fmt(prio3.peerMade.p99).padStart(12)}`);
  console.log(`  ${'device: shard + seal alone, p50 / p99'.padEnd(44)} ${fmt(prio3.seal.p50).padStart(10)} / ${fmt(prio3.seal.p99)}`);
  console.log(`  ${'leader: open + verify a report, p50'.padEnd(44)} ${fmt(prio3.leader.p50).padStart(10)}   ${Math.round(prio3.leader.perSecond)} reports/s on one core`);
  console.log(`  ${'helper: open + verify a report, p50'.padEnd(44)} ${fmt(prio3.helper.p50).padStart(10)}   ${Math.round(prio3.helper.perSecond)} reports/s on one core`);
  console.log(`  ${'summing an output share (either)'.padEnd(44)} ${fmt(prio3.mergePerReportMs).padStart(10)}\n`);
}
let hostile = null;
if (!only || only === 'hostile') {
  hostile = await benchHostileLoads();
  console.log('Hostile loads (issue 36): the online-retail bundle with its encoder graph edited, WASM in Node, median of 5:');
  for (const r of hostile.rows) {
    console.log(`  ${r.name.padEnd(62)} ${r.outcome.padEnd(15)} ${fmt(r.medianMs).padStart(10)} (max ${fmt(r.maxMs)}; ratio to the shipped load ${(r.medianMs / hostile.rows[0].medianMs).toFixed(2)}x)`);
  }
  console.log('');
}
let live = null;
if (!only || only === 'live') {
  live = await benchLive(Math.min(QUERIES, 1000));
  console.log(`The live catalog (issue 38), online-retail (${live.items} items), WASM in Node:`);
  console.log(`  updateItems, 100 items repriced and restocked: p50 ${fmt(live.repricing100.p50)}, p99 ${fmt(live.repricing100.p99)} (target 1 ms)`);
  console.log(`  updateItems, 100 products added from their words: p50 ${fmt(live.adding100.p50)}, max ${fmt(live.adding100.max)}`);
  const p = live.patch;
  console.log(`  applyPatch, ${p.changed} changed + ${p.added} added (rows in the patch): p50 ${fmt(p.applyP50)}, max ${fmt(p.applyMax)} (target 5 ms); ${(p.bytes / 1e3).toFixed(0)} KB, ${(p.brotli / 1e3).toFixed(1)} KB brotli (target 20 KB)`);
  const w = live.inPage;
  console.log(`  in the page's worker, phone profile (CPU 4x slower), median of ${w.runs}: applyPatch ${fmt(w.applyPatchP50)} (max ${fmt(w.applyPatchMax)}), updateItems of 100 ${fmt(w.updateItems100P50)}, worker round trip included`);
  console.log(`  POST /v1/recommend (4 slots) p50: ${fmt(live.v1.plainP50)}; with 10 item updates in the request (a copy of the store) ${fmt(live.v1.withItemsP50)}`);
  console.log(`  ${''.padEnd(44)} ${'p50'.padStart(10)} ${'p99'.padStart(10)}`);
  for (const [label, t] of [['recommend k=10, the bundle as built', live.recommendBefore], ['recommend k=10, 100 products added', live.recommendAfter], ['  the same, filter { maxPrice: 5, inStock }', live.recommendFiltered]]) {
    console.log(`  ${label.padEnd(44)} ${fmt(t.p50).padStart(10)} ${fmt(t.p99).padStart(10)}`);
  }
  console.log('');
}
const json = {
  date: new Date().toISOString(),
  live,
  hostile,
  sizes,
  prio3Sizes,
  prio3,
  rows: rows.map(({ b, ...row }) => ({ bundle: b.name, ...row })),
  offers,
  productPage,
  runtimes,
  page,
  peerPages,
  million,
  shard,
};
await mkdir(`${root}bench-results`, { recursive: true });
await writeFile(`${root}bench-results/latest.json`, JSON.stringify(json, null, 2));
console.log('written to bench-results/latest.json');
if (!only) execFileSync(process.execPath, [`${root}scripts/bench-docs.mjs`], { stdio: 'inherit' }); // docs/benchmarks.md from this run
