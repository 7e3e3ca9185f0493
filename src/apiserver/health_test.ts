import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Res } from './http_util.ts';
import { healthChecks, serveHealth } from './health.ts';

/** A response that records what was written. */
function recorder(): { res: Res; got: () => { code: number; body: string } } {
  let code = 0;
  let body = '';
  const res = {
    headersSent: false,
    writeHead(c: number) { code = c; return this; },
    end(b?: Buffer) { body = b ? b.toString() : ''; },
  };
  return { res: res as unknown as Res, got: () => ({ code, body }) };
}

describe('health endpoints', () => {
  test('a failing check answers 500 with its reason withheld on the root and given on its own path', async () => {
    let down = true;
    const checks = healthChecks({ probeStorage: async () => { if (down) throw new Error('database is locked'); }, shuttingDown: () => false });
    const root = recorder();
    assert.equal(await serveHealth(root.res, '/readyz', new URLSearchParams(), checks), true);
    assert.equal(root.got().code, 500);
    assert.match(root.got().body, /^\[\+\]ping ok\n\[\+\]log ok\n\[-\]etcd failed: reason withheld\n/);
    assert.match(root.got().body, /readyz check failed\n$/);
    assert.doesNotMatch(root.got().body, /database is locked/);
    const one = recorder();
    await serveHealth(one.res, '/readyz/etcd', new URLSearchParams(), checks);
    assert.deepEqual(one.got(), { code: 500, body: 'internal server error: database is locked\n' });
    down = false;
    const ok = recorder();
    await serveHealth(ok.res, '/readyz', new URLSearchParams(), checks);
    assert.deepEqual(ok.got(), { code: 200, body: 'ok' });
  });

  test('readyz fails while shutting down; livez does not; other paths are not health paths', async () => {
    const checks = healthChecks({ probeStorage: async () => undefined, shuttingDown: () => true });
    const ready = recorder();
    await serveHealth(ready.res, '/readyz', new URLSearchParams('verbose'), checks);
    assert.equal(ready.got().code, 500);
    assert.match(ready.got().body, /\[-\]shutdown failed: reason withheld\n/);
    const live = recorder();
    await serveHealth(live.res, '/livez', new URLSearchParams(), checks);
    assert.deepEqual(live.got(), { code: 200, body: 'ok' });
    assert.equal(await serveHealth(recorder().res, '/livez/nope', new URLSearchParams(), checks), false);
    assert.equal(await serveHealth(recorder().res, '/api', new URLSearchParams(), checks), false);
  });
});
