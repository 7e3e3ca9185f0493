// Unit tests of the Node authorizer over an in-memory graph, the pod reference walkers, and the
// authorizer chain.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { KObject } from '../registry/strategy.ts';
import type { Attributes, Authorizer } from './authorizer.ts';
import { ChainAuthorizer, NodeAuthorizer, nodeIdentity, podConfigMapNames, podPvcNames, podSecretNames, type NodeGraphSource, type SelectorAttributes } from './node.ts';

const n1 = { name: 'system:node:n1', groups: ['system:nodes', 'system:authenticated'] };

function req(verb: string, resource: string, more: Partial<SelectorAttributes> = {}): SelectorAttributes {
  return { user: n1, verb, isResourceRequest: true, namespace: 'ns', apiGroup: '', apiVersion: 'v1', resource, subresource: '', name: '', path: '', ...more };
}

const podOnN1: KObject = {
  metadata: { name: 'p1', namespace: 'ns' },
  spec: {
    nodeName: 'n1', serviceAccountName: 'app', imagePullSecrets: [{ name: 'pull' }],
    initContainers: [{ name: 'i', env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 'env-secret', key: 'k' } } }] }],
    containers: [{ name: 'c', envFrom: [{ configMapRef: { name: 'cm' } }, { secretRef: { name: 'envfrom-secret' } }] }],
    volumes: [
      { name: 'v', secret: { secretName: 'vol-secret' } },
      { name: 'p', projected: { sources: [{ configMap: { name: 'proj-cm' } }, { secret: { name: 'proj-secret' } }] } },
      { name: 'data', persistentVolumeClaim: { claimName: 'claim' } },
      { name: 'scratch', ephemeral: { volumeClaimTemplate: {} } },
    ],
  },
};

const graph: NodeGraphSource = {
  podsOnNode: (node) => (node === 'n1' ? [podOnN1] : []),
  pvc: (ns, name) => (ns === 'ns' && name === 'claim' ? { metadata: { name: 'claim', namespace: 'ns' }, spec: { volumeName: 'pv1' } } : undefined),
  pv: (name) => (name === 'pv1' ? { metadata: { name: 'pv1' }, spec: { csi: { driver: 'd', nodePublishSecretRef: { name: 'csi-secret', namespace: 'storage' } } } } : undefined),
  volumeAttachmentsOnNode: (node) => (node === 'n1' ? [{ metadata: { name: 'va1' }, spec: { nodeName: 'n1' } }] : []),
};

const authz = new NodeAuthorizer(graph);

describe('pod references', () => {
  test('secrets, configmaps and claims of every container and volume kind', () => {
    assert.deepEqual([...podSecretNames(podOnN1)].sort(), ['env-secret', 'envfrom-secret', 'proj-secret', 'pull', 'vol-secret']);
    assert.deepEqual([...podConfigMapNames(podOnN1)].sort(), ['cm', 'proj-cm']);
    assert.deepEqual([...podPvcNames(podOnN1)].sort(), ['claim', 'p1-scratch']);
  });
});

