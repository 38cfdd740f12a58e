// `npm run bench:docs`: writes docs/benchmarks.md from the last `npm run bench`
// (bench-results/latest.json, written by benches/bench.mjs), so the figures the
// docs quote are the ones a run measured, never typed by hand. A partial run
// (BENCH_ONLY=…) leaves parts null or empty: their tables say "not measured in
// the last run" and name the command that measures them.
//   node scripts/bench-docs.mjs [IN.json] [OUT.md]
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const input = process.argv[2] ?? `${root}bench-results/latest.json`;
const output = process.argv[3] ?? `${root}docs/benchmarks.md`;

const NOT_MEASURED = 'not measured in the last run';

// ---- formatting ----
const finite = (x) => typeof x === 'number' && Number.isFinite(x);
const dash = '–';
/** Milliseconds: µs below 1 ms, then three significant figures, then whole ms, then seconds. */
function ms(x) {
  if (!finite(x)) return dash;
  if (x < 1) return `${(x * 1000).toFixed(0)} µs`;
  if (x < 10) return `${x.toFixed(2)} ms`;
  if (x < 100) return `${x.toFixed(1)} ms`;
  if (x < 10_000) return `${Math.round(x).toLocaleString('en')} ms`;
  return `${(x / 1000).toFixed(1)} s`;
}
/** Bytes in decimal units, as the bench prints them (exact below 100 KB). */
function bytes(x) {
  if (!finite(x)) return dash;
  if (x >= 1e8) return `${(x / 1e6).toFixed(0)} MB`;
  if (x >= 1e6) return `${(x / 1e6).toFixed(2)} MB`;
  if (x >= 1e5) return `${(x / 1e3).toFixed(0)} KB`;
  return `${Math.round(x).toLocaleString('en')} B`;
}
const int = (x) => (finite(x) ? Math.round(x).toLocaleString('en') : dash);
/** How many times `slower` takes `faster`'s time (or holds its bytes). */
const ratio = (slower, faster) => (finite(slower) && finite(faster) && faster > 0 ? `${(slower / faster).toFixed(2)}×` : dash);
const pct = (x) => (finite(x) ? `${(100 * x).toFixed(0)} %` : dash);

/** Prose wrapped at 100 columns (tables and headings are left as they are). */
function wrap(text, width = 100) {
  return text.split('\n').map((line) => {
    if (line.startsWith('|') || line.startsWith('#') || line.length <= width) return line;
    const out = [];
    let current = '';
    for (const word of line.split(' ')) {
      if (current && current.length + 1 + word.length > width) {
        out.push(current);
        current = word;
      } else {
        current = current ? `${current} ${word}` : word;
      }
    }
    if (current) out.push(current);
    return out.join('\n');
  }).join('\n');
}

function table(head, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}
const missing = (command) => `*${NOT_MEASURED}* (\`${command}\` measures it).`;

// ---- the sections, one per figure ----

function engine(j) {
  const intro = 'The engine\'s `recommend({ k: 10 })` in WebAssembly (Node), against its peer: onnxruntime-web '
    + '(wasm backend, one thread, SIMD) running the **same encoder plus full-catalog scoring** (the bundle\'s ONNX '
    + 'with `MatMul` over the item table and `TopK` appended, `benches/make_peer.py`), on the same real sessions '
    + '(last ≤ 20 items; Online Retail\'s last-month invoices and Diginetica\'s test prefixes), after 200 warm-up '
    + 'queries. edgerec\'s figure is the whole `recommend()` (encoder, full-catalog retrieval, co-purchase '
    + 'candidates, blending, reasons, JSON across the boundary); the peer\'s is encoder, scores and top-k only. '
    + 'Model load is with the runtime already up (median of 5); cold start is a fresh process: import, compile, '
    + 'instantiate, load. The ratio is the peer\'s time over edgerec\'s (above 1: edgerec is faster).';
  const rows = Array.isArray(j.rows) ? j.rows : [];
  if (rows.length === 0) return `${intro}\n\n${missing('BENCH_ONLY=models npm run bench')}`;
  const parts = rows.map((r) => {
    const head = `**${r.bundle}**: ${int(r.items)} items, ${r.table ?? dash} table, wasm memory ${bytes(r.ours?.memory)}`;
    const t = table(['', 'edgerec', 'onnxruntime-web', 'ratio'], [
      ['recommend p50', ms(r.ours?.p50), ms(r.peer?.p50), ratio(r.peer?.p50, r.ours?.p50)],
      ['recommend p99', ms(r.ours?.p99), ms(r.peer?.p99), ratio(r.peer?.p99, r.ours?.p99)],
      ['model load', ms(r.ours?.load), ms(r.peer?.load), ratio(r.peer?.load, r.ours?.load)],
      ['cold start', ms(r.ours?.cold), ms(r.peer?.cold), ratio(r.peer?.cold, r.ours?.cold)],
    ]);
    return `${head}\n\n${t}`;
  });
  return `${intro}\n\n${parts.join('\n\n')}`;
}

