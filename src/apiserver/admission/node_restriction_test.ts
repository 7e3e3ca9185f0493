// Unit tests of NodeRestriction: what a kubelet may change about nodes, pods, leases and tokens.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError } from '../errors.ts';
import type { KObject } from '../registry/strategy.ts';
import { admissionPluginFactory, type AdmissionAttributes } from './types.ts';
import { FakeLister, attrs } from './fake_lister.ts';
import { forbiddenLabels, isKubeletLabel } from './node_restriction.ts';
import './plugins.ts';

const plugin = admissionPluginFactory('NodeRestriction')!({});
const n1 = { name: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] };

function asNode(a: AdmissionAttributes, user = n1): AdmissionAttributes {
  return { ...a, user };
}

async function run(a: AdmissionAttributes, lister = new FakeLister()): Promise<void> {
  if (plugin.handles(a)) await plugin.validate!(a, lister);
}

async function rejects(a: AdmissionAttributes, message: string, lister = new FakeLister()): Promise<void> {
  try {
    await run(a, lister);
  } catch (e) {
    assert.ok(e instanceof ApiError, String(e));
    assert.equal(e.code, 403);
    assert.equal(e.status.message, message);
    return;
  }
  assert.fail(`expected: ${message}`);
}

const node = (name: string, labels: Record<string, string> = {}, taints: unknown[] = []): KObject => ({ metadata: { name, labels }, spec: { taints } });
const pod = (name: string, nodeName: string, extra: Record<string, unknown> = {}): KObject => ({
  metadata: { name, namespace: 'ns', uid: `uid-${name}`, ...extra }, spec: { nodeName, containers: [{ name: 'c', image: 'i' }] },
});

describe('labels', () => {
  test('kubelet labels and non-kubernetes labels are free; node-restriction and other kubernetes.io labels are not', () => {
    assert.ok(isKubeletLabel('kubernetes.io/hostname'));
    assert.ok(isKubeletLabel('node.kubernetes.io/instance-type'));
    assert.ok(isKubeletLabel('foo.kubelet.kubernetes.io/x'));
    assert.deepEqual(forbiddenLabels(['example.com/a', 'node-role.kubernetes.io/master', 'node-restriction.kubernetes.io/x', 'k8s.io/y', 'kubernetes.io/arch']),
      ['k8s.io/y', 'node-restriction.kubernetes.io/x', 'node-role.kubernetes.io/master']);
  });
});

