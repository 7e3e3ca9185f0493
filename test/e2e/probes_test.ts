// End to end (root): probes and lifecycle hooks on the real kubelet and containerd: liveness
// failures restarting a container, readiness gating Ready and the Service's EndpointSlice, a startup
// probe holding liveness back, httpGet against busybox httpd, tcpSocket, postStart and preStop.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Container, Event, Pod } from '../../src/api/types/core_v1.ts';
import type { EndpointSlice } from '../../src/api/types/discovery_v1.ts';
import { startE2ECluster, waitFor, TEST_IMAGE, type E2ECluster } from '../../src/testing/e2e_cluster.ts';

function podManifest(name: string, container: Omit<Container, 'name' | 'image'>, opts: { labels?: Record<string, string>; grace?: number } = {}): string {
  return JSON.stringify({
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, labels: opts.labels ?? { test: name } },
    spec: {
      terminationGracePeriodSeconds: opts.grace ?? 30,
      containers: [{ name: 'c', image: TEST_IMAGE, imagePullPolicy: 'IfNotPresent', ...container }],
    },
  });
}

function condition(p: Pod, type: string): string | undefined {
  return p.status?.conditions?.find((c) => c.type === type)?.status;
}

function messages(events: readonly Event[], reason: string): string[] {
  return events.filter((e) => e.reason === reason).map((e) => e.message ?? '');
}

