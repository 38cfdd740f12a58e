// The real sessions the benchmarks replay (../shared/data).
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';

const shared = new URL('../../shared/data', import.meta.url).pathname;

/** Last-month invoices of Online Retail, as the sessions a shopper would build. */
export async function retailSessions() {
  const text = gunzipSync(await readFile(`${shared}/online-retail/online_retail.csv.gz`)).toString('latin1');
  const invoices = new Map();
  for (const line of text.split('\n').slice(1)) {
    const m = line.match(/^(\d+),([^,]+),.*,(2011-1[12]-\d\d)/);
    if (!m || m[3] < '2011-11-09') continue;
    const items = invoices.get(m[1]) ?? [];
    items.push(m[2].trim().toUpperCase());
    invoices.set(m[1], items);
  }
  return [...invoices.values()].map((s) => s.slice(0, 20));
}

/** Diginetica test prefixes (SR-GNN protocol file). */
export async function digineticaSessions() {
  const text = await readFile(`${shared}/diginetica/test_prefix_target.tsv`, 'utf8');
  return text.trim().split('\n').map((l) => l.split('\t')[0].split(' ').slice(-20));
}

/** `n` sessions spread evenly over the file. */
export function pick(sessions, n) {
  const step = Math.max(1, Math.floor(sessions.length / n));
  return sessions.filter((s, i) => i % step === 0 && s.length > 0).slice(0, n);
}
