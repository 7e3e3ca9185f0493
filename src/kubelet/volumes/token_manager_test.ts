import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../../client/clock.ts';
import { TokenManager } from './token_manager.ts';
import type { TokenRequestSpec } from './types.ts';

const spec: TokenRequestSpec = { namespace: 'ns', serviceAccount: 'default', audiences: [], expirationSeconds: 3600, podName: 'p', podUID: 'u' };

describe('token manager', () => {
  test('a token is reused until 80% of its life has passed', async () => {
    const clock = new FakeClock(1_000_000);
    let n = 0;
    const tm = new TokenManager(async (s) => ({ token: `t${++n}`, expiresAt: clock.now() + s.expirationSeconds * 1000 }), clock);
    assert.equal(await tm.get(spec), 't1');
    clock.step(2879_000);
    assert.equal(await tm.get(spec), 't1');
    clock.step(2_000);
    assert.equal(await tm.get(spec), 't2');
    // another audience is another token
    assert.equal(await tm.get({ ...spec, audiences: ['vault'] }), 't3');
  });

  test('a long-lived token is still reissued daily, and a failed reissue keeps the valid one', async () => {
    const clock = new FakeClock(0);
    let fail = false;
    let n = 0;
    const tm = new TokenManager(async () => {
      if (fail) throw new Error('API down');
      return { token: `t${++n}`, expiresAt: clock.now() + 365 * 86_400_000 };
    }, clock);
    assert.equal(await tm.get(spec), 't1');
    clock.step(86_400_000);
    fail = true;
    assert.equal(await tm.get(spec), 't1');
    fail = false;
    assert.equal(await tm.get(spec), 't2');
    tm.deletePodTokens('u');
    assert.equal(await tm.get(spec), 't3');
  });
});
