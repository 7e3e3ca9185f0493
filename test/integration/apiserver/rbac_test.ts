// RBAC as the textbooks exercise it: a ServiceAccount bound to a Role in one namespace, checked
// with `kubectl auth can-i --as` and real requests made as that identity.
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

async function ok(args: string[], input?: string): Promise<string> {
  const r = await s.kubectl(args, { input });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

describe('RBAC', () => {
  test('the default cluster roles exist, with aggregation applied to the view role', async () => {
    const roles = await ok(['get', 'clusterroles', '-o', 'name']);
    for (const r of ['cluster-admin', 'admin', 'edit', 'view', 'system:node', 'system:kube-scheduler']) assert.match(roles, new RegExp(`^clusterrole\\.rbac\\.authorization\\.k8s\\.io/${r}$`, 'm'));
    const crb = await ok(['get', 'clusterrolebinding', 'cluster-admin', '-o', 'jsonpath={.subjects[0].name}']);
    assert.equal(crb, 'system:masters');
  });

  test('a ServiceAccount with a Role can list pods in its namespace only', async () => {
    await ok(['create', 'namespace', 'team-a']);
    await ok(['create', 'namespace', 'team-b']);
    await ok(['create', 'serviceaccount', 'reader', '-n', 'team-a']);
    await ok(['create', 'role', 'pod-reader', '--verb=get,list,watch', '--resource=pods', '-n', 'team-a']);
    await ok(['create', 'rolebinding', 'reader-binding', '--role=pod-reader', '--serviceaccount=team-a:reader', '-n', 'team-a']);
    const as = '--as=system:serviceaccount:team-a:reader';
    assert.equal((await s.kubectl(['auth', 'can-i', 'list', 'pods', '-n', 'team-a', as])).stdout.trim(), 'yes');
    const other = await s.kubectl(['auth', 'can-i', 'list', 'pods', '-n', 'team-b', as]);
    assert.equal(other.stdout.trim(), 'no');
    assert.equal(other.code, 1);
    assert.equal((await s.kubectl(['auth', 'can-i', 'create', 'pods', '-n', 'team-a', as])).stdout.trim(), 'no');
    const list = await s.kubectl(['get', 'pods', '-n', 'team-a', as]);
    assert.equal(list.code, 0, list.stderr);
    const denied = await s.kubectl(['get', 'pods', '-n', 'team-b', as]);
    assert.notEqual(denied.code, 0);
    assert.match(denied.stderr, /Error from server \(Forbidden\): pods is forbidden: User "system:serviceaccount:team-a:reader" cannot list resource "pods" in API group "" in the namespace "team-b"/);
    const secrets = await s.kubectl(['get', 'secrets', '-n', 'team-a', as]);
    assert.match(secrets.stderr, /cannot list resource "secrets"/);
  });

  test('edit cannot bind roles; admin cannot grant more than it holds (escalation check)', async () => {
    await ok(['create', 'namespace', 'team-c']);
    await ok(['create', 'rolebinding', 'jane-edit', '--clusterrole=edit', '--user=jane', '-n', 'team-c']);
    assert.equal((await s.kubectl(['auth', 'can-i', 'create', 'deployments', '-n', 'team-c', '--as=jane'])).stdout.trim(), 'yes');
    const noBind = await s.kubectl(['create', 'rolebinding', 'jane-admin', '--clusterrole=admin', '--user=jane', '-n', 'team-c', '--as=jane']);
    assert.match(noBind.stderr, /User "jane" cannot create resource "rolebindings" in API group "rbac\.authorization\.k8s\.io" in the namespace "team-c"/);
    await ok(['create', 'rolebinding', 'kim-admin', '--clusterrole=admin', '--user=kim', '-n', 'team-c']);
    const esc = await s.kubectl(['create', 'rolebinding', 'kim-root', '--clusterrole=cluster-admin', '--user=kim', '-n', 'team-c', '--as=kim']);
    assert.notEqual(esc.code, 0);
    assert.match(esc.stderr, /rolebindings\.rbac\.authorization\.k8s\.io "kim-root" is forbidden: user "kim" \(groups=\["system:authenticated"\]\) is attempting to grant RBAC permissions not currently held/);
  });

  test('impersonation needs the impersonate verb', async () => {
    await ok(['create', 'namespace', 'team-d']);
    await ok(['create', 'rolebinding', 'bob-admin', '--clusterrole=admin', '--user=bob', '-n', 'team-d']);
    const r = await s.kubectl(['get', 'pods', '-n', 'team-d', '--as=bob', '--as-group=system:masters']);
    assert.equal(r.code, 0, 'system:masters may impersonate anyone');
    const chained = await s.request('GET', '/api/v1/namespaces/team-d/pods', { headers: { 'Impersonate-User': 'bob' } });
    assert.equal(chained.status, 200);
  });
});
