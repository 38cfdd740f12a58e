// The Cloudflare Worker (edge/cloudflare) in the real workerd runtime.
import { test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { checkEndpoint, checkFirstRequestsTogether, freePort, ROOT, startProcess, waitForPort } from './helpers.mjs';

test('the Worker serves /v1/recommend in workerd, bad requests are 4xx', async () => {
  execFileSync(process.execPath, [`${ROOT}edge/cloudflare/build.mjs`], { stdio: 'inherit' });
  const port = await freePort();
  const server = startProcess(`${ROOT}node_modules/.bin/workerd`, [
    'serve', `${ROOT}edge/cloudflare/dist/config.capnp`, '--socket-addr', `http=127.0.0.1:${port}`, '--verbose',
  ]);
  try {
    await waitForPort(port, server);
    await checkFirstRequestsTogether(`http://127.0.0.1:${port}`);
    await checkEndpoint(`http://127.0.0.1:${port}`);
  } finally {
    server.stop();
  }
});
