// Unit tests of the EndpointSlice reconciler: placement, the per-slice maximum, removals, port
// changes and the placeholder slice.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Service } from '../../api/types/core_v1.ts';
import type { Endpoint, EndpointSlice } from '../../api/types/discovery_v1.ts';
import { CONTROLLER_NAME, LAST_CHANGE_TRIGGER_TIME, reconcile, sliceLabels } from './reconciler.ts';

const svc: Service = { metadata: { name: 'web', namespace: 'ns', uid: 'svc-uid', labels: { tier: 'front' } }, spec: { selector: { app: 'web' } } };
const ports = [{ name: 'http', port: 8080, protocol: 'TCP' }];

function ep(i: number, ready = true): Endpoint {
  return { addresses: [`10.0.${Math.floor(i / 250)}.${i % 250}`], conditions: { ready, serving: ready, terminating: false }, targetRef: { kind: 'Pod', namespace: 'ns', name: `p${i}`, uid: `u${i}` } };
}

function existing(name: string, eps: Endpoint[], p = ports): EndpointSlice {
  return {
    metadata: { name, namespace: 'ns', labels: sliceLabels(svc), ownerReferences: [{ apiVersion: 'v1', kind: 'Service', name: 'web', uid: 'svc-uid', controller: true, blockOwnerDeletion: true }] },
    addressType: 'IPv4', endpoints: eps, ports: p,
  };
}

describe('EndpointSlice reconciler', () => {
  test('new endpoints fill slices of at most the maximum', () => {
    const eps = Array.from({ length: 250 }, (_, i) => ep(i));
    const r = reconcile(svc, [{ ports, endpoints: eps }], [], { addressType: 'IPv4', triggerTime: '2024-01-01T00:00:00Z' });
    assert.deepEqual(r.create.map((s) => s.endpoints.length), [100, 100, 50]);
    const s0 = r.create[0]!;
    assert.equal(s0.metadata!.generateName, 'web-');
    assert.equal(s0.metadata!.labels!['kubernetes.io/service-name'], 'web');
    assert.equal(s0.metadata!.labels!['endpointslice.kubernetes.io/managed-by'], CONTROLLER_NAME);
    assert.equal(s0.metadata!.labels!['tier'], 'front');
    assert.equal(s0.metadata!.annotations![LAST_CHANGE_TRIGGER_TIME], '2024-01-01T00:00:00Z');
    assert.deepEqual(r.update, []);
    assert.deepEqual(r.delete, []);
  });

  test('unchanged slices are not touched; changed endpoints update in place; extras fill room', () => {
    const a = existing('web-aaaaa', [ep(1), ep(2)]);
    const r1 = reconcile(svc, [{ ports, endpoints: [ep(1), ep(2)] }], [a], { addressType: 'IPv4' });
    assert.deepEqual([r1.create.length, r1.update.length, r1.delete.length], [0, 0, 0]);
    const r2 = reconcile(svc, [{ ports, endpoints: [ep(1), ep(2, false), ep(3)] }], [a], { addressType: 'IPv4' });
    assert.equal(r2.update.length, 1);
    assert.deepEqual(r2.update[0]!.endpoints.map((e) => [e.targetRef!.name, e.conditions!.ready]), [['p1', true], ['p2', false], ['p3', true]]);
    assert.equal(r2.create.length, 0);
  });

  test('emptied slices and slices with stale ports are deleted', () => {
    const a = existing('web-aaaaa', [ep(1)]);
    const b = existing('web-bbbbb', [ep(2)], [{ name: 'http', port: 9090, protocol: 'TCP' }]);
    const r = reconcile(svc, [{ ports, endpoints: [ep(2)] }], [a, b], { addressType: 'IPv4' });
    assert.deepEqual(r.delete.map((s) => s.metadata!.name).sort(), ['web-aaaaa', 'web-bbbbb']);
    assert.equal(r.create.length, 1);
    assert.deepEqual(r.create[0]!.endpoints.map((e) => e.targetRef!.name), ['p2']);
  });

  test('no endpoints leaves exactly one placeholder slice', () => {
    const r = reconcile(svc, [], [], { addressType: 'IPv4' });
    assert.equal(r.create.length, 1);
    assert.deepEqual(r.create[0]!.endpoints, []);
    assert.deepEqual(r.create[0]!.ports, []);
    const placeholder = existing('web-ppppp', [], []);
    const r2 = reconcile(svc, [], [placeholder, existing('web-aaaaa', [ep(1)])], { addressType: 'IPv4' });
    assert.deepEqual([r2.create.length, r2.update.length], [0, 0]);
    assert.deepEqual(r2.delete.map((s) => s.metadata!.name), ['web-aaaaa']);
  });
});
