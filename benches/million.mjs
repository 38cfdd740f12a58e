// The million-item catalog in WASM (Node): bundle size, load time, memory,
// recommend p50/p99. The catalog is synthetic (examples/synthetic_catalog.rs:
// the default bundle's 3,754 items copied with noise to 1,000,000, d = 100,
// pq table, 4 co-purchase neighbours an item), built once and cached. `npm run bench`
// measures it twice: at a million, and cut to SHARD_ITEMS (a shard that fits 128 MB).
//   node benches/million.mjs [ITEMS]       prints one JSON line (a fresh process,
//                                          so the module's memory is this bundle's alone)
import { readFile, stat, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { brotliCompressSync, constants as zc } from 'node:zlib';
import { timedLoads } from './loads.mjs';
import { manifestOf } from './safetensors.mjs';

const root = new URL('..', import.meta.url).pathname;
const cache = process.env.EDGEREC_CACHE ?? `${process.env.HOME}/.cache/edgerec`;
const base = `${root}models/online-retail/online-retail.edgerec`;
const QUERIES = 300;
const LOADS = 3;
/** A shard of a large catalog that fits a Worker's 128 MB (measured: 121 MB at 400,000 items). */
export const SHARD_ITEMS = 400_000;

/** The synthetic bundle's path, built when missing or older than its base or generator. */
export async function millionBundle(items = 1_000_000) {
  const out = `${cache}/bench/synthetic-${items}.edgerec`;
  const generator = `${root}examples/synthetic_catalog.rs`;
  const newest = Math.max((await stat(base)).mtimeMs, (await stat(generator)).mtimeMs);
  if (!existsSync(out) || (await stat(out)).mtimeMs < newest) {
    await mkdir(`${cache}/bench`, { recursive: true });
    execFileSync('cargo', ['run', '--quiet', '--release', '--example', 'synthetic_catalog', '--', base, String(items), out], {
      cwd: root,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  }
  return out;
}

/** Runs the measurement in a fresh Node process and returns its figures. */
export async function benchMillion(items = 1_000_000) {
  await millionBundle(items);
  const out = execFileSync(process.execPath, [`${root}benches/million.mjs`, String(items)], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop());
}

async function measure(items) {
  const { Recommender, wasmMemoryBytes } = await import('../js/node.mjs');
  const path = await millionBundle(items);
  const bytes = new Uint8Array(await readFile(path));
  const brotli = brotliCompressSync(bytes, { params: { [zc.BROTLI_PARAM_QUALITY]: 5 } }).length;
  const itemIds = manifestOf(bytes).item_ids;
  const { rec, loads } = await timedLoads(Recommender, bytes, LOADS);
  // Sessions of 1-8 items drawn over the whole catalog (fixed seed).
  let seed = 12345;
  const rand = (n) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
  const times = [];
  for (let q = 0; q < QUERIES + 20; q++) {
    rec.reset();
    for (let j = 0, len = 1 + rand(8); j < len; j++) rec.track('view', itemIds[rand(itemIds.length)]);
    const t0 = performance.now();
    rec.recommend({ k: 10 });
    if (q >= 20) times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  loads.sort((a, b) => a - b);
  const memory = wasmMemoryBytes();
  rec.free();
  return {
    items,
    bundleBytes: bytes.length,
    bundleBrotli: brotli,
    loadMs: loads[Math.floor(LOADS / 2)],
    memoryBytes: memory,
    p50Ms: times[Math.floor(times.length / 2)],
    p99Ms: times[Math.floor(times.length * 0.99)],
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await measure(Number(process.argv[2] ?? 1_000_000))));
}
