// Object and watch semantics clients rely on: generation, graceful pod deletion, finalizers,
// namespace termination, watch bookmarks and the watch-list protocol (sendInitialEvents).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../../../src/testing/test_server.ts';

let s: TestServer;

before(async () => {
  s = await startTestServer();
});

after(async () => {
  await s?.stop();
});

type Json = Record<string, any>;

async function req(method: string, path: string, body?: unknown, contentType?: string): Promise<{ status: number; body: Json }> {
  const r = await s.request(method, path, { body: body === undefined ? undefined : JSON.stringify(body), headers: contentType ? { 'Content-Type': contentType } : {} });
  return { status: r.status, body: r.body ? JSON.parse(r.body) as Json : {} };
}

/** Opens a watch and collects its events until `until` says stop (or the timeout passes). */
async function watchEvents(path: string, until: (events: Json[]) => boolean, afterOpen?: () => Promise<void>, timeoutMs = 10_000): Promise<Json[]> {
  const tls = join(s.dir, 'tls');
  const [ca, cert, key] = await Promise.all(['ca.crt', 'admin.crt', 'admin.key'].map((f) => readFile(join(tls, f))));
  return new Promise((resolve, reject) => {
    const events: Json[] = [];
    const r = httpsRequest({ host: '127.0.0.1', port: s.port, path, ca, cert, key, agent: false, headers: { Accept: 'application/json' } }, (res) => {
      let buf = '';
      const t = setTimeout(() => { r.destroy(); reject(new Error(`watch timed out with ${JSON.stringify(events.map((e) => e['type']))}`)); }, timeoutMs);
      res.on('data', (c: Buffer) => {
        buf += c.toString();
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          events.push(JSON.parse(buf.slice(0, i)) as Json);
          buf = buf.slice(i + 1);
        }
        if (until(events)) { clearTimeout(t); r.destroy(); resolve(events); }
      });
      res.on('end', () => { clearTimeout(t); resolve(events); });
      if (afterOpen) afterOpen().catch(reject);
    });
    r.on('error', (e) => { if (!(e as NodeJS.ErrnoException).code?.includes('ECONNRESET')) reject(e); });
    r.end();
  });
}

const pod = (name: string, extra: Json = {}) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: 'c', image: 'busybox' }], ...extra } });

describe('object semantics', () => {
  test('generation counts spec changes only', async () => {
    const d = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'gen' }, spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'nginx' }] } } } };
    assert.equal((await req('POST', '/apis/apps/v1/namespaces/default/deployments', d)).body['metadata'].generation, 1);
    const labelled = await req('PATCH', '/apis/apps/v1/namespaces/default/deployments/gen', { metadata: { labels: { x: 'y' } } }, 'application/merge-patch+json');
    assert.equal(labelled.body['metadata'].generation, 1);
    const scaled = await req('PATCH', '/apis/apps/v1/namespaces/default/deployments/gen', { spec: { replicas: 5 } }, 'application/merge-patch+json');
    assert.equal(scaled.body['metadata'].generation, 2);
    const status = await req('PATCH', '/apis/apps/v1/namespaces/default/deployments/gen/status', { status: { replicas: 5 } }, 'application/merge-patch+json');
    assert.equal(status.body['metadata'].generation, 2);
    assert.equal(status.body['status'].replicas, 5);
    // The main resource ignores status; /status ignores spec.
    const ignored = await req('PATCH', '/apis/apps/v1/namespaces/default/deployments/gen', { status: { replicas: 9 } }, 'application/merge-patch+json');
    assert.equal(ignored.body['status'].replicas, 5);
  });

  test('a pod on a node is deleted gracefully; an unscheduled one at once', async () => {
    await req('POST', '/api/v1/namespaces/default/pods', pod('loose'));
    const loose = await req('DELETE', '/api/v1/namespaces/default/pods/loose');
    assert.equal(loose.status, 200);
    assert.equal((await req('GET', '/api/v1/namespaces/default/pods/loose')).status, 404);
    await req('POST', '/api/v1/namespaces/default/pods', pod('bound'));
    const bind = await req('POST', '/api/v1/namespaces/default/pods/bound/binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'bound' }, target: { kind: 'Node', name: 'n1' } });
    assert.equal(bind.status, 201);
    const again = await req('POST', '/api/v1/namespaces/default/pods/bound/binding', { apiVersion: 'v1', kind: 'Binding', metadata: { name: 'bound' }, target: { kind: 'Node', name: 'n2' } });
    assert.equal(again.status, 409);
    const graceful = await req('DELETE', '/api/v1/namespaces/default/pods/bound');
    assert.equal(graceful.status, 200);
    assert.ok(graceful.body['metadata'].deletionTimestamp, 'deletionTimestamp set');
    assert.equal(graceful.body['metadata'].deletionGracePeriodSeconds, 30);
    assert.equal((await req('GET', '/api/v1/namespaces/default/pods/bound')).status, 200);
    // The node confirms with grace 0.
    await req('DELETE', '/api/v1/namespaces/default/pods/bound', { gracePeriodSeconds: 0 });
    assert.equal((await req('GET', '/api/v1/namespaces/default/pods/bound')).status, 404);
  });

  test('finalizers hold an object until they are removed', async () => {
    await req('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'held', finalizers: ['example.com/hold'] } });
    const del = await req('DELETE', '/api/v1/namespaces/default/configmaps/held');
    assert.equal(del.status, 200);
    const held = await req('GET', '/api/v1/namespaces/default/configmaps/held');
    assert.ok(held.body['metadata'].deletionTimestamp);
    const rejected = await req('PATCH', '/api/v1/namespaces/default/configmaps/held', { metadata: { finalizers: ['example.com/hold', 'example.com/new'] } }, 'application/merge-patch+json');
    assert.equal(rejected.status, 422, 'no new finalizers while deleting');
    await req('PATCH', '/api/v1/namespaces/default/configmaps/held', { metadata: { finalizers: null } }, 'application/merge-patch+json');
    assert.equal((await req('GET', '/api/v1/namespaces/default/configmaps/held')).status, 404);
  });

  test('a deleted namespace goes Terminating and refuses new content', async () => {
    await req('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'doomed' } });
    const ns = await req('GET', '/api/v1/namespaces/doomed');
    assert.deepEqual(ns.body['spec'].finalizers, ['kubernetes']);
    assert.equal(ns.body['metadata'].labels['kubernetes.io/metadata.name'], 'doomed');
    await req('DELETE', '/api/v1/namespaces/doomed');
    const term = await req('GET', '/api/v1/namespaces/doomed');
    assert.equal(term.body['status'].phase, 'Terminating');
    const refused = await req('POST', '/api/v1/namespaces/doomed/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } });
    assert.equal(refused.status, 403);
    assert.match(refused.body['message'], /unable to create new content in namespace doomed because it is being terminated/);
    // The namespace controller finishes with /finalize.
    const fin = { ...term.body, spec: { finalizers: [] } };
    assert.equal((await req('PUT', '/api/v1/namespaces/doomed/finalize', fin)).status, 200);
    assert.equal((await req('GET', '/api/v1/namespaces/doomed')).status, 404);
  });

  test('creating in a missing namespace is a 404 for the namespace', async () => {
    const r = await req('POST', '/api/v1/namespaces/nowhere/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x' } });
    assert.equal(r.status, 404);
    assert.equal(r.body['message'], 'namespaces "nowhere" not found');
  });
});

