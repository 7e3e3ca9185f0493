// Endpoints and EndpointSlice controllers against a real API server, observed through kubectl: a
// fake kubelet flips pod readiness and the endpoints follow, named ports resolve per pod, headless
// Services publish hostnames, terminating pods show as such, and the kubernetes Service is left alone.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../../../src/testing/test_server.ts';
import '../../../src/controllers/endpoints/endpoints_controller.ts';
import '../../../src/controllers/endpointslice/endpointslice_controller.ts';
import { eventually, freshNamespace, getJson, kubectlOk, setPodStatus, startControllers, type RunningControllers } from './svcnode_harness.ts';

let s: TestServer;
let run: RunningControllers;

before(async () => {
  s = await startTestServer();
  run = await startControllers(s, ['endpoint', 'endpointslice']);
});

after(async () => {
  await run?.stop();
  await s?.stop();
});

function pod(name: string, labels: string, extra = '', port = 8080): string {
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels: {${labels}}
spec:
  nodeName: node-a
${extra}  containers:
  - name: web
    image: nginx
    ports:
    - name: http
      containerPort: ${port}
---
`;
}

async function slicesOf(ns: string, svc: string): Promise<any[]> {
  return (await getJson(s, ['endpointslices', '-n', ns, '-l', `kubernetes.io/service-name=${svc}`])).items;
}

describe('Endpoints and EndpointSlices', () => {
  test('endpoints follow pod readiness, with named target ports resolved per pod', async () => {
    const ns = await freshNamespace(s, 'ep');
    await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], `apiVersion: v1
kind: Service
metadata:
  name: web
  labels: {tier: front}
spec:
  selector: {app: web}
  ports:
  - name: http
    port: 80
    targetPort: http
---
${pod('web-1', 'app: web')}${pod('web-2', 'app: web', '', 9090)}${pod('other', 'app: other')}`);
    await setPodStatus(run.client, ns, 'web-1', { ip: '10.42.0.11', ready: true });
    await setPodStatus(run.client, ns, 'web-2', { ip: '10.42.0.12', ready: false });
    await setPodStatus(run.client, ns, 'other', { ip: '10.42.0.13', ready: true });

    const ep = await eventually('endpoints with one ready and one not-ready address', async () => {
      const e = await getJson(s, ['endpoints', 'web', '-n', ns]);
      const all = (e.subsets ?? []).flatMap((ss: any) => [...(ss.addresses ?? []), ...(ss.notReadyAddresses ?? [])]);
      return all.length === 2 ? e : undefined;
    });
    const byIp = new Map<string, { ready: boolean; port: number }>();
    for (const ss of ep.subsets) {
      for (const a of ss.addresses ?? []) byIp.set(a.ip, { ready: true, port: ss.ports[0].port });
      for (const a of ss.notReadyAddresses ?? []) byIp.set(a.ip, { ready: false, port: ss.ports[0].port });
    }
    assert.deepEqual(byIp.get('10.42.0.11'), { ready: true, port: 8080 });
    assert.deepEqual(byIp.get('10.42.0.12'), { ready: false, port: 9090 });
    assert.equal(ep.metadata.labels.tier, 'front');
    assert.ok(ep.metadata.annotations['endpoints.kubernetes.io/last-change-trigger-time']);
    const ready = ep.subsets.flatMap((ss: any) => ss.addresses ?? []).find((a: any) => a.ip === '10.42.0.11');
    assert.deepEqual(ready.targetRef.kind, 'Pod');
    assert.equal(ready.targetRef.name, 'web-1');
    assert.equal(ready.nodeName, 'node-a');

    const slices = await eventually('endpoint slices with both pods', async () => {
      const items = await slicesOf(ns, 'web');
      const n = items.reduce((k: number, sl: any) => k + (sl.endpoints ?? []).length, 0);
      return n === 2 ? items : undefined;
    });
    for (const sl of slices) {
      assert.match(sl.metadata.name, /^web-[a-z0-9]{5}$/);
      assert.equal(sl.metadata.labels['endpointslice.kubernetes.io/managed-by'], 'endpointslice-controller.k8s.io');
      assert.equal(sl.metadata.labels.tier, 'front');
      assert.equal(sl.addressType, 'IPv4');
      assert.equal(sl.metadata.ownerReferences[0].kind, 'Service');
      assert.equal(sl.metadata.ownerReferences[0].controller, true);
    }
    const eps = slices.flatMap((sl: any) => sl.endpoints.map((e: any) => ({ ...e, port: sl.ports[0].port })));
    const e1 = eps.find((e: any) => e.addresses[0] === '10.42.0.11');
    const e2 = eps.find((e: any) => e.addresses[0] === '10.42.0.12');
    assert.deepEqual(e1.conditions, { ready: true, serving: true, terminating: false });
    assert.deepEqual(e2.conditions, { ready: false, serving: false, terminating: false });
    assert.equal(e1.port, 8080);
    assert.equal(e2.port, 9090);

    // The second pod becomes ready: it moves to addresses.
    await setPodStatus(run.client, ns, 'web-2', { ready: true });
    await eventually('both addresses ready', async () => {
      const e = await getJson(s, ['endpoints', 'web', '-n', ns]);
      const readyIps = (e.subsets ?? []).flatMap((ss: any) => (ss.addresses ?? []).map((a: any) => a.ip)).sort();
      return readyIps.join(',') === '10.42.0.11,10.42.0.12' ? true : undefined;
    });
    const out = await kubectlOk(s, ['get', 'endpoints', 'web', '-n', ns]);
    assert.match(out, /10\.42\.0\.11:8080/);

    // A deleted (terminating) pod leaves Endpoints and shows terminating in its slice.
    await kubectlOk(s, ['delete', 'pod', 'web-1', '-n', ns, '--wait=false']);
    await eventually('terminating endpoint in slice', async () => {
      const e = (await slicesOf(ns, 'web')).flatMap((sl: any) => sl.endpoints ?? []).find((x: any) => x.addresses[0] === '10.42.0.11');
      return e && e.conditions.terminating === true && e.conditions.ready === false && e.conditions.serving === true ? true : undefined;
    });
    await eventually('terminating pod gone from Endpoints', async () => {
      const e = await getJson(s, ['endpoints', 'web', '-n', ns]);
      const ips = (e.subsets ?? []).flatMap((ss: any) => [...(ss.addresses ?? []), ...(ss.notReadyAddresses ?? [])].map((a: any) => a.ip));
      return ips.join(',') === '10.42.0.12' ? true : undefined;
    });
  });

  test('headless services publish hostnames and publishNotReadyAddresses publishes unready pods', async () => {
    const ns = await freshNamespace(s, 'eph');
    await kubectlOk(s, ['apply', '-n', ns, '-f', '-'], `apiVersion: v1
kind: Service
metadata:
  name: db
spec:
  clusterIP: None
  publishNotReadyAddresses: true
  selector: {app: db}
  ports:
  - port: 5432
---
${pod('db-0', 'app: db', '  hostname: db-0\n  subdomain: db\n')}`);
    await setPodStatus(run.client, ns, 'db-0', { ip: '10.42.1.5', ready: false });
    const ep = await eventually('headless endpoints', async () => {
      const e = await getJson(s, ['endpoints', 'db', '-n', ns]);
      return e.subsets?.[0]?.addresses?.length === 1 ? e : undefined;
    });
    assert.equal(ep.subsets[0].addresses[0].hostname, 'db-0');
    assert.equal(ep.subsets[0].ports[0].port, 5432);
    assert.equal(ep.metadata.labels['service.kubernetes.io/headless'], '');
    const sl = await eventually('headless slice', async () => {
      const items = await slicesOf(ns, 'db');
      return items[0]?.endpoints?.length === 1 ? items[0] : undefined;
    });
    assert.equal(sl.endpoints[0].hostname, 'db-0');
    assert.deepEqual(sl.endpoints[0].conditions, { ready: true, serving: false, terminating: false });
    assert.equal(sl.metadata.labels['service.kubernetes.io/headless'], '');
  });

  test('a service without pods gets an empty placeholder slice and empty Endpoints', async () => {
    const ns = await freshNamespace(s, 'epe');
    await kubectlOk(s, ['create', 'service', 'clusterip', 'lonely', '--tcp=80:8080', '-n', ns]);
    const sl = await eventually('placeholder slice', async () => {
      const items = await slicesOf(ns, 'lonely');
      return items.length === 1 ? items[0] : undefined;
    });
    assert.deepEqual(sl.endpoints ?? [], []);
    const e = await eventually('empty endpoints', async () => getJson(s, ['endpoints', 'lonely', '-n', ns]));
    assert.equal(e.subsets, undefined);
    const out = await kubectlOk(s, ['get', 'endpointslices', '-n', ns]);
    assert.match(out, /lonely-[a-z0-9]{5}\s+IPv4\s+<unset>\s+<unset>/);
  });

  test('the kubernetes service endpoints are left to the API server', async () => {
    const before = await getJson(s, ['endpoints', 'kubernetes', '-n', 'default']);
    // Give the controllers a moment's worth of syncs by touching the Service, then compare.
    await kubectlOk(s, ['label', 'service', 'kubernetes', '-n', 'default', 'touched=yes']);
    await eventually('service label visible', async () => ((await getJson(s, ['service', 'kubernetes', '-n', 'default'])).metadata.labels.touched === 'yes' ? true : undefined));
    const afterEp = await getJson(s, ['endpoints', 'kubernetes', '-n', 'default']);
    assert.deepEqual(afterEp.subsets, before.subsets);
    // Its EndpointSlice, if any, is the API server's too, never this controller's.
    const managed = (await slicesOf('default', 'kubernetes')).filter((sl) => sl.metadata.labels['endpointslice.kubernetes.io/managed-by'] === 'endpointslice-controller.k8s.io');
    assert.equal(managed.length, 0);
  });
});
