// The built-in Ingress controller against a real API server: the "pods" are plain HTTP servers on
// 127.0.0.1, wired to Services through hand-made EndpointSlices. Host and path routing, TLS by SNI,
// default backend, WebSocket upgrade, X-Forwarded headers, live endpoint changes, status and events.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import WebSocket, { WebSocketServer } from 'ws';
import { createCertificateAuthority, issueCertificate, type CertificateAuthority } from '../../../src/base/pki.ts';
import type { Event, Namespace, Secret, Service } from '../../../src/api/types/core_v1.ts';
import type { EndpointSlice } from '../../../src/api/types/discovery_v1.ts';
import type { Ingress, IngressClass } from '../../../src/api/types/networking_v1.ts';
import { RestClient } from '../../../src/client/rest_client.ts';
import { resourceDescriptor } from '../../../src/client/resource_descriptor.ts';
import { startIngressController, type IngressController } from '../../../src/ingress/ingress_controller.ts';
import { startTestServer, type TestServer } from '../../../src/testing/test_server.ts';

const NS = 'shop';
const NAMESPACES = resourceDescriptor('v1', 'namespaces');
const SERVICES = resourceDescriptor('v1', 'services');
const SLICES = resourceDescriptor('discovery.k8s.io/v1', 'endpointslices');
const SECRETS = resourceDescriptor('v1', 'secrets');
const EVENTS = resourceDescriptor('v1', 'events');
const INGRESSES = resourceDescriptor('networking.k8s.io/v1', 'ingresses');
const CLASSES = resourceDescriptor('networking.k8s.io/v1', 'ingressclasses');

interface Pod {
  readonly name: string;
  readonly port: number;
  readonly server: Server;
}

let s: TestServer;
let client: RestClient;
let ctrl: IngressController;
let ca: CertificateAuthority;
const pods = new Map<string, Pod>();

/** A "pod": answers JSON naming itself, with the path and headers it saw; serves WebSockets too. */
async function startPod(name: string): Promise<Pod> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ pod: name, path: req.url, headers: req.headers }));
    });
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws, req) => {
    ws.on('message', (m) => ws.send(`${name} echoes ${m.toString()} for ${req.headers['x-forwarded-for']}`));
  });
  server.on('close', () => wss.close());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const pod = { name, port: (server.address() as AddressInfo).port, server };
  pods.set(name, pod);
  return pod;
}

/** A selector-less Service with one named port and an EndpointSlice pointing at `pod`. */
async function serviceFor(name: string, pod: Pod | undefined): Promise<void> {
  await client.resource<Service>(SERVICES, NS).create({ metadata: { name }, spec: { ports: [{ name: 'http', port: 80, targetPort: 'http' }] } });
  await client.resource<EndpointSlice>(SLICES, NS).create(slice(name, pod));
}

function slice(service: string, pod: Pod | undefined, resourceVersion?: string): EndpointSlice {
  return {
    metadata: { name: `${service}-abc`, labels: { 'kubernetes.io/service-name': service }, ...(resourceVersion ? { resourceVersion } : {}) },
    addressType: 'IPv4',
    ports: pod ? [{ name: 'http', port: pod.port, protocol: 'TCP' }] : [],
    endpoints: pod ? [{ addresses: ['127.0.0.1'], conditions: { ready: true } }] : [],
  };
}

function backend(service: string): { service: { name: string; port: { name: string } } } {
  return { service: { name: service, port: { name: 'http' } } };
}

interface Reply {
  readonly status: number;
  readonly body: string;
  json(): { pod: string; path: string; headers: Record<string, string> };
}

function httpGet(host: string, path: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: ctrl.httpPort, path, headers: { Host: host }, agent: false }, (res) => collect(res, resolve, reject));
    req.on('error', reject);
    req.end();
  });
}

