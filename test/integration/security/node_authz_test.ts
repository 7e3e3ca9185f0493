// Kubelet identities (client certificates CN system:node:<name>, O system:nodes): the Node
// authorizer lets a node read only what pods bound to it use, and NodeRestriction admission keeps
// it to its own Node, Lease and pods.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { IssuedCertificate } from '../../../src/base/pki.ts';
import { eventually, ok, startSecurityServer, type SecurityServer } from './security_harness.ts';

let s: SecurityServer;
let n1: { cert: IssuedCertificate };

function node(name: string): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name } } });
}

function pod(name: string, nodeName: string, secret: string, configMap: string): string {
  return JSON.stringify({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'apps' },
    spec: {
      nodeName, serviceAccountName: 'app',
      containers: [{ name: 'c', image: 'busybox', envFrom: [{ configMapRef: { name: configMap } }] }],
      volumes: [{ name: 'creds', secret: { secretName: secret } }],
    },
  });
}

before(async () => {
  s = await startSecurityServer();
  n1 = { cert: await s.certificate('system:node:n1', ['system:nodes']) };
  await ok(s, ['create', 'namespace', 'apps']);
  await ok(s, ['create', 'serviceaccount', 'app', '-n', 'apps']);
  await ok(s, ['apply', '-f', '-'], { input: node('n1') });
  await ok(s, ['apply', '-f', '-'], { input: node('n2') });
  for (const name of ['s1', 's2']) await ok(s, ['create', 'secret', 'generic', name, '--from-literal=k=v', '-n', 'apps']);
  for (const name of ['c1', 'c2']) await ok(s, ['create', 'configmap', name, '--from-literal=k=v', '-n', 'apps']);
  await ok(s, ['apply', '-f', '-'], { input: pod('p1', 'n1', 's1', 'c1') });
  await ok(s, ['apply', '-f', '-'], { input: pod('p2', 'n2', 's2', 'c2') });
});

after(async () => {
  await s?.stop();
});

describe('Node authorizer', () => {
  test('a node reads the Secret and ConfigMap of its own pod, not those of another node', async () => {
    const me = JSON.parse(await ok(s, ['auth', 'whoami', '-o', 'json'], { as: n1 })) as { status: { userInfo: { username: string; groups: string[] } } };
    assert.equal(me.status.userInfo.username, 'system:node:n1');
    await eventually('the node graph to see p1', async () => ((await s.kubectl(['get', 'secret', 's1', '-n', 'apps'], { as: n1 })).code === 0 ? true : undefined));
    await ok(s, ['get', 'configmap', 'c1', '-n', 'apps'], { as: n1 });
    const secret = await s.kubectl(['get', 'secret', 's2', '-n', 'apps'], { as: n1 });
    assert.notEqual(secret.code, 0);
    assert.match(secret.stderr, /secrets "s2" is forbidden: User "system:node:n1" cannot get resource "secrets" in API group "" in the namespace "apps"/);
    const cm = await s.kubectl(['get', 'configmap', 'c2', '-n', 'apps'], { as: n1 });
    assert.match(cm.stderr, /configmaps "c2" is forbidden/);
    const list = await s.kubectl(['get', 'secrets', '-n', 'apps'], { as: n1 });
    assert.match(list.stderr, /cannot list resource "secrets"/);
  });

  test('access follows the pod: moving the Secret reference moves the permission', async () => {
    await ok(s, ['delete', 'pod', 'p2', '-n', 'apps', '--grace-period=0', '--force']);
    await ok(s, ['apply', '-f', '-'], { input: pod('p3', 'n1', 's2', 'c2') });
    await eventually('n1 to reach s2', async () => ((await s.kubectl(['get', 'secret', 's2', '-n', 'apps'], { as: n1 })).code === 0 ? true : undefined));
    await ok(s, ['delete', 'pod', 'p3', '-n', 'apps', '--grace-period=0', '--force']);
    await eventually('n1 to lose s2', async () => ((await s.kubectl(['get', 'secret', 's2', '-n', 'apps'], { as: n1 })).code !== 0 ? true : undefined));
  });

  test('a node may create tokens only for the service accounts of its pods, bound to them', async () => {
    const uid = (await ok(s, ['get', 'pod', 'p1', '-n', 'apps', '-o', 'jsonpath={.metadata.uid}'])).trim();
    const token = (await ok(s, ['create', 'token', 'app', '-n', 'apps', '--bound-object-kind=Pod', '--bound-object-name=p1', `--bound-object-uid=${uid}`], { as: n1 })).trim();
    assert.ok(token.length > 100);
    const unbound = await s.kubectl(['create', 'token', 'app', '-n', 'apps'], { as: n1 });
    assert.match(unbound.stderr, /serviceaccounts "app" is forbidden: node requested token not bound to a pod/);
    await ok(s, ['create', 'serviceaccount', 'stranger', '-n', 'apps']);
    const stranger = await s.kubectl(['create', 'token', 'stranger', '-n', 'apps'], { as: n1 });
    assert.match(stranger.stderr, /User "system:node:n1" cannot create resource "serviceaccounts\/token"/);
  });

  test('a node reads and writes its own Lease only', async () => {
    const lease = (name: string): string => JSON.stringify({
      apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace: 'kube-node-lease' }, spec: { holderIdentity: name },
    });
    await ok(s, ['create', '-f', '-'], { as: n1, input: lease('n1') });
    await ok(s, ['get', 'lease', 'n1', '-n', 'kube-node-lease'], { as: n1 });
    const other = await s.kubectl(['create', '-f', '-'], { as: n1, input: lease('n2') });
    assert.match(other.stderr, /leases\.coordination\.k8s\.io "n2" is forbidden: can only access node lease with the same name as the requesting node/);
    const elsewhere = await s.kubectl(['get', 'lease', 'n1', '-n', 'default'], { as: n1 });
    assert.match(elsewhere.stderr, /forbidden/);
  });
});