describe('NodeRestriction', () => {
  test('other users pass untouched', async () => {
    await run(attrs('UPDATE', '', 'nodes', node('n2'), { oldObject: node('n2') }));
  });

  test('a node modifies only its own Node, not its taints nor restricted labels', async () => {
    await run(asNode(attrs('UPDATE', '', 'nodes', node('n1', { 'example.com/x': 'y' }), { oldObject: node('n1') })));
    await rejects(asNode(attrs('UPDATE', '', 'nodes', node('n2'), { oldObject: node('n2') })), 'nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"');
    await rejects(asNode(attrs('UPDATE', '', 'nodes', node('n1', {}, [{ key: 'k', effect: 'NoSchedule' }]), { oldObject: node('n1') })),
      'nodes "n1" is forbidden: node "n1" is not allowed to modify taints');
    await rejects(asNode(attrs('UPDATE', '', 'nodes', node('n1'), { oldObject: node('n1', { 'node-restriction.kubernetes.io/pool': 'a' }) })),
      'nodes "n1" is forbidden: is not allowed to modify labels: node-restriction.kubernetes.io/pool');
    await rejects(asNode(attrs('CREATE', '', 'nodes', node('n1', { 'node-role.kubernetes.io/master': '' }))),
      'nodes "n1" is forbidden: node "n1" is not allowed to set the following labels: node-role.kubernetes.io/master');
    await run(asNode(attrs('CREATE', '', 'nodes', node('n1', { 'kubernetes.io/hostname': 'n1', 'kubernetes.io/os': 'linux' }))));
  });

  test('pod status only for its own pods, without label changes', async () => {
    await run(asNode(attrs('UPDATE', '', 'pods', pod('a', 'n1'), { oldObject: pod('a', 'n1'), subresource: 'status' })));
    await rejects(asNode(attrs('UPDATE', '', 'pods', pod('b', 'n2'), { oldObject: pod('b', 'n2'), subresource: 'status' })),
      'pods "b" is forbidden: node "n1" can only update pod status for pods with spec.nodeName set to itself');
    await rejects(asNode(attrs('UPDATE', '', 'pods', pod('a', 'n1', { labels: { x: 'y' } }), { oldObject: pod('a', 'n1'), subresource: 'status' })),
      'pods "a" is forbidden: node "n1" cannot update labels through pod status');
    await rejects(asNode(attrs('UPDATE', '', 'pods', pod('a', 'n1'), { oldObject: pod('a', 'n1') })),
      'pods "a" is forbidden: unexpected operation "UPDATE", node "n1" can only create and delete mirror pods');
  });

  test('mirror pods only, bound to and owned by the node, referencing nothing', async () => {
    const lister = new FakeLister().add('', 'nodes', { metadata: { name: 'n1', uid: 'node-uid' } });
    const owner = { apiVersion: 'v1', kind: 'Node', name: 'n1', uid: 'node-uid', controller: true };
    const mirror = (extra: Record<string, unknown> = {}, spec: Record<string, unknown> = {}): KObject => ({
      metadata: { name: 'static-n1', namespace: 'ns', annotations: { 'kubernetes.io/config.mirror': 'hash' }, ownerReferences: [owner], ...extra },
      spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'i' }], ...spec },
    });
    await run(asNode(attrs('CREATE', '', 'pods', mirror())), lister);
    await rejects(asNode(attrs('CREATE', '', 'pods', pod('plain', 'n1'))), 'pods "plain" is forbidden: pod does not have "kubernetes.io/config.mirror" annotation, node "n1" can only create mirror pods');
    await rejects(asNode(attrs('CREATE', '', 'pods', mirror({}, { nodeName: 'n2' }))), 'pods "static-n1" is forbidden: node "n1" can only create pods with spec.nodeName set to itself');
    await rejects(asNode(attrs('CREATE', '', 'pods', mirror({ ownerReferences: [{ ...owner, uid: 'x' }] }))), 'pods "static-n1" is forbidden: node n1 UID mismatch: expected x got node-uid', lister);
    await rejects(asNode(attrs('CREATE', '', 'pods', mirror({}, { volumes: [{ name: 'v', secret: { secretName: 's' } }] }))), 'pods "static-n1" is forbidden: node "n1" can not create pods that reference secrets', lister);
    await rejects(asNode(attrs('DELETE', '', 'pods', undefined, { oldObject: pod('b', 'n2') })), 'pods "b" is forbidden: node "n1" can only delete pods with spec.nodeName set to itself');
  });

  test('leases only in kube-node-lease and named after the node', async () => {
    const lease = (name: string, namespace = 'kube-node-lease'): KObject => ({ metadata: { name, namespace } });
    await run(asNode(attrs('CREATE', 'coordination.k8s.io', 'leases', lease('n1'))));
    await rejects(asNode(attrs('CREATE', 'coordination.k8s.io', 'leases', lease('n2'))), 'leases.coordination.k8s.io "n2" is forbidden: can only access node lease with the same name as the requesting node');
    await rejects(asNode(attrs('UPDATE', 'coordination.k8s.io', 'leases', lease('n1', 'default'), { oldObject: lease('n1', 'default') })),
      'leases.coordination.k8s.io "n1" is forbidden: can only access leases in the "kube-node-lease" system namespace');
  });

  test('tokens must be bound to a pod on the node, with its uid', async () => {
    const lister = new FakeLister().add('', 'pods', pod('mine', 'n1')).add('', 'pods', pod('theirs', 'n2'));
    const tr = (ref?: Record<string, unknown>): AdmissionAttributes => asNode(attrs('CREATE', '', 'serviceaccounts', { spec: { boundObjectRef: ref } }, { subresource: 'token', namespace: 'ns', name: 'app' }));
    await run(tr({ apiVersion: 'v1', kind: 'Pod', name: 'mine', uid: 'uid-mine' }), lister);
    await rejects(tr(), 'serviceaccounts "app" is forbidden: node requested token not bound to a pod');
    await rejects(tr({ apiVersion: 'v1', kind: 'Pod', name: 'mine' }), 'serviceaccounts "app" is forbidden: node requested token with a pod binding without a uid');
    await rejects(tr({ apiVersion: 'v1', kind: 'Pod', name: 'theirs', uid: 'uid-theirs' }), 'serviceaccounts "app" is forbidden: node requested token bound to a pod scheduled on a different node', lister);
    await rejects(tr({ apiVersion: 'v1', kind: 'Pod', name: 'mine', uid: 'old' }), 'serviceaccounts "app" is forbidden: the UID in the bound object reference (old) does not match the UID in record. The object might have been deleted and then recreated', lister);
  });

  test('PVCs only through status, and only capacity and conditions', async () => {
    const pvc = (phase: string, labels: Record<string, string> = {}): KObject => ({ metadata: { name: 'c', namespace: 'ns', labels }, status: { phase, capacity: { storage: '1Gi' } } });
    await run(asNode(attrs('UPDATE', '', 'persistentvolumeclaims', { ...pvc('Bound'), status: { phase: 'Bound', capacity: { storage: '2Gi' } } }, { oldObject: pvc('Bound'), subresource: 'status' })));
    await rejects(asNode(attrs('UPDATE', '', 'persistentvolumeclaims', pvc('Lost'), { oldObject: pvc('Bound'), subresource: 'status' })),
      'persistentvolumeclaims "c" is forbidden: node "n1" is not allowed to update fields other than status.capacity and status.conditions');
    await rejects(asNode(attrs('UPDATE', '', 'persistentvolumeclaims', pvc('Bound'), { oldObject: pvc('Bound') })), 'persistentvolumeclaims "c" is forbidden: may only update PVC status');
  });
});
