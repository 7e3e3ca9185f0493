// Unit tests of PodDisruptionBudget status computation over hand-filled caches.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../../api/types/core_v1.ts';
import { FakeClock, formatTime } from '../../client/clock.ts';
import { FakeRecorder } from '../../client/fake_recorder.ts';
import { DisruptionController, countHealthyPods, scaledValue, setStatusCondition } from './disruption.ts';
import { RecordingClient, fakeControllerContext } from '../fake_controller_context.ts';

function pod(name: string, ready: boolean, owner?: { kind: string; name: string; uid: string }): Pod {
  return {
    metadata: { name, namespace: 'ns', labels: { app: 'x' }, ...(owner ? { ownerReferences: [{ apiVersion: owner.kind === 'ReplicaSet' ? 'apps/v1' : 'v1', ...owner, controller: true }] } : {}) },
    spec: { containers: [] }, status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  };
}

describe('disruption helpers', () => {
  test('percentages round up; plain strings are refused', () => {
    assert.equal(scaledValue('25%', 5), 2);
    assert.equal(scaledValue(3, 10), 3);
    assert.throws(() => scaledValue('3', 10), /not a percentage/);
  });

  test('healthy pods exclude deleting and recently evicted ones', () => {
    const now = Date.UTC(2024, 0, 1);
    const deleting = pod('d', true);
    deleting.metadata!.deletionTimestamp = formatTime(now);
    const n = countHealthyPods([pod('a', true), pod('b', false), deleting, pod('e', true)], { e: formatTime(now - 1000) }, now);
    assert.equal(n, 1);
  });

  test('conditions keep their transition time while the status holds', () => {
    const c1 = setStatusCondition([], { type: 'T', status: 'True', reason: 'R', message: '' }, 't1');
    const c2 = setStatusCondition(c1, { type: 'T', status: 'True', reason: 'R2', message: '' }, 't2');
    assert.equal(c2[0]!.lastTransitionTime, 't1');
    const c3 = setStatusCondition(c2, { type: 'T', status: 'False', reason: 'R3', message: '' }, 't3');
    assert.equal(c3[0]!.lastTransitionTime, 't3');
  });
});

describe('disruption controller', () => {
  function setup(): { c: DisruptionController; api: RecordingClient; recorder: FakeRecorder } {
    const api = new RecordingClient();
    const recorder = new FakeRecorder();
    const ctx = fakeControllerContext(api, { recorder });
    return { c: new DisruptionController(ctx), api, recorder };
  }

  test('maxUnavailable against a Deployment scale through its ReplicaSet', async () => {
    const { c, api } = setup();
    c.deployments.indexer.add({ metadata: { name: 'd', namespace: 'ns', uid: 'du' }, spec: { replicas: 5, selector: {}, template: {} } });
    c.rss.indexer.add({ metadata: { name: 'rs', namespace: 'ns', uid: 'ru', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'd', uid: 'du', controller: true }] }, spec: { replicas: 5, selector: {} } });
    for (const n of ['a', 'b', 'c', 'd']) c.pods.indexer.add(pod(n, true, { kind: 'ReplicaSet', name: 'rs', uid: 'ru' }));
    c.pdbs.indexer.add({ apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'p', namespace: 'ns', generation: 2 }, spec: { maxUnavailable: 2, selector: { matchLabels: { app: 'x' } } } });
    await c.sync('ns/p');
    const st = api.calls[0]!.body.status;
    assert.deepEqual([st.expectedPods, st.desiredHealthy, st.currentHealthy, st.disruptionsAllowed, st.observedGeneration], [5, 3, 4, 1, 2]);
    assert.deepEqual([st.conditions[0].type, st.conditions[0].status, st.conditions[0].reason, st.conditions[0].observedGeneration], ['DisruptionAllowed', 'True', 'SufficientPods', 2]);
    await c.dispose();
  });

  test('a pod whose controller cannot be found fails safe with SyncFailed', async () => {
    const { c, api, recorder } = setup();
    c.pods.indexer.add(pod('a', true, { kind: 'ReplicaSet', name: 'missing', uid: 'mu' }));
    c.pdbs.indexer.add({ metadata: { name: 'p', namespace: 'ns' }, spec: { minAvailable: '50%', selector: { matchLabels: { app: 'x' } } }, status: { currentHealthy: 1, desiredHealthy: 0, expectedPods: 1, disruptionsAllowed: 1 } });
    await c.sync('ns/p');
    const st = api.calls[0]!.body.status;
    assert.equal(st.disruptionsAllowed, 0);
    assert.deepEqual([st.conditions[0].reason, st.conditions[0].message], ['SyncFailed', 'found no controllers for pod "a"']);
    assert.ok(recorder.events.includes('Warning CalculateExpectedPodCountFailed Failed to calculate the number of expected pods: found no controllers for pod "a"'));
    await c.dispose();
  });

  test('a DisruptionTarget condition left on a live pod for two minutes is reset to False', async () => {
    const api = new RecordingClient();
    const clock = new FakeClock();
    const ctx = fakeControllerContext(api, { clock });
    const c = new DisruptionController(ctx);
    const p = pod('a', true);
    p.status!.conditions!.push({ type: 'DisruptionTarget', status: 'True', reason: 'EvictionByEvictionAPI', lastTransitionTime: formatTime(clock.now()) });
    c.pods.indexer.add(p);
    clock.step(60_000);
    await c.syncStalePodDisruption('ns/a');
    assert.equal(api.calls.length, 0);
    clock.step(61_000);
    await c.syncStalePodDisruption('ns/a');
    const cond = api.calls[0]!.body.status.conditions.find((x: any) => x.type === 'DisruptionTarget');
    assert.equal(cond.status, 'False');
    await c.dispose();
  });
});