function httpsGet(servername: string, path: string, opts: { ca?: string } = {}): Promise<Reply & { subject: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest({
      host: '127.0.0.1', port: ctrl.httpsPort, path, servername, headers: { Host: servername }, agent: false,
      ...(opts.ca ? { ca: opts.ca } : { rejectUnauthorized: false }),
    }, (res) => {
      const subject = (res.socket as TLSSocket).getPeerCertificate().subject?.CN ?? '';
      collect(res, (r) => resolve({ ...r, subject: String(subject) }), reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function collect(res: IncomingMessage, resolve: (r: Reply) => void, reject: (e: Error) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('error', reject);
  res.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    resolve({ status: res.statusCode ?? 0, body, json: () => JSON.parse(body) });
  });
}

/** Polls `probe` until it returns something other than undefined (bounded). */
async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Waits until `host` + `path` is answered by `pod` (or with `status`). */
function routedTo(host: string, path: string, want: { pod?: string; status?: number }): Promise<Reply> {
  return eventually(`${host}${path} → ${want.pod ?? want.status}`, async () => {
    const r = await httpGet(host, path);
    if (want.status !== undefined) return r.status === want.status ? r : undefined;
    return r.status === 200 && r.json().pod === want.pod ? r : undefined;
  });
}

before(async () => {
  s = await startTestServer();
  client = await RestClient.fromKubeconfig(s.kubeconfig);
  await client.resource<Namespace>(NAMESPACES).create({ metadata: { name: NS } });
  for (const name of ['web', 'api', 'exact', 'fallback', 'secure', 'spare']) await startPod(name);
  for (const name of ['web', 'api', 'exact', 'fallback', 'secure']) await serviceFor(name, pods.get(name));
  await serviceFor('empty', undefined);
  ca = await createCertificateAuthority({ commonName: 'test-ca', days: 1 });
  const cert = await issueCertificate({ ca, commonName: 'secure.example.com', dnsNames: ['secure.example.com'], usages: 'server', days: 1 });
  await client.resource<Secret>(SECRETS, NS).create({
    metadata: { name: 'secure-tls' }, type: 'kubernetes.io/tls',
    data: { 'tls.crt': Buffer.from(cert.certPem).toString('base64'), 'tls.key': Buffer.from(cert.keyPem).toString('base64') },
  });
  ctrl = await startIngressController({ client, httpPort: 0, httpsPort: 0, bindAddress: '127.0.0.1', nodeIPs: ['127.0.0.1'], nodeName: 'node-a' });
});

after(async () => {
  await ctrl?.dispose();
  for (const p of pods.values()) {
    p.server.closeAllConnections();
    await new Promise((r) => p.server.close(r));
  }
  await client?.dispose();
  await s?.stop();
});

describe('Ingress controller', () => {
  test('creates the default IngressClass tkube', async () => {
    const cls = await eventually('IngressClass tkube', () => client.resource<IngressClass>(CLASSES).get('tkube').catch(() => undefined));
    assert.equal(cls.spec?.controller, 'tkube.io/ingress-controller');
    assert.equal(cls.metadata?.annotations?.['ingressclass.kubernetes.io/is-default-class'], 'true');
  });

  test('routes by host and by path, Exact apart from Prefix, with X-Forwarded headers', async () => {
    await client.resource<Ingress>(INGRESSES, NS).create({
      metadata: { name: 'shop' },
      spec: {
        ingressClassName: 'tkube',
        rules: [
          { host: 'shop.example.com', http: { paths: [
            { path: '/', pathType: 'Prefix', backend: backend('web') },
            { path: '/api', pathType: 'Prefix', backend: backend('api') },
            { path: '/exact', pathType: 'Exact', backend: backend('exact') },
          ] } },
          { host: '*.wild.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: backend('api') }] } },
        ],
      },
    });
    const web = await routedTo('shop.example.com', '/index.html', { pod: 'web' });
    const headers = web.json().headers;
    assert.equal(headers['x-forwarded-for'], '127.0.0.1');
    assert.equal(headers['x-real-ip'], '127.0.0.1');
    assert.equal(headers['x-forwarded-proto'], 'http');
    assert.equal(headers['x-forwarded-host'], 'shop.example.com');
    assert.equal(headers['x-forwarded-port'], String(ctrl.httpPort));
    assert.equal(headers['host'], 'shop.example.com');

    assert.equal((await httpGet('shop.example.com', '/api/v1/items?x=1')).json().pod, 'api');
    assert.equal((await httpGet('shop.example.com', '/api/v1/items?x=1')).json().path, '/api/v1/items?x=1');
    assert.equal((await httpGet('shop.example.com', '/apis')).json().pod, 'web', 'Prefix matches whole path elements');
    assert.equal((await httpGet('shop.example.com', '/exact')).json().pod, 'exact');
    assert.equal((await httpGet('shop.example.com', '/exact/more')).json().pod, 'web', 'Exact does not match sub-paths');
    assert.equal((await httpGet('eu.wild.example.com', '/')).json().pod, 'api');

    const nf = await httpGet('other.example.com', '/');
    assert.equal(nf.status, 404);
    assert.equal(nf.body, 'default backend - 404\n');
  });

  test('sets status.loadBalancer to the node IPs and records a Sync event', async () => {
    const ing = await eventually('status.loadBalancer', async () => {
      const i = await client.resource<Ingress>(INGRESSES, NS).get('shop');
      return (i.status?.loadBalancer?.ingress ?? []).length > 0 ? i : undefined;
    });
    assert.deepEqual(ing.status?.loadBalancer?.ingress, [{ ip: '127.0.0.1' }]);
    const ev = await eventually('Sync event', async () => {
      const list = await client.resource<Event>(EVENTS, NS).list({ fieldSelector: 'involvedObject.name=shop' });
      return list.items.find((e) => e.reason === 'Sync');
    });
    assert.equal(ev.message, 'Scheduled for sync');
    assert.equal(ev.type, 'Normal');
    assert.equal(ev.source?.component, 'tkube-ingress-controller');
  });

  test('serves the certificate of spec.tls by SNI, and the fallback certificate otherwise', async () => {
    await client.resource<Ingress>(INGRESSES, NS).create({
      metadata: { name: 'secure' },
      spec: {
        ingressClassName: 'tkube',
        tls: [{ hosts: ['secure.example.com'], secretName: 'secure-tls' }],
        rules: [{ host: 'secure.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: backend('secure') }] } }],
      },
    });
    const r = await eventually('TLS route', async () => {
      const reply = await httpsGet('secure.example.com', '/login', { ca: ca.certPem });
      return reply.status === 200 ? reply : undefined;
    });
    assert.equal(r.subject, 'secure.example.com');
    assert.equal(r.json().pod, 'secure');
    assert.equal(r.json().headers['x-forwarded-proto'], 'https');
    assert.equal(r.json().headers['x-forwarded-port'], String(ctrl.httpsPort));

    const other = await httpsGet('shop.example.com', '/');
    assert.equal(other.subject, 'Kubernetes Ingress Controller Fake Certificate');
    assert.equal(other.json().pod, 'web');
    // With the fallback certificate the name does not verify against the test CA.
    await assert.rejects(httpsGet('shop.example.com', '/', { ca: ca.certPem }));
  });

  test('an Ingress without a class is served while tkube is the default; another class is not', async () => {
    await client.resource<Ingress>(INGRESSES, NS).create({
      metadata: { name: 'classless' },
      spec: { rules: [{ host: 'plain.example.com', http: { paths: [{ path: '/', pathType: 'ImplementationSpecific', backend: backend('web') }] } }] },
    });
    await client.resource<Ingress>(INGRESSES, NS).create({
      metadata: { name: 'foreign' },
      spec: { ingressClassName: 'nginx', rules: [{ host: 'foreign.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: backend('web') }] } }] },
    });
    await routedTo('plain.example.com', '/a/b', { pod: 'web' });
    await ctrl.settled();
    assert.equal((await httpGet('foreign.example.com', '/')).status, 404);
    const foreign = await client.resource<Ingress>(INGRESSES, NS).get('foreign');
    assert.equal(foreign.status?.loadBalancer?.ingress, undefined);
  });

  test('a default backend answers unmatched requests; no endpoints answer 503', async () => {
    await client.resource<Ingress>(INGRESSES, NS).create({
      metadata: { name: 'catch-all' },
      spec: {
        ingressClassName: 'tkube',
        defaultBackend: backend('fallback'),
        rules: [{ host: 'down.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: backend('empty') }] } }],
      },
    });
    await routedTo('nobody.example.com', '/anything', { pod: 'fallback' });
    const down = await httpGet('down.example.com', '/');
    assert.equal(down.status, 503);
    assert.equal(down.body, '503 Service Unavailable\n');
  });

  test('upgrades WebSocket connections through the route', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${ctrl.httpPort}/api/stream`, { headers: { Host: 'shop.example.com' } });
    await once(ws, 'open');
    ws.send('hello');
    const [msg] = (await once(ws, 'message')) as [Buffer];
    assert.equal(msg.toString(), 'api echoes hello for 127.0.0.1');
    ws.close();
    await once(ws, 'close');
  });

  test('applies endpoint changes without a restart and without dropping open connections', async () => {
    // A WebSocket opened before the change must survive the routing swap.
    const ws = new WebSocket(`ws://127.0.0.1:${ctrl.httpPort}/api/stream`, { headers: { Host: 'shop.example.com' } });
    await once(ws, 'open');
    const slices = client.resource<EndpointSlice>(SLICES, NS);
    const current = await slices.get('api-abc');
    await slices.update(slice('api', pods.get('spare'), current.metadata?.resourceVersion));
    await routedTo('shop.example.com', '/api/x', { pod: 'spare' });
    ws.send('still-there');
    const [msg] = (await once(ws, 'message')) as [Buffer];
    assert.equal(msg.toString(), 'api echoes still-there for 127.0.0.1');
    ws.close();
    await once(ws, 'close');

    // Removing every endpoint turns the route into 503s, again without a restart.
    const latest = await slices.get('api-abc');
    await slices.update(slice('api', undefined, latest.metadata?.resourceVersion));
    await routedTo('shop.example.com', '/api/x', { status: 503 });
  });

  test('a deleted Ingress stops being routed', async () => {
    await client.resource<Ingress>(INGRESSES, NS).delete('classless');
    await routedTo('plain.example.com', '/', { pod: 'fallback' });
  });
});
