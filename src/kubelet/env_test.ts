import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Container, Pod, Service } from '../api/types/core_v1.ts';
import { expand, expandCommandAndArgs, fieldRefValue, makeEnvironment, resourceFieldRefValue, serviceEnvVars, type EnvContext } from './env.ts';

const pod: Pod = {
  metadata: { name: 'web', namespace: 'shop', uid: 'u-1', labels: { app: 'web', tier: 'front' }, annotations: { note: 'say "hi"' } },
  spec: { nodeName: 'n1', serviceAccountName: 'sa', containers: [{ name: 'c', resources: { limits: { memory: '64Mi' }, requests: { cpu: '250m' } } }] },
};
const container = pod.spec!.containers[0]!;

function svc(ns: string, name: string, ip: string, ports: { name?: string; port: number; protocol?: string }[]): Service {
  return { metadata: { namespace: ns, name }, spec: { clusterIP: ip, ports } } as Service;
}

const ctx: EnvContext = {
  podIPs: ['10.42.0.5'], hostIPs: ['192.0.2.9'], nodeAllocatable: { cpu: '2', memory: '8Gi' },
  services: [
    svc('default', 'kubernetes', '10.43.0.1', [{ name: 'https', port: 443 }]),
    svc('shop', 'redis-main', '10.43.0.20', [{ port: 6379 }, { name: 'metrics', port: 9121, protocol: 'TCP' }]),
    svc('shop', 'headless', 'None', [{ port: 80 }]),
    svc('other', 'elsewhere', '10.43.0.30', [{ port: 80 }]),
  ],
};

describe('$(VAR) expansion', () => {
  test('expands known names, keeps unknown ones, and $$ escapes', () => {
    const vars = new Map([['A', 'alpha'], ['B', 'beta']]);
    const look = (n: string): string | undefined => vars.get(n);
    assert.equal(expand('$(A)-$(B)', look), 'alpha-beta');
    assert.equal(expand('$(NOPE) $(A', look), '$(NOPE) $(A');
    assert.equal(expand('$$(A) cost $5 $', look), '$(A) cost $5 $');
    assert.equal(expand('no refs', look), 'no refs');
  });

  test('command and args use the container environment', () => {
    const c: Container = { name: 'c', command: ['echo', '$(GREETING)'], args: ['$(WHO)', '$$(WHO)'] };
    assert.deepEqual(expandCommandAndArgs(c, [{ name: 'GREETING', value: 'hello' }, { name: 'WHO', value: 'you' }]), { command: ['echo', 'hello'], args: ['you', '$(WHO)'] });
  });
});

describe('service link variables', () => {
  test('host, port, named ports and docker link variables', () => {
    const env = Object.fromEntries(serviceEnvVars([ctx.services[1]!]).map((e) => [e.name, e.value]));
    assert.deepEqual(env, {
      REDIS_MAIN_SERVICE_HOST: '10.43.0.20',
      REDIS_MAIN_SERVICE_PORT: '6379',
      REDIS_MAIN_SERVICE_PORT_METRICS: '9121',
      REDIS_MAIN_PORT: 'tcp://10.43.0.20:6379',
      REDIS_MAIN_PORT_6379_TCP: 'tcp://10.43.0.20:6379',
      REDIS_MAIN_PORT_6379_TCP_PROTO: 'tcp',
      REDIS_MAIN_PORT_6379_TCP_PORT: '6379',
      REDIS_MAIN_PORT_6379_TCP_ADDR: '10.43.0.20',
      REDIS_MAIN_PORT_9121_TCP: 'tcp://10.43.0.20:9121',
      REDIS_MAIN_PORT_9121_TCP_PROTO: 'tcp',
      REDIS_MAIN_PORT_9121_TCP_PORT: '9121',
      REDIS_MAIN_PORT_9121_TCP_ADDR: '10.43.0.20',
    });
  });

  test('a pod gets its namespace\'s services and the kubernetes service, not headless or foreign ones', async () => {
    const env = new Map((await makeEnvironment(pod, container, ctx)).map((e) => [e.name, e.value]));
    assert.equal(env.get('KUBERNETES_SERVICE_HOST'), '10.43.0.1');
    assert.equal(env.get('KUBERNETES_SERVICE_PORT_HTTPS'), '443');
    assert.equal(env.get('REDIS_MAIN_SERVICE_HOST'), '10.43.0.20');
    assert.equal(env.has('HEADLESS_SERVICE_HOST'), false);
    assert.equal(env.has('ELSEWHERE_SERVICE_HOST'), false);
  });

  test('enableServiceLinks: false keeps only the kubernetes service', async () => {
    const p: Pod = { ...pod, spec: { ...pod.spec!, enableServiceLinks: false } };
    const names = (await makeEnvironment(p, container, ctx)).map((e) => e.name);
    assert.ok(names.includes('KUBERNETES_SERVICE_HOST'));
    assert.ok(!names.some((n) => n.startsWith('REDIS_MAIN')));
  });
});