function sizes(j) {
  const intro = 'What a shopper downloads: the engine\'s `.wasm` (raw, gzip level 9, brotli quality 11) against its '
    + 'budget of 1 MB brotli ([design.md §9](design.md#9-budgets-each-measured-by-the-benchmark-harness); onnxruntime-web\'s CPU `.wasm` is 12.8 MB raw), the Prio3 module '
    + '(loaded with the first sealed report only) and the bundles measured above (brotli quality 9).';
  const rows = [];
  const wasm = (name, s, budget) => rows.push([name, bytes(s?.raw), bytes(s?.gzip), bytes(s?.brotli), budget]);
  if (j.sizes) wasm('`edgerec_bg.wasm` (the engine)', j.sizes, finite(j.sizes.brotli) ? `1 MB brotli: ${j.sizes.brotli <= 1e6 ? 'met' : 'missed'} (${int(j.sizes.brotli)} B)` : dash);
  if (j.prio3Sizes) wasm('`edgerec_prio3_bg.wasm` (Prio3)', j.prio3Sizes, '');
  for (const r of Array.isArray(j.rows) ? j.rows : []) rows.push([`${r.bundle} bundle (${r.table ?? dash} table)`, bytes(r.bundleBytes), dash, bytes(r.bundleBrotli), '']);
  if (rows.length === 0) return `${intro}\n\n${missing('npm run bench')}`;
  let text = `${intro}\n\n${table(['file', 'raw', 'gzip', 'brotli', 'budget'], rows)}`;
  if (!Array.isArray(j.rows) || j.rows.length === 0) text += `\n\nBundle sizes: ${missing('BENCH_ONLY=models npm run bench')}`;
  return text;
}

