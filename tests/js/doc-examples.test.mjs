// Every API example in README.md and docs/*.md compiles against the package's
// own types: each ```js, ```javascript, ```mjs, ```ts or ```typescript block is
// written out as a file of its own and type-checked by the TypeScript compiler
// in node_modules (tsc --strict, as tests/js/types.test.mjs runs it), resolving
// `edgerec`, `edgerec/worker`, `edgerec/element`, `edgerec/embedded` and
// `edgerec/prio3` through package.json's exports to index.d.ts and js/*.d.ts.
// A JS block is checked as JavaScript (checkJs, strict): a misspelt method or
// option, a wrong argument type or a value that may be null fails here.
//
// Why type-checking, not running: most examples need what Node has not (a
// page, a Worker, a collector, a CDN) or name values the page around them
// holds. Running is left to tests/types/usage.ts, which calls every API these
// examples show on the real engine and compares each returned object's keys
// with its interface (tests/js/types.test.mjs); so a doc example that compiles
// calls an API that exists, with the shapes the engine really returns.
//
// The names the examples take from the code around them (the page's own
// render function, the bundle's URL…) are declared once, with their types,
// in AMBIENT below. A block that is not an API example is listed in SKIP with
// the reason; an entry that matches no block fails the test, so the list
// cannot go stale.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const OUT = 'target/doc-examples';
const LANGS = { js: 'mjs', javascript: 'mjs', mjs: 'mjs', ts: 'mts', typescript: 'mts' };

/**
 * Blocks that are not API examples: { file, starts (the block's first line
 * starts with it), why }. None today: every JS/TS block in the docs is one.
 * Shell, JSON, HTML, Python and plain blocks are not JS and are not read.
 */
const SKIP = [];

/** What examples assume the page around them holds (kept minimal: prefer self-contained examples). */
const AMBIENT = `// Written by tests/js/doc-examples.test.mjs: names the doc examples take from their surroundings.
/** The URL the store serves a bundle at. */
declare const url: string;
/** The recommender an earlier example on the same page loaded. */
declare const rec: import('edgerec').Recommender;
/** The store's own rendering. */
declare function show(lines: string[]): void;
declare function render(offer: import('edgerec').ChosenOffer | null): void;
/** The shopper's answer on the store's consent banner. */
declare const shopperSaidYes: boolean;
/** A store's own offer policy (schema/policy.schema.json). */
declare const storePolicy: Record<string, unknown>;
/** The two Prio3 aggregators' base URLs, and the task id their provisioning printed. */
declare const LEADER: string;
declare const HELPER: string;
declare const taskId: string;
/** What the page hands edgerec/embedded: the engine's .wasm and a bundle, as bytes. */
declare const wasmBytes: Uint8Array;
declare const bundleBytes: Uint8Array;
/** A bundle imported as bytes: wrangler's Data rule for *.edgerec (edge/cloudflare/wrangler.toml). */
declare module '*.edgerec' {
  const bytes: ArrayBuffer;
  export default bytes;
}
`;

/** The fenced blocks of a Markdown text: { lang, line (1-based, of the first code line), code }. */
function blocks(text) {
  const out = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)/.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence, lang] = open;
    const body = [];
    let j = i + 1;
    for (; j < lines.length && !lines[j].trimStart().startsWith(fence); j++) body.push(lines[j].slice(indent.length));
    out.push({ lang: lang.toLowerCase(), line: i + 2, code: body.join('\n') });
    i = j;
  }
  return out;
}

