// Every error code the engine and its wrappers can produce is the one list
// index.d.ts types and the README documents (issue 15, item 5).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';

const root = new URL('../../', import.meta.url);
const text = (path) => readFile(new URL(path, root), 'utf8');
const all = (source, pattern) => new Set([...source.matchAll(pattern)].map((m) => m[1]));

async function thrownCodes() {
  const codes = new Set();
  const rust = (await text('src/error.rs')) + (await text('src/api.rs'));
  for (const c of all(rust, /=> "([A-Z_]+)"/g)) codes.add(c);
  for (const c of all(rust, /plain_error\(\d+, "([A-Z_]+)"/g)) codes.add(c);
  for (const file of (await readdir(new URL('js/', root))).filter((f) => f.endsWith('.mjs'))) {
    const js = await text(`js/${file}`);
    for (const c of all(js, /edgerecError\('([A-Z_]+)'/g)) codes.add(c);
    for (const c of all(js, /code: '([A-Z_]+)'/g)) codes.add(c);
  }
  return codes;
}

test('the codes thrown are the codes typed and documented', async () => {
  const thrown = await thrownCodes();
  assert.ok(thrown.size >= 20, `found ${thrown.size} codes: the patterns still match the sources`);
  const dts = await text('index.d.ts');
  const union = dts.slice(dts.indexOf('export type ErrorCode'), dts.indexOf(';', dts.indexOf('export type ErrorCode')));
  const typed = all(union, /'([A-Z_]+)'/g);
  assert.deepEqual([...thrown].filter((c) => !typed.has(c)), [], 'thrown but not in index.d.ts ErrorCode');
  assert.deepEqual([...typed].filter((c) => !thrown.has(c)), [], 'typed but never thrown');
  const readme = await text('README.md');
  const list = readme.slice(readme.indexOf('Every error is a JS `Error`'), readme.indexOf('A failed call changes nothing'));
  const documented = all(list, /`([A-Z_]+)`/g);
  assert.deepEqual([...thrown].filter((c) => !documented.has(c)), [], 'thrown but not in the README list');
});