describe('Service allocation', () => {
  test('concurrent creates get distinct ClusterIPs and NodePorts; taken ones are refused', async () => {
    const svc = (i: number) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: `alloc-${i}` }, spec: { type: 'NodePort', selector: { app: 'x' }, ports: [{ port: 80 }] } });
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => req('POST', '/api/v1/namespaces/default/services', svc(i))));
    assert.ok(results.every((r) => r.status === 201), JSON.stringify(results.find((r) => r.status !== 201)?.body));
    const ips = new Set(results.map((r) => r.body['spec'].clusterIP));
    const ports = new Set(results.map((r) => r.body['spec'].ports[0].nodePort));
    assert.equal(ips.size, 40);
    assert.equal(ports.size, 40);
    assert.ok(!ips.has('10.43.0.1'));
    const takenIP = results[0]!.body['spec'].clusterIP as string;
    const dupIP = await req('POST', '/api/v1/namespaces/default/services', { ...svc(100), spec: { ...svc(100).spec, type: 'ClusterIP', clusterIP: takenIP } });
    assert.equal(dupIP.status, 422);
    assert.match(dupIP.body['message'], /provided IP is already allocated/);
    const takenPort = results[0]!.body['spec'].ports[0].nodePort as number;
    const dupPort = await req('POST', '/api/v1/namespaces/default/services', { ...svc(101), spec: { ...svc(101).spec, ports: [{ port: 80, nodePort: takenPort }] } });
    assert.equal(dupPort.status, 422);
    assert.match(dupPort.body['message'], /spec\.ports\[0\]\.nodePort: Invalid value: \d+: provided port is already allocated/);
    // Deleting a Service frees its address for reuse.
    await req('DELETE', '/api/v1/namespaces/default/services/alloc-0');
    const reuse = await req('POST', '/api/v1/namespaces/default/services', { ...svc(102), spec: { ...svc(102).spec, type: 'ClusterIP', clusterIP: takenIP } });
    assert.equal(reuse.status, 201, JSON.stringify(reuse.body));
  });
});

