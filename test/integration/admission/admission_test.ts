// The built-in admission plugins end to end: kubectl against an in-process API server, checking
// what users see: LimitRange defaults, quota refusals, Pod Security refusals and warnings,
// resolved priorities and the service account token volume.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../../src/testing/test_server.ts';
// ServiceAccount admission is not enabled by default until a controller creates the "default"
// accounts; registering it here turns it on for this server, whose namespaces get one by hand.
import { ORDERED_PLUGINS } from '../../../src/apiserver/admission/chain.ts';

let s: TestServer;
let nsCounter = 0;

async function ok(args: string[], input?: string): Promise<{ stdout: string; stderr: string }> {
  const r = await s.kubectl(args, { input });
  assert.equal(r.code, 0, `kubectl ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
  return r;
}

async function fails(args: string[], input?: string): Promise<string> {
  const r = await s.kubectl(args, { input });
  assert.notEqual(r.code, 0, `kubectl ${args.join(' ')} unexpectedly succeeded: ${r.stdout}`);
  return r.stderr;
}

/** A namespace with its default service account (no controller creates it in this test server). */
async function freshNamespace(labels: Record<string, string> = {}): Promise<string> {
  const ns = `adm${++nsCounter}-${process.pid}`;
  const l = Object.entries(labels).map(([k, v]) => `    ${k}: "${v}"`).join('\n');
  await ok(['apply', '-f', '-'], `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${ns}\n${l ? `  labels:\n${l}\n` : ''}`);
  await ok(['create', 'serviceaccount', 'default', '-n', ns]);
  return ns;
}

function podYaml(name: string, containerExtra = '', specExtra = ''): string {
  return `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\nspec:\n${specExtra}  containers:\n  - name: web\n    image: nginx:1.27\n${containerExtra}`;
}

async function getJson(args: string[]): Promise<Record<string, any>> {
  return JSON.parse((await ok([...args, '-o', 'json'])).stdout) as Record<string, any>;
}

before(async () => {
  s = await startTestServer({ admissionPlugins: ORDERED_PLUGINS });
});

after(async () => {
  await s?.stop();
});

describe('admission plugins through kubectl', () => {
  test('LimitRange defaults show on a created pod', async () => {
    const ns = await freshNamespace();
    await ok(['apply', '-n', ns, '-f', '-'], `apiVersion: v1
kind: LimitRange
metadata:
  name: defaults
spec:
  limits:
  - type: Container
    default:
      cpu: 500m
      memory: 256Mi
    defaultRequest:
      cpu: 100m
`);
    await ok(['create', '-n', ns, '-f', '-'], podYaml('web'));
    const pod = await getJson(['get', 'pod', 'web', '-n', ns]);
    assert.deepEqual(pod['spec']['containers'][0]['resources'], { limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '100m', memory: '256Mi' } });
    assert.equal(pod['metadata']['annotations']['kubernetes.io/limit-ranger'], 'LimitRanger plugin set: cpu, memory request for container web; cpu, memory limit for container web');
    const big = podYaml('big', '    resources:\n      limits:\n        cpu: "2"\n');
    await ok(['apply', '-n', ns, '-f', '-'], 'apiVersion: v1\nkind: LimitRange\nmetadata:\n  name: max\nspec:\n  limits:\n  - type: Container\n    max:\n      cpu: "1"\n');
    const err = await fails(['create', '-n', ns, '-f', '-'], big);
    assert.equal(err.trim(), 'Error from server (Forbidden): error when creating "STDIN": pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2');
  });

  test('a ResourceQuota refuses the third pod', async () => {
    const ns = await freshNamespace();
    await ok(['create', 'quota', 'q', '--hard=pods=2', '-n', ns]);
    await ok(['create', '-n', ns, '-f', '-'], podYaml('p1'));
    await ok(['create', '-n', ns, '-f', '-'], podYaml('p2'));
    const err = await fails(['create', '-n', ns, '-f', '-'], podYaml('p3'));
    assert.equal(err.trim(), 'Error from server (Forbidden): error when creating "STDIN": pods "p3" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2');
    await ok(['delete', 'pod', 'p1', '-n', ns, '--wait=false']);
    await ok(['create', '-n', ns, '-f', '-'], podYaml('p3'));
  });

  test('PodSecurity restricted refuses a privileged pod and warns about a Deployment', async () => {
    const ns = await freshNamespace({ 'pod-security.kubernetes.io/enforce': 'restricted' });
    const err = await fails(['create', '-n', ns, '-f', '-'], podYaml('priv', '    securityContext:\n      privileged: true\n'));
    assert.equal(err.trim(), 'Error from server (Forbidden): error when creating "STDIN": pods "priv" is forbidden: violates PodSecurity "restricted:latest": '
      + 'privileged (container "web" must not set securityContext.privileged=true), '
      + 'allowPrivilegeEscalation != false (container "web" must set securityContext.allowPrivilegeEscalation=false), '
      + 'unrestricted capabilities (container "web" must set securityContext.capabilities.drop=["ALL"]), '
      + 'runAsNonRoot != true (pod or container "web" must set securityContext.runAsNonRoot=true), '
      + 'seccompProfile (pod or container "web" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")');
    const r = await ok(['create', 'deployment', 'web', '--image=nginx:1.27', '-n', ns]);
    assert.match(r.stderr, /^Warning: would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false \(container "nginx" must set securityContext.allowPrivilegeEscalation=false\), unrestricted capabilities/m);
    assert.match(r.stdout, /deployment.apps\/web created/);
  });

  test('priorityClassName resolves to spec.priority', async () => {
    const ns = await freshNamespace();
    await ok(['create', 'priorityclass', `high-${process.pid}`, '--value=1000', '--preemption-policy=Never']);
    await ok(['create', '-n', ns, '-f', '-'], podYaml('prio', '', `  priorityClassName: high-${process.pid}\n`));
    const pod = await getJson(['get', 'pod', 'prio', '-n', ns]);
    assert.equal(pod['spec']['priority'], 1000);
    assert.equal(pod['spec']['preemptionPolicy'], 'Never');
    const err = await fails(['create', '-n', ns, '-f', '-'], podYaml('nope', '', '  priorityClassName: missing\n'));
    assert.equal(err.trim(), 'Error from server (Forbidden): error when creating "STDIN": pods "nope" is forbidden: no PriorityClass with name missing was found');
  });

  test('pods get the service account token volume and default tolerations', async () => {
    const ns = await freshNamespace();
    await ok(['create', '-n', ns, '-f', '-'], podYaml('sa'));
    const pod = await getJson(['get', 'pod', 'sa', '-n', ns]);
    assert.equal(pod['spec']['serviceAccountName'], 'default');
    const vol = pod['spec']['volumes'][0];
    assert.match(vol['name'], /^kube-api-access-[a-z0-9]{5}$/);
    assert.equal(vol['projected']['sources'][0]['serviceAccountToken']['expirationSeconds'], 3607);
    assert.deepEqual(pod['spec']['containers'][0]['volumeMounts'], [{ mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', name: vol['name'], readOnly: true }]);
    assert.deepEqual(pod['spec']['tolerations'].map((t: Record<string, unknown>) => t['key']), ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']);
    const err = await fails(['create', '-n', ns, '-f', '-'], podYaml('ghost', '', '  serviceAccountName: ghost\n'));
    assert.equal(err.trim(), `Error from server (Forbidden): error when creating "STDIN": pods "ghost" is forbidden: error looking up service account ${ns}/ghost: serviceaccount "ghost" not found`);
  });

  test('system namespaces cannot be deleted; nothing is created in a missing one', async () => {
    const err = await fails(['delete', 'namespace', 'kube-public']);
    assert.equal(err.trim(), 'Error from server (Forbidden): namespaces "kube-public" is forbidden: this namespace may not be deleted');
    const missing = await fails(['create', 'configmap', 'c', '-n', 'no-such-ns']);
    assert.equal(missing.trim(), 'error: failed to create configmap: namespaces "no-such-ns" not found');
  });
});
