// Who may do what, as the textbooks exercise it against a server with --anonymous-auth: issuer
// discovery behind RBAC, impersonation (--as, --as-group, --as-uid, extras, service accounts) with
// upstream's refusals, `kubectl auth whoami` and `auth can-i --list`, a ClusterRole bound per
// namespace and cluster-wide, and aggregated ClusterRoles kept up to date by their controller.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeKubeconfig } from '../../../src/base/kubeconfig.ts';
import { RestClient } from '../../../src/client/rest_client.ts';
import { SharedInformerFactory } from '../../../src/client/informer_factory.ts';
import { FakeRecorder } from '../../../src/client/fake_recorder.ts';
import { realClock } from '../../../src/client/clock.ts';
import { ClusterRoleAggregationController } from '../../../src/controllers/clusterrole_aggregation/clusterrole_aggregation_controller.ts';
import { eventually, ok, startSecurityServer, type Identity, type SecurityServer } from './security_harness.ts';

let s: SecurityServer;
const kim: Identity = { token: 'kim-token' };
const anonymous: Identity = { anonymous: true };
const rbac = 'rbac.authorization.k8s.io';

before(async () => {
  s = await startSecurityServer({ tokenFile: 'kim-token,kim,1001\n', anonymousAuth: true });
  for (const ns of ['team', 'east', 'west']) await ok(s, ['create', 'namespace', ns]);
  await ok(s, ['create', 'serviceaccount', 'reader', '-n', 'team']);
  await ok(s, ['create', 'role', 'pod-reader', '--verb=get,list,watch', '--resource=pods', '-n', 'team']);
  await ok(s, ['create', 'rolebinding', 'reader-binding', '--role=pod-reader', '--serviceaccount=team:reader', '-n', 'team']);
});

after(async () => {
  await s?.stop();
});

async function fails(args: string[], as?: Identity): Promise<string> {
  const r = await s.kubectl(args, { as });
  assert.notEqual(r.code, 0, `kubectl ${args.join(' ')} succeeded: ${r.stdout}`);
  return r.stderr.trim();
}

describe('issuer discovery and anonymous access', () => {
  test('anonymous requests reach health and version only', async () => {
    assert.equal((await s.request('GET', '/healthz', { as: anonymous })).status, 200);
    assert.equal((await s.request('GET', '/version', { as: anonymous })).status, 200);
    const api = await s.request('GET', '/api', { as: anonymous });
    assert.equal(api.status, 403);
    assert.deepEqual(api.json(), {
      kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'forbidden: User "system:anonymous" cannot get path "/api"', reason: 'Forbidden', details: {}, code: 403,
    });
    const pods = await s.request('GET', '/api/v1/namespaces/team/pods', { as: anonymous });
    assert.equal(pods.json()['message'], 'pods is forbidden: User "system:anonymous" cannot list resource "pods" in API group "" in the namespace "team"');
  });

  test('the OIDC documents are for service accounts until anonymous is bound to the discovery role', async () => {
    for (const path of ['/.well-known/openid-configuration', '/openid/v1/jwks']) {
      const r = await s.request('GET', path, { as: anonymous });
      assert.equal(r.status, 403);
      assert.equal(r.json()['message'], `forbidden: User "system:anonymous" cannot get path "${path}"`);
    }
    const token = (await ok(s, ['create', 'token', 'reader', '-n', 'team'])).trim();
    const conf = await s.request('GET', '/.well-known/openid-configuration', { as: { token } });
    assert.equal(conf.status, 200);
    assert.equal(conf.json()['issuer'], 'https://kubernetes.default.svc.cluster.local');
    // kim is neither a service account nor bound to the role
    assert.equal((await s.request('GET', '/openid/v1/jwks', { as: kim })).status, 403);
    await ok(s, ['create', 'clusterrolebinding', 'oidc-reviewer', '--clusterrole=system:service-account-issuer-discovery', '--group=system:unauthenticated']);
    const jwks = await eventually('anonymous JWKS', async () => {
      const r = await s.request('GET', '/openid/v1/jwks', { as: anonymous });
      return r.status === 200 ? r.json<{ keys: unknown[] }>() : undefined;
    });
    assert.equal(jwks.keys.length, 1);
  });
});