function offers(j) {
  const o = j.offers;
  const intro = '`nextBestOffer()` in WebAssembly (Node) on the Diginetica 43k-item bundle with a generated policy of '
    + 'offers of every kind (items, bundles, cross-sells, upsells, sets, actions and gap fillers with context '
    + 'predicates; eligibility over cart, categories, price and segments, named rules, caps on every offer, all '
    + 'competing in one slot; `benches/offers.mjs`), over real session prefixes, beside `recommend({ k: 10 })` on '
    + 'the same sessions. No peer runs offer policies in the browser, so the reference is the engine\'s own '
    + 'ranking call (which reuses the decision\'s session vector, as a page beside an offer does).';
  if (!o) return `${intro}\n\n${missing('BENCH_ONLY=offers npm run bench')}`;
  return `${intro}\n\n${table(['', 'p50', 'p99'], [
    [`\`nextBestOffer\`, ${int(o.offers)} offers in one slot`, ms(o.p50), ms(o.p99)],
    ['`recommend({ k: 10 })`, same sessions', ms(o.recommendP50), ms(o.recommendP99)],
    ['ratio decision / recommend', ratio(o.p50, o.recommendP50), ratio(o.p99, o.recommendP99)],
    [`reading a decision's full trace (${int(o.offers)} entries), when a caller does`, ms(o.traceReadP50), ms(o.traceReadP99)],
    [`checking and compiling the ${finite(o.policyBytes) ? `${(o.policyBytes / 1024).toFixed(0)} KiB ` : ''}policy (\`usePolicy\`)`, ms(o.policyLoad), ''],
  ])}\n\nAn offer was shown in ${pct(o.shownShare)} of the sessions.`;
}

function productPage(j) {
  const p = j.productPage;
  const intro = 'What the demo store asks for on a product page — one `page()` for its four slots (bought together, '
    + 'complete the set, similar, recommended; k = 6) and one `nextBestOffer()` for its offer slot — with the default '
    + 'Online Retail bundle and its own policy, over real sessions viewed item by item (the page of the last item; '
    + '`benches/product-page.mjs`). The page is the reference the decision is compared with: both read one '
    + 'session query, so the decision beside a page costs far less than alone.';
  if (!p) return `${intro}\n\n${missing('BENCH_ONLY=offers npm run bench')}`;
  return `${intro}\n\n${table(['', 'p50', 'p99'], [
    ['`page()`, 4 slots', ms(p.page?.p50), ms(p.page?.p99)],
    ['`nextBestOffer()`', ms(p.decision?.p50), ms(p.decision?.p99)],
    ['page + decision', ms(p.both?.p50), ms(p.both?.p99)],
  ])}\n\n${int(p.pages)} pages; decision / page p50: ${ratio(p.decision?.p50, p.page?.p50)}.`;
}

function runtimes(j) {
  const r = j.runtimes;
  const intro = 'The stateless endpoint under load: the Worker in workerd (Cloudflare\'s runtime) and the Fastly app in '
    + 'Viceroy (Fastly\'s local Compute runtime), each loaded with autocannon on 127.0.0.1 with `POST /v1/recommend` '
    + 'bodies from 200 real Online Retail invoices (every item viewed, the last added to the cart, all slots '
    + 'answered; `benches/runtimes.mjs`). The two runtimes are each other\'s peer. *Boot*: process start until the '
    + 'port accepts (Viceroy compiles the module then; Fastly does that at deploy, so it is not a production cold '
    + 'start). *1st request*: starts an isolate (workerd) or a sandbox (Viceroy), loads the bundle and answers. '
    + 'Viceroy\'s tail is sandboxes started for concurrent requests, each loading the bundle.';
  if (!r) return `${intro}\n\n${missing('BENCH_ONLY=runtimes npm run bench')}`;
  const servers = Array.isArray(r.servers) ? r.servers : [];
  const t = table(['', 'req/s', 'p50', 'p99', 'boot', '1st request', '2nd request', 'failed'], servers.map((s) => [
    s.name, int(s.requestsPerSecond), ms(s.p50), ms(s.p99), ms(s.bootMs), ms(s.firstRecommendMs), ms(s.secondRecommendMs), int((s.non2xx ?? 0) + (s.errors ?? 0)),
  ]));
  const viceroy = servers.some((s) => /viceroy/i.test(s.name)) ? '' : '\n\nViceroy: not measured in the last run (run through `npm run bench`, which builds the Fastly app).';
  const page = r.page
    ? `\n\nThe storefront in Chromium on loopback, navigation to the first recommendation on screen, median of ${int(r.page.loads)} fresh contexts: ${ms(r.page.medianMs)} (${ms(r.page.minMs)}–${ms(r.page.maxMs)}).`
    : '';
  return `${intro}\n\n${int(r.connections)} connections for ${int(r.loadSeconds)} s:\n\n${t}${viceroy}${page}`;
}

function phonePage(j) {
  const p = j.page;
  const intro = 'The demo store in Debian\'s Chromium under a mid-range phone\'s network and CPU (`benches/page.mjs`: '
    + '9.4 Mbit/s down, 150 ms round trip, CPU 4× slower through the DevTools protocol; cold = cache off, warm = the '
    + 'second visit of the same context). Bytes count the worker\'s requests too. *Bestsellers*: the store\'s own '
    + 'products on screen before the engine; *first recommendation*: the engine\'s first answer on screen. Targets: '
    + 'cold 2.0 s, warm 0.3 s, no main-thread task over 50 ms. The peer is the next table.';
  if (!p) return `${intro}\n\n${missing('BENCH_ONLY=page npm run bench')}`;
  const row = (name, s) => [name, bytes(s?.bytes), ms(s?.firstPopularMs), `${ms(s?.firstRecommendationMs)}${Array.isArray(s?.range) ? ` (${ms(s.range[0])}–${ms(s.range[1])})` : ''}`, ms(s?.longestTaskMs)];
  return `${intro}\n\nMedian of ${int(p.runs)}:\n\n${table(['', 'bytes', 'bestsellers shown', 'first recommendation', 'longest main-thread task'], [
    row('cold', p.cold), row('warm', p.warm),
  ])}`;
}

function peerPages(j) {
  const p = j.peerPages;
  const intro = 'Two minimal pages on the same phone profile, each showing the top 10 for one fixed three-item session '
    + '(`benches/peer-page.mjs`): edgerec\'s worker entry with the default bundle, and its peer, onnxruntime-web '
    + '(wasm build, one thread, `proxy` so its session runs in a worker too) with the same encoder and the table '
    + 'edgerec scans, as int8 (`make_peer.py --page`: the session\'s rows gathered, `DequantizeLinear`, `Gemm`, '
    + '`TopK`), plus the ids it needs to name the answer. Both pages\' runtime files go by versioned, immutable '
    + 'paths, as a CDN serves packages. The ratio is the peer\'s time over edgerec\'s.';
  if (!p) return `${intro}\n\n${missing('BENCH_ONLY=page npm run bench')}`;
  const cell = (s) => `${bytes(s?.bytes)} / ${ms(s?.firstRecommendationMs)}`;
  const rows = ['cold', 'warm'].map((v) => [`${v}: bytes / first recommendation`, cell(p.edgerec?.[v]), cell(p.ort?.[v]), ratio(p.ort?.[v]?.firstRecommendationMs, p.edgerec?.[v]?.firstRecommendationMs)]);
  rows.push(['longest main-thread task, cold', ms(p.edgerec?.cold?.longestTaskMs), ms(p.ort?.cold?.longestTaskMs), '']);
  return `${intro}\n\nMedian of ${int(p.runs)}:\n\n${table(['minimal page', 'edgerec', 'onnxruntime-web', 'ratio'], rows)}`;
}

function million(j) {
  const intro = 'A synthetic catalog of 1,000,000 items made by `examples/synthetic_catalog.rs` from the default bundle '
    + '(each of its items copied with Gaussian noise of a third of the rows\' spread per dimension, copy 0 keeping '
    + 'the real ids; d = 64, `pq` table, each item\'s 4 best co-purchase neighbours within its copy), loaded by the '
    + 'WebAssembly module in a fresh Node process, 300 sessions of 1–8 random items (`benches/million.mjs`); beside '
    + 'it the same generator cut at the largest round size under 128 MB, the shard a store of a million items would '
    + 'ship per department. Targets: 128 MB of wasm memory (a phone, a Worker) and a 10 ms p50. No peer: the '
    + 'reference is the targets.';
  const ms_ = [j.million, j.shard].filter(Boolean);
  if (ms_.length === 0) return `${intro}\n\n${missing('BENCH_ONLY=million npm run bench')}`;
  const verdict = (x, limit) => (finite(x) ? (x <= limit ? ' (met)' : ' (missed)') : '');
  return `${intro}\n\n${table(['items', 'bundle raw / brotli (quality 5)', 'load', 'wasm memory', 'recommend p50 / p99'], ms_.map((m) => [
    int(m.items), `${bytes(m.bundleBytes)} / ${bytes(m.bundleBrotli)}`, ms(m.loadMs), `${bytes(m.memoryBytes)}${verdict(m.memoryBytes, 128e6)}`, `${ms(m.p50Ms)}${verdict(m.p50Ms, 10)} / ${ms(m.p99Ms)}`,
  ]))}`;
}

function prio3(j) {
  const p = j.prio3;
  const intro = 'The cost of a Prio3 report ([privacy.md](privacy.md#prio3-reports-no-single-server-can-read)) on the device and at each aggregator, in WebAssembly '
    + '(Node), over simulated shopper-days of the default policy (`benches/prio3.mjs`), against its peer: the '
    + '`distributed` report of the same day, which one collector sums. *Made*: the engine\'s measurement, then '
    + 'shard and seal (prio3), or the noised report (distributed). The aggregators\' figures are per report on one '
    + 'core, before HTTP and SQLite.';
  if (!p) return `${intro}\n\n${missing('BENCH_ONLY=prio3 npm run bench')}`;
  return `${intro}\n\n${int(p.devices)} shopper-days, ${int(p.entries)} measurement entries:\n\n${table(['', 'prio3', 'distributed', 'ratio'], [
    ['bytes a device sends (median)', bytes(p.uploadBytes), bytes(p.peerBytes), ratio(p.uploadBytes, p.peerBytes)],
    ['a report made, p50', ms(p.made?.p50), ms(p.peerMade?.p50), ratio(p.made?.p50, p.peerMade?.p50)],
    ['a report made, p99', ms(p.made?.p99), ms(p.peerMade?.p99), ratio(p.made?.p99, p.peerMade?.p99)],
    ['shard + seal alone, p50 / p99', `${ms(p.seal?.p50)} / ${ms(p.seal?.p99)}`, '', ''],
    ['leader: open + verify a report, p50', `${ms(p.leader?.p50)} (${int(p.leader?.perSecond)}/s)`, '', ''],
    ['helper: open + verify a report, p50', `${ms(p.helper?.p50)} (${int(p.helper?.perSecond)}/s)`, '', ''],
    ['summing an output share, per report', ms(p.mergePerReportMs), '', ''],
  ])}`;
}

function hostile(j) {
  const h = j.hostile;
  const intro = 'How long a bundle of the shipped size takes to load, or to be refused, when its encoder graph is as '
    + 'costly as the encoder contract allows or beyond it ([bundle-format.md](bundle-format.md#what-a-bundles-encoder-may-hold)), in WebAssembly (Node), median of 5 loads each (`benches/hostile.mjs`). The reference is the shipped '
    + 'bundle\'s own load, the first row.';
  const rows = Array.isArray(h?.rows) ? h.rows : [];
  if (rows.length === 0) return `${intro}\n\n${missing('BENCH_ONLY=hostile npm run bench')}`;
  const base = rows[0].medianMs;
  return `${intro}\n\n${table(['bundle', 'outcome', 'median', 'max', 'ratio to the shipped load'], rows.map((r) => [
    r.name, r.outcome === 'loaded' ? 'loaded' : `\`${r.outcome}\``, ms(r.medianMs), ms(r.maxMs), ratio(r.medianMs, base),
  ]))}${finite(h.shippedStatements) ? `\n\nThe shipped graph has ${int(h.shippedStatements)} statements.` : ''}`;
}

function live(j) {
  const l = j.live;
  const intro = 'The live catalog ([guide.md](guide.md#a-live-catalog-prices-stock-and-new-products)) on the default store, WebAssembly in Node '
    + '(`benches/live.mjs`), and in the page\'s worker at the phone profile (`benches/live-page.mjs`).';
  if (!l) return `${intro}\n\n${missing('BENCH_ONLY=live npm run bench')}`;
  const p = l.patch ?? {};
  return `${intro}\n\n${table(['what', 'p50', 'p99 or max', 'target'], [
    ['`updateItems`, 100 items repriced and restocked', ms(l.repricing100?.p50), ms(l.repricing100?.p99), '1 ms'],
    ['`updateItems`, 100 products added from their words', ms(l.adding100?.p50), ms(l.adding100?.max), ''],
    [`\`applyPatch\`, ${int(p.changed)} changed + ${int(p.added)} added (${bytes(p.bytes)}, ${bytes(p.brotli)} brotli)`, ms(p.applyP50), ms(p.applyMax), '5 ms, 20 KB brotli'],
    ['`applyPatch` in the page\'s worker, phone profile (round trip)', ms(l.inPage?.applyPatchP50), ms(l.inPage?.applyPatchMax), '5 ms'],
    ['`updateItems` of 100 in the page\'s worker, phone profile', ms(l.inPage?.updateItems100P50), '', ''],
    ['`POST /v1/recommend`, 4 slots', ms(l.v1?.plainP50), '', ''],
    ['the same with 10 item updates in the request', ms(l.v1?.withItemsP50), '', ''],
    ['`recommend` k = 10, the bundle as built', ms(l.recommendBefore?.p50), ms(l.recommendBefore?.p99), ''],
    ['`recommend` k = 10, 100 products added', ms(l.recommendAfter?.p50), ms(l.recommendAfter?.p99), 'unchanged'],
    ['the same, filter `{ maxPrice: 5, inStock: true }`', ms(l.recommendFiltered?.p50), ms(l.recommendFiltered?.p99), ''],
  ])}`;
}

/** docs/design.md §9's budgets and the pages' targets, met or not in this run. */
function budgets(j) {
  const digi = (Array.isArray(j.rows) ? j.rows : []).find((r) => /diginetica/.test(r.bundle));
  const check = (value, ok, shown) => (finite(value) ? [shown, ok ? 'met' : 'missed'] : [NOT_MEASURED, dash]);
  const rows = [
    ['`.wasm` ≤ 1 MB brotli', ...check(j.sizes?.brotli, j.sizes?.brotli <= 1e6, bytes(j.sizes?.brotli))],
    ['`recommend()` p50 ≤ 0.5 ms, 43k items', ...check(digi?.ours?.p50, digi?.ours?.p50 <= 0.5, ms(digi?.ours?.p50))],
    ['`recommend()` p99 ≤ 1.5 ms, 43k items', ...check(digi?.ours?.p99, digi?.ours?.p99 <= 1.5, ms(digi?.ours?.p99))],
    ['≥ 1.5× faster median than onnxruntime-web, 43k', ...check(digi?.peer?.p50 / digi?.ours?.p50, digi?.peer?.p50 / digi?.ours?.p50 >= 1.5, ratio(digi?.peer?.p50, digi?.ours?.p50))],
    ['≥ 3× lower p99 than onnxruntime-web, 43k', ...check(digi?.peer?.p99 / digi?.ours?.p99, digi?.peer?.p99 / digi?.ours?.p99 >= 3, ratio(digi?.peer?.p99, digi?.ours?.p99))],
    ['≥ 3× faster load than onnxruntime-web, 43k', ...check(digi?.peer?.load / digi?.ours?.load, digi?.peer?.load / digi?.ours?.load >= 3, ratio(digi?.peer?.load, digi?.ours?.load))],
    ['wasm memory ≤ 64 MB with the 43k catalog', ...check(digi?.ours?.memory, digi?.ours?.memory <= 64e6, bytes(digi?.ours?.memory))],
    ['phone page: first recommendation cold ≤ 2.0 s', ...check(j.page?.cold?.firstRecommendationMs, j.page?.cold?.firstRecommendationMs <= 2000, ms(j.page?.cold?.firstRecommendationMs))],
    ['phone page: first recommendation warm ≤ 0.3 s', ...check(j.page?.warm?.firstRecommendationMs, j.page?.warm?.firstRecommendationMs <= 300, ms(j.page?.warm?.firstRecommendationMs))],
    ['phone page: no main-thread task over 50 ms (cold)', ...check(j.page?.cold?.longestTaskMs, j.page?.cold?.longestTaskMs <= 50, ms(j.page?.cold?.longestTaskMs))],
    ['a million items: wasm memory ≤ 128 MB', ...check(j.million?.memoryBytes, j.million?.memoryBytes <= 128e6, bytes(j.million?.memoryBytes))],
    ['a million items: recommend p50 ≤ 10 ms', ...check(j.million?.p50Ms, j.million?.p50Ms <= 10, ms(j.million?.p50Ms))],
  ];
  return `The budgets of [design.md §9](design.md#9-budgets-each-measured-by-the-benchmark-harness) and the page and catalog targets, against this run.\n\n${table(['budget', 'this run', 'verdict'], rows)}`;
}

