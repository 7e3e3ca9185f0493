// Tests of the enforcer's sync loop against an in-memory filter table: nothing is applied before
// all three initial lists are in, changes that matter trigger a restore and others do not, bursts
// coalesce, a failed restore is retried, and the FORWARD jump is repaired.

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { NetworkPolicyEnforcer } from './enforcer.ts';
import { FakeIptables } from './fake_iptables.ts';
import { NETPOL_FORWARD, podChainName } from './rules.ts';
import { makeNamespace, makePod, makePolicy } from './test_fixtures.ts';
import type { Pod } from '../api/types/core_v1.ts';

async function started(fake = new FakeIptables()): Promise<{ fake: FakeIptables; e: NetworkPolicyEnforcer }> {
  const e = await NetworkPolicyEnforcer.create({ nodeName: 'node-a', runner: fake, minSyncPeriodMs: 0, syncPeriodMs: 0 });
  e.onNamespaceAdd(makeNamespace('default'));
  e.onPodAdd(makePod({ name: 'db', ip: '10.42.0.10', labels: { role: 'db' } }));
  return { fake, e };
}

function syncAll(e: NetworkPolicyEnforcer): void {
  e.onPodsSynced();
  e.onNamespacesSynced();
  e.onNetworkPoliciesSynced();
}

const deny = makePolicy('default', 'deny', { podSelector: {}, policyTypes: ['Ingress'] });