function docFiles() {
  const docs = readdirSync(`${ROOT}docs`).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`);
  return ['README.md', ...docs];
}

test('every JS and TS example in README.md and docs/ type-checks against the package types', () => {
  rmSync(`${ROOT}${OUT}`, { recursive: true, force: true });
  mkdirSync(`${ROOT}${OUT}`, { recursive: true });
  writeFileSync(`${ROOT}${OUT}/ambient.d.ts`, AMBIENT);
  // A page with the edgerec/element script tag has its globals (window.edgerec, <edgerec-slot>).
  writeFileSync(`${ROOT}${OUT}/element-page.d.ts`, "import type {} from 'edgerec/element';\n");
  const files = [];
  /** Generated file → where its block starts in the docs. */
  const origin = new Map();
  const skipped = new Set();
  for (const doc of docFiles()) {
    for (const b of blocks(readFileSync(`${ROOT}${doc}`, 'utf8'))) {
      const ext = LANGS[b.lang];
      if (!ext) continue;
      const skip = SKIP.find((s) => s.file === doc && b.code.trimStart().startsWith(s.starts));
      if (skip) {
        skipped.add(skip);
        continue;
      }
      const name = `${doc.replace(/[/.]/g, '_')}_L${b.line}.${ext}`;
      // An empty export keeps a block without imports a module of its own (top-level await, its own scope).
      writeFileSync(`${ROOT}${OUT}/${name}`, `${b.code}\nexport {};\n`);
      files.push(name);
      origin.set(name, { doc, line: b.line });
    }
  }
  assert.deepEqual(SKIP.filter((s) => !skipped.has(s)), [], 'a SKIP entry matches no block: remove it');
  assert.ok(files.length >= 10, `found only ${files.length} examples: is the extraction still matching?`);
  assert.ok(files.some((f) => f.startsWith('README')), 'README.md shows at least one example');

  writeFileSync(`${ROOT}${OUT}/tsconfig.json`, JSON.stringify({
    compilerOptions: {
      strict: true,
      target: 'es2022',
      module: 'nodenext',
      moduleResolution: 'nodenext',
      lib: ['es2022', 'dom'],
      types: ['node'],
      skipLibCheck: false,
      allowJs: true,
      checkJs: true,
      noEmit: true,
    },
    files: ['ambient.d.ts', 'element-page.d.ts', ...files],
  }, null, 2));
  let output = '';
  try {
    execFileSync(`${ROOT}node_modules/.bin/tsc`, ['-p', `${OUT}/tsconfig.json`, '--pretty', 'false'], { cwd: ROOT, encoding: 'utf8' });
  } catch (e) {
    output = `${e.stdout ?? ''}${e.stderr ?? ''}` || String(e);
  }
  // Point each error at the Markdown line it comes from.
  const located = output.replace(/(?:target\/doc-examples\/)?([\w.-]+_L\d+\.m[jt]s)\((\d+),(\d+)\)/g, (all, name, line, col) => {
    const at = origin.get(name);
    return at ? `${at.doc}:${at.line + Number(line) - 1}:${col}` : all;
  });
  if (located.trim()) assert.fail(`doc examples that do not compile:\n${located}`);
});

// ---- the docs' own links ----
// Every relative link in README.md and docs/*.md names a file that exists and,
// with a #fragment, a heading of that file (GitHub's anchors), so moving a
// section cannot leave a dangling link behind.

/** A fenced block, fences included (the same fence closes it, at the same indent). */
const FENCED = /^([ \t]*)(`{3,}|~{3,})[^\n]*\n[\s\S]*?^\1\2[ \t]*$/gm;

/** GitHub's anchor of a heading: lower case, punctuation dropped, each space a hyphen; repeats get -1, -2… */
function anchors(markdown) {
  const seen = new Map();
  const out = new Set();
  const text = markdown.replace(FENCED, '');
  for (const [, title] of text.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const plain = title.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
    const slug = plain.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
    const n = seen.get(slug) ?? 0;
    seen.set(slug, n + 1);
    out.add(n === 0 ? slug : `${slug}-${n}`);
  }
  return out;
}

test('every relative link in README.md and docs/ resolves to a file and a heading', () => {
  const broken = [];
  let checked = 0;
  for (const doc of docFiles()) {
    const text = readFileSync(`${ROOT}${doc}`, 'utf8').replace(FENCED, '').replace(/`[^`\n]*`/g, '');
    const dir = doc.includes('/') ? doc.slice(0, doc.lastIndexOf('/') + 1) : '';
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
      checked += 1;
      const [path, fragment] = target.split('#');
      const file = path === '' ? doc : new URL(path, `file:///${dir}`).pathname.slice(1);
      let body;
      try {
        body = readFileSync(`${ROOT}${file}`, file.endsWith('.md') ? 'utf8' : undefined);
      } catch {
        broken.push(`${doc}: ${target} (no file ${file})`);
        continue;
      }
      if (fragment !== undefined && !(file.endsWith('.md') && anchors(body).has(fragment))) {
        broken.push(`${doc}: ${target} (no heading #${fragment} in ${file})`);
      }
    }
  }
  assert.ok(checked >= 30, `checked only ${checked} links: is the pattern still matching?`);
  assert.deepEqual(broken, []);
});
