// End to end (root): the kubelet's /metrics/resource and /stats/summary from real containers, the
// built-in metrics.k8s.io API scraping them every second, kubectl top as upstream prints it, and an
// HPA scaling a busy Deployment up on CPU and back down once the load stops.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startE2ECluster, waitFor, TEST_IMAGE, type E2ECluster } from '../../src/testing/e2e_cluster.ts';
import { MetricsServer } from '../../src/apiserver/metrics/metrics_server.ts';
import { RestClient } from '../../src/client/rest_client.ts';
import { SharedInformerFactory } from '../../src/client/informer_factory.ts';
import { EventBroadcaster } from '../../src/client/events.ts';
import { realClock } from '../../src/client/clock.ts';
import { HorizontalController } from '../../src/controllers/horizontalpodautoscaler/horizontal.ts';

/** Millicores of a kubectl top cell ("153m", "2"). */
function milli(cell: string): number {
  return cell.endsWith('m') ? Number(cell.slice(0, -1)) : Number(cell) * 1000;
}

/** MiB of a kubectl top cell ("16Mi"). */
function mebi(cell: string): number {
  assert.match(cell, /^\d+Mi$/);
  return Number(cell.slice(0, -2));
}

function rows(stdout: string): string[][] {
  return stdout.trim().split('\n').map((l) => l.trim().split(/\s+/));
}

