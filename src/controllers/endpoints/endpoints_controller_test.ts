// Unit tests of the Endpoints subsets computation and the controller's sync over hand-filled caches.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod, Service } from '../../api/types/core_v1.ts';
import { computeSubsets, EndpointsController, LAST_CHANGE_TRIGGER_TIME } from './endpoints_controller.ts';
import { RecordingClient, fakeControllerContext } from '../fake_controller_context.ts';

function pod(name: string, ip: string, ready: boolean, extra: Partial<Pod['spec']> = {}, labels: Record<string, string> = { app: 'web' }): Pod {
  return {
    metadata: { name, namespace: 'ns', uid: `uid-${name}`, labels },
    spec: { nodeName: 'n1', containers: [{ name: 'c', ports: [{ name: 'http', containerPort: name.endsWith('9') ? 9090 : 8080 }] }], ...extra },
    status: { phase: 'Running', podIP: ip, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: '2024-01-01T00:00:05Z' }] },
  };
}

function svc(spec: Partial<Service['spec']> = {}): Service {
  return { metadata: { name: 'web', namespace: 'ns', uid: 'svc-uid', creationTimestamp: '2024-01-01T00:00:00Z' }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 'http', protocol: 'TCP' }], ...spec } };
}

describe('Endpoints subsets', () => {
  test('ready and not-ready pods, repacked by resolved port', () => {
    const { subsets, truncated } = computeSubsets(svc(), [pod('a', '10.0.0.2', true), pod('b', '10.0.0.1', true), pod('c', '10.0.0.3', false), pod('p9', '10.0.0.9', true)]);
    assert.equal(truncated, false);
    assert.equal(subsets.length, 2);
    const s8080 = subsets.find((s) => s.ports?.[0]?.port === 8080)!;
    assert.deepEqual(s8080.addresses!.map((a) => a.ip), ['10.0.0.1', '10.0.0.2']);
    assert.deepEqual(s8080.notReadyAddresses!.map((a) => a.ip), ['10.0.0.3']);
    assert.deepEqual(s8080.ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
    assert.deepEqual(s8080.addresses![0]!.targetRef, { kind: 'Pod', namespace: 'ns', name: 'b', uid: 'uid-b' });
    const s9090 = subsets.find((s) => s.ports?.[0]?.port === 9090)!;
    assert.deepEqual(s9090.addresses!.map((a) => a.ip), ['10.0.0.9']);
  });

  test('pods without IPs, finished pods and terminating pods are left out; publishNotReadyAddresses keeps them', () => {
    const noIp = pod('x', '', true);
    const done = { ...pod('d', '10.0.0.4', false, { restartPolicy: 'Never' }), status: { phase: 'Succeeded', podIP: '10.0.0.4' } };
    const term = pod('t', '10.0.0.5', false);
    term.metadata!.deletionTimestamp = '2024-01-01T00:01:00Z';
    assert.deepEqual(computeSubsets(svc(), [noIp, done, term]).subsets, []);
    const pub = computeSubsets(svc({ publishNotReadyAddresses: true }), [term]).subsets;
    assert.deepEqual(pub[0]!.addresses!.map((a) => a.ip), ['10.0.0.5']);
  });

  test('headless services without ports publish addresses with hostnames', () => {
    const p = pod('db-0', '10.0.0.7', true, { hostname: 'db-0', subdomain: 'web' });
    const { subsets } = computeSubsets(svc({ clusterIP: 'None', ports: [] }), [p]);
    assert.deepEqual(subsets, [{ addresses: [{ ip: '10.0.0.7', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'ns', name: 'db-0', uid: 'uid-db-0' }, hostname: 'db-0' }] }]);
  });
});

describe('Endpoints controller sync', () => {
  function setup(): { c: EndpointsController; api: RecordingClient } {
    const api = new RecordingClient();
    const ctx = fakeControllerContext(api);
    return { c: new EndpointsController(ctx), api };
  }

  test('creates Endpoints with labels and the trigger time, then skips when nothing changed', async () => {
    const { c, api } = setup();
    c.services.indexer.add({ ...svc(), metadata: { ...svc().metadata, labels: { tier: 'front' } } });
    c.pods.indexer.add(pod('a', '10.0.0.2', true));
    await c.sync('ns/web');
    assert.equal(api.calls.length, 1);
    const ep = api.calls[0]!.body;
    assert.equal(api.calls[0]!.method, 'POST');
    assert.deepEqual(ep.metadata.labels, { tier: 'front' });
    assert.equal(ep.metadata.annotations[LAST_CHANGE_TRIGGER_TIME], '2024-01-01T00:00:00Z');
    c.endpoints.indexer.add({ ...ep, metadata: { ...ep.metadata, resourceVersion: '5' } });
    await c.sync('ns/web');
    assert.equal(api.calls.length, 1);
    await c.dispose();
  });

  test('services without selectors are left alone; deleted services lose their Endpoints', async () => {
    const { c, api } = setup();
    c.services.indexer.add({ metadata: { name: 'manual', namespace: 'ns' }, spec: { ports: [{ port: 80 }] } });
    await c.sync('ns/manual');
    assert.equal(api.calls.length, 0);
    await c.sync('ns/gone');
    assert.equal(api.calls[0]!.method, 'DELETE');
    assert.equal(api.calls[0]!.path, '/api/v1/namespaces/ns/endpoints/gone');
    await c.dispose();
  });
});
