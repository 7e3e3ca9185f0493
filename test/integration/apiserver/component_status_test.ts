// `kubectl get componentstatuses` (cs) as the textbooks use it: computed health of the scheduler and
// controller manager (their leader Leases) and of the datastore, with upstream's deprecation warning.
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

function lease(name: string, renewed: Date): string {
  return JSON.stringify({
    apiVersion: 'coordination.k8s.io/v1', kind: 'Lease',
    metadata: { name, namespace: 'kube-system' },
    spec: { holderIdentity: `${name}-holder`, leaseDurationSeconds: 15, acquireTime: renewed.toISOString().replace('Z', '000Z'), renewTime: renewed.toISOString().replace('Z', '000Z') },
  });
}

describe('componentstatuses', () => {
  test('without leaders, the datastore is healthy and the scheduler and controller manager are not', async () => {
    const r = await s.kubectl(['get', 'cs']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /Warning: v1 ComponentStatus is deprecated in v1\.19\+/);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0]!, /^NAME\s+STATUS\s+MESSAGE\s+ERROR$/);
    assert.match(r.stdout, /\netcd-0\s+Healthy\s+ok/);
    assert.match(r.stdout, /\nscheduler\s+Unhealthy\s+no leader has acquired lease kube-system\/kube-scheduler/);
    assert.match(r.stdout, /\ncontroller-manager\s+Unhealthy\s+no leader has acquired lease kube-system\/kube-controller-manager/);
  });

  test('a freshly renewed leader lease is healthy, a stale one is not', async () => {
    const fresh = await s.kubectl(['apply', '-f', '-'], { input: lease('kube-scheduler', new Date()) });
    assert.equal(fresh.code, 0, fresh.stderr);
    const stale = await s.kubectl(['apply', '-f', '-'], { input: lease('kube-controller-manager', new Date(Date.now() - 60_000)) });
    assert.equal(stale.code, 0, stale.stderr);
    const r = await s.kubectl(['get', 'cs']);
    assert.match(r.stdout, /\nscheduler\s+Healthy\s+ok/);
    assert.match(r.stdout, /\ncontroller-manager\s+Unhealthy\s+leader "kube-controller-manager-holder" has not renewed lease/);

    const one = JSON.parse((await s.kubectl(['get', 'cs', 'scheduler', '-o', 'json'])).stdout) as Record<string, unknown>;
    assert.deepEqual(one, { kind: 'ComponentStatus', apiVersion: 'v1', metadata: { name: 'scheduler' }, conditions: [{ type: 'Healthy', status: 'True', message: 'ok' }] });
  });

  test('selectors filter, unknown names are not found, and writes are refused', async () => {
    const byName = await s.kubectl(['get', 'cs', '--field-selector', 'metadata.name=etcd-0', '-o', 'name']);
    assert.equal(byName.stdout.trim(), 'componentstatus/etcd-0');
    const labelled = await s.kubectl(['get', 'cs', '-l', 'app=x']);
    assert.match(labelled.stderr, /No resources found/);
    const missing = await s.kubectl(['get', 'cs', 'nope']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /componentstatuses "nope" not found/);
    const del = await s.kubectl(['delete', 'cs', 'etcd-0']);
    assert.notEqual(del.code, 0);
    assert.match(del.stderr, /MethodNotAllowed|method not allowed|not allowed/i);
  });
});

describe('health endpoints', () => {
  test('/readyz?verbose lists the named checks, /livez/etcd runs one, exclude and unknown checks answer as upstream', async () => {
    const verbose = await s.kubectl(['get', '--raw', '/readyz?verbose']);
    assert.equal(verbose.code, 0, verbose.stderr);
    const lines = verbose.stdout.trim().split('\n');
    assert.deepEqual(lines.slice(0, 3), ['[+]ping ok', '[+]log ok', '[+]etcd ok']);
    assert.ok(lines.includes('[+]informer-sync ok') && lines.includes('[+]shutdown ok'), verbose.stdout);
    assert.equal(lines.at(-1), 'readyz check passed');
    assert.equal((await s.kubectl(['get', '--raw', '/livez/etcd'])).stdout, 'ok');
    assert.equal((await s.request('GET', '/healthz', { anonymous: true })).body, 'ok');
    const excluded = await s.request('GET', '/livez?verbose&exclude=etcd&exclude=nope');
    assert.match(excluded.body, /\[\+\]etcd excluded: ok\n/);
    assert.match(excluded.body, /warn: some health checks cannot be excluded: no matches for "nope"\n/);
    const unknown = await s.request('GET', '/healthz/nope');
    assert.equal(unknown.status, 404);
  });
});
