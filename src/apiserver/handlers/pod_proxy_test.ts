// pods/log, exec and nodes/proxy in the API server: the pure checks (containers, log status,
// options, node addresses), then a real API server relaying to a fake kubelet over mutual TLS.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import type { Pod } from '../../api/types/core_v1.ts';
import { ensureClusterPki, issueCertificate } from '../../base/pki.ts';
import { startTestServer, type TestServer } from '../../testing/test_server.ts';
import { resourceFor } from '../../api/resource_table.ts';
import { ApiError } from '../errors.ts';
import {
  containerLogStatusError, nodeKubeletDialer, podLogQuery, portForwardQuery, streamQuery, validateContainer,
} from './pod_proxy.ts';

function pod(status: Pod['status'], containers = ['c']): Pod {
  return {
    metadata: { name: 'p', namespace: 'ns' },
    spec: { nodeName: 'n1', initContainers: [{ name: 'init' }], containers: containers.map((name) => ({ name })) },
    status,
  } as Pod;
}

function message(fn: () => unknown): string {
  try {
    fn();
    return '';
  } catch (err) {
    return `${(err as ApiError).code} ${(err as ApiError).message}`;
  }
}

describe('pod checks', () => {
  test('the container is the named one or the only one', () => {
    assert.equal(validateContainer('', pod({})), 'c');
    assert.equal(validateContainer('init', pod({})), 'init');
    assert.equal(message(() => validateContainer('', pod({}, ['a', 'b']))), '400 a container name must be specified for pod p, choose one of: [init a b]');
    assert.equal(message(() => validateContainer('x', pod({}))), '400 container x is not valid for pod p');
    assert.equal(message(() => validateContainer('', pod({}, []))), '400 a container name must be specified for pod p');
  });

  test('log availability follows the container status as the kubelet judges it', () => {
    const cs = (state: object, lastState: object = {}): Pod['status'] => ({ containerStatuses: [{ name: 'c', image: 'i', imageID: '', ready: false, restartCount: 0, state, lastState }] });
    assert.equal(containerLogStatusError(pod(cs({ running: {} })), 'c', false), undefined);
    assert.equal(containerLogStatusError(pod(cs({ waiting: { reason: 'ContainerCreating' } })), 'c', false), 'container "c" in pod "p" is waiting to start: ContainerCreating');
    assert.equal(containerLogStatusError(pod(cs({ waiting: { reason: 'ErrImagePull' } })), 'c', false), 'container "c" in pod "p" is waiting to start: image can\'t be pulled');
    assert.equal(containerLogStatusError(pod(cs({ waiting: { reason: 'ImagePullBackOff' } })), 'c', false), 'container "c" in pod "p" is waiting to start: trying and failing to pull image');
    assert.equal(containerLogStatusError(pod(cs({})), 'c', false), 'container "c" in pod "p" is waiting to start - no logs yet');
    assert.equal(containerLogStatusError(pod({}), 'c', false), 'container "c" in pod "p" is not available');
    assert.equal(containerLogStatusError(pod(cs({ running: {} })), 'c', true), 'previous terminated container "c" in pod "p" not found');
    const crashed = cs({ waiting: { reason: 'CrashLoopBackOff' } }, { terminated: { exitCode: 1, containerID: 'containerd://x' } });
    assert.equal(containerLogStatusError(pod(crashed), 'c', true), undefined);
    assert.equal(containerLogStatusError(pod(crashed), 'c', false), undefined, 'a crash-looping container shows its last run');
    assert.equal(containerLogStatusError(pod(cs({ terminated: { exitCode: 0 } })), 'c', false), 'container "c" in pod "p" is terminated');
  });

  test('log options are validated and translated for the kubelet', () => {
    const q = (s: string): ReturnType<typeof podLogQuery> => podLogQuery(new URLSearchParams(s), 'p');
    const r = q('container=c&follow=true&timestamps=1&tailLines=10&limitBytes=5&sinceTime=2024-01-02T03:04:05.678%2B01:00');
    assert.equal(r.container, 'c');
    assert.equal(r.params.toString(), 'follow=true&timestamps=true&sinceTime=2024-01-02T02%3A04%3A05Z&tailLines=10&limitBytes=5');
    assert.equal(q('sinceSeconds=5&previous=true').params.toString(), 'previous=true&sinceSeconds=5');
    assert.equal(message(() => q('tailLines=-1')), '422 PodLogOptions "p" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0');
    assert.equal(message(() => q('limitBytes=0')), '422 PodLogOptions "p" is invalid: limitBytes: Invalid value: 0: must be greater than 0');
    assert.match(message(() => q('sinceSeconds=1&sinceTime=2024-01-01T00:00:00Z')), /^422 .*at most one of `sinceTime` or `sinceSeconds` may be specified/);
    assert.match(message(() => q('follow=maybe')), /^400 /);
    assert.match(message(() => q('sinceTime=noon')), /^400 /);
  });

  test('exec, attach and port-forward queries use the kubelet names', () => {
    assert.equal(streamQuery(new URLSearchParams('command=sh&command=-c&command=x&stdin=true&stdout=true&stderr=false&tty=1&container=c'), 'exec').toString(),
      'input=1&output=1&tty=1&command=sh&command=-c&command=x');
    assert.equal(streamQuery(new URLSearchParams('command=x&stdout=true'), 'attach').toString(), 'output=1');
    assert.equal(portForwardQuery(new URLSearchParams('ports=80,443&ports=8080')).toString(), 'ports=80%2C443%2C8080');
    assert.equal(portForwardQuery(new URLSearchParams('')).toString(), '');
    assert.match(message(() => portForwardQuery(new URLSearchParams('ports=0'))), /^400 invalid port "0"/);
  });

  test('the node dialer prefers InternalIP and the advertised kubelet port', async () => {
    const tls = { certPem: 'c', keyPem: 'k' };
    const nodes: Record<string, object> = {
      a: { status: { addresses: [{ type: 'Hostname', address: 'a' }, { type: 'InternalIP', address: '10.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: 1234 } } } },
      b: { status: { addresses: [{ type: 'Hostname', address: 'b.local' }] } },
      c: { status: {} },
    };
    const d = nodeKubeletDialer(async (n) => nodes[n] as Record<string, unknown>, tls);
    assert.equal((await d.locate('a')).url.href, 'https://10.0.0.1:1234/');
    assert.equal((await d.locate('b')).url.href, 'https://b.local:10250/');
    await assert.rejects(d.locate('c'), /no preferred addresses found/);
    await assert.rejects(nodeKubeletDialer(async (n) => nodes[n] as Record<string, unknown>, undefined).locate('a'), /no client credentials for kubelets/);
  });
});

describe('pod subresources through a fake kubelet', () => {
  let ts: TestServer;
  let kubelet: Server;
  const seen: { method: string; url: string; headers: IncomingMessage['headers'] }[] = [];

  before(async () => {
    ts = await startTestServer();
    const pki = await ensureClusterPki({ dir: join(ts.dir, 'tls'), hostname: 'localhost', serviceIp: '10.43.0.1' });
    const serving = await issueCertificate({ ca: pki.ca, commonName: 'n1', ips: ['127.0.0.1'], usages: 'server', days: 1 });
    const client = await issueCertificate({ ca: pki.ca, commonName: 'kube-apiserver-kubelet-client', usages: 'client', days: 1 });
    kubelet = createServer({ cert: serving.certPem, key: serving.keyPem, ca: pki.ca.certPem, requestCert: true, rejectUnauthorized: true }, (req, res) => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers });
      if (req.url!.startsWith('/containerLogs/ns/p/c?previous=true')) {
        res.writeHead(400, { 'Content-Type': 'text/plain' });
        res.end('previous terminated container "c" in pod "p" not found');
      } else if (req.url!.startsWith('/containerLogs/')) {
        res.writeHead(200);
        res.write('one\n');
        setTimeout(() => res.end('two\n'), 20);
      } else {
        res.writeHead(200, { 'Content-Type': 'text/plain', 'X-Kubelet': 'yes' });
        res.end(`proxied ${req.method} ${req.url}`);
      }
    });
    kubelet.on('upgrade', (req: IncomingMessage, socket: Socket) => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers });
      socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n\r\n');
      socket.pipe(socket);
    });
    await new Promise<void>((r) => kubelet.listen(0, '127.0.0.1', () => r()));
    const port = (kubelet.address() as AddressInfo).port;
    ts.api.kubeletDialer = nodeKubeletDialer((n) => ts.api.storeFor(resourceFor('', 'v1', 'nodes')!).get('', n), { certPem: client.certPem, keyPem: client.keyPem, caPem: pki.ca.certPem });
    const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, status: { addresses: [{ type: 'InternalIP', address: '127.0.0.1' }], daemonEndpoints: { kubeletEndpoint: { Port: port } } } };
    assert.equal((await ts.request('POST', '/api/v1/nodes', { body: JSON.stringify(node) })).status, 201);
    assert.equal((await ts.request('POST', '/api/v1/namespaces', { body: JSON.stringify({ metadata: { name: 'ns' } }) })).status, 201);
    const p = { metadata: { name: 'p', namespace: 'ns' }, spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'busybox' }] } };
    assert.equal((await ts.request('POST', '/api/v1/namespaces/ns/pods', { body: JSON.stringify(p) })).status, 201);
    const status = { status: { phase: 'Running', containerStatuses: [{ name: 'c', image: 'busybox', imageID: '', ready: true, restartCount: 1, state: { running: {} }, lastState: { terminated: { exitCode: 1, containerID: 'containerd://old' } } }] } };
    assert.equal((await ts.request('PATCH', '/api/v1/namespaces/ns/pods/p/status', { body: JSON.stringify(status), headers: { 'Content-Type': 'application/merge-patch+json' } })).status, 200);
    const unscheduled = { metadata: { name: 'u', namespace: 'ns' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } };
    assert.equal((await ts.request('POST', '/api/v1/namespaces/ns/pods', { body: JSON.stringify(unscheduled) })).status, 201);
  });

  after(async () => {
    await new Promise((r) => { kubelet.close(r); kubelet.closeAllConnections(); });
    await ts.stop();
  });

  test('pods/log streams the kubelet body as text/plain; kubelet errors become Status', async () => {
    const r = await ts.request('GET', '/api/v1/namespaces/ns/pods/p/log?follow=true&tailLines=3');
    assert.deepEqual([r.status, r.headers['content-type'], r.body], [200, 'text/plain', 'one\ntwo\n']);
    assert.equal(seen.at(-1)!.url, '/containerLogs/ns/p/c?follow=true&tailLines=3');
    assert.equal(seen.at(-1)!.headers['authorization'], undefined);
    const prev = await ts.request('GET', '/api/v1/namespaces/ns/pods/p/log?previous=true');
    assert.equal(prev.status, 400);
    assert.equal(prev.json<{ message: string }>().message, 'previous terminated container "c" in pod "p" not found');
    const kubectl = await ts.kubectl(['logs', '-n', 'ns', 'p']);
    assert.deepEqual([kubectl.code, kubectl.stdout], [0, 'one\ntwo\n'], kubectl.stderr);
    const empty = await ts.request('GET', '/api/v1/namespaces/ns/pods/u/log');
    assert.deepEqual([empty.status, empty.body], [200, ''], 'a pod without a node has no log yet');
    const missing = await ts.request('GET', '/api/v1/namespaces/ns/pods/nope/log');
    assert.equal(missing.status, 404);
  });

  test('exec needs an upgrade, which is relayed to the kubelet path with the kubelet query', async () => {
    const plain = await ts.request('POST', '/api/v1/namespaces/ns/pods/p/exec?command=ls&stdout=true');
    assert.deepEqual([plain.status, plain.json<{ message: string }>().message], [400, 'Upgrade request required']);
    const unassigned = await ts.request('POST', '/api/v1/namespaces/ns/pods/u/exec?command=ls&stdout=true');
    assert.deepEqual([unassigned.status, unassigned.json<{ message: string }>().message], [400, 'pod u does not have a host assigned']);
    const pki = await ensureClusterPki({ dir: join(ts.dir, 'tls'), hostname: 'localhost', serviceIp: '10.43.0.1' });
    const got = await new Promise<string>((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port: ts.port, ca: pki.ca.certPem, cert: pki.admin.certPem, key: pki.admin.keyPem, ALPNProtocols: ['http/1.1'] }, () => {
        s.write('POST /api/v1/namespaces/ns/pods/p/exec?command=echo&command=hi&stdout=true&stderr=true HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\nX-Stream-Protocol-Version: v4.channel.k8s.io\r\n\r\nping');
      });
      let text = '';
      s.on('data', (c: Buffer) => {
        text += c.toString('latin1');
        if (text.endsWith('ping')) {
          s.destroy();
          resolve(text);
        }
      });
      s.on('error', reject);
    });
    assert.match(got, /^HTTP\/1\.1 101 Switching Protocols\r\n[^]*\r\n\r\nping$/);
    const up = seen.at(-1)!;
    assert.deepEqual([up.method, up.url, up.headers['upgrade'], up.headers['x-stream-protocol-version']], ['POST', '/exec/ns/p/c?output=1&error=1&command=echo&command=hi', 'SPDY/3.1', 'v4.channel.k8s.io']);
  });

  test('nodes/proxy forwards the rest of the path and the query', async () => {
    const r = await ts.request('GET', '/api/v1/nodes/n1/proxy/stats/summary?only_cpu_and_memory=true');
    assert.deepEqual([r.status, r.headers['x-kubelet'], r.body], [200, 'yes', 'proxied GET /stats/summary?only_cpu_and_memory=true']);
    const none = await ts.request('GET', '/api/v1/nodes/n2/proxy/healthz');
    assert.deepEqual([none.status, none.json<{ message: string }>().message], [404, 'nodes "n2" not found']);
  });
});