describe('NodeAuthorizer', () => {
  test('only users named system:node:* in system:nodes are nodes', () => {
    assert.deepEqual(nodeIdentity(n1), { isNode: true, nodeName: 'n1' });
    assert.equal(nodeIdentity({ name: 'system:node:n1', groups: [] }).isNode, false);
    assert.equal(authz.authorize(req('get', 'secrets', { user: { name: 'alice', groups: ['system:nodes'] }, name: 'pull' })).decision, 'noopinion');
  });

  test('a node gets the secrets and configmaps its pods use, through PVs too, and nothing else', () => {
    for (const name of ['pull', 'env-secret', 'envfrom-secret', 'vol-secret', 'proj-secret']) {
      assert.equal(authz.authorize(req('get', 'secrets', { name })).decision, 'allow', name);
    }
    assert.equal(authz.authorize(req('get', 'secrets', { name: 'csi-secret', namespace: 'storage' })).decision, 'allow');
    assert.equal(authz.authorize(req('watch', 'configmaps', { name: 'proj-cm' })).decision, 'allow');
    assert.deepEqual(authz.authorize(req('get', 'secrets', { name: 'other' })), { decision: 'noopinion', reason: "no relationship found between node 'n1' and this object" });
    assert.deepEqual(authz.authorize(req('get', 'secrets', { name: 'pull', namespace: 'elsewhere' })).decision, 'noopinion');
    assert.deepEqual(authz.authorize(req('list', 'secrets')), { decision: 'noopinion', reason: 'No Object name found' });
    assert.deepEqual(authz.authorize(req('update', 'secrets', { name: 'pull' })), { decision: 'noopinion', reason: 'can only read resources of this type' });
    const n2 = { name: 'system:node:n2', groups: ['system:nodes'] };
    assert.equal(authz.authorize(req('get', 'secrets', { name: 'pull', user: n2 })).decision, 'noopinion');
  });

  test('PVCs, PVs and VolumeAttachments by get only', () => {
    assert.equal(authz.authorize(req('get', 'persistentvolumeclaims', { name: 'claim' })).decision, 'allow');
    assert.equal(authz.authorize(req('get', 'persistentvolumeclaims', { name: 'p1-scratch' })).decision, 'allow');
    assert.equal(authz.authorize(req('get', 'persistentvolumes', { name: 'pv1', namespace: '' })).decision, 'allow');
    assert.deepEqual(authz.authorize(req('list', 'persistentvolumes', { namespace: '' })), { decision: 'noopinion', reason: 'can only get individual resources of this type' });
    assert.equal(authz.authorize(req('patch', 'persistentvolumeclaims', { name: 'claim', subresource: 'status' })).decision, 'allow');
    assert.equal(authz.authorize(req('get', 'volumeattachments', { apiGroup: 'storage.k8s.io', name: 'va1', namespace: '' })).decision, 'allow');
  });

  test('tokens only for the service accounts of its pods', () => {
    assert.equal(authz.authorize(req('create', 'serviceaccounts', { name: 'app', subresource: 'token' })).decision, 'allow');
    assert.equal(authz.authorize(req('create', 'serviceaccounts', { name: 'other', subresource: 'token' })).decision, 'noopinion');
    assert.deepEqual(authz.authorize(req('get', 'serviceaccounts', { name: 'app' })), { decision: 'noopinion', reason: 'can only create tokens for individual service accounts' });
  });

  test('its own Lease in kube-node-lease; creates are left to NodeRestriction', () => {
    const lease = (verb: string, name: string, namespace = 'kube-node-lease') => authz.authorize(req(verb, 'leases', { apiGroup: 'coordination.k8s.io', name, namespace }));
    assert.equal(lease('update', 'n1').decision, 'allow');
    assert.equal(lease('create', '').decision, 'allow');
    assert.deepEqual(lease('update', 'n2'), { decision: 'noopinion', reason: 'can only access node lease with the same name as the requesting node' });
    assert.deepEqual(lease('get', 'n1', 'default'), { decision: 'noopinion', reason: 'can only access leases in the "kube-node-lease" system namespace' });
    assert.deepEqual(lease('list', ''), { decision: 'noopinion', reason: 'can only get, create, update, patch, or delete a node lease' });
  });

  test('the static node rules cover the rest (events, services, node status)', () => {
    assert.equal(authz.authorize(req('create', 'events')).decision, 'allow');
    assert.equal(authz.authorize(req('watch', 'services')).decision, 'allow');
    assert.equal(authz.authorize(req('patch', 'nodes', { namespace: '', name: 'n1', subresource: 'status' })).decision, 'allow');
    assert.equal(authz.authorize(req('create', 'deployments', { apiGroup: 'apps' })).decision, 'noopinion');
  });

  test('pods and nodes narrow to the node itself; no selector selects nothing', () => {
    assert.deepEqual(authz.authorize(req('list', 'pods')), { decision: 'noopinion', reason: 'can only list/watch pods with spec.nodeName field selector' });
    assert.deepEqual(authz.authorize(req('get', 'nodes', { namespace: '', name: 'n2' })), { decision: 'noopinion', reason: "node 'n1' cannot read 'n2', only its own Node object" });
    assert.equal(authz.authorize(req('list', 'pods', { namespace: '', fieldSelector: 'spec.nodeName=n1' })).decision, 'allow');
    assert.deepEqual(authz.authorize(req('list', 'pods', { namespace: '', fieldSelector: '' })), { decision: 'noopinion', reason: 'can only list/watch pods with spec.nodeName field selector' });
    assert.equal(authz.authorize(req('get', 'pods', { name: 'p1', fieldSelector: '' })).decision, 'allow');
    assert.equal(authz.authorize(req('watch', 'nodes', { namespace: '', fieldSelector: 'metadata.name=n1' })).decision, 'allow');
    assert.deepEqual(authz.authorize(req('get', 'nodes', { namespace: '', name: 'n2', fieldSelector: '' })), { decision: 'noopinion', reason: "node 'n1' cannot read 'n2', only its own Node object" });
    assert.deepEqual(authz.authorize(req('list', 'nodes', { namespace: '', fieldSelector: '' })), { decision: 'noopinion', reason: "node 'n1' cannot read all nodes, only its own Node object" });
  });

  test('rules of nodes are incomplete', () => {
    assert.deepEqual(authz.rulesFor(n1), { resourceRules: [], nonResourceRules: [], incomplete: true, evaluationError: 'node authorizer does not support user rule resolution' });
  });
});

describe('ChainAuthorizer', () => {
  const fixed = (decision: 'allow' | 'deny' | 'noopinion', reason = ''): Authorizer => ({
    authorize: () => ({ decision, reason }),
    rulesFor: () => ({ resourceRules: [{ verbs: [decision], apiGroups: [''], resources: ['x'] }], nonResourceRules: [], incomplete: decision === 'deny' }),
  });
  const a: Attributes = req('get', 'pods');

  test('the first allow or deny decides; no-opinion reasons are joined', async () => {
    assert.equal((await new ChainAuthorizer([fixed('noopinion', 'a'), fixed('allow')]).authorize(a)).decision, 'allow');
    assert.equal((await new ChainAuthorizer([fixed('deny'), fixed('allow')]).authorize(a)).decision, 'deny');
    assert.deepEqual(await new ChainAuthorizer([fixed('noopinion', 'a'), fixed('noopinion', 'b')]).authorize(a), { decision: 'noopinion', reason: 'a\nb' });
  });

  test('rules are the union, incomplete when any member is', async () => {
    const r = await new ChainAuthorizer([fixed('allow'), fixed('deny')]).rulesFor(n1, 'ns');
    assert.equal(r.resourceRules.length, 2);
    assert.equal(r.incomplete, true);
  });
});
