// The Fastly Compute app (edge/fastly, Rust, wasm32-wasip1) in Viceroy.
// scripts/test.sh builds the app and installs Viceroy (cached) first.
import { test } from 'node:test';
import { existsSync } from 'node:fs';
import assert from 'node:assert/strict';
import { checkEndpoint, checkFirstRequestsTogether, freePort, startProcess, waitForPort } from './helpers.mjs';

const viceroy = process.env.EDGEREC_VICEROY;
const app = process.env.EDGEREC_FASTLY_WASM;

test('the Fastly app serves /v1/recommend in Viceroy, bad requests are 4xx', async () => {
  assert.ok(viceroy && existsSync(viceroy), `EDGEREC_VICEROY must name the viceroy binary (got ${viceroy})`);
  assert.ok(app && existsSync(app), `EDGEREC_FASTLY_WASM must name the built app (got ${app})`);
  const port = await freePort();
  const server = startProcess(viceroy, ['serve', '--addr', `127.0.0.1:${port}`, app]);
  try {
    await waitForPort(port, server, 120_000);
    await checkFirstRequestsTogether(`http://127.0.0.1:${port}`);
    await checkEndpoint(`http://127.0.0.1:${port}`);
  } finally {
    server.stop();
  }
});
