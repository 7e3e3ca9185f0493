// Unit tests of the certificate manager's schedule: the rotation deadline falls at a jittered
// 70-90% of the certificate's lifetime, as client-go's certificate manager places it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createCertificateAuthority, issueCertificate } from '../base/pki.ts';
import { FakeClock, type Clock } from '../client/clock.ts';
import { CertificateManager, rotationDeadline } from './certificate_manager.ts';

describe('rotation deadline', () => {
  const notBefore = Date.UTC(2025, 0, 1);
  const notAfter = notBefore + 1000 * 3600_000;

  test('jitter 0 is 70% of the lifetime, jitter 1 is 90%', () => {
    assert.equal(rotationDeadline(notBefore, notAfter, 0), notBefore + 700 * 3600_000);
    assert.equal(rotationDeadline(notBefore, notAfter, 1), notBefore + 900 * 3600_000);
  });

  test('random jitter always lands within 70-90%', () => {
    for (let i = 0; i < 1000; i++) {
      const d = rotationDeadline(notBefore, notAfter, Math.random());
      assert.ok(d >= notBefore + 700 * 3600_000 && d <= notBefore + 900 * 3600_000);
    }
  });

  test('out-of-range jitter is clamped', () => {
    assert.equal(rotationDeadline(notBefore, notAfter, -3), notBefore + 700 * 3600_000);
    assert.equal(rotationDeadline(notBefore, notAfter, 7), notBefore + 900 * 3600_000);
  });
});

describe('CertificateManager schedule', () => {
  test('a deadline months away waits in timer-sized steps instead of firing at once', async () => {
    const ca = await createCertificateAuthority({ commonName: 'test-ca', days: 800 });
    const initial = await issueCertificate({ ca, commonName: 'system:node:n1', organizations: ['system:nodes'], usages: 'client', days: 365 });
    const fake = new FakeClock(Date.now());
    // setTimeout fires at once past 2^31-1 ms, so no timer may ask for more
    let longest = 0;
    const clock: Clock = { now: () => fake.now(), setTimer: (fn, ms) => { longest = Math.max(longest, ms); return fake.setTimer(fn, ms); } };
    let requested = 0;
    const m = new CertificateManager({
      name: 'test', initial, clock, jitter: () => 0,
      template: { signerName: 'kubernetes.io/kube-apiserver-client-kubelet', usages: ['client auth'], commonName: 'system:node:n1', organizations: ['system:nodes'] },
      client: () => { requested++; throw new Error('no API server in this test'); },
    });
    try {
      m.start();
      const deadline = m.deadline();
      assert.ok(deadline - fake.now() > 2 ** 31, 'the deadline is beyond one timer');
      fake.setTime(deadline - 1000);
      await new Promise((r) => setImmediate(r));
      assert.equal(requested, 0, 'no rotation before the deadline');
      fake.setTime(deadline);
      await new Promise((r) => setImmediate(r));
      assert.equal(requested, 1, 'rotation is attempted at the deadline');
      assert.ok(longest <= 2 ** 31 - 1, `a timer of ${longest} ms`);
    } finally {
      m.dispose();
    }
  });
});