describe('the Downward API', () => {
  test('fieldRef paths', () => {
    const v = (path: string): string => fieldRefValue(path, pod, ['10.42.0.5', 'fd00::5'], ['192.0.2.9']);
    assert.equal(v('metadata.name'), 'web');
    assert.equal(v('metadata.namespace'), 'shop');
    assert.equal(v('metadata.uid'), 'u-1');
    assert.equal(v("metadata.labels['tier']"), 'front');
    assert.equal(v("metadata.annotations['note']"), 'say "hi"');
    assert.equal(v('metadata.labels'), 'app="web"\ntier="front"');
    assert.equal(v('spec.nodeName'), 'n1');
    assert.equal(v('spec.serviceAccountName'), 'sa');
    assert.equal(v('status.podIP'), '10.42.0.5');
    assert.equal(v('status.podIPs'), '10.42.0.5,fd00::5');
    assert.equal(v('status.hostIP'), '192.0.2.9');
    assert.equal(v('status.hostIPs'), '192.0.2.9');
    assert.throws(() => v('spec.bogus'), /unsupported fieldPath: spec.bogus/);
  });

  test('resourceFieldRef with divisors, and the node\'s allocatable for unset limits', () => {
    const alloc = { cpu: '2', memory: '8Gi' };
    assert.equal(resourceFieldRefValue({ resource: 'limits.memory', divisor: '1Mi' }, pod, container, alloc), '64');
    assert.equal(resourceFieldRefValue({ resource: 'limits.memory' }, pod, container, alloc), String(64 * 1024 * 1024));
    assert.equal(resourceFieldRefValue({ resource: 'requests.cpu', divisor: '1m' }, pod, container, alloc), '250');
    assert.equal(resourceFieldRefValue({ resource: 'requests.cpu' }, pod, container, alloc), '1');
    assert.equal(resourceFieldRefValue({ resource: 'limits.cpu' }, pod, container, alloc), '2');
    assert.equal(resourceFieldRefValue({ resource: 'limits.cpu', containerName: 'c', divisor: '100m' }, pod, container, alloc), '20');
  });
});

