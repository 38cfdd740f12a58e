// The package's types against its code: tsc --strict compiles a file that
// uses every public API the README and docs/ show (tests/types/usage.ts, entries
// `edgerec`, `edgerec/worker`, `edgerec/embedded`), then Node runs the
// compiled file on the real engine and reports any key a call returns that
// its interface does not declare, or declares and never returns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

test('index.d.ts and the worker and embedded types compile under --strict and match what the engine returns', () => {
  execFileSync(`${ROOT}node_modules/.bin/tsc`, ['-p', 'tests/types/tsconfig.json'], { cwd: ROOT, stdio: 'inherit' });
  const out = execFileSync(process.execPath, ['target/types-check/usage.js'], { cwd: ROOT, encoding: 'utf8' });
  const { drift, checked } = JSON.parse(out.trim().split('\n').at(-1));
  assert.deepEqual(drift, []);
  assert.equal(checked.policyId, 'online-retail-default');
});