describe('impersonation', () => {
  before(async () => {
    await ok(s, ['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: `${rbac}/v1`, kind: 'ClusterRole', metadata: { name: 'jane-impersonator' },
        rules: [
          { apiGroups: [''], resources: ['users'], verbs: ['impersonate'], resourceNames: ['jane'] },
          { apiGroups: [''], resources: ['groups'], verbs: ['impersonate'], resourceNames: ['devs'] },
          { apiGroups: ['authentication.k8s.io'], resources: ['uids'], verbs: ['impersonate'], resourceNames: ['42'] },
          { apiGroups: ['authentication.k8s.io'], resources: ['userextras/scopes'], verbs: ['impersonate'], resourceNames: ['view'] },
        ],
      }),
    });
    await ok(s, ['create', 'clusterrolebinding', 'kim-impersonates-jane', '--clusterrole=jane-impersonator', '--user=kim']);
  });

  test('kubectl auth whoami shows the impersonated user, groups and uid', async () => {
    const out = await ok(s, ['auth', 'whoami', '--as=jane', '--as-group=devs', '--as-uid=42'], { as: kim });
    assert.equal(out, 'ATTRIBUTE   VALUE\nUsername    jane\nUID         42\nGroups      [devs system:authenticated]\n');
    const me = JSON.parse(await ok(s, ['auth', 'whoami', '-o', 'json'], { as: kim })) as { status: { userInfo: { username: string } } };
    assert.equal(me.status.userInfo.username, 'kim');
    // repeated --as-group flags arrive as repeated headers, each a group of its own (even with a comma)
    const many = JSON.parse(await ok(s, ['auth', 'whoami', '--as=jane', '--as-group=a,b', '--as-group=c', '-o', 'json'])) as { status: { userInfo: { groups: string[] } } };
    assert.deepEqual(many.status.userInfo.groups, ['a,b', 'c', 'system:authenticated']);
  });

  test('extras travel as Impersonate-Extra headers, each value checked', async () => {
    const review = JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
    const r = await s.request('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
      as: kim, body: review, headers: { 'Impersonate-User': 'jane', 'Impersonate-Extra-Scopes': 'view' },
    });
    assert.equal(r.status, 201, r.body);
    assert.deepEqual(r.json<{ status: { userInfo: unknown } }>().status.userInfo, { username: 'jane', groups: ['system:authenticated'], extra: { scopes: ['view'] } });
    const denied = await s.request('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
      as: kim, body: review, headers: { 'Impersonate-User': 'jane', 'Impersonate-Extra-Scopes': 'admin' },
    });
    assert.equal(denied.status, 403);
    assert.equal(denied.json()['message'], 'userextras.authentication.k8s.io "admin" is forbidden: User "kim" cannot impersonate resource "userextras/scopes" in API group "authentication.k8s.io" at the cluster scope');
  });

  test('each thing impersonated needs its own impersonate grant, with upstream\'s refusal', async () => {
    assert.equal(await fails(['get', 'pods', '-n', 'team', '--as=bob'], kim),
      'Error from server (Forbidden): users "bob" is forbidden: User "kim" cannot impersonate resource "users" in API group "" at the cluster scope');
    assert.equal(await fails(['get', 'pods', '-n', 'team', '--as=jane', '--as-group=system:masters'], kim),
      'Error from server (Forbidden): groups "system:masters" is forbidden: User "kim" cannot impersonate resource "groups" in API group "" at the cluster scope');
    assert.equal(await fails(['get', 'pods', '-n', 'team', '--as=jane', '--as-uid=0'], kim),
      'Error from server (Forbidden): uids.authentication.k8s.io "0" is forbidden: User "kim" cannot impersonate resource "uids" in API group "authentication.k8s.io" at the cluster scope');
    assert.equal(await fails(['get', 'pods', '-n', 'team', '--as=system:serviceaccount:team:reader'], kim),
      'Error from server (Forbidden): serviceaccounts "reader" is forbidden: User "kim" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "team"');
    // allowed to impersonate jane, the request then has only jane's rights
    assert.equal(await fails(['get', 'pods', '-n', 'team', '--as=jane'], kim),
      'Error from server (Forbidden): pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "team"');
  });

  test('impersonating a service account takes its groups and its rights', async () => {
    await ok(s, ['create', 'role', 'sa-impersonator', '--verb=impersonate', '--resource=serviceaccounts', '--resource-name=reader', '-n', 'team']);
    await ok(s, ['create', 'rolebinding', 'kim-sa-impersonator', '--role=sa-impersonator', '--user=kim', '-n', 'team']);
    const as = '--as=system:serviceaccount:team:reader';
    await eventually('the grant', async () => ((await s.kubectl(['get', 'pods', '-n', 'team', as], { as: kim })).code === 0 ? true : undefined));
    const me = JSON.parse(await ok(s, ['auth', 'whoami', as, '-o', 'json'], { as: kim })) as { status: { userInfo: { username: string; groups: string[] } } };
    assert.deepEqual(me.status.userInfo, { username: 'system:serviceaccount:team:reader', groups: ['system:serviceaccounts', 'system:serviceaccounts:team', 'system:authenticated'] });
    assert.match(await fails(['get', 'secrets', '-n', 'team', as], kim), /User "system:serviceaccount:team:reader" cannot list resource "secrets"/);
    // a name that is not a valid service account stays a plain user (serviceaccount.SplitUsername)
    const odd = await s.request('GET', '/api', { headers: { 'Impersonate-User': 'system:serviceaccount:team:reader:extra' } });
    assert.equal(odd.status, 200);
    const review = await s.request('POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
      body: '{}', headers: { 'Impersonate-User': 'system:serviceaccount:team:reader:extra' },
    });
    assert.deepEqual(review.json<{ status: { userInfo: unknown } }>().status.userInfo, { username: 'system:serviceaccount:team:reader:extra', groups: ['system:authenticated'] });
  });

  test('impersonating system:unauthenticated does not add system:authenticated', async () => {
    assert.equal((await s.request('GET', '/api', { headers: { 'Impersonate-User': 'x' } })).status, 200);
    const r = await s.request('GET', '/api', { headers: { 'Impersonate-User': 'x', 'Impersonate-Group': 'system:unauthenticated' } });
    assert.equal(r.status, 403);
    assert.equal(r.json()['message'], 'forbidden: User "x" cannot get path "/api"');
    const anon = await s.request('GET', '/api', { headers: { 'Impersonate-User': 'system:anonymous' } });
    assert.equal(anon.json()['message'], 'forbidden: User "system:anonymous" cannot get path "/api"');
  });
});