describe('NodeRestriction', () => {
  test('a node may label itself with kubelet labels but not modify another node', async () => {
    await ok(s, ['label', 'node', 'n1', 'node.kubernetes.io/role=worker', 'example.com/rack=r1'], { as: n1 });
    // kubectl label would GET n2 first, which a node may not (AuthorizeNodeWithSelectors): patch directly.
    const other = await s.request('PATCH', '/api/v1/nodes/n2', {
      as: n1, body: JSON.stringify({ metadata: { labels: { 'example.com/rack': 'r1' } } }), headers: { 'Content-Type': 'application/merge-patch+json' },
    });
    assert.equal(other.status, 403);
    assert.match(other.body, /nodes \\"n2\\" is forbidden: node \\"n1\\" is not allowed to modify node \\"n2\\"/);
    const restricted = await s.kubectl(['label', 'node', 'n1', 'node-restriction.kubernetes.io/secure=true', 'node-role.kubernetes.io/control-plane='], { as: n1 });
    assert.match(restricted.stderr, /nodes "n1" is forbidden: is not allowed to modify labels: node-restriction\.kubernetes\.io\/secure, node-role\.kubernetes\.io\/control-plane/);
    const taint = await s.kubectl(['taint', 'node', 'n1', 'k=v:NoSchedule'], { as: n1 });
    assert.match(taint.stderr, /node "n1" is not allowed to modify taints/);
    await ok(s, ['label', 'node', 'n1', 'node-restriction.kubernetes.io/secure=true']);
  });

  test("a node updates the status of its own pods only, and creates only mirror pods", async () => {
    await ok(s, ['apply', '-f', '-'], { input: pod('p4', 'n2', 's2', 'c2') });
    // kubectl patch --subresource reads pods/status first, which nodes may not: patch as a kubelet does.
    const patchStatus = (name: string) => s.request('PATCH', `/api/v1/namespaces/apps/pods/${name}/status`, {
      as: n1, body: JSON.stringify({ status: { phase: 'Running' } }), headers: { 'Content-Type': 'application/merge-patch+json' },
    });
    const own = await patchStatus('p1');
    assert.equal(own.status, 200, own.body);
    const other = await patchStatus('p4');
    assert.equal(other.status, 403);
    assert.equal(other.json()['message'], 'pods "p4" is forbidden: node "n1" can only update pod status for pods with spec.nodeName set to itself');
    const plain = await s.kubectl(['run', 'sneaky', '--image=busybox', '-n', 'apps', '--overrides={"spec":{"nodeName":"n1","serviceAccountName":"app"}}'], { as: n1 });
    assert.match(plain.stderr, /pod does not have "kubernetes\.io\/config\.mirror" annotation, node "n1" can only create mirror pods/);
    const del = await s.kubectl(['delete', 'pod', 'p4', '-n', 'apps'], { as: n1 });
    assert.match(del.stderr, /node "n1" can only delete pods with spec\.nodeName set to itself/);
  });
});