describe('NetworkPolicyEnforcer', () => {
  test('options are validated', async () => {
    await assert.rejects(NetworkPolicyEnforcer.create({ nodeName: '' }), /nodeName must be set/);
    await assert.rejects(NetworkPolicyEnforcer.create({ nodeName: 'n', minSyncPeriodMs: -1, runner: new FakeIptables() }), /minSyncPeriodMs must be >= 0, got -1/);
  });

  test('nothing is applied until pods, namespaces and policies are all listed', async () => {
    const { fake, e } = await started();
    e.onNetworkPolicyAdd(deny);
    e.onPodsSynced();
    e.onNamespacesSynced();
    await e.idle();
    assert.equal(fake.restores.length, 0);
    e.onNetworkPoliciesSynced();
    await e.idle();
    assert.equal(fake.restores.length, 1);
    assert.ok(fake.chains.has(podChainName('default', 'db', 'Ingress')));
    assert.equal(fake.chains.get('FORWARD')![0], `-m comment --comment "tkube network policies" -j ${NETPOL_FORWARD}`);
    assert.equal(e.config.sctp, true);
    await e.dispose();
  });

  test('a burst of changes coalesces into one restore; unchanged syncs restore nothing', async () => {
    const { fake, e } = await started();
    syncAll(e);
    await e.idle();
    assert.equal(fake.restores.length, 1);
    for (let i = 0; i < 20; i++) e.onPodAdd(makePod({ name: `p${i}`, ip: `10.42.0.${100 + i}` }));
    e.onNetworkPolicyAdd(deny);
    await e.idle();
    assert.equal(fake.restores.length, 2);
    assert.equal(e.metrics.restores, 2);
    // A status-only update changes nothing policies see.
    const p0 = makePod({ name: 'p0', ip: '10.42.0.100' });
    const p0Ready: Pod = { ...p0, status: { ...p0.status, conditions: [{ type: 'Ready', status: 'True' }] } };
    e.onPodUpdate(p0, p0Ready);
    await e.idle();
    e.requestFullSync();
    await e.idle();
    assert.equal(fake.restores.length, 3, 'only the forced sync restored');
    e.onNetworkPolicyUpdate(deny, deny);
    await e.idle();
    assert.equal(fake.restores.length, 3, 'rendering the same rules again restores nothing');
    assert.ok(e.metrics.syncs >= 4);
    await e.dispose();
  });

  test('deleting the last policy removes the pod chains', async () => {
    const { fake, e } = await started();
    e.onNetworkPolicyAdd(deny);
    syncAll(e);
    await e.idle();
    assert.ok(fake.chains.has(podChainName('default', 'db', 'Ingress')));
    e.onNetworkPolicyDelete(deny);
    await e.idle();
    assert.deepEqual([...fake.chains.keys()].filter((c) => c.startsWith('TKUBE-')), [NETPOL_FORWARD]);
    assert.deepEqual(fake.chains.get(NETPOL_FORWARD), []);
    await e.dispose();
  });

  test('a label change re-renders; a finished pod leaves the rules', async () => {
    const { fake, e } = await started();
    e.onNetworkPolicyAdd(makePolicy('default', 'db-only', { podSelector: { matchLabels: { role: 'db' } } }));
    syncAll(e);
    await e.idle();
    assert.ok(fake.chains.has(podChainName('default', 'db', 'Ingress')));
    const db = makePod({ name: 'db', ip: '10.42.0.10', labels: { role: 'db' } });
    const relabelled = makePod({ name: 'db', ip: '10.42.0.10', labels: { role: 'cache' } });
    e.onPodUpdate(db, relabelled);
    await e.idle();
    assert.ok(!fake.chains.has(podChainName('default', 'db', 'Ingress')));
    e.onPodUpdate(relabelled, db);
    await e.idle();
    assert.ok(fake.chains.has(podChainName('default', 'db', 'Ingress')));
    e.onPodUpdate(db, { ...db, status: { ...db.status, phase: 'Succeeded' } });
    await e.idle();
    assert.ok(!fake.chains.has(podChainName('default', 'db', 'Ingress')));
    await e.dispose();
  });

  test('a failed restore is reported and retried with a full rewrite', async () => {
    const fake = new FakeIptables();
    const timers: { fn: () => void; at: number }[] = [];
    let now = 0;
    const e = await NetworkPolicyEnforcer.create({
      nodeName: 'node-a',
      runner: fake,
      minSyncPeriodMs: 0,
      syncPeriodMs: 0,
      timers: {
        now: () => now,
        setTimeout: (fn, ms) => {
          const t = { fn, at: now + ms };
          timers.push(t);
          return t;
        },
        clearTimeout: (h) => {
          const i = timers.indexOf(h as { fn: () => void; at: number });
          if (i >= 0) timers.splice(i, 1);
        },
      },
    });
    const fireDue = async (): Promise<void> => {
      const due = timers.filter((t) => t.at <= now);
      for (const t of due) timers.splice(timers.indexOf(t), 1);
      for (const t of due) t.fn();
      await e.idle();
      // Let the run's promise chain settle before looking at the timers again.
      await new Promise((r) => setImmediate(r));
    };
    fake.failRestore = true;
    e.onNetworkPolicyAdd(deny);
    e.onPodAdd(makePod({ name: 'db', ip: '10.42.0.10' }));
    syncAll(e);
    await fireDue();
    assert.equal(e.metrics.syncFailures, 1);
    assert.match(String(e.lastError), /failed/);
    assert.equal(timers.length, 1, 'a retry is scheduled');
    assert.equal(timers[0]!.at, 5000);
    fake.failRestore = false;
    now = 5000;
    await fireDue();
    assert.equal(e.lastError, null);
    assert.ok(fake.chains.has(podChainName('default', 'db', 'Ingress')));
    await e.dispose();
    assert.equal(timers.length, 0, 'dispose clears the timers');
  });

  test('a sync puts the FORWARD jump back first after another rule was inserted above it', async () => {
    const { fake, e } = await started();
    syncAll(e);
    await e.idle();
    fake.chains.get('FORWARD')!.unshift('-j KUBE-FORWARD');
    const before = fake.restores.length;
    // A change that renders the same rules: only the misplaced jump needs the restore.
    e.onPodAdd(makePod({ name: 'other', ip: '10.42.0.77' }));
    await e.idle();
    assert.equal(fake.restores.length, before + 1);
    assert.deepEqual(fake.chains.get('FORWARD'), [`-m comment --comment "tkube network policies" -j ${NETPOL_FORWARD}`, '-j KUBE-FORWARD']);
    await e.dispose();
  });
});