describe('metrics and kubectl top (root)', { timeout: 240_000 }, () => {
  let c: E2ECluster;
  let metrics: MetricsServer | undefined;
  // the HPA runs below with a 1 s sync period and no downscale stabilization, so not in the manager
  const hpa: { stop?: () => Promise<void> } = {};
  before(async () => { c = await startE2ECluster({ controllers: ['*', '-horizontalpodautoscaling'] }); });
  after(async () => {
    await hpa.stop?.();
    await metrics?.dispose();
    await c?.stop();
  });

  test('kubectl top says the Metrics API is missing, then that metrics are not there yet', async () => {
    const off = await c.ts.kubectl(['top', 'node']);
    assert.deepEqual([off.code, off.stderr], [1, 'error: Metrics API not available\n']);
    metrics = new MetricsServer(c.ts.api, { resolutionMs: 1000, scrapeTimeoutMs: 10_000 });
    const early = await c.ts.kubectl(['top', 'node']);
    assert.deepEqual([early.code, early.stderr], [1, 'error: metrics not available yet\n']);
    const groups = await c.ts.request('GET', '/apis/metrics.k8s.io/v1beta1');
    assert.deepEqual(groups.json<{ resources: Array<{ name: string }> }>().resources.map((r) => r.name), ['nodes', 'pods']);
    await metrics.start();
  });

  test('the kubelet serves resource metrics and a summary of a busy pod', async () => {
    await c.apply(JSON.stringify({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'busy', labels: { app: 'busy' } },
      spec: {
        terminationGracePeriodSeconds: 0,
        containers: [{
          name: 'spin', image: TEST_IMAGE, imagePullPolicy: 'IfNotPresent',
          // 16 MiB in tmpfs make the working set easy to recognize
          command: ['sh', '-c', 'head -c 16777216 /dev/zero > /dev/shm/ballast; while :; do :; done'],
          resources: { requests: { cpu: '100m' }, limits: { cpu: '300m' } },
        }],
      },
    }));
    const pod = await c.waitRunning('busy');
    // through the API server's nodes/proxy, as `kubectl get --raw` reaches it
    const proxied = await c.ts.request('GET', `/api/v1/nodes/${c.nodeName}/proxy/metrics/resource`, { headers: { Accept: '*/*' } });
    assert.equal(proxied.status, 200, proxied.body);
    assert.match(String(proxied.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    const text = proxied.body;
    assert.match(text, /^node_cpu_usage_seconds_total [\d.e+]+ \d{13}$/m);
    assert.match(text, /^node_memory_working_set_bytes [\d.e+]+ \d{13}$/m);
    assert.match(text, /^container_cpu_usage_seconds_total\{container="spin",namespace="default",pod="busy"\} [\d.e+-]+ \d{13}$/m);
    assert.match(text, /^pod_memory_working_set_bytes\{namespace="default",pod="busy"\} [\d.e+]+ \d{13}$/m);
    assert.match(text, /^resource_scrape_error 0$/m);
    const summary = JSON.parse(await waitFor('a summary with CPU rates', async () => {
      const body = (await c.ts.kubectl(['get', '--raw', `/api/v1/nodes/${c.nodeName}/proxy/stats/summary`])).stdout;
      return /"usageNanoCores"/.test(body) && body.includes('"busy"') ? body : undefined;
    }, 20_000)) as { node: { nodeName: string; memory: { workingSetBytes: number } }; pods: Array<{ podRef: { name: string; uid: string }; containers: Array<{ name: string; memory: { workingSetBytes: number } }>; network?: unknown }> };
    assert.equal(summary.node.nodeName, c.nodeName);
    assert.ok(summary.node.memory.workingSetBytes > 0);
    const busy = summary.pods.find((p) => p.podRef.name === 'busy');
    assert.equal(busy?.podRef.uid, pod.metadata?.uid);
    assert.equal(busy?.containers[0]?.name, 'spin');
    assert.ok(busy!.containers[0]!.memory.workingSetBytes >= 16 << 20, `working set ${busy!.containers[0]!.memory.workingSetBytes}`);
    assert.ok(busy?.network, 'pod network from its sandbox');
  });

  test('kubectl top node and top pod (--containers, -A, -l) show the busy pod', async () => {
    const top = await waitFor('kubectl top pod --containers', async () => {
      const r = await c.ts.kubectl(['top', 'pod', '--containers']);
      return r.code === 0 && r.stdout.includes('busy') ? r.stdout : undefined;
    }, 30_000);
    const [header, row] = rows(top);
    assert.deepEqual(header, ['POD', 'NAME', 'CPU(cores)', 'MEMORY(bytes)']);
    assert.deepEqual(row!.slice(0, 2), ['busy', 'spin']);
    const cpu = milli(row![2]!);
    assert.ok(cpu >= 20 && cpu <= 400, `busy pod CPU ${row![2]}`);
    const mem = mebi(row![3]!);
    assert.ok(mem >= 15 && mem <= 64, `busy pod memory ${row![3]}`);

    const node = await c.ts.kubectl(['top', 'node']);
    assert.equal(node.code, 0, node.stderr);
    const [nh, nr] = rows(node.stdout);
    assert.deepEqual(nh, ['NAME', 'CPU(cores)', 'CPU(%)', 'MEMORY(bytes)', 'MEMORY(%)']);
    assert.equal(nr![0], c.nodeName);
    assert.ok(milli(nr![1]!) >= cpu / 2, `node CPU ${nr![1]}`);
    assert.match(nr![2]!, /^\d+%$/);
    assert.ok(mebi(nr![3]!) > mem, `node memory ${nr![3]}`);

    const all = await c.ts.kubectl(['top', 'pod', '-A']);
    assert.equal(all.code, 0, all.stderr);
    assert.deepEqual(rows(all.stdout)[0], ['NAMESPACE', 'NAME', 'CPU(cores)', 'MEMORY(bytes)']);
    assert.ok(rows(all.stdout).some((r) => r[0] === 'default' && r[1] === 'busy'));
    const none = await c.ts.kubectl(['top', 'pod', '-l', 'app=other']);
    assert.deepEqual([none.code, none.stderr], [0, 'No resources found in default namespace.\n']);
    const sel = await c.ts.kubectl(['top', 'pod', '-l', 'app=busy', '--no-headers']);
    assert.deepEqual(rows(sel.stdout).map((r) => r[0]), ['busy']);

    const raw = (await c.ts.request('GET', '/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/busy')).json<{ containers: Array<{ usage: { cpu: string; memory: string } }>; window: string }>();
    assert.match(raw.containers[0]!.usage.cpu, /^\d+[nu]?$/);
    assert.match(raw.containers[0]!.usage.memory, /^\d+Ki$/);
    assert.match(raw.window, /^[\d.]+m?s$/);
    await c.ts.kubectl(['delete', 'pod', 'busy', '--wait=false']);
  });

  test('an HPA scales a busy Deployment up on CPU and back down when the load stops', async () => {
    const client = await RestClient.fromKubeconfig(c.ts.kubeconfig);
    const informers = new SharedInformerFactory(client);
    const broadcaster = new EventBroadcaster({ client });
    const controller = new HorizontalController({
      client, informers, clock: realClock, recorder: (component) => broadcaster.newRecorder({ component }),
      options: { clusterCidr: '10.88.0.0/16', serviceCidr: '10.43.0.0/16', rootCaPem: c.pki.ca.certPem },
    }, { resyncPeriodMs: 1000, downscaleStabilisationWindowMs: 0 });
    hpa.stop = async () => {
      await controller.dispose();
      await broadcaster.dispose();
      await informers.dispose();
      await client.dispose();
    };
    informers.start();
    assert.ok(await informers.waitForCacheSync(10_000));
    await controller.run(1);

    await c.apply(JSON.stringify({
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'load' },
      spec: {
        replicas: 1, selector: { matchLabels: { app: 'load' } },
        template: {
          metadata: { labels: { app: 'load' } },
          spec: {
            terminationGracePeriodSeconds: 0,
            containers: [{
              name: 'spin', image: TEST_IMAGE, imagePullPolicy: 'IfNotPresent',
              command: ['sh', '-c', 'while [ ! -e /tmp/idle ]; do :; done; exec sleep 3600'],
              resources: { requests: { cpu: '100m' }, limits: { cpu: '200m' } },
            }],
          },
        },
      },
    }));
    await waitFor('metrics of the first load pod', async () => {
      const r = await c.ts.kubectl(['top', 'pod', '-l', 'app=load', '--no-headers']);
      return r.code === 0 && r.stdout.trim() !== '' ? true : undefined;
    }, 60_000);
    const auto = await c.ts.kubectl(['autoscale', 'deployment', 'load', '--cpu-percent=50', '--min=1', '--max=3']);
    assert.equal(auto.code, 0, auto.stderr);

    const replicas = async (): Promise<number> => (await c.ts.request('GET', '/apis/apps/v1/namespaces/default/deployments/load')).json<{ spec: { replicas: number } }>().spec.replicas;
    await waitFor('the HPA to scale up to 3', async () => (await replicas()) === 3 || undefined, 60_000);
    const h = (await c.ts.request('GET', '/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/load')).json<{ status: { currentMetrics?: Array<{ resource: { current: { averageUtilization: number } } }> } }>();
    assert.ok((h.status.currentMetrics?.[0]?.resource.current.averageUtilization ?? 0) > 50, JSON.stringify(h.status));

    // stop the load in every pod once all three run
    const pods = await waitFor('three running load pods', async () => {
      const l = (await c.ts.request('GET', '/api/v1/namespaces/default/pods?labelSelector=app%3Dload')).json<{ items: Array<{ metadata: { name: string; deletionTimestamp?: string }; status: { phase?: string; containerStatuses?: Array<{ ready: boolean }> } }> }>();
      const running = l.items.filter((p) => !p.metadata.deletionTimestamp && p.status.phase === 'Running' && p.status.containerStatuses?.every((s) => s.ready));
      return running.length === 3 ? running.map((p) => p.metadata.name) : undefined;
    }, 60_000);
    for (const p of pods) await c.exec(p, ['touch', '/tmp/idle']);
    await waitFor('the HPA to scale back down to 1', async () => (await replicas()) === 1 || undefined, 60_000);
    const events = await c.events('load');
    assert.ok(events.some((e) => e.reason === 'SuccessfulRescale' && /New size: 1; reason: All metrics below target/.test(e.message ?? '')), JSON.stringify(events.map((e) => e.message)));
  });
});
