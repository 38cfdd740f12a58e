// The same page two ways, on the phone profile (benches/page.mjs): edgerec's
// worker entry with the default bundle, and onnxruntime-web (wasm build, its
// session proxied to a worker) with the same encoder and the same int8 table
// (benches/make_peer.py --page) plus the ids it needs to name the answer.
// Each shows the top 10 for one fixed session. Bytes, first recommendation
// cold and warm, longest main-thread task; median of `runs`.
//   node benches/peer-page.mjs [--runs 5]
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { measurePage } from './page.mjs';
import { precompress } from '../www/static.mjs';
import { SESSION } from './peer-page/page.mjs';
import { manifestOf } from './safetensors.mjs';

const root = new URL('..', import.meta.url).pathname;
const cache = process.env.EDGEREC_CACHE ?? `${process.env.HOME}/.cache/edgerec`;
const dir = join(root, 'bench-results/peer-page');
const bundle = join(root, 'models/online-retail/online-retail.edgerec');
const ortDist = join(root, 'node_modules/onnxruntime-web/dist');
/** The runtime files ort.html loads, under `ort@<version>/` like a CDN's package path. */
const ORT_VERSION = '1.30.0';
const ORT_FILES = ['ort.wasm.bundle.min.mjs', 'ort-wasm-simd-threaded.wasm'];

async function prepare() {
  await mkdir(dir, { recursive: true });
  for (const f of ['edgerec.html', 'ort.html', 'page.mjs']) await copyFile(join(root, 'benches/peer-page', f), join(dir, f));
  const ortVersion = JSON.parse(await readFile(join(ortDist, '../package.json'), 'utf8')).version;
  if (ortVersion !== ORT_VERSION) throw new Error(`ort.html names onnxruntime-web ${ORT_VERSION}, installed ${ortVersion}`);
  await mkdir(join(dir, `ort@${ORT_VERSION}`), { recursive: true });
  for (const f of ORT_FILES) await copyFile(join(ortDist, f), join(dir, `ort@${ORT_VERSION}`, f));
  execFileSync(`${cache}/venv/bin/python`, [join(root, 'benches/make_peer.py'), bundle, join(root, 'models/online-retail/encoder.onnx'), join(dir, 'peer.onnx'), '10', '--page'], { stdio: ['ignore', 'ignore', 'inherit'] });
  const ids = manifestOf(new Uint8Array(await readFile(bundle))).item_ids;
  const missing = SESSION.filter((id) => !ids.includes(id));
  if (missing.length) throw new Error(`session items not in the bundle: ${missing}`);
  await writeFile(join(dir, 'ids.json'), JSON.stringify(ids));
  // Compress the large files now, so no visit waits for it.
  const large = [...ORT_FILES.map((f) => `ort@${ORT_VERSION}/${f}`), 'peer.onnx', 'ids.json'];
  await Promise.all(large.map((f) => precompress(join(dir, f))));
}

export async function measurePeerPages({ runs = 5 } = {}) {
  await prepare();
  const mount = { prefix: 'compare', dir };
  const ready = '#recommended .card';
  const edgerec = await measurePage({ runs, path: '/compare/edgerec.html', ready, mount });
  const ort = await measurePage({ runs, path: '/compare/ort.html', ready, mount });
  return { runs, edgerec, ort };
}

if (process.argv[1] && new URL(import.meta.url).pathname === process.argv[1]) {
  const flag = process.argv.indexOf('--runs');
  const r = await measurePeerPages({ runs: flag > 0 ? Number(process.argv[flag + 1]) : 5 });
  console.log(`the same page, phone profile, median of ${r.runs}:`);
  for (const visit of ['cold', 'warm']) {
    for (const name of ['edgerec', 'ort']) {
      const s = r[name][visit];
      console.log(`${visit.padEnd(5)} ${name.padEnd(8)} ${(s.bytes / 1e3).toFixed(0).padStart(6)} KB  first recommendation ${s.firstRecommendationMs.toFixed(0)} ms  longest task ${s.longestTaskMs.toFixed(0)} ms`);
    }
    const ratio = r.ort[visit].firstRecommendationMs / r.edgerec[visit].firstRecommendationMs;
    console.log(`${visit.padEnd(5)} ort / edgerec: ${ratio.toFixed(2)}x`);
  }
}
