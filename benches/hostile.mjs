// Hostile loads (issue 36): how long a bundle of the shipped size takes to
// load, or to be refused, when its encoder graph is as costly as the model
// contract allows or beyond it. WASM in Node, median of a few loads each,
// beside the shipped bundle's own load. The contract's bounds are in
// src/encoder/graph_text.rs; the graphs are edited as tests/js/bundle-edit.mjs
// edits them (checksums recomputed, so each edit reaches the readers).
import { readFile } from 'node:fs/promises';
import { Recommender } from '../js/node.mjs';
import { declaringTwoGiB, deeplyNested, editEncoder, editGraph, graphText, selfCalling } from '../tests/js/bundle-edit.mjs';
import { median } from './stats.mjs';

const root = new URL('..', import.meta.url).pathname;
const LOADS = 5;
const LAST = '  session = __Div;';

/**
 * `count` distinct statements before the graph's last, each an `add` with
 * `infix` operators inside, or (-1) a plain alias.
 */
const padded = (count, infix) => (text) => {
  // infix -1: a plain alias, no operation at all.
  const expression = Array.from({ length: infix + 1 }, () => '__Div').join(' + ');
  const line = (i) => (infix < 0 ? `  edgerec_pad_${i} = __Div;` : `  edgerec_pad_${i} = add(__Div, ${expression});`);
  const extra = Array.from({ length: count }, (_, i) => line(i));
  return text.replace(LAST, `${extra.join('\n')}\n${LAST}`);
};

/**
 * The graph grown towards `bytes` of text with copies of its scan statement
 * (its longest, ~420 bytes), each under a name of its own: the most text
 * tract parses before the parsed graph can be checked.
 */
const scansUpTo = (bytes) => (text) => {
  const scan = text.split('\n').find((l) => l.includes('tract_core_scan('));
  const copy = (i) => scan.replace(/^\s*\([^)]*\)/, `  ( edgerec_scan_${i}, edgerec_scan_last_${i} )`);
  const extra = [];
  let size = new TextEncoder().encode(text).length;
  for (let i = 0; size + copy(i).length + 1 <= bytes; i++) {
    extra.push(copy(i));
    size += copy(i).length + 1;
  }
  return text.replace(LAST, `${extra.join('\n')}\n${LAST}`);
};

/** How each case loads: its outcome (`loaded` or the code) and the median ms. */
export async function benchHostileLoads() {
  const bundle = new Uint8Array(await readFile(`${root}models/online-retail/online-retail.edgerec`));
  const shippedStatements = graphText(bundle).split(';').length - 1;
  const repeatLine = '  __Div = mul(__Mul_1, __Div_recip);';
  const cases = [
    ['the shipped bundle', bundle],
    // At the bounds: 500 statements, 500 operations (the shipped graph has ~60 and ~75).
    ['500 statements (aliases)', editGraph(bundle, padded(500 - shippedStatements, -1))],
    ['180 more statements of 2 operations', editGraph(bundle, padded(180, 1))],
    ['24 more statements of 16 operations', editGraph(bundle, padded(24, 15))],
    ['graph text at its 64 KiB bound, in scan statements', editGraph(bundle, scansUpTo(64 * 1024))],
    ['600 statements (refused)', editGraph(bundle, padded(600, -1))],
    ['one bracket nested 3,000 deep (refused)', editGraph(bundle, deeplyNested(3000))],
    ['nested 20 deep: 46 s before (refused)', editGraph(bundle, deeplyNested(20))],
    ['a fragment that calls itself (refused)', editGraph(bundle, selfCalling())],
    ['a line repeated 200 times (refused)', editGraph(bundle, (t) => t.replace(repeatLine, `${repeatLine}\n`.repeat(200) + repeatLine))],
    ['tensor headers declaring 2 GiB (refused)', editEncoder(bundle, declaringTwoGiB)],
  ];
  const rows = [];
  for (const [name, bytes] of cases) {
    const ms = [];
    let outcome;
    let message = null;
    for (let i = 0; i < LOADS; i++) {
      const t0 = performance.now();
      outcome = await Recommender.load(bytes, { storage: null }).then(
        (rec) => (rec.free(), 'loaded'),
        (e) => ((message = e.message), e.code ?? `${e.name} (no code)`),
      );
      ms.push(performance.now() - t0);
    }
    rows.push({ name, outcome, message, medianMs: median(ms), maxMs: Math.max(...ms) });
  }
  return { rows, shippedStatements };
}
