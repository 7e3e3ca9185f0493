// The built-in metrics.k8s.io API against a real API server and a fake kubelet that serves
// /metrics/resource over TLS (rendered by the kubelet's own renderer): discovery, kubectl top's
// messages and tables, NotFound errors, the Table view, and RBAC through the aggregated reader role.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { startTestServer, type TestServer } from '../../../src/testing/test_server.ts';
import { createCertificateAuthority, issueCertificate } from '../../../src/base/pki.ts';
import { MetricsServer } from '../../../src/apiserver/metrics/metrics_server.ts';
import { resourceMetricsText } from '../../../src/kubelet/stats/resource_metrics.ts';
import type { PodStats } from '../../../src/kubelet/stats/summary_types.ts';

/** What the fake node reports: CPU rates in nanocores (integrated into counters) and working sets. */
const NODE = { cpu: 500_000_000, memory: 1024 << 20 };
const PODS: Record<string, Record<string, { cpu: number; memory: number }>> = {
  'default/web': { app: { cpu: 250_000_000, memory: 20 << 20 }, sidecar: { cpu: 5_000_000, memory: 4 << 20 } },
  'prod/db': { db: { cpu: 100_000_000, memory: 64 << 20 } },
};

class FakeKubelet {
  server: Server | undefined;
  port = 0;
  readonly #start = Date.now() - 60_000;
  scrapes = 0;