describe('probes and lifecycle hooks (root)', { timeout: 300_000 }, () => {
  let c: E2ECluster;
  before(async () => { c = await startE2ECluster(); });
  after(async () => { await c?.stop(); });

  const restarts = async (name: string): Promise<number> => (await c.getPod(name)).status?.containerStatuses?.[0]?.restartCount ?? 0;

  test('a failing liveness probe kills the container and restarts it, with Unhealthy and Killing events', async () => {
    await c.apply(podManifest('live', {
      command: ['sh', '-c', 'touch /tmp/healthy; sleep 2; rm /tmp/healthy; exec sleep 3600'],
      livenessProbe: { exec: { command: ['cat', '/tmp/healthy'] }, periodSeconds: 1, failureThreshold: 1, terminationGracePeriodSeconds: 1 },
    }));
    await waitFor('live restarted twice', async () => (await restarts('live')) >= 2, 60_000);
    const events = await c.events('live');
    assert.ok(messages(events, 'Unhealthy').includes("Liveness probe failed: cat: can't open '/tmp/healthy': No such file or directory\n"), JSON.stringify(messages(events, 'Unhealthy')));
    assert.ok(messages(events, 'Killing').includes('Container c failed liveness probe, will be restarted'), JSON.stringify(messages(events, 'Killing')));
    const p = await c.getPod('live');
    assert.equal(p.status?.containerStatuses?.[0]?.lastState?.terminated?.exitCode, 137, 'sh ignores SIGTERM: killed after the probe\'s 2 s minimum grace');
  });

  test('readiness gates the Ready condition and the Service\'s endpoints', async () => {
    await c.apply(podManifest('rdy', {
      command: ['sleep', '3600'],
      readinessProbe: { exec: { command: ['test', '-e', '/tmp/ready'] }, periodSeconds: 1, failureThreshold: 1 },
    }, { labels: { app: 'rdy' } }));
    await c.apply(JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'rdy' }, spec: { selector: { app: 'rdy' }, ports: [{ port: 80 }] } }));
    const endpointReady = async (): Promise<boolean | undefined> => {
      const r = await c.ts.request('GET', '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3Drdy');
      const ep = r.json<{ items: EndpointSlice[] }>().items.flatMap((s) => s.endpoints ?? [])[0];
      return ep?.conditions?.ready;
    };
    const running = await waitFor('rdy running, not ready', async () => {
      const p = await c.getPod('rdy');
      return p.status?.phase === 'Running' && p.status.containerStatuses?.[0]?.started === true ? p : undefined;
    }, 60_000);
    assert.equal(condition(running, 'Ready'), 'False');
    assert.equal(condition(running, 'ContainersReady'), 'False');
    assert.equal(running.status?.containerStatuses?.[0]?.ready, false);
    await waitFor('an EndpointSlice endpoint with ready=false', async () => (await endpointReady()) === false, 30_000);
    const events = await c.events('rdy');
    assert.ok(messages(events, 'Unhealthy').some((m) => m.startsWith('Readiness probe failed')), JSON.stringify(messages(events, 'Unhealthy')));

    await c.exec('rdy', ['touch', '/tmp/ready']);
    await waitFor('rdy Ready', async () => condition(await c.getPod('rdy'), 'Ready') === 'True', 30_000);
    await waitFor('the endpoint ready', async () => (await endpointReady()) === true, 30_000);

    await c.exec('rdy', ['rm', '/tmp/ready']);
    await waitFor('rdy not Ready again', async () => condition(await c.getPod('rdy'), 'Ready') === 'False', 30_000);
    await waitFor('the endpoint not ready again', async () => (await endpointReady()) === false, 30_000);
    assert.equal(await restarts('rdy'), 0, 'readiness never restarts a container');
  });

  test('a startup probe holds liveness back until it succeeds', async () => {
    await c.apply(podManifest('slow-start', {
      command: ['sleep', '3600'],
      startupProbe: { exec: { command: ['test', '-e', '/tmp/started'] }, periodSeconds: 1, failureThreshold: 600 },
      livenessProbe: { exec: { command: ['false'] }, periodSeconds: 1, failureThreshold: 1, terminationGracePeriodSeconds: 1 },
    }));
    await waitFor('three startup probe failures', async () => {
      const e = (await c.events('slow-start')).find((x) => x.reason === 'Unhealthy' && x.message?.startsWith('Startup probe failed'));
      return (e?.count ?? 0) >= 3;
    }, 60_000);
    const before = await c.getPod('slow-start');
    assert.equal(before.status?.containerStatuses?.[0]?.started, false);
    assert.equal(before.status?.containerStatuses?.[0]?.restartCount, 0);
    assert.deepEqual(messages(await c.events('slow-start'), 'Unhealthy').filter((m) => m.startsWith('Liveness')), [], 'no liveness probe ran before the start');

    await c.exec('slow-start', ['touch', '/tmp/started']);
    await waitFor('slow-start restarted by liveness', async () => (await restarts('slow-start')) >= 1, 60_000);
    const events = await c.events('slow-start');
    assert.ok(messages(events, 'Unhealthy').includes('Liveness probe failed: '), JSON.stringify(messages(events, 'Unhealthy')));
    assert.ok(messages(events, 'Killing').includes('Container c failed liveness probe, will be restarted'));
  });

  test('httpGet probes reach busybox httpd on a named port; a 404 fails liveness', async () => {
    const httpd = ['sh', '-c', 'mkdir -p /www && echo ok > /www/healthz && exec httpd -f -p 8080 -h /www'];
    await c.apply(podManifest('web', {
      command: httpd, ports: [{ name: 'http', containerPort: 8080 }],
      readinessProbe: { httpGet: { path: '/healthz', port: 'http', httpHeaders: [{ name: 'X-Probe', value: 'tkube' }] }, periodSeconds: 1 },
    }));
    const p = await c.waitRunning('web');
    assert.equal(condition(p, 'Ready'), 'True');

    await c.apply(podManifest('web404', {
      command: httpd, ports: [{ name: 'http', containerPort: 8080 }],
      livenessProbe: { httpGet: { path: '/missing', port: 8080 }, periodSeconds: 1, failureThreshold: 2, terminationGracePeriodSeconds: 1 },
    }));
    await waitFor('web404 restarted', async () => (await restarts('web404')) >= 1, 60_000);
    assert.ok(messages(await c.events('web404'), 'Unhealthy').includes('Liveness probe failed: HTTP probe failed with statuscode: 404'));
  });

  test('tcpSocket probes connect to the pod; a closed port fails with the dial error', async () => {
    await c.apply(podManifest('tcp', {
      command: ['sh', '-c', 'mkdir -p /www && exec httpd -f -p 9000 -h /www'],
      readinessProbe: { tcpSocket: { port: 9000 }, periodSeconds: 1 },
      livenessProbe: { tcpSocket: { port: 9001 }, periodSeconds: 1, failureThreshold: 100 },
    }));
    const p = await c.waitRunning('tcp');
    const ip = p.status?.podIP;
    await waitFor('a refused liveness probe', async () => messages(await c.events('tcp'), 'Unhealthy').includes(`Liveness probe failed: dial tcp ${ip}:9001: connect: connection refused`), 30_000);
  });

  test('postStart runs in the container right after it starts; a failing one kills it', async () => {
    await c.apply(podManifest('hooked', {
      command: ['sleep', '3600'],
      lifecycle: { postStart: { exec: { command: ['sh', '-c', 'echo written-by-poststart > /tmp/poststart'] } } },
    }));
    await c.waitRunning('hooked');
    assert.equal((await c.exec('hooked', ['cat', '/tmp/poststart'])).stdout, 'written-by-poststart\n');

    await c.apply(podManifest('badhook', {
      command: ['sleep', '3600'],
      lifecycle: { postStart: { exec: { command: ['sh', '-c', 'echo nope; exit 7'] } } },
    }, { grace: 2 }));
    await waitFor('FailedPostStartHook', async () => messages(await c.events('badhook'), 'FailedPostStartHook').includes('PostStartHook failed'), 60_000);
    assert.ok(messages(await c.events('badhook'), 'Killing').includes('FailedPostStartHook'));
    const waiting = await waitFor('badhook waiting', async () => (await c.getPod('badhook')).status?.containerStatuses?.[0]?.state?.waiting, 30_000);
    assert.ok(['PostStartHookError', 'CrashLoopBackOff'].includes(waiting.reason ?? ''), JSON.stringify(waiting));
  });

  test('preStop runs on delete before the container is stopped: exec in the container, httpGet from the kubelet', async () => {
    const hits: { path: string; ua: string }[] = [];
    const server = http.createServer((req, res) => { hits.push({ path: req.url ?? '', ua: req.headers['user-agent'] ?? '' }); res.end(); });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as AddressInfo).port;
      await c.apply(JSON.stringify({
        apiVersion: 'v1', kind: 'Pod', metadata: { name: 'stopper' },
        spec: {
          terminationGracePeriodSeconds: 8,
          containers: [
            { name: 'execer', image: TEST_IMAGE, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'],
              lifecycle: { preStop: { exec: { command: ['sh', '-c', 'echo prestop-ran > /tmp/prestop; sleep 4'] } } } },
            { name: 'caller', image: TEST_IMAGE, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'],
              lifecycle: { preStop: { httpGet: { host: '127.0.0.1', port, path: '/prestop' } } } },
            { name: 'broken', image: TEST_IMAGE, imagePullPolicy: 'IfNotPresent', command: ['sleep', '3600'],
              lifecycle: { preStop: { exec: { command: ['sh', '-c', 'exit 1'] } } } },
          ],
        },
      }));
      await c.waitRunning('stopper');
      const started = Date.now();
      const del = await c.ts.request('DELETE', '/api/v1/namespaces/default/pods/stopper');
      assert.equal(del.status, 200, del.body);
      // the exec hook is still sleeping while we look: the container runs on until it returns
      const seen = await waitFor('the preStop file', async () => {
        const r = await c.exec('stopper', ['cat', '/tmp/prestop'], { container: 'execer', allowFailure: true });
        return r.code === 0 ? r.stdout : undefined;
      }, 20_000);
      assert.equal(seen, 'prestop-ran\n');
      await waitFor('the preStop GET', () => hits.find((h) => h.path === '/prestop'), 20_000);
      assert.equal(hits.find((h) => h.path === '/prestop')?.ua, 'kube-lifecycle/1.32');
      await waitFor('stopper gone', async () => (await c.ts.request('GET', '/api/v1/namespaces/default/pods/stopper')).status === 404, 60_000);
      // sleep as PID 1 ignores SIGTERM: every container is killed when the 8 s grace period (hook time included) ends
      assert.ok(Date.now() - started < 20_000, `stopped within the grace period (took ${Date.now() - started} ms)`);
      assert.ok(messages(await c.events('stopper'), 'FailedPreStopHook').includes('PreStopHook failed'));
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
