// Size and speed of module builds side by side (scripts/measure-profiles.sh).
//   node benches/profiles.mjs PKG_DIR...
import { readFile } from 'node:fs/promises';
import { brotliCompressSync, gzipSync, constants as zc } from 'node:zlib';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { median, quantile } from './stats.mjs';

const bundle = await readFile(new URL('../models/diginetica/diginetica.edgerec', import.meta.url));
const sessions = (await readFile(new URL('../../shared/data/diginetica/test_prefix_target.tsv', import.meta.url), 'utf8'))
  .trim().split('\n').filter((_, i) => i % 60 === 0).map((l) => l.split('\t')[0].split(' ').slice(-20));
const p99 = (xs) => quantile(xs, 0.99);

console.log('profile            raw MB  gzip MB  brotli MB   load ms   p50 µs   p99 µs  (43k items)');
for (const dir of process.argv.slice(2)) {
  const wasm = await readFile(`${dir}/edgerec_bg.wasm`);
  const glue = await import(pathToFileURL(resolve(dir, 'edgerec.js')));
  glue.initSync({ module: wasm });
  const loads = [];
  let engine;
  for (let i = 0; i < 3; i++) {
    engine?.free();
    const t0 = performance.now();
    engine = glue.Engine.load(bundle);
    loads.push(performance.now() - t0);
  }
  const times = [];
  for (const [i, s] of sessions.entries()) {
    engine.reset();
    for (const item of s) engine.track('view', item, Date.now());
    const t0 = performance.now();
    engine.recommendJson('{"k":10}');
    if (i >= 100) times.push((performance.now() - t0) * 1000);
  }
  const mb = (n) => (n / 1e6).toFixed(2).padStart(7);
  const br = brotliCompressSync(wasm, { params: { [zc.BROTLI_PARAM_QUALITY]: 11 } }).length;
  console.log(`${dir.split('/').pop().padEnd(16)} ${mb(wasm.length)}  ${mb(gzipSync(wasm, { level: 9 }).length)}  ${mb(br)}  ${median(loads).toFixed(0).padStart(8)} ${median(times).toFixed(0).padStart(8)} ${p99(times).toFixed(0).padStart(8)}`);
}