describe('textbook RBAC', () => {
  test('kubectl auth can-i --list shows a service account its rules, by token and with --as', async () => {
    const token = (await ok(s, ['create', 'token', 'reader', '-n', 'team'])).trim();
    const own = await ok(s, ['auth', 'can-i', '--list', '-n', 'team'], { as: { token } });
    assert.match(own, /^Resources\s+Non-Resource URLs\s+Resource Names\s+Verbs$/m);
    assert.match(own, /^pods\s+\[\]\s+\[\]\s+\[get list watch\]$/m);
    assert.match(own, /^selfsubjectaccessreviews\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create\]$/m);
    assert.match(own, /^\s+\[\/openid\/v1\/jwks\]\s+\[\]\s+\[get\]$/m);
    assert.equal(await ok(s, ['auth', 'can-i', '--list', '-n', 'team', '--as=system:serviceaccount:team:reader']), own);
    const elsewhere = await ok(s, ['auth', 'can-i', '--list', '-n', 'east'], { as: { token } });
    assert.doesNotMatch(elsewhere, /^pods\s/m);
    assert.equal((await s.kubectl(['auth', 'can-i', 'watch', 'pods', '-n', 'team'], { as: { token } })).stdout, 'yes\n');
    assert.equal((await s.kubectl(['auth', 'can-i', 'delete', 'pods', '-n', 'team'], { as: { token } })).stdout, 'no\n');
  });

  test('a ClusterRole bound by a RoleBinding grants in that namespace only; a ClusterRoleBinding everywhere', async () => {
    await ok(s, ['create', 'serviceaccount', 'auditor', '-n', 'east']);
    await ok(s, ['create', 'secret', 'generic', 'e', '--from-literal=k=v', '-n', 'east']);
    await ok(s, ['create', 'secret', 'generic', 'w', '--from-literal=k=v', '-n', 'west']);
    await ok(s, ['create', 'clusterrole', 'secret-reader', '--verb=get,list', '--resource=secrets']);
    await ok(s, ['create', 'rolebinding', 'auditor-east', '--clusterrole=secret-reader', '--serviceaccount=east:auditor', '-n', 'east']);
    const token = (await ok(s, ['create', 'token', 'auditor', '-n', 'east'])).trim();
    assert.equal((await s.request('GET', '/api/v1/namespaces/east/secrets/e', { as: { token } })).status, 200);
    const west = await s.request('GET', '/api/v1/namespaces/west/secrets/w', { as: { token } });
    assert.equal(west.status, 403);
    assert.equal(west.json()['message'], 'secrets "w" is forbidden: User "system:serviceaccount:east:auditor" cannot get resource "secrets" in API group "" in the namespace "west"');
    assert.match(await fails(['get', 'secrets', '-A'], { token }), /cannot list resource "secrets" in API group "" at the cluster scope/);
    await ok(s, ['create', 'clusterrolebinding', 'auditor-everywhere', '--clusterrole=secret-reader', '--serviceaccount=east:auditor']);
    await eventually('the cluster-wide grant', async () => ((await s.request('GET', '/api/v1/namespaces/west/secrets/w', { as: { token } })).status === 200 ? true : undefined));
    assert.match(await ok(s, ['get', 'secrets', '-A'], { as: { token } }), /^west\s+w\s+Opaque/m);
    assert.equal((await s.kubectl(['auth', 'can-i', 'create', 'secrets', '-n', 'west'], { as: { token } })).stdout, 'no\n');
  });
});