  async start(tls: { certPem: string; keyPem: string; caPem: string }): Promise<void> {
    const server = createServer({ cert: tls.certPem, key: tls.keyPem, ca: tls.caPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
      if (req.url !== '/metrics/resource') {
        res.writeHead(404).end('404 page not found');
        return;
      }
      this.scrapes++;
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' }).end(this.#text());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  #text(): string {
    const now = Date.now();
    const seconds = (now - this.#start) / 1000;
    const pods: PodStats[] = Object.entries(PODS).map(([key, containers]) => {
      const [namespace, name] = key.split('/') as [string, string];
      return {
        podRef: { namespace, name, uid: key }, startTime: this.#start,
        containers: Object.entries(containers).map(([cname, u]) => ({
          name: cname, startTime: this.#start,
          cpu: { time: now, usageCoreNanoSeconds: Math.round(u.cpu * seconds) },
          memory: { time: now, workingSetBytes: u.memory },
        })),
      };
    });
    return resourceMetricsText({
      node: { nodeName: 'n1', startTime: this.#start, cpu: { time: now, usageCoreNanoSeconds: Math.round(NODE.cpu * seconds) }, memory: { time: now, workingSetBytes: NODE.memory } },
      pods,
    });
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

function rows(stdout: string): string[][] {
  return stdout.trim().split('\n').map((l) => l.trim().split(/\s+/));
}

describe('metrics.k8s.io API', () => {
  let s: TestServer;
  const kubelet = new FakeKubelet();
  let metrics: MetricsServer | undefined;

  async function ok(args: string[], input?: string): Promise<string> {
    const r = await s.kubectl(args, { input });
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  }

  before(async () => {
    s = await startTestServer();
    const ca = await createCertificateAuthority({ commonName: 'kubelet-ca', days: 1 });
    const serving = await issueCertificate({ ca, commonName: 'system:node:n1', ips: ['127.0.0.1'], usages: 'server', days: 1 });
    const client = await issueCertificate({ ca, commonName: 'kube-apiserver-kubelet-client', usages: 'client', days: 1 });
    await kubelet.start({ certPem: serving.certPem, keyPem: serving.keyPem, caPem: ca.certPem });
    s.api.kubeletDialer = {
      async locate(name) {
        assert.equal(name, 'n1');
        return { url: new URL(`https://127.0.0.1:${kubelet.port}`), tls: { certPem: client.certPem, keyPem: client.keyPem, caPem: ca.certPem } };
      },
    };
    await ok(['create', 'namespace', 'prod']);
    await ok(['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', labels: { zone: 'a' } } }));
    const status = { status: { capacity: { cpu: '2', memory: '8Gi', pods: '110' }, allocatable: { cpu: '2', memory: '8Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: new Date().toISOString(), lastTransitionTime: new Date().toISOString() }] } };
    const patched = await s.request('PATCH', '/api/v1/nodes/n1/status', { body: JSON.stringify(status), headers: { 'Content-Type': 'application/merge-patch+json' } });
    assert.equal(patched.status, 200, patched.body);
    for (const key of [...Object.keys(PODS), 'default/fresh']) {
      const [namespace, name] = key.split('/') as [string, string];
      const containers = Object.keys(PODS[key] ?? { c: {} }).map((c) => ({ name: c, image: 'busybox' }));
      await ok(['apply', '-n', namespace, '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, labels: { app: name } }, spec: { nodeName: 'n1', containers } }));
    }
  });

  after(async () => {
    await metrics?.dispose();
    await kubelet.stop();
    await s?.stop();
  });

  test('kubectl top before the API is registered, and before two scrapes', async () => {
    const off = await s.kubectl(['top', 'pod']);
    assert.deepEqual([off.code, off.stderr], [1, 'error: Metrics API not available\n']);
    assert.equal((await s.request('GET', '/apis/metrics.k8s.io/v1beta1/nodes')).status, 404);

    // a generous deadline: on a loaded machine a timed-out scrape would drop the points, as in metrics-server
    metrics = new MetricsServer(s.api, { resolutionMs: 500, scrapeTimeoutMs: 10_000 });
    const groups = (await s.request('GET', '/apis')).json<{ groups: Array<{ name: string; preferredVersion: { groupVersion: string } }> }>().groups;
    assert.deepEqual(groups.at(-1), { name: 'metrics.k8s.io', versions: [{ groupVersion: 'metrics.k8s.io/v1beta1', version: 'v1beta1' }], preferredVersion: { groupVersion: 'metrics.k8s.io/v1beta1', version: 'v1beta1' } });
    const aggregated = (await s.request('GET', '/apis', { headers: { Accept: 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList' } })).json<{ items: Array<{ metadata: { name: string }; versions: Array<{ resources: Array<{ resource: string; scope: string; responseKind: { kind: string } }> }> }> }>();
    const m = aggregated.items.find((i) => i.metadata.name === 'metrics.k8s.io');
    assert.deepEqual(m?.versions[0]?.resources.map((r) => [r.resource, r.scope, r.responseKind.kind]), [['nodes', 'Cluster', 'NodeMetrics'], ['pods', 'Namespaced', 'PodMetrics']]);

    for (const args of [['top', 'node'], ['top', 'pod', '-A']]) {
      const r = await s.kubectl(args);
      assert.deepEqual([r.code, r.stderr], [1, 'error: metrics not available yet\n'], args.join(' '));
    }
    const list = (await s.request('GET', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods')).json();
    assert.deepEqual(list, { kind: 'PodMetricsList', apiVersion: 'metrics.k8s.io/v1beta1', metadata: {}, items: [] });
    await metrics.start();
  });

  test('kubectl top node and top pod print the scraped usage', async () => {
    const node = await waitForOutput(['top', 'node', '--no-headers']);
    assert.deepEqual(rows(node), [['n1', '500m', '25%', '1024Mi', '12%']]);
    assert.deepEqual(rows(await ok(['top', 'pod', '--containers'])), [
      ['POD', 'NAME', 'CPU(cores)', 'MEMORY(bytes)'],
      ['web', 'app', '250m', '20Mi'],
      ['web', 'sidecar', '5m', '4Mi'],
    ]);
    assert.deepEqual(rows(await ok(['top', 'pod', '-A'])), [
      ['NAMESPACE', 'NAME', 'CPU(cores)', 'MEMORY(bytes)'],
      ['default', 'web', '255m', '24Mi'],
      ['prod', 'db', '100m', '64Mi'],
    ]);
    assert.deepEqual(rows(await ok(['top', 'pod', '-A', '-l', 'app=db', '--no-headers'])), [['prod', 'db', '100m', '64Mi']]);
    assert.deepEqual(rows(await ok(['top', 'pod', 'web', '--no-headers'])), [['web', '255m', '24Mi']]);
    assert.deepEqual(rows(await ok(['top', 'node', 'n1', '--no-headers'])), [['n1', '500m', '25%', '1024Mi', '12%']]);
    const p = (await s.request('GET', '/apis/metrics.k8s.io/v1beta1/namespaces/prod/pods/db')).json<{ containers: unknown; window: string; metadata: { labels: unknown } }>();
    assert.deepEqual(p.containers, [{ name: 'db', usage: { cpu: '100m', memory: '64Mi' } }]);
    assert.deepEqual(p.metadata.labels, { app: 'db' });
    assert.match(p.window, /^\d+ms$|^[\d.]+s$/);
  });

  test('a pod without metrics, an unknown pod and an unknown node are errors in upstream words', async () => {
    const fresh = await s.kubectl(['top', 'pod', 'fresh']);
    assert.deepEqual([fresh.code, fresh.stderr], [1, 'Error from server (NotFound): podmetrics.metrics.k8s.io "default/fresh" not found\n']);
    const missing = await s.kubectl(['top', 'pod', 'missing']);
    assert.deepEqual([missing.code, missing.stderr], [1, 'Error from server (NotFound): pods "missing" not found\n']);
    const node = await s.kubectl(['top', 'node', 'nope']);
    assert.deepEqual([node.code, node.stderr], [1, 'Error from server (NotFound): node "nope" not found\n']);
    const watch = await s.request('GET', '/apis/metrics.k8s.io/v1beta1/pods?watch=1');
    assert.equal(watch.status, 405);
    const bad = await s.request('GET', '/apis/metrics.k8s.io/v1beta1/pods?labelSelector=a%20in');
    assert.equal(bad.status, 400);
  });

  test('kubectl get prints metrics-server\'s table', async () => {
    const table = rows(await ok(['get', 'pods.metrics.k8s.io', '-A']));
    assert.deepEqual(table.map((r) => r.slice(0, 4)), [
      ['NAMESPACE', 'NAME', 'CPU', 'MEMORY'],
      ['default', 'web', '255m', '24Mi'],
      ['prod', 'db', '100m', '64Mi'],
    ]);
    assert.equal(table[0]![4], 'WINDOW');
    for (const r of table.slice(1)) assert.match(r[4]!, /^\d+ms$|^[\d.]+s$/);
    // The CPU rate is a counter delta over the scrape window, truncated to whole nanocores as
    // metrics-server does; rounding of the two counter samples may cost that last nanocore.
    const nodeRows = rows(await ok(['get', 'nodes.metrics.k8s.io', '--no-headers'])).map((r) => r.slice(0, 3));
    assert.equal(nodeRows.length, 1);
    assert.deepEqual([nodeRows[0]![0], nodeRows[0]![2]], ['n1', '1Gi']);
    assert.ok(['500m', '499999999n'].includes(nodeRows[0]![1]!), `node CPU ${nodeRows[0]![1]}`);
    // the core group still wins plain "pods" and "nodes"
    assert.match(await ok(['get', 'pods', '-n', 'prod', '-o', 'name']), /^pod\/db$/m);
    assert.match(await ok(['api-resources', '--api-group=metrics.k8s.io', '--no-headers']), /^nodes\s+metrics\.k8s\.io\/v1beta1\s+false\s+NodeMetrics\npods\s+metrics\.k8s\.io\/v1beta1\s+true\s+PodMetrics\n$/);
  });

  test('view, edit and admin read metrics through system:aggregated-metrics-reader', async () => {
    const role = JSON.parse(await ok(['get', 'clusterrole', 'system:aggregated-metrics-reader', '-o', 'json'])) as { metadata: { labels: Record<string, string> } };
    assert.equal(role.metadata.labels['rbac.authorization.k8s.io/aggregate-to-view'], 'true');
    const denied = await s.kubectl(['top', 'pod', '--as=jane']);
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /pods\.metrics\.k8s\.io is forbidden: User "jane" cannot list resource "pods" in API group "metrics\.k8s\.io" in the namespace "default"/);
    await ok(['create', 'rolebinding', 'jane-view', '--clusterrole=view', '--user=jane']);
    const allowed = await waitForOutput(['top', 'pod', '--as=jane', '--no-headers']);
    assert.deepEqual(rows(allowed).map((r) => r[0]), ['web']);
  });

  async function waitForOutput(args: string[]): Promise<string> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      const r = await s.kubectl(args);
      if (r.code === 0 && r.stdout.trim() !== '') return r.stdout;
      if (Date.now() > deadline) assert.fail(`kubectl ${args.join(' ')}: ${r.stderr}`);
      await new Promise((res) => setTimeout(res, 100));
    }
  }
});