describe('makeEnvironment', () => {
  const objects = {
    configMap: async (ns: string, name: string) => (name === 'cfg' ? { metadata: { namespace: ns, name }, data: { LEVEL: 'debug', 'bad=key': 'x', '1st.key': 'y' } } : undefined),
    secret: async (ns: string, name: string) => (name === 'creds' ? { metadata: { namespace: ns, name }, data: { password: Buffer.from('s3cret').toString('base64') } } : undefined),
  };

  test('declared variables in order, references to earlier ones, envFrom with prefix (relaxed names, no "="), keys of ConfigMaps and Secrets', async () => {
    const warnings: string[] = [];
    const c: Container = {
      name: 'c',
      envFrom: [{ configMapRef: { name: 'cfg' }, prefix: 'CFG_' }],
      env: [
        { name: 'A', value: 'alpha' },
        { name: 'B', value: '$(A)-$(CFG_LEVEL)-$(KUBERNETES_SERVICE_PORT)' },
        { name: 'EMPTY' },
        { name: 'PASS', valueFrom: { secretKeyRef: { name: 'creds', key: 'password' } } },
        { name: 'LVL', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'LEVEL' } } },
        { name: 'OPT', valueFrom: { configMapKeyRef: { name: 'missing', key: 'x', optional: true } } },
        { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      ],
    };
    const env = await makeEnvironment(pod, c, { ...ctx, objects, warn: (reason, msg) => warnings.push(`${reason}: ${msg}`) });
    const declared = env.slice(0, 8);
    assert.deepEqual(declared, [
      { name: 'CFG_LEVEL', value: 'debug' },
      { name: 'CFG_1st.key', value: 'y' },
      { name: 'A', value: 'alpha' },
      { name: 'B', value: 'alpha-debug-443' },
      { name: 'EMPTY', value: '' },
      { name: 'PASS', value: 's3cret' },
      { name: 'LVL', value: 'debug' },
      { name: 'IP', value: '10.42.0.5' },
    ]);
    assert.deepEqual(warnings, ['InvalidEnvironmentVariableNames: Keys [CFG_bad=key] from the EnvFrom configMap shop/cfg were skipped since they are considered invalid environment variable names.']);
  });

  test('missing objects and keys fail as upstream words it', async () => {
    const one = (env: Container['env']): Promise<unknown> => makeEnvironment(pod, { name: 'c', env }, { ...ctx, objects });
    await assert.rejects(one([{ name: 'X', valueFrom: { configMapKeyRef: { name: 'nope', key: 'k' } } }]), { message: 'configmap "nope" not found' });
    await assert.rejects(one([{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'k' } } }]), { message: "couldn't find key k in ConfigMap shop/cfg" });
    await assert.rejects(one([{ name: 'X', valueFrom: { secretKeyRef: { name: 'nope', key: 'k' } } }]), { message: 'secret "nope" not found' });
    await assert.rejects(one([{ name: 'X', valueFrom: { secretKeyRef: { name: 'creds', key: 'k' } } }]), { message: "couldn't find key k in Secret shop/creds" });
    // optional references to missing objects or keys leave the variable out
    const env = await makeEnvironment(pod, { name: 'c', env: [
      { name: 'A', valueFrom: { secretKeyRef: { name: 'nope', key: 'k', optional: true } } },
      { name: 'B', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'k', optional: true } } },
    ], envFrom: [{ secretRef: { name: 'nope', optional: true } }] }, { ...ctx, objects });
    assert.equal(env.some((e) => e.name === 'A' || e.name === 'B'), false);
    await assert.rejects(makeEnvironment(pod, { name: 'c', envFrom: [{ secretRef: { name: 'nope' } }] }, { ...ctx, objects }), { message: 'secret "nope" not found' });
  });

  test('the kubernetes service variables come whatever enableServiceLinks says; other services only with it', async () => {
    const off = await makeEnvironment({ ...pod, spec: { ...pod.spec!, enableServiceLinks: false } }, container, ctx);
    const names = off.map((e) => e.name);
    assert.ok(names.includes('KUBERNETES_SERVICE_HOST') && names.includes('KUBERNETES_SERVICE_PORT'));
    assert.equal(names.some((n) => n.startsWith('REDIS_MAIN_')), false);
    const on = await makeEnvironment(pod, container, ctx);
    assert.ok(on.some((e) => e.name === 'REDIS_MAIN_SERVICE_HOST' && e.value === '10.43.0.20'));
    assert.equal(on.find((e) => e.name === 'KUBERNETES_SERVICE_HOST')?.value, '10.43.0.1');
    assert.equal(on.some((e) => e.name.startsWith('ELSEWHERE_')), false);
  });
});