describe('watch semantics', () => {
  test('a watch from a list resourceVersion sees ADDED, MODIFIED, DELETED in order', async () => {
    const list = await req('GET', '/api/v1/namespaces/default/configmaps');
    const rv = list.body['metadata'].resourceVersion as string;
    const events = await watchEvents(`/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${rv}`, (e) => e.length >= 3, async () => {
      await req('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'w1' } });
      await req('PATCH', '/api/v1/namespaces/default/configmaps/w1', { data: { a: 'b' } }, 'application/merge-patch+json');
      await req('DELETE', '/api/v1/namespaces/default/configmaps/w1');
    });
    assert.deepEqual(events.map((e) => `${e['type']} ${e['object'].metadata.name}`), ['ADDED w1', 'MODIFIED w1', 'DELETED w1']);
    const rvs = events.map((e) => Number(e['object'].metadata.resourceVersion));
    assert.ok(rvs[0]! < rvs[1]! && rvs[1]! < rvs[2]!, `increasing resourceVersions ${rvs}`);
  });

  test('an update that leaves the label selector is a DELETED', async () => {
    await req('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'sel', labels: { keep: 'yes' } } });
    const events = await watchEvents('/api/v1/namespaces/default/configmaps?watch=true&labelSelector=keep%3Dyes', (e) => e.length >= 2, async () => {
      await req('PATCH', '/api/v1/namespaces/default/configmaps/sel', { metadata: { labels: { keep: 'no' } } }, 'application/merge-patch+json');
    });
    assert.deepEqual(events.map((e) => e['type']), ['ADDED', 'DELETED']);
  });

  test('a selecting watch sees the deletion of a matching object (with its last state) and not of others', async () => {
    const list = await req('GET', '/api/v1/namespaces/default/configmaps');
    const rv = list.body['metadata'].resourceVersion as string;
    const events = await watchEvents(`/api/v1/namespaces/default/configmaps?watch=true&labelSelector=gone%3Dyes&resourceVersion=${rv}`, (e) => e.length >= 2, async () => {
      await req('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'del-other', labels: { gone: 'no' } } });
      await req('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'del-match', labels: { gone: 'yes' } }, data: { k: 'v' } });
      await req('DELETE', '/api/v1/namespaces/default/configmaps/del-other');
      await req('DELETE', '/api/v1/namespaces/default/configmaps/del-match');
    });
    assert.deepEqual(events.map((e) => `${e['type']} ${e['object'].metadata.name}`), ['ADDED del-match', 'DELETED del-match']);
    assert.deepEqual(events[1]!['object'].data, { k: 'v' });
    assert.ok(Number(events[1]!['object'].metadata.resourceVersion) > Number(events[0]!['object'].metadata.resourceVersion));
  });

  test('watch-list: initial ADDED events, then a bookmark marking their end', async () => {
    await req('POST', '/api/v1/namespaces/default/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'wl' } });
    const events = await watchEvents('/api/v1/namespaces/default/configmaps?watch=true&allowWatchBookmarks=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan',
      (e) => e.some((x) => x['type'] === 'BOOKMARK'));
    const bookmark = events[events.length - 1]!;
    assert.equal(bookmark['type'], 'BOOKMARK');
    assert.equal(bookmark['object'].metadata.annotations['k8s.io/initial-events-end'], 'true');
    assert.ok(events.slice(0, -1).every((e) => e['type'] === 'ADDED'));
    assert.ok(events.some((e) => e['object'].metadata?.name === 'wl'));
  });

  test('timeoutSeconds ends the stream', async () => {
    const started = Date.now();
    const events = await watchEvents('/api/v1/namespaces/default/secrets?watch=true&timeoutSeconds=1&resourceVersion=0', () => false, undefined, 5000);
    assert.ok(Date.now() - started < 4000, 'ended by the server');
    assert.ok(Array.isArray(events));
  });
});

describe('eviction', () => {
  test('an eviction spends the PDB budget, then is refused with 429', async () => {
    await req('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'evict' } });
    for (const name of ['e1', 'e2']) {
      await req('POST', '/api/v1/namespaces/evict/pods', { ...pod(name), metadata: { name, labels: { app: 'db' } } });
      await req('PATCH', `/api/v1/namespaces/evict/pods/${name}/status`, { status: { phase: 'Running' } }, 'application/merge-patch+json');
    }
    await req('POST', '/apis/policy/v1/namespaces/evict/poddisruptionbudgets', { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'db' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'db' } } } });
    // What the disruption controller would write: 2 healthy, 1 needed.
    await req('PATCH', '/apis/policy/v1/namespaces/evict/poddisruptionbudgets/db/status', { status: { observedGeneration: 1, disruptionsAllowed: 1, currentHealthy: 2, desiredHealthy: 1, expectedPods: 2 } }, 'application/merge-patch+json');
    const first = await req('POST', '/api/v1/namespaces/evict/pods/e1/eviction', { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'e1', namespace: 'evict' } });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    assert.equal((await req('GET', '/api/v1/namespaces/evict/pods/e1')).status, 404);
    const second = await req('POST', '/api/v1/namespaces/evict/pods/e2/eviction', { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: 'e2', namespace: 'evict' } });
    assert.equal(second.status, 429);
    assert.equal(second.body['message'], "Cannot evict pod as it would violate the pod's disruption budget.");
    assert.equal(second.body['details'].causes[0].reason, 'DisruptionBudget');
    assert.equal((await req('GET', '/api/v1/namespaces/evict/pods/e2')).status, 200);
  });
});
