// Leader election: two candidates against the real API server (takeover after a release, and after
// a crashed leader's lease expires), the Lease's fields as upstream writes them, and a leader that
// cannot renew within renewDeadline stepping down.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Lease } from '../api/types/coordination_v1.ts';
import { startTestServer, type TestServer } from '../testing/test_server.ts';
import { LeaderElector, type LeaderElectionConfig } from './leader_election.ts';
import { LeaseLock, type LeaderElectionRecord, type ResourceLock } from './lease_lock.ts';
import { RestClient } from './rest_client.ts';
import { resourceDescriptor } from './resource_descriptor.ts';
import { ApiStatusError } from './api_errors.ts';

const LEASES = resourceDescriptor('coordination.k8s.io/v1', 'leases');
const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

let server: TestServer;
let clientA: RestClient;
let clientB: RestClient;

before(async () => {
  server = await startTestServer();
  clientA = await RestClient.fromKubeconfig(server.kubeconfig);
  clientB = await RestClient.fromKubeconfig(server.kubeconfig);
});

after(async () => {
  await clientA.dispose();
  await clientB.dispose();
  await server.stop();
});

async function waitFor(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface Candidate {
  elector: LeaderElector;
  leading: boolean;
  started: number;
  stopped: number;
  signal: AbortSignal | undefined;
  leaders: string[];
  done: Promise<void>;
}

function candidate(client: RestClient, name: string, identity: string, extra: Partial<LeaderElectionConfig> = {}): Candidate {
  const c: Candidate = { leading: false, started: 0, stopped: 0, signal: undefined, leaders: [], done: Promise.resolve(), elector: undefined as never };
  c.elector = new LeaderElector({
    lock: new LeaseLock({ client, namespace: 'kube-system', name, identity }),
    leaseDurationMs: 2000,
    renewDeadlineMs: 1500,
    retryPeriodMs: 100,
    callbacks: {
      onStartedLeading: (signal) => { c.leading = true; c.started++; c.signal = signal; },
      onStoppedLeading: () => { c.leading = false; c.stopped++; },
      onNewLeader: (id) => c.leaders.push(id),
    },
    ...extra,
  });
  c.done = c.elector.run();
  return c;
}

async function lease(name: string): Promise<Lease> {
  return clientA.resource<Lease>(LEASES, 'kube-system').get(name);
}

describe('LeaderElector on a Lease', () => {
  test('the second candidate takes over as soon as the first stops and releases the lease', async () => {
    const a = candidate(clientA, 'takeover', 'a', { releaseOnCancel: true });
    let b: Candidate | undefined;
    try {
      await waitFor('a to lead', () => a.leading);
      const first = await lease('takeover');
      assert.equal(first.spec?.holderIdentity, 'a');
      assert.equal(first.spec?.leaseDurationSeconds, 2);
      assert.equal(first.spec?.leaseTransitions, 0);
      assert.match(first.spec?.acquireTime ?? '', MICRO_TIME);
      assert.match(first.spec?.renewTime ?? '', MICRO_TIME);

      b = candidate(clientB, 'takeover', 'b', { releaseOnCancel: true });
      await waitFor('b to observe a', () => b!.leaders.includes('a'));
      // Several retry periods pass; the lease is held and renewed, so b must stay a follower.
      await new Promise((r) => setTimeout(r, 400));
      assert.equal(b.leading, false);
      assert.equal(b.elector.isLeader(), false);
      assert.equal(b.elector.getLeader(), 'a');
      const renewed = await lease('takeover');
      assert.ok(Date.parse(renewed.spec!.renewTime!) > Date.parse(first.spec!.renewTime!), 'the leader renews');
      assert.equal(renewed.spec?.acquireTime, first.spec?.acquireTime, 'renewals keep acquireTime');

      const stoppedAt = Date.now();
      a.elector.stop();
      await a.done;
      assert.equal(a.stopped, 1);
      assert.equal(a.signal?.aborted, true, 'the leading signal aborts when leadership ends');
      await waitFor('b to lead', () => b!.leading);
      assert.ok(Date.now() - stoppedAt < 1500, 'a released lease is taken without waiting for it to expire');
      const taken = await lease('takeover');
      assert.equal(taken.spec?.holderIdentity, 'b');
      assert.equal(taken.spec?.leaseTransitions, 1);
      assert.equal(taken.spec?.leaseDurationSeconds, 2);
    } finally {
      await a.elector.dispose();
      await b?.elector.dispose();
    }
    assert.equal((await lease('takeover')).spec?.holderIdentity, '', 'releaseOnCancel clears the holder');
  });

  test('a standby takes over a crashed leader\'s lease only after it expires', async () => {
    const a = candidate(clientA, 'expiry', 'a');
    let b: Candidate | undefined;
    try {
      await waitFor('a to lead', () => a.leading);
      a.elector.stop(); // no release: as if the process died
      await a.done;
      assert.equal((await lease('expiry')).spec?.holderIdentity, 'a');
      const start = Date.now();
      b = candidate(clientB, 'expiry', 'b');
      await waitFor('b to lead', () => b!.leading, 10_000);
      assert.ok(Date.now() - start >= 1900, `b waited ${Date.now() - start} ms; the lease lasts 2 s`);
      const taken = await lease('expiry');
      assert.equal(taken.spec?.holderIdentity, 'b');
      assert.equal(taken.spec?.leaseTransitions, 1);
    } finally {
      await a.elector.dispose();
      await b?.elector.dispose();
    }
  });
});

describe('LeaderElector', () => {
  test('steps down when it cannot renew within renewDeadline', async () => {
    let failing = false;
    let stored: LeaderElectionRecord | undefined;
    const lock: ResourceLock = {
      identity: 'me',
      describe: () => 'fake/lock',
      get: async () => {
        if (!stored) throw new ApiStatusError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'NotFound', code: 404, message: 'not found' });
        if (failing) throw new Error('apiserver unreachable');
        return { record: stored, raw: JSON.stringify(stored) };
      },
      create: async (r) => { stored = r; },
      update: async (r) => {
        if (failing) throw new Error('apiserver unreachable');
        stored = r;
      },
      recordEvent: () => {},
    };
    let leading = false;
    let stoppedAt = 0;
    const elector = new LeaderElector({
      lock, leaseDurationMs: 2000, renewDeadlineMs: 500, retryPeriodMs: 50,
      callbacks: { onStartedLeading: () => { leading = true; }, onStoppedLeading: () => { stoppedAt = Date.now(); } },
    });
    const done = elector.run();
    try {
      await waitFor('leading', () => leading);
      const failedAt = Date.now();
      failing = true;
      await done;
      const took = stoppedAt - failedAt;
      assert.ok(took >= 400 && took < 2000, `stepped down after ${took} ms`);
    } finally {
      await elector.dispose();
    }
  });

  test('validates its timings', () => {
    const lock = new LeaseLock({ client: clientA, namespace: 'ns', name: 'n', identity: 'i' });
    const callbacks = { onStartedLeading: () => {}, onStoppedLeading: () => {} };
    assert.throws(() => new LeaderElector({ lock, callbacks, leaseDurationMs: 10_000, renewDeadlineMs: 10_000 }), /leaseDuration must be greater than renewDeadline/);
    assert.throws(() => new LeaderElector({ lock, callbacks, renewDeadlineMs: 2000, retryPeriodMs: 2000 }), /renewDeadline must be greater than retryPeriod\*JitterFactor/);
    assert.throws(() => new LeaseLock({ client: clientA, namespace: 'ns', name: '', identity: 'i' }), /name must be a non-empty string/);
  });
});