describe('aggregated ClusterRoles', () => {
  let stop: (() => Promise<void>) | undefined;

  before(async () => {
    // The controller runs as its own service account, with only its bootstrap role.
    const cert = await s.certificate('system:serviceaccount:kube-system:clusterrole-aggregation-controller', ['system:serviceaccounts', 'system:serviceaccounts:kube-system']);
    const kubeconfig = join(s.dir, 'aggregator.kubeconfig');
    await writeKubeconfig(kubeconfig, { server: s.url, caPem: s.ca.certPem, clientCertPem: cert.certPem, clientKeyPem: cert.keyPem });
    const client = await RestClient.fromKubeconfig(kubeconfig);
    const informers = new SharedInformerFactory(client);
    const controller = new ClusterRoleAggregationController({
      client, informers, clock: realClock, recorder: () => new FakeRecorder(),
      options: { clusterCidr: '10.42.0.0/16', serviceCidr: '10.43.0.0/16', rootCaPem: s.ca.certPem },
    });
    informers.start();
    assert.ok(await informers.waitForCacheSync(10_000));
    controller.run(1);
    stop = async () => {
      await controller.dispose();
      await informers.dispose();
      await client.dispose();
    };
  });

  after(async () => {
    await stop?.();
  });

  test('admin, edit and view show the rules they aggregate', async () => {
    const rules = await eventually('view to be aggregated', async () => {
      const r = JSON.parse(await ok(s, ['get', 'clusterrole', 'view', '-o', 'json'])) as { rules?: Array<{ resources?: string[]; verbs: string[] }> };
      return (r.rules ?? []).length > 0 ? r.rules! : undefined;
    });
    assert.ok(rules.some((r) => r.resources?.includes('pods') && r.verbs.includes('list')), JSON.stringify(rules));
    await eventually('admin to be aggregated', async () => {
      const out = await ok(s, ['describe', 'clusterrole', 'admin']);
      return /^\s+rolebindings\.rbac\.authorization\.k8s\.io\s+\[\]\s+\[\]\s+\[create delete deletecollection get list patch update watch\]$/m.test(out) ? true : undefined;
    });
  });

  test('a custom aggregationRule gathers labelled roles, and bound users get the union', async () => {
    await ok(s, ['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: `${rbac}/v1`, kind: 'ClusterRole', metadata: { name: 'monitoring' },
        aggregationRule: { clusterRoleSelectors: [{ matchLabels: { 'rbac.example.com/aggregate-to-monitoring': 'true' } }] }, rules: [],
      }),
    });
    await ok(s, ['apply', '-f', '-'], {
      input: JSON.stringify({
        apiVersion: `${rbac}/v1`, kind: 'ClusterRole', metadata: { name: 'monitoring-endpoints', labels: { 'rbac.example.com/aggregate-to-monitoring': 'true' } },
        rules: [{ apiGroups: [''], resources: ['services', 'endpoints', 'pods'], verbs: ['get', 'list', 'watch'] }],
      }),
    });
    await ok(s, ['create', 'clusterrolebinding', 'kim-monitoring', '--clusterrole=monitoring', '--user=kim']);
    const rules = await eventually('monitoring to be aggregated', async () => {
      const r = JSON.parse(await ok(s, ['get', 'clusterrole', 'monitoring', '-o', 'json'])) as { rules?: unknown[] };
      return (r.rules ?? []).length > 0 ? r.rules : undefined;
    });
    assert.deepEqual(rules, [{ apiGroups: [''], resources: ['services', 'endpoints', 'pods'], verbs: ['get', 'list', 'watch'] }]);
    assert.equal((await s.kubectl(['auth', 'can-i', 'list', 'endpoints', '-n', 'west'], { as: kim })).stdout, 'yes\n');
    // Removing the label takes the rules away again.
    await ok(s, ['label', 'clusterrole', 'monitoring-endpoints', 'rbac.example.com/aggregate-to-monitoring-']);
    await eventually('monitoring to be emptied', async () => {
      const r = JSON.parse(await ok(s, ['get', 'clusterrole', 'monitoring', '-o', 'json'])) as { rules?: unknown[] };
      return (r.rules ?? []).length === 0 ? true : undefined;
    });
    await eventually('kim to lose endpoints', async () => ((await s.kubectl(['auth', 'can-i', 'list', 'endpoints', '-n', 'west'], { as: kim })).stdout === 'no\n' ? true : undefined));
  });

  test('only a full cluster admin may create an aggregating ClusterRole', async () => {
    await ok(s, ['create', 'clusterrole', 'role-writer', '--verb=create', '--resource=clusterroles']);
    await ok(s, ['create', 'clusterrolebinding', 'kim-role-writer', '--clusterrole=role-writer', '--user=kim']);
    const grab = JSON.stringify({
      apiVersion: `${rbac}/v1`, kind: 'ClusterRole', metadata: { name: 'grab-admin' },
      aggregationRule: { clusterRoleSelectors: [{ matchLabels: { 'rbac.authorization.k8s.io/aggregate-to-admin': 'true' } }] },
    });
    const r = await s.request('POST', `/apis/${rbac}/v1/clusterroles`, { as: kim, body: grab });
    assert.equal(r.status, 403);
    assert.equal(r.json()['message'], `clusterroles.${rbac} "grab-admin" is forbidden: must have cluster-admin privileges to use the aggregationRule`);
  });
});