export function render(j) {
  const when = typeof j.date === 'string' ? j.date.replace('T', ' ').replace(/\.\d+Z$/, ' UTC') : 'an unknown date';
  const sections = [
    ['Against the budgets', budgets(j)],
    ['Engine latency against onnxruntime-web', engine(j)],
    ['Sizes', sizes(j)],
    ['Offer decisions', offers(j)],
    ['A product page', productPage(j)],
    ['Edge runtimes', runtimes(j)],
    ['The page as a phone sees it', phonePage(j)],
    ['Side by side with onnxruntime-web in a page', peerPages(j)],
    ['A million items', million(j)],
    ['Prio3 reports', prio3(j)],
    ['Hostile loads', hostile(j)],
    ['A live catalog', live(j)],
  ];
  const intro = `What \`npm run bench\` measured in its last run (${when}), one table per figure, each beside its `
    + 'peer: onnxruntime-web running the same encoder, the other edge runtime, or the budget the figure is held '
    + 'to. `npm run bench` (`scripts/bench.sh` → `benches/bench.mjs`) builds what it measures, runs every part in '
    + 'one Node process on the same machine and writes `bench-results/latest.json`; at the end of a full run it '
    + 'rewrites this page (`npm run bench:docs` rewrites it from the last run alone). '
    + '`BENCH_ONLY=models | offers | runtimes | page | million | prio3 | hostile | live` runs one part; the parts it '
    + `leaves out say "${NOT_MEASURED}". Timings depend on the machine and its load: compare figures within one `
    + 'run, not across runs. How the engine and its build were made fast is in [architecture.md](architecture.md) '
    + 'and [contributing.md](contributing.md#build-profile).';
  return `<!-- Generated by scripts/bench-docs.mjs from bench-results/latest.json: do not edit; run \`npm run bench\` (or \`npm run bench:docs\`). -->
# Benchmarks

${wrap(intro)}

${sections.map(([title, body]) => `## ${title}\n\n${wrap(body)}`).join('\n\n')}
`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const json = JSON.parse(await readFile(input, 'utf8'));
  await writeFile(output, render(json));
  console.log(`written to ${output.startsWith(root) ? output.slice(root.length) : output}`);
}
