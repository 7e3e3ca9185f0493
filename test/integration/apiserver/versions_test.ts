// One stored object served in several versions: autoscaling/v1 and v2 HorizontalPodAutoscalers,
// core/v1 and events.k8s.io/v1 Events.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../../src/testing/test_server.ts';

let s: TestServer;

before(async () => {
  s = await startTestServer();
});

after(async () => {
  await s?.stop();
});

describe('served versions of one stored object', () => {
  test('an autoscaling/v1 HPA reads back as v2 with a CPU metric, and v2 edits show in v1', async () => {
    const v1 = { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web' },
      spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 5, targetCPUUtilizationPercentage: 60 } };
    const created = await s.request('POST', '/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers', { body: JSON.stringify(v1) });
    assert.equal(created.status, 201, created.body);
    const c = created.json<Record<string, any>>();
    assert.equal(c.apiVersion, 'autoscaling/v1');
    assert.equal(c.spec.minReplicas, 1);
    assert.equal(c.spec.targetCPUUtilizationPercentage, 60);
    const v2 = (await s.request('GET', '/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/web')).json<Record<string, any>>();
    assert.equal(v2.apiVersion, 'autoscaling/v2');
    assert.deepEqual(v2.spec.metrics, [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } }]);
    v2.spec.metrics[0].resource.target.averageUtilization = 75;
    const put = await s.request('PUT', '/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/web', { body: JSON.stringify(v2) });
    assert.equal(put.status, 200, put.body);
    const back = (await s.request('GET', '/apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/web')).json<Record<string, any>>();
    assert.equal(back.spec.targetCPUUtilizationPercentage, 75);
    const out = await s.kubectl(['get', 'hpa', 'web', '-n', 'default']);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /^web\s+Deployment\/web\s+cpu: <unknown>\/75%\s+1\s+5\s+0\s+\d+s$/m);
  });

  test('a core Event is served by events.k8s.io/v1 with its field names', async () => {
    const ev = { apiVersion: 'v1', kind: 'Event', metadata: { name: 'web.1' }, involvedObject: { kind: 'Pod', name: 'web', namespace: 'default' },
      reason: 'Started', message: 'Started container web', type: 'Normal', source: { component: 'kubelet' }, count: 1,
      firstTimestamp: '2026-11-26T10:00:00Z', lastTimestamp: '2026-11-26T10:00:00Z' };
    const created = await s.request('POST', '/api/v1/namespaces/default/events', { body: JSON.stringify(ev) });
    assert.equal(created.status, 201, created.body);
    const e = (await s.request('GET', '/apis/events.k8s.io/v1/namespaces/default/events/web.1')).json<Record<string, any>>();
    assert.equal(e.apiVersion, 'events.k8s.io/v1');
    assert.equal(e.note, 'Started container web');
    assert.equal(e.regarding.name, 'web');
    assert.equal(e.deprecatedCount, 1);
    assert.equal(e.message, undefined);
    const list = (await s.request('GET', '/apis/events.k8s.io/v1/namespaces/default/events')).json<{ items: Array<Record<string, any>> }>();
    assert.ok(list.items.some((i) => i.note === 'Started container web'));
    const describe = await s.kubectl(['get', 'events', '-n', 'default', '--field-selector', 'involvedObject.name=web']);
    assert.equal(describe.code, 0, describe.stderr);
    assert.match(describe.stdout, /Normal\s+Started\s+pod\/web\s+Started container web/);
  });
});
